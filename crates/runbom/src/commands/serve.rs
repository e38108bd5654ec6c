//! `runbom serve`: the server, on the store `--db` names, polling the advisory feed
//! `runbom db update` downloads every `--feed-interval` seconds.

use std::time::Duration;

use crate::cli::ServeArgs;
use crate::commands::db::update::feed_config;
use crate::commands::{ExitStatus, open_store};

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitStatus> {
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
        keep_report_ids: Duration::from_secs(args.keep_report_ids.saturating_mul(24 * 3600)),
        webhooks,
        feed: (args.feed_interval > 0)
            .then(|| feed_config(&args.feed))
            .transpose()?,
        feed_interval: Duration::from_secs(args.feed_interval.max(1)),
        ..runbom_server::ServerConfig::default()
    };
    let engine = store.engine();
    runtime.block_on(runbom_server::serve(store, config, |addr| {
        eprintln!("runbom serve: listening on http://{addr} (store: {engine})");
    }))?;
    Ok(ExitStatus::Success)
}
