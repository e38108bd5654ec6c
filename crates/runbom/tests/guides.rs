//! The guides in `docs/guides/` as a newcomer follows them: every ```` ```sh ```` block of a guide,
//! in order, is one bash script (`set -euo pipefail`) run in a scratch directory with the built
//! `runbom` first on PATH, its own HOME, and OSV's bulk export served on 127.0.0.1 from the
//! PyPA advisory database of the test data. A guide passes when its script exits 0: commands
//! expected to find something say so in the guide itself (`test "$status" -eq 1`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use runbom_sources::index::testing::{IndexServer, Route};

/// Every guide, each run by the test of its name below.
const GUIDES: &[&str] = &[
    "auditor.md",
    "ci-gate.md",
    "first-runtime-report.md",
    "server-for-a-team.md",
];

fn guides_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/guides")
}

/// The guide's ```` ```sh ```` blocks, joined in order.
fn script(guide: &str) -> String {
    let text = std::fs::read_to_string(guides_dir().join(guide)).expect("guide");
    let mut script = String::new();
    let mut inside = false;
    for line in text.lines() {
        match (inside, line.trim_end()) {
            (false, "```sh") => inside = true,
            (true, "```") => inside = false,
            (true, _) => {
                script.push_str(line);
                script.push('\n');
            }
            _ => {}
        }
    }
    assert!(!script.is_empty(), "{guide} has no ```sh block");
    script
}

/// OSV's bulk export of PyPI (`/PyPI/all.zip`), as `runbom db update` downloads it.
fn osv_server() -> IndexServer {
    let zip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runbom-sources/testdata/advisories/pypa-advisory-database.zip");
    let route = Route {
        content_type: "application/zip".to_owned(),
        body: std::fs::read(zip).expect("advisory zip"),
    };
    IndexServer::start(HashMap::from([("/PyPI/all.zip".to_owned(), route)])).expect("OSV server")
}

fn follow(guide: &str) {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let osv = osv_server();
    let bin = cargo_bin("runbom");
    let path = std::env::join_paths(
        std::iter::once(bin.parent().expect("bin dir").to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .expect("PATH");
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c"])
        .arg(script(guide))
        .current_dir(scratch.path())
        .env("PATH", path)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("TMPDIR", scratch.path())
        .env("RUNBOM_OSV_URL", osv.url())
        .env("NO_COLOR", "1")
        .env_remove("RUNBOM_DB")
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("RUNBOM_DISABLE")
        .env_remove("RUNBOM_SERVER")
        .env_remove("RUNBOM_TOKEN")
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "following docs/guides/{guide} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_guide_is_followed_by_a_test() {
    let mut found: Vec<String> = std::fs::read_dir(guides_dir())
        .expect("docs/guides")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && name != "README.md")
        .collect();
    found.sort();
    assert_eq!(found, GUIDES, "add each guide to GUIDES and give it a test");
}

#[test]
fn your_first_runtime_report() {
    follow("first-runtime-report.md");
}

#[test]
fn gate_a_ci_pipeline() {
    follow("ci-gate.md");
}

#[test]
fn run_the_server_for_a_team() {
    follow("server-for-a-team.md");
}

#[test]
fn prove_it_to_an_auditor() {
    follow("auditor.md");
}
