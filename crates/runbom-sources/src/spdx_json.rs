//! `spdx/json`: SPDX 2.3 JSON documents; packages become components, PURLs come from
//! `externalRefs` of type `purl`.

use std::path::Path;

use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use serde::Deserialize;

use crate::sniff::Shape;
use crate::{InventoryReader, SourceError, purl};

#[derive(Debug)]
pub(crate) struct SpdxJson;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: String,
    #[serde(default)]
    packages: Vec<Package>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    version_info: Option<String>,
    #[serde(default)]
    checksums: Vec<Checksum>,
    license_concluded: Option<String>,
    license_declared: Option<String>,
    #[serde(default)]
    external_refs: Vec<ExternalRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: String,
    checksum_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_type: String,
    reference_locator: String,
}

impl InventoryReader for SpdxJson {
    fn name(&self) -> &'static str {
        "spdx/json"
    }

    fn fits(&self, shape: &Shape, _contents: &str) -> Result<(), String> {
        shape.json_with("spdxVersion")
    }

    fn conventional_name(&self, name: &str) -> bool {
        name.ends_with(".spdx.json")
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let doc: Document =
            serde_json::from_str(contents).map_err(|e| SourceError::json(path, &e))?;
        if doc.spdx_version != "SPDX-2.3" {
            return Err(SourceError::UnsupportedVersion {
                file: path.display().to_string(),
                format: "SPDX",
                version: doc.spdx_version,
                supported: "SPDX-2.3",
            });
        }
        let components = doc
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| convert(path, i, p))
            .collect();
        Ok(ExpectedInventory {
            format: self.name().to_owned(),
            source: path.display().to_string(),
            components,
            checksum_file: None,
            lists_unbuilt: false,
        })
    }
}

fn convert(path: &Path, index: usize, p: &Package) -> ExpectedComponent {
    let purl_ref = p
        .external_refs
        .iter()
        .find(|r| r.reference_type == "purl")
        .map(|r| r.reference_locator.clone());
    let parsed = purl_ref.as_deref().and_then(purl::parse);
    let ecosystem = parsed.as_ref().and_then(|(e, _, _)| *e);
    let identity_name = parsed
        .as_ref()
        .map(|(_, n, _)| n.as_str())
        .unwrap_or(&p.name);
    let licenses = [&p.license_concluded, &p.license_declared]
        .into_iter()
        .flatten()
        .filter(|l| !matches!(l.as_str(), "NOASSERTION" | "NONE"))
        .cloned()
        .collect::<Vec<_>>();
    let mut deduped = Vec::new();
    for l in licenses {
        if !deduped.contains(&l) {
            deduped.push(l);
        }
    }
    ExpectedComponent {
        ecosystem,
        raw_name: p.name.clone(),
        name: purl::normalise(ecosystem, identity_name),
        version: p
            .version_info
            .clone()
            .map_or(ExpectedVersion::Unspecified, ExpectedVersion::Exact),
        purl: purl_ref,
        hashes: p
            .checksums
            .iter()
            .map(|c| ComponentHash::new(&c.algorithm, &c.checksum_value))
            .collect(),
        licenses: deduped,
        marker: None,
        location: SourceLocation {
            file: path.display().to_string(),
            line: None,
            path: Some(format!("/packages/{index}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    #[test]
    fn reads_the_spdx_2_3_example() {
        let inventory =
            testdata::read(&SpdxJson, "spdx/SPDXJSONExample-v2.3.spdx.json").expect("read");
        assert_eq!(inventory.components.len(), 4);
        let glibc = &inventory.components[0];
        assert_eq!(glibc.raw_name, "glibc");
        assert!(glibc.hashes.iter().any(|h| h.algorithm == "sha256"));
        assert!(inventory.components.iter().any(|c| c.purl.is_some()));
    }

    #[test]
    fn other_spdx_versions_are_refused() {
        let path = Path::new("old.spdx.json");
        let error = SpdxJson
            .read(path, r#"{"spdxVersion": "SPDX-2.2", "packages": []}"#)
            .expect_err("2.2");
        assert!(
            error
                .to_string()
                .contains("`old.spdx.json`: unsupported SPDX version `SPDX-2.2`"),
            "{error}"
        );
    }
}
