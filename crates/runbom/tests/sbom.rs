//! `runbom sbom` through the CLI: the SBOM of what ran, in each format, valid against the
//! official schemas; licences and archive hashes read from the installed metadata; bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use runbom_sources::write::schemas;
use serde_json::Value;

fn runbom() -> Command {
    Command::cargo_bin("runbom").expect("runbom binary")
}

fn report(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/verify")
        .join(name)
}

fn sbom(args: &[&str]) -> Output {
    runbom()
        .arg("sbom")
        .args(args)
        .output()
        .expect("run runbom sbom")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn cyclonedx_json_of_what_ran_is_valid_and_stable() {
    let path = report("findings.report.json");
    let output = sbom(&["--runtime", path.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let errors = schemas::cyclonedx_json_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");
    let names: Vec<&str> = json["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "certifi",
            "charset-normalizer",
            "idna",
            "requests",
            "six",
            "urllib3"
        ]
    );
    assert_eq!(json["metadata"]["tools"]["components"][0]["name"], "runbom");
    assert_eq!(json["metadata"]["component"]["name"], "demo");
    insta::assert_json_snapshot!("findings_requests", json["components"][3]);
    let again = sbom(&["--runtime", path.to_str().expect("utf-8")]);
    assert_eq!(
        output.stdout, again.stdout,
        "the same reports give the same bytes"
    );
}

#[test]
fn spdx_json_is_valid_against_the_spdx_2_3_schema() {
    let path = report("findings.report.json");
    let output = sbom(&[
        "--runtime",
        path.to_str().expect("utf-8"),
        "--format",
        "spdx-json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let errors = schemas::spdx_json_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json["packages"].as_array().map(Vec::len), Some(6));
}

#[test]
fn cyclonedx_xml_reads_back_and_validates_against_the_xsd() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("ran.cdx.xml");
    let path = report("findings.report.json");
    let output = sbom(&[
        "--runtime",
        path.to_str().expect("utf-8"),
        "--format",
        "cyclonedx-xml",
        "--output",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let back = runbom_sources::read_expected(&out).expect("read back");
    assert_eq!(back.components.len(), 6);
    let xml = std::fs::read_to_string(&out).expect("xml");
    match schemas::cyclonedx_xml_against_xsd(&xml, tmp.path()) {
        schemas::XsdOutcome::Valid { validator } => eprintln!("valid per {validator}"),
        schemas::XsdOutcome::Invalid { validator, errors } => panic!("{validator}: {errors}"),
        schemas::XsdOutcome::Skipped(reason) => eprintln!("skipped XSD validation: {reason}"),
    }
}

/// A site directory holding `demo 1.0` (MIT, installed from a URL with a recorded archive hash)
/// and a runtime report that loaded it from there.
fn site_with_demo(dir: &Path) -> PathBuf {
    let site = dir.join("site");
    let info = site.join("demo-1.0.dist-info");
    std::fs::create_dir_all(site.join("demo")).expect("mkdir");
    std::fs::create_dir_all(&info).expect("mkdir");
    std::fs::write(site.join("demo/__init__.py"), "print('hi')\n").expect("write");
    std::fs::write(
        info.join("METADATA"),
        "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-Expression: MIT\n",
    )
    .expect("write");
    std::fs::write(
        info.join("RECORD"),
        "demo/__init__.py,sha256=yvAm8l1xQCCfmAcmBTB6Q4kUuc5vPBSyPRXZZnJB3lI,12\n\
         demo-1.0.dist-info/METADATA,,\ndemo-1.0.dist-info/RECORD,,\n",
    )
    .expect("write");
    std::fs::write(
        info.join("direct_url.json"),
        r#"{"url": "https://files.example/demo-1.0-py3-none-any.whl", "archive_info": {"hashes": {"sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}}"#,
    )
    .expect("write");
    let report = serde_json::json!({
        "schema": "runbom.runtime-report/v1",
        "report_id": "r-demo",
        "session_id": "s-demo",
        "complete": true,
        "host": "test",
        "started_at": "2026-11-25T10:00:00Z",
        "reported_at": "2026-11-25T10:00:05Z",
        "command": ["python3", "app.py"],
        "interpreter": {"executable": "/usr/bin/python3", "implementation": "cpython", "version": "3.11.7", "prefix": "/usr"},
        "processes": [],
        "distributions": [{
            "name": "demo", "normalized_name": "demo", "version": "1.0",
            "purl": "pkg:pypi/demo@1.0", "location": site, "size": 12,
            "modules": [{"name": "demo", "file": site.join("demo/__init__.py"), "pids": [7],
                         "integrity": {"status": "verified", "sha256": "cafe"}}]
        }],
        "stdlib_modules": [],
        "unowned_modules": []
    });
    let path = dir.join("report.json");
    std::fs::write(&path, serde_json::to_vec(&report).expect("json")).expect("write");
    path
}

#[test]
fn licences_and_archive_hashes_come_from_the_installed_metadata() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = site_with_demo(tmp.path());
    let output = sbom(&["--runtime", path.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let demo = &json["components"][0];
    assert_eq!(
        demo["licenses"],
        serde_json::json!([{"license": {"id": "MIT"}}])
    );
    assert_eq!(demo["hashes"][0]["alg"], "SHA-256");
    assert_eq!(
        demo["evidence"]["occurrences"][0]["additionalContext"],
        "module `demo`; sha256 cafe; RECORD: verified"
    );
    assert!(schemas::cyclonedx_json_errors(&json).is_empty());
}

#[test]
fn bad_reports_exit_2_naming_the_file() {
    let path = report("truncated.report.json");
    let output = sbom(&["--runtime", path.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("truncated.report.json`:31:9:"),
        "{}",
        stderr(&output)
    );
    let output = sbom(&[]);
    assert_eq!(output.status.code(), Some(2), "--runtime is required");
}
