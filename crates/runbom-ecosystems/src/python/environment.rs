//! Which Python environment a process really ran in: the interpreter description built from what
//! its hook observed (`sys.prefix`, `sys.path`), and whether an inventory already read fits it.
//! Traps: a venv's `bin/python3` is a symbolic link to the base interpreter, so executables
//! compared as files cannot tell two environments apart; prefixes and site directories can.

use std::fs;
use std::path::{Path, PathBuf};

use runbom_model::inventory::{Interpreter, Inventory, normalize_path};

use super::runtime::Observation;

/// What identifies the environment of a process: its `sys.prefix` and its `sys.path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvironmentKey {
    prefix: PathBuf,
    sys_path: Vec<PathBuf>,
}

impl EnvironmentKey {
    pub fn of(observation: &Observation) -> Self {
        Self {
            prefix: observation.prefix.clone(),
            sys_path: observation.sys_path.clone(),
        }
    }
}

/// The interpreter a process ran, described from its own observation; `None` when its hook did
/// not record `sys.path` (a hook installed by an older runbom), so the interpreter must be asked.
pub fn observed_interpreter(observation: &Observation) -> Option<Interpreter> {
    if observation.sys_path.is_empty() {
        return None;
    }
    let base_prefix = observation
        .base_prefix
        .clone()
        .unwrap_or_else(|| observation.prefix.clone());
    Some(Interpreter {
        executable: observation.executable.clone(),
        implementation: observation.implementation.clone(),
        version: observation.version.clone(),
        is_venv: base_prefix != observation.prefix,
        prefix: observation.prefix.clone(),
        base_prefix,
        sys_path: observation.sys_path.clone(),
        user_site: None,
    })
}

/// Whether `inventory` holds every distribution the observed process could import: the same
/// `sys.prefix`, and every directory of its `sys.path` that holds distribution metadata read.
/// An observation without `sys.path` fits the inventory of its own executable.
pub fn fits(inventory: &Inventory, observation: &Observation) -> bool {
    let interpreter = &inventory.interpreter;
    if observation.sys_path.is_empty() {
        return same_file(&interpreter.executable, &observation.executable);
    }
    if !same_dir(&interpreter.prefix, &observation.prefix) {
        return false;
    }
    let read: Vec<PathBuf> = interpreter.sys_path.iter().map(|p| canonical(p)).collect();
    observation
        .sys_path
        .iter()
        .filter(|dir| holds_metadata(dir))
        .all(|dir| read.contains(&canonical(dir)))
}

fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| normalize_path(path))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || canonical(a) == canonical(b)
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || fs::canonicalize(a)
            .ok()
            .zip(fs::canonicalize(b).ok())
            .is_some_and(|(a, b)| a == b)
}

/// A directory holding a `*.dist-info` or `*.egg-info` (or an `*.egg-link`), or a zip archive
/// (a zipapp may carry distributions).
fn holds_metadata(dir: &Path) -> bool {
    dir.is_file()
        || fs::read_dir(dir).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.ends_with(".dist-info")
                    || name.ends_with(".egg-info")
                    || name.ends_with(".egg-link")
            })
        })
}
