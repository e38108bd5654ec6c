//! `python/poetry-lock`: Poetry's `poetry.lock` (lock versions 1.x and 2.x). Every `[[package]]`
//! is expected, with the hashes of its `files`.

use std::path::Path;

use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::{Ecosystem, PackageName};
use serde::Deserialize;

use crate::{InventoryReader, SourceError, purl, toml_lock};

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

    fn detect(&self, path: &Path, _contents: &str) -> bool {
        path.file_name().is_some_and(|n| n == "poetry.lock")
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
                let name = PackageName::pypi(&p.name);
                ExpectedComponent {
                    ecosystem: Some(Ecosystem::PyPi),
                    raw_name: p.name.clone(),
                    purl: purl::pypi(&name, Some(&p.version)),
                    name,
                    version: ExpectedVersion::Exact(p.version.clone()),
                    hashes: p
                        .files
                        .iter()
                        .filter_map(|f| f.hash.split_once(':'))
                        .map(|(alg, hex)| ComponentHash::new(alg, hex))
                        .collect(),
                    licenses: Vec::new(),
                    marker: p
                        .markers
                        .as_ref()
                        .and_then(|m| m.as_str())
                        .map(str::to_owned),
                    location: SourceLocation {
                        file: path.display().to_string(),
                        line: lines.get(i).copied(),
                        path: Some(format!("package[{i}]")),
                    },
                }
            })
            .collect();
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
    fn reads_a_real_poetry_lock() {
        let path = testdata::path("poetry/poetry.lock");
        let contents = std::fs::read_to_string(&path).expect("fixture");
        assert!(PoetryLock.detect(&path, &contents));
        let inventory = PoetryLock.read(&path, &contents).expect("read");
        let requests = inventory
            .components
            .iter()
            .find(|c| c.name.as_str() == "requests")
            .expect("requests");
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
