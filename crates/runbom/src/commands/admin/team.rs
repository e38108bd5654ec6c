//! `runbom admin team create|assign|list`: teams and the applications they own, written straight
//! to the store (whoever can open the store is trusted).

use std::io::Write;

use anyhow::Context;

use crate::cli::{TeamAssignArgs, TeamCreateArgs, TokenListArgs};
use crate::commands::{ExitStatus, open_store};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub fn create(args: &TeamCreateArgs) -> anyhow::Result<ExitStatus> {
    let (runtime, store) = open_store(&args.store)?;
    let created = runtime.block_on(store.create_team(&args.name, now_ms()));
    runtime.block_on(store.close());
    if created? {
        eprintln!("created team {}", args.name);
        Ok(ExitStatus::Success)
    } else {
        eprintln!("error: team `{}` exists", args.name);
        Ok(ExitStatus::Error)
    }
}

pub fn assign(args: &TeamAssignArgs) -> anyhow::Result<ExitStatus> {
    let (runtime, store) = open_store(&args.store)?;
    let result = runtime.block_on(async {
        if !store.team_exists(&args.team).await? {
            return Ok(false);
        }
        store.assign_application(&args.app, &args.team).await?;
        anyhow::Ok(true)
    });
    runtime.block_on(store.close());
    if result? {
        eprintln!("team {} owns application {}", args.team, args.app);
        Ok(ExitStatus::Success)
    } else {
        eprintln!("error: no team `{}`", args.team);
        Ok(ExitStatus::Error)
    }
}

pub fn list(args: &TokenListArgs) -> anyhow::Result<ExitStatus> {
    let (runtime, store) = open_store(&args.store)?;
    let teams = runtime.block_on(store.teams());
    runtime.block_on(store.close());
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<20} {:<40} members", "team", "applications")
        .context("cannot write to stdout")?;
    for team in teams? {
        writeln!(
            out,
            "{:<20} {:<40} {}",
            team.name,
            team.applications.join(","),
            team.members.join(",")
        )
        .context("cannot write to stdout")?;
    }
    Ok(ExitStatus::Success)
}
