//! `runbom policy check --format sarif`: SARIF 2.1.0, one rule per finding code, one result per
//! finding, located at the `runbom.toml` line its rule was written on.

use std::io::Write;

use runbom_analysis::policy::{Code, Finding, Severity};
use serde_json::{Value, json};

use super::CheckOutcome;
use crate::commands::sarif;

pub fn write(out: &mut impl Write, outcome: &CheckOutcome) -> anyhow::Result<()> {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.as_str(),
                "shortDescription": {"text": code.description()},
                "helpUri": format!("docs/reference/policy-check.md#{}", code.as_str()),
                "properties": {"rule": code.rule().as_str()},
            })
        })
        .collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| result(f, outcome.config.name()))
        .collect();
    sarif::write_log(out, Some("docs/reference/policy-check.md"), rules, results)
}

fn result(finding: &Finding, config: &str) -> Value {
    let rule_index = Code::ALL
        .iter()
        .position(|c| *c == finding.code)
        .unwrap_or_default();
    let mut physical = json!({"artifactLocation": {"uri": config}});
    if let Some(line) = finding.config {
        physical["region"] = json!({"startLine": line.line, "startColumn": line.column});
    }
    json!({
        "ruleId": finding.code.as_str(),
        "ruleIndex": rule_index,
        "level": match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "message": {"text": format!("{} Help: {}", finding.message, finding.help)},
        "locations": [{"physicalLocation": physical}],
        "properties": finding,
    })
}
