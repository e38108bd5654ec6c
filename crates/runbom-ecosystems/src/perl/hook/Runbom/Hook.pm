# runbom's Perl hook: records what this process loaded (%INC: module -> file) and writes it as
# one JSON observation, perl-<pid>.json in $RUNBOM_SESSION_DIR (atomically: a temporary file,
# then rename), when the program starts running (INIT), at most once a second
# (RUNBOM_FLUSH_SECONDS) while it loads more (an @INC hook that only looks), and in END. Loaded by `PERL5OPT=-MRunbom::Hook` with its
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
# "would refuse" and lets it load). An allowed one the hook hands to perl opened, with %INC set
# to the name perl would give it (which perl also takes for __FILE__), so that perl does not
# search @INC for it a second time. XS libraries
# are judged the same way when DynaLoader loads them (`dl_load_file`, which XSLoader calls too).
# What perl loads without asking the hook (a `require` of an absolute or ./ path, a directory the
# program puts before the hook in @INC at run time) is judged after it loaded, as soon as the
# hook next runs, and reported (it ran: "would refuse"); the hook then goes back in front.
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
# No write while the program compiles its first second: INIT writes what it loaded.
my $last_write = $started;
my $last_count = -1;
# Least seconds between two writes on change (whole seconds: perl's `time`).
my $flush_seconds =
  ($ENV{RUNBOM_FLUSH_SECONDS} || '') =~ /\A(\d+)(?:\.\d*)?\z/ && $1 > 1 ? $1 + 0 : 1;

# Enforcement: the table (undef: none), the state the report gets, the refusals of this process.
my $enforce;
my $enforce_state;
my @refusals;
my %refused;
my %judged;             # %INC keys the hook judged (or found when it started)
my $judged_count = 0;   # how many keys %INC had when the hook last looked
my $EXIT_CLOSED = 78;    # EX_CONFIG: the program did not start, its table could not be loaded

sub _json_string {
    my ($s) = @_;
    return 'null' unless defined $s;
    # Printable ASCII but `"` and `\`, as nearly every name and path is: as it is.
    return qq{"$s"} if $s !~ /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
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
        my $glob = \$stash->{"${part}::"};    # a reference: a copy of a stash's glob costs more
        return undef unless ref($glob) eq 'GLOB';
        $stash = *{$glob}{HASH};
        return undef unless $stash;
    }
    return undef unless exists $stash->{VERSION};
    my $glob = \$stash->{VERSION};
    return undef unless ref($glob) eq 'GLOB';
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

# %INC key -> what the last write made of it (see _entry), reused while the key names the same
# file (most keys, from the second write on). Perl costs ~15,000 instructions to look a module's
# version up, so it is looked up at each write only until it is found: a module sets $VERSION
# as it compiles, before its `require` returns (a write from inside a nested `require` may come
# before it), and does not change it later. So a write outside any `require` (INIT, END) settles
# the modules perl loaded from a file that it finds without one: later writes do not look again.
# A key the program set itself (`$INC{'Foo.pm'} = __FILE__` for a package inline in the script,
# whose $VERSION the script may assign when it runs) is looked up at every write.
my %entries;

