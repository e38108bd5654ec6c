//! `openvex`: an OpenVEX 0.2.0 document, valid against the OpenVEX JSON schema. Each statement
//! names its product by PURL; the runtime evidence is in `status_notes`.

use runbom_model::vex::{TriagedAnalysis, VexDocument, VexStatement, VexStatus};
use serde_json::{Value, json};

use super::{VexWriter, WriteError};

/// The OpenVEX context this writer follows.
pub const OPENVEX_CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

#[derive(Debug)]
pub struct OpenVexWriter;

impl VexWriter for OpenVexWriter {
    fn name(&self) -> &'static str {
        "openvex"
    }

    fn write(&self, vex: &VexDocument) -> Result<String, WriteError> {
        let text =
            serde_json::to_string_pretty(&document(vex)).map_err(|source| WriteError::Json {
                format: "OpenVEX",
                source,
            })?;
        Ok(text + "\n")
    }
}

fn document(vex: &VexDocument) -> Value {
    let tooling = format!("{} {}", vex.tool.name, vex.tool.version);
    json!({
        "@context": OPENVEX_CONTEXT,
        "@id": vex.serial_number,
        "author": vex.tool.name,
        "role": "runtime evidence",
        "timestamp": vex.timestamp,
        "version": 1,
        "tooling": tooling,
        "statements": vex.statements.iter().map(|s| statement(s, &vex.timestamp)).collect::<Vec<_>>(),
    })
}

fn statement(s: &VexStatement, timestamp: &str) -> Value {
    let mut vulnerability = json!({"name": s.vulnerability});
    if !s.aliases.is_empty() {
        vulnerability["aliases"] = s.aliases.clone().into();
    }
    if let Some(summary) = &s.summary {
        vulnerability["description"] = summary.as_str().into();
    }
    let mut statement = json!({
        "vulnerability": vulnerability,
        "timestamp": timestamp,
        "products": [{"@id": s.product.purl, "identifiers": {"purl": s.product.purl}}],
        "status": s.status.as_str(),
        "status_notes": format!("{}. Evidence: {}.", s.detail, s.evidence.describe()),
    });
    if let Some(t) = &s.triage {
        return triaged(statement, t, s, timestamp);
    }
    if let Some(justification) = s.justification {
        statement["justification"] = justification.as_str().into();
    }
    if s.status == VexStatus::Affected {
        statement["action_statement"] = s
            .action
            .clone()
            .unwrap_or_else(|| "no action known".to_owned())
            .into();
        statement["action_statement_timestamp"] = timestamp.into();
    }
    statement
}

/// OpenVEX's justification nearest a CycloneDX one.
fn openvex_justification(cyclonedx: &str) -> &'static str {
    match cyclonedx {
        "code_not_present" => "vulnerable_code_not_present",
        "code_not_reachable" => "vulnerable_code_not_in_execute_path",
        "requires_configuration" | "requires_dependency" | "requires_environment" => {
            "vulnerable_code_cannot_be_controlled_by_adversary"
        }
        _ => "inline_mitigations_already_exist",
    }
}

/// A statement whose status is a person's analysis (CycloneDX state) instead of the computed one.
fn triaged(mut statement: Value, t: &TriagedAnalysis, s: &VexStatement, timestamp: &str) -> Value {
    let notes = format!(
        "{}: {} (triaged by {} at {}). Evidence: {}.",
        t.state,
        t.detail,
        t.by,
        t.at,
        s.evidence.describe()
    );
    statement["status_notes"] = notes.into();
    match t.state.as_str() {
        "exploitable" => {
            statement["status"] = "affected".into();
            statement["action_statement"] = s
                .action
                .clone()
                .unwrap_or_else(|| "no action known".to_owned())
                .into();
            statement["action_statement_timestamp"] = timestamp.into();
        }
        "not_affected" => {
            statement["status"] = "not_affected".into();
            statement["justification"] = openvex_justification(&t.justification).into();
        }
        "false_positive" => {
            statement["status"] = "not_affected".into();
            statement["impact_statement"] = format!("false positive: {}", t.detail).into();
        }
        "resolved" => statement["status"] = "fixed".into(),
        _ => statement["status"] = "under_investigation".into(),
    }
    statement
}
