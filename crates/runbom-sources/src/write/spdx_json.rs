//! `spdx/json`: SPDX 2.3 JSON, valid against the SPDX 2.3 JSON schema. Each component is a
//! package described by the document; its runtime evidence becomes an annotation.
//!
//! Trap: SPDX licence fields take only SPDX expressions, so a licence known only by its name is
//! written as a `LicenseRef-` whose text is the name (`hasExtractedLicensingInfos`).

use std::collections::BTreeMap;

use runbom_model::sbom::{Evidence, Sbom, SbomComponent};
use serde_json::{Value, json};

use super::{LicenseForm, SbomWriter, WriteError, license_form, spdx_algorithm};

#[derive(Debug)]
pub struct SpdxJsonWriter;

impl SbomWriter for SpdxJsonWriter {
    fn name(&self) -> &'static str {
        "spdx/json"
    }

    fn write(&self, sbom: &Sbom) -> Result<String, WriteError> {
        let text =
            serde_json::to_string_pretty(&document(sbom)).map_err(|source| WriteError::Json {
                format: "SPDX JSON",
                source,
            })?;
        Ok(text + "\n")
    }
}

/// Licence names met so far, each with its `LicenseRef-` id.
#[derive(Default)]
struct ExtractedLicenses(BTreeMap<String, String>);

impl ExtractedLicenses {
    fn reference(&mut self, name: &str) -> String {
        let id = format!("LicenseRef-{}", id_safe(name));
        self.0.entry(id.clone()).or_insert_with(|| name.to_owned());
        id
    }

    fn into_json(self) -> Vec<Value> {
        self.0
            .into_iter()
            .map(|(id, name)| json!({"licenseId": id, "extractedText": name, "name": name}))
            .collect()
    }
}

fn document(sbom: &Sbom) -> Value {
    let name = sbom
        .subject
        .as_ref()
        .map_or_else(|| "runbom".to_owned(), |s| s.name.clone());
    let annotator = format!("Tool: {}-{}", sbom.tool.name, sbom.tool.version);
    let mut extracted = ExtractedLicenses::default();
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    for (i, c) in sbom.components.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}-{}", i + 1, id_safe(&c.name));
        relationships.push(json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": id,
        }));
        packages.push(package(c, &id, &sbom.timestamp, &annotator, &mut extracted));
    }
    let mut document = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": sbom.serial_number,
        "creationInfo": {"created": sbom.timestamp, "creators": [annotator]},
        "packages": packages,
        "relationships": relationships,
    });
    let extracted = extracted.into_json();
    if !extracted.is_empty() {
        document["hasExtractedLicensingInfos"] = extracted.into();
    }
    document
}

fn package(
    c: &SbomComponent,
    id: &str,
    timestamp: &str,
    annotator: &str,
    extracted: &mut ExtractedLicenses,
) -> Value {
    let mut package = json!({
        "SPDXID": id,
        "name": c.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": declared(&c.licenses, extracted),
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "LIBRARY",
    });
    if let Some(version) = &c.version {
        package["versionInfo"] = version.as_str().into();
    }
    let checksums: Vec<Value> = c
        .hashes
        .iter()
        .filter_map(|h| {
            Some(json!({"algorithm": spdx_algorithm(&h.algorithm)?, "checksumValue": h.hex}))
        })
        .collect();
    if !checksums.is_empty() {
        package["checksums"] = checksums.into();
    }
    if let Some(purl) = &c.purl {
        package["externalRefs"] = json!([{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl,
        }]);
    }
    if let Some(evidence) = &c.evidence {
        package["annotations"] = json!([{
            "annotationDate": timestamp,
            "annotationType": "OTHER",
            "annotator": annotator,
            "comment": evidence_comment(evidence),
        }]);
    }
    package
}

/// Every licence as an SPDX expression, joined with `AND`; `NOASSERTION` when there is none.
fn declared(licenses: &[String], extracted: &mut ExtractedLicenses) -> String {
    let parts: Vec<String> = licenses
        .iter()
        .map(|l| match license_form(l) {
            LicenseForm::Id(id) => id.to_owned(),
            LicenseForm::Expression(e) if licenses.len() == 1 => e.to_owned(),
            LicenseForm::Expression(e) => format!("({e})"),
            LicenseForm::Name(name) => extracted.reference(name),
        })
        .collect();
    if parts.is_empty() {
        "NOASSERTION".to_owned()
    } else {
        parts.join(" AND ")
    }
}

/// The runtime evidence in words: how the identity was established and which files ran.
fn evidence_comment(evidence: &Evidence) -> String {
    let mut lines: Vec<String> = evidence
        .methods
        .iter()
        .map(|m| format!("{} ({}): {}", m.technique.as_str(), m.confidence, m.value))
        .collect();
    for o in &evidence.occurrences {
        lines.push(format!("loaded {}: {}", o.location, o.context()));
    }
    lines.join("\n")
}

/// Letters, digits, `.` and `-` only, as SPDX ids require.
fn id_safe(text: &str) -> String {
    let safe: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if safe.is_empty() {
        "unnamed".to_owned()
    } else {
        safe
    }
}
