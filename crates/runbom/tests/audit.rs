//! `runbom audit` from the command line: findings over real PyPA advisories agree with Python
//! `packaging`'s answer (`runbom-analysis/testdata/pypa-env`), runtime use ranks them, the
//! formats (table, JSON, SARIF) are pinned by snapshots, and exit codes follow `--fail-on`,
//! ignores and bad input.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

fn pypa_env() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbom-analysis/testdata/pypa-env")
}

fn site(env: &str) -> PathBuf {
    pypa_env().join("envs").join(env).join("site-packages")
}

fn runbom(dir: &Path) -> assert_cmd::Command {
    let mut cmd = common::runbom();
    cmd.env("RUNBOM_DB", dir.join("runbom.db")).current_dir(dir);
    cmd
}

/// A store holding the PyPA advisories of the fixture's packages, plus `extra` OSV records.
fn store_with(dir: &Path, extra: &[serde_json::Value]) {
    let extra_dir = dir.join("extra");
    std::fs::create_dir_all(&extra_dir).unwrap();
    for record in extra {
        let id = record["id"].as_str().unwrap();
        std::fs::write(
            extra_dir.join(format!("{id}.json")),
            serde_json::to_vec(record).unwrap(),
        )
        .unwrap();
    }
    runbom(dir)
        .args(["db", "import"])
        .arg(pypa_env().join("advisories"))
        .arg(&extra_dir)
        .assert()
        .success();
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    package: String,
    version: String,
    ids: Vec<String>,
    fixed: Option<String>,
}

#[derive(Deserialize)]
struct ExpectedFile {
    envs: std::collections::BTreeMap<String, Vec<Expected>>,
}

/// Done-when of issue 3: through the store and the command line, every finding of both fixture
/// environments (old releases; pre-, post-, dev-releases, epochs, local versions,
/// `last_affected`) is the one `expected_findings.py` computes with `packaging`.
#[test]
fn findings_agree_with_the_packaging_reference() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), &[]);
    let reference: ExpectedFile = serde_json::from_str(
        &std::fs::read_to_string(pypa_env().join("expected-findings.json")).unwrap(),
    )
    .unwrap();
    for (env, expected) in reference.envs {
        let out = runbom(dir.path())
            .args(["audit", "--format", "json", "--path"])
            .arg(site(&env))
            .assert()
            .code(1)
            .get_output()
            .clone();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let got: BTreeSet<Expected> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let mut ids: Vec<String> = std::iter::once(&f["id"])
                    .chain(f["aliases"].as_array().unwrap())
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect();
                ids.sort();
                Expected {
                    package: f["package"]["name"].as_str().unwrap().to_owned(),
                    version: f["package"]["version"].as_str().unwrap().to_owned(),
                    ids,
                    fixed: f["fixed"].as_str().map(str::to_owned),
                }
            })
            .collect();
        let expected: BTreeSet<Expected> = expected.into_iter().collect();
        assert_eq!(got, expected, "env {env}");
    }
}

