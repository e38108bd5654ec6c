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
    let report = dir.join("r.json");
    let out = runbom()
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
    assert_eq!(report["schema"], "runbom.runtime-report/v1");
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
