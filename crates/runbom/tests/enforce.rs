//! Enforcement at import time, end to end on real programs from PyPI (issue 18): black, pytest
//! and a Flask app under gunicorn with 2 workers, each run bare and under `runbom run --enforce`
//! of its own `pip freeze`, print the same and exit the same. Then an extra package imported, one
//! byte changed in a listed package's file and a banned package are each refused with a message
//! naming module, distribution, rule and runbom.toml line, and are in the report; monitor mode
//! lets each through as "would refuse". Bad tables (truncated, malformed, another user's, another
//! interpreter's) get the fail policy and never a traceback in the program. The venvs are built
//! once from PyPI and cached under the target directory; without PyPI the tests are skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

mod common;

const REQUIREMENTS: &[&str] = &[
    "black==24.10.0",
    "pytest==8.3.3",
    "gunicorn==23.0.0",
    "flask==3.0.3",
    "six==1.16.0",
    "PyYAML==6.0.2",
    "idna==3.10",
];

/// The venv (shared by the tests of this file, which only read it, but for `six.py`, which only
/// the tampering test imports) and a work directory holding the programs' inputs.
struct Fixture {
    venv: PathBuf,
    work: tempfile::TempDir,
}

fn fixture() -> Option<Fixture> {
    let venv = common::cached_venv("enforce", "python3", REQUIREMENTS)?;
    let work = tempfile::tempdir().expect("work dir");
    for (path, text) in [
        ("mod.py", "def double(x: int) -> int:\n    return x * 2\n"),
        (
            "test_mod.py",
            "from mod import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
        ),
        (
            "flask_app.py",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'hello from flask'\n",
        ),
        // gunicorn's script is in the venv's bin; the app is found in the working directory.
        ("runbom.toml", "[enforce]\nfirst-party = [\".\"]\n"),
    ] {
        std::fs::write(work.path().join(path), text).expect("input");
    }
    Some(Fixture { venv, work })
}

impl Fixture {
    fn bin(&self, script: &str) -> String {
        self.venv.join("bin").join(script).display().to_string()
    }

    /// `pip freeze` of the venv without the named distributions, as a file.
    fn freeze(&self, without: &[&str]) -> PathBuf {
        let out = Command::new(self.bin("python"))
            .args(["-m", "pip", "freeze", "--disable-pip-version-check"])
            .env("RUNBOM_DISABLE", "1")
            .output()
            .expect("pip freeze");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text: String = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| {
                !without
                    .iter()
                    .any(|w| l.to_lowercase().starts_with(&format!("{w}==")))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let path = self
            .work
            .path()
            .join(format!("requirements-{}.txt", without.join("-")));
        std::fs::write(&path, text).expect("requirements");
        path
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        self.env(&mut cmd);
        cmd
    }

    fn env(&self, cmd: &mut Command) {
        cmd.current_dir(self.work.path())
            .env("HOME", self.work.path())
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.venv.join("bin").display()),
            )
            .env("RUNBOM_CACHE_DIR", self.work.path().join("cache"))
            .env_remove("RUNBOM_SESSION_DIR")
            .env_remove("RUNBOM_RUN")
            .env_remove("RUNBOM_DISABLE")
            .env_remove("RUNBOM_ENFORCE")
            .env_remove("PYTHONPATH")
            .stdin(Stdio::null());
    }

    /// `runbom run --report R --enforce EXPECTED EXTRA… -- ARGV…`.
    fn enforced(&self, expected: &Path, report: &Path, extra: &[&str], argv: &[String]) -> Command {
        let mut cmd = Command::cargo_bin("runbom").expect("runbom binary");
        cmd.args(["run", "--report"])
            .arg(report)
            .arg("--enforce")
            .arg(expected)
            .args(extra)
            .arg("--")
            .args(argv);
        self.env(&mut cmd);
        cmd
    }
}

