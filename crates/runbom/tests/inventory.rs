//! `runbom inventory` end to end: against `pip list` on a real venv, on fixtures, on bad input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

fn runbom() -> Command {
    Command::cargo_bin("runbom").expect("runbom binary")
}

fn make_venv(dir: &Path, with_pip: bool) -> PathBuf {
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "venv"]);
    if !with_pip {
        cmd.arg("--without-pip");
    }
    let status = cmd.arg(dir).status().expect("python3 -m venv");
    assert!(status.success(), "python3 -m venv failed");
    dir.join("bin/python")
}

fn pep503(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[test]
fn matches_pip_list_on_a_real_venv() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let python = make_venv(&tmp.path().join("venv"), true);
    let install = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["PyYAML", "requests", "attrs", "packaging"])
        .output()
        .expect("pip install");
    assert!(
        install.status.success(),
        "pip could not install wheels from PyPI (is PyPI reachable?): {}",
        String::from_utf8_lossy(&install.stderr)
    );
    let pip = Command::new(&python)
        .args([
            "-m",
            "pip",
            "list",
            "--format",
            "json",
            "--disable-pip-version-check",
        ])
        .output()
        .expect("pip list");
    assert!(pip.status.success());
    let pip: serde_json::Value = serde_json::from_slice(&pip.stdout).expect("pip list JSON");
    let expected: BTreeSet<(String, String)> = pip
        .as_array()
        .expect("array")
        .iter()
        .map(|d| {
            (
                pep503(d["name"].as_str().expect("name")),
                d["version"].as_str().expect("version").to_owned(),
            )
        })
        .collect();

    let out = runbom()
        .args(["inventory", "--format", "json", "--python"])
        .arg(&python)
        .output()
        .expect("runbom");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inventory JSON");
    assert_eq!(inv["schema"], "runbom.inventory/v1");
    assert_eq!(inv["interpreter"]["is_venv"], true);
    let got: BTreeSet<(String, String)> = inv["distributions"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|d| d["shadowed"] == false)
        .map(|d| {
            (
                d["normalized_name"].as_str().expect("name").to_owned(),
                d["version"].as_str().expect("version").to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(got.iter().any(|(n, _)| n == "pyyaml"));
}

#[test]
fn table_and_json_on_fixtures() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let python = make_venv(&tmp.path().join("venv"), false);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates dir")
        .join("runbom-ecosystems/testdata/python");
    let out = runbom()
        .args(["inventory", "--python"])
        .arg(&python)
        .arg("--path")
        .arg(fixtures.join("site-a"))
        .arg("--path")
        .arg(fixtures.join("site-b"))
        .output()
        .expect("runbom");
    assert!(out.status.success());
    let fixtures = fixtures.display().to_string();
    let tmp = tmp.path().display().to_string();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let clean = |s: &str| {
        let s = s.replace(&fixtures, "[FIXTURES]").replace(&tmp, "[TMP]");
        // The venv's Python version and column widths follow the machine's python3.
        s.lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    insta::assert_snapshot!("table", clean(&stdout));
    insta::assert_snapshot!("warnings", clean(&format!("\n{stderr}")));

    let out = runbom()
        .args(["inventory", "--format", "json", "--python"])
        .arg(&python)
        .arg("--path")
        .arg(Path::new(&fixtures).join("site-a"))
        .output()
        .expect("runbom");
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut first = inv["distributions"][0].clone();
    first["files"] = serde_json::json!(first["files"].as_array().map(Vec::len));
    let first = serde_json::to_string_pretty(&first)
        .expect("json")
        .replace(&fixtures, "[FIXTURES]");
    insta::assert_snapshot!("json_first_distribution", first);
}

#[test]
fn missing_interpreter_is_a_clear_error() {
    let out = runbom()
        .args(["inventory", "--python", "/nonexistent/python9"])
        .output()
        .expect("runbom");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot run the Python interpreter `/nonexistent/python9`"),
        "{stderr}"
    );
}
