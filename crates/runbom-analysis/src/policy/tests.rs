//! The Done-when matrix: each rule kind with a passing and a failing case, on real core metadata
//! (`testdata/site`, see `testdata/README.md`).

use std::path::PathBuf;

use runbom_model::inventory::LicenseSources;
use runbom_model::release::{ProjectReleases, Release};

use super::*;
use crate::licenses::resolve;

fn today() -> time::Date {
    time::macros::date!(2026 - 11 - 25)
}

/// A component read from `testdata/site/<dir>/METADATA` the way the inventory reads it.
fn fixture(dir: &str) -> Component {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/site")
        .join(dir)
        .join("METADATA");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let headers = runbom_ecosystems::python::parse_headers(&text).expect("headers");
    let sources = LicenseSources {
        expression: headers.get("License-Expression").map(str::to_owned),
        license: headers
            .get("License")
            .filter(|l| *l != "UNKNOWN")
            .map(str::to_owned),
        classifiers: headers
            .get_all("Classifier")
            .filter(|c| c.starts_with("License ::"))
            .map(str::to_owned)
            .collect(),
    };
    let name = headers.get("Name").expect("Name").to_owned();
    Component {
        ecosystem: Ecosystem::PyPi,
        normalized: PackageName::pypi(&name),
        name,
        version: headers.get("Version").map(str::to_owned),
        license: resolve(&sources),
        loaded: None,
    }
}

fn codes(toml: &str, dir: &str) -> Vec<&'static str> {
    codes_with(toml, &[fixture(dir)], None)
}

fn codes_with(
    toml: &str,
    components: &[Component],
    releases: Option<&Releases>,
) -> Vec<&'static str> {
    let config = runbom_config::parse("runbom.toml", toml).unwrap_or_else(|e| panic!("{e}"));
    evaluate(
        &config,
        components,
        Context {
            releases,
            today: today(),
        },
    )
    .iter()
    .map(|f| f.code.as_str())
    .collect()
}

const ALLOW: &str = "[licenses]\nallow = [\"MIT\", \"Apache-2.0\", \"BSD-2-Clause\", \"BSD-3-Clause\", \"MPL-2.0\"]\nunknown = \"deny\"\n";

#[test]
fn dual_licensed_passes_with_either_side_and_fails_with_neither() {
    assert_eq!(codes(ALLOW, "maturin-1.16.0.dist-info"), Vec::<&str>::new());
    assert_eq!(
        codes(
            "[licenses]\nallow = [\"Apache-2.0\"]\n",
            "maturin-1.16.0.dist-info"
        ),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(
            "[licenses]\nallow = [\"ISC\"]\n",
            "maturin-1.16.0.dist-info"
        ),
        ["license-not-allowed"]
    );
}

#[test]
fn with_exception_passes_when_its_licence_is_allowed() {
    assert_eq!(
        codes(ALLOW, "llvmlite-0.50.0.dist-info"),
        Vec::<&str>::new()
    );
    let no_apache = "[licenses]\nallow = [\"BSD-2-Clause\"]\n";
    let config = runbom_config::parse("runbom.toml", no_apache).expect("valid");
    let findings = evaluate(
        &config,
        &[fixture("llvmlite-0.50.0.dist-info")],
        Context {
            releases: None,
            today: today(),
        },
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, Code::LicenseNotAllowed);
    assert!(
        findings[0]
            .help
            .contains("`Apache-2.0 WITH LLVM-exception`"),
        "{}",
        findings[0].help
    );
    assert_eq!(findings[0].config.map(|c| c.line), Some(2));
}

#[test]
fn classifiers_only_are_read_and_judged() {
    let mock = fixture("mock-5.2.0.dist-info");
    assert_eq!(mock.license.spdx(), Some("BSD-3-Clause"));
    assert_eq!(
        mock.license.confidence(),
        crate::licenses::Confidence::Inferred
    );
    assert_eq!(codes(ALLOW, "mock-5.2.0.dist-info"), Vec::<&str>::new());
    assert_eq!(
        codes("[licenses]\nallow = [\"MIT\"]\n", "mock-5.2.0.dist-info"),
        ["license-not-allowed"]
    );
    // `License: UNKNOWN` beside a classifier: the classifier answers.
    assert_eq!(
        fixture("backcall-0.2.0.dist-info").license.spdx(),
        Some("BSD-3-Clause")
    );
}

