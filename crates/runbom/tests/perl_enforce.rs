//! Perl enforcement end to end, on Debian's real distributions (`libmojolicious-perl`,
//! `libwww-perl` and what they need, which `scripts/test` installs): a program enforced against a
//! `cpanfile.snapshot` of what it loads prints what it prints bare; a distribution the snapshot
//! does not list (`Try-Tiny`, which LWP needs) is refused from `require` with the message and the
//! report's `refusals[]`, or only reported in monitor mode; a banned one is refused though listed;
//! a file of a listed distribution changed after the table was written is refused; a bad table
//! gets the fail policy; and `RUNBOM_ENFORCE=off` turns it off and says so.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;

use common::{run_reported, runbom, text};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/perl")
        .join(name)
}

fn perl_with_modules() -> bool {
    let found = Command::new("perl")
        .args([
            "-e",
            "require Mojolicious::Lite; require LWP::UserAgent; require HTML::TreeBuilder",
        ])
        .env_remove("PERL5OPT")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: no perl with Mojolicious and LWP (scripts/test installs them)");
    }
    found
}

/// `runbom run [extra] -- perl ARGS` in `dir`, without the caller's `PERL5OPT` and `PERL5LIB`,
/// and its report.
fn run_in(
    dir: &Path,
    extra: &[&str],
    args: &[impl AsRef<str>],
    env: &[(&str, &str)],
) -> (Output, Value) {
    let command: Vec<&str> = std::iter::once("perl")
        .chain(args.iter().map(AsRef::as_ref))
        .collect();
    run_reported(dir, extra, &command, env, &["PERL5OPT", "PERL5LIB"])
}

