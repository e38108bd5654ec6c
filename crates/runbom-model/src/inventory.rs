//! What is installed for one Python interpreter: the interpreter itself, every distribution found
//! on its `sys.path`, and the problems met while reading them. Versioned JSON
//! (`runbom.inventory/v1`, see `docs/reference/inventory-json.md`).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::PackageName;

/// The `schema` value of every inventory this version writes.
pub const INVENTORY_SCHEMA: &str = "runbom.inventory/v1";

/// The interpreter an inventory was taken for, as it described itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interpreter {
    pub executable: PathBuf,
    /// `sys.implementation.name`, e.g. `cpython`.
    pub implementation: String,
    /// `platform.python_version()`, e.g. `3.11.7`.
    pub version: String,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    /// `sys.path` in order, with the site enabled (what a program run by this interpreter sees).
    pub sys_path: Vec<PathBuf>,
    pub user_site: Option<PathBuf>,
    pub is_venv: bool,
}

/// One file listed in a distribution's RECORD (or egg-info `installed-files.txt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFile {
    /// Absolute and lexically normalised (no `.` or `..`).
    pub path: PathBuf,
    /// As written in RECORD, e.g. `sha256=<urlsafe base64, no padding>`; `None` when absent.
    pub hash: Option<String>,
    pub size: Option<u64>,
}

/// An editable (development) install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditableInstall {
    /// `url` from `direct_url.json`, when present.
    pub url: Option<String>,
    /// Source directories added by the distribution's `.pth` files.
    pub pth_paths: Vec<PathBuf>,
}

/// Where the licence of a distribution is declared, raw as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseSources {
    /// PEP 639 `License-Expression`.
    pub expression: Option<String>,
    /// The free-text `License` header.
    pub license: Option<String>,
    /// Trove classifiers starting with `License ::`.
    pub classifiers: Vec<String>,
}

impl LicenseSources {
    /// The most reliable source: the SPDX expression, then a short `License` text, then the last
    /// classifier segment.
    pub fn best(&self) -> Option<&str> {
        if let Some(expression) = &self.expression {
            return Some(expression);
        }
        if let Some(license) = &self.license
            && !license.is_empty()
            && !license.contains('\n')
            && license.len() <= 80
        {
            return Some(license);
        }
        self.classifiers
            .first()
            .and_then(|c| c.rsplit(" :: ").next())
            .or(self.license.as_deref().filter(|l| !l.is_empty()))
    }
}

/// How a distribution's metadata is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataFormat {
    DistInfo,
    EggInfoDir,
    EggInfoFile,
}

/// One installed distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledDistribution {
    /// `Name` as written in METADATA.
    pub name: String,
    /// PEP 503-normalised.
    pub normalized_name: PackageName,
    pub version: String,
    pub license: LicenseSources,
    /// The site directory the metadata was found in.
    pub location: PathBuf,
    pub metadata_path: PathBuf,
    pub format: MetadataFormat,
    pub installer: Option<String>,
    pub summary: Option<String>,
    /// `Requires-Dist` values as written (PEP 508).
    pub requires_dist: Vec<String>,
    pub top_level: Vec<String>,
    pub editable: Option<EditableInstall>,
    /// Sum of the RECORD sizes (or file sizes on disk when RECORD has none).
    pub size: u64,
    /// True when an earlier `sys.path` entry holds the same distribution; that one is loaded.
    pub shadowed: bool,
    pub files: Vec<RecordFile>,
}

/// Something that could not be read; the rest of the inventory is still good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub path: PathBuf,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    /// `path:line: message`, or `path: message` without a line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// Everything installed for one interpreter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub schema: String,
    pub interpreter: Interpreter,
    /// Sorted by normalised name, then version, then location; shadowed copies included.
    pub distributions: Vec<InstalledDistribution>,
    pub problems: Vec<Problem>,
}

impl Inventory {
    /// The distributions a program would import (the shadowed copies left out).
    pub fn active(&self) -> impl Iterator<Item = &InstalledDistribution> {
        self.distributions.iter().filter(|d| !d.shadowed)
    }

