//! `runbom keygen`, `runbom attest` and `runbom attest verify` end to end.

use std::path::Path;

use assert_cmd::Command;

fn runbom() -> Command {
    Command::cargo_bin("runbom").expect("binary")
}

fn keygen(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join("key.pem");
    runbom()
        .arg("keygen")
        .arg("--out")
        .arg(&key)
        .assert()
        .success();
    (key.clone(), dir.join("key.pem.pub"))
}

fn attest(dir: &Path, key: &Path) -> std::path::PathBuf {
    let report = dir.join("report.json");
    std::fs::write(&report, r#"{"app": "demo", "modules": [{"name": "json"}]}"#).expect("write");
    let envelope = dir.join("report.dsse.json");
    runbom()
        .args(["attest", "--runtime"])
        .arg(&report)
        .arg("--key")
        .arg(key)
        .arg("--output")
        .arg(&envelope)
        .assert()
        .success();
    envelope
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, public) = keygen(dir.path());
    let private = std::fs::read_to_string(&key).expect("key");
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(
        std::fs::read_to_string(public)
            .expect("pub")
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Refuses to overwrite without --force.
    runbom()
        .arg("keygen")
        .arg("--out")
        .arg(&key)
        .assert()
        .code(2);
}

#[test]
fn attest_then_verify_round_trip_and_tampering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, public) = keygen(dir.path());
    let envelope = attest(dir.path(), &key);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&envelope).expect("read")).expect("json");
    assert_eq!(json["payloadType"], "application/vnd.in-toto+json");
    runbom()
        .args(["attest", "verify", "--key"])
        .arg(&public)
        .arg(&envelope)
        .assert()
        .success()
        .stdout(predicates::str::contains("subject: report.json sha256:"));

    let mut tampered = json.clone();
    tampered["payloadType"] = "application/json".into();
    std::fs::write(&envelope, tampered.to_string()).expect("write");
    runbom()
        .args(["attest", "verify", "--key"])
        .arg(&public)
        .arg(&envelope)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("invalid:"));

    // Another key's public half does not verify it.
    std::fs::write(&envelope, json.to_string()).expect("write");
    let other = tempfile::tempdir().expect("tempdir");
    let (_, other_public) = keygen(other.path());
    runbom()
        .args(["attest", "verify", "--key"])
        .arg(&other_public)
        .arg(&envelope)
        .assert()
        .code(1);
}

#[test]
fn unusable_inputs_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, public) = keygen(dir.path());
    let envelope = attest(dir.path(), &key);
    // A private key where the public one belongs.
    runbom()
        .args(["attest", "verify", "--key"])
        .arg(&key)
        .arg(&envelope)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("error: cannot use"));
    runbom()
        .args(["attest", "verify", "--key"])
        .arg(&public)
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing.json"));
    let not_json = dir.path().join("report.txt");
    std::fs::write(&not_json, "not json").expect("write");
    runbom()
        .args(["attest", "--runtime"])
        .arg(&not_json)
        .arg("--key")
        .arg(&key)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is not a JSON runtime report"));
}

#[test]
fn the_sbom_of_what_ran_can_be_the_predicate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, public) = keygen(dir.path());
    let report = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/verify/findings.report.json");
    let envelope = dir.path().join("sbom.dsse.json");
    runbom()
        .args(["attest", "--predicate", "sbom", "--runtime"])
        .arg(&report)
        .arg("--key")
        .arg(&key)
        .arg("--output")
        .arg(&envelope)
        .assert()
        .success();
    runbom()
        .args(["attest", "verify", "--key"])
        .arg(&public)
        .arg(&envelope)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "predicate: https://cyclonedx.org/bom",
        ));
    let key_pem = std::fs::read_to_string(&public).expect("public key");
    let key = runbom_sources::attestation::verifying_key_from_pem(&key_pem).expect("key");
    let statement =
        runbom_sources::attestation::verify(&std::fs::read(&envelope).expect("envelope"), &key)
            .expect("valid");
    assert_eq!(statement.subject[0].name, "findings.report.json");
    let errors = runbom_sources::write::schemas::cyclonedx_json_errors(&statement.predicate);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        statement.predicate["components"].as_array().map(Vec::len),
        Some(6)
    );
}