/// A Carton snapshot of the distributions `report` says were loaded, but `without`.
fn snapshot_of(report: &Value, without: &str) -> String {
    let mut snapshot = String::from("# carton snapshot format: version 1.0\nDISTRIBUTIONS\n");
    for dist in report["distributions"].as_array().expect("distributions") {
        let (name, version) = (
            dist["name"].as_str().expect("the test can set up and run"),
            dist["version"]
                .as_str()
                .expect("the test can set up and run"),
        );
        if name == without || dist["modules"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        snapshot.push_str(&format!(
            "  {name}-{version}\n    pathname: X/XX/XXX/{name}-{version}.tar.gz\n"
        ));
    }
    snapshot
}

/// The program copied into `dir`, run bare once to write the snapshot of what it loads.
fn program_and_snapshot(dir: &Path, program: &str, without: &str) -> Vec<String> {
    fs::copy(fixture(program), dir.join(program)).expect("the test can set up and run");
    fs::copy(fixture("page.html"), dir.join("page.html")).expect("the test can set up and run");
    let args = vec![program.to_owned(), "page.html".to_owned()];
    let (out, report) = run_in(dir, &[], &args, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    fs::write(dir.join("cpanfile.snapshot"), snapshot_of(&report, without))
        .expect("the test can set up and run");
    args
}

fn bare(dir: &Path, args: &[String]) -> Output {
    Command::new("perl")
        .args(args)
        .current_dir(dir)
        .env_remove("PERL5OPT")
        .env_remove("PERL5LIB")
        .output()
        .expect("the test can set up and run")
}

#[test]
fn a_mojolicious_app_enforced_against_its_own_snapshot_behaves_as_bare() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    let args = program_and_snapshot(dir.path(), "mojo_app.pl", "");
    let bare = bare(dir.path(), &args);
    let (out, report) = run_in(dir.path(), &["--enforce", "cpanfile.snapshot"], &args, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(text(&out.stdout), text(&bare.stdout), "{stderr}");
    assert_eq!(text(&out.stdout), "200 {\"hello\":\"world\"}\n");
    assert_eq!(out.status.code(), bare.status.code());
    assert!(
        stderr.contains("runbom: enforcing `cpanfile.snapshot`"),
        "{stderr}"
    );
    assert!(
        report["refusals"].as_array().is_none_or(Vec::is_empty),
        "{stderr}"
    );
    assert_eq!(report["enforcement"][0]["state"], "active");
    assert_eq!(report["enforcement"][0]["mode"], "enforce");
}

#[test]
fn a_distribution_the_snapshot_does_not_list_is_refused_or_in_monitor_reported() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    let args = program_and_snapshot(dir.path(), "lwp_app.pl", "Try-Tiny");
    let (out, report) = run_in(dir.path(), &["--enforce", "cpanfile.snapshot"], &args, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(text(&out.stdout), "", "{stderr}");
    assert_ne!(out.status.code(), Some(0));
    let refusal = &report["refusals"][0];
    let file = refusal["file"].as_str().expect("a file").to_owned();
    assert!(file.ends_with("/Try/Tiny.pm"), "{file}");
    let importer = refusal["importer"]
        .as_str()
        .expect("an importer")
        .to_owned();
    assert!(
        stderr.contains(&format!(
            "runbom: refused require of `Try::Tiny` (Try-Tiny {}, {file}): not in the expected \
             inventory `cpanfile.snapshot` [rule `listed`, on by default] at {importer} line ",
            refusal["version"]
                .as_str()
                .expect("the test can set up and run")
        )),
        "{stderr}"
    );
    assert_eq!(refusal["module"], "Try::Tiny");
    assert_eq!(refusal["distribution"], "Try-Tiny");
    assert_eq!(refusal["rule"], "listed");
    assert_eq!(refusal["enforced"], true);

    let (out, report) = run_in(
        dir.path(),
        &["--enforce", "cpanfile.snapshot", "--mode", "monitor"],
        &args,
        &[],
    );
    assert_eq!(text(&out.stdout), "runbom perl test\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["refusals"][0]["module"], "Try::Tiny");
    assert_eq!(report["refusals"][0]["enforced"], false);
    assert_eq!(report["enforcement"][0]["mode"], "monitor");

    let (out, report) = run_in(
        dir.path(),
        &["--enforce", "cpanfile.snapshot"],
        &args,
        &[("RUNBOM_ENFORCE", "off")],
    );
    assert_eq!(text(&out.stdout), "runbom perl test\n");
    assert!(
        text(&out.stderr).contains("runbom: enforcement is off for this run (RUNBOM_ENFORCE=off)")
    );
    assert_eq!(report["enforcement"][0]["state"], "off");
}

#[test]
fn a_banned_distribution_is_refused_though_the_snapshot_lists_it() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    let args = program_and_snapshot(dir.path(), "lwp_app.pl", "");
    fs::write(
        dir.path().join("runbom.toml"),
        "[bans]\ndeny = [{ name = \"HTML-Tree\", reason = \"not here\" }]\n",
    )
    .expect("the test can set up and run");
    let (out, report) = run_in(dir.path(), &["--enforce", "cpanfile.snapshot"], &args, &[]);
    let stderr = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("runbom: refused require of `HTML::TreeBuilder` (HTML-Tree ")
            && stderr.contains("[rule `bans`, runbom.toml:2]"),
        "{stderr}"
    );
    assert_eq!(report["refusals"][0]["rule"], "bans");
    assert_eq!(report["refusals"][0]["config_line"], 2);
}

#[test]
fn a_file_of_a_listed_distribution_changed_after_the_table_was_written_is_refused() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    // A distribution of the test's own, installed as ExtUtils::Install does, on `PERL5LIB`.
    let lib = dir.path().join("lib");
    fs::create_dir_all(lib.join("auto/Tiny")).expect("the test can set up and run");
    let module = lib.join("Tiny.pm");
    fs::write(
        &module,
        "package Tiny;\nour $VERSION = '1.0';\nsub hi { 'hi' }\n1;\n",
    )
    .expect("the test can set up and run");
    fs::write(
        lib.join("auto/Tiny/.packlist"),
        format!("{}\n", module.display()),
    )
    .expect("the test can set up and run");
    fs::write(
        dir.path().join("cpanfile.snapshot"),
        "# carton snapshot format: version 1.0\nDISTRIBUTIONS\n  Tiny-1.0\n    pathname: X/XX/XXX/Tiny-1.0.tar.gz\n",
    )
    .expect("the test can set up and run");
    let script = format!(
        "open(my $fh, '>>', '{}') or die; print $fh \"\\n\"; close $fh;\n\
         if (eval {{ require Tiny; 1 }}) {{ print Tiny::hi(), \"\\n\" }} else {{ print \"died: $@\" }}\n",
        module.display()
    );
    fs::write(dir.path().join("app.pl"), script).expect("the test can set up and run");
    let (out, report) = run_in(
        dir.path(),
        &["--enforce", "cpanfile.snapshot"],
        &["app.pl"],
        &[(
            "PERL5LIB",
            lib.to_str().expect("the test can set up and run"),
        )],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "died: runbom: refused require of `Tiny` (Tiny 1.0, {}): it changed since the table \
             was written (size, mtime or inode differ) [rule `integrity`, on by default] at ",
            module.display()
        )),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["refusals"][0]["rule"], "integrity");
}

