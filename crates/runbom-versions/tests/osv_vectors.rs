//! OSV range evaluation against an independent reference: PyPA advisories with expected
//! verdicts computed by the OSV schema's pseudocode over Python `packaging` (see
//! `testdata/pypa-osv/generate-cases.py`).

#![allow(clippy::unwrap_used)]

mod common;

use runbom_model::advisory::Affected;
use runbom_versions::{Ecosystem, affects, lowest_fixed_above};
use serde::Deserialize;

use common::read;

#[derive(Deserialize)]
struct Entry {
    advisory: String,
    affected: Affected,
    cases: Vec<(String, bool)>,
}

#[test]
fn pypa_advisories_agree_with_packaging_reference() {
    let text = read("pypa-osv/cases.jsonl");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        let entry: Entry = serde_json::from_str(line).unwrap();
        for (version, expected) in &entry.cases {
            let verdict = affects(Ecosystem::PyPi, &entry.affected, version).unwrap();
            checked += 1;
            if verdict.is_affected() != *expected {
                failures.push(format!(
                    "{} `{version}`: expected {expected}, got {verdict:?}",
                    entry.advisory
                ));
            }
        }
    }
    assert!(checked > 6000, "{checked}");
    assert!(
        failures.is_empty(),
        "{} of {checked} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn lowest_fixed_above_is_unaffected_and_above() {
    let text = read("pypa-osv/cases.jsonl");
    for line in text.lines() {
        let entry: Entry = serde_json::from_str(line).unwrap();
        for (version, expected) in &entry.cases {
            if !expected {
                continue;
            }
            if let Some(fixed) =
                lowest_fixed_above(Ecosystem::PyPi, &entry.affected, version).unwrap()
            {
                let fixed_v = runbom_versions::Pep440Version::parse(&fixed).unwrap();
                assert!(
                    fixed_v > runbom_versions::Pep440Version::parse(version).unwrap(),
                    "{} {version} -> {fixed}",
                    entry.advisory
                );
                assert!(
                    !affects(Ecosystem::PyPi, &entry.affected, &fixed)
                        .unwrap()
                        .is_affected(),
                    "{} {fixed}",
                    entry.advisory
                );
            }
        }
    }
}
