//! `python/pylock`: PEP 751 `pylock.toml` / `pylock.*.toml` (lock-version 1.x). Every
//! `[[packages]]` entry is expected, with the hashes of its sdist, wheels and archive.

use std::collections::BTreeMap;
use std::path::Path;

use runbom_model::expected::{ComponentHash, ExpectedInventory, ExpectedVersion};
use serde::Deserialize;

use crate::locked::{self, LockedPackage};
use crate::sniff::Shape;
use crate::{InventoryReader, SourceError, toml_lock};

#[derive(Debug)]
pub(crate) struct Pylock;

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lock-version")]
    lock_version: String,
    #[serde(default)]
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    sdist: Option<Artifact>,
    #[serde(default)]
    wheels: Vec<Artifact>,
    archive: Option<Artifact>,
    vcs: Option<Vcs>,
}

#[derive(Deserialize)]
struct Artifact {
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Vcs {
    url: Option<String>,
}

impl InventoryReader for Pylock {
    fn name(&self) -> &'static str {
        "python/pylock"
    }

    /// pylock.toml (PEP 751): a top-level `lock-version`.
    fn fits(&self, shape: &Shape, _contents: &str) -> Result<(), String> {
        shape.toml_with(&["lock-version"], &["metadata"])
    }

    fn conventional_name(&self, name: &str) -> bool {
        name == "pylock.toml" || (name.starts_with("pylock.") && name.ends_with(".toml"))
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let lock: Lock = toml_lock::parse(path, contents)?;
        if !lock.lock_version.starts_with("1.") && lock.lock_version != "1" {
            return Err(SourceError::UnsupportedVersion {
                file: path.display().to_string(),
                format: "pylock.toml",
                version: lock.lock_version,
                supported: "1.x",
            });
        }
        let lines = toml_lock::table_lines(contents, "packages");
        let components = lock
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let version = match (&p.version, p.vcs.as_ref().and_then(|v| v.url.as_ref())) {
                    (Some(v), _) => ExpectedVersion::Exact(v.clone()),
                    (None, Some(url)) => ExpectedVersion::Url(url.clone()),
                    (None, None) => ExpectedVersion::Unspecified,
                };
                LockedPackage {
                    raw_name: &p.name,
                    version,
                    hashes: p
                        .sdist
                        .iter()
                        .chain(&p.wheels)
                        .chain(&p.archive)
                        .flat_map(|a| &a.hashes)
                        .map(|(alg, hex)| ComponentHash::new(alg, hex))
                        .collect(),
                    marker: p.marker.clone(),
                    line: lines.get(i).copied(),
                    pointer: format!("packages[{i}]"),
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
    fn reads_a_real_pylock() {
        let inventory = testdata::read(&Pylock, "pylock/pylock.toml").expect("read");
        let requests = testdata::component(&inventory, "requests");
        assert!(requests.version.exact().is_some());
        assert!(requests.hashes.iter().any(|h| h.algorithm == "sha256"));
    }

    #[test]
    fn future_lock_versions_are_refused() {
        let error = Pylock
            .read(Path::new("pylock.toml"), "lock-version = \"2.0\"\n")
            .expect_err("2.0");
        assert!(
            error
                .to_string()
                .contains("unsupported pylock.toml version `2.0`"),
            "{error}"
        );
    }
}
