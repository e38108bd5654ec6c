use super::*;

fn sources(
    expression: Option<&str>,
    license: Option<&str>,
    classifiers: &[&str],
) -> LicenseSources {
    LicenseSources {
        expression: expression.map(str::to_owned),
        license: license.map(str::to_owned),
        classifiers: classifiers.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn field(text: &str) -> (Option<String>, Confidence) {
    let r = resolve(&sources(None, Some(text), &[]));
    (r.spdx().map(str::to_owned), r.confidence())
}

#[test]
fn every_classifier_maps_to_a_valid_spdx_expression() {
    for (classifier, spdx, _) in classifiers::CLASSIFIERS {
        if let Some(spdx) = spdx {
            assert!(Expression::parse(spdx).is_ok(), "{classifier} -> {spdx}");
            assert!(
                Licensee::parse(spdx).is_ok(),
                "{spdx} must be writable in licenses.allow"
            );
        }
    }
    let mapped = classifiers::CLASSIFIERS
        .iter()
        .filter(|(_, s, _)| s.is_some())
        .count();
    assert_eq!(classifiers::CLASSIFIERS.len(), 89);
    assert_eq!(
        mapped, 87,
        "all but `OSI Approved` and `DFSG approved` name a licence"
    );
}

#[test]
fn every_alias_and_text_maps_to_a_valid_spdx_expression() {
    for (spelling, spdx, _) in free_text::ALIASES {
        assert!(Expression::parse(spdx).is_ok(), "{spelling} -> {spdx}");
        assert_eq!(
            free_text::key(spelling),
            *spelling,
            "table keys are already normalised"
        );
    }
    for (_, spdx) in free_text::TEXTS {
        assert!(Expression::parse(spdx).is_ok(), "{spdx}");
    }
}

#[test]
fn free_text_spellings() {
    let cases = [
        ("MIT", "MIT", Confidence::Normalised),
        ("MIT License", "MIT", Confidence::Normalised),
        ("The MIT License (MIT)", "MIT", Confidence::Normalised),
        ("Expat license", "MIT", Confidence::Normalised),
        ("Apache 2.0", "Apache-2.0", Confidence::Normalised),
        (
            "Apache License, Version 2.0",
            "Apache-2.0",
            Confidence::Normalised,
        ),
        (
            "Apache Software License",
            "Apache-2.0",
            Confidence::Inferred,
        ),
        ("BSD", "BSD-3-Clause", Confidence::Inferred),
        ("BSD License", "BSD-3-Clause", Confidence::Inferred),
        ("new BSD license", "BSD-3-Clause", Confidence::Normalised),
        ("GPLv3+", "GPL-3.0-or-later", Confidence::Normalised),
        ("GNU LGPL 3.0", "LGPL-3.0-only", Confidence::Normalised),
        ("PSF", "PSF-2.0", Confidence::Normalised),
        ("MPL-2.0", "MPL-2.0", Confidence::Normalised),
        ("GPL-2.0", "GPL-2.0-only", Confidence::Normalised),
        (
            "MIT or Apache 2.0",
            "MIT OR Apache-2.0",
            Confidence::Normalised,
        ),
        (
            "MIT/Apache-2.0",
            "MIT OR Apache-2.0",
            Confidence::Normalised,
        ),
        (
            "Public Domain",
            "LicenseRef-Public-Domain",
            Confidence::Inferred,
        ),
    ];
    for (text, spdx, confidence) in cases {
        assert_eq!(field(text), (Some(spdx.to_owned()), confidence), "{text}");
    }
}

#[test]
fn full_licence_texts_are_recognised() {
    let mit = "Copyright (c) 2017 Someone\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the \"Software\"), to deal\nin the Software without restriction ...\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.";
    assert_eq!(field(mit), (Some("MIT".to_owned()), Confidence::Inferred));
    let bsd3 = "Copyright (c) 2010\nRedistribution and use in source and binary forms, with or without\nmodification, are permitted ...\n* Neither the name of the copyright holder nor the names of its\n  contributors may be used to endorse or promote products";
    assert_eq!(field(bsd3).0.as_deref(), Some("BSD-3-Clause"));
    let gpl = "This program is free software: you can redistribute it and/or modify it under the terms of the GNU General Public License as published by the Free Software Foundation, either version 3 of the License, or (at your option) any later version.";
    assert_eq!(field(gpl).0.as_deref(), Some("GPL-3.0-or-later"));
    let apache = "                                 Apache License\n                           Version 2.0, January 2004\n                        http://www.apache.org/licenses/";
    assert_eq!(field(apache).0.as_deref(), Some("Apache-2.0"));
    let first_line = "MIT License\n\nCopyright (c) 2020 Someone";
    assert_eq!(
        field(first_line),
        (Some("MIT".to_owned()), Confidence::Inferred)
    );
}

#[test]
fn unreadable_text_is_unknown_and_keeps_the_raw_text() {
    let r = resolve(&sources(None, Some("see LICENSE file"), &[]));
    assert_eq!(r.confidence(), Confidence::Unknown);
    assert_eq!(r.raw(), Some("see LICENSE file"));
    let r = resolve(&sources(Some("MIT OR OR"), None, &[]));
    assert_eq!(r.confidence(), Confidence::Unknown);
    assert_eq!(r.raw(), Some("MIT OR OR"));
}

#[test]
fn expression_wins_and_lax_expressions_are_normalised() {
    let r = resolve(&sources(Some("MIT OR Apache-2.0"), Some("BSD"), &[]));
    assert_eq!(
        (r.spdx(), r.confidence(), r.source()),
        (
            Some("MIT OR Apache-2.0"),
            Confidence::Exact,
            LicenseSource::Expression
        )
    );
    let r = resolve(&sources(Some("MIT/Apache-2.0"), None, &[]));
    assert_eq!(
        (r.spdx(), r.confidence()),
        (Some("MIT OR Apache-2.0"), Confidence::Normalised)
    );
}

#[test]
fn a_more_certain_classifier_beats_an_inferred_field() {
    let r = resolve(&sources(
        None,
        Some("BSD"),
        &["License :: OSI Approved :: MIT License"],
    ));
    assert_eq!(
        (r.spdx(), r.source()),
        (Some("MIT"), LicenseSource::Classifiers)
    );
    let r = resolve(&sources(
        None,
        Some("MIT"),
        &["License :: OSI Approved :: BSD License"],
    ));
    assert_eq!(
        (r.spdx(), r.source()),
        (Some("MIT"), LicenseSource::LicenseField)
    );
}

#[test]
fn several_classifiers_are_joined_with_and() {
    let r = resolve(&sources(
        None,
        None,
        &[
            "License :: OSI Approved :: Apache Software License",
            "License :: OSI Approved :: MIT License",
        ],
    ));
    assert_eq!(
        (r.spdx(), r.confidence()),
        (Some("Apache-2.0 AND MIT"), Confidence::Inferred)
    );
}

#[test]
fn declared_sbom_licences() {
    let r = resolve_declared(&["MIT".to_owned(), "Apache License 2.0".to_owned()]);
    assert_eq!(
        (r.spdx(), r.confidence()),
        (Some("MIT AND Apache-2.0"), Confidence::Normalised)
    );
    assert_eq!(resolve_declared(&[]).confidence(), Confidence::Unknown);
}

mod evaluation {
    use super::*;

    fn policy(toml: &str) -> Licenses {
        runbom_config::parse("runbom.toml", toml)
            .expect("valid")
            .licenses
    }

    fn verdict(expression: &str, toml: &str) -> LicenseVerdict {
        let license = resolve(&sources(Some(expression), None, &[]));
        evaluate(&license, &PackageName::pypi("pkg"), &policy(toml))
    }

    #[test]
    fn or_needs_one_side_and_needs_both() {
        let allow_mit = "[licenses]\nallow = [\"MIT\"]\n";
        assert_eq!(
            verdict("MIT OR Apache-2.0", allow_mit),
            LicenseVerdict::Allowed
        );
        assert_eq!(
            verdict("MIT AND Apache-2.0", allow_mit),
            LicenseVerdict::NotAllowed {
                missing: vec!["Apache-2.0".to_owned()]
            }
        );
    }

    #[test]
    fn deny_wins_even_inside_or() {
        let toml = "[licenses]\nallow = [\"MIT\", \"GPL-3.0-only\"]\ndeny = [\"GPL-3.0-only\"]\n";
        assert!(
            matches!(verdict("MIT OR GPL-3.0-only", toml), LicenseVerdict::Denied { license, origin } if license == "GPL-3.0-only" && origin.line == 3)
        );
    }

    #[test]
    fn with_exceptions_and_or_later() {
        let base = "[licenses]\nallow = [\"Apache-2.0\", \"GPL-2.0-or-later\"]\n";
        assert_eq!(
            verdict("Apache-2.0 WITH LLVM-exception", base),
            LicenseVerdict::Allowed
        );
        assert_eq!(verdict("GPL-2.0-or-later", base), LicenseVerdict::Allowed);
        let exact = "[licenses]\nallow = [\"GPL-2.0-only WITH Classpath-exception-2.0\"]\n";
        assert_eq!(
            verdict("GPL-2.0-only WITH Classpath-exception-2.0", exact),
            LicenseVerdict::Allowed
        );
        assert!(matches!(
            verdict("GPL-2.0-only", exact),
            LicenseVerdict::NotAllowed { .. }
        ));
        let plus = "[licenses]\nallow = [\"LGPL-3.0-only\"]\n";
        assert_eq!(
            verdict("LGPL-2.1+", plus),
            LicenseVerdict::Allowed,
            "2.1 or later includes 3.0"
        );
    }

    #[test]
    fn per_package_exceptions() {
        let toml = "[licenses]\nallow = [\"MIT\"]\n[[licenses.exceptions]]\nname = \"Cert_ifi\"\nallow = [\"MPL-2.0\"]\n";
        let license = resolve(&sources(Some("MPL-2.0"), None, &[]));
        assert_eq!(
            evaluate(&license, &PackageName::pypi("cert-ifi"), &policy(toml)),
            LicenseVerdict::Allowed
        );
        assert!(matches!(
            evaluate(&license, &PackageName::pypi("other"), &policy(toml)),
            LicenseVerdict::NotAllowed { .. }
        ));
    }

    #[test]
    fn no_allow_list_accepts_what_is_not_denied_and_unknown_stays_unknown() {
        assert_eq!(verdict("AGPL-3.0-only", ""), LicenseVerdict::Allowed);
        let license = resolve(&LicenseSources::default());
        assert_eq!(
            evaluate(&license, &PackageName::pypi("x"), &policy("")),
            LicenseVerdict::Unknown
        );
    }

    #[test]
    fn licence_refs_can_be_allowed() {
        let toml = "[licenses]\nallow = [\"LicenseRef-Public-Domain\"]\n";
        let license = resolve(&sources(None, None, &["License :: Public Domain"]));
        assert_eq!(
            evaluate(&license, &PackageName::pypi("x"), &policy(toml)),
            LicenseVerdict::Allowed
        );
    }
}
