//! `cyclonedx/json`: CycloneDX 1.4, 1.5 and 1.6 JSON BOMs, nested components included.

use std::path::Path;

use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use serde::Deserialize;

use crate::sniff::Shape;
use crate::{InventoryReader, SourceError, purl};

const SUPPORTED: &str = "1.4, 1.5, 1.6";

#[derive(Debug)]
pub(crate) struct CycloneDxJson;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: String,
    spec_version: String,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Component {
    name: String,
    version: Option<String>,
    purl: Option<String>,
    #[serde(default)]
    hashes: Vec<Hash>,
    #[serde(default)]
    licenses: Vec<LicenseChoice>,
    #[serde(default)]
    components: Vec<Component>,
    #[serde(default, rename = "externalReferences")]
    external_references: Vec<ExternalReference>,
}

/// cyclonedx-py records artifact hashes on the `distribution` reference, not the component.
#[derive(Deserialize)]
struct ExternalReference {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    hashes: Vec<Hash>,
}

#[derive(Deserialize)]
struct Hash {
    alg: String,
    content: String,
}

#[derive(Deserialize)]
struct LicenseChoice {
    license: Option<License>,
    expression: Option<String>,
}

#[derive(Deserialize)]
struct License {
    id: Option<String>,
    name: Option<String>,
}

impl InventoryReader for CycloneDxJson {
    fn name(&self) -> &'static str {
        "cyclonedx/json"
    }

    fn fits(&self, shape: &Shape, _contents: &str) -> Result<(), String> {
        shape.json_with("bomFormat")
    }

    fn conventional_name(&self, name: &str) -> bool {
        name.ends_with(".cdx.json") || name == "bom.json"
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let bom: Bom = serde_json::from_str(contents).map_err(|e| SourceError::json(path, &e))?;
        if bom.bom_format != "CycloneDX" {
            return Err(SourceError::invalid(
                path,
                "/bomFormat",
                format!("expected `CycloneDX`, found `{}`", bom.bom_format),
            ));
        }
        if !matches!(bom.spec_version.as_str(), "1.4" | "1.5" | "1.6") {
            return Err(SourceError::UnsupportedVersion {
                file: path.display().to_string(),
                format: "CycloneDX",
                version: bom.spec_version,
                supported: SUPPORTED,
            });
        }
        let mut components = Vec::new();
        flatten(path, &bom.components, "/components", &mut components);
        Ok(ExpectedInventory {
            format: self.name().to_owned(),
            source: path.display().to_string(),
            components,
            checksum_file: None,
            lists_unbuilt: false,
        })
    }
}

fn flatten(path: &Path, from: &[Component], pointer: &str, into: &mut Vec<ExpectedComponent>) {
    for (i, c) in from.iter().enumerate() {
        let here = format!("{pointer}/{i}");
        into.push(convert(path, c, &here));
        flatten(path, &c.components, &format!("{here}/components"), into);
    }
}

fn convert(path: &Path, c: &Component, pointer: &str) -> ExpectedComponent {
    let parsed = c.purl.as_deref().and_then(purl::parse);
    let ecosystem = parsed.as_ref().and_then(|(e, _, _)| *e);
    // The PURL's name is the package's identity; the component name may be a display name.
    let identity_name = parsed
        .as_ref()
        .map(|(_, n, _)| n.as_str())
        .unwrap_or(&c.name);
    let version = match &c.version {
        Some(v) if !v.is_empty() => ExpectedVersion::Exact(v.clone()),
        _ => ExpectedVersion::Unspecified,
    };
    ExpectedComponent {
        ecosystem,
        raw_name: c.name.clone(),
        name: purl::normalise(ecosystem, identity_name),
        version,
        purl: c.purl.clone(),
        hashes: c
            .hashes
            .iter()
            .chain(
                c.external_references
                    .iter()
                    .filter(|r| r.kind == "distribution")
                    .flat_map(|r| &r.hashes),
            )
            .map(|h| ComponentHash::new(&h.alg, &h.content))
            .collect(),
        licenses: c
            .licenses
            .iter()
            .filter_map(|l| {
                l.expression.clone().or_else(|| {
                    l.license
                        .as_ref()
                        .and_then(|l| l.id.clone().or_else(|| l.name.clone()))
                })
            })
            .collect(),
        marker: None,
        location: SourceLocation {
            file: path.display().to_string(),
            line: None,
            path: Some(pointer.to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn read(name: &str) -> Result<ExpectedInventory, SourceError> {
        testdata::read(&CycloneDxJson, name)
    }

    #[test]
    fn reads_real_boms_of_each_spec_version() {
        let cases = [
            (
                "cyclonedx/poetry__plain_regression-issue702_lock21_1.6.cdx.json",
                63,
            ),
            ("cyclonedx/requirements__file_with-hashes_1.4.cdx.json", 5),
            ("cyclonedx/environment__plain_with-extras_1.6.cdx.json", 31),
            ("cyclonedx/requirements__file_with-urls_1.6.cdx.json", 8),
        ];
        for (name, count) in cases {
            let inventory = read(name).expect(name);
            assert_eq!(inventory.components.len(), count, "{name}");
        }
    }

    #[test]
    fn pypi_components_have_ecosystem_normalised_name_hashes_and_licences() {
        let inventory =
            read("cyclonedx/requirements__file_with-hashes_1.4.cdx.json").expect("read");
        let c = &inventory.components[0];
        assert_eq!(c.ecosystem, Some(runbom_model::Ecosystem::PyPi));
        assert!(
            c.purl
                .as_deref()
                .is_some_and(|p| p.starts_with("pkg:pypi/"))
        );
        assert!(inventory.components.iter().any(|c| !c.hashes.is_empty()));
        let env = read("cyclonedx/environment__plain_with-extras_1.6.cdx.json").expect("read");
        let boolean = env
            .components
            .iter()
            .find(|c| c.raw_name == "boolean.py")
            .expect("boolean.py");
        assert_eq!(boolean.name.as_str(), "boolean-py");
        assert!(env.components.iter().any(|c| !c.licenses.is_empty()));
    }

    #[test]
    fn truncated_json_names_file_line_and_column() {
        let error = read("cyclonedx/broken/truncated.cdx.json").expect_err("truncated");
        let text = error.to_string();
        assert!(text.contains("truncated.cdx.json`:"), "{text}");
        assert!(
            matches!(error, SourceError::Syntax { line, .. } if line > 1),
            "{text}"
        );
    }

    #[test]
    fn wrong_spec_version_is_refused() {
        let error = read("cyclonedx/broken/spec-1.2.cdx.json").expect_err("1.2");
        assert!(
            error
                .to_string()
                .contains("unsupported CycloneDX version `1.2`"),
            "{error}"
        );
    }
}
