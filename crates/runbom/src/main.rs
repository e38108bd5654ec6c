//! The `runbom` binary: parses the command line, runs one command, and turns its outcome into
//! an exit status (0 clean, 1 findings, 2 usage or input error).

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::commands::ExitStatus;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitStatus::Error.into()
        }
    }
}
