//! The project's `runbom.toml` for commands that only read parts of it (`db update`, `audit`,
//! `[redact]` for every command that makes runtime reports): `--config FILE`, else
//! `./runbom.toml` when present, else none.

use std::path::{Path, PathBuf};

use runbom_config::policy::Redactor;
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

/// What of a command line is a secret for the reports of this run: the built-in rules plus the
/// project's `[redact]`. A config that cannot be read costs the project's additions, never the
/// run (a warning says so): the program under the hook must start whatever the file holds.
pub fn report_redactor(explicit: Option<&Path>) -> Redactor {
    match load_project_config(explicit) {
        Ok(config) => config.map(|c| c.redact).unwrap_or_default(),
        Err(err) => {
            eprintln!(
                "runbom: warning: {err:#}; command lines are redacted by the built-in rules only"
            );
            Redactor::default()
        }
    }
}
