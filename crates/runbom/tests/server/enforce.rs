//! Enforcement reaching the server at once (issue 18): a program under `runbom run --enforce`
//! that catches the refused import and keeps running has a `refused` finding on a local
//! `runbom serve` — naming the host, the pid and the importing module — while it still runs,
//! sent when the refusal happened, not at the next heartbeat or at exit. The same for a Ruby
//! `require` and a Perl `require` (Debian's `ruby-webrick` and `libtry-tiny-perl`).

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;
use crate::harness::Server;

#[tokio::test]
async fn a_refused_import_is_a_finding_on_the_server_while_the_program_still_runs() {
    let Some(venv) = common::cached_venv("enforce-server", "python3", &["idna==3.10"]) else {
        return;
    };
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
    let (finding, _server) = refused_finding(
        dir.path(),
        &["--enforce", &expected, "--", &python, "-c", &program],
        &marker,
    )
    .await;
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
}

#[tokio::test]
async fn a_refused_ruby_require_is_a_finding_on_the_server_while_the_program_still_runs() {
    if !runs("ruby", &["-e", "require 'webrick'"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Gemfile.lock");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../runbom-sources/testdata/gemfile-lock/sinatra.Gemfile.lock"),
        &lock,
    )
    .unwrap();
    let marker = dir.path().join("refused");
    let program = format!(
        "begin\n  require 'webrick'\nrescue LoadError\n  File.write({:?}, '')\nend\nsleep 60\n",
        marker.display().to_string()
    );
    let lock = lock.display().to_string();
    let (finding, _server) = refused_finding(
        dir.path(),
        &["--enforce", &lock, "--", "ruby", "-e", &program],
        &marker,
    )
    .await;
    assert_eq!(finding["component"]["name"], "webrick");
    assert!(
        finding["detail"]["instances"][0]["pid"].as_i64().unwrap() > 0,
        "{finding}"
    );
}

#[tokio::test]
async fn a_refused_perl_require_is_a_finding_on_the_server_while_the_program_still_runs() {
    if !runs("perl", &["-e", "require Try::Tiny"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("cpanfile.snapshot");
    std::fs::write(
        &snapshot,
        "# carton snapshot format: version 1.0\nDISTRIBUTIONS\n",
    )
    .unwrap();
    let marker = dir.path().join("refused");
    let program = format!(
        "eval {{ require Try::Tiny; 1 }} or do {{ open(my $f, '>', {:?}) or die; close $f }}; sleep 60;",
        marker.display().to_string()
    );
    let snapshot = snapshot.display().to_string();
    let (finding, _server) = refused_finding(
        dir.path(),
        &["--enforce", &snapshot, "--", "perl", "-e", &program],
        &marker,
    )
    .await;
    assert_eq!(finding["component"]["name"], "Try-Tiny");
    assert_eq!(finding["detail"]["instances"][0]["importer"], "-e");
}

/// Whether `command args` succeeds here (Debian's packages, which scripts/test installs).
fn runs(command: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(command)
        .args(args)
        .env_remove("PERL5OPT")
        .env_remove("RUBYOPT")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: `{command} {}` fails here", args.join(" "));
    }
    ok
}

/// Runs `runbom run ARGS` against a local server (the program writes `marker` when its load was
/// refused, then sleeps) and waits for the `refused` finding, which must come while the program
/// still runs. The program is stopped before this returns; the server is returned to keep.
async fn refused_finding(dir: &Path, args: &[&str], marker: &Path) -> (Value, Server) {
    let server = Server::start(&[]).await;
    let app = server.token(Some("shop"));
    let admin = server.token(None);
    let mut child: Child = server
        .hooked("shop", &app, &dir.join("spool"), args)
        .current_dir(dir)
        .env("RUNBOM_CACHE_DIR", dir.join("cache"))
        // No periodic flush: only the refusal itself may bring the report out early.
        .env("RUNBOM_FLUSH_SECONDS", "600")
        .env_remove("PERL5OPT")
        .env_remove("RUBYOPT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the test can run the program");
    let started = Instant::now();
    while !marker.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "never refused");
        assert!(
            child
                .try_wait()
                .expect("the test can run the program")
                .is_none(),
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
        child
            .try_wait()
            .expect("the test can run the program")
            .is_none(),
        "the finding came before the program's exit report"
    );
    eprintln!(
        "refused finding on the server {} ms after the refusal",
        latency.as_millis()
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    (finding, server)
}