#[test]
fn a_bad_table_gets_the_fail_policy_and_never_a_crash() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    runbom_ecosystems::perl::write_hook(dir.path()).expect("the test can set up and run");
    let table = dir.path().join("enforce.tsv");
    let hooked = |fail: &str| {
        Command::new("perl")
            .arg(format!("-I{}", dir.path().display()))
            .args(["-MRunbom::Hook", "-e", "print qq{ran\\n}"])
            .env("RUNBOM_ENFORCE_TABLE", &table)
            .env("RUNBOM_ENFORCE_FAIL", fail)
            .env("RUNBOM_SESSION_DIR", dir.path())
            .env_remove("PERL5OPT")
            .output()
            .expect("the test can set up and run")
    };
    let head = "runbom-enforce/1\ninterpreter\t/usr/bin/perl\t";
    let cases: [(&str, String, &str); 4] = [
        (
            "truncated",
            format!("{head}5.36.0\t/usr\nmode\tenforce\n"),
            "is truncated",
        ),
        (
            "not a table",
            "hello\n".to_owned(),
            "is not a runbom-enforce/1 table",
        ),
        (
            "another interpreter",
            format!("{head}4.0.0\t/usr\nend\t2\n"),
            "is for the interpreter /usr/bin/perl (perl 4.0.0), not this one",
        ),
        (
            "a malformed line",
            "runbom-enforce/1\nf\t/x.pm\tzero\nend\t2\n".to_owned(),
            "line 2: malformed `f` line",
        ),
    ];
    for (case, contents, says) in cases {
        fs::write(&table, contents).expect("the test can set up and run");
        let open = hooked("open");
        assert_eq!(text(&open.stdout), "ran\n", "{case}");
        assert!(
            text(&open.stderr).contains(&format!(
                "runbom: warning: enforcement is off: `{}` {says}",
                table.display()
            )) || text(&open.stderr).contains(says),
            "{case}: {}",
            text(&open.stderr)
        );
        let closed = hooked("closed");
        assert_eq!(text(&closed.stdout), "", "{case}");
        assert_eq!(closed.status.code(), Some(78), "{case}");
        assert!(
            text(&closed.stderr).starts_with("runbom: error: the program was not started: "),
            "{case}: {}",
            text(&closed.stderr)
        );
    }
    // One that others may write is not trusted.
    fs::write(&table, format!("{head}5.36.0\t/usr\nend\t2\n"))
        .expect("the test can set up and run");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&table, fs::Permissions::from_mode(0o666))
        .expect("the test can set up and run");
    let open = hooked("open");
    assert_eq!(text(&open.stdout), "ran\n");
    assert!(
        text(&open.stderr).contains("is writable by group or others"),
        "{}",
        text(&open.stderr)
    );
}

