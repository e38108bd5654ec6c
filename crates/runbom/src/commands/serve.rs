//! `runbom serve`: the server, on the store `--db` names, polling the advisory feed
//! `runbom db update` downloads every `--feed-interval` seconds and the package indexes
//! `runbom outdated` asks every `--updates-interval` seconds. On a store with no token and no
//! user it first makes an admin token — from `RUNBOM_SETUP_SECRET`, or a new secret printed once
//! on stderr — so a new server is never open. What the server logs (a feed that failed, a webhook
//! that did not answer) goes to stderr, filtered by `RUNBOM_LOG` (`tracing`'s directives, e.g.
//! `info` or `runbom_server=debug`; default `warn`).

use std::time::Duration;

use runbom_config::policy::Level;
use runbom_server::updates::{UpdatePolicy, UpdatesConfig};

use crate::cli::ServeArgs;
use crate::commands::config::load_project_config;
use crate::commands::db::update::feed_config;
use crate::commands::{ExitStatus, open_store};

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitStatus> {
    log_to_stderr();
    let (runtime, store) = open_store(&args.store)?;
    let webhooks = args
        .webhook
        .iter()
        .map(|url| (url.clone(), "json".to_owned()))
        .chain(
            args.slack_webhook
                .iter()
                .map(|url| (url.clone(), "slack".to_owned())),
        )
        .collect();
    let config = runbom_server::ServerConfig {
        listen: args.listen,
        max_body_bytes: args.max_body,
        gone_after: Duration::from_secs(args.gone_after),
        keep_report_ids: days(args.keep_report_ids),
        retention: runbom_server::Retention {
            gone_instances: days(args.keep_gone_instances),
            trends: days(args.keep_trends),
            deliveries: days(args.keep_deliveries),
            ..runbom_server::Retention::default()
        },
        webhooks,
        feed: (args.feed_interval > 0)
            .then(|| feed_config(&args.feed))
            .transpose()?,
        feed_interval: Duration::from_secs(args.feed_interval.max(1)),
        updates: (args.updates_interval > 0)
            .then(|| updates_config(args))
            .transpose()?,
        ..runbom_server::ServerConfig::default()
    };
    let from_env = std::env::var(runbom_server::SETUP_SECRET_VAR).ok();
    match runtime.block_on(runbom_server::set_up(&store, from_env.as_deref()))? {
        runbom_server::Setup::AlreadySetUp => {}
        runbom_server::Setup::FromEnvironment => eprintln!(
            "runbom serve: a new store; its admin token is the secret in `{}`",
            runbom_server::SETUP_SECRET_VAR
        ),
        runbom_server::Setup::Generated(secret) => eprintln!(
            "runbom serve: a new store; admin setup token (shown only now): {secret}\n\
             runbom serve: use it as `Authorization: Bearer …` to create teams, users and tokens"
        ),
    }
    let engine = store.engine();
    runtime.block_on(runbom_server::serve(store, config, |addr| {
        eprintln!("runbom serve: listening on http://{addr} (store: {engine})");
    }))?;
    Ok(ExitStatus::Success)
}

/// The update tracking `args` ask for: the indexes of `--index-url` & co., the thresholds of
/// `runbom.toml`'s `[freshness]` (`max-days-behind`; `yanked`: `deny` opens `high` findings,
/// `warn` `medium` ones, `allow` none; `medium` when not written).
fn updates_config(args: &ServeArgs) -> anyhow::Result<UpdatesConfig> {
    let freshness = load_project_config(args.feed.config.as_deref())?
        .map(|c| c.freshness)
        .unwrap_or_default();
    let mut policy = UpdatePolicy {
        max_days_behind: freshness.max_days_behind.map(|d| d.value),
        ..UpdatePolicy::default()
    };
    if let Some(level) = freshness.yanked {
        policy.yanked = match level.value {
            Level::Deny => Some("high"),
            Level::Warn => Some("medium"),
            Level::Allow => None,
        };
    }
    Ok(UpdatesConfig {
        index: args.index.settings(),
        interval: Duration::from_secs(args.updates_interval),
        policy,
    })
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n.saturating_mul(24 * 3600))
}

/// Sends the server's `tracing` events to stderr, filtered by `RUNBOM_LOG`; a bad filter falls
/// back to the default with a warning.
fn log_to_stderr() {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUNBOM_LOG") {
        Ok(directives) => EnvFilter::try_new(&directives).unwrap_or_else(|err| {
            eprintln!("runbom serve: warning: RUNBOM_LOG={directives:?} is not a filter ({err}); using `warn`");
            EnvFilter::new("warn")
        }),
        Err(_) => EnvFilter::new("warn"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
