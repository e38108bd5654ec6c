//! `python/pipfile-lock`: Pipenv's `Pipfile.lock` (JSON). Packages of `default` and `develop`
//! are expected; `version` is `==X`, hashes are `sha256:…`.

use std::collections::BTreeMap;
use std::path::Path;

use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::{Ecosystem, PackageName};
use serde::Deserialize;

use crate::{InventoryReader, SourceError, purl};

#[derive(Debug)]
pub(crate) struct PipfileLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "_meta")]
    meta: Meta,
    #[serde(default)]
    default: BTreeMap<String, Entry>,
    #[serde(default)]
    develop: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "pipfile-spec")]
    pipfile_spec: u32,
}

#[derive(Deserialize)]
struct Entry {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    markers: Option<String>,
}

impl InventoryReader for PipfileLock {
    fn name(&self) -> &'static str {
        "python/pipfile-lock"
    }

    fn detect(&self, path: &Path, _contents: &str) -> bool {
        path.file_name().is_some_and(|n| n == "Pipfile.lock")
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let lock: Lock = serde_json::from_str(contents).map_err(|e| SourceError::json(path, &e))?;
        if lock.meta.pipfile_spec != 6 {
            return Err(SourceError::UnsupportedVersion {
                file: path.display().to_string(),
                format: "Pipfile.lock",
                version: lock.meta.pipfile_spec.to_string(),
                supported: "6",
            });
        }
        let mut components = Vec::new();
        for (section, entries) in [("default", &lock.default), ("develop", &lock.develop)] {
            for (raw_name, entry) in entries {
                let name = PackageName::pypi(raw_name);
                let version = match entry.version.as_deref() {
                    Some(v) => match v.strip_prefix("==") {
                        Some(exact) => ExpectedVersion::Exact(exact.to_owned()),
                        None => ExpectedVersion::Specifier(v.to_owned()),
                    },
                    None => ExpectedVersion::Unspecified,
                };
                components.push(ExpectedComponent {
                    ecosystem: Some(Ecosystem::PyPi),
                    raw_name: raw_name.clone(),
                    purl: purl::pypi(&name, version.exact()),
                    name,
                    version,
                    hashes: entry
                        .hashes
                        .iter()
                        .filter_map(|h| h.split_once(':'))
                        .map(|(alg, hex)| ComponentHash::new(alg, hex))
                        .collect(),
                    licenses: Vec::new(),
                    marker: entry.markers.clone(),
                    location: SourceLocation {
                        file: path.display().to_string(),
                        line: None,
                        path: Some(format!("/{section}/{raw_name}")),
                    },
                });
            }
        }
        Ok(ExpectedInventory {
            format: self.name().to_owned(),
            source: path.display().to_string(),
            components,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    #[test]
    fn reads_a_real_pipfile_lock() {
        let path = testdata::path("pipenv/Pipfile.lock");
        let contents = std::fs::read_to_string(&path).expect("fixture");
        assert!(PipfileLock.detect(&path, &contents));
        let inventory = PipfileLock.read(&path, &contents).expect("read");
        let requests = inventory
            .components
            .iter()
            .find(|c| c.name.as_str() == "requests")
            .expect("requests");
        assert!(requests.version.exact().is_some());
        assert!(!requests.hashes.is_empty());
    }
}
