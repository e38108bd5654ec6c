//! SemVer against node-semver's and osv-scalibr's tables; Go versions against golang/mod's.

#![allow(clippy::unwrap_used)]

mod common;

use std::cmp::Ordering;

use proptest::prelude::*;
use runbom_versions::go::{PseudoVersion, is_pseudo_version};
use runbom_versions::{Ecosystem, GoVersion, SemVer};

use common::{comparisons, read};

/// The single-quoted strings of each `[...]` row of a node-semver fixture, and whether the row
/// asks for `loose` parsing.
fn js_rows(text: &str) -> Vec<(Vec<String>, bool)> {
    text.lines()
        .map(str::trim)
        .filter(|line| line.starts_with("['"))
        .map(|line| {
            let strings = line
                .split('\'')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            let loose = line.contains("true");
            (strings, loose)
        })
        .collect()
}

fn semver(s: &str) -> Option<SemVer> {
    SemVer::parse(Ecosystem::Npm, s).ok()
}

#[test]
fn node_semver_comparisons() {
    let rows = js_rows(&read("node-semver/comparisons.js"));
    let mut checked = 0;
    for (strings, loose) in &rows {
        let (a, b) = (&strings[0], &strings[1]);
        match (semver(a), semver(b)) {
            (Some(va), Some(vb)) => {
                assert_eq!(va.cmp(&vb), Ordering::Greater, "{a} > {b}");
                assert_eq!(vb.cmp(&va), Ordering::Less, "{b} < {a}");
                checked += 1;
            }
            _ => assert!(loose, "strict row `{a}` / `{b}` must parse"),
        }
    }
    assert!(checked >= 30, "{checked}");
}

#[test]
fn node_semver_equality() {
    let rows = js_rows(&read("node-semver/equality.js"));
    let mut checked = 0;
    let mut loose_only = 0;
    for (strings, loose) in &rows {
        let (a, b) = (&strings[0], &strings[1]);
        match (semver(a), semver(b)) {
            (Some(va), Some(vb)) => {
                assert_eq!(va, vb, "{a} == {b}");
                checked += 1;
            }
            // npm's loose mode accepts `v 1.2.3` and ` =1.2.3`; OSV data never spells versions so.
            _ => {
                assert!(loose, "strict row `{a}` / `{b}` must parse");
                loose_only += 1;
            }
        }
    }
    assert!(
        checked >= 15 && loose_only < checked * 2,
        "{checked} / {loose_only}"
    );
}

#[test]
fn node_semver_valid_and_invalid() {
    for (strings, _) in js_rows(&read("node-semver/valid-versions.js")) {
        let v = semver(&strings[0]).unwrap_or_else(|| panic!("`{}` is valid", strings[0]));
        assert!(v.to_string().starts_with(&v.core()));
    }
    for (strings, _) in js_rows(&read("node-semver/invalid-versions.js")) {
        assert!(semver(&strings[0]).is_none(), "`{}` is invalid", strings[0]);
    }
}

#[test]
fn scalibr_semver_orderings() {
    // Used by osv-scalibr for npm, crates.io and Go. `1.1.3.4.5 = 1.1.3.4.5` (more than three
    // numbers) and `999…991 < 999…999` (one number) are its lenient extensions; SemVer 2.0 and
    // npm reject them, so those lines are skipped.
    let outcome = comparisons(
        &read("osv-scalibr-semantic/semver-versions.txt"),
        semver,
        SemVer::cmp,
    );
    assert!(outcome.failures.is_empty(), "{:#?}", outcome.failures);
    assert_eq!(
        outcome.unparsable,
        [
            "999999999999999999999999999991 < 999999999999999999999999999999",
            "1.1.3.4.5 = 1.1.3.4.5"
        ]
    );
    assert!(outcome.checked >= 80, "{outcome:?}");
    let go = comparisons(
        &read("osv-scalibr-semantic/semver-versions.txt"),
        |s| GoVersion::parse(s).ok(),
        GoVersion::cmp,
    );
    assert!(go.failures.is_empty(), "{:#?}", go.failures);
}

#[test]
fn golang_mod_semver_table() {
    let text = read("golang-mod/semver-ordered.tsv");
    let rows: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once('\t').unwrap_or((l, "")))
        .collect();
    let mut valid = Vec::new();
    for (index, (input, canonical)) in rows.iter().enumerate() {
        match GoVersion::parse(input) {
            Ok(v) => {
                assert_eq!(&v.canonical(), canonical, "canonical form of `{input}`");
                valid.push((index, *canonical, v));
            }
            Err(_) => assert!(canonical.is_empty(), "`{input}` is valid in Go"),
        }
    }
    for (i, ci, a) in &valid {
        for (j, cj, b) in &valid {
            let expected = if ci == cj { Ordering::Equal } else { i.cmp(j) };
            assert_eq!(
                a.cmp(b),
                expected,
                "compare `{}` `{}`",
                rows[*i].0,
                rows[*j].0
            );
        }
    }
    assert!(valid.len() >= 24);
}

#[test]
fn golang_mod_pseudo_versions() {
    let text = read("golang-mod/pseudo-versions.tsv");
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (older, pseudo) = (fields[1], fields[2]);
        assert!(is_pseudo_version(pseudo), "`{pseudo}` is a pseudo-version");
        assert!(!is_pseudo_version(older), "`{older}` is not");
        let parts = PseudoVersion::parse(pseudo).unwrap();
        assert_eq!(parts.base, older, "base of `{pseudo}`");
        assert_eq!(parts.timestamp, "20060102150405");
        assert_eq!(parts.revision, "hash");
        let (p, o) = (
            GoVersion::parse(pseudo).unwrap(),
            GoVersion::parse(older).ok(),
        );
        if let Some(o) = o {
            assert!(o < p, "`{older}` < `{pseudo}`");
        }
    }
    // From pseudo_test.go's TestInvalidPseudoVersionBase.
    for bad in [
        "v0.0.0",
        "v0.0.0-",
        "v0.0.0-0.20060102150405-hash",
        "v0.1.0-0.20060102150405-hash",
        "v1.0.0-0.20060102150405-hash",
        "v0.0.0-20060102150405-hash+incompatible",
        "v0.0.0-20060102150405-hash+metadata",
    ] {
        assert_eq!(PseudoVersion::parse(bad), None, "`{bad}`");
    }
}

proptest! {
    #[test]
    fn semver_order_is_antisymmetric_and_transitive(
        a in "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-(alpha|beta|[1-9][0-9]?|rc)(\\.(1|2|x)){0,2})?(\\+b[0-9])?",
        b in "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-(alpha|beta|[1-9][0-9]?|rc)(\\.(1|2|x)){0,2})?(\\+b[0-9])?",
        c in "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-(alpha|beta|[1-9][0-9]?|rc)(\\.(1|2|x)){0,2})?(\\+b[0-9])?",
    ) {
        let strip = |s: &str| s.split('.').map(|p| p.trim_start_matches('0')).map(|p| if p.is_empty() { "0" } else { p }).collect::<Vec<_>>().join(".");
        let (Some(a), Some(b), Some(c)) = (semver(&strip(&a)), semver(&strip(&b)), semver(&strip(&c))) else {
            return Ok(());
        };
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
    }

    #[test]
    fn go_and_semver_parsers_never_panic(text in "\\PC{0,24}") {
        let _ = GoVersion::parse(&text);
        let _ = SemVer::parse(Ecosystem::Npm, &text);
        let _ = is_pseudo_version(&text);
        let _ = PseudoVersion::parse(&text);
    }
}
