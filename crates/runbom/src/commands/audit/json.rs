//! `runbom audit --format json`: `runbom.audit/v1`, the ranked findings as `runbom-analysis`
//! defines them, plus what could not be checked (`not_covered`: ecosystems no advisory source covers, such as
//! Tcl) and the summary counts.
//!
//! Every object's keys are in sorted order, as they were when the document was built as a
//! `serde_json::Value` (a sorted map). The document is now written straight from the views below,
//! whose fields are declared in that order: building the `Value` of a Go binary's ~100 findings
//! was a third of an audit's instructions. A test holds each view to the `Value` of what it shows.

use std::io::Write;

use runbom_analysis::severity::{Severity, SeverityLevel};
use runbom_analysis::vulns::{Finding, FindingPackage, IgnoreState, Usage, VulnerableCode};
use runbom_model::Ecosystem;
use serde::Serialize;

use super::AuditOutcome;

pub const SCHEMA: &str = "runbom.audit/v1";

pub fn write(out: &mut impl Write, outcome: &AuditOutcome) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Document::of(outcome))?;
    writeln!(out)?;
    Ok(())
}

#[derive(Serialize)]
struct Document<'a> {
    expired_ignores: Vec<ExpiredIgnore<'a>>,
    findings: Vec<FindingView<'a>>,
    inputs: &'a [String],
    not_covered: Vec<NotCovered>,
    schema: &'static str,
    summary: Summary,
    unchecked: Vec<UncheckedView<'a>>,
    unpinned: &'a [String],
}

impl<'a> Document<'a> {
    fn of(outcome: &'a AuditOutcome) -> Self {
        Document {
            expired_ignores: outcome
                .expired_ignores
                .iter()
                .map(|i| ExpiredIgnore {
                    expires: i.expires.as_deref(),
                    id: &i.id,
                    reason: &i.reason,
                })
                .collect(),
            findings: outcome.findings.iter().map(FindingView::of).collect(),
            inputs: &outcome.inputs,
            not_covered: outcome
                .uncovered
                .iter()
                .map(|&(ecosystem, components)| NotCovered {
                    components,
                    ecosystem,
                    reason: format!("no advisory source covers {ecosystem}"),
                })
                .collect(),
            schema: SCHEMA,
            summary: Summary {
                below_threshold: outcome.below_threshold,
                components: outcome.components,
                fail_on: outcome.fail_on,
                failing: outcome.findings.iter().filter(|f| outcome.fails(f)).count(),
                findings: outcome.open().count(),
                ignored: outcome.findings.iter().filter(|f| f.is_ignored()).count(),
            },
            unchecked: outcome
                .unchecked
                .iter()
                .map(|u| UncheckedView {
                    error: &u.error,
                    package: &u.package,
                })
                .collect(),
            unpinned: &outcome.unpinned,
        }
    }
}

#[derive(Serialize)]
struct ExpiredIgnore<'a> {
    expires: Option<&'a str>,
    id: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct NotCovered {
    components: usize,
    ecosystem: Ecosystem,
    reason: String,
}

#[derive(Serialize)]
struct Summary {
    below_threshold: usize,
    components: usize,
    fail_on: Option<SeverityLevel>,
    failing: usize,
    findings: usize,
    ignored: usize,
}

/// `Unchecked`, keys sorted.
#[derive(Serialize)]
struct UncheckedView<'a> {
    error: &'a str,
    /// Its own keys (`ecosystem`, `name`, `version`) are already in order.
    package: &'a FindingPackage,
}

/// [`Finding`], keys sorted.
#[derive(Serialize)]
struct FindingView<'a> {
    affected: &'a [String],
    aliases: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    fixed: Option<&'a str>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignore: Option<IgnoreView<'a>>,
    package: &'a FindingPackage,
    runtime: UsageView<'a>,
    severity: Option<SeverityView<'a>>,
    sources: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerable_code: Option<VulnerableCodeView<'a>>,
}

impl<'a> FindingView<'a> {
    fn of(finding: &'a Finding) -> Self {
        FindingView {
            affected: &finding.affected,
            aliases: &finding.aliases,
            fixed: finding.fixed.as_deref(),
            id: &finding.id,
            ignore: finding.ignore.as_ref().map(IgnoreView::of),
            package: &finding.package,
            runtime: UsageView::of(&finding.runtime),
            severity: finding.severity.as_ref().map(SeverityView::of),
            sources: &finding.sources,
            summary: finding.summary.as_deref(),
            vulnerable_code: finding.vulnerable_code.as_ref().map(VulnerableCodeView::of),
        }
    }
}

/// [`IgnoreState`], keys sorted.
#[derive(Serialize)]
struct IgnoreView<'a> {
    expired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<&'a str>,
    id: &'a str,
    reason: &'a str,
}

