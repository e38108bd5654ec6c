//! `runbom demo` end to end, as a new user runs it: it builds its environments from PyPI, serves
//! real findings that a headless chromium sees on the dashboard, shows an alert arriving, and on
//! Ctrl-C stops everything and removes its directory. Also its answers to a port in use, no
//! PyPI and an unusable temporary directory.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;

use crate::browser::{browser_available, browser_dir};

/// `runbom demo ARGS` with `TMPDIR` set to `tmp`, stdout piped.
fn demo(tmp: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(cargo_bin("runbom"));
    cmd.arg("demo")
        .args(args)
        .env("TMPDIR", tmp)
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("RUNBOM_DISABLE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_demo_serves_real_findings_alerts_and_cleans_up_on_ctrl_c() {
    if !browser_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut child = demo(tmp.path(), &["--late-advisory-after", "1"])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("alert received:") || line.starts_with("no alert");
        seen.push(line);
        if done {
            break;
        }
    }
    let output = seen.join("\n");
    let url = seen
        .iter()
        .find_map(|l| l.strip_prefix("dashboard: "))
        .unwrap_or_else(|| panic!("no dashboard URL in:\n{output}"))
        .trim_end_matches('/')
        .to_owned();
    assert!(
        output.contains("runs: 2 instances (prod, staging)")
            && output.contains("never loaded: six"),
        "{output}"
    );
    assert!(
        output.contains("vulnerable and loaded: urllib3 1.26.4"),
        "{output}"
    );
    assert!(
        output.contains("drifted: urllib3 runs 1.26.5 but release 1.4.0 expects 1.26.4"),
        "{output}"
    );
    assert!(
        output.contains("alert received: high idna 2.10 PYSEC-2024-60"),
        "{output}"
    );

    let (user, password) = seen
        .iter()
        .find_map(|l| l.strip_prefix("log in as: "))
        .and_then(|l| l.split_once(" / "))
        .unwrap_or_else(|| panic!("no login in:\n{output}"));
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let driver = Command::new("node")
        .arg(browser_dir().join("demo.mjs"))
        .env("RUNBOM_URL", &url)
        .env("RUNBOM_USER", user)
        .env("RUNBOM_PASSWORD", password)
        .env("SCREENSHOT_DIR", &screenshots)
        .output()
        .expect("node");
    assert!(
        driver.status.success() && String::from_utf8_lossy(&driver.stdout).contains("ok"),
        "the browser checks failed:\n{}{}",
        String::from_utf8_lossy(&driver.stdout),
        String::from_utf8_lossy(&driver.stderr)
    );

    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        entries(tmp.path()).is_empty(),
        "the demo left {:?} behind",
        entries(tmp.path())
    );
    let addr = url.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the server still answers after Ctrl-C"
    );
}

#[test]
fn without_pypi_the_demo_runs_on_what_is_installed_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = demo(
        tmp.path(),
        &["--exit-after-alert", "--late-advisory-after", "0"],
    )
    .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    .env("PIP_FIND_LINKS", "")
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("could not build them (pip install -r requirements-prod.txt failed:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("running on what `python3` has installed"),
        "{stderr}"
    );
    assert!(
        stdout.contains("runs: 2 instances (prod, staging)"),
        "{stdout}"
    );
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}

#[test]
fn a_port_in_use_is_named_and_nothing_is_left_running() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let out = demo(tmp.path(), &["--port", &port, "--exit-after-alert"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot serve the dashboard on 127.0.0.1:{port}"))
            && stderr.contains("--port 0"),
        "{stderr}"
    );
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}

#[test]
fn an_unusable_temporary_directory_is_named() {
    let missing = tempfile::tempdir().unwrap().path().join("gone");
    let out = demo(&missing, &["--exit-after-alert"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot create the demo's directory under") && stderr.contains("--dir"),
        "{stderr}"
    );
}
