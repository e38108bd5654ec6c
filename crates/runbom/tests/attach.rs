//! `runbom attach` on real live processes started without any hook: every CPython 3.8–3.13 that
//! pyenv holds, in a venv with requests, six and attrs from PyPI, its module table equal to the
//! process's own `sys.modules` dump (taken after the attach), the process never stopped and
//! exiting normally; a Go test binary and a real third-party one (esbuild from npm, serving);
//! and the faults: a PID that is gone, a kernel thread, a process of no language runbom reads,
//! one of another user, a "Python" without symbols.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

/// Imports a known set of third-party packages, then counts in `DIR/counter` until `DIR/stop`
/// exists; on SIGUSR1 it writes its own `sys.modules` (`name`, `__file__`) to `DIR/modules.json`.
/// Everything the dump needs is imported before `DIR/ready` is written.
const TARGET: &str = r#"
import json, os, signal, sys, time, types
import attr, requests, six

out = sys.argv[1]

def dump(*_):
    modules = []
    for name, module in sorted(sys.modules.copy().items()):
        file = None
        if isinstance(module, types.ModuleType):
            file = module.__dict__.get("__file__")
            if not isinstance(file, str):
                file = None
        modules.append([name, file])
    with open(os.path.join(out, "modules.tmp"), "w") as f:
        json.dump(modules, f)
    os.rename(os.path.join(out, "modules.tmp"), os.path.join(out, "modules.json"))

signal.signal(signal.SIGUSR1, dump)
open(os.path.join(out, "ready"), "w").close()
count = 0
while not os.path.exists(os.path.join(out, "stop")):
    count += 1
    with open(os.path.join(out, "counter"), "w") as f:
        f.write(str(count))
    time.sleep(0.002)
"#;

const REQUIREMENTS: &[&str] = &["requests==2.32.3", "six==1.16.0", "attrs==24.2.0"];

fn wait_for(path: &Path, what: &str) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what}: `{}` never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn counter(dir: &Path) -> u64 {
    // The program rewrites the file in place: a read may see it empty.
    (0..100)
        .find_map(|_| {
            let text = std::fs::read_to_string(dir.join("counter")).ok()?;
            text.trim().parse().ok().or_else(|| {
                std::thread::sleep(Duration::from_millis(1));
                None
            })
        })
        .unwrap_or(0)
}

