//! The Go binaries under the paths a user names (`runbom inventory PATH…`): for each, what
//! `go version -m` prints, as versioned JSON (`runbom.go-inventory/v1`). A directory is walked
//! without following symbolic links to directories (a link loop cannot trap it; links that lead
//! round in a loop are a warning naming the link); files that are
//! not executables, and executables without Go build information (C programs), are skipped as
//! `go version -m DIR` skips them. A named file that is not a Go binary is an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::binary::looks_native;
use super::buildinfo::{self, BuildInfo, Error, FileError};

/// Linux's "too many levels of symbolic links" (`io::ErrorKind::FilesystemLoop` is unstable).
const ELOOP: i32 = 40;

/// The `schema` value of the JSON form.
pub const GO_INVENTORY_SCHEMA: &str = "runbom.go-inventory/v1";

/// Every Go binary found, and the problems met on the way.
#[derive(Debug, Clone, Serialize)]
pub struct GoInventory {
    pub schema: String,
    /// Sorted by path.
    pub binaries: Vec<BinaryInventory>,
    pub problems: Vec<Problem>,
}

/// One Go binary and its build information.
#[derive(Debug, Clone, Serialize)]
pub struct BinaryInventory {
    pub file: PathBuf,
    #[serde(flatten)]
    pub info: BuildInfo,
}

/// A file that looked like a Go binary but could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.path.display(), self.message)
    }
}

/// A path the user named that is not a Go binary (or cannot be read at all).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct NamedFileError(#[from] pub FileError);

/// The Go binaries of `paths`: each file named must be one; directories are walked.
pub fn read_inventory(paths: &[PathBuf]) -> Result<GoInventory, NamedFileError> {
    let mut inventory = GoInventory {
        schema: GO_INVENTORY_SCHEMA.to_owned(),
        binaries: Vec::new(),
        problems: Vec::new(),
    };
    let mut seen = BTreeSet::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| FileError::Io {
            path: path.clone(),
            source,
        })?;
        if metadata.is_dir() {
            walk(path, &mut seen, &mut inventory);
        } else {
            let info = buildinfo::read_file(path)?;
            inventory.binaries.push(entry(path, info));
        }
    }
    inventory.binaries.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(inventory)
}

fn walk(dir: &Path, seen: &mut BTreeSet<PathBuf>, inventory: &mut GoInventory) {
    let Ok(canonical) = dir.canonicalize() else {
        return;
    };
    if !seen.insert(canonical) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => return problem(inventory, dir, err.to_string()),
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let Ok(link) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if link.is_dir() {
            walk(&path, seen, inventory);
        } else if link.is_symlink()
            && let Err(err) = std::fs::metadata(&path)
            && err.raw_os_error() == Some(ELOOP)
        {
            problem(
                inventory,
                &path,
                "a loop of symbolic links, skipped".to_owned(),
            );
        } else if path.is_file() && looks_native(&path) {
            match buildinfo::read_file(&path) {
                Ok(info) => inventory.binaries.push(entry(&path, info)),
                Err(FileError::Parse {
                    source: Error::NoBuildInfo,
                    ..
                }) => {}
                Err(err) => problem(inventory, &path, error_text(&err)),
            }
        }
    }
}

fn problem(inventory: &mut GoInventory, path: &Path, message: String) {
    inventory.problems.push(Problem {
        path: path.to_owned(),
        message,
    });
}

/// The error without the path (the problem names it).
fn error_text(err: &FileError) -> String {
    match err {
        FileError::Parse { source, .. } => source.to_string(),
        FileError::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

fn entry(file: &Path, info: BuildInfo) -> BinaryInventory {
    BinaryInventory {
        file: file.to_owned(),
        info,
    }
}
