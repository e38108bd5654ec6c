//! `python/pipfile-lock`: Pipenv's `Pipfile.lock` (JSON). Packages of `default` and `develop`
//! are expected; `version` is `==X`, hashes are `sha256:…`.

use std::collections::BTreeMap;
use std::path::Path;

use runbom_model::expected::{ExpectedInventory, ExpectedVersion};
use serde::Deserialize;

use crate::locked::{self, LockedPackage, prefixed_hash};
use crate::sniff::Shape;
use crate::{InventoryReader, SourceError};

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

    fn fits(&self, shape: &Shape, _contents: &str) -> Result<(), String> {
        shape.json_with("_meta")
    }

    fn conventional_name(&self, name: &str) -> bool {
        name == "Pipfile.lock"
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
                let version = match entry.version.as_deref() {
                    Some(v) => match v.strip_prefix("==") {
                        Some(exact) => ExpectedVersion::Exact(exact.to_owned()),
                        None => ExpectedVersion::Specifier(v.to_owned()),
                    },
                    None => ExpectedVersion::Unspecified,
                };
                let package = LockedPackage {
                    raw_name,
                    version,
                    hashes: entry
                        .hashes
                        .iter()
                        .filter_map(|h| prefixed_hash(h))
                        .collect(),
                    marker: entry.markers.clone(),
                    line: None,
                    pointer: format!("/{section}/{raw_name}"),
                };
                components.push(package.into_component(path));
            }
        }
        Ok(locked::inventory(self.name(), path, components))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    #[test]
    fn reads_a_real_pipfile_lock() {
        let inventory = testdata::read(&PipfileLock, "pipenv/Pipfile.lock").expect("read");
        let requests = testdata::component(&inventory, "requests");
        assert!(requests.version.exact().is_some());
        assert!(!requests.hashes.is_empty());
    }
}
