//! `python/poetry-lock`: Poetry's `poetry.lock` (lock versions 1.x and 2.x). Every `[[package]]`
//! is expected, with the hashes of its `files`.

use std::path::Path;

use runbom_model::expected::{ExpectedInventory, ExpectedVersion};
use serde::Deserialize;

use crate::locked::{self, LockedPackage, prefixed_hash};
use crate::sniff::Shape;
use crate::{InventoryReader, SourceError, toml_lock};

#[derive(Debug)]
pub(crate) struct PoetryLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Package>,
    metadata: Metadata,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(rename = "lock-version")]
    lock_version: String,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    files: Vec<File>,
    markers: Option<toml::Value>,
}

#[derive(Deserialize)]
struct File {
    hash: String,
}

impl InventoryReader for PoetryLock {
    fn name(&self) -> &'static str {
        "python/poetry-lock"
    }

    /// poetry.lock: `[[package]]` entries and a `[metadata]` table.
    fn fits(&self, shape: &Shape, _contents: &str) -> Result<(), String> {
        shape.toml_with(&["metadata"], &[])
    }

    fn conventional_name(&self, name: &str) -> bool {
        name == "poetry.lock"
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let lock: Lock = toml_lock::parse(path, contents)?;
        if !(lock.metadata.lock_version.starts_with("1.")
            || lock.metadata.lock_version.starts_with("2."))
        {
            return Err(SourceError::UnsupportedVersion {
                file: path.display().to_string(),
                format: "poetry.lock",
                version: lock.metadata.lock_version,
                supported: "1.x, 2.x",
            });
        }
        let lines = toml_lock::table_lines(contents, "package");
        let components = lock
            .package
            .iter()
            .enumerate()
            .map(|(i, p)| {
                LockedPackage {
                    raw_name: &p.name,
                    version: ExpectedVersion::Exact(p.version.clone()),
                    hashes: p
                        .files
                        .iter()
                        .filter_map(|f| prefixed_hash(&f.hash))
                        .collect(),
                    marker: p
                        .markers
                        .as_ref()
                        .and_then(|m| m.as_str())
                        .map(str::to_owned),
                    line: lines.get(i).copied(),
                    pointer: format!("package[{i}]"),
                }
                .into_component(path)
            })
            .collect();
        Ok(locked::inventory(self.name(), path, components))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    #[test]
    fn reads_a_real_poetry_lock() {
        let inventory = testdata::read(&PoetryLock, "poetry/poetry.lock").expect("read");
        let requests = testdata::component(&inventory, "requests");
        assert!(requests.version.exact().is_some());
        assert!(!requests.hashes.is_empty());
        assert_eq!(
            requests
                .purl
                .as_deref()
                .map(|p| p.starts_with("pkg:pypi/requests@")),
            Some(true)
        );
    }
}
