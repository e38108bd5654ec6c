//! `runbom admin token create|revoke|list`: server tokens, written straight to the store (whoever
//! can open the store is trusted). Secrets are printed once and stored only as sha256 hashes.
//! A token has scopes (read, report, upload, triage, admin) and reaches one application, one
//! team's applications, or (admin) all.

use std::io::Write;

use anyhow::Context;

use runbom_server::{Scope, Scopes, TokenGrant};

use crate::cli::{TokenCreateArgs, TokenListArgs, TokenRevokeArgs};
use crate::commands::{ExitStatus, open_store};

pub fn create(args: &TokenCreateArgs) -> anyhow::Result<ExitStatus> {
    let mut grant = match (&args.app, &args.team) {
        _ if args.admin => TokenGrant::admin(),
        (Some(app), _) => TokenGrant::app(app),
        (None, Some(team)) => TokenGrant {
            team: Some(team.clone()),
            scopes: Scopes::of(&[Scope::Read]),
            ..TokenGrant::default()
        },
        (None, None) => anyhow::bail!("`--app`, `--team` or `--admin` is required"),
    };
    if let Some(scopes) = &args.scopes {
        grant.scopes = Scopes::parse(scopes).map_err(|err| anyhow::anyhow!("`--scopes`: {err}"))?;
    }
    let (runtime, store) = open_store(&args.store)?;
    let result = runtime.block_on(async {
        if let Some(team) = &args.team {
            if !store.team_exists(team).await? {
                anyhow::bail!(
                    "no team `{team}` (create it with `runbom admin team create {team}`)"
                );
            }
            if let Some(app) = &grant.app {
                store.assign_application(app, team).await?;
            }
        }
        Ok(runbom_server::create_token(&store, &grant).await?)
    });
    runtime.block_on(store.close());
    let token = result?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", token.secret).context("cannot write to stdout")?;
    let reach = match (&grant.app, &grant.team) {
        (Some(app), _) => format!("application `{app}`"),
        (None, Some(team)) => format!("team `{team}`"),
        (None, None) => "every application".to_owned(),
    };
    eprintln!(
        "created token {} for {reach} with scopes {}; the secret above is shown only now",
        token.id, grant.scopes
    );
    Ok(ExitStatus::Success)
}

pub fn revoke(args: &TokenRevokeArgs) -> anyhow::Result<ExitStatus> {
    let (runtime, store) = open_store(&args.store)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let revoked = runtime.block_on(store.revoke_token(&args.id, now))?;
    runtime.block_on(store.close());
    if revoked {
        eprintln!("revoked token {}", args.id);
        Ok(ExitStatus::Success)
    } else {
        eprintln!("error: no live token with id `{}`", args.id);
        Ok(ExitStatus::Error)
    }
}

pub fn list(args: &TokenListArgs) -> anyhow::Result<ExitStatus> {
    let (runtime, store) = open_store(&args.store)?;
    let tokens = runtime.block_on(store.tokens())?;
    runtime.block_on(store.close());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<10} {:<8} {:<24} {:<28} reach",
        "id", "state", "created", "scopes"
    )
    .context("cannot write to stdout")?;
    for t in tokens {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else {
            "live"
        };
        let reach = match (&t.app, &t.team) {
            (Some(app), _) => app.clone(),
            (None, Some(team)) => format!("team {team}"),
            (None, None) => "(all)".to_owned(),
        };
        writeln!(
            out,
            "{:<10} {:<8} {:<24} {:<28} {reach}",
            t.id,
            state,
            runbom_server::rfc3339(t.created_at),
            t.scopes,
        )
        .context("cannot write to stdout")?;
    }
    Ok(ExitStatus::Success)
}
