# runbom's Perl hook: records what this process loaded (%INC: module -> file) and writes it as
# one JSON observation, perl-<pid>.json in $RUNBOM_SESSION_DIR (atomically: a temporary file,
# then rename), when the program starts running (INIT), at most once a second while it loads
# more (an @INC hook that only looks), and in END. Loaded by `PERL5OPT=-MRunbom::Hook` with its
# directory on PERL5LIB (`runbom run`, `runbom hook install`).
#
# Rules it keeps: core Perl only, and not even that: it loads no module at all (%INC is what the
# program loaded, and nothing else); it never changes the program's behaviour, its @INC (its own
# directory is taken out again), $@, $!, $? or exit status; on any failure it says one line on
# stderr and the program runs as it would bare. A forked child is a process of its own: it
# writes its own file, under its own pid.
package Runbom::Hook;

our $VERSION = '1';

my $session = $ENV{RUNBOM_SESSION_DIR};
my $self_file = __FILE__;
my ($self_dir) = $self_file =~ m{\A(.*)/Runbom/Hook\.pm\z}s;
my $started = time;
my @argv = ($0, @ARGV);
my $cwd = readlink('/proc/self/cwd');
my $ppid = getppid();
my $pid = $$;
my $errors = 0;
my $failed = 0;
my $last_write = -1;
my $last_count = -1;

sub _json_string {
    my ($s) = @_;
    return 'null' unless defined $s;
    $s = "$s";
    utf8::encode($s) if utf8::is_utf8($s);
    my $valid = $s;
    my $ok = utf8::decode($valid);
    $s =~ s/(["\\])/\\$1/g;
    $s =~ s/([\x00-\x1f\x7f])/sprintf('\\u%04x', ord $1)/ge;
    $s =~ s/([\x80-\xff])/sprintf('\\u%04x', ord $1)/ge unless $ok;
    return qq{"$s"};
}

# $Module::VERSION without creating a symbol that was not there: the stashes are walked with
# exists, never autovivified.
sub _version_of {
    my ($module) = @_;
    my $stash = \%main::;
    for my $part (split /::/, $module) {
        return undef unless exists $stash->{"${part}::"};
        my $glob = $stash->{"${part}::"};
        return undef unless ref(\$glob) eq 'GLOB';
        $stash = *{$glob}{HASH};
        return undef unless $stash;
    }
    return undef unless exists $stash->{VERSION};
    my $glob = $stash->{VERSION};
    return undef unless ref(\$glob) eq 'GLOB';
    my $scalar = *{$glob}{SCALAR};
    return undef unless $scalar && defined $$scalar;
    return "$$scalar";
}

sub _absolute {
    my ($path) = @_;
    return $path if !defined $path || ref $path || $path =~ m{\A/};
    return $path unless defined $cwd;
    $path =~ s{\A\./}{};
    return "$cwd/$path";
}

sub _observation {
    my ($exited) = @_;
    my (@files, @packages);
    for my $key (sort keys %INC) {
        my $file = $INC{$key};
        next if defined $file && !ref $file && $file eq $self_file;
        next if $key eq 'Runbom/Hook.pm';
        my $name = $key;
        if ($name =~ s/\.pm\z//) {
            $name =~ s{/}{::}g;
        }
        my $path = (defined $file && !ref $file) ? _absolute($file) : undef;
        push @files, '{"name":' . _json_string($name) . ',"path":' . _json_string($path) . '}';
        if ($key =~ /\.pm\z/) {
            my $version = eval { _version_of($name) };
            if (defined $version) {
                push @packages, '{"name":' . _json_string($name) . ',"version":'
                  . _json_string($version) . ',"location":' . _json_string($path) . '}';
            }
        }
    }
    my @search = map { _json_string($_) }
      grep { defined $_ && !ref $_ && !(defined $self_dir && $_ eq $self_dir) } @INC;
    my $version = sprintf('%vd', $^V);
    return '{"pid":' . ($$ + 0) . ',"ppid":' . (($$ == $pid ? $ppid : getppid()) + 0)
      . ',"argv":[' . join(',', map { _json_string($_) } @argv) . ']'
      . ',"executable":' . _json_string(_absolute($^X))
      . ',"version":' . _json_string($version)
      . ',"started":' . ($started + 0)
      . ',"exited":' . ($exited ? 'true' : 'false')
      . ',"files":[' . join(',', @files) . ']'
      . ',"packages":[' . join(',', @packages) . ']'
      . ',"search_path":[' . join(',', @search) . ']'
      . ',"errors":' . ($errors + 0) . "}\n";
}

sub _fail {
    my ($why) = @_;
    $failed = 1;
    $why =~ s/\s+\z//;
    $why =~ s/\n/ /g;
    print STDERR "runbom: perl hook: $why; this process is not observed\n";
}

sub _write {
    my ($exited) = @_;
    return if $failed;
    local ($@, $!, $^E, $?, $., $,, $\, $/);
    local $^W = 0;
    local $SIG{__DIE__};
    local $SIG{__WARN__} = sub { $errors++ };
    my $ok = eval {
        die "RUNBOM_SESSION_DIR is not set\n" unless defined $session && length $session;
        my ($dir) = $session =~ /\A(.*)\z/s;    # untainted: the directory runbom made
        if ($$ != $pid) {                       # a forked child: its own process from here
            $ppid = $pid;
            $pid = $$;
            $started = time;
        }
        my $json = _observation($exited);
        my $tmp = "$dir/.perl-$$.json.tmp";
        my $fh;
        open($fh, '>', $tmp) or die "cannot write `$tmp`: $!\n";
        binmode $fh;
        print {$fh} $json or die "cannot write `$tmp`: $!\n";
        close($fh) or die "cannot write `$tmp`: $!\n";
        rename($tmp, "$dir/perl-$$.json") or die "cannot rename `$tmp`: $!\n";
        1;
    };
    _fail($@ || 'unknown error') unless $ok;
}

# Looks at each new require (never loads anything itself) and writes what was loaded so far,
# at most once a second. A require that no directory after it can satisfy takes the hook out of
# @INC first, so that perl's "Can't locate ... (@INC contains: ...)" reads as it would bare; from
# then on INIT and END still record.
sub _on_require {
    my (undef, $file) = @_;
    return if $failed;
    local ($!, $^E);
    if (defined $file && !_found_after($file)) {
        @INC = grep { !(ref $_ && $_ == \&_on_require) } @INC;
        return;
    }
    my $count = scalar keys %INC;
    return if $count == $last_count;
    my $now = time;
    return if $now == $last_write;
    $last_write = $now;
    $last_count = $count;
    _write(0);
    return;
}

# Whether some directory of @INC holds `$file`; yes when another hook could give it.
sub _found_after {
    my ($file) = @_;
    for my $dir (@INC) {
        next if ref $dir && $dir == \&_on_require;
        return 1 if ref $dir || -e "$dir/$file";
    }
    return 0;
}

{
    local ($@, $!);
    local $SIG{__DIE__};
    my $ok = eval {
        @INC = grep { !(defined $self_dir && defined $_ && !ref $_ && $_ eq $self_dir) } @INC;
        unshift @INC, \&_on_require;
        1;
    };
    _fail($@ || 'unknown error') unless $ok;
}

INIT {
    _write(0);
    $last_count = scalar keys %INC;
    $last_write = time;
}

END {
    _write(1);
}

1;
