//! `runbom verify --format sarif`: SARIF 2.1.0, one rule per finding code, one result per
//! finding, located at the file it is about (or the expected inventory's line).

use std::io::Write;

use runbom_analysis::verify::{Finding, FindingCode};
use serde_json::{Value, json};

use super::VerifyOutcome;
use crate::commands::sarif::{self, uri};

pub fn write(out: &mut impl Write, outcome: &VerifyOutcome) -> anyhow::Result<()> {
    let rules: Vec<Value> = FindingCode::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.as_str(),
                "shortDescription": {"text": code.description()},
                "helpUri": format!("docs/reference/verify.md#{}", code.as_str()),
            })
        })
        .collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| result(f, &outcome.expected.source))
        .collect();
    sarif::write_log(out, None, rules, results)
}

fn result(finding: &Finding, expected_source: &str) -> Value {
    let rule_index = FindingCode::ALL
        .iter()
        .position(|c| *c == finding.code)
        .unwrap_or_default();
    let location = match (&finding.file, &finding.expected) {
        (Some(file), _) => json!({"physicalLocation": {"artifactLocation": {"uri": uri(file)}}}),
        (None, Some(expected)) => {
            let mut physical = json!({"artifactLocation": {"uri": expected.location.file}});
            if let Some(line) = expected.location.line {
                physical["region"] = json!({"startLine": line});
            }
            json!({"physicalLocation": physical})
        }
        (None, None) => json!({"physicalLocation": {"artifactLocation": {"uri": expected_source}}}),
    };
    json!({
        "ruleId": finding.code.as_str(),
        "ruleIndex": rule_index,
        "level": finding.level.as_str(),
        "message": {"text": finding.message},
        "locations": [location],
        "properties": finding,
    })
}
