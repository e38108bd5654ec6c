//! `runbom versions …`: version plumbing for scripts, thin wrappers over `runbom-versions`.

pub mod contains;
pub mod sort;

use anyhow::Context;
use runbom_model::Ecosystem;

/// Parses `--ecosystem`, naming the flag in the error.
fn ecosystem(name: &str) -> anyhow::Result<Ecosystem> {
    name.parse::<Ecosystem>().context("bad `--ecosystem`")
}
