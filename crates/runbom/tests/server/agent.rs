//! `runbom agent` against a real server: three Python processes of two venvs and one Go
//! process, all started without any hook, appear as instances after two scans; a Python that
//! runbom's hook observes (under `runbom run`) is left to its hook.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::process::{Child, Command, Stdio};

use crate::common;
use crate::harness::Server;

const REQUIREMENTS: &[&str] = &["requests==2.32.3", "six==1.16.0", "attrs==24.2.0"];

fn venv(version: &str) -> Option<std::path::PathBuf> {
    let python = common::pyenv_python(version)?;
    common::cached_venv(
        &format!("attach-{version}"),
        python.to_str().unwrap(),
        REQUIREMENTS,
    )
}

/// A program that runs until its standard input closes, after its first line is on its stdout
/// (returned).
fn waiting(command: &mut Command) -> (Child, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (child, line)
}

#[tokio::test]
async fn the_agent_reports_three_pythons_of_two_venvs_and_a_go_process_as_instances() {
    let (Some(first), Some(second)) = (venv("3.11"), venv("3.12")) else {
        eprintln!("skipped: needs pyenv's CPython 3.11 and 3.12 and PyPI");
        return;
    };
    let Some(go) = common::go::binary("wait", common::go::Variant::Plain) else {
        return;
    };
    let server = Server::start(&[]).await;
    let token = server.token(Some("fleet"));
    let admin = server.token(None);
    let program = "import os, sys, six, requests; print(os.getpid(), flush=True); sys.stdin.read()";
    let mut children: Vec<Child> = [&first, &first, &second]
        .iter()
        .map(|venv| waiting(Command::new(venv.join("bin/python")).args(["-c", program])).0)
        .collect();
    children.push(waiting(&mut Command::new(&go)).0);
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let (hooked, hooked_pid) = waiting(
        Command::new(assert_cmd::cargo::cargo_bin("runbom"))
            .env_remove("RUNBOM_SESSION_DIR")
            .args(["run", "--"])
            .arg(first.join("bin/python"))
            .args(["-c", program]),
    );
    children.push(hooked);
    let hooked_pid: u32 = hooked_pid.trim().parse().unwrap();

    let spool = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("runbom"))
        .args([
            "agent",
            "--interval",
            "1s",
            "--scans",
            "2",
            "--server",
            &server.url,
        ])
        .args(["--token", &token, "--spool"])
        .arg(spool.path())
        .arg("--only")
        .arg(&first)
        .arg("--only")
        .arg(&second)
        .arg("--only")
        .arg(go.parent().unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for child in &mut children {
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
    }

    let (status, fleet) = server
        .get_with("/api/v1/applications/fleet", Some(&admin))
        .await;
    assert_eq!(status, 200, "{fleet}");
    let instances = fleet["instances"].as_array().unwrap();
    let reported: Vec<u32> = instances
        .iter()
        .map(|i| i["pid"].as_u64().unwrap() as u32)
        .collect();
    for pid in &pids {
        assert!(reported.contains(pid), "{pid} not in {fleet}\n{stderr}");
    }
    assert!(!reported.contains(&hooked_pid), "{fleet}");
    assert!(
        stderr.contains(&format!(
            "not reporting process {hooked_pid}: started by `runbom run`"
        )),
        "{stderr}"
    );
    let interpreters: Vec<&str> = instances
        .iter()
        .filter_map(|i| i["interpreter"].as_str())
        .collect();
    assert!(
        interpreters.iter().filter(|i| i.contains("3.11")).count() >= 2
            && interpreters.iter().any(|i| i.contains("3.12"))
            && interpreters.iter().any(|i| i.contains("go")),
        "{interpreters:?}"
    );
}
