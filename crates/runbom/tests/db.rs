//! `runbom db …` from the command line.

use assert_cmd::Command;

#[test]
fn check_names_the_malformed_file_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        include_str!("../../runbom-model/testdata/GO-2022-0345.json"),
    )
    .unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"id\": \"X-1\",\n  \"modified\": 3\n}\n").unwrap();

    Command::cargo_bin("runbom")
        .unwrap()
        .args(["db", "check"])
        .arg(&good)
        .assert()
        .success()
        .stdout("1 checked, 0 malformed\n");

    let out = Command::cargo_bin("runbom")
        .unwrap()
        .args(["db", "check"])
        .arg(&good)
        .arg(&bad)
        .assert()
        .code(2)
        .stdout("2 checked, 1 malformed\n")
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    assert!(stderr.contains("bad.json:3:"), "{stderr}");
    assert!(!stderr.contains("good.json"), "{stderr}");
}