sub _observation {
    my ($exited, $settled) = @_;
    my (@files, @packages);
    for my $key (sort keys %INC) {
        my $file = $INC{$key};
        my $plain = defined $file && !ref $file;
        next if $plain && $file eq $self_file;
        next if $key eq 'Runbom/Hook.pm';
        my $entry = $entries{$key};
        if (!$entry || !$plain || $entry->[0] ne $file) {
            $entry = $entries{$key} = _entry($key, $file, $plain);
        }
        push @files, $entry->[1];
        next unless defined $entry->[4];
        if (!defined $entry->[2]) {
            next if $entry->[6];
            my $version = eval { _version_of($entry->[4]) };
            if (!defined $version) {
                # Loaded by perl's `require`: %INC holds the directory joined to the key.
                $entry->[6] = $settled && substr($entry->[0], -length $key) eq $key;
                next;
            }
            @$entry[2, 3] = ($version, '{"name":' . _json_string($entry->[4]) . ',"version":'
                . _json_string($version) . ',"location":' . $entry->[5] . '}');
        }
        push @packages, $entry->[3];
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

# What `_observation` writes of %INC's `$key` => `$file`: [the file, its `files` entry, the
# version and `packages` entry (set by _observation), the package when it is a module, the
# location's JSON, and (set by _observation) whether it is settled without a version].
sub _entry {
    my ($key, $file, $plain) = @_;
    my ($name, $module) = ($key, undef);
    if ($name =~ s/\.pm\z//) {
        $name =~ s{/}{::}g;
        $module = $name;
    }
    my $path = _json_string($plain ? _absolute($file) : undef);
    return [$plain ? $file : '', '{"name":' . _json_string($name) . ',"path":' . $path . '}',
        undef, undef, $module, $path];
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

# Writes the observation; `$settled`: called outside any `require` (see %entries).
sub _write {
    my ($exited, $settled) = @_;
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
        my $json = _observation($exited, $settled);
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
# would load (and dies to refuse it); and writes what was loaded so far, at most once a second
# ($flush_seconds).
# Without a table, a require that no directory after it can satisfy takes the hook out of @INC
# first, so that perl's "Can't locate ... (@INC contains: ...)" reads as it would bare; from
# then on INIT and END still record. With one, the hook stays (it must see every later require).
sub _on_require {
    my (undef, $file) = @_;
    local ($!, $^E);
    my $name;
    if ($enforce && defined $file && !ref $file) {
        _judge_unasked() if scalar(keys %INC) != $judged_count;
        _to_front();
        my ($path, $st, $source);
        ($path, $st, $name, $source) = _path_of($file);
        my $verdict = defined $path && _judge($path, $st);
        _refuse('require', $file, $path, $verdict, (caller(0))[1, 2]) if $verdict;
        # Opened as perl opens what it loads: its default layers, not the program's (`:` keeps
        # `use open` and -C out), relative to the same directory. One glob serves every
        # require: perl takes the open file out of it.
        undef $name if defined $name && !open(SOURCE, '<:', $source);
        $judged{$file} = 1;
        # With `$file`, once perl has loaded it.
        $judged_count = scalar(keys %INC) + (defined $path ? 1 : 0);
    }
    if (!$failed) {
        if (!$enforce && defined $file && !_found_after($file)) {
            @INC = grep { !(ref $_ && $_ == \&_on_require) } @INC;
            return;
        }
        my $count = scalar keys %INC;
        my $now = $count == $last_count ? undef : time;
        if (defined $now && !($now >= $last_write && $now - $last_write < $flush_seconds)) {
            $last_write = $now;
            $last_count = $count;
            _write(0);
        }
    }
    return unless defined $name;
    $INC{$file} = $name;
    return \*SOURCE;
}

# The file `require $file` will load, as perl searches: the first @INC directory after the hook
# that holds it (`Foo.pmc` before `Foo.pm`, as perl prefers it), made absolute, its stat, the
# name perl puts into %INC and __FILE__ (the directory as @INC has it joined to `$file` by one
# `/`, without a leading `./`: `Foo.pm` for a `Foo.pmc` too), and the file to open; nothing
# when none does or a hook after this one is asked first.
sub _path_of {
    my ($file) = @_;
    return if $file =~ m{\A(?:/|\.\.?/)};    # perl does not search @INC for these
    my $pmc = substr($file, -3) eq '.pm' ? "${file}c" : undef;
    for my $dir (@INC) {
        if (ref $dir) {
            next if $dir == \&_on_require;
            return;
        }
        # Two `stat`s in boolean context, then the list of the one found: ~200 requires of
        # ~10 `stat`s each, which perl itself then does not repeat.
        my $found = defined $pmc && stat("$dir/$pmc") && !-d _ ? $pmc
          : stat("$dir/$file") && !-d _ ? $file : next;
        my $source = length $dir && substr($dir, -1) eq '/' ? "$dir$found" : "$dir/$found";
        $source =~ s{\A\./+}{} if substr($source, 0, 2) eq './';
        my $name = $found eq $file ? $source : substr($source, 0, -1);    # `.pmc`: `.pm`
        return (substr($source, 0, 1) eq '/' ? $source : _absolute($source), [stat _], $name,
            $source);
    }
    return;
}

# The hook back at the front of @INC, where a directory the program put there since (`use lib`
# at run time) pushed it.
sub _to_front {
    return if ref $INC[0] && $INC[0] == \&_on_require;
    @INC = (\&_on_require, grep { !(ref $_ && $_ == \&_on_require) } @INC);
}

# The files perl loaded without asking the hook, judged now that they ran: reported as "would
# refuse" (enforced or not, their code ran) and said once on stderr in enforce mode.
sub _judge_unasked {
    for my $key (keys %INC) {
        next if $judged{$key}++;
        my $file = $INC{$key};
        next unless defined $file && !ref $file && -f $file;
        my $path = _absolute($file);
        my @st = stat($path);
        my $verdict = _judge($path, \@st);
        next unless $verdict;
        _refusal('require', $key, $path, $verdict, undef, undef, 0,
            ' (perl loaded it without asking runbom: an absolute path, or a directory put'
              . ' before the hook in @INC at run time)');
    }
    $judged_count = scalar keys %INC;
}

# Refuses `$path` (what `$what` of `$file` loads, from `$from` line `$from_line`) on the table's
# `$verdict`: records the refusal and dies (enforce mode) or only records it (monitor mode).
# Where it was asked from is looked up only then: `caller` costs perl ~7,000 instructions.
sub _refuse {
    my ($what, $file, $path, $verdict, $from, $from_line) = @_;
    my $enforced = $enforce->{mode} eq 'enforce';
    my $message = _refusal($what, $file, $path, $verdict, $from, $from_line, $enforced, '');
    die $message if $enforced;
}

# Records a refusal of `$path` (once per file) and gives its message; one that comes with a
# `$note` (it was judged after it ran) is also said on stderr.
sub _refusal {
    my ($what, $file, $path, $verdict, $from, $from_line, $enforced, $note) = @_;
    my ($rule, $dist, $why, $line) = @$verdict;
    my $name = $file;
    $name =~ s{/}{::}g if $name !~ m{\A\.{0,2}/} && $name =~ s/\.pm\z//;
    my $owner = $dist ? "$dist->[0] $dist->[1]" : 'no distribution';
    my $place = $line eq '0' ? 'on by default' : "$enforce->{config}:$line";
    unless ($refused{$path}++) {
        push @refusals, { at => time, module => $name, file => $path,
            distribution => $dist ? $dist->[0] : undef, version => $dist ? $dist->[1] : undef,
            rule => $rule, why => "$why$note", config_line => $line,
            importer => (defined $from && -f $from) ? _absolute($from) : $from,
            enforced => $enforced };
        _news();
        print STDERR "runbom: would refuse $what of `$name` ($owner, $path): $why$note"
          . " [rule `$rule`, $place]\n"
          if $note;
    }
    my $at = defined $from ? " at $from line $from_line.\n" : "\n";
    return "runbom: refused $what of `$name` ($owner, $path): $why [rule `$rule`, $place]$at";
}

# XS libraries: DynaLoader's `dl_load_file` (XSLoader::load calls it too) judges the library
# before it is loaded. perl links DynaLoader in: its subs are booted here, as XSLoader.pm does,
# without loading any module.
sub _enforce_libraries {
    local $^W = 0;    # not `no warnings`, which would load warnings.pm
    DynaLoader::boot_DynaLoader('DynaLoader')
      if defined(&DynaLoader::boot_DynaLoader) && !defined(&DynaLoader::dl_error);
    return unless defined &DynaLoader::dl_load_file;
    my $load = \&DynaLoader::dl_load_file;
    *DynaLoader::dl_load_file = sub {
        my ($library) = @_;
        if (defined $library && !ref $library) {
            local ($!, $^E);
            my $path = _absolute($library);
            my @st = stat($path);
            my $verdict = @st && _judge($path, \@st);
            if ($verdict) {
                my ($from, $line, $level) = (undef, undef, 0);
                while (my @c = caller($level++)) {
                    ($from, $line) = @c[1, 2];
                    last unless $c[0] eq 'DynaLoader' || $c[0] eq 'XSLoader';
                }
                my $name = $path =~ m{/auto/(.+)/[^/]+\z} ? join('::', split m{/}, $1) : $path;
                _refuse('load', $name, $path, $verdict, $from, $line);
            }
        }
        goto &$load;
    };
}

# undef to allow `$path`, else [rule, dist fields or undef, why, config line].
sub _judge {
    my ($path, $st) = @_;
    my $t = $enforce;
    my $entry = $t->{files}{$path};
    if (!defined $entry) {
        my $slash = rindex($path, '/');
        my $dir = substr($path, 0, $slash);
        my $core = exists $t->{core}{$dir} ? $t->{core}{$dir} : _core_names($t, $dir);
        return undef
          if defined $core && index("\t$core\t", "\t" . substr($path, $slash + 1) . "\t") >= 0;
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
    my $seconds = length($mtime) > 9 ? substr($mtime, 0, length($mtime) - 9) : '0';
    return undef if @$st && $st->[7] eq $size && $st->[9] eq $seconds && $st->[1] eq $ino;
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
        %judged = map { $_ => 1 } keys %INC;
        $judged_count = scalar keys %INC;
        _enforce_libraries();
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
    $text = '' unless defined $text;
    chop $text while substr($text, -1) eq "\n";    # not s/\n+\z//, which reads the whole text
    die "`$path` is not a runbom-enforce/1 table\n" unless $text =~ m{\Arunbom-enforce/1(?:\n|\z)};
    my $count = ($text =~ tr/\n//);    # the lines before the last, which must count them
    my $last = substr($text, rindex($text, "\n") + 1);
    die "`$path` is truncated (no `end` line counting $count lines)\n"
      unless $last eq "end\t$count";
    my $t = _table_at_once($text, $count - 1, $path) || _table_by_line($text, $path);
    if (!@{ $t->{first_party} }) {
        my $main = -f $0 ? _absolute($0) : "$cwd/-";
        (my $dir = $main) =~ s{/[^/]*\z}{/};
        push @{ $t->{first_party} }, $dir;
    }
    return $t;
}

sub _empty_table {
    return { mode => 'enforce', config => 'runbom.toml', rules => {}, first_party => [],
        core => {}, core_text => '', files => {}, dists => [] };
}

# The names of perl's own files in `$dir` (undef: none), from the `core` lines' text the first
# time the directory is asked about (most of perl's hundreds of directories never are).
sub _core_names {
    my ($t, $dir) = @_;
    my $line = "\ncore\t$dir\t";
    my $at = index($t->{core_text}, $line);
    my $names;
    if ($at >= 0) {
        $at += length $line;
        $names = substr($t->{core_text}, $at, index($t->{core_text}, "\n", $at) - $at);
    }
    return $t->{core}{$dir} = $names;
}

# The table as runbom writes it, with its hundreds of `core` and `f` lines in two blocks (the
# head, the `core` lines, the `dist` lines, the `f` lines), each checked by one regular
# expression (a loop over the lines costs perl milliseconds at every start): the `f` lines read
# into a hash by one that only matches a line naming a `dist` line's distribution, the `core`
# lines kept as text for _core_names; the few other lines one by one. undef when some line
# does not match, or the lines are in another order, for _table_by_line to read or name it.
sub _table_at_once {
    my ($text, $body, $path) = @_;
    my $t = _empty_table();
    my $end = rindex($text, "\n");
    my $f = index($text, "\nf\t");
    $f = $end if $f < 0;
    my $core = index($text, "\ncore\t");
    $core = $f if $core < 0 || $core > $f;
    my $core_end = $core == $f ? $f : index($text, "\n", rindex($text, "\ncore\t", $f) + 1);
    my (undef, @other) = split /\n/, substr($text, 0, $core);    # after `runbom-enforce/1`
    push @other, split /\n/, substr($text, $core_end + 1, $f - $core_end - 1) if $core_end < $f;
    for my $line (@other) {
        eval { _table_line($t, $line, $path, 0); 1 } or return undef;
    }
    my $dists = $t->{dists};
    for my $dist (@$dists) {
        return undef unless $dist;
    }
    my $owners = @$dists ? join('|', 0 .. $#$dists) : '(?!)';
    my $core_lines = 0;
    if ($core < $f) {
        $t->{core_text} = substr($text, $core, $core_end - $core + 1);    # "\ncore\t...\n"
        return undef if $t->{core_text} =~ /\n(?!core\t[^\t\n]*\t|\z)/;
        $core_lines = ($t->{core_text} =~ tr/\n//) - 1;
    }
    my @files = $f == $end ? ()
      : substr($text, $f + 1, $end - $f - 1)
      =~ /^f\t([^\t\n]+)\t((?:$owners)\t(?:-|\d+)\t(?:-|\d+)\t(?:-|\d+))\t[^\t\n]*$/mg;
    return undef unless $core_lines + @files / 2 + @other == $body;
    %{ $t->{files} } = @files;
    return $t;
}

# The table line by line, in any order, dying at the first bad line with its number, or at an
# `f` line's distribution that has no `dist` line.
sub _table_by_line {
    my ($text, $path) = @_;
    my @lines = split /\n/, $text, -1;
    pop @lines;    # `end`
    my $t = _empty_table();
    for my $number (2 .. @lines) {
        _table_line($t, $lines[$number - 1], $path, $number);
    }
    for my $dist (@{ $t->{dists} }) {
        die "`$path`: an `f` line names a distribution with no `dist` line\n" unless $dist;
    }
    my %owners;
    @owners{ $text =~ /^f\t[^\t\n]+\t(\d+)\t/mg } = ();
    for my $index (keys %owners) {
        die "`$path`: an `f` line names distribution $index, which has no `dist` line\n"
          unless $t->{dists}[$index];
    }
    return $t;
}

sub _table_line {
    my ($t, $line, $path, $number) = @_;
    my ($kind, $rest) = split /\t/, $line, 2;
    $kind = '' unless defined $kind;
    $rest = '' unless defined $rest;
    if ($kind eq 'f') {
        $rest =~ /\A([^\t]+)\t(\d+\t(?:-|\d+)\t(?:-|\d+)\t(?:-|\d+))\t[^\t]*\z/
          or die "`$path` line $number: malformed `f` line\n";
        $t->{files}{$1} = $2;
    } elsif ($kind eq 'core') {
        my ($dir, $names) = split /\t/, $rest, 2;
        $t->{core}{$dir} = defined $names ? $names : '' unless exists $t->{core}{$dir};
    } elsif ($kind eq 'dist') {
        my @f = split /\t/, $rest, -1;
        die "`$path` line $number: a `dist` line needs 8 fields\n"
          unless @f == 7 && $f[0] =~ /\A\d+\z/ && $f[5] =~ /\A\d+\z/;
        $t->{dists}[$f[0]] = [@f[1 .. 6]];
    } elsif ($kind eq 'rule') {
        my @f = split /\t/, $rest, -1;
        $t->{rules}{ $f[0] } = [($f[1] || '') eq '1', defined $f[2] ? $f[2] : '0'];
    } elsif ($kind eq 'mode') {
        $t->{mode} = $rest eq 'monitor' ? 'monitor' : 'enforce';
    } elsif ($kind eq 'config') {
        $t->{config} = $rest;
    } elsif ($kind eq 'first-party') {
        (my $dir = $rest) =~ s{/*\z}{/};
        push @{ $t->{first_party} }, $dir;
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
    if ($enforce) {
        _judge_unasked() if scalar(keys %INC) != $judged_count;
        _to_front();
    }
    _write(0, 1);
    $last_count = scalar keys %INC;
    $last_write = time;
}

END {
    _judge_unasked() if $enforce && scalar(keys %INC) != $judged_count;
    _write(1, 1);
}

1;
