//! The command line, as clap structs: every command, flag and its help text lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "runbom", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Policy over licences, bans, versions, advisories and freshness (`runbom.toml`).
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check that a `runbom.toml` is valid; every problem is shown with its line and column.
    Lint(PolicyLintArgs),
}

#[derive(Debug, Args)]
pub struct PolicyLintArgs {
    /// The policy file.
    #[arg(long, default_value = "runbom.toml")]
    pub config: PathBuf,
}
