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
#
# With RUNBOM_ENFORCE_TABLE (see docs/enforce.md) it also enforces: the same @INC hook finds the
# file each require would load and holds it against the table (Perl's variant of
# runbom-enforce/1); a refused one dies from `require` with the reason (monitor mode: records
# "would refuse" and lets it load). A directory the program itself puts before the hook in @INC
# at run time is searched before the hook is asked (INIT puts the hook back in front once the
# program is compiled).
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

# Enforcement: the table (undef: none), the state the report gets, the refusals of this process.
my $enforce;
my $enforce_state;
my @refusals;
my %refused;
my $EXIT_CLOSED = 78;    # EX_CONFIG: the program did not start, its table could not be loaded

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
      . _enforcement_json()
      . ',"errors":' . ($errors + 0) . "}\n";
}

sub _enforcement_json {
    return '' unless $enforce_state;
    my $s = $enforce_state;
    my @r = map {
        '{"at":' . ($_->{at} + 0) . ',"module":' . _json_string($_->{module})
          . ',"file":' . _json_string($_->{file})
          . ',"distribution":' . _json_string($_->{distribution})
          . ',"version":' . _json_string($_->{version})
          . ',"rule":' . _json_string($_->{rule}) . ',"why":' . _json_string($_->{why})
          . ',"config_line":' . ($_->{config_line} + 0)
          . ',"importer":' . _json_string($_->{importer})
          . ',"enforced":' . ($_->{enforced} ? 'true' : 'false') . '}'
    } @refusals;
    return ',"enforcement":{"mode":' . _json_string($s->{mode}) . ',"state":'
      . _json_string($s->{state}) . ',"message":' . _json_string($s->{message}) . '}'
      . ',"refusals":[' . join(',', @r) . ']';
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

# Looks at each new require (never loads anything itself): with a table, judges the file it
# would load (and dies to refuse it); and writes what was loaded so far, at most once a second.
# Without a table, a require that no directory after it can satisfy takes the hook out of @INC
# first, so that perl's "Can't locate ... (@INC contains: ...)" reads as it would bare; from
# then on INIT and END still record. With one, the hook stays (it must see every later require).
sub _on_require {
    my (undef, $file) = @_;
    local ($!, $^E);
    if ($enforce && defined $file && !ref $file) {
        my ($from, $line) = (caller(0))[1, 2];
        _enforce_require($file, $from, $line);
    }
    return if $failed;
    if (!$enforce && defined $file && !_found_after($file)) {
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

# The file `require $file` will load: the first @INC directory holding it (made absolute); undef
# when none does or a hook after this one is asked first.
sub _path_of {
    my ($file) = @_;
    return undef if $file =~ m{\A(?:/|\.\.?/)};    # perl does not search @INC for these
    for my $dir (@INC) {
        next if ref $dir && $dir == \&_on_require;
        return undef if ref $dir;
        my $path = "$dir/$file";
        return _absolute($path) if -e $path && !-d _;
    }
    return undef;
}

sub _enforce_require {
    my ($file, $from, $from_line) = @_;
    my $path = _path_of($file);
    return unless defined $path;
    my $verdict = _judge($path);
    return unless $verdict;
    my ($rule, $dist, $why, $line) = @$verdict;
    my $enforced = $enforce->{mode} eq 'enforce';
    my $name = $file;
    $name =~ s{/}{::}g if $name =~ s/\.pm\z//;
    my $owner = $dist ? "$dist->[0] $dist->[1]" : 'no distribution';
    my $place = $line eq '0' ? 'on by default' : "$enforce->{config}:$line";
    unless ($refused{$path}++) {
        push @refusals, { at => time, module => $name, file => $path,
            distribution => $dist ? $dist->[0] : undef, version => $dist ? $dist->[1] : undef,
            rule => $rule, why => $why, config_line => $line,
            importer => (defined $from && -f $from) ? _absolute($from) : $from,
            enforced => $enforced };
        _news();
    }
    return unless $enforced;
    my $at = defined $from ? " at $from line $from_line.\n" : "\n";
    die "runbom: refused require of `$name` ($owner, $path): $why [rule `$rule`, $place]$at";
}

# undef to allow `$path`, else [rule, dist fields or undef, why, config line].
sub _judge {
    my ($path) = @_;
    my $t = $enforce;
    my $entry = $t->{files}{$path};
    if (!defined $entry) {
        return undef if $t->{core}{$path};
        for my $dir (@{ $t->{first_party} }) {
            return undef if index($path, $dir) == 0;
        }
        my ($on, $line) = @{ $t->{rules}{listed} || [1, '0'] };
        return undef unless $on;
        return ['listed', undef,
            "owned by no installed distribution, and not perl's own or a first-party directory",
            $line];
    }
    my ($index, $size, $mtime, $ino) = split /\t/, $entry;
    my $dist = $t->{dists}[$index];
    return [$dist->[3], $dist, $dist->[5], $dist->[4]] if $dist->[2] eq 'refused';
    my ($on, $line) = @{ $t->{rules}{integrity} || [1, '0'] };
    return undef unless $on && $size ne '-';
    my @st = stat($path);
    my $seconds = length($mtime) > 9 ? substr($mtime, 0, length($mtime) - 9) : '0';
    return undef if @st && $st[7] eq $size && $st[9] eq $seconds && $st[1] eq $ino;
    return ['integrity', $dist,
        'it changed since the table was written (size, mtime or inode differ)', $line];
}

# A refusal: written at once and said (`n<pid>`), so `runbom run` reports it on its next tick.
sub _news {
    return if $failed || !defined $session || !length $session;
    _write(0);
    my $fh;
    open($fh, '>', "$session/n$$") and close($fh);
    return;
}

# Loads the table RUNBOM_ENFORCE_TABLE names and applies the fail policy.
sub _enforce_start {
    my $path = $ENV{RUNBOM_ENFORCE_TABLE};
    return unless defined $path && length $path;
    my $closed = ($ENV{RUNBOM_ENFORCE_FAIL} || '') eq 'closed';
    if (($ENV{RUNBOM_ENFORCE} || '') eq 'off') {
        $enforce_state = { mode => 'monitor', state => 'off',
            message => 'turned off for this run by RUNBOM_ENFORCE=off' };
        print STDERR "runbom: enforcement is off for this run (RUNBOM_ENFORCE=off)\n";
        return;
    }
    my $table = eval { _load_table($path) };
    if ($table) {
        $enforce = $table;
        $enforce_state = { mode => $table->{mode}, state => 'active', message => undef };
        return;
    }
    my $reason = $@ || "cannot load `$path`";
    $reason =~ s/\s+\z//;
    $enforce_state = { mode => $closed ? 'enforce' : 'monitor', state => 'failed',
        message => $reason };
    if ($closed) {
        print STDERR "runbom: error: the program was not started: $reason (fail = \"closed\")\n";
        _write(1) if defined $session && length $session;
        $failed = 1;
        exit $EXIT_CLOSED;
    }
    print STDERR "runbom: warning: enforcement is off: $reason (fail = \"open\")\n";
    return;
}

sub _load_table {
    my ($path) = @_;
    my @st = stat($path) or die "cannot load `$path`: $!\n";
    die "`$path` belongs to another user (uid $st[4])\n" if $st[4] != $< && $st[4] != 0;
    die "`$path` is writable by group or others\n" if $st[2] & 022;
    my $fh;
    open($fh, '<', $path) or die "cannot load `$path`: $!\n";
    binmode $fh;
    my $text = do { local $/; <$fh> };
    close $fh;
    my @lines = split /\n/, (defined $text ? $text : '');
    die "`$path` is not a runbom-enforce/1 table\n"
      unless @lines && $lines[0] eq 'runbom-enforce/1';
    my $last = pop @lines;
    my $count = scalar @lines;
    die "`$path` is truncated (no `end` line counting $count lines)\n"
      unless defined $last && $last eq "end\t$count";
    my %t = (mode => 'enforce', config => 'runbom.toml', rules => {}, first_party => [],
        core => {}, files => {}, dists => []);
    my $number = 1;
    for my $line (@lines[1 .. $#lines]) {
        $number++;
        my ($kind, $rest) = split /\t/, $line, 2;
        $rest = '' unless defined $rest;
        if ($kind eq 'f') {
            $rest =~ /\A([^\t]+)\t(\d+\t(?:-|\d+)\t(?:-|\d+)\t(?:-|\d+))\t[^\t]*\z/
              or die "`$path` line $number: malformed `f` line\n";
            $t{files}{$1} = $2;
        } elsif ($kind eq 'core') {
            $t{core}{$rest} = 1;
        } elsif ($kind eq 'dist') {
            my @f = split /\t/, $rest, -1;
            die "`$path` line $number: a `dist` line needs 8 fields\n"
              unless @f == 7 && $f[0] =~ /\A\d+\z/ && $f[5] =~ /\A\d+\z/;
            $t{dists}[$f[0]] = [@f[1 .. 6]];
        } elsif ($kind eq 'rule') {
            my @f = split /\t/, $rest, -1;
            $t{rules}{ $f[0] } = [($f[1] || '') eq '1', defined $f[2] ? $f[2] : '0'];
        } elsif ($kind eq 'mode') {
            $t{mode} = $rest eq 'monitor' ? 'monitor' : 'enforce';
        } elsif ($kind eq 'config') {
            $t{config} = $rest;
        } elsif ($kind eq 'first-party') {
            (my $dir = $rest) =~ s{/*\z}{/};
            push @{ $t{first_party} }, $dir;
        } elsif ($kind eq 'interpreter') {
            my ($executable, $version) = split /\t/, $rest, -1;
            my $mine = sprintf('%vd', $^V);
            die "`$path` is for the interpreter $executable (perl $version), "
              . "not this one (perl $mine)\n"
              unless defined $version && $version eq $mine;
        } elsif ($kind ne 'expected' && $kind ne 'fail') {
            die "`$path` line $number: unknown line `$kind`\n";
        }
    }
    for my $dist (@{ $t{dists} }) {
        die "`$path`: an `f` line names a distribution with no `dist` line\n" unless $dist;
    }
    for my $entry (values %{ $t{files} }) {
        my ($index) = split /\t/, $entry, 2;
        die "`$path`: an `f` line names distribution $index, which has no `dist` line\n"
          unless $t{dists}[$index];
    }
    if (!@{ $t{first_party} }) {
        my $main = -f $0 ? _absolute($0) : "$cwd/-";
        (my $dir = $main) =~ s{/[^/]*\z}{/};
        push @{ $t{first_party} }, $dir;
    }
    return \%t;
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
    _enforce_start();
}

INIT {
    # A directory the program put before the hook while it compiled (`use lib`): the hook goes
    # back in front, so that it is asked first from here on.
    if ($enforce && !(ref $INC[0] && $INC[0] == \&_on_require)) {
        @INC = (\&_on_require, grep { !(ref $_ && $_ == \&_on_require) } @INC);
    }
    _write(0);
    $last_count = scalar keys %INC;
    $last_write = time;
}

END {
    _write(1);
}

1;
