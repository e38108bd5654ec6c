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
    /// Version plumbing for scripts: sort versions, test range membership.
    #[command(subcommand)]
    Versions(VersionsCommand),
    /// List every distribution installed for a Python interpreter (read from `*.dist-info` /
    /// `*.egg-info`; no package is imported).
    Inventory(InventoryArgs),
}

#[derive(Debug, Subcommand)]
pub enum VersionsCommand {
    /// Read versions (one per line) on stdin and print them sorted, oldest first.
    Sort(VersionsSortArgs),
    /// Exit 0 if VERSION is in the range, 1 if not, 2 on bad input; print why.
    Contains(VersionsContainsArgs),
}

#[derive(Debug, Args)]
pub struct VersionsSortArgs {
    /// Ecosystem whose ordering rules apply (PyPI, Go, npm, crates.io, RubyGems, CPAN, Tcl).
    #[arg(long, short)]
    pub ecosystem: String,
    /// `text`: one version per line; `json`: a JSON array of strings.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlumbingFormat,
}

/// Output of the plumbing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlumbingFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct VersionsContainsArgs {
    /// Ecosystem whose version rules apply (PyPI, Go, npm, crates.io, RubyGems, CPAN, Tcl).
    #[arg(long, short)]
    pub ecosystem: String,
    /// An OSV range as JSON (`{"type":"ECOSYSTEM","events":[...]}`), a JSON array of them, or
    /// an OSV `affected` object with `ranges`/`versions`; or, for PyPI, a PEP 440 specifier set
    /// such as `>=1.0,<2`; or, for RubyGems, a requirement such as `~> 1.2, >= 1.2.3`; or, for
    /// Tcl, `package vsatisfies` requirements such as `8.5 9-` (any one is enough).
    #[arg(long, short)]
    pub range: String,
    /// The version to test.
    #[arg(value_name = "VERSION")]
    pub candidate: String,
    /// `text`: the reasons, one per line; `json`: an object with `contained`, `reasons` and,
    /// for OSV ranges, the `verdict` (matches and skipped ranges).
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlumbingFormat,
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
