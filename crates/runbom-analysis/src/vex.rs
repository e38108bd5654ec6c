//! VEX statements from runtime evidence: for each advisory that affects a component's version,
//! whether the product is `affected`, `not_affected` (and why), or `under_investigation`.
//!
//! The rules (never a claim without evidence):
//! - `affected` when some report saw the vulnerable modules loaded — or, when the advisory names
//!   no modules, the package loaded at all. Loading is evidence enough at any window length.
//! - `not_affected`, justification `vulnerable_code_not_in_execute_path`, when the version is
//!   installed in some report and no report saw its vulnerable modules (or, without named modules,
//!   any of its modules) loaded; `component_not_present` when no report has that version installed.
//!   Both only when the observation window holds: every report is complete (its program exited)
//!   and the reports span at least the minimum the user set.
//! - `under_investigation` where `not_affected` would be claimed but the window does not hold.
//!
//! Trap: a vulnerable module counts as loaded when it or any of its submodules was loaded
//! (importing `yaml.constructor` runs `yaml/__init__.py`).

use std::collections::BTreeSet;

use runbom_model::sbom::{Subject, Tool};
use runbom_model::vex::{
    Justification, StatementEvidence, VexDocument, VexProduct, VexStatement, VexStatus,
};
use runbom_model::{PackageName, RuntimeReport};
use time::Duration;

use crate::observation::{ObservationError, ObservationWindow, utc_seconds};
use crate::vulns::Finding;

/// Why no VEX document could be built.
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("no runtime report given: a VEX statement needs runtime evidence")]
    NoReports,
    #[error(transparent)]
    Time(#[from] ObservationError),
}

/// How a version of a package appears across the reports.
#[derive(Debug, Default)]
struct Presence<'a> {
    /// Reports that have it installed.
    installed_in: BTreeSet<&'a str>,
    /// Reports that loaded some of the watched modules, with those modules.
    loaded_in: BTreeSet<&'a str>,
    loaded: BTreeSet<&'a str>,
}

/// One statement per finding, sorted by vulnerability then PURL.
pub fn vex_document(
    reports: &[RuntimeReport],
    findings: &[Finding],
    min_observation: Duration,
    tool: Tool,
) -> Result<VexDocument, VexError> {
    let window = ObservationWindow::of(reports)?.ok_or(VexError::NoReports)?;
    let mut statements: Vec<VexStatement> = findings
        .iter()
        .map(|f| statement(reports, &window, min_observation, f))
        .collect();
    statements.sort_by(|a, b| {
        (&a.vulnerability, &a.product.purl).cmp(&(&b.vulnerability, &b.product.purl))
    });
    Ok(VexDocument {
        serial_number: window.serial_number("runbom vex"),
        timestamp: utc_seconds(window.to),
        tool,
        subject: Subject::of_reports(reports),
        statements,
    })
}

/// The modules to watch: the vulnerable ones the advisory names, else the whole package.
fn watched(finding: &Finding) -> Option<&[String]> {
    finding
        .vulnerable_code
        .as_ref()
        .map(|c| c.modules.as_slice())
        .filter(|m| !m.is_empty())
}

fn is_watched(module: &str, watched: Option<&[String]>) -> bool {
    match watched {
        None => true,
        Some(list) => list.iter().any(|w| {
            module == w
                || module
                    .strip_prefix(w.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        }),
    }
}

fn presence<'a>(reports: &'a [RuntimeReport], finding: &Finding) -> Presence<'a> {
    let name: &PackageName = &finding.package.name;
    let watched = watched(finding);
    let mut presence = Presence::default();
    for report in reports {
        for dist in report
            .distributions
            .iter()
            .filter(|d| &d.normalized_name == name && d.version == finding.package.version)
        {
            presence.installed_in.insert(&report.report_id);
            for module in dist.modules.iter().filter(|m| is_watched(&m.name, watched)) {
                presence.loaded_in.insert(&report.report_id);
                presence.loaded.insert(&module.name);
            }
        }
    }
    presence
}

