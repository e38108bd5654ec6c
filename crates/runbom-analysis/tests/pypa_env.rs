//! Done-when check of issue 3: fixture environments of real packages at known-vulnerable old
//! releases, matched against real PyPA advisories, agree with findings computed independently by
//! `testdata/pypa-env/expected_findings.py` (the OSV pseudocode over Python `packaging`).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use runbom_analysis::vulns::{Candidate, Finding, components, match_component};
use runbom_ecosystems::python::read_inventory;
use runbom_model::Advisory;
use runbom_model::inventory::Interpreter;
use serde::Deserialize;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pypa-env")
}

fn advisories() -> Vec<(Advisory, Vec<String>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(testdata().join("advisories"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .flat_map(|dir| std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            // Through a JSON value: OSV events are single-key maps, not YAML-tagged enums.
            let value: serde_json::Value = serde_norway::from_str(&text).unwrap();
            let advisory: Advisory =
                serde_json::from_value(value).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let ids = advisory.ids().into_iter().map(str::to_owned).collect();
            (advisory, ids)
        })
        .collect()
}

fn interpreter() -> Interpreter {
    Interpreter {
        executable: "/nonexistent/python3".into(),
        implementation: "cpython".into(),
        version: "3.11.7".into(),
        prefix: "/nonexistent".into(),
        base_prefix: "/nonexistent".into(),
        sys_path: Vec::new(),
        user_site: None,
        is_venv: true,
    }
}

/// runbom's findings for one fixture environment.
fn audit(env: &str, advisories: &[(Advisory, Vec<String>)]) -> Vec<Finding> {
    let site = testdata().join("envs").join(env).join("site-packages");
    let inventory = read_inventory(&interpreter(), &[site]);
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    let candidates: Vec<Candidate<'_>> = advisories
        .iter()
        .map(|(advisory, ids)| Candidate { advisory, ids })
        .collect();
    components::from_inventory(&inventory)
        .iter()
        .flat_map(|component| match_component(component, &candidates).unwrap())
        .collect()
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    package: String,
    version: String,
    ids: Vec<String>,
    fixed: Option<String>,
}

fn as_expected(findings: &[Finding]) -> BTreeSet<Expected> {
    findings
        .iter()
        .map(|f| Expected {
            package: f.package.name.to_string(),
            version: f.package.version.clone(),
            ids: f
                .ids()
                .map(str::to_owned)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            fixed: f.fixed.clone(),
        })
        .collect()
}

#[derive(Deserialize)]
struct ExpectedFile {
    envs: std::collections::BTreeMap<String, Vec<Expected>>,
}

fn check_against(expected: &str) {
    let expected: ExpectedFile = serde_json::from_str(expected).unwrap();
    let advisories = advisories();
    assert_eq!(advisories.len(), 148);
    for (env, expected) in expected.envs {
        let got = as_expected(&audit(&env, &advisories));
        let expected: BTreeSet<Expected> = expected.into_iter().collect();
        let missed: Vec<_> = expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(&expected).collect();
        assert!(
            missed.is_empty() && extra.is_empty(),
            "env {env}: missed {missed:#?}\nextra {extra:#?}"
        );
        assert!(!got.is_empty(), "env {env} has no findings at all");
    }
}

#[test]
fn findings_agree_with_the_packaging_reference() {
    check_against(&std::fs::read_to_string(testdata().join("expected-findings.json")).unwrap());
}

/// The committed reference is the script's output: re-run it where Python has PyYAML and
/// `packaging` (or pip's vendored copy) (`RUNBOM_TEST_PYTHON` names the interpreter; default
/// `python3`).
#[test]
fn committed_reference_is_what_the_script_prints() {
    let python = std::env::var("RUNBOM_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let probe = Command::new(&python)
        .args([
            "-c",
            "import yaml\ntry:\n import packaging\nexcept ImportError:\n import pip._vendor.packaging",
        ])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: `{python}` cannot import packaging and yaml");
        return;
    }
    let output = Command::new(&python)
        .arg(testdata().join("expected_findings.py"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fresh: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(testdata().join("expected-findings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(fresh["envs"], committed["envs"]);
    check_against(&String::from_utf8(output.stdout).unwrap());
}