fn read_json(path: &Path) -> Value {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts gunicorn with 2 workers, gets `/`, stops it with SIGTERM: (status, body).
fn gunicorn(mut cmd: Command, port: u16) -> (Option<i32>, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gunicorn");
    let body = common::get_when_up(port, &mut child);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break common::shell_status(status);
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, body)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[test]
fn real_programs_behave_as_bare_when_enforced_against_their_own_pins() {
    let Some(f) = fixture() else { return };
    let expected = f.freeze(&[]);
    for argv in [
        vec![f.bin("black"), "--check".into(), "mod.py".into()],
        vec![
            f.bin("pytest"),
            "-q".into(),
            "-p".into(),
            "no:cacheprovider".into(),
            "test_mod.py".into(),
        ],
    ] {
        let bare = f.command(&argv[0]).args(&argv[1..]).output().expect("bare");
        let report = f.work.path().join("report.json");
        let run = f
            .enforced(&expected, &report, &[], &argv)
            .output()
            .expect("enforced");
        assert_eq!(
            run.status.code(),
            bare.status.code(),
            "{argv:?}: {}",
            stderr(&run)
        );
        assert_eq!(
            common::normalise(&String::from_utf8_lossy(&run.stdout)),
            common::normalise(&String::from_utf8_lossy(&bare.stdout)),
            "{argv:?}"
        );
        let report = read_json(&report);
        assert_eq!(
            report["refusals"],
            Value::Null,
            "{argv:?}: nothing refused: {report:#}"
        );
        let states = report["enforcement"]
            .as_array()
            .expect("enforcement states");
        assert!(
            !states.is_empty()
                && states
                    .iter()
                    .all(|s| s["state"] == "active" && s["mode"] == "enforce"),
            "{states:?}"
        );
    }
    let port = free_port();
    let argv = vec![
        f.bin("gunicorn"),
        "-w".into(),
        "2".into(),
        "-b".into(),
        format!("127.0.0.1:{port}"),
        "flask_app:app".into(),
    ];
    let bare = gunicorn(
        {
            let mut c = f.command(&argv[0]);
            c.args(&argv[1..]);
            c
        },
        port,
    );
    let report_path = f.work.path().join("gunicorn.json");
    let port = free_port();
    let mut argv = argv;
    argv[4] = format!("127.0.0.1:{port}");
    let run = gunicorn(f.enforced(&expected, &report_path, &[], &argv), port);
    assert_eq!(bare, (Some(0), "hello from flask".to_owned()));
    assert_eq!(run, bare);
    let report = read_json(&report_path);
    assert_eq!(report["refusals"], Value::Null, "{report:#}");
    let states = report["enforcement"]
        .as_array()
        .expect("enforcement states");
    assert!(
        states.len() >= 3,
        "the arbiter and its 2 workers: {states:?}"
    );
}

/// A program importing `module`, under enforcement of `expected` (with `extra` options).
fn import_enforced(f: &Fixture, expected: &Path, module: &str, extra: &[&str]) -> (Output, Value) {
    let report = f
        .work
        .path()
        .join(format!("{module}-{}.json", extra.join("")));
    let argv = vec![
        f.bin("python"),
        "-c".into(),
        format!("import {module}; print('imported')"),
    ];
    let out = f
        .enforced(expected, &report, extra, &argv)
        .output()
        .expect("run");
    (out, read_json(&report))
}

/// Module, expected inventory, extra options, owner, rule, why, config place.
type Case<'a> = (
    &'a str,
    &'a Path,
    Vec<&'a str>,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

/// What is done to a table, how, and what the hook must say of it.
type Damage<'a> = (&'a str, Box<dyn Fn() + 'a>, &'a str);

/// Puts one file's bytes back when dropped.
struct Restore(PathBuf, Vec<u8>);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, &self.1);
    }
}

