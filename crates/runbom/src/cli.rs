//! The command line, as clap structs: every command, flag and its help text lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "runbom", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every distribution installed for a Python interpreter (read from `*.dist-info` /
    /// `*.egg-info`; no package is imported).
    Inventory(InventoryArgs),
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// The Python interpreter to inventory.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,
    /// An extra site directory to read (repeatable), after the interpreter's `sys.path`.
    #[arg(long = "path", value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}
