//! `runbom run` end to end: the program runs as it would bare (stdout, exit status, signals), and
//! the runtime report holds what each of its processes really loaded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

mod common;

fn runbom() -> Command {
    let mut cmd = Command::cargo_bin("runbom").expect("runbom binary");
    cmd.env_remove("RUNBOM_APP")
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("RUNBOM_DISABLE");
    cmd
}

fn run_with_report(dir: &Path, args: &[&str]) -> (Output, Value) {
    run_with_report_in(dir, None, args)
}

/// [`run_with_report`] with `site` on `PYTHONPATH` (a site dir holding test distributions).
fn run_with_report_in(dir: &Path, site: Option<&Path>, args: &[&str]) -> (Output, Value) {
    let report = dir.join("r.json");
    let mut cmd = runbom();
    if let Some(site) = site {
        cmd.env("PYTHONPATH", site);
    }
    let out = cmd
        .current_dir(dir)
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .args(args)
        .output()
        .expect("runbom run");
    let json = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    (out, json)
}

fn module_names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn passes_stdout_and_a_failing_exit_status_through() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (out, report) = run_with_report(
        tmp.path(),
        &[
            "python3",
            "-c",
            "import sys, json; print('hello'); sys.stderr.write('err\\n'); sys.exit(3)",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("err\n"));
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["complete"], true);
    let stdlib: Vec<&str> = report["stdlib_modules"]
        .as_array()
        .expect("stdlib_modules")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(stdlib.contains(&"json"), "{stdlib:?}");
}

#[test]
fn a_signal_death_exits_like_a_shell() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (out, _) = run_with_report(
        tmp.path(),
        &[
            "python3",
            "-c",
            "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
        ],
    );
    assert_eq!(out.status.code(), Some(128 + 15));
}

#[test]
fn a_command_that_cannot_start_gives_127() {
    let out = runbom()
        .args(["run", "--", "/nonexistent/runbom-test-cmd"])
        .output()
        .expect("runbom run");
    assert_eq!(out.status.code(), Some(127));
}

#[test]
fn an_unwritable_session_does_not_change_the_program() {
    // The hook cannot write its observation (the session dir is a file): output and status stay.
    let tmp = tempfile::tempdir().expect("tempdir");
    let hook_dir = tmp.path().join("hook");
    std::fs::create_dir_all(&hook_dir).expect("mkdir");
    std::fs::write(hook_dir.join("sitecustomize.py"), runbom_hook_source()).expect("write hook");
    let not_a_dir = tmp.path().join("file");
    std::fs::write(&not_a_dir, "").expect("write");
    let program = "import json, sys; print(json.dumps([1, 2])); sys.exit(5)";
    let bare = Command::new("python3")
        .args(["-c", program])
        .output()
        .expect("python3");
    let hooked = Command::new("python3")
        .args(["-c", program])
        .env("PYTHONPATH", &hook_dir)
        .env("RUNBOM_SESSION_DIR", &not_a_dir)
        .output()
        .expect("python3");
    assert_eq!(hooked.status.code(), Some(5));
    assert_eq!(hooked.stdout, bare.stdout);
    assert_eq!(hooked.stderr, bare.stderr);
}

fn runbom_hook_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../runbom-ecosystems/src/python/hook/sitecustomize.py");
    std::fs::read_to_string(path).expect("hook source")
}

fn distribution<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .find(|d| d["normalized_name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report"))
}