#[test]
fn an_extra_package_a_changed_file_and_a_banned_package_are_refused_or_in_monitor_reported() {
    let Some(f) = fixture() else { return };
    let without_idna = f.freeze(&["idna"]);
    let all = f.freeze(&[]);
    let six = f
        .venv
        .join("lib")
        .read_dir()
        .expect("lib")
        .flatten()
        .next()
        .expect("python dir")
        .path()
        .join("site-packages/six.py");
    let original = std::fs::read(&six).expect("six.py");
    let _restore = Restore(six.clone(), original.clone());
    let mut changed = original.clone();
    let at = changed.iter().position(|b| *b == b'#').expect("a comment");
    changed[at + 1] = b'!';
    std::fs::write(&six, &changed).expect("change six.py");
    let banned = f.work.path().join("banned.toml");
    std::fs::write(
        &banned,
        "[bans]\ndeny = [{ name = \"PyYAML\", reason = \"unsafe load\" }]\n[enforce]\nfirst-party = [\".\"]\n",
    )
    .expect("config");
    let banned = banned.display().to_string();
    let cases: [Case<'_>; 3] = [
        (
            "idna",
            &without_idna,
            vec![],
            "idna 3.10",
            "listed",
            "not in the expected inventory",
            "on by default",
        ),
        (
            "six",
            &all,
            vec![],
            "six 1.16.0",
            "integrity",
            "its content differs from RECORD",
            "on by default",
        ),
        (
            "yaml",
            &all,
            vec!["--config", &banned],
            "PyYAML 6.0.2",
            "bans",
            "banned (every version): unsafe load",
            "banned.toml:2",
        ),
    ];
    for (module, expected, extra, owner, rule, why, place) in cases {
        let (out, report) = import_enforced(&f, expected, module, &extra);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{module}: {err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("imported"));
        let message = format!("ImportError: runbom: refused import of `{module}` ({owner}, ");
        assert!(err.contains(&message), "{module}: {err}");
        assert!(err.contains(why), "{module}: {err}");
        assert!(
            err.contains(&format!("[rule `{rule}`, ")) && err.contains(&format!("{place}]")),
            "{module}: {err}"
        );
        let refusal = &report["refusals"][0];
        assert_eq!(refusal["module"], module, "{report:#}");
        assert_eq!(refusal["rule"], rule);
        assert_eq!(refusal["enforced"], true);
        assert_eq!(refusal["importer"], "__main__");
        assert_eq!(
            format!(
                "{} {}",
                refusal["distribution"].as_str().unwrap(),
                refusal["version"].as_str().unwrap()
            ),
            owner
        );

        let mut monitor = extra.clone();
        monitor.extend(["--mode", "monitor"]);
        let (out, report) = import_enforced(&f, expected, module, &monitor);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{module} in monitor mode: {}",
            stderr(&out)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("imported"));
        assert!(stderr(&out).contains("would refuse: "), "{}", stderr(&out));
        let refusal = &report["refusals"][0];
        assert_eq!(
            (refusal["module"].as_str(), refusal["enforced"].as_bool()),
            (Some(module), Some(false))
        );
        assert_eq!(refusal["rule"], rule);
    }
}

#[test]
fn break_glass_turns_enforcement_off_for_one_run_and_says_so() {
    let Some(f) = fixture() else { return };
    let expected = f.freeze(&["idna"]);
    let report = f.work.path().join("glass.json");
    let argv = vec![
        f.bin("python"),
        "-c".into(),
        "import idna; print('imported')".into(),
    ];
    let out = f
        .enforced(&expected, &report, &[], &argv)
        .env("RUNBOM_ENFORCE", "off")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("runbom: enforcement is off for this run (RUNBOM_ENFORCE=off)"));
    let report = read_json(&report);
    assert_eq!(report["enforcement"][0]["state"], "off", "{report:#}");
    assert_eq!(report["refusals"], Value::Null);
}

