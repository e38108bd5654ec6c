//! `runbom verify` through the CLI: derived runtime reports (testdata/verify/README.md), a venv
//! with a hand-made distribution for the disk checks, and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;

fn runbom() -> Command {
    Command::cargo_bin("runbom").expect("runbom binary")
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/verify")
        .join(name)
}

fn verify(args: &[&str]) -> Output {
    let mut cmd = runbom();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.args(["verify", "--expected", "testdata/verify/requirements.txt"]);
    cmd.args(args).output().expect("run runbom verify")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_report_that_matches_the_lockfile_is_clean() {
    let output = verify(&["--runtime", "testdata/verify/clean.report.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output), @"clean: 5 distributions observed (1 runtime reports) against 6 expected components of `testdata/verify/requirements.txt`");
}

#[test]
fn unexpected_drift_unknown_code_and_tampered_exit_1() {
    let output = verify(&["--runtime", "testdata/verify/findings.report.json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn json_is_versioned_and_counts_every_code() {
    let output = verify(&[
        "--runtime",
        "testdata/verify/findings.report.json",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["schema"], "runbom.verify/v1");
    assert_eq!(json["clean"], false);
    assert_eq!(
        json["counts"],
        serde_json::json!({"unexpected": 1, "drift": 1, "missing": 0, "unknown-code": 1, "tampered": 1, "tooling": 0, "modified-build": 0})
    );
    assert_eq!(
        json["observed"]["reports"],
        serde_json::json!(["derived-findings-1"])
    );
    let drift = &json["findings"][1];
    assert_eq!(drift["code"], "drift");
    assert_eq!(drift["expected"]["version"], "==2.32.3");
    assert_eq!(drift["expected"]["location"]["line"], 5);
    assert_eq!(drift["state"], "running");
}

#[test]
fn sarif_has_one_rule_per_code_and_located_results() {
    let output = verify(&[
        "--runtime",
        "testdata/verify/findings.report.json",
        "--format",
        "sarif",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        rules,
        [
            "unexpected",
            "drift",
            "missing",
            "unknown-code",
            "tampered",
            "tooling",
            "modified-build"
        ]
    );
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    let drift = &results[1];
    assert_eq!(drift["ruleId"], "drift");
    assert_eq!(drift["level"], "error");
    let physical = &drift["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "testdata/verify/requirements.txt"
    );
    assert_eq!(physical["region"]["startLine"], 5);
    let tampered = &results[3];
    assert_eq!(
        tampered["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "file:///srv/app/venv/lib/python3.11/site-packages/requests/api.py"
    );
}

#[test]
fn bad_reports_and_expected_files_exit_2_naming_file_and_place() {
    let output = verify(&["--runtime", "testdata/verify/truncated.report.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("truncated.report.json`:31:9:"),
        "{}",
        stderr(&output)
    );
    let output = verify(&["--runtime", "testdata/verify/wrong-schema.report.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("at /schema"),
        "{}",
        stderr(&output)
    );
    let output = runbom()
        .args(["verify", "--expected"])
        .arg(testdata("README.md"))
        .args(["--runtime"])
        .arg(testdata("clean.report.json"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("README.md` is not an expected inventory runbom reads")
            && stderr(&output).contains("python/requirements: line 3 is not a requirement"),
        "{}",
        stderr(&output)
    );
    let output = runbom().args(["verify"]).output().expect("run");
    assert_eq!(
        output.status.code(),
        Some(2),
        "a missing --expected is a usage error"
    );
}

/// A venv without pip holding one hand-made distribution `demo 1.0` (RECORD with a real hash).
fn venv_with_demo(dir: &Path) -> (PathBuf, PathBuf) {
    let venv = dir.join("venv");
    let status = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .expect("python3 -m venv");
    assert!(status.success());
    let python = venv.join("bin/python");
    let site = Command::new(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .expect("purelib");
    let site = PathBuf::from(String::from_utf8_lossy(&site.stdout).trim());
    std::fs::create_dir_all(site.join("demo")).expect("mkdir");
    std::fs::create_dir_all(site.join("demo-1.0.dist-info")).expect("mkdir");
    std::fs::write(site.join("demo/__init__.py"), "print('hi')\n").expect("write");
    std::fs::write(
        site.join("demo-1.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
    )
    .expect("write");
    std::fs::write(
        site.join("demo-1.0.dist-info/RECORD"),
        "demo/__init__.py,sha256=yvAm8l1xQCCfmAcmBTB6Q4kUuc5vPBSyPRXZZnJB3lI,12\n\
         demo-1.0.dist-info/METADATA,,\ndemo-1.0.dist-info/RECORD,,\n",
    )
    .expect("write");
    std::fs::write(dir.join("requirements.txt"), "demo==1.0\n").expect("write");
    (python, site)
}

#[test]
fn the_installed_files_are_hashed_against_record() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (python, site) = venv_with_demo(tmp.path());
    let run = || {
        runbom()
            .env("RUNBOM_NO_CACHE", "1")
            .args(["verify", "--format", "json", "--expected"])
            .arg(tmp.path().join("requirements.txt"))
            .arg("--python")
            .arg(&python)
            .output()
            .expect("run")
    };
    let clean = run();
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}{}",
        stdout(&clean),
        stderr(&clean)
    );
    // One byte changed, one file planted.
    std::fs::write(site.join("demo/__init__.py"), "print('hI')\n").expect("write");
    std::fs::write(site.join("demo/extra.py"), "import os\n").expect("write");
    let dirty = run();
    assert_eq!(dirty.status.code(), Some(1), "{}", stderr(&dirty));
    let json: serde_json::Value = serde_json::from_slice(&dirty.stdout).expect("json");
    let reasons: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["reason"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(reasons, ["record-mismatch", "unlisted-file"], "{json:#}");
    assert_eq!(json["observed"]["files_hashed"], 1);
}
