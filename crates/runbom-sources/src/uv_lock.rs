//! `python/uv-lock`: uv's `uv.lock` (lock version 1). Every `[[package]]` is expected, with the
//! hashes of its sdist and wheels.

use std::path::Path;

use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::{Ecosystem, PackageName};
use serde::Deserialize;

use crate::{InventoryReader, SourceError, purl, toml_lock};

#[derive(Debug)]
pub(crate) struct UvLock;

#[derive(Deserialize)]
struct Lock {
    version: u32,
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: Option<String>,
    sdist: Option<Artifact>,
    #[serde(default)]
    wheels: Vec<Artifact>,
}

#[derive(Deserialize)]
struct Artifact {
    hash: Option<String>,
}

impl InventoryReader for UvLock {
    fn name(&self) -> &'static str {
        "python/uv-lock"
    }

    fn detect(&self, path: &Path, _contents: &str) -> bool {
        path.file_name().is_some_and(|n| n == "uv.lock")
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let lock: Lock = toml_lock::parse(path, contents)?;
        if lock.version != 1 {
            return Err(SourceError::UnsupportedVersion {
                file: path.display().to_string(),
                format: "uv.lock",
                version: lock.version.to_string(),
                supported: "1",
            });
        }
        let lines = toml_lock::table_lines(contents, "package");
        let components = lock
            .package
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let name = PackageName::pypi(&p.name);
                let hashes = p
                    .sdist
                    .iter()
                    .chain(&p.wheels)
                    .filter_map(|a| a.hash.as_deref()?.split_once(':'))
                    .map(|(alg, hex)| ComponentHash::new(alg, hex))
                    .collect();
                ExpectedComponent {
                    ecosystem: Some(Ecosystem::PyPi),
                    raw_name: p.name.clone(),
                    purl: purl::pypi(&name, p.version.as_deref()),
                    name,
                    version: p
                        .version
                        .clone()
                        .map_or(ExpectedVersion::Unspecified, ExpectedVersion::Exact),
                    hashes,
                    licenses: Vec::new(),
                    marker: None,
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

    fn read(name: &str) -> Result<ExpectedInventory, SourceError> {
        let path = testdata::path(name);
        let contents = std::fs::read_to_string(&path).expect("fixture");
        assert!(UvLock.detect(&path, &contents));
        UvLock.read(&path, &contents)
    }

    #[test]
    fn reads_a_real_uv_lock() {
        let inventory = read("uv/uv.lock").expect("read");
        let requests = inventory
            .components
            .iter()
            .find(|c| c.name.as_str() == "requests")
            .expect("requests");
        assert!(requests.version.exact().is_some());
        assert!(
            requests
                .hashes
                .iter()
                .all(|h| h.algorithm == "sha256" && h.hex.len() == 64)
        );
        assert!(!requests.hashes.is_empty());
        assert!(requests.location.line.is_some());
    }

    #[test]
    fn toml_syntax_error_names_file_line_and_column() {
        let error = read("uv/broken/uv.lock").expect_err("broken");
        let text = error.to_string();
        assert!(
            matches!(error, SourceError::Syntax { line: 4, .. }),
            "{text}"
        );
        assert!(text.contains("uv.lock`:4:"), "{text}");
    }
}
