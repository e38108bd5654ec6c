//! CPAN versions against Perl's own `version.pm`, and Tcl versions against `tclsh` 8.6, both
//! from tables generated once with the real implementations (see `testdata/README.md`).

#![allow(clippy::unwrap_used)]

mod common;

use std::cmp::Ordering;

use runbom_versions::tcl::vsatisfies;
use runbom_versions::{CpanVersion, TclRequirement, TclVersion};

use common::read;

fn ordering(text: &str) -> Ordering {
    match text {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        other => panic!("bad ordering `{other}`"),
    }
}

#[test]
fn cpan_against_version_pm() {
    let text = read("cpan/version-pm.tsv");
    let (mut parsed, mut compared) = (0, 0);
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["V", input, "ERR", _] => {
                assert!(
                    CpanVersion::parse(input).is_err(),
                    "`{input}` is invalid for version.pm"
                );
            }
            ["V", input, normal, alpha] => {
                let v = CpanVersion::parse(input).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(v.normal(), normal, "normal of `{input}`");
                assert_eq!(v.is_alpha(), alpha == "1", "is_alpha of `{input}`");
                parsed += 1;
            }
            ["C", a, b, cmp] => {
                let (va, vb) = (
                    CpanVersion::parse(a).unwrap(),
                    CpanVersion::parse(b).unwrap(),
                );
                assert_eq!(va.cmp(&vb), ordering(cmp), "`{a}` <=> `{b}`");
                compared += 1;
            }
            _ => panic!("bad row `{line}`"),
        }
    }
    assert!(parsed > 60 && compared > 4000, "{parsed} {compared}");
}

#[test]
fn tcl_against_tclsh() {
    let text = read("tcl/tclsh.tsv");
    let (mut compared, mut satisfied) = (0, 0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["V", input, "ERR"] => {
                assert!(
                    TclVersion::parse(input).is_err(),
                    "`{input}` is invalid for Tcl"
                );
            }
            ["V", input, "OK"] => {
                TclVersion::parse(input).unwrap_or_else(|e| panic!("{e}"));
            }
            ["C", a, b, cmp] => {
                let (va, vb) = (TclVersion::parse(a).unwrap(), TclVersion::parse(b).unwrap());
                assert_eq!(va.cmp(&vb), ordering(cmp), "vcompare {a} {b}");
                compared += 1;
            }
            ["S", version, requirement, expected] => {
                let r = TclRequirement::parse(requirement).unwrap_or_else(|e| panic!("{e}"));
                let got = vsatisfies(&TclVersion::parse(version).unwrap(), &[r]);
                assert_eq!(got, expected == "1", "vsatisfies {version} {requirement}");
                satisfied += 1;
            }
            _ => panic!("bad row `{line}`"),
        }
    }
    assert!(compared > 400 && satisfied > 400, "{compared} {satisfied}");
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(text in "\\PC{0,24}") {
        let _ = CpanVersion::parse(&text);
        let _ = TclVersion::parse(&text);
        let _ = TclRequirement::parse(&text);
    }

    #[test]
    fn tcl_order_is_antisymmetric_and_transitive(
        a in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}([ab][0-9])?",
        b in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}([ab][0-9])?",
        c in "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}([ab][0-9])?",
    ) {
        let (a, b, c) = (TclVersion::parse(&a).unwrap(), TclVersion::parse(&b).unwrap(), TclVersion::parse(&c).unwrap());
        proptest::prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        if a <= b && b <= c {
            proptest::prop_assert!(a <= c);
        }
    }

    #[test]
    fn cpan_order_is_antisymmetric_and_transitive(
        a in "v?[0-9]{1,3}(\\.[0-9]{1,4}){0,3}",
        b in "v?[0-9]{1,3}(\\.[0-9]{1,4}){0,3}",
        c in "v?[0-9]{1,3}(\\.[0-9]{1,4}){0,3}",
    ) {
        let (a, b, c) = (CpanVersion::parse(&a).unwrap(), CpanVersion::parse(&b).unwrap(), CpanVersion::parse(&c).unwrap());
        proptest::prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        if a <= b && b <= c {
            proptest::prop_assert!(a <= c);
        }
    }
}