fn evidence(window: &ObservationWindow, reports: Option<&BTreeSet<&str>>) -> StatementEvidence {
    StatementEvidence {
        reports: match reports {
            Some(ids) => ids.iter().map(|id| (*id).to_owned()).collect(),
            None => window.reports.clone(),
        },
        from: utc_seconds(window.from),
        to: utc_seconds(window.to),
        seconds: window.seconds(),
    }
}

/// Why the window does not support a `not_affected` claim, if it does not.
fn window_shortfall(window: &ObservationWindow, min_observation: Duration) -> Option<String> {
    let mut reasons = Vec::new();
    if !window.incomplete.is_empty() {
        reasons.push(format!(
            "report(s) written while the program still ran: {}",
            window.incomplete.join(", ")
        ));
    }
    if window.seconds() < min_observation.whole_seconds() {
        reasons.push(format!(
            "the reports span {}s, less than the {}s minimum observation",
            window.seconds(),
            min_observation.whole_seconds()
        ));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

fn statement(
    reports: &[RuntimeReport],
    window: &ObservationWindow,
    min_observation: Duration,
    finding: &Finding,
) -> VexStatement {
    let presence = presence(reports, finding);
    let package = &finding.package;
    let what = match watched(finding) {
        Some(modules) => format!("the vulnerable module(s) {}", modules.join(", ")),
        None => format!("no module of {}", package.name),
    };
    let linked = finding
        .vulnerable_code
        .as_ref()
        .and_then(|c| c.linked.as_ref());
    let (status, justification, detail, action, supporting) = if let Some(linked) = linked {
        // A binary's function table: the code it can run does not change with the window.
        let named = finding.vulnerable_code.as_ref().map(|c| c.named.join(", "));
        if linked.is_empty() {
            (
                VexStatus::NotAffected,
                Some(Justification::VulnerableCodeNotInExecutePath),
                format!(
                    "none of the vulnerable symbols ({}) is linked into the binary",
                    named.unwrap_or_default()
                ),
                None,
                None,
            )
        } else {
            (
                VexStatus::Affected,
                None,
                format!("linked into the binary: {}", linked.join(", ")),
                Some(upgrade(finding)),
                None,
            )
        }
    } else if !presence.loaded_in.is_empty() {
        let loaded: Vec<&str> = presence.loaded.iter().copied().collect();
        (
            VexStatus::Affected,
            None,
            format!("loaded at run time: {}", loaded.join(", ")),
            Some(upgrade(finding)),
            Some(&presence.loaded_in),
        )
    } else {
        let (justification, claim) = if presence.installed_in.is_empty() {
            (
                Justification::ComponentNotPresent,
                format!(
                    "{} {} is installed in none of the runtime reports",
                    package.name, package.version
                ),
            )
        } else {
            let claim = match watched(finding) {
                Some(_) => format!("installed, and {what} never loaded"),
                None => format!("installed, and {what} was ever loaded"),
            };
            (Justification::VulnerableCodeNotInExecutePath, claim)
        };
        match window_shortfall(window, min_observation) {
            None => (
                VexStatus::NotAffected,
                Some(justification),
                claim,
                None,
                None,
            ),
            Some(shortfall) => (
                VexStatus::UnderInvestigation,
                None,
                format!(
                    "{claim}, but the evidence is not enough to claim `not_affected`: {shortfall}"
                ),
                None,
                None,
            ),
        }
    };
    VexStatement {
        vulnerability: finding.id.clone(),
        aliases: finding.aliases.clone(),
        summary: finding.summary.clone(),
        product: VexProduct {
            name: package.name.to_string(),
            version: package.version.clone(),
            purl: format!(
                "pkg:{}/{}@{}",
                package.ecosystem.purl_type(),
                package.name,
                package.version
            ),
        },
        status,
        justification,
        detail,
        action,
        evidence: evidence(window, supporting),
        triage: None,
    }
}

/// The action that clears `finding`.
fn upgrade(finding: &Finding) -> String {
    let name = &finding.package.name;
    match &finding.fixed {
        Some(fixed) => format!("upgrade {name} to {fixed} or later"),
        None => format!("no fixed version is known; remove or replace {name}"),
    }
}

#[cfg(test)]
mod tests;
