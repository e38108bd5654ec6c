//! `python/uv-lock`: uv's `uv.lock` (lock version 1). Every `[[package]]` is expected, with the
//! hashes of its sdist and wheels.

use std::path::Path;

use runbom_model::expected::{ExpectedInventory, ExpectedVersion};
use serde::Deserialize;

use crate::locked::{self, LockedPackage, prefixed_hash};
use crate::sniff::Shape;
use crate::{InventoryReader, SourceError, toml_lock};

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

    /// uv.lock: a top-level `version` (poetry.lock and pylock.toml say `lock-version`).
    fn fits(&self, shape: &Shape, _contents: &str) -> Result<(), String> {
        shape.toml_with(&["version"], &["metadata", "lock-version"])
    }

    fn conventional_name(&self, name: &str) -> bool {
        name == "uv.lock"
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
                LockedPackage {
                    raw_name: &p.name,
                    version: p
                        .version
                        .clone()
                        .map_or(ExpectedVersion::Unspecified, ExpectedVersion::Exact),
                    hashes: p
                        .sdist
                        .iter()
                        .chain(&p.wheels)
                        .filter_map(|a| prefixed_hash(a.hash.as_deref()?))
                        .collect(),
                    marker: None,
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

    fn read(name: &str) -> Result<ExpectedInventory, SourceError> {
        testdata::read(&UvLock, name)
    }

    #[test]
    fn reads_a_real_uv_lock() {
        let inventory = read("uv/uv.lock").expect("read");
        let requests = testdata::component(&inventory, "requests");
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