#[test]
fn no_licence_at_all_follows_licenses_unknown() {
    assert_eq!(
        codes(ALLOW, "sklearn-0.0.post12.dist-info"),
        ["license-unknown"]
    );
    assert_eq!(
        codes(
            "[licenses]\nunknown = \"allow\"\n",
            "sklearn-0.0.post12.dist-info"
        ),
        Vec::<&str>::new()
    );
    let warn = runbom_config::parse("runbom.toml", "").expect("valid");
    let findings = evaluate(
        &warn,
        &[fixture("sklearn-0.0.post12.dist-info")],
        Context {
            releases: None,
            today: today(),
        },
    );
    assert_eq!(
        findings[0].severity,
        Severity::Warning,
        "the default is warn"
    );
}

#[test]
fn free_text_and_classifier_licences() {
    assert_eq!(
        fixture("mccabe-0.7.0.dist-info").license.spdx(),
        Some("MIT")
    );
    assert_eq!(
        fixture("certifi-2026.10.19.post1.dist-info").license.spdx(),
        Some("MPL-2.0")
    );
    let pyinstaller = fixture("pyinstaller-6.22.3.dist-info");
    assert_eq!(
        pyinstaller.license.spdx(),
        Some("GPL-2.0-only"),
        "the specific classifier beats the inferred free text"
    );
    assert_eq!(
        codes(
            "[licenses]\ndeny = [\"GPL-2.0-only\"]\n",
            "pyinstaller-6.22.3.dist-info"
        ),
        ["license-denied"]
    );
    assert_eq!(
        fixture("pycrypto-2.6.1.dist-info").license.spdx(),
        Some("LicenseRef-Public-Domain")
    );
    assert_eq!(
        codes(
            "[licenses]\nallow = [\"LicenseRef-Public-Domain\"]\n",
            "pycrypto-2.6.1.dist-info"
        ),
        Vec::<&str>::new()
    );
    assert_eq!(
        fixture("orjson-3.13.0.dist-info").license.spdx(),
        Some("MPL-2.0 AND (Apache-2.0 OR MIT)")
    );
    assert_eq!(codes(ALLOW, "orjson-3.13.0.dist-info"), Vec::<&str>::new());
}

#[test]
fn per_package_licence_exception() {
    let toml = "[licenses]\nallow = [\"MIT\"]\n[[licenses.exceptions]]\nname = \"certifi\"\nallow = [\"MPL-2.0\"]\n";
    assert_eq!(
        codes(toml, "certifi-2026.10.19.post1.dist-info"),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(
            "[licenses]\nallow = [\"MIT\"]\n",
            "certifi-2026.10.19.post1.dist-info"
        ),
        ["license-not-allowed"]
    );
}

#[test]
fn bans_all_versions_or_a_range() {
    assert_eq!(
        codes(
            "[bans]\ndeny = [\"pycrypto\"]\n",
            "pycrypto-2.6.1.dist-info"
        ),
        ["package-banned"]
    );
    assert_eq!(
        codes("[bans]\ndeny = [\"pycrypto\"]\n", "mock-5.2.0.dist-info"),
        Vec::<&str>::new()
    );
    let range = |r: &str| {
        format!("[bans]\ndeny = [{{ name = \"Maturin\", versions = \"{r}\", reason = \"r\" }}]\n")
    };
    assert_eq!(
        codes(&range("<1.0"), "maturin-1.16.0.dist-info"),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(&range(">=1.16,<2"), "maturin-1.16.0.dist-info"),
        ["package-banned"]
    );
}

#[test]
fn allow_list_mode() {
    let toml = "[bans]\nallow = [\"maturin\"]\n";
    assert_eq!(codes(toml, "maturin-1.16.0.dist-info"), Vec::<&str>::new());
    assert_eq!(codes(toml, "mock-5.2.0.dist-info"), ["package-not-allowed"]);
}

#[test]
fn minimum_versions() {
    let min =
        |v: &str| format!("[versions]\nminimum = [{{ name = \"mock\", version = \"{v}\" }}]\n");
    assert_eq!(
        codes(&min("5.0"), "mock-5.2.0.dist-info"),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(&min("5.2.0"), "mock-5.2.0.dist-info"),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(&min("5.10"), "mock-5.2.0.dist-info"),
        ["version-below-minimum"]
    );
}