fn attach(pid: u32, report: &Path) -> Value {
    let out = common::runbom()
        .arg("attach")
        .arg(pid.to_string())
        .arg("--report")
        .arg(report)
        .output()
        .expect("runbom attach");
    assert!(
        out.status.success(),
        "attach {pid}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(report).expect("report")).expect("report JSON")
}

/// Every `(name, file)` the report names: distributions' and unowned modules with their files,
/// standard-library ones by name. Mapped shared objects named by path are left out.
fn reported_modules(report: &Value) -> (BTreeMap<String, Option<String>>, BTreeSet<String>) {
    let mut with_files = BTreeMap::new();
    let modules = report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["modules"].as_array().unwrap().iter())
        .chain(report["unowned_modules"].as_array().unwrap());
    for module in modules {
        let name = module["name"].as_str().unwrap().to_owned();
        if name.contains('/') {
            continue;
        }
        with_files.insert(name, module["file"].as_str().map(str::to_owned));
    }
    let stdlib = report["stdlib_modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    (with_files, stdlib)
}

#[test]
fn every_cpython_module_table_equals_the_process_own_dump() {
    let mut read = Vec::new();
    for version in ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"] {
        let Some(python) = common::pyenv_python(version) else {
            eprintln!("skipped: pyenv holds no CPython {version}");
            continue;
        };
        let name = format!("attach-{version}");
        let Some(venv) = common::cached_venv(&name, python.to_str().unwrap(), REQUIREMENTS) else {
            continue;
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let script = dir.join("target.py");
        std::fs::write(&script, TARGET).unwrap();
        let mut child = Command::new(venv.join("bin/python"))
            .arg(&script)
            .arg(dir)
            .env_remove("PYTHONPATH")
            .env_remove("RUNBOM_SESSION_DIR")
            .current_dir(dir)
            .spawn()
            .unwrap();
        wait_for(&dir.join("ready"), version);
        let before = counter(dir);
        let report = attach(child.id(), &dir.join("report.json"));
        let after = counter(dir);
        rustix::process::kill_process(
            rustix::process::Pid::from_child(&child),
            rustix::process::Signal::USR1,
        )
        .unwrap();
        wait_for(&dir.join("modules.json"), version);
        std::fs::write(dir.join("stop"), "").unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{version}: the program ended {status}");
        assert!(
            after > before,
            "{version}: the counter stood still during the read ({before} -> {after})"
        );

        let dump: Vec<(String, Option<String>)> =
            serde_json::from_slice(&std::fs::read(dir.join("modules.json")).unwrap()).unwrap();
        let (with_files, stdlib) = reported_modules(&report);
        let dumped: BTreeSet<&str> = dump.iter().map(|(n, _)| n.as_str()).collect();
        let reported: BTreeSet<&str> = with_files
            .keys()
            .map(String::as_str)
            .chain(stdlib.iter().map(String::as_str))
            .collect();
        assert_eq!(reported, dumped, "{version}: module names");
        for (name, file) in &dump {
            if let Some(reported) = with_files.get(name) {
                assert_eq!(reported, file, "{version}: `__file__` of `{name}`");
            }
        }
        let loaded: BTreeSet<&str> = report["distributions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| !d["modules"].as_array().unwrap().is_empty())
            .map(|d| d["normalized_name"].as_str().unwrap())
            .collect();
        for dist in ["requests", "six", "attrs", "urllib3", "idna", "certifi"] {
            assert!(
                loaded.contains(dist),
                "{version}: {dist} not loaded: {loaded:?}"
            );
        }
        assert_eq!(report["interpreter"]["language"], "python");
        assert!(
            report["interpreter"]["version"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{version}.")),
            "{version}: {}",
            report["interpreter"]
        );
        assert_eq!(report["attached"]["by"], "attach");
        assert_eq!(report["attached"]["cwd"], dir.to_str().unwrap());
        assert!(
            report["attached"]["notes"].is_null(),
            "{version}: {}",
            report["attached"]["notes"]
        );
        read.push(version);
    }
    eprintln!("module tables read and checked: {read:?}");
}

/// A process that runs until its stdin closes.
fn waiting(command: &mut Command) -> Child {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn")
}

fn wait_until_running(child: &Child, file_name: &str) {
    let started = Instant::now();
    let exe = PathBuf::from(format!("/proc/{}/exe", child.id()));
    while std::fs::read_link(&exe)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .is_none_or(|n| n != file_name)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{file_name} never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn component_versions(report: &Value) -> BTreeMap<String, String> {
    report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_live_go_binary_gives_its_build_information() {
    let Some(binary) = common::go::binary("wait", common::go::Variant::Plain) else {
        return;
    };
    let mut child = waiting(&mut Command::new(&binary));
    wait_until_running(&child, binary.file_name().unwrap().to_str().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let report = attach(child.id(), &tmp.path().join("go.json"));
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert_eq!(report["interpreter"]["language"], "go");
    assert_eq!(
        report["interpreter"]["executable"],
        binary.to_str().unwrap()
    );
    let versions = component_versions(&report);
    assert_eq!(versions["golang.org/x/net"], "v0.7.0");
    assert_eq!(versions["example.com/wait"], "(devel)");
    assert!(versions.contains_key("stdlib"));
    assert_eq!(report["processes"][0]["pid"], child.id());
}

#[test]
fn the_summary_of_a_live_go_process() {
    let Some(binary) = common::go::binary("wait", common::go::Variant::Plain) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut child = waiting(Command::new(&binary).current_dir(tmp.path()));
    wait_until_running(&child, binary.file_name().unwrap().to_str().unwrap());
    let out = common::runbom()
        .arg("attach")
        .arg(child.id().to_string())
        .output()
        .unwrap();
    drop(child.stdin.take());
    child.wait().unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&child.id().to_string(), "[PID]")
        .replace(binary.parent().unwrap().to_str().unwrap(), "[BIN]")
        .replace(tmp.path().to_str().unwrap(), "[CWD]");
    insta::assert_snapshot!("go_summary", text);
}

/// esbuild `version`, serving a directory until its standard input closes, and its report.
fn attach_serving_esbuild(version: &str) -> Option<Value> {
    let esbuild = common::go::esbuild(version)?;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("index.html"), "<p>hi</p>").unwrap();
    let mut child = waiting(
        Command::new(&esbuild)
            .args(["--serve=127.0.0.1:0", "--servedir=."])
            .current_dir(tmp.path())
            .stderr(Stdio::null()),
    );
    wait_until_running(&child, "esbuild");
    // Serving: it listens before it is read.
    let started = Instant::now();
    while !std::fs::read_to_string(format!("/proc/{}/net/tcp", child.id())).is_ok_and(|t| {
        t.lines()
            .skip(1)
            .any(|l| l.split_whitespace().nth(3) == Some("0A"))
    }) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "esbuild never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = attach(child.id(), &tmp.path().join("esbuild.json"));
    drop(child.stdin.take());
    child.wait().unwrap();
    Some(report)
}

#[test]
fn esbuild_serving_gives_its_build_information() {
    let Some(report) = attach_serving_esbuild("0.20.2") else {
        return;
    };
    assert_eq!(report["interpreter"]["language"], "go");
    let versions = component_versions(&report);
    assert_eq!(versions["github.com/evanw/esbuild"], "(devel)");
    assert_eq!(
        versions["golang.org/x/sys"],
        "v0.0.0-20220715151400-c0bba94af5f8"
    );
    assert_eq!(versions["stdlib"], "go1.20.12");
    assert_eq!(report["interpreter"]["version"], "go1.20.12");
    assert_eq!(report["interpreter"]["build"]["CGO_ENABLED"], "0");
}

/// esbuild 0.28.2's release binary has no build information blob (`go version -m` cannot read
/// it); attached, its modules are recovered from the runtime's copy of the module text.
#[test]
fn a_go_binary_without_a_buildinfo_blob_is_read_from_its_module_text() {
    let Some(report) = attach_serving_esbuild("0.28.2") else {
        return;
    };
    assert_eq!(report["interpreter"]["language"], "go");
    assert_eq!(report["interpreter"]["version"], "go1.26.5");
    let modules: Vec<(&str, &str)> = report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["version"].as_str().unwrap()))
        .collect();
    assert_eq!(
        modules,
        [
            ("github.com/evanw/esbuild", "(devel)"),
            ("golang.org/x/sys", "v0.0.0-20220715151400-c0bba94af5f8"),
            ("stdlib", "go1.26.5"),
        ]
    );
}

fn attach_fails(pid: u32) -> String {
    let out = common::runbom()
        .arg("attach")
        .arg(pid.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "attach {pid}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_gone_process_a_kernel_thread_and_a_foreign_program_are_each_said_plainly() {
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let stderr = attach_fails(pid);
    assert!(stderr.contains(&format!("no process {pid}")), "{stderr}");

    if std::fs::read_to_string("/proc/2/status").is_ok_and(|s| s.contains("kthreadd")) {
        let stderr = attach_fails(2);
        assert!(stderr.contains("kernel thread"), "{stderr}");
    }

    let mut sleep = waiting(&mut Command::new("cat"));
    wait_until_running(&sleep, "cat");
    let stderr = attach_fails(sleep.id());
    drop(sleep.stdin.take());
    sleep.wait().unwrap();
    assert!(
        stderr.contains("which is no program of a language runbom reads"),
        "{stderr}"
    );
}

#[test]
fn a_python_without_symbols_is_reported_from_its_maps_with_the_reason() {
    // `cat` named `python3.11`: an interpreter by name whose `_PyRuntime` cannot be found.
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("python3.11");
    std::fs::copy("/bin/cat", &fake).unwrap();
    let mut child = waiting(&mut Command::new(&fake));
    wait_until_running(&child, "python3.11");
    let report = attach(child.id(), &tmp.path().join("fake.json"));
    drop(child.stdin.take());
    child.wait().unwrap();
    assert_eq!(report["interpreter"]["language"], "python");
    assert_eq!(report["distributions"], serde_json::json!([]));
    let notes = report["attached"]["notes"].to_string();
    assert!(
        notes.contains("the module table was not read")
            && notes.contains("has no `_PyRuntime` symbol (a stripped interpreter)"),
        "{notes}"
    );
}

#[test]
fn a_process_of_another_user_is_refused_with_the_privilege_it_needs() {
    use std::os::unix::process::CommandExt;
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to run runbom as another user");
        return;
    }
    let Some(python) = common::pyenv_python("3.11") else {
        eprintln!("skipped: pyenv holds no CPython 3.11");
        return;
    };
    let mut target = waiting(Command::new(&python).args(["-c", "import sys; sys.stdin.read()"]));
    wait_until_running(&target, "python3.11");
    let out = Command::new(assert_cmd::cargo::cargo_bin("runbom"))
        .arg("attach")
        .arg(target.id().to_string())
        .uid(65534)
        .gid(65534)
        .env("HOME", "/nonexistent")
        .output();
    drop(target.stdin.take());
    assert!(target.wait().unwrap().success());
    let out = match out {
        Ok(out) => out,
        Err(err) => {
            eprintln!("skipped: the runbom binary cannot be run by `nobody`: {err}");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not permitted to read process") && stderr.contains("CAP_SYS_PTRACE"),
        "{stderr}"
    );
}
