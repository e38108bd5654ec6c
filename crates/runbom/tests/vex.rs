//! `runbom vex` through the CLI: advisories put into a store with the `Store` API, derived
//! runtime reports eight days apart (testdata/vex/README.md); every status with its evidence, and
//! both formats valid against their schemas.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use runbom_model::Advisory;
use runbom_sources::write::schemas;
use runbom_store::{ImportSource, Store};
use serde_json::Value;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/vex")
        .join(name)
}

/// A SQLite store holding the test advisories.
fn store(dir: &Path) -> String {
    let location = dir.join("advisories.db").display().to_string();
    let records: Vec<Result<Advisory, std::convert::Infallible>> = [
        "PYSEC-2024-60.json",
        "PYSEC-2023-74.json",
        "PYSEC-2023-135.json",
        "RUNBOM-TEST-2026-1.json",
    ]
    .iter()
    .map(|name| {
        let text = std::fs::read_to_string(testdata(name)).expect("fixture");
        Ok(serde_json::from_str(&text).expect("an OSV record"))
    })
    .collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::open(&location).await.expect("open store");
        let source = ImportSource {
            name: "test".to_owned(),
            location: "testdata/vex".to_owned(),
            ..ImportSource::default()
        };
        store
            .import_advisories(&source, records)
            .await
            .expect("import");
        store.close().await;
    });
    location
}

fn vex(db: &str, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("runbom").expect("runbom binary");
    cmd.args(["vex", "--db", db, "--runtime"])
        .arg(testdata("first.report.json"))
        .arg(testdata("second.report.json"))
        .arg("--expected")
        .arg(testdata("expected.requirements.txt"))
        .args(args)
        .output()
        .expect("run runbom vex")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `(vulnerability, purl, state, justification)` of every CycloneDX vulnerability.
fn analysis(json: &Value) -> Vec<(String, String, String, String)> {
    json["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .map(|v| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                text(&v["id"]),
                text(&v["affects"][0]["ref"]),
                text(&v["analysis"]["state"]),
                text(&v["analysis"]["justification"]),
            )
        })
        .collect()
}

fn row(id: &str, purl: &str, state: &str, justification: &str) -> (String, String, String, String) {
    (id.into(), purl.into(), state.into(), justification.into())
}

#[test]
fn cyclonedx_vex_states_each_advisory_from_the_runtime_evidence() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = store(tmp.path());
    let output = vex(&db, &["--min-observation", "7d"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let errors = schemas::cyclonedx_json_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        analysis(&json),
        [
            row(
                "PYSEC-2023-135",
                "pkg:pypi/certifi@2023.5.7",
                "not_affected",
                "code_not_present"
            ),
            row(
                "PYSEC-2023-74",
                "pkg:pypi/requests@2.30.0",
                "not_affected",
                "code_not_reachable"
            ),
            row("PYSEC-2024-60", "pkg:pypi/idna@3.6", "exploitable", ""),
            row(
                "RUNBOM-TEST-2026-1",
                "pkg:pypi/idna@3.6",
                "not_affected",
                "code_not_reachable"
            ),
        ]
    );
    let idna = &json["vulnerabilities"][2];
    assert_eq!(idna["recommendation"], "upgrade idna to 3.7 or later");
    assert_eq!(idna["references"][0]["id"], "CVE-2024-3651");
    let detail = idna["analysis"]["detail"].as_str().expect("detail");
    assert!(
        detail.contains("loaded at run time: idna, idna.core"),
        "{detail}"
    );
    assert!(
        detail.contains("2 runtime report(s) (vex-r1, vex-r2) observed from 2026-11-17T10:00:00Z to 2026-11-25T10:00:05Z"),
        "{detail}"
    );
    let codec = json["vulnerabilities"][3]["analysis"]["detail"]
        .as_str()
        .expect("detail");
    assert!(codec.contains("idna.codec never loaded"), "{codec}");
    assert!(
        stderr(&output)
            .contains("4 statement(s): 1 affected, 3 not_affected, 0 under_investigation"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn too_short_a_window_claims_nothing_not_affected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = store(tmp.path());
    let output = vex(&db, &["--min-observation", "30d"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let states: Vec<String> = analysis(&json).into_iter().map(|r| r.2).collect();
    assert_eq!(
        states,
        ["in_triage", "in_triage", "exploitable", "in_triage"]
    );
    let detail = json["vulnerabilities"][0]["analysis"]["detail"]
        .as_str()
        .expect("detail");
    assert!(
        detail.contains("less than the 2592000s minimum observation"),
        "{detail}"
    );
}

#[test]
fn openvex_is_valid_and_names_the_justifications() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = store(tmp.path());
    let output = vex(&db, &["--min-observation", "1w", "--format", "openvex"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let errors = schemas::openvex_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json["@context"], "https://openvex.dev/ns/v0.2.0");
    let statements = json["statements"].as_array().expect("statements");
    let summary: Vec<(&str, &str)> = statements
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap_or_default(),
                s["justification"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("not_affected", "component_not_present"),
            ("not_affected", "vulnerable_code_not_in_execute_path"),
            ("affected", ""),
            ("not_affected", "vulnerable_code_not_in_execute_path"),
        ]
    );
    assert_eq!(
        statements[2]["action_statement"],
        "upgrade idna to 3.7 or later"
    );
    assert_eq!(statements[2]["products"][0]["@id"], "pkg:pypi/idna@3.6");
    insta::assert_json_snapshot!("openvex_not_present", statements[0]);
}

#[test]
fn bad_durations_and_missing_flags_are_usage_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("empty.db").display().to_string();
    let output = vex(&db, &["--min-observation", "soon"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("soon"), "{}", stderr(&output));
    let output = vex(&db, &[]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "--min-observation is required"
    );
}