#[test]
fn reports_pyyaml_loaded_and_every_other_distribution_not() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(python) = common::venv_with(tmp.path(), "PyYAML==6.0.2") else {
        return;
    };
    let python = python.to_str().expect("utf-8 path");
    let (out, report) = run_with_report(tmp.path(), &[python, "-c", "import yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report["schema"], "runbom.runtime-report/v2");
    let yaml = distribution(&report, "pyyaml");
    assert_eq!(yaml["version"], "6.0.2");
    let modules = module_names(&yaml["modules"]);
    for expected in ["yaml", "yaml.constructor", "yaml.loader"] {
        assert!(modules.contains(&expected.to_owned()), "{modules:?}");
    }
    assert!(
        yaml["modules"]
            .as_array()
            .expect("modules")
            .iter()
            .filter(|m| m["file"].is_string()) // not the modules its Cython extension made
            .all(|m| m["integrity"]["status"] == "verified"),
        "{yaml:#}"
    );
    let loaded: Vec<&str> = report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .filter(|d| !d["modules"].as_array().expect("modules").is_empty())
        .filter_map(|d| d["normalized_name"].as_str())
        .collect();
    // setuptools' `distutils-precedence.pth` imports `_distutils_hack` at every start: really
    // loaded, and nothing else of it.
    assert_eq!(loaded, ["pyyaml", "setuptools"]);
    assert_eq!(
        module_names(&distribution(&report, "setuptools")["modules"]),
        ["_distutils_hack"]
    );
    assert!(
        distribution(&report, "pip")["modules"]
            .as_array()
            .expect("modules")
            .is_empty()
    );
    assert_eq!(report["processes"].as_array().expect("processes").len(), 1);
}

/// `tinypkg` 1.0 in `site`: one module per kind of child process.
fn tiny_distribution(site: &Path) {
    common::write_distribution(
        site,
        "tinypkg",
        "1.0",
        &[
            ("tinypkg/__init__.py", ""),
            ("tinypkg/spawned.py", "VALUE = 'spawn'\n"),
            ("tinypkg/forked.py", "VALUE = 'fork'\n"),
            ("tinypkg/subproc.py", "VALUE = 'subprocess'\n"),
            ("tinypkg/__main__.py", "import tinypkg.as_main\n"),
            ("tinypkg/as_main.py", "VALUE = 'python -m'\n"),
        ],
    );
}

const CHILDREN_PROGRAM: &str = r#"
import multiprocessing, os, subprocess, sys

def spawned_child():
    import tinypkg.spawned

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=spawned_child)
    p.start(); p.join()
    assert p.exitcode == 0, p.exitcode
    pid = os.fork()
    if pid == 0:
        import tinypkg.forked
        os._exit(0)
    os.waitpid(pid, 0)
    subprocess.run([sys.executable, "-c", "import tinypkg.subproc"], check=True)
    subprocess.run([sys.executable, "-m", "tinypkg"], check=True)
    print("parent done")
"#;

#[test]
fn child_processes_are_reported_as_their_own_processes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = tmp.path().join("site");
    tiny_distribution(&site);
    std::fs::write(tmp.path().join("parent.py"), CHILDREN_PROGRAM).expect("program");
    let (out, report) = run_with_report_in(tmp.path(), Some(&site), &["python3", "parent.py"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "parent done\n");

    let processes = report["processes"].as_array().expect("processes");
    // The parent, the spawn child (plus its resource tracker, when one starts), the fork, and
    // two subprocesses.
    assert!(processes.len() >= 5, "{processes:#?}");
    let parent = processes
        .iter()
        .find(|p| {
            p["argv"][0]
                .as_str()
                .is_some_and(|a| a.ends_with("parent.py"))
        })
        .expect("the parent process");
    let parent_pid = &parent["pid"];
    assert!(
        processes
            .iter()
            .filter(|p| p["pid"] != *parent_pid)
            .all(|p| p["parent_pid"] == *parent_pid),
        "every child names the parent: {processes:#?}"
    );

    let tiny = distribution(&report, "tinypkg");
    assert_eq!(tiny["version"], "1.0");
    let loaded = module_names(&tiny["modules"]);
    for module in [
        "tinypkg",
        "tinypkg.spawned",
        "tinypkg.forked",
        "tinypkg.subproc",
        "tinypkg.__main__",
        "tinypkg.as_main",
    ] {
        assert!(loaded.contains(&module.to_owned()), "{module}: {loaded:?}");
    }
    let pids_of = |module: &str| -> Vec<Value> {
        tiny["modules"]
            .as_array()
            .expect("modules")
            .iter()
            .find(|m| m["name"] == module)
            .map(|m| m["pids"].as_array().expect("pids").clone())
            .unwrap_or_default()
    };
    for module in ["tinypkg.spawned", "tinypkg.forked", "tinypkg.subproc"] {
        let pids = pids_of(module);
        assert_eq!(pids.len(), 1, "{module} is loaded in one child only");
        assert_ne!(pids[0], *parent_pid, "{module} is not the parent's");
    }
    assert!(
        tiny["modules"]
            .as_array()
            .expect("modules")
            .iter()
            .all(|m| m["integrity"]["status"] == "verified"),
        "{tiny:#}"
    );
    assert_eq!(report["hook_errors"], 0);
}

const IMPORT_PATHS_PROGRAM: &str = r#"
import importlib, sys, zipfile
with zipfile.ZipFile("zipped.zip", "w") as z:
    z.writestr("zipped_mod.py", "VALUE = 1\n")
