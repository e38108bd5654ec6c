//! `runbom db …` from the command line: check, import (the three real databases, malformed
//! records), update against OSV bulk exports served on 127.0.0.1, status.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use runbom_sources::index::testing::{IndexServer, Route};

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

fn advisories(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runbom-sources/testdata/advisories")
        .join(name)
}

fn runbom(db: &Path) -> assert_cmd::Command {
    let mut cmd = common::runbom();
    cmd.env("RUNBOM_DB", db)
        .env_remove("RUNBOM_OSV_URL")
        .current_dir(db.parent().unwrap());
    cmd
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn status_json(db: &Path) -> serde_json::Value {
    let out = runbom(db)
        .args(["db", "status", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let mut value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for source in value["sources"].as_array_mut().unwrap() {
        for key in ["last_import", "last_checked", "age_seconds", "location"] {
            if !source[key].is_null() {
                source[key] = "[redacted]".into();
            }
        }
    }
    value
}

/// Every advisory of the PyPA, Go and ruby-advisory-db databases imports (none is skipped), and
/// importing again changes nothing.
#[test]
fn import_reads_the_three_real_databases_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runbom.db");
    let zips = [
        advisories("pypa-advisory-database.zip"),
        advisories("golang-vulndb.zip"),
        advisories("ruby-advisory-db.zip"),
    ];
    let first = runbom(&db)
        .args(["db", "import"])
        .args(&zips)
        .assert()
        .success()
        .get_output()
        .clone();
    insta::assert_snapshot!("import_first", stdout(&first));
    assert_eq!(String::from_utf8_lossy(&first.stderr), "");
    let again = runbom(&db)
        .args(["db", "import"])
        .args(&zips)
        .assert()
        .success()
        .get_output()
        .clone();
    insta::assert_snapshot!("import_again", stdout(&again));
    insta::assert_json_snapshot!("status_json", status_json(&db));
    let table = runbom(&db)
        .args(["db", "status"])
        .assert()
        .success()
        .get_output()
        .clone();
    let table = stdout(&table);
    assert!(table.starts_with("SOURCE"), "{table}");
    assert!(table.contains("golang-vulndb"), "{table}");
}

#[test]
fn import_names_each_malformed_record_and_loads_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runbom.db");
    let out = runbom(&db)
        .args(["db", "import"])
        .arg(advisories("broken"))
        .arg(advisories("single"))
        .assert()
        .success()
        .get_output()
        .clone();
    insta::assert_snapshot!("import_broken", stdout(&out));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.matches("skipped: ").count(), 4, "{stderr}");
    assert!(
        stderr.contains("trailing-comma.json`:2:65: trailing comma"),
        "{stderr}"
    );
    runbom(&db)
        .args(["db", "import"])
        .arg(dir.path().join("nowhere"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nowhere` does not exist"));
}

/// The first `count` entries of a fixture archive, as a new zip.
fn head_of(archive: &str, count: usize) -> Vec<u8> {
    let bytes = std::fs::read(advisories(archive)).unwrap();
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..count {
        let mut entry = source.by_index(i).unwrap();
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).unwrap();
        out.start_file(entry.name(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&contents).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn osv_server() -> IndexServer {
    let mut routes = HashMap::new();
    for (ecosystem, archive) in [
        ("PyPI", "pypa-advisory-database.zip"),
        ("Go", "golang-vulndb.zip"),
        ("RubyGems", "ruby-advisory-db.zip"),
    ] {
        routes.insert(
            format!("/{ecosystem}/all.zip"),
            Route {
                content_type: "application/zip".to_owned(),
                body: head_of(archive, 40),
            },
        );
    }
    IndexServer::start(routes).unwrap()
}

/// `db update` downloads each bulk export, then revalidates with the stored ETag (304: nothing
/// downloaded or imported); an unreachable server is exit 2 and leaves the store as it was.
#[test]
fn update_downloads_conditionally_and_a_dead_server_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runbom.db");
    let server = osv_server();
    let first = runbom(&db)
        .args(["db", "update", "--osv-url", &server.url()])
        .assert()
        .success()
        .get_output()
        .clone();
    insta::assert_snapshot!("update_first", stdout(&first));
    let second = runbom(&db)
        .args(["db", "update"])
        .env("RUNBOM_OSV_URL", server.url())
        .assert()
        .success()
        .get_output()
        .clone();
    insta::assert_snapshot!("update_not_modified", stdout(&second));
    let statuses: Vec<u16> = server.requests().iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, [200, 200, 200, 304, 304, 304]);
    let before = status_json(&db);
    assert!(before["sources"][0]["etag"].is_string(), "{before}");

    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    std::fs::write(
        dir.path().join("runbom.toml"),
        format!("[advisories]\nosv-url = \"{dead}\"\n"),
    )
    .unwrap();
    let out = runbom(&db)
        .args(["db", "update"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("the store is unchanged"), "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
    assert_eq!(status_json(&db), before);
}
