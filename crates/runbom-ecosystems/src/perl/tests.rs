//! The Perl module's own tests: which programs are perl's, and the hook run by the machine's
//! perl (Debian's 5.36), against what the program itself says it loaded.

use std::fs;
use std::process::{Command, Output};

use super::*;
use crate::hook::read_observations;

fn perl_available() -> bool {
    Command::new("perl")
        .arg("-e1")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `perl ARGS` with the hook installed in `hook_dir`, writing into `session`.
fn run_hooked(hook_dir: &Path, session: &Path, args: &[&str]) -> Output {
    let mut command = Command::new("perl");
    command.args(args).env("RUNBOM_SESSION_DIR", session);
    command.env_remove("PERL5LIB").env_remove("PERL5OPT");
    for (name, value) in launch(hook_dir).env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn perl_commands_and_scripts_are_perls() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("app.pl");
    fs::write(&script, "#!/usr/bin/env perl\nprint 1;\n").unwrap();
    let shell = dir.path().join("app.sh");
    fs::write(&shell, "#!/bin/sh\n").unwrap();
    for (command, expected) in [
        ("/usr/bin/perl", Some("/usr/bin/perl")),
        ("/usr/bin/perl5.36.0", Some("/usr/bin/perl5.36.0")),
        (script.to_str().unwrap(), Some("perl")),
        (shell.to_str().unwrap(), None),
        ("/usr/bin/perldoc", None),
    ] {
        assert_eq!(
            Perl.runs(&Program::resolve(command)),
            expected.map(PathBuf::from),
            "{command}"
        );
    }
}

#[test]
fn the_launch_joins_the_users_values() {
    let launch = launch(Path::new("/s/hook-perl"));
    let names: Vec<_> = launch
        .env
        .iter()
        .map(|(n, _)| n.to_str().unwrap())
        .collect();
    assert_eq!(names, ["PERL5LIB", "PERL5OPT"]);
    assert!(
        launch.env[0]
            .1
            .to_str()
            .unwrap()
            .starts_with("/s/hook-perl")
    );
    assert!(
        launch.env[1]
            .1
            .to_str()
            .unwrap()
            .starts_with("-MRunbom::Hook")
    );
}

/// The hook's observation lists exactly what the program's own `%INC` holds at its END (but the
/// hook), with the exit status and output untouched.
#[test]
fn the_hook_records_what_the_program_loaded() {
    if !perl_available() {
        eprintln!("skipped: no perl");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hook = dir.path().join("hook");
    let session = dir.path().join("session");
    fs::create_dir_all(&session).unwrap();
    write_hook(&hook).unwrap();
    let oracle = dir.path().join("oracle.txt");
    let program = format!(
        "require File::Spec; require Text::Wrap; print qq{{out\\n}}; \
         END {{ open my $f, '>', '{}' or die; \
         print $f map {{ qq{{$_\\n}} }} grep {{ $_ ne 'Runbom/Hook.pm' }} sort keys %INC }} exit 3;",
        oracle.display()
    );
    let output = run_hooked(&hook, &session, &["-e", &program]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let (observations, problems) = read_observations(&session, Language::Perl);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(observations.len(), 1);
    let observation = &observations[0];
    assert!(observation.exited);
    let mut seen: Vec<String> = observation
        .files
        .iter()
        .map(|f| {
            let key = format!("{}.pm", f.name.replace("::", "/"));
            if f.name.ends_with(".pl") {
                f.name.clone()
            } else {
                key
            }
        })
        .collect();
    seen.sort();
    let expected: Vec<String> = fs::read_to_string(&oracle)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(seen, expected);
    assert!(expected.iter().any(|k| k == "Text/Wrap.pm"));
    assert!(!observation.search_path.contains(&hook));
    assert_eq!(observation.argv, ["-e"]);
}

/// A module perl loaded keeps its `$VERSION`; a package inline in the script, whose `%INC` key
/// the script set itself and whose `$VERSION` is assigned only when the script runs (after
/// INIT), still gets its version at END.
#[test]
fn versions_of_loaded_modules_and_of_a_package_inline_in_the_script() {
    if !perl_available() {
        eprintln!("skipped: no perl");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hook = dir.path().join("hook");
    let session = dir.path().join("session");
    fs::create_dir_all(&session).unwrap();
    write_hook(&hook).unwrap();
    let program = "BEGIN { $INC{'Inline/Pkg.pm'} = __FILE__ } use Text::Wrap; \
                   package Inline::Pkg; our $VERSION = '4.2'; package main; print qq{ok\n};";
    let output = run_hooked(&hook, &session, &["-e", program]);
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ok\n");
    let (observations, problems) = read_observations(&session, Language::Perl);
    assert!(problems.is_empty(), "{problems:?}");
    let packages = &observations[0].packages;
    let version_of = |name: &str| {
        packages
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.version.clone())
    };
    assert_eq!(version_of("Inline::Pkg").as_deref(), Some("4.2"));
    assert!(version_of("Text::Wrap").is_some_and(|v| !v.is_empty()));
}

#[test]
fn a_dying_program_and_a_forked_child() {
    if !perl_available() {
        eprintln!("skipped: no perl");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hook = dir.path().join("hook");
    let session = dir.path().join("session");
    fs::create_dir_all(&session).unwrap();
    write_hook(&hook).unwrap();
    let output = run_hooked(
        &hook,
        &session,
        &["-e", "eval { require No::Such }; print $@; die qq{boom\\n}"],
    );
    let bare = Command::new("perl")
        .args(["-e", "eval { require No::Such }; print $@; die qq{boom\\n}"])
        .env_remove("PERL5OPT")
        .env_remove("PERL5LIB")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), bare.status.code());
    assert_eq!(
        output.stdout, bare.stdout,
        "the failed require's message is as bare"
    );
    assert_eq!(output.stderr, bare.stderr);
    let session = dir.path().join("forks");
    fs::create_dir_all(&session).unwrap();
    let output = run_hooked(
        &hook,
        &session,
        &[
            "-e",
            "if (my $pid = fork) { waitpid $pid, 0; exit($? >> 8) } require Text::Wrap; exit 5",
        ],
    );
    assert_eq!(output.status.code(), Some(5));
    let (observations, _) = read_observations(&session, Language::Perl);
    assert_eq!(
        observations.len(),
        2,
        "parent and child each write their own"
    );
    let child = observations
        .iter()
        .find(|o| o.files.iter().any(|f| f.name == "Text::Wrap"))
        .expect("the child loaded Text::Wrap");
    let parent = observations.iter().find(|o| o.pid != child.pid).unwrap();
    assert_eq!(child.ppid, parent.pid);
}

#[test]
fn an_unwritable_session_says_one_line_and_runs_bare() {
    if !perl_available() {
        eprintln!("skipped: no perl");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hook = dir.path().join("hook");
    write_hook(&hook).unwrap();
    let output = run_hooked(
        &hook,
        &dir.path().join("missing"),
        &["-e", "print 42; exit 7"],
    );
    assert_eq!(output.status.code(), Some(7));
    assert_eq!(output.stdout, b"42");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("runbom: perl hook: cannot write"),
        "{stderr}"
    );
}

#[test]
fn loaded_files_map_to_distributions_the_core_and_unowned() {
    use crate::hook::LoadedFile;
    use inventory::{PerlDistribution, Source};
    let inventory = PerlInventory {
        schema: inventory::PERL_INVENTORY_SCHEMA.to_owned(),
        perl: PerlInfo::default(),
        distributions: vec![PerlDistribution {
            name: "Mojolicious".into(),
            version: "9.31".into(),
            source: Source::Dpkg,
            main_module: Some("Mojolicious".into()),
            debian_package: Some("libmojolicious-perl".into()),
            location: PathBuf::from("/usr/share/perl5"),
            metadata_path: PathBuf::from("/var/lib/dpkg/info/libmojolicious-perl.list"),
            license: Vec::new(),
            files: vec![PathBuf::from("/usr/share/perl5/Mojo/Base.pm")],
        }],
        core_files: [PathBuf::from("/usr/share/perl/5.36/strict.pm")].into(),
        problems: Vec::new(),
    };
    let file = |name: &str, path: &str| LoadedFile {
        name: name.into(),
        path: Some(PathBuf::from(path)),
    };
    let observations = [7, 9].map(|pid| HookObservation {
        pid,
        executable: PathBuf::from("/usr/bin/perl"),
        version: "5.36.0".into(),
        started: 1_700_000_000.0,
        files: vec![
            file("strict", "/usr/share/perl/5.36/strict.pm"),
            file("Mojo::Base", "/usr/share/perl5/Mojo/Base.pm"),
            file("My::App", "/srv/app/lib/My/App.pm"),
        ],
        ..HookObservation::default()
    });
    let observed = observed(&observations, &inventory);
    assert_eq!(observed.stdlib_modules, ["strict"]);
    let mojo = &observed.distributions[0];
    assert_eq!(mojo.purl, "pkg:cpan/Mojolicious@9.31");
    assert_eq!(mojo.ecosystem, Ecosystem::Cpan);
    assert_eq!(mojo.modules[0].name, "Mojo::Base");
    assert_eq!(mojo.modules[0].pids, [7, 9]);
    assert_eq!(observed.unowned_modules.len(), 1);
    assert_eq!(observed.unowned_modules[0].name, "My::App");
    assert_eq!(observed.interpreter.language, Language::Perl);
    assert_eq!(observed.interpreter.prefix, PathBuf::from("/usr"));
    assert_eq!(observed.processes.len(), 2);
}
