//! The command line, as clap structs: every command, flag and its help text lives here.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "runbom", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The local advisory store.
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Check that OSV JSON advisory files parse; name each malformed one with its line and column.
    Check {
        /// OSV JSON files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}