/// `runbom hook install --enforce` into a venv of its own (this test changes its table).
#[test]
fn a_bad_table_gets_the_fail_policy_and_never_a_traceback() {
    let Some(venv) = common::cached_venv("enforce-installed", "python3", &["six==1.16.0"]) else {
        return;
    };
    let work = tempfile::tempdir().expect("work");
    let python = venv.join("bin/python");
    let freeze = Command::new(&python)
        .args(["-m", "pip", "freeze", "--disable-pip-version-check"])
        .env("RUNBOM_DISABLE", "1")
        .output()
        .expect("freeze");
    let expected = work.path().join("requirements.txt");
    std::fs::write(&expected, &freeze.stdout).expect("requirements");
    let install = |fail: &str| {
        let config = work.path().join(format!("{fail}.toml"));
        std::fs::write(&config, format!("[enforce]\nfail = \"{fail}\"\n")).expect("config");
        let out = common::runbom()
            .args(["hook", "install", "--venv"])
            .arg(&venv)
            .arg("--report-dir")
            .arg(work.path().join("reports"))
            .arg("--enforce")
            .arg(&expected)
            .arg("--config")
            .arg(&config)
            .env("RUNBOM_CACHE_DIR", work.path().join("cache"))
            .output()
            .expect("hook install");
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let table = venv
        .join("lib")
        .read_dir()
        .expect("lib")
        .flatten()
        .next()
        .expect("python dir")
        .path()
        .join("site-packages/_runbom_enforce.tsv");
    let run = || {
        Command::new(&python)
            .args(["-c", "import six; print('ran', six.__version__)"])
            .current_dir(work.path())
            .env_remove("PYTHONPATH")
            .env_remove("RUNBOM_SESSION_DIR")
            .env_remove("RUNBOM_RUN")
            .env_remove("RUNBOM_DISABLE")
            .env("RUNBOM_NO_CACHE", "1")
            .output()
            .expect("python")
    };
    install("open");
    let whole = run();
    assert_eq!(
        String::from_utf8_lossy(&whole.stdout),
        "ran 1.16.0\n",
        "{}",
        stderr(&whole)
    );
    let text = std::fs::read_to_string(&table).expect("table");
    let is_root = rustix::process::getuid().is_root();
    let mut damages: Vec<Damage<'_>> = vec![
        (
            "truncated",
            Box::new(|| std::fs::write(&table, &text[..text.len() / 2]).unwrap()),
            "is truncated",
        ),
        (
            "malformed",
            Box::new(|| std::fs::write(&table, text.replacen("\nmode\t", "\nmood\t", 1)).unwrap()),
            "line 3: unreadable `mood` record",
        ),
        (
            "another interpreter's",
            Box::new(|| {
                let other =
                    text.replacen(&format!("\t{}\n", venv.display()), "\t/opt/other-venv\n", 1);
                std::fs::write(&table, other).unwrap()
            }),
            "is for the interpreter",
        ),
    ];
    if is_root {
        damages.push((
            "another user's",
            Box::new(|| {
                std::fs::write(&table, &text).unwrap();
                let nobody = rustix::process::Uid::from_raw(65534);
                rustix::fs::chown(&table, Some(nobody), None).unwrap();
            }),
            "belongs to user 65534",
        ));
    }
    for fail in ["open", "closed"] {
        for (what, damage, reason) in &damages {
            install(fail);
            damage();
            let out = run();
            let err = stderr(&out);
            assert!(!err.contains("Traceback"), "{what}, fail = {fail}: {err}");
            assert!(err.contains(reason), "{what}, fail = {fail}: {err}");
            if fail == "open" {
                assert_eq!(out.status.code(), Some(0), "{what}: {err}");
                assert_eq!(String::from_utf8_lossy(&out.stdout), "ran 1.16.0\n");
                assert!(
                    err.starts_with("runbom: warning: enforcement is off: "),
                    "{err}"
                );
            } else {
                assert_eq!(out.status.code(), Some(78), "{what}: {err}");
                assert!(out.stdout.is_empty(), "the program did not start");
                assert!(
                    err.starts_with("runbom: error: the program was not started: "),
                    "{err}"
                );
            }
        }
    }
    let out = common::runbom()
        .args(["hook", "uninstall", "--venv"])
        .arg(&venv)
        .output()
        .expect("uninstall");
    assert!(out.status.success());
    assert!(!table.exists());
}

/// Removes a file when dropped.
struct Remove(PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_module_dropped_into_site_packages_is_refused_as_owned_by_nothing() {
    let Some(f) = fixture() else { return };
    let site = f
        .venv
        .join("lib")
        .read_dir()
        .expect("lib")
        .flatten()
        .next()
        .expect("python dir")
        .path()
        .join("site-packages");
    let dropped = site.join("runbom_test_dropped.py");
    std::fs::write(&dropped, "print('dropped code ran')\n").expect("drop a module");
    let _remove = Remove(dropped.clone());
    let (out, report) = import_enforced(&f, &f.freeze(&[]), "runbom_test_dropped", &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("dropped code ran"));
    assert!(
        err.contains("refused import of `runbom_test_dropped` (no distribution, ")
            && err.contains("owned by no installed distribution"),
        "{err}"
    );
    let refusal = &report["refusals"][0];
    assert_eq!(refusal["rule"], "listed", "{report:#}");
    assert_eq!(refusal["distribution"], Value::Null);
    assert_eq!(refusal["file"], dropped.display().to_string());
}