/// A hand-made record naming jinja2's sandbox module as the vulnerable code (PyPA's
/// `ecosystem_specific.imports` form), and one naming a module the program never loads.
fn code_records() -> Vec<serde_json::Value> {
    let record = |id: &str, module: &str, cvss: &str| {
        serde_json::json!({
            "id": id,
            "modified": "2024-01-01T00:00:00Z",
            "summary": format!("hand-made: vulnerable code in {module}"),
            "severity": [{"type": "CVSS_V3", "score": cvss}],
            "affected": [{
                "package": {"ecosystem": "PyPI", "name": "Jinja2"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.10.1"}]}],
                "ecosystem_specific": {"imports": [{"modules": [module], "attribute": "render"}]}
            }]
        })
    };
    vec![
        record(
            "TEST-2024-1",
            "jinja2.sandbox",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
        record(
            "TEST-2024-2",
            "jinja2.ext",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
    ]
}

/// jinja2 loaded (with its sandbox), urllib3 installed but never loaded, the rest of the `main`
/// environment without runtime evidence; one ignore holds, one expired.
fn scenario(dir: &Path, format: &str) -> (i32, String) {
    store_with(dir, &code_records());
    let report = common::runtime_report(dir, &[("urllib3", "1.24.1", false)]);
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    value["distributions"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "name": "Jinja2", "normalized_name": "jinja2", "version": "2.10",
            "purl": "pkg:pypi/jinja2@2.10", "location": dir, "size": 1,
            "modules": [{"name": "jinja2", "pids": [42]}, {"name": "jinja2.sandbox", "pids": [42]}]
        }));
    std::fs::write(&report, serde_json::to_vec(&value).unwrap()).unwrap();
    std::fs::write(
        dir.join("runbom.toml"),
        "[advisories]\nignore = [\n  { id = \"CVE-2020-28493\", reason = \"no untrusted templates\", expires = \"2999-12-31\" },\n  { id = \"GHSA-x84v-xcm2-53pg\", reason = \"internal hosts only\", expires = \"2020-01-01\" },\n]\n",
    )
    .unwrap();
    let out = runbom(dir)
        .args([
            "audit",
            "--fail-on",
            "high",
            "--format",
            format,
            "--runtime",
        ])
        .arg(&report)
        .arg("--path")
        .arg(site("main"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let canonical = site("main").canonicalize().unwrap();
    let text = text
        .replace(&canonical.display().to_string(), "[site]")
        .replace(&site("main").display().to_string(), "[site]")
        .replace(&dir.display().to_string(), "[dir]")
        .replace(env!("CARGO_PKG_VERSION"), "[version]");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn table_ranks_loaded_first_and_names_the_loaded_vulnerable_code() {
    let dir = tempfile::tempdir().unwrap();
    let (code, table) = scenario(dir.path(), "table");
    assert_eq!(code, 1);
    insta::assert_snapshot!("table", table);
    let first = table.lines().nth(1).unwrap();
    assert!(
        first.starts_with("loaded ") && first.contains("TEST-2024-1"),
        "{first}"
    );
}

#[test]
fn json_report() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json) = scenario(dir.path(), "json");
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema"], "runbom.audit/v1");
    insta::assert_json_snapshot!("json", value);
}

#[test]
fn sarif_report() {
    let dir = tempfile::tempdir().unwrap();
    let (_, sarif) = scenario(dir.path(), "sarif");
    let value: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(value["version"], "2.1.0");
    insta::assert_json_snapshot!("sarif", value);
}

#[test]
fn fail_on_ignores_and_bad_input_set_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let empty = runbom(dir.path())
        .args(["audit", "--path"])
        .arg(site("main"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("the advisory store is empty"),
        "{empty:?}"
    );
    store_with(dir.path(), &[]);
    // certifi 2024.8.30 and idna 3.10 alone: no known vulnerability.
    let clean = dir.path().join("requirements.txt");
    std::fs::write(&clean, "certifi==2024.8.30\nidna==3.10\nflask>=2\n").unwrap();
    let out = runbom(dir.path())
        .args(["audit", "--expected"])
        .arg(&clean)
        .assert()
        .code(0)
        .get_output()
        .clone();
    insta::assert_snapshot!("clean", String::from_utf8(out.stdout).unwrap());
    // Only unrated findings and one medium: `--fail-on critical` still fails on the unrated.
    std::fs::create_dir_all(dir.path().join("pinned")).unwrap();
    let pinned = dir.path().join("pinned/requirements.txt");
    std::fs::write(&pinned, "jinja2==2.10\n").unwrap();
    runbom(dir.path())
        .args(["audit", "--fail-on", "critical", "--expected"])
        .arg(&pinned)
        .assert()
        .code(1);
    // Every finding ignored: clean.
    std::fs::write(
        dir.path().join("runbom.toml"),
        "[advisories]\nignore = [\n  { id = \"PYSEC-2019-217\", reason = \"r\" },\n  { id = \"CVE-2020-28493\", reason = \"r\" },\n  { id = \"GHSA-h5c8-rqwp-cp95\", reason = \"r\" },\n  { id = \"GHSA-h75v-3vvj-5mfj\", reason = \"r\" },\n  { id = \"GHSA-q2x7-8rv6-6q7h\", reason = \"r\" },\n  { id = \"GHSA-gmj6-6f8f-6699\", reason = \"r\" },\n  { id = \"GHSA-cpwx-vrp4-4pq7\", reason = \"r\" },\n]\n",
    )
    .unwrap();
    let ignored = runbom(dir.path())
        .args(["audit", "--expected"])
        .arg(&pinned)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&ignored.stdout);
    assert!(stdout.contains("ignored: "), "{stdout}");
    for bad in [
        vec![
            "audit",
            "--fail-on",
            "severe",
            "--expected",
            "pinned/requirements.txt",
        ],
        vec!["audit", "--runtime", "missing.json"],
        vec!["audit", "--expected", "runbom.toml"],
    ] {
        runbom(dir.path()).args(&bad).assert().code(2);
    }
    std::fs::write(dir.path().join("runbom.toml"), "[advisories]\nignore = 3\n").unwrap();
    runbom(dir.path())
        .args(["audit", "--expected", "pinned/requirements.txt"])
        .assert()
        .code(2);
}
