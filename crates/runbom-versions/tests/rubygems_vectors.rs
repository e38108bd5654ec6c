//! RubyGems versions and requirements against rubygems' own test assertions, osv-scalibr's
//! real-world orderings and the published `rails` versions.

#![allow(clippy::unwrap_used)]

mod common;

use std::cmp::Ordering;

use proptest::prelude::*;
use runbom_versions::{GemRequirement, GemVersion};

use common::{comparisons, read};

fn v(s: &str) -> GemVersion {
    GemVersion::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
        .collect()
}

#[test]
fn rubygems_spaceship_table() {
    let text = read("rubygems/gem-version-compare.tsv");
    let rows = rows(&text);
    assert!(rows.len() >= 26);
    for row in rows {
        let (a, b) = (v(row[0]), v(row[1]));
        match row[2] {
            "!=0" => assert_ne!(a.cmp(&b), Ordering::Equal, "{row:?}"),
            expected => {
                let expected = match expected {
                    "-1" => Ordering::Less,
                    "0" => Ordering::Equal,
                    _ => Ordering::Greater,
                };
                assert_eq!(a.cmp(&b), expected, "{row:?}");
                assert_eq!(b.cmp(&a), expected.reverse(), "{row:?}");
            }
        }
    }
}

#[test]
fn rubygems_prerelease_table() {
    for row in rows(&read("rubygems/gem-version-prerelease.tsv")) {
        assert_eq!(v(row[0]).is_prerelease(), row[1] == "true", "{row:?}");
    }
}

#[test]
fn rubygems_requirement_table() {
    let text = read("rubygems/gem-requirement-satisfied.tsv");
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [version, requirement, expected] = fields[..] else {
            panic!("bad row `{line}`");
        };
        let requirement = GemRequirement::parse(requirement).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            requirement.satisfied_by(&v(version)),
            expected == "true",
            "`{version}` satisfies `{requirement}`"
        );
        checked += 1;
    }
    assert!(checked >= 77, "{checked}");
}

#[test]
fn scalibr_rubygems_orderings() {
    // `1beta` and `1gamma` are not `Gem::Version`s (`Malformed version number string`): a letter
    // must follow a `.`; osv-scalibr's own parser is laxer. Those lines are skipped.
    for (file, skipped) in [
        ("osv-scalibr-semantic/rubygems-versions.txt", 2),
        ("osv-scalibr-semantic/rubygems-versions-generated.txt", 0),
    ] {
        let outcome = comparisons(&read(file), |s| GemVersion::parse(s).ok(), GemVersion::cmp);
        assert!(
            outcome.failures.is_empty(),
            "{file}: {:#?}",
            outcome.failures
        );
        assert_eq!(
            outcome.unparsable.len(),
            skipped,
            "{file}: {:#?}",
            outcome.unparsable
        );
        assert!(outcome.checked >= 20, "{file}: {outcome:?}");
    }
}

#[test]
fn rails_versions_all_parse_and_pre_flags_agree() {
    let text = read("osv.dev/rubygems-rails-versions.tsv");
    let rows = rows(&text);
    assert_eq!(rows.len(), 516);
    let mut versions: Vec<GemVersion> = rows
        .iter()
        .map(|row| {
            let version = v(row[0]);
            assert_eq!(version.is_prerelease(), row[2] == "true", "{row:?}");
            version
        })
        .collect();
    versions.sort();
    // osv.dev's test: the next version after 2.3.7 is 2.3.8.pre1, after 4.0.0.beta1 is 4.0.0.rc1.
    let next = |after: &str| {
        let after = v(after);
        versions.iter().find(|x| **x > after).unwrap().to_string()
    };
    assert_eq!(next("2.3.7"), "2.3.8.pre1");
    assert_eq!(next("4.0.0.beta1"), "4.0.0.rc1");
}

proptest! {
    #[test]
    fn order_is_antisymmetric_and_transitive(
        a in "[0-9]{1,2}(\\.([0-9]{1,2}|a|b|rc|pre|x)){0,4}",
        b in "[0-9]{1,2}(\\.([0-9]{1,2}|a|b|rc|pre|x)){0,4}",
        c in "[0-9]{1,2}(\\.([0-9]{1,2}|a|b|rc|pre|x)){0,4}",
    ) {
        let (a, b, c) = (v(&a), v(&b), v(&c));
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
    }

    #[test]
    fn parsers_never_panic(text in "\\PC{0,24}") {
        let _ = GemVersion::parse(&text);
        let _ = GemRequirement::parse(&text);
    }
}

mod rubysec {
    use runbom_model::advisory::{Affected, Range, RangeKind};
    use runbom_versions::rubysec::{to_osv_events, vulnerable};
    use runbom_versions::{Ecosystem, GemRequirement, GemVersion, affects};
    use serde::Deserialize;

    use super::common::read;

    #[derive(Deserialize)]
    struct Advisory {
        advisory: String,
        patched: Vec<String>,
        unaffected: Vec<String>,
    }

    fn parse(list: &[String]) -> Vec<GemRequirement> {
        list.iter()
            .map(|r| GemRequirement::parse(r).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    /// Every requirement of the 1,234 advisories parses, and the converted OSV events give the
    /// rubysec verdict for every version the advisory names, its neighbours and every seventh
    /// rails version, the versions the conversion reports as inexact included (the range lists
    /// them in `database_specific.inexact`, as the import writes it).
    #[test]
    fn conversion_to_osv_agrees_with_rubysec_rule() {
        let advisories: Vec<Advisory> =
            serde_json::from_str(&read("ruby-advisory-db/requirements.json")).unwrap();
        assert_eq!(advisories.len(), 1234);
        let rails = read("osv.dev/rubygems-rails-versions.tsv");
        let rails: Vec<&str> = rails
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').next().unwrap())
            .step_by(7)
            .collect();
        let (mut checked, mut inexact_spots) = (0, 0);
        for advisory in &advisories {
            let (patched, unaffected) = (parse(&advisory.patched), parse(&advisory.unaffected));
            let conversion = to_osv_events(&patched, &unaffected);
            inexact_spots += conversion.inexact.len();
            let affected = Affected {
                ranges: vec![Range {
                    kind: RangeKind::Ecosystem,
                    repo: None,
                    events: conversion.events.clone(),
                    database_specific: Some(serde_json::json!({ "inexact": conversion.inexact })),
                }],
                ..Affected::default()
            };
            let mut probes: Vec<String> = rails.iter().map(|s| s.to_string()).collect();
            for requirement in patched.iter().chain(&unaffected) {
                for (_, v) in requirement.constraints() {
                    let bump = v.bump();
                    for suffix in ["", ".0.1", ".1", ".a", ".rc1", ".pre.1"] {
                        probes.push(format!("{v}{suffix}"));
                    }
                    probes.push(bump.to_string());
                    probes.push(format!("{bump}.rc1"));
                }
            }
            probes.extend(conversion.inexact.iter().map(|v| format!("{v}.0")));
            for probe in &probes {
                let version = GemVersion::parse(probe).unwrap();
                let expected = vulnerable(&patched, &unaffected, &version);
                let got = affects(Ecosystem::RubyGems, &affected, probe)
                    .unwrap()
                    .is_affected();
                assert_eq!(
                    got, expected,
                    "{} `{probe}`: events {:?}",
                    advisory.advisory, conversion.events
                );
                checked += 1;
            }
        }
        assert!(checked > 100_000, "{checked}");
        eprintln!("{checked} checked; {inexact_spots} inexact spots");
        assert!(inexact_spots < 30, "{inexact_spots}");
    }
}