    /// The distribution whose RECORD lists `path` (not shadowed ones). For repeated lookups build
    /// a [`FileIndex`] once.
    pub fn owner_of(&self, path: &Path) -> Option<&InstalledDistribution> {
        FileIndex::new(self).owner_of(path)
    }
}

/// A path -> distribution map built once from RECORD files, for fast repeated lookups.
#[derive(Debug)]
pub struct FileIndex<'a> {
    /// Keyed by the bytes of the normalised path (RECORD paths are normalised when read, so
    /// equal paths have equal bytes): borrowing the inventory's paths and hashing bytes, not
    /// path components, keeps building it for ~30,000 files off `runbom run`'s critical path.
    by_path: HashMap<&'a [u8], &'a InstalledDistribution, foldhash::fast::RandomState>,
    /// Editable source dirs and top-level package dirs, longest first.
    by_dir: Vec<(PathBuf, &'a InstalledDistribution)>,
}

impl<'a> FileIndex<'a> {
    pub fn new(inventory: &'a Inventory) -> Self {
        let files = inventory.active().map(|d| d.files.len()).sum();
        let mut by_path = HashMap::with_capacity_and_hasher(files, Default::default());
        let mut by_dir = Vec::new();
        for dist in inventory.active() {
            for file in &dist.files {
                by_path
                    .entry(file.path.as_os_str().as_encoded_bytes())
                    .or_insert(dist);
            }
            if let Some(editable) = &dist.editable {
                for dir in &editable.pth_paths {
                    by_dir.push((dir.clone(), dist));
                }
            }
            if dist.files.is_empty() {
                for top in &dist.top_level {
                    by_dir.push((dist.location.join(top), dist));
                }
            }
        }
        by_dir.sort_by_key(|(dir, _)| std::cmp::Reverse(dir.as_os_str().len()));
        Self { by_path, by_dir }
    }

    /// Owner of a module file: exact RECORD match, then the source of a `__pycache__/*.pyc`
    /// (`pkg/__pycache__/mod.cpython-311.pyc` -> `pkg/mod.py`), then editable/top-level dirs.
    pub fn owner_of(&self, path: &Path) -> Option<&'a InstalledDistribution> {
        let path = normalize_path(path);
        if let Some(dist) = self.by_path.get(path.as_os_str().as_encoded_bytes()) {
            return Some(dist);
        }
        if let Some(source) = pyc_source(&path)
            && let Some(dist) = self.by_path.get(source.as_os_str().as_encoded_bytes())
        {
            return Some(dist);
        }
        self.by_dir
            .iter()
            .find(|(dir, _)| path.starts_with(dir))
            .map(|(_, dist)| *dist)
    }
}

fn pyc_source(path: &Path) -> Option<PathBuf> {
    let parent = path.parent()?;
    if parent.file_name()? != "__pycache__" {
        return None;
    }
    let file = path.file_name()?.to_str()?;
    let stem = file.strip_suffix(".pyc")?;
    let module = stem.split('.').next()?;
    Some(parent.parent()?.join(format!("{module}.py")))
}

/// Removes `.` and resolves `..` lexically (no file system access).
pub fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_parent_components() {
        assert_eq!(
            normalize_path(Path::new("/v/lib/site/../../bin/x")),
            PathBuf::from("/v/bin/x")
        );
    }

    #[test]
    fn pyc_maps_to_source() {
        assert_eq!(
            pyc_source(Path::new("/s/yaml/__pycache__/cyaml.cpython-311.pyc")),
            Some(PathBuf::from("/s/yaml/cyaml.py"))
        );
        assert_eq!(pyc_source(Path::new("/s/yaml/cyaml.py")), None);
    }

    #[test]
    fn best_license_prefers_expression() {
        let l = LicenseSources {
            expression: Some("MIT".into()),
            license: Some("whatever".into()),
            classifiers: vec![],
        };
        assert_eq!(l.best(), Some("MIT"));
        let l = LicenseSources {
            expression: None,
            license: None,
            classifiers: vec!["License :: OSI Approved :: MIT License".into()],
        };
        assert_eq!(l.best(), Some("MIT License"));
    }
}
