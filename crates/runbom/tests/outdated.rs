//! `runbom outdated` end to end against a package index on 127.0.0.1 serving recorded PyPI
//! responses and hand-written Go proxy / RubyGems ones: newer versions, yanked releases, the
//! ETag cache, and the index down (exit 2, nothing half-written to the cache).

mod common;

use std::path::Path;

use common::{files_under, index_server, runbom};

/// A CycloneDX SBOM with two PyPI packages, a Go module and a gem, and a requirements file.
fn inputs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let requirements = dir.join("requirements.txt");
    std::fs::write(
        &requirements,
        "requests==2.32.0\nPyYAML==5.4.1\nsix==1.17.0\nprivate-thing==1.0\n",
    )
    .expect("write");
    let sbom = dir.join("bom.json");
    let bom = serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [
            {"type": "library", "name": "github.com/BurntSushi/toml", "version": "v1.3.2", "purl": "pkg:golang/github.com/BurntSushi/toml@v1.3.2"},
            {"type": "library", "name": "rack", "version": "3.0.10", "purl": "pkg:gem/rack@3.0.10"},
        ],
    });
    std::fs::write(&sbom, serde_json::to_vec_pretty(&bom).expect("json")).expect("write");
    (requirements, sbom)
}

fn outdated(dir: &Path, url: &str, format: &str) -> assert_cmd::Command {
    let (requirements, sbom) = inputs(dir);
    let mut cmd = runbom();
    cmd.current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .args(["outdated", "--format", format])
        .args(["--index-url", &format!("{url}simple/")])
        .args(["--go-proxy", &format!("{url}go/")])
        .args(["--rubygems-url", &format!("{url}gems/")])
        .arg("--expected")
        .arg(requirements)
        .arg("--expected")
        .arg(sbom);
    cmd
}

#[test]
fn lists_newer_versions_and_yanked_releases() {
    let server = index_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = outdated(dir.path(), &server.url(), "table")
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!(stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`private-thing` is not on the PyPI index"),
        "{stderr}"
    );
}

#[test]
fn json_has_dates_yanks_and_days_behind() {
    let server = index_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = outdated(dir.path(), &server.url(), "json")
        .assert()
        .success()
        .get_output()
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["schema"], "runbom.outdated/v1");
    let find = |name: &str| {
        json["components"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == name).cloned())
            .expect(name)
    };
    let requests = find("requests");
    assert_eq!(requests["status"], "yanked");
    assert_eq!(requests["yanked"], true);
    assert_eq!(requests["newest"], "2.34.2");
    assert_eq!(
        requests["installed_published"],
        "2024-05-20T16:08:19.530618Z"
    );
    let six = find("six");
    assert_eq!(
        (six["status"].as_str(), six["days_behind"].as_i64()),
        (Some("up-to-date"), Some(0))
    );
    let toml = find("github.com/BurntSushi/toml");
    assert_eq!(
        (toml["status"].as_str(), toml["newest"].as_str()),
        (Some("outdated"), Some("v1.4.0"))
    );
    assert_eq!(toml["days_behind"], 363);
    let rack = find("rack");
    assert_eq!(
        (rack["status"].as_str(), rack["newest"].as_str()),
        (Some("outdated"), Some("3.1.8")),
        "the pre-release is not newest"
    );
    assert_eq!(find("private-thing")["status"], "not-on-index");
}

#[test]
fn second_run_revalidates_the_cache_with_etags() {
    let server = index_server();
    let dir = tempfile::tempdir().expect("tempdir");
    outdated(dir.path(), &server.url(), "json")
        .assert()
        .success();
    let first = server.requests().len();
    outdated(dir.path(), &server.url(), "json")
        .assert()
        .success();
    let second: Vec<u16> = server.requests()[first..]
        .iter()
        .filter(|(p, _)| !p.contains("private-thing"))
        .map(|(_, s)| *s)
        .collect();
    assert!(
        !second.is_empty() && second.iter().all(|s| *s == 304),
        "{second:?}"
    );
    assert!(
        files_under(&dir.path().join("cache/runbom/index"))
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "json"))
    );
}

#[test]
fn index_down_is_a_clear_error_with_exit_2_and_no_cache() {
    let url = {
        let server = index_server();
        server.url()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = outdated(dir.path(), &url, "table")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: cannot read release data from the package index: cannot reach the package index at"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing is printed half-done");
    assert!(files_under(&dir.path().join("cache")).is_empty());
}
