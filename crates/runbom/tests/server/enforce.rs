//! Enforcement reaching the server at once (issue 18): a program under `runbom run --enforce`
//! that catches the refused import and keeps running has a `refused` finding on a local
//! `runbom serve` — naming the host, the pid and the importing module — while it still runs,
//! sent when the refusal happened, not at the next heartbeat or at exit.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;
use crate::harness::Server;

#[tokio::test]
async fn a_refused_import_is_a_finding_on_the_server_while_the_program_still_runs() {
    let Some(venv) = common::cached_venv("enforce-server", "python3", &["idna==3.10"]) else {
        return;
    };
    let server = Server::start(&[]).await;
    let app = server.token(Some("shop"));
    let admin = server.token(None);
    let dir = tempfile::tempdir().unwrap();
    let expected = dir.path().join("requirements.txt");
    std::fs::write(&expected, "# the standard library only\n").unwrap();
    let marker = dir.path().join("refused");
    let program = format!(
        "import time\ntry:\n    import idna\nexcept ImportError:\n    open({:?}, 'w').close()\ntime.sleep(60)\n",
        marker.display().to_string()
    );
    let python = venv.join("bin/python").display().to_string();
    let expected = expected.display().to_string();
    let mut child = server
        .hooked(
            "shop",
            &app,
            &dir.path().join("spool"),
            &["--enforce", &expected, "--", &python, "-c", &program],
        )
        .env("RUNBOM_CACHE_DIR", dir.path().join("cache"))
        // No periodic flush: only the refusal itself may bring the report out early.
        .env("RUNBOM_FLUSH_SECONDS", "600")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !marker.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "never refused");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the program ended early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused_at = Instant::now();
    let finding = loop {
        let (status, body) = server
            .get_with("/api/v1/findings?app=shop", Some(&admin))
            .await;
        assert_eq!(status, 200, "{body}");
        let found = body["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["kind"] == "refused")
            .cloned();
        if let Some(found) = found {
            break found;
        }
        assert!(
            refused_at.elapsed() < Duration::from_secs(30),
            "no refused finding: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let latency = refused_at.elapsed();
    assert!(
        child.try_wait().unwrap().is_none(),
        "the finding came before the program's exit report"
    );
    eprintln!(
        "refused finding on the server {} ms after the refusal",
        latency.as_millis()
    );
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["component"]["name"], "idna");
    let summary = finding["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("refused import of `idna` (idna 3.10) on ")
            && summary.contains(", imported by `__main__`: not in the expected inventory")
            && summary.ends_with("(rule `listed`)"),
        "{summary}"
    );
    let instance: &Value = &finding["detail"]["instances"][0];
    assert!(!instance["host"].as_str().unwrap().is_empty(), "{instance}");
    assert!(instance["pid"].as_i64().unwrap() > 0, "{instance}");
    assert_eq!(instance["importer"], "__main__");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
