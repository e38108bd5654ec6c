//! The project's `runbom.toml` for commands that only read parts of it (`db update`, `audit`):
//! `--config FILE`, else `./runbom.toml` when present, else none.

use std::path::{Path, PathBuf};

use runbom_config::{Config, LoadError};

/// The validated config, or `None` when no `--config` was given and `./runbom.toml` is absent.
/// An invalid file prints every problem with its line and column and is an error.
pub fn load_project_config(explicit: Option<&Path>) -> anyhow::Result<Option<Config>> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let default = PathBuf::from("runbom.toml");
            if !default.is_file() {
                return Ok(None);
            }
            default
        }
    };
    match runbom_config::load(&path) {
        Ok(config) => Ok(Some(config)),
        Err(LoadError::Invalid(e)) => {
            eprint!("{}", e.render());
            anyhow::bail!("`{}` is not a valid runbom.toml", path.display())
        }
        Err(e) => Err(e.into()),
    }
}
