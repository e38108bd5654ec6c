//! `runbom admin token create|revoke|list`: server tokens, written straight to the store (whoever
//! can open the store is trusted). Secrets are printed once and stored only as sha256 hashes.

use std::io::Write;

use anyhow::Context;

use crate::cli::{TokenCreateArgs, TokenListArgs, TokenRevokeArgs};
use crate::commands::{ExitStatus, open_store};

pub fn create(args: &TokenCreateArgs) -> anyhow::Result<ExitStatus> {
    let (runtime, store) = open_store(&args.store)?;
    let app = if args.admin {
        None
    } else {
        args.app.as_deref()
    };
    let token = runtime.block_on(runbom_server::create_token(&store, app))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", token.secret).context("cannot write to stdout")?;
    let scope = app.map_or("admin".to_owned(), |app| format!("application `{app}`"));
    eprintln!(
        "created token {} for {scope}; the secret above is shown only now",
        token.id
    );
    runtime.block_on(store.close());
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
        "{:<10} {:<8} {:<24} application",
        "id", "state", "created"
    )
    .context("cannot write to stdout")?;
    for t in tokens {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else {
            "live"
        };
        writeln!(
            out,
            "{:<10} {:<8} {:<24} {}",
            t.id,
            state,
            runbom_server::rfc3339(t.created_at),
            t.app.as_deref().unwrap_or("(admin)")
        )
        .context("cannot write to stdout")?;
    }
    Ok(ExitStatus::Success)
}
