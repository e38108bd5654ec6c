use runbom_model::Ecosystem;

use super::*;
use crate::sbom::tests::report;
use crate::vulns::{FindingPackage, Usage, VulnerableCode};

/// A finding of `id` on `name` `version`, naming `modules` as vulnerable (none: the package).
fn finding(id: &str, name: &str, version: &str, modules: &[&str]) -> Finding {
    Finding {
        id: id.to_owned(),
        aliases: vec![format!("CVE-{id}")],
        summary: Some("bad".to_owned()),
        severity: None,
        package: FindingPackage {
            ecosystem: Ecosystem::PyPi,
            name: PackageName::pypi(name),
            version: version.to_owned(),
        },
        affected: vec![],
        fixed: Some("9.9".to_owned()),
        runtime: Usage::Unknown,
        vulnerable_code: (!modules.is_empty()).then(|| VulnerableCode {
            named: modules.iter().map(|m| (*m).to_owned()).collect(),
            modules: modules.iter().map(|m| (*m).to_owned()).collect(),
            loaded: None,
            linked: None,
        }),
        ignore: None,
        sources: vec![],
    }
}

const WEEK: Duration = Duration::days(7);

/// Two complete reports eight days apart: yaml (`yaml`, `yaml.constructor`) loaded, six not.
fn reports() -> Vec<RuntimeReport> {
    vec![
        report("r1", "2026-11-17T10:00:00Z", "2026-11-17T11:00:00Z"),
        report("r2", "2026-11-25T10:00:00Z", "2026-11-25T10:00:05Z"),
    ]
}

fn only(findings: &[Finding], min: Duration) -> VexStatement {
    let document = vex_document(&reports(), findings, min, Tool::runbom("0")).expect("vex");
    assert_eq!(document.statements.len(), 1);
    document.statements.into_iter().next().expect("one")
}

#[test]
fn loaded_vulnerable_code_is_affected_with_the_reports_that_saw_it() {
    let s = only(
        &[finding("A", "pyyaml", "6.0.1", &["yaml.constructor"])],
        WEEK,
    );
    assert_eq!(s.status, VexStatus::Affected);
    assert_eq!(s.justification, None);
    assert_eq!(s.action.as_deref(), Some("upgrade pyyaml to 9.9 or later"));
    assert_eq!(s.evidence.reports, ["r1", "r2"]);
    assert_eq!(s.product.purl, "pkg:pypi/pyyaml@6.0.1");
}

#[test]
fn a_loaded_submodule_counts_for_its_vulnerable_package_module() {
    let s = only(&[finding("A", "pyyaml", "6.0.1", &["yaml"])], WEEK);
    assert_eq!(s.status, VexStatus::Affected);
}

#[test]
fn vulnerable_modules_never_loaded_are_not_in_the_execute_path() {
    let s = only(&[finding("A", "pyyaml", "6.0.1", &["yaml.cyaml"])], WEEK);
    assert_eq!(s.status, VexStatus::NotAffected);
    assert_eq!(
        s.justification,
        Some(Justification::VulnerableCodeNotInExecutePath)
    );
    assert!(s.detail.contains("yaml.cyaml never loaded"), "{}", s.detail);
    assert_eq!(s.evidence.from, "2026-11-17T10:00:00Z");
    assert_eq!(s.evidence.to, "2026-11-25T10:00:05Z");
}

#[test]
fn an_installed_package_never_loaded_is_not_affected() {
    let s = only(&[finding("B", "six", "1.16.0", &[])], WEEK);
    assert_eq!(s.status, VexStatus::NotAffected);
    assert_eq!(
        s.justification,
        Some(Justification::VulnerableCodeNotInExecutePath)
    );
}

#[test]
fn a_version_installed_nowhere_is_not_present() {
    let s = only(&[finding("C", "six", "1.15.0", &[])], WEEK);
    assert_eq!(s.status, VexStatus::NotAffected);
    assert_eq!(s.justification, Some(Justification::ComponentNotPresent));
}

#[test]
fn a_short_window_or_an_incomplete_report_claims_nothing() {
    let s = only(&[finding("B", "six", "1.16.0", &[])], Duration::days(30));
    assert_eq!(s.status, VexStatus::UnderInvestigation);
    assert_eq!(s.justification, None);
    assert!(
        s.detail.contains("less than the 2592000s minimum"),
        "{}",
        s.detail
    );
    let mut reports = reports();
    reports[1].complete = false;
    let document = vex_document(
        &reports,
        &[finding("B", "six", "1.16.0", &[])],
        WEEK,
        Tool::runbom("0"),
    )
    .expect("vex");
    assert_eq!(document.statements[0].status, VexStatus::UnderInvestigation);
    assert!(document.statements[0].detail.contains("still ran: r2"));
    // Loading is evidence at any window length.
    let s = only(&[finding("A", "pyyaml", "6.0.1", &[])], Duration::days(30));
    assert_eq!(s.status, VexStatus::Affected);
}

#[test]
fn no_reports_no_statements() {
    assert!(matches!(
        vex_document(
            &[],
            &[finding("B", "six", "1.16.0", &[])],
            WEEK,
            Tool::runbom("0")
        ),
        Err(VexError::NoReports)
    ));
}
