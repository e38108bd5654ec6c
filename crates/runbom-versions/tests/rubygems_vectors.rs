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