#[test]
fn advisory_ignores_expire() {
    let ignore = |d: &str| {
        format!(
            "[advisories]\nignore = [{{ id = \"GHSA-9wx4-h78v-vm56\", reason = \"r\", expires = \"{d}\" }}]\n"
        )
    };
    assert_eq!(
        codes_with(&ignore("2027-01-01"), &[], None),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes_with(&ignore("2026-11-24"), &[], None),
        ["advisory-ignore-expired"]
    );
    let config = runbom_config::parse("runbom.toml", &ignore("2027-01-01")).expect("valid");
    assert!(
        active_ignore(
            &config.advisories,
            &["CVE-1", "ghsa-9wx4-h78v-vm56"],
            today()
        )
        .is_some()
    );
    let config = runbom_config::parse("runbom.toml", &ignore("2026-11-24")).expect("valid");
    assert!(active_ignore(&config.advisories, &["GHSA-9wx4-h78v-vm56"], today()).is_none());
}

/// Real release data of `requests` from PyPI (2.32.0 and 2.32.1 were yanked).
fn requests_releases() -> Releases {
    let release = |version: &str, published: &str, yanked: bool| Release {
        version: version.to_owned(),
        published: Some(published.to_owned()),
        yanked,
        yanked_reason: yanked
            .then(|| "Yanked due to conflicts with CVE-2024-35195 mitigation".to_owned()),
    };
    let project = ProjectReleases {
        ecosystem: Ecosystem::PyPi,
        name: PackageName::pypi("requests"),
        releases: vec![
            release("2.28.2", "2023-01-12T16:24:52Z", false),
            release("2.31.0", "2023-05-22T15:12:42Z", false),
            release("2.32.0", "2024-05-20T15:59:03Z", true),
            release("2.32.3", "2024-05-29T15:37:47Z", false),
        ],
    };
    Releases::from([((Ecosystem::PyPi, project.name.clone()), project)])
}

fn requests(version: &str) -> Component {
    Component {
        ecosystem: Ecosystem::PyPi,
        name: "requests".to_owned(),
        normalized: PackageName::pypi("requests"),
        version: Some(version.to_owned()),
        license: resolve(&LicenseSources {
            expression: Some("Apache-2.0".to_owned()),
            ..LicenseSources::default()
        }),
        loaded: Some(true),
    }
}

#[test]
fn freshness_yanked_outdated_and_stale() {
    let releases = requests_releases();
    let yanked = "[freshness]\nyanked = \"deny\"\n";
    assert_eq!(
        codes_with(yanked, &[requests("2.32.3")], Some(&releases)),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes_with(yanked, &[requests("2.32.0")], Some(&releases)),
        ["release-yanked"]
    );
    let behind = "[freshness]\nmax-days-behind = 400\n";
    assert_eq!(
        codes_with(behind, &[requests("2.31.0")], Some(&releases)),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes_with(behind, &[requests("2.28.2")], Some(&releases)),
        ["release-outdated"]
    );
    assert_eq!(
        codes_with(
            "[freshness]\nmax-years-without-release = 3\n",
            &[requests("2.32.3")],
            Some(&releases)
        ),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes_with(
            "[freshness]\nmax-years-without-release = 2\n",
            &[requests("2.32.3")],
            Some(&releases)
        ),
        ["project-stale"]
    );
    assert_eq!(
        codes_with(yanked, &[requests("2.32.0")], None),
        Vec::<&str>::new(),
        "offline: no release data"
    );
}

#[test]
fn findings_carry_loaded_and_the_config_line() {
    let config =
        runbom_config::parse("runbom.toml", "[freshness]\n\nyanked = \"warn\"\n").expect("valid");
    let releases = requests_releases();
    let findings = evaluate(
        &config,
        &[requests("2.32.0")],
        Context {
            releases: Some(&releases),
            today: today(),
        },
    );
    let finding = &findings[0];
    assert_eq!(
        (
            finding.severity,
            finding.loaded,
            finding.config.map(|c| c.line)
        ),
        (Severity::Warning, Some(true), Some(3))
    );
    assert_eq!(finding.help, "upgrade `requests` to 2.32.3");
}

#[test]
fn every_code_is_kebab_case_and_described() {
    for code in Code::ALL {
        assert_eq!(serde_json::to_value(code).expect("json"), code.as_str());
        assert!(
            code.as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-')
        );
        assert!(code.description().ends_with('.'));
    }
}
