//! `runbom policy lint` and `runbom policy check` end to end: a valid template, an invalid file
//! with carets, a missing file; findings over runtime reports (loaded or not) in table, JSON and
//! SARIF; `[freshness]` against a local package index, and that index down.

mod common;

use common::{files_under, index_server, runbom, runtime_report};

#[test]
fn template_passes_lint() {
    let template = concat!(env!("CARGO_MANIFEST_DIR"), "/../../runbom.template.toml");
    runbom()
        .args(["policy", "lint", "--config", template])
        .assert()
        .success();
}

#[test]
fn invalid_config_exits_2_with_every_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("runbom.toml");
    std::fs::write(
        &path,
        "[licenses]\nallow = [\"MTI\"]\n[versions]\nminimum = [{ name = \"a\", version = \"x\" }]\nfoo = 1\n",
    )
    .expect("write");
    let out = runbom()
        .current_dir(dir.path())
        .args(["policy", "lint"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("runbom.toml:2:11"), "{stderr}");
    assert!(stderr.contains("unknown key `foo`"), "{stderr}");
    assert!(stderr.contains("`x` is not a PEP 440 version"), "{stderr}");
    assert!(stderr.contains("has 3 problems"), "{stderr}");
}

#[test]
fn missing_config_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = runbom()
        .current_dir(dir.path())
        .args(["policy", "lint", "--config", "nope.toml"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config `nope.toml`"));
}

const POLICY: &str = r#"[licenses]
allow = ["MIT", "Apache-2.0", "BSD-3-Clause"]
unknown = "deny"

[bans]
deny = [{ name = "pycrypto", reason = "unmaintained; use pycryptodome" }]

[versions]
minimum = [{ name = "mock", version = "5.10" }]
"#;

/// A runtime report over the real metadata fixtures and the policy above.
fn check(dir: &std::path::Path, format: &str) -> assert_cmd::assert::Assert {
    std::fs::write(dir.join("runbom.toml"), POLICY).expect("write policy");
    let report = runtime_report(
        dir,
        &[
            ("maturin", "1.16.0", true),
            ("llvmlite", "0.50.0", true),
            ("mock", "5.2.0", false),
            ("pycrypto", "2.6.1", false),
            ("sklearn", "0.0.post12", true),
        ],
    );
    runbom()
        .current_dir(dir)
        .args([
            "policy",
            "check",
            "--offline",
            "--format",
            format,
            "--runtime",
        ])
        .arg(report)
        .assert()
}

#[test]
fn check_reports_each_rule_with_its_config_line_and_whether_it_was_loaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = check(dir.path(), "table").code(1).get_output().clone();
    let stdout =
        String::from_utf8_lossy(&out.stdout).replace(&dir.path().display().to_string(), "[TMP]");
    insta::assert_snapshot!(stdout);
}

#[test]
fn check_json_lists_findings_and_every_components_licence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = check(dir.path(), "json").code(1).get_output().clone();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["schema"], "runbom.policy-check/v1");
    assert_eq!(json["clean"], false);
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "license-not-allowed",
            "version-below-minimum",
            "license-not-allowed",
            "package-banned",
            "license-unknown"
        ]
    );
    let sklearn = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["component"]["name"] == "sklearn"))
        .expect("sklearn");
    assert_eq!(
        (
            sklearn["loaded"].as_bool(),
            sklearn["config"]["line"].as_u64()
        ),
        (Some(true), Some(3))
    );
    let maturin = json["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "maturin"))
        .expect("maturin");
    assert_eq!(maturin["license"]["spdx"], "MIT OR Apache-2.0");
    assert_eq!(maturin["license"]["confidence"], "exact");
    assert_eq!(maturin["license"]["source"], "License-Expression");
}

#[test]
fn check_sarif_points_at_the_config_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = check(dir.path(), "sarif").code(1).get_output().clone();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules.len(), 10);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let banned = results
        .iter()
        .find(|r| r["ruleId"] == "package-banned")
        .expect("banned");
    let location = &banned["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "runbom.toml");
    assert_eq!(location["region"]["startLine"], 6);
    let index = banned["ruleIndex"].as_u64().expect("index") as usize;
    assert_eq!(rules[index]["id"], "package-banned");
}

#[test]
fn check_passes_a_clean_policy_with_exit_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("runbom.toml"),
        "[licenses]\nallow = [\"MIT\"]\n",
    )
    .expect("write");
    let report = runtime_report(dir.path(), &[("maturin", "1.16.0", true)]);
    let out = runbom()
        .current_dir(dir.path())
        .args(["policy", "check", "--runtime"])
        .arg(report)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("policy check passed: 0 errors, 0 warnings in 1 component (1 loaded)")
    );
}

#[test]
fn check_with_an_invalid_config_exits_2_and_checks_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("runbom.toml"),
        "[licenses]\nallow = [\"Apache2\"]\n",
    )
    .expect("write");
    let out = runbom()
        .current_dir(dir.path())
        .args(["policy", "check", "--offline"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[bad-spdx-id]: `Apache2` is not an SPDX licence id"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `Apache-2.0`?"), "{stderr}");
    assert!(out.stdout.is_empty());
}

const FRESHNESS: &str = "[licenses]\nunknown = \"allow\"\n\n[freshness]\nyanked = \"deny\"\nmax-years-without-release = 5\n";

#[test]
fn freshness_uses_the_package_index() {
    let server = index_server();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("runbom.toml"), FRESHNESS).expect("write");
    let report = runtime_report(
        dir.path(),
        &[
            ("requests", "2.32.0", true),
            ("pycrypto", "2.6.1", false),
            ("six", "1.16.0", true),
        ],
    );
    let out = runbom()
        .current_dir(dir.path())
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .args([
            "policy",
            "check",
            "--format",
            "json",
            "--index-url",
            &format!("{}simple/", server.url()),
            "--runtime",
        ])
        .arg(report)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings = json["findings"].as_array().expect("findings");
    let summary: Vec<(String, String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["code"].to_string(),
                f["severity"].to_string(),
                f["component"]["name"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "\"release-yanked\"".to_owned(),
                "\"error\"".to_owned(),
                "\"requests\"".to_owned()
            ),
            (
                "\"project-stale\"".to_owned(),
                "\"warning\"".to_owned(),
                "\"pycrypto\"".to_owned()
            ),
        ]
    );
    assert_eq!(findings[0]["help"], "upgrade `requests` to 2.34.2");
    assert!(
        findings[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Yanked due to conflicts with CVE-2024-35195 mitigation"))
    );
    assert_eq!(json["freshness_checked"], true);
}

#[test]
fn freshness_with_the_index_down_exits_2_and_writes_no_cache() {
    let url = {
        let server = index_server();
        server.url()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("runbom.toml"), FRESHNESS).expect("write");
    let report = runtime_report(dir.path(), &[("requests", "2.32.0", true)]);
    let out = runbom()
        .current_dir(dir.path())
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .args([
            "policy",
            "check",
            "--index-url",
            &format!("{url}simple/"),
            "--runtime",
        ])
        .arg(&report)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot reach the package index at `{url}simple/requests/`"
        )),
        "{stderr}"
    );
    assert!(files_under(&dir.path().join("cache")).is_empty());
    // --offline skips the index and says so.
    let out = runbom()
        .current_dir(dir.path())
        .args([
            "policy",
            "check",
            "--offline",
            "--index-url",
            &format!("{url}simple/"),
            "--runtime",
        ])
        .arg(&report)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--offline: the [freshness] rules were not checked")
    );
}
