//! `runbom audit --format sarif`: SARIF 2.1.0, one rule per vulnerability (its id; aliases and
//! the help link in the rule), one result per finding located at the input the component came
//! from, its level from the severity; ignored findings carry a SARIF suppression.

use std::collections::BTreeMap;
use std::io::Write;

use runbom_analysis::severity::SeverityLevel;
use runbom_analysis::vulns::Finding;
use serde_json::{Value, json};

use super::{AuditOutcome, source_path};
use crate::commands::sarif::{self, uri};

pub fn write(out: &mut impl Write, outcome: &AuditOutcome) -> anyhow::Result<()> {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for finding in &outcome.findings {
        rules.entry(&finding.id).or_insert_with(|| rule(finding));
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| result(f, index.get(f.id.as_str()).copied().unwrap_or_default()))
        .collect();
    sarif::write_log(
        out,
        Some("docs/reference/audit.md"),
        rules.into_values().collect(),
        results,
    )
}

fn rule(finding: &Finding) -> Value {
    let mut rule = json!({
        "id": finding.id,
        "name": finding.id,
        "shortDescription": {"text": finding.summary.clone().unwrap_or_else(|| finding.id.clone())},
        "helpUri": format!("https://osv.dev/vulnerability/{}", finding.id),
        "properties": {"aliases": finding.aliases, "tags": ["security", "vulnerability"]},
    });
    if let Some(score) = finding.severity.as_ref().and_then(|s| s.score) {
        rule["properties"]["security-severity"] = json!(format!("{score:.1}"));
    }
    rule
}

fn level(finding: &Finding) -> &'static str {
    match finding.severity.as_ref().map(|s| s.level) {
        Some(SeverityLevel::Critical | SeverityLevel::High) | None => "error",
        Some(SeverityLevel::Medium) => "warning",
        Some(SeverityLevel::Low | SeverityLevel::None) => "note",
    }
}

fn result(finding: &Finding, rule_index: usize) -> Value {
    let message = format!(
        "{} {} is affected by {} ({}){}{}",
        finding.package.name,
        finding.package.version,
        finding.id,
        finding.affected.join(" | "),
        finding
            .fixed
            .as_deref()
            .map(|f| format!("; fixed in {f}"))
            .unwrap_or_default(),
        match finding.runtime_rank() {
            0 => "; loaded at run time",
            1 if finding
                .vulnerable_code
                .as_ref()
                .is_some_and(|c| c.linked.is_some()) =>
            {
                "; in the binary, but the vulnerable code is not linked in"
            }
            1 => "; loaded, but not the vulnerable code",
            2 => "; installed, never loaded",
            _ => "",
        }
    );
    let locations: Vec<Value> = finding
        .sources
        .iter()
        .take(1)
        .map(|s| {
            json!({
                "physicalLocation": {"artifactLocation": {"uri": uri(source_path(s))}},
                "logicalLocations": [{
                    "name": finding.package.name.to_string(),
                    "fullyQualifiedName": format!("{}/{}@{}", finding.package.ecosystem.as_str(), finding.package.name, finding.package.version),
                    "kind": "package",
                }],
            })
        })
        .collect();
    let mut result = json!({
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": level(finding),
        "message": {"text": message},
        "locations": locations,
        "properties": finding,
    });
    if let Some(ignore) = finding.ignore.as_ref().filter(|i| !i.expired) {
        result["suppressions"] = json!([{"kind": "external", "justification": ignore.reason}]);
    }
    result
}
