//! The command line, as clap structs: every command, flag and its help text lives here.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "runbom", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {}
