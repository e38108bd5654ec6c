//! One module per command; each returns the [`ExitStatus`] the process ends with.

mod attest;
mod db;
mod inventory;
mod keygen;
mod policy;
mod runtime_reports;
mod verify;
mod versions;

use std::process::ExitCode;

use crate::cli::{Cli, Command, DbCommand, PolicyCommand, VersionsCommand};

/// How a command ended, as CI pipelines read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing to report.
    Success,
    /// Findings over the threshold the user set.
    Findings,
    /// A usage or input error.
    Error,
    /// The exit code of a child process, passed through untouched.
    #[allow(dead_code)]
    Child(u8),
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Findings => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
            ExitStatus::Child(code) => ExitCode::from(code),
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Db(DbCommand::Check { paths }) => db::check::run(&paths),
        Command::Policy(PolicyCommand::Lint(args)) => policy::lint(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Attest(args) => attest::run(&args),
        Command::Versions(VersionsCommand::Sort(args)) => versions::sort::run(&args),
        Command::Versions(VersionsCommand::Contains(args)) => versions::contains::run(&args),
        Command::Inventory(args) => inventory::run(&args),
        Command::Verify(args) => verify::run(&args),
    }
}