impl<'a> IgnoreView<'a> {
    fn of(ignore: &'a IgnoreState) -> Self {
        IgnoreView {
            expired: ignore.expired,
            expires: ignore.expires.as_deref(),
            id: &ignore.id,
            reason: &ignore.reason,
        }
    }
}

/// [`Usage`], whose tag `use` sorts after `modules`.
#[derive(Serialize)]
struct UsageView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    modules: Option<&'a [String]>,
    #[serde(rename = "use")]
    tag: &'static str,
}

impl<'a> UsageView<'a> {
    fn of(usage: &'a Usage) -> Self {
        let (modules, tag) = match usage {
            Usage::Loaded { modules } => (Some(&modules[..]), "loaded"),
            Usage::InstalledNotLoaded => (None, "installed-not-loaded"),
            Usage::Unknown => (None, "unknown"),
        };
        UsageView { modules, tag }
    }
}

/// [`Severity`], keys sorted.
#[derive(Serialize)]
struct SeverityView<'a> {
    level: SeverityLevel,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<&'a str>,
}

impl<'a> SeverityView<'a> {
    fn of(severity: &'a Severity) -> Self {
        SeverityView {
            level: severity.level,
            score: severity.score,
            source: &severity.source,
            vector: severity.vector.as_deref(),
        }
    }
}

/// [`VulnerableCode`], keys sorted.
#[derive(Serialize)]
struct VulnerableCodeView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    linked: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loaded: Option<&'a [String]>,
    modules: &'a [String],
    named: &'a [String],
}

impl<'a> VulnerableCodeView<'a> {
    fn of(code: &'a VulnerableCode) -> Self {
        VulnerableCodeView {
            linked: code.linked.as_deref(),
            loaded: code.loaded.as_deref(),
            modules: &code.modules,
            named: &code.named,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runbom_analysis::vulns::Unchecked;
    use runbom_model::PackageName;

    fn package() -> FindingPackage {
        FindingPackage {
            ecosystem: Ecosystem::Go,
            name: PackageName::new(Ecosystem::Go, "golang.org/x/net"),
            version: "v0.7.0".to_owned(),
        }
    }

    /// A finding with every optional part present (`full`) or absent.
    fn finding(full: bool, runtime: Usage) -> Finding {
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Finding {
            id: "GO-2023-1988".to_owned(),
            aliases: strings(&["CVE-2023-3978", "GHSA-2wrh-6pvc-2jm9"]),
            summary: full.then(|| "Improper rendering of text nodes".to_owned()),
            severity: full.then(|| Severity {
                level: SeverityLevel::Medium,
                score: Some(6.1),
                vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N".to_owned()),
                source: "CVSS_V3".to_owned(),
            }),
            package: package(),
            affected: strings(&["<0.13.0"]),
            fixed: full.then(|| "v0.13.0".to_owned()),
            runtime,
            vulnerable_code: full.then(|| VulnerableCode {
                named: strings(&["golang.org/x/net/html.render1"]),
                modules: strings(&["golang.org/x/net/html"]),
                loaded: Some(strings(&["golang.org/x/net/html"])),
                linked: Some(Vec::new()),
            }),
            ignore: full.then(|| IgnoreState {
                id: "CVE-2023-3978".to_owned(),
                reason: "escaped upstream".to_owned(),
                expires: Some("2999-01-01".to_owned()),
                expired: false,
            }),
            sources: strings(&["binary:render"]),
        }
    }

    fn pretty(value: &impl Serialize) -> String {
        serde_json::to_string_pretty(value).expect("JSON")
    }

    /// Through a `Value`: what the document was, keys sorted by the map.
    fn sorted(value: &impl Serialize) -> String {
        pretty(&serde_json::to_value(value).expect("a Value"))
    }

    #[test]
    fn each_view_writes_the_sorted_value_of_what_it_shows() {
        let loaded = Usage::Loaded {
            modules: vec!["golang.org/x/net/html".to_owned()],
        };
        for runtime in [loaded, Usage::InstalledNotLoaded, Usage::Unknown] {
            for full in [true, false] {
                let finding = finding(full, runtime.clone());
                assert_eq!(pretty(&FindingView::of(&finding)), sorted(&finding));
            }
        }
        let mut bare = finding(true, Usage::Unknown);
        if let (Some(severity), Some(code), Some(ignore)) = (
            bare.severity.as_mut(),
            bare.vulnerable_code.as_mut(),
            bare.ignore.as_mut(),
        ) {
            (severity.score, severity.vector) = (None, None);
            (code.loaded, code.linked) = (None, None);
            ignore.expires = None;
        }
        assert_eq!(pretty(&FindingView::of(&bare)), sorted(&bare));
        let unchecked = Unchecked {
            package: package(),
            error: "bad version".to_owned(),
        };
        let view = UncheckedView {
            error: &unchecked.error,
            package: &unchecked.package,
        };
        assert_eq!(pretty(&view), sorted(&unchecked));
    }
}