/// `runbom hook install --perl DIR --enforce …`: a service started with the environment file's
/// variables, as systemd would, is enforced, and `hook flush` (its `ExecStopPost`) reports the
/// refusal.
#[test]
fn an_installed_perl_hook_enforces_and_its_flush_reports_the_refusal() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    let args = program_and_snapshot(dir.path(), "lwp_app.pl", "Try-Tiny");
    let hook_dir = dir.path().join("hook");
    let install = runbom()
        .current_dir(dir.path())
        .args(["hook", "install", "--app", "shop", "--perl"])
        .arg(&hook_dir)
        .args(["--enforce", "cpanfile.snapshot"])
        .env_remove("PERL5OPT")
        .env_remove("PERL5LIB")
        .output()
        .expect("the test can set up and run");
    assert!(install.status.success(), "{}", text(&install.stderr));
    let unit = text(&install.stdout);
    let flush_line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStopPost="))
        .expect("a flush line");
    let env = fs::read_to_string(hook_dir.join("runbom.env")).expect("an environment file");
    assert!(env.contains("PERL5OPT=-MRunbom::Hook\n"), "{env}");
    let mut service = Command::new("perl");
    service
        .current_dir(dir.path())
        .args(&args)
        .env_remove("PERL5OPT")
        .env_remove("PERL5LIB");
    for line in env.lines() {
        let (name, value) = line.split_once('=').expect("NAME=value");
        service.env(name, value);
    }
    let out = service.output().expect("the test can set up and run");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).starts_with("runbom: refused require of `Try::Tiny` (Try-Tiny "),
        "{}",
        text(&out.stderr)
    );
    let words: Vec<&str> = flush_line.split_whitespace().collect();
    let flush = runbom()
        .args(&words[1..])
        .output()
        .expect("the test can set up and run");
    assert!(flush.status.success(), "{}", text(&flush.stderr));
    let reports: Vec<PathBuf> = fs::read_dir(hook_dir.join("reports"))
        .expect("a report directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report: Value =
        serde_json::from_slice(&fs::read(&reports[0]).expect("a report")).expect("a JSON report");
    assert_eq!(report["app"], "shop");
    assert_eq!(report["refusals"][0]["module"], "Try::Tiny");
    assert_eq!(report["enforcement"][0]["state"], "active");
}

/// A dual-life core module upgraded from CPAN (`Text::Wrap`, installed by ExtUtils::Install with
/// its `.packlist` into a directory before perl's own in `@INC`): the copy that ran is told by
/// its file — the upgrade is the distribution `Text-Wrap`, perl's own copy the standard library —
/// and under enforcement the upgrade is held to the snapshot while perl's copy never is.
#[test]
fn a_cpan_upgrade_of_a_core_module_is_the_copy_that_ran_and_is_held_to_the_rules() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    let core = Command::new("perl")
        .args(["-MText::Wrap", "-e", "print $INC{'Text/Wrap.pm'}"])
        .env_remove("PERL5OPT")
        .env_remove("PERL5LIB")
        .output()
        .expect("the test can set up and run");
    let core = PathBuf::from(text(&core.stdout));
    let lib = dir.path().join("site");
    fs::create_dir_all(lib.join("Text")).expect("the test can set up and run");
    fs::create_dir_all(lib.join("auto/Text/Wrap")).expect("the test can set up and run");
    let upgrade = lib.join("Text/Wrap.pm");
    let source = fs::read_to_string(&core).expect("perl's own Text/Wrap.pm");
    fs::write(
        &upgrade,
        source.replace("our $VERSION = '2021.0814';", "our $VERSION = '2024.001';"),
    )
    .expect("the test can set up and run");
    fs::write(
        lib.join("auto/Text/Wrap/.packlist"),
        format!("{}\n", upgrade.display()),
    )
    .expect("the test can set up and run");
    let program = "use Text::Wrap; print wrap('', '', 'dual life'), \"\\n\";";
    let site = lib.to_str().expect("utf-8");
    let (out, report) = run_in(dir.path(), &[], &["-e", program], &[("PERL5LIB", site)]);
    assert_eq!(text(&out.stdout), "dual life\n", "{}", text(&out.stderr));
    let upgraded = report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .find(|d| d["name"] == "Text-Wrap")
        .expect("the upgrade is a distribution");
    assert_eq!(upgraded["version"], "2024.001");
    assert_eq!(upgraded["modules"][0]["name"], "Text::Wrap");
    assert_eq!(
        upgraded["modules"][0]["file"],
        upgrade.display().to_string()
    );
    let stdlib = report["stdlib_modules"].to_string();
    assert!(!stdlib.contains("\"Text::Wrap\""), "{stdlib}");
    // Without the upgrade on `@INC`, perl's own copy ran: the standard library.
    let (_, report) = run_in(dir.path(), &[], &["-e", program], &[]);
    assert!(
        report["stdlib_modules"]
            .to_string()
            .contains("\"Text::Wrap\""),
        "{}",
        report["stdlib_modules"]
    );
    // Enforced against a snapshot without it: the upgrade is refused, perl's copy is not.
    fs::write(
        dir.path().join("cpanfile.snapshot"),
        "# carton snapshot format: version 1.0\nDISTRIBUTIONS\n",
    )
    .expect("the test can set up and run");
    let enforce = ["--enforce", "cpanfile.snapshot"];
    let (out, report) = run_in(
        dir.path(),
        &enforce,
        &["-e", program],
        &[("PERL5LIB", site)],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains(&format!(
            "runbom: refused require of `Text::Wrap` (Text-Wrap 2024.001, {}): not in the \
             expected inventory",
            upgrade.display()
        )),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(report["refusals"][0]["distribution"], "Text-Wrap");
    let (out, _) = run_in(dir.path(), &enforce, &["-e", program], &[]);
    assert_eq!(text(&out.stdout), "dual life\n", "{}", text(&out.stderr));
}

