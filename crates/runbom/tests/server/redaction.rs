//! Secrets in command lines never leave the host: a program of each language run under `runbom
//! run` with a hostile argv still sees its arguments as given, while the report written on disk
//! and the one the server stores carry `***` for every secret, by the built-in rules and by the
//! project's `[redact]` patterns of `runbom.toml`. Languages whose interpreter is missing are
//! skipped with a line saying so (scripts/test installs them).

use std::path::Path;
use std::process::Command;

use crate::harness::Server;

/// The secrets planted in every argv, and where each is planted.
const SECRETS: &[&str] = &[
    "hunter2",
    "tok-s3cret",
    "pw-s3cret",
    "sk_live_abc123",
    "dsn-s3cret",
];
const ARGS: &[&str] = &[
    "--password=hunter2",
    "--token",
    "tok-s3cret",
    "DATABASE_URL=postgres://app:pw-s3cret@db/x",
    "charge=sk_live_abc123",
    "--orders-dsn",
    "dsn-s3cret",
];
const CONFIG: &str = "[redact]\nnames = [\"dsn\"]\npatterns = ['sk_live_[0-9a-z]+']\n";

/// The interpreter and a script of each language that prints its arguments, one per line.
const PROGRAMS: &[(&str, &str, &str)] = &[
    (
        "python3",
        "args.py",
        "import sys, json\nprint('\\n'.join(sys.argv[1:]))\n",
    ),
    ("ruby", "args.rb", "require 'json'\nputs ARGV\n"),
    (
        "perl",
        "args.pl",
        "use strict; use JSON::PP;\nprint \"$_\\n\" for @ARGV;\n",
    ),
    (
        "tclsh",
        "args.tcl",
        "package require Tcl\nputs [join $argv \\n]\n",
    ),
];

fn present(interpreter: &str) -> bool {
    Command::new(interpreter)
        .arg("-v")
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok()
}

fn has_secret(text: &str) -> Option<&'static str> {
    SECRETS.iter().copied().find(|s| text.contains(s))
}

#[tokio::test]
async fn a_hostile_argv_is_redacted_before_a_report_is_written_or_sent() {
    let server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("runbom.toml"), CONFIG).expect("written");
    let mut ran = 0;
    for (interpreter, script, text) in PROGRAMS {
        if !present(interpreter) {
            eprintln!("skipped {interpreter}: not installed");
            continue;
        }
        std::fs::write(dir.path().join(script), text).expect("written");
        let report = dir.path().join(format!("{script}.json"));
        let spool = dir.path().join("spool");
        let out = server
            .hooked(
                "shop",
                &token,
                &spool,
                &["--report", report.to_str().expect("utf-8")],
            )
            .arg("--")
            .args([*interpreter, *script])
            .args(ARGS)
            .current_dir(dir.path())
            .output()
            .expect("runbom runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{interpreter}: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .collect::<Vec<_>>(),
            ARGS,
            "{interpreter}: the program sees its arguments unchanged"
        );
        assert_redacted(&report, interpreter);
        assert!(!stderr.contains("warning"), "{interpreter}: {stderr}");
        ran += 1;
    }
    assert!(ran >= 1, "python3 at least runs here");

    let (status, shop) = server.get("/api/v1/applications/shop").await;
    assert_eq!(status, 200, "{shop}");
    let instances = shop["instances"].as_array().expect("instances");
    assert_eq!(instances.len(), ran, "{shop}");
    for instance in instances {
        let command = instance["command"].as_str().expect("command");
        assert!(command.contains("--password=*** --token ***"), "{command}");
        assert_eq!(has_secret(command), None, "{command}");
    }
}

/// The report file holds no secret anywhere (command, every process's argv), and the redacted
/// forms are there.
fn assert_redacted(report: &Path, interpreter: &str) {
    let text = std::fs::read_to_string(report).expect("report written");
    assert_eq!(has_secret(&text), None, "{interpreter}: {text}");
    let report: serde_json::Value = serde_json::from_str(&text).expect("json");
    let command: Vec<&str> = report["command"]
        .as_array()
        .expect("command")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert_eq!(
        &command[2..],
        [
            "--password=***",
            "--token",
            "***",
            "DATABASE_URL=postgres://app:***@db/x",
            "charge=***",
            "--orders-dsn",
            "***"
        ],
        "{interpreter}"
    );
    assert!(
        !report["processes"]
            .as_array()
            .expect("processes")
            .is_empty(),
        "{interpreter}: {text}"
    );
}

#[test]
fn a_runbom_toml_that_cannot_be_read_costs_its_patterns_not_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("runbom.toml"),
        "[redact]\npatterns = ['(']\n",
    )
    .expect("written");
    let report = dir.path().join("r.json");
    let out = Command::new(assert_cmd::cargo::cargo_bin("runbom"))
        .env_remove("RUNBOM_SESSION_DIR")
        .args(["run", "--report", report.to_str().expect("utf-8"), "--"])
        .args(["python3", "-c", "print('ran')", "--password=hunter2"])
        .current_dir(dir.path())
        .output()
        .expect("runbom runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
    assert!(stderr.contains("runbom.toml:2:"), "the place: {stderr}");
    assert!(stderr.contains("built-in rules only"), "{stderr}");
    let text = std::fs::read_to_string(&report).expect("report");
    assert!(
        !text.contains("hunter2") && text.contains("--password=***"),
        "{text}"
    );
}
