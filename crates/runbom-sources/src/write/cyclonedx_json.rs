//! `cyclonedx/json`: CycloneDX 1.6 JSON, valid against the official `bom-1.6.schema.json`.

use runbom_model::expected::ComponentHash;
use runbom_model::sbom::{Evidence, Sbom, SbomComponent, Subject, Tool};
use serde_json::{Value, json};

use super::{LicenseForm, SbomWriter, WriteError, cyclonedx_algorithm, license_form};

/// The `$schema` a CycloneDX 1.6 JSON document names.
pub(crate) const SCHEMA_URL: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

#[derive(Debug)]
pub struct CycloneDxJsonWriter;

impl SbomWriter for CycloneDxJsonWriter {
    fn name(&self) -> &'static str {
        "cyclonedx/json"
    }

    fn write(&self, sbom: &Sbom) -> Result<String, WriteError> {
        let document = document(sbom);
        let text = serde_json::to_string_pretty(&document).map_err(|source| WriteError::Json {
            format: "CycloneDX JSON",
            source,
        })?;
        Ok(text + "\n")
    }
}

/// The whole BOM as a JSON value.
pub(crate) fn document(sbom: &Sbom) -> Value {
    json!({
        "$schema": SCHEMA_URL,
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": sbom.serial_number,
        "version": 1,
        "metadata": metadata(&sbom.timestamp, &sbom.tool, sbom.subject.as_ref()),
        "components": sbom.components.iter().map(component).collect::<Vec<_>>(),
    })
}

/// `metadata`: when, which phase (what ran: `operations`), which tool, which application.
pub(crate) fn metadata(timestamp: &str, tool: &Tool, subject: Option<&Subject>) -> Value {
    let mut metadata = json!({
        "timestamp": timestamp,
        "lifecycles": [{"phase": "operations"}],
        "tools": {"components": [{
            "type": "application",
            "name": tool.name,
            "version": tool.version,
        }]},
    });
    if let Some(subject) = subject {
        let mut component = json!({
            "type": "application",
            "bom-ref": subject_ref(subject),
            "name": subject.name,
        });
        if let Some(version) = &subject.version {
            component["version"] = version.as_str().into();
        }
        metadata["component"] = component;
    }
    metadata
}

/// The `bom-ref` of the application a BOM describes.
pub(crate) fn subject_ref(subject: &Subject) -> String {
    format!("application:{}", subject.name)
}

fn component(c: &SbomComponent) -> Value {
    let mut component = json!({"type": "library", "bom-ref": c.bom_ref, "name": c.name});
    if let Some(version) = &c.version {
        component["version"] = version.as_str().into();
    }
    let hashes = hashes(&c.hashes);
    if !hashes.is_empty() {
        component["hashes"] = hashes.into();
    }
    if !c.licenses.is_empty() {
        component["licenses"] = licenses(&c.licenses).into();
    }
    if let Some(purl) = &c.purl {
        component["purl"] = purl.as_str().into();
    }
    if let Some(e) = &c.evidence {
        component["evidence"] = evidence(c, e);
    }
    component
}

fn hashes(hashes: &[ComponentHash]) -> Vec<Value> {
    hashes
        .iter()
        .filter_map(|h| Some(json!({"alg": cyclonedx_algorithm(&h.algorithm)?, "content": h.hex})))
        .collect()
}

/// One expression alone, or a list of ids and names (the schema allows no mix).
fn licenses(licenses: &[String]) -> Vec<Value> {
    if let [only] = licenses
        && let LicenseForm::Expression(expression) = license_form(only)
    {
        return vec![json!({"expression": expression})];
    }
    licenses
        .iter()
        .map(|l| match license_form(l) {
            LicenseForm::Id(id) => json!({"license": {"id": id}}),
            LicenseForm::Expression(text) | LicenseForm::Name(text) => {
                json!({"license": {"name": text}})
            }
        })
        .collect()
}

fn evidence(c: &SbomComponent, e: &Evidence) -> Value {
    let (field, concluded) = match &c.purl {
        Some(purl) => ("purl", purl.clone()),
        None => ("name", c.name.clone()),
    };
    let methods: Vec<Value> = e
        .methods
        .iter()
        .map(|m| json!({"technique": m.technique.as_str(), "confidence": m.confidence, "value": m.value}))
        .collect();
    let mut evidence = json!({"identity": [{
        "field": field,
        "confidence": e.confidence,
        "concludedValue": concluded,
        "methods": methods,
    }]});
    if !e.occurrences.is_empty() {
        evidence["occurrences"] = e
            .occurrences
            .iter()
            .map(|o| json!({"location": o.location, "additionalContext": o.context()}))
            .collect();
    }
    evidence
}
