//! Real Python programs under `runbom run --server` reporting to a real server: an advisory
//! import alerts a webhook naming the running instances, and a server killed with SIGKILL and
//! restarted loses no report (what it acknowledged is stored; what was sent while it was down
//! arrives from the spool).

#![allow(clippy::unwrap_used)] // test: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::venv_with;
use crate::harness::{Receiver, Server};

/// Generous bound for anything awaited here; a test that reaches it fails.
const LIMIT: Duration = Duration::from_secs(90);

/// Python that writes its pid to `pid_file` and runs until `stop` exists (60 s at most).
fn until_stopped(imports: &str, pid_file: &Path, stop: &Path) -> String {
    format!(
        "{imports}\nimport os, time\nopen({pid:?}, 'w').write(str(os.getpid()))\n\
         for _ in range(600):\n    if os.path.exists({stop:?}):\n        break\n    time.sleep(0.1)\n",
        pid = pid_file.to_str().unwrap(),
        stop = stop.to_str().unwrap(),
    )
}

/// Waits (bounded) for a child to exit; returns its exit code.
async fn exit_of(child: &mut Child) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(start.elapsed() < LIMIT, "a hooked program did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `path` on the server until `done` holds for the answer.
async fn wait_until(server: &Server, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let (_, answer) = server.get(path).await;
        if done(&answer) {
            return answer;
        }
        assert!(start.elapsed() < LIMIT, "never true for {path}: {answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn spooled_files(root: &Path) -> Vec<PathBuf> {
    let Ok(dirs) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    dirs.flatten()
        .flat_map(|dir| {
            std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with(".json.gz"))
        .collect()
}

#[tokio::test]
async fn three_hooked_programs_and_an_advisory_import_alert_a_webhook_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(python) = venv_with(tmp.path(), "urllib3==1.26.4") else {
        return;
    };
    let receiver = Receiver::start().await;
    let server = Server::start(&["--webhook", &receiver.url()]).await;
    let token = server.token(Some("shop"));
    let spool = tmp.path().join("spool");
    let stop = tmp.path().join("stop");

    let mut programs = Vec::new();
    for (i, imports) in [
        "import urllib3",
        "from urllib3 import util",
        "import urllib3.poolmanager",
    ]
    .into_iter()
    .enumerate()
    {
        let pid_file = tmp.path().join(format!("pid-{i}"));
        let code = until_stopped(imports, &pid_file, &stop);
        let child = server
            .hooked("shop", &token, &spool, &["--interval", "1", "--"])
            .arg(&python)
            .args(["-c", &code])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        programs.push((child, pid_file));
    }
    wait_until(&server, "/api/v1/applications/shop", |shop| {
        shop["components"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["name"] == "urllib3" && c["loaded_by"] == 3)
    })
    .await;

    server
        .import_advisory(include_str!("../../testdata/server/PYSEC-2021-108.json"))
        .await;
    let alerts = receiver.wait_for(1, LIMIT).await;
    let alert = &alerts[0];
    assert_eq!(alert["kind"], "vulnerable", "{alert}");
    assert_eq!(alert["advisory"], "PYSEC-2021-108");
    assert_eq!(
        alert["component"],
        json!({"name": "urllib3", "version": "1.26.4"})
    );
    assert_eq!(alert["in_use"], true);
    let mut alerted: Vec<i64> = alert["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pid"].as_i64().unwrap())
        .collect();
    alerted.sort_unstable();
    let mut running: Vec<i64> = programs
        .iter()
        .map(|(_, pid_file)| {
            std::fs::read_to_string(pid_file)
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    running.sort_unstable();
    assert_eq!(alerted, running, "{alert}");

    std::fs::write(&stop, "").unwrap();
    for (child, _) in &mut programs {
        assert_eq!(exit_of(child).await, Some(0));
    }
    assert!(spooled_files(&spool).is_empty());
}

/// The session id and sequence of the last report a `runbom run --report FILE` wrote.
fn last_report(path: &Path) -> (String, i64) {
    let report: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(report["complete"], true, "{}", path.display());
    (
        report["session_id"].as_str().unwrap().to_owned(),
        report["sequence"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn a_server_killed_with_sigkill_loses_no_report() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    let spool = tmp.path().join("spool");
    let stop = tmp.path().join("stop");
    let reports = tmp.path().join("reports");
    let short = |server: &Server, name: &str| {
        let out = server
            .hooked("shop", &token, &spool, &["--report"])
            .arg(reports.join(format!("{name}.json")))
            .args(["--", "python3", "-c", "import json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    // A long-running program reports every second, short ones come and go.
    let code = until_stopped("", &tmp.path().join("pid"), &stop);
    let mut long = server
        .hooked("shop", &token, &spool, &["--interval", "1", "--report"])
        .arg(reports.join("long.json"))
        .args(["--", "python3", "-c", &code])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for i in 0..3 {
        short(&server, &format!("up-{i}"));
    }
    wait_until(&server, "/api/v1/applications/shop", |shop| {
        shop["instances"].as_array().map_or(0, Vec::len) == 4
    })
    .await;

    server.kill();
    for i in 0..3 {
        let said = short(&server, &format!("down-{i}"));
        assert!(said.contains("for the server"), "{said}");
    }
    server.restart(&[]);
    for i in 0..2 {
        short(&server, &format!("back-{i}"));
    }
    std::fs::write(&stop, "").unwrap();
    assert_eq!(exit_of(&mut long).await, Some(0));
    // Anything the long-running program still left in the spool goes with the next run.
    short(&server, "last");

    let mut sessions = 0;
    for entry in std::fs::read_dir(&reports).unwrap() {
        let (session, last) = last_report(&entry.unwrap().path());
        // Unchanged periodic reports go out as digest heartbeats, which leave no report id:
        // the first report, every change and the last (complete) one are stored as reports.
        let start = Instant::now();
        let kept = |stored: Vec<i64>| stored.contains(&0) && stored.contains(&last);
        while !kept(server.stored_sequences(&session).await) {
            assert!(
                start.elapsed() < LIMIT,
                "session {session}: stored {:?}, made 0..={last}",
                server.stored_sequences(&session).await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        sessions += 1;
    }
    assert_eq!(sessions, 10);
    assert!(spooled_files(&spool).is_empty());
}
