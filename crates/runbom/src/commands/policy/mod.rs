//! `runbom policy …`: checks of the `runbom.toml` policy.

pub mod check;

use anyhow::Context as _;

use super::ExitStatus;
use crate::cli::PolicyLintArgs;

/// `runbom policy lint`: reads the config; prints every problem to stderr, exit 2 if any.
pub fn lint(args: &PolicyLintArgs) -> anyhow::Result<ExitStatus> {
    match runbom_config::load(&args.config) {
        Ok(_) => {
            println!("{}: ok", args.config.display());
            Ok(ExitStatus::Success)
        }
        Err(runbom_config::LoadError::Invalid(e)) => {
            eprint!("{}", e.render());
            eprintln!(
                "error: `{}` has {} problem{}",
                args.config.display(),
                e.len(),
                if e.len() == 1 { "" } else { "s" }
            );
            Ok(ExitStatus::Error)
        }
        Err(e) => Err(e).context("cannot check the policy"),
    }
}
