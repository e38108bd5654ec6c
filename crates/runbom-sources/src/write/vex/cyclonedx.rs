//! `cyclonedx/vex`: a CycloneDX 1.6 JSON BOM whose `vulnerabilities` hold the statements, each
//! `affects` the component it is about; valid against `bom-1.6.schema.json`.

use std::collections::BTreeMap;

use runbom_model::vex::{Justification, VexDocument, VexStatement, VexStatus};
use serde_json::{Value, json};

use super::{VexWriter, WriteError};
use crate::write::cyclonedx_json::{SCHEMA_URL, metadata};

#[derive(Debug)]
pub struct CycloneDxVexWriter;

impl VexWriter for CycloneDxVexWriter {
    fn name(&self) -> &'static str {
        "cyclonedx/vex"
    }

    fn write(&self, vex: &VexDocument) -> Result<String, WriteError> {
        let text =
            serde_json::to_string_pretty(&document(vex)).map_err(|source| WriteError::Json {
                format: "CycloneDX VEX",
                source,
            })?;
        Ok(text + "\n")
    }
}

fn document(vex: &VexDocument) -> Value {
    let mut products = BTreeMap::new();
    for s in &vex.statements {
        products.entry(&s.product.purl).or_insert_with(|| {
            json!({
                "type": "library",
                "bom-ref": s.product.purl,
                "name": s.product.name,
                "version": s.product.version,
                "purl": s.product.purl,
            })
        });
    }
    json!({
        "$schema": SCHEMA_URL,
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": vex.serial_number,
        "version": 1,
        "metadata": metadata(&vex.timestamp, &vex.tool, vex.subject.as_ref()),
        "components": products.into_values().collect::<Vec<_>>(),
        "vulnerabilities": vex.statements.iter().map(vulnerability).collect::<Vec<_>>(),
    })
}

/// CycloneDX `analysis.state` and `justification` of an OpenVEX status.
fn state(s: &VexStatement) -> (&'static str, Option<&'static str>) {
    match (s.status, s.justification) {
        (VexStatus::Affected, _) => ("exploitable", None),
        (VexStatus::UnderInvestigation, _) => ("in_triage", None),
        (VexStatus::NotAffected, Some(Justification::ComponentNotPresent)) => {
            ("not_affected", Some("code_not_present"))
        }
        (VexStatus::NotAffected, _) => ("not_affected", Some("code_not_reachable")),
    }
}

/// The computed analysis, or a person's in its place (with the computed evidence kept in the
/// detail).
fn analysis(s: &VexStatement) -> Value {
    let evidence = s.evidence.describe();
    if let Some(t) = &s.triage {
        let mut analysis = json!({
            "state": t.state,
            "detail": format!("{} (triaged by {} at {}). Evidence: {evidence}.", t.detail, t.by, t.at),
            "lastUpdated": t.at,
        });
        if !t.justification.is_empty() {
            analysis["justification"] = t.justification.as_str().into();
        }
        if !t.response.is_empty() {
            analysis["response"] = json!(t.response);
        }
        return analysis;
    }
    let (state, justification) = state(s);
    let mut analysis = json!({
        "state": state,
        "detail": format!("{}. Evidence: {evidence}.", s.detail),
    });
    if let Some(justification) = justification {
        analysis["justification"] = justification.into();
    }
    if s.status == VexStatus::Affected {
        analysis["response"] = json!(["update"]);
    }
    analysis
}

fn vulnerability(s: &VexStatement) -> Value {
    let analysis = analysis(s);
    let mut vulnerability = json!({
        "id": s.vulnerability,
        "source": osv(&s.vulnerability),
        "analysis": analysis,
        "affects": [{"ref": s.product.purl}],
        "properties": [
            {"name": "runbom:evidence:reports", "value": s.evidence.reports.join(" ")},
            {"name": "runbom:evidence:from", "value": s.evidence.from},
            {"name": "runbom:evidence:to", "value": s.evidence.to},
        ],
    });
    if !s.aliases.is_empty() {
        vulnerability["references"] = s
            .aliases
            .iter()
            .map(|alias| json!({"id": alias, "source": osv(alias)}))
            .collect();
    }
    if let Some(summary) = &s.summary {
        vulnerability["description"] = summary.as_str().into();
    }
    if let Some(action) = &s.action {
        vulnerability["recommendation"] = action.as_str().into();
    }
    vulnerability
}

fn osv(id: &str) -> Value {
    json!({"name": "OSV", "url": format!("https://osv.dev/vulnerability/{id}")})
}
