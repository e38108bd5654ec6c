//! PEP 440 against `packaging`'s own test tables, osv-scalibr's real-world PyPI orderings and a
//! table generated once with `packaging` 26.3 (see `testdata/README.md`).

#![allow(clippy::unwrap_used)]

mod common;

use std::cmp::Ordering;

use proptest::prelude::*;
use runbom_versions::{Pep440Specifiers, Pep440Version};
use serde_json::Value;

use common::{Outcome, comparisons, read};

fn v(s: &str) -> Pep440Version {
    Pep440Version::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn sorted_versions() -> Vec<String> {
    read("pypa-packaging/pep440-sorted-versions.txt")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn table(tables: &Value, test: &str) -> Vec<Vec<Value>> {
    let rows: Vec<Vec<Value>> = tables["parametrize_tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["test"] == test)
        .flat_map(|t| t["values"].as_array().unwrap())
        .map(|row| match row {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        })
        .collect();
    assert!(!rows.is_empty(), "no table {test}");
    rows
}

fn opt_bool(value: &Value) -> Option<bool> {
    value.as_bool()
}

#[test]
fn packaging_sorted_versions_are_strictly_ascending() {
    let versions = sorted_versions();
    assert_eq!(versions.len(), 92);
    let parsed: Vec<Pep440Version> = versions.iter().map(|s| v(s)).collect();
    for i in 0..parsed.len() {
        for j in 0..parsed.len() {
            assert_eq!(
                parsed[i].cmp(&parsed[j]),
                i.cmp(&j),
                "{} vs {}",
                versions[i],
                versions[j]
            );
        }
    }
}

#[test]
fn packaging_version_tables() {
    let tables: Value =
        serde_json::from_str(&read("pypa-packaging/test_version.tables.json")).unwrap();
    for row in table(&tables, "TestVersion.test_invalid_versions") {
        let input = row[0].as_str().unwrap();
        assert!(
            Pep440Version::parse(input).is_err(),
            "`{input}` must be invalid"
        );
    }
    for row in table(&tables, "TestVersion.test_normalized_versions") {
        let (input, normalized) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
        assert_eq!(v(input).to_string(), normalized, "normalising `{input}`");
    }
    for row in table(&tables, "TestVersion.test_version_str_repr") {
        let (input, expected) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
        assert_eq!(v(input).to_string(), expected, "str(`{input}`)");
    }
    for row in table(&tables, "TestVersion.test_version_is_prerelease") {
        let (input, expected) = (row[0].as_str().unwrap(), row[1].as_bool().unwrap());
        assert_eq!(
            v(input).is_prerelease(),
            expected,
            "is_prerelease(`{input}`)"
        );
    }
    for row in table(&tables, "TestVersion.test_version_epoch") {
        let (input, epoch) = (row[0].as_str().unwrap(), row[1].as_u64().unwrap());
        assert_eq!(v(input).as_pep440().epoch(), epoch, "epoch(`{input}`)");
    }
}

#[test]
fn packaging_specifier_tables() {
    let tables: Value =
        serde_json::from_str(&read("pypa-packaging/test_specifiers.tables.json")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut check =
        |spec: &str, version: &str, prereleases: Option<bool>, expected: bool, test: &str| {
            checked += 1;
            match Pep440Specifiers::parse(spec) {
                Ok(set) => {
                    let got = set.contains_str(version, prereleases);
                    if got != expected {
                        failures.push(format!(
                        "{test}: `{version}` in `{spec}` (prereleases={prereleases:?}): got {got}"
                    ));
                    }
                }
                Err(err) => failures.push(format!("{test}: {err}")),
            }
        };
    let s = |value: &Value| value.as_str().unwrap().to_owned();
    let b = |value: &Value| value.as_bool().unwrap();

    for row in table(&tables, "TestSpecifier.test_specifiers") {
        check(
            &s(&row[1]),
            &s(&row[0]),
            Some(true),
            b(&row[2]),
            "test_specifiers",
        );
    }
    for row in table(&tables, "TestSpecifier.test_invalid_version") {
        check(
            &s(&row[0]),
            &s(&row[1]),
            Some(true),
            b(&row[2]),
            "test_invalid_version",
        );
    }
    for row in table(&tables, "TestSpecifier.test_arbitrary_equality") {
        check(
            &s(&row[1]),
            &s(&row[0]),
            None,
            b(&row[2]),
            "test_arbitrary_equality",
        );
    }
    for row in table(&tables, "TestSpecifier.test_specifiers_prereleases") {
        // Specifier(spec, prereleases=spec_pre).contains(version, prereleases=contains_pre)
        let pre = opt_bool(&row[3]).or(opt_bool(&row[2]));
        check(
            &s(&row[0]),
            &s(&row[1]),
            pre,
            b(&row[4]),
            "test_specifiers_prereleases",
        );
    }
    for row in table(
        &tables,
        "TestSpecifierSet.test_contains_exclusionary_bridges",
    ) {
        check(
            &s(&row[0]),
            &s(&row[2]),
            opt_bool(&row[1]),
            b(&row[3]),
            "test_contains_exclusionary_bridges",
        );
    }
    for row in table(
        &tables,
        "TestSpecifierSet.test_specifier_contains_installed_prereleases",
    ) {
        let version = s(&row[1]);
        let installed = opt_bool(&row[4]) == Some(true);
        let is_pre = Pep440Version::parse(&version).is_ok_and(|v| v.is_prerelease());
        let pre = if installed && is_pre {
            Some(true)
        } else {
            opt_bool(&row[3]).or(opt_bool(&row[2]))
        };
        check(
            &s(&row[0]),
            &version,
            pre,
            b(&row[5]),
            "test_specifier_contains_installed_prereleases",
        );
    }
    for row in table(
        &tables,
        "TestSpecifierSet.test_contains_post_release_boundary_intersection",
    ) {
        check(
            &s(&row[0]),
            &s(&row[1]),
            Some(true),
            b(&row[2]),
            "test_contains_post_release_boundary_intersection",
        );
    }
    for row in table(&tables, "TestSpecifierSet.test_comparison_ignores_local") {
        check(
            &s(&row[1]),
            &s(&row[0]),
            None,
            b(&row[2]),
            "test_comparison_ignores_local",
        );
    }
    for row in table(
        &tables,
        "TestSpecifierSet.test_contains_arbitrary_equality_contains",
    ) {
        check(
            &s(&row[1]),
            &s(&row[0]),
            None,
            b(&row[2]),
            "test_contains_arbitrary_equality_contains",
        );
    }
    for row in table(&tables, "test_boundary_closure_short_release") {
        check(
            &s(&row[0]),
            &s(&row[1]),
            None,
            b(&row[2]),
            "test_boundary_closure_short_release",
        );
    }
    for row in table(&tables, "TestSpecifier.test_specifiers_invalid") {
        let spec = s(&row[0]);
        if Pep440Specifiers::parse(&spec).is_ok() {
            failures.push(format!("test_specifiers_invalid: `{spec}` parsed"));
        }
    }
    for spec in tables["module_level_lists"]["SPECIFIERS"]
        .as_array()
        .unwrap()
    {
        let spec = s(spec);
        if let Err(err) = Pep440Specifiers::parse(&spec) {
            failures.push(format!("SPECIFIERS: {err}"));
        }
    }
    assert!(checked > 400, "only {checked} rows");
    assert!(
        failures.is_empty(),
        "{} of {checked} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn generated_packaging_contains_table() {
    let text = read("pypa-packaging/packaging-contains.tsv");
    let mut failures = Vec::new();
    let mut rows = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split('\t');
        let (Some(spec), Some(version), Some(expected)) =
            (fields.next(), fields.next(), fields.next())
        else {
            panic!("bad row `{line}`");
        };
        rows += 1;
        let set = Pep440Specifiers::parse(spec).unwrap_or_else(|e| panic!("{e}"));
        let got = set.contains_str(version, None);
        if got != (expected == "true") {
            failures.push(format!(
                "`{version}` in `{spec}`: packaging {expected}, runbom {got}"
            ));
        }
    }
    assert!(rows > 7000);
    assert!(
        failures.is_empty(),
        "{} of {rows} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn scalibr_pypi_orderings() {
    // The skipped lines hold legacy versions (`0.1-bulbasaur`, `2013-01-21T20:33:09+0100`,
    // `0.3m1`) that `packaging` 26.3 rejects too: exactly 11 and 69 lines, checked with it.
    for (file, skipped) in [
        ("osv-scalibr-semantic/pypi-versions.txt", 11),
        ("osv-scalibr-semantic/pypi-versions-generated.txt", 69),
    ] {
        let outcome: Outcome = comparisons(
            &read(file),
            |s| Pep440Version::parse(s).ok(),
            |a, b| a.cmp(b),
        );
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
        assert!(outcome.checked >= 26, "{file}: {outcome:?}");
    }
}

proptest! {
    /// The order is a total order consistent with packaging's sorted list: antisymmetric,
    /// transitive, and it sorts any shuffle of the list back into packaging's order.
    #[test]
    fn order_is_total_and_matches_packaging(indices in proptest::collection::vec(0usize..92, 3..40)) {
        let versions = sorted_versions();
        let picked: Vec<(usize, Pep440Version)> = indices.iter().map(|&i| (i, v(&versions[i]))).collect();
        for (i, a) in &picked {
            for (j, b) in &picked {
                prop_assert_eq!(a.cmp(b), b.cmp(a).reverse());
                prop_assert_eq!(a.cmp(b), i.cmp(j));
            }
        }
        let mut sorted = picked.clone();
        sorted.sort_by(|a, b| a.1.cmp(&b.1));
        let mut expected = indices.clone();
        expected.sort();
        prop_assert_eq!(sorted.iter().map(|p| p.0).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "\\PC{0,30}") {
        let _ = Pep440Version::parse(&text);
        let _ = Pep440Specifiers::parse(&text);
    }

    #[test]
    fn comparison_is_transitive_on_generated_versions(
        a in "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}((a|b|rc)[0-9])?(\\.post[0-9])?(\\.dev[0-9])?(\\+[a-z0-9]{1,3})?",
        b in "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}((a|b|rc)[0-9])?(\\.post[0-9])?(\\.dev[0-9])?(\\+[a-z0-9]{1,3})?",
        c in "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}((a|b|rc)[0-9])?(\\.post[0-9])?(\\.dev[0-9])?(\\+[a-z0-9]{1,3})?",
    ) {
        let (a, b, c) = (v(&a), v(&b), v(&c));
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
        if a.cmp(&b) == Ordering::Equal {
            prop_assert_eq!(a.cmp(&c), b.cmp(&c));
        }
    }
}