/// Debian's `Clone` (`files`, below `root`) copied into `dir/site` (on `PERL5LIB`, outside the
/// program's first-party directory `dir/app`) as a distribution whose `.packlist` lists `listed`.
fn clone_in_site(dir: &Path, files: &[&Path], root: &Path, listed: &[&Path]) -> PathBuf {
    let site = dir.join("site");
    for file in files {
        let to = site.join(file.strip_prefix(root).expect("below the root"));
        fs::create_dir_all(to.parent().expect("a parent")).expect("the test can set up and run");
        fs::copy(file, &to).expect("the test can set up and run");
    }
    let packlist: String = listed
        .iter()
        .map(|f| {
            format!(
                "{}\n",
                site.join(f.strip_prefix(root).expect("below")).display()
            )
        })
        .collect();
    let auto = site.join("auto/Clone");
    fs::create_dir_all(&auto).expect("the test can set up and run");
    fs::write(auto.join(".packlist"), packlist).expect("the test can set up and run");
    site
}

/// XS libraries are held to the rules when DynaLoader loads them (XSLoader calls its
/// `dl_load_file`): Debian's `Clone` (`Clone.pm` and `auto/Clone/Clone.so`) copied into a
/// directory of its own as a distribution whose `.packlist` lists only the module: the module is
/// allowed, its library refused before it is loaded; with both listed, a library changed after
/// the table was written is refused (integrity).
#[test]
fn an_xs_library_is_held_to_the_rules_when_it_is_loaded() {
    if !perl_with_modules() {
        return;
    }
    let root = Path::new("/usr/lib/x86_64-linux-gnu/perl5/5.36");
    let (module, library) = (root.join("Clone.pm"), root.join("auto/Clone/Clone.so"));
    if !module.exists() || !library.exists() {
        eprintln!("skipped: no Debian libclone-perl (scripts/test installs it)");
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    let app = dir.path().join("app");
    fs::create_dir_all(&app).expect("the test can set up and run");
    fs::write(
        app.join("app.pl"),
        "my $so = $ARGV[0];\n\
         if ($so) { open(my $fh, '>>', $so) or die; print $fh \"\\0\"; close $fh }\n\
         if (eval { require Clone; 1 }) { print \"cloned\\n\" } else { print \"died: $@\" }\n",
    )
    .expect("the test can set up and run");
    let version = Command::new("perl")
        .args(["-MClone", "-e", "print $Clone::VERSION"])
        .env_remove("PERL5OPT")
        .output()
        .expect("the test can set up and run");
    fs::write(
        app.join("cpanfile.snapshot"),
        format!(
            "# carton snapshot format: version 1.0\nDISTRIBUTIONS\n  Clone-{0}\n    pathname: X/XX/XXX/Clone-{0}.tar.gz\n",
            text(&version.stdout)
        ),
    )
    .expect("the test can set up and run");
    let files = [module.as_path(), library.as_path()];
    let site = clone_in_site(dir.path(), &files, root, &[&module]);
    let site_env = site.to_str().expect("utf-8").to_owned();
    let enforce = ["--enforce", "cpanfile.snapshot"];
    let (out, report) = run_in(&app, &enforce, &["app.pl"], &[("PERL5LIB", &site_env)]);
    let so = site.join("auto/Clone/Clone.so");
    assert_eq!(
        text(&out.stdout),
        format!(
            "died: runbom: refused load of `Clone` (no distribution, {}): owned by no installed \
             distribution, and not perl's own or a first-party directory [rule `listed`, on by \
             default] at {}/Clone.pm line 16.\nCompilation failed in require at app.pl line 3.\n",
            so.display(),
            site.display()
        ),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(report["refusals"][0]["file"], so.display().to_string());
    assert_eq!(report["refusals"][0]["enforced"], true);

    // Both listed: loaded, unless the library changed after the table was written.
    let site = clone_in_site(dir.path(), &files, root, &files);
    let (out, _) = run_in(&app, &enforce, &["app.pl"], &[("PERL5LIB", &site_env)]);
    assert_eq!(text(&out.stdout), "cloned\n", "{}", text(&out.stderr));
    let so_arg = so.to_str().expect("utf-8");
    let (out, report) = run_in(
        &app,
        &enforce,
        &["app.pl", so_arg],
        &[("PERL5LIB", site.to_str().expect("utf-8"))],
    );
    assert!(
        text(&out.stdout).starts_with(&format!(
            "died: runbom: refused load of `Clone` (Clone {}, {}): it changed since the table \
             was written (size, mtime or inode differ) [rule `integrity`, on by default]",
            text(&version.stdout),
            so.display()
        )),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(report["refusals"][0]["rule"], "integrity");
}

/// What perl loads without asking the hook — a directory the program puts before the hook in
/// `@INC` at run time, a `require` of an absolute path — is judged as soon as the hook next
/// runs (or at exit) and reported as "would refuse" (its code ran), and the hook goes back to
/// the front of `@INC`: the next require from that directory is refused before it runs.
#[test]
fn what_perl_loads_without_asking_the_hook_is_judged_after_and_the_hook_goes_back_in_front() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    let (app, extra) = (dir.path().join("app"), dir.path().join("extra"));
    fs::create_dir_all(extra.join("Extra")).expect("the test can set up and run");
    fs::create_dir_all(&app).expect("the test can set up and run");
    for name in ["One", "Two"] {
        fs::write(
            extra.join(format!("Extra/{name}.pm")),
            format!("package Extra::{name}; 1;\n"),
        )
        .expect("the test can set up and run");
    }
    let tiny = Command::new("perl")
        .args(["-MTry::Tiny", "-e", "print $INC{'Try/Tiny.pm'}"])
        .env_remove("PERL5OPT")
        .output()
        .expect("the test can set up and run");
    let tiny = text(&tiny.stdout);
    fs::write(
        app.join("app.pl"),
        format!(
            "unshift @INC, '{}';\n\
             require Extra::One;\n\
             require Text::Wrap;\n\
             print \"one ran\\n\";\n\
             if (eval {{ require Extra::Two; 1 }}) {{ print \"two ran\\n\" }} else {{ print \"died: $@\" }}\n\
             require '{tiny}';\n\
             print \"tiny ran\\n\";\n",
            extra.display()
        ),
    )
    .expect("the test can set up and run");
    fs::write(
        app.join("cpanfile.snapshot"),
        "# carton snapshot format: version 1.0\nDISTRIBUTIONS\n",
    )
    .expect("the test can set up and run");
    let (out, report) = run_in(&app, &["--enforce", "cpanfile.snapshot"], &["app.pl"], &[]);
    let (one, two) = (extra.join("Extra/One.pm"), extra.join("Extra/Two.pm"));
    let unowned = "owned by no installed distribution, and not perl's own or a first-party \
                   directory";
    assert_eq!(
        text(&out.stdout),
        format!(
            "one ran\ndied: runbom: refused require of `Extra::Two` (no distribution, {}): \
             {unowned} [rule `listed`, on by default] at app.pl line 5.\ntiny ran\n",
            two.display()
        ),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    let after = "(perl loaded it without asking runbom: an absolute path, or a directory put \
                 before the hook in @INC at run time)";
    assert!(
        stderr.contains(&format!(
            "runbom: would refuse require of `Extra::One` (no distribution, {}): {unowned} {after}",
            one.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "runbom: would refuse require of `{tiny}` (Try-Tiny "
        )),
        "{stderr}"
    );
    let refusals: Vec<(String, bool)> = report["refusals"]
        .as_array()
        .expect("refusals")
        .iter()
        .map(|r| {
            (
                r["file"].as_str().expect("a file").to_owned(),
                r["enforced"].as_bool().expect("enforced"),
            )
        })
        .collect();
    assert_eq!(
        refusals,
        [
            (one.display().to_string(), false),
            (two.display().to_string(), true),
            (tiny.clone(), false)
        ]
    );
}

/// The enforcing hook hands perl each module it judged, opened, so that perl does not search
/// `@INC` for it a second time; what perl loads is what it would load bare and says so: the same
/// `%INC` values (a relative `-I` directory, one with `./` and a trailing `/`, a `Foo.pmc` loaded
/// for `Foo.pm` under the `.pm` name, as perl names it), `__FILE__`, `caller`, warnings'
/// locations, `__DATA__`, and a missing module's error.
#[test]
fn a_module_the_enforcing_hook_opens_for_perl_is_what_perl_itself_would_load() {
    if !perl_with_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("the test can set up and run");
    let files = [
        (
            "lib/First/One.pm",
            "package First::One;\n\
             sub where { return join ' ', __FILE__, __LINE__, (caller(0))[1] }\n\
             sub warned { warn 'careful' }\n\
             1;\n\
             __DATA__\n\
             data line\n",
        ),
        ("lib2/Second.pm", "package Second; sub which { 'pm' } 1;\n"),
        (
            "lib2/Second.pmc",
            "package Second; sub which { 'pmc ' . __FILE__ } 1;\n",
        ),
        (
            "app.pl",
            "use First::One;\n\
             use Second;\n\
             print \"INC $_ $INC{$_}\\n\" for grep { /^(First|Second)/ } sort keys %INC;\n\
             print First::One::where(), \"\\n\", Second::which(), \"\\n\";\n\
             print 'DATA ', scalar readline(*First::One::DATA);\n\
             $SIG{__WARN__} = sub { print \"WARN $_[0]\" };\n\
             First::One::warned();\n\
             eval { require No::Such::Module; 1 } or print 'ERR ', $@ =~ /\\A(Can't locate [^(]+)/, \"\\n\";\n",
        ),
        (
            "cpanfile.snapshot",
            "# carton snapshot format: version 1.0\nDISTRIBUTIONS\n",
        ),
    ];
    for (name, content) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().expect("a directory"))
            .expect("the test can set up and run");
        fs::write(path, content).expect("the test can set up and run");
    }
    let args = ["-Ilib", "-I./lib2/", "app.pl"].map(str::to_owned);
    let bare = bare(dir.path(), &args);
    assert_eq!(
        text(&bare.stdout),
        "INC First/One.pm lib/First/One.pm\n\
         INC Second.pm lib2/Second.pm\n\
         lib/First/One.pm 2 app.pl\n\
         pmc lib2/Second.pm\n\
         DATA data line\n\
         WARN careful at lib/First/One.pm line 3, <DATA> line 1.\n\
         ERR Can't locate No/Such/Module.pm in @INC \n"
    );
    let (out, report) = run_in(dir.path(), &["--enforce", "cpanfile.snapshot"], &args, &[]);
    assert_eq!(
        text(&out.stdout),
        text(&bare.stdout),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["enforcement"][0]["state"], "active");
    assert!(
        report["refusals"].as_array().is_none_or(Vec::is_empty),
        "{}",
        text(&out.stderr)
    );
}
