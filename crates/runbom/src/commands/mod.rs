//! One module per command; each returns the [`ExitStatus`] the process ends with.

mod admin;
mod agent;
mod artefacts;
mod attach;
mod attest;
mod audit;
mod columns;
mod components;
mod config;
mod db;
mod demo;
mod enforce;
mod expected;
mod hook;
mod hook_languages;
mod inventory;
mod keygen;
mod outdated;
mod policy;
mod progress;
mod push;
mod report_sink;
mod run;
mod runtime_reports;
mod sarif;
mod sbom;
mod serve;
mod unused;
mod verify;
mod versions;
mod vex;

use std::process::ExitCode;

use crate::cli::{
    AdminCommand, Cli, Command, DbCommand, HookCommand, PolicyCommand, StoreArgs, TeamCommand,
    TokenCommand, UserCommand, VersionsCommand,
};

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
        Command::Db(DbCommand::Import(args)) => db::import::run(&args),
        Command::Db(DbCommand::Update(args)) => db::update::run(&args),
        Command::Db(DbCommand::Status(args)) => db::status::run(&args),
        Command::Policy(PolicyCommand::Lint(args)) => policy::lint(&args),
        Command::Policy(PolicyCommand::Check(args)) => policy::check::run(&args),
        Command::Outdated(args) => outdated::run(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Attest(args) => attest::run(&args),
        Command::Versions(VersionsCommand::Sort(args)) => versions::sort::run(&args),
        Command::Versions(VersionsCommand::Contains(args)) => versions::contains::run(&args),
        Command::Inventory(args) => inventory::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Attach(args) => attach::run(&args),
        Command::Agent(args) => agent::run(&args),
        Command::Hook(HookCommand::Install(args)) => hook::install::run(&args),
        Command::Hook(HookCommand::Uninstall(args)) => hook::uninstall::run(&args),
        Command::Hook(HookCommand::Flush(args)) => hook::flush::run(&args),
        Command::Unused(args) => unused::run(&args),
        Command::Sbom(args) => sbom::run(&args),
        Command::Vex(args) => vex::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Admin(AdminCommand::Token(TokenCommand::Create(args))) => {
            admin::token::create(&args)
        }
        Command::Admin(AdminCommand::Token(TokenCommand::Revoke(args))) => {
            admin::token::revoke(&args)
        }
        Command::Admin(AdminCommand::Token(TokenCommand::List(args))) => admin::token::list(&args),
        Command::Admin(AdminCommand::Team(TeamCommand::Create(args))) => admin::team::create(&args),
        Command::Admin(AdminCommand::Team(TeamCommand::Assign(args))) => admin::team::assign(&args),
        Command::Admin(AdminCommand::Team(TeamCommand::List(args))) => admin::team::list(&args),
        Command::Admin(AdminCommand::User(UserCommand::Create(args))) => admin::user::create(&args),
        Command::Push(args) => push::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Audit(args) => audit::run(&args),
    }
}

/// Today's date (UTC), for advisory-ignore expiry and project staleness.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Opens the store `--db` names (or the default one) on a fresh async runtime.
pub(crate) fn open_store(
    args: &StoreArgs,
) -> anyhow::Result<(tokio::runtime::Runtime, runbom_store::Store)> {
    open_store_with(args, runbom_store::Connections::Pool)
}

/// [`open_store`] with `connections`. One connection needs no worker threads either: its runtime
/// runs on this thread (SQLite's connection has a thread of its own).
pub(crate) fn open_store_with(
    args: &StoreArgs,
    connections: runbom_store::Connections,
) -> anyhow::Result<(tokio::runtime::Runtime, runbom_store::Store)> {
    use anyhow::Context;
    let runtime = match connections {
        runbom_store::Connections::Pool => tokio::runtime::Runtime::new(),
        runbom_store::Connections::One => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
    .context("cannot start the async runtime")?;
    let location = match &args.db {
        Some(db) => runbom_store::Location::parse(db),
        None => runbom_store::Location::default_location()
            .context("no --db given and no home directory for the default store")?,
    };
    let store = runtime.block_on(runbom_store::Store::open_location_with(
        &location,
        connections,
    ))?;
    Ok((runtime, store))
}