sys.path.insert(0, "zipped.zip")
sys.path.append("late")
import zipped_mod
import late_mod
importlib.import_module("tinypkg.spawned")
import _decimal, _ctypes
assert zipped_mod.VALUE == 1 and late_mod.VALUE == 2
"#;

#[test]
fn sees_imports_through_sys_path_edits_importlib_zipimport_and_c_extensions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = tmp.path().join("site");
    tiny_distribution(&site);
    std::fs::create_dir_all(tmp.path().join("late")).expect("late dir");
    std::fs::write(tmp.path().join("late/late_mod.py"), "VALUE = 2\n").expect("late_mod");
    std::fs::write(tmp.path().join("prog.py"), IMPORT_PATHS_PROGRAM).expect("program");
    let (out, report) = run_with_report_in(tmp.path(), Some(&site), &["python3", "prog.py"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tiny = module_names(&distribution(&report, "tinypkg")["modules"]);
    assert!(tiny.contains(&"tinypkg.spawned".to_owned()), "{tiny:?}");
    let unowned = module_names(&report["unowned_modules"]);
    for module in ["zipped_mod", "late_mod"] {
        assert!(
            unowned.contains(&module.to_owned()),
            "{module}: {unowned:?}"
        );
    }
    let stdlib: Vec<&str> = report["stdlib_modules"]
        .as_array()
        .expect("stdlib_modules")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for module in ["_decimal", "_ctypes", "zipimport", "importlib"] {
        assert!(stdlib.contains(&module), "{module}: {stdlib:?}");
    }
    assert_eq!(report["hook_errors"], 0);
}

/// Waits (bounded) for the installed hook's detached `runbom hook flush` to write a complete
/// report into `dir`.
fn complete_report_in(dir: &Path) -> Option<Value> {
    for _ in 0..200 {
        let reports = std::fs::read_dir(dir).into_iter().flatten().flatten();
        for entry in reports {
            if entry.path().extension().is_some_and(|e| e == "json") {
                let report: Value = std::fs::read(entry.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or(Value::Null);
                if report["complete"] == true {
                    return Some(report);
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    None
}

#[test]
fn the_installed_hook_reports_a_program_started_without_runbom() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let venv = tmp.path().join("venv");
    let status = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .expect("python3 -m venv");
    assert!(status.success());
    let python = venv.join("bin/python");
    let site_packages = Command::new(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .expect("site-packages");
    let site_packages = PathBuf::from(String::from_utf8_lossy(&site_packages.stdout).trim());
    tiny_distribution(&site_packages);
    let reports = tmp.path().join("reports");
    let install = runbom()
        .args(["hook", "install", "--app", "svc", "--venv"])
        .arg(&venv)
        .arg("--report-dir")
        .arg(&reports)
        .output()
        .expect("hook install");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );

    let program = Command::new(&python)
        .args(["-c", "import tinypkg.forked; print('ok')"])
        .env_remove("PYTHONPATH")
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("RUNBOM_RUN")
        .output()
        .expect("python");
    assert_eq!(String::from_utf8_lossy(&program.stdout), "ok\n");
    assert!(program.status.success());
    let report = complete_report_in(&reports).expect("a complete report from the installed hook");
    assert_eq!(report["app"], "svc");
    let tiny = module_names(&distribution(&report, "tinypkg")["modules"]);
    assert!(tiny.contains(&"tinypkg.forked".to_owned()), "{tiny:?}");

    let uninstall = runbom()
        .args(["hook", "uninstall", "--venv"])
        .arg(&venv)
        .output()
        .expect("hook uninstall");
    assert!(uninstall.status.success());
    let leftovers: Vec<_> = std::fs::read_dir(&site_packages)
        .expect("site-packages")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("runbom"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_unknown_option_before_the_command_is_a_usage_error() {
    let out = runbom()
        .args(["run", "--bogus", "--", "python3", "-c", "print(1)"])
        .output()
        .expect("runbom run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "the command must not run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unexpected argument '--bogus'"), "{stderr}");
}

#[test]
fn options_after_the_command_belong_to_the_command() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = runbom()
        .current_dir(tmp.path())
        .args([
            "run",
            "python3",
            "-c",
            "import sys; print(sys.argv[1:])",
            "-x",
            "--y",
        ])
        .output()
        .expect("runbom run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "['-x', '--y']\n");
}
