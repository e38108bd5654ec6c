//! `runbom db update`: runs [`runbom_server::feed::update`] — OSV's bulk export of each configured
//! ecosystem, downloaded with a conditional request and imported when fresh — behind a progress
//! bar, and prints what it did per source. The server's feed poller runs the same update.

use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;
use runbom_server::feed::{FeedConfig, UpdateProgress, update};
use runbom_store::ImportStats;

use super::import::{add, report_skipped, summary};
use crate::cli::{DbUpdateArgs, FeedArgs};
use crate::commands::config::load_project_config;
use crate::commands::{ExitStatus, open_store, progress};

pub fn run(args: &DbUpdateArgs) -> anyhow::Result<ExitStatus> {
    let config = feed_config(&args.feed)?;
    let (runtime, store) = open_store(&args.store)?;
    let bars = Arc::new(Bars::default());
    let report = runtime.block_on(update(&store, &config, bars.clone()));
    bars.clear();
    let report = report?;
    let mut total = ImportStats::default();
    for outcome in &report.sources {
        match &outcome.imported {
            None => println!("{}: not modified since the last update", outcome.name),
            Some(stats) => {
                println!("{}: {}", outcome.name, summary(stats));
                add(&mut total, *stats);
            }
        }
    }
    report_skipped(&report.skipped);
    println!("total: {}", summary(&total));
    Ok(ExitStatus::Success)
}

/// The sources `args` name: `--osv-url`, else `runbom.toml`'s `[advisories] osv-url`, else
/// osv.dev; `--ecosystem`s, else the default ones.
pub(crate) fn feed_config(args: &FeedArgs) -> anyhow::Result<FeedConfig> {
    let project = load_project_config(args.config.as_deref())?;
    let mut config = FeedConfig::default();
    if let Some(base) = args
        .osv_url
        .clone()
        .or_else(|| project.and_then(|c| c.advisories.osv_url.map(|u| u.value)))
    {
        config.base = base;
    }
    if !args.ecosystems.is_empty() {
        config.ecosystems = args.ecosystems.clone();
    }
    Ok(config)
}

/// One progress bar per phase: a byte counter while a source downloads, a file counter while it
/// imports.
#[derive(Default)]
struct Bars {
    current: Mutex<Option<(String, ProgressBar)>>,
}

impl Bars {
    fn show(
        &self,
        key: String,
        make: impl FnOnce() -> ProgressBar,
        update: impl FnOnce(&ProgressBar),
    ) {
        let Ok(mut current) = self.current.lock() else {
            return;
        };
        if current.as_ref().is_none_or(|(k, _)| *k != key) {
            if let Some((_, bar)) = current.take() {
                bar.finish_and_clear();
            }
            *current = Some((key, make()));
        }
        if let Some((_, bar)) = current.as_ref() {
            update(bar);
        }
    }

    fn clear(&self) {
        if let Ok(mut current) = self.current.lock()
            && let Some((_, bar)) = current.take()
        {
            bar.finish_and_clear();
        }
    }
}

impl UpdateProgress for Bars {
    fn downloading(&self, source: &str, received: u64, total: Option<u64>) {
        let message = format!("downloading {source}");
        self.show(
            message.clone(),
            || progress::bytes(0, &message),
            |bar| {
                if let Some(total) = total {
                    bar.set_length(total);
                }
                bar.set_position(received);
            },
        );
    }

    fn importing(&self, source: &str, files: usize) {
        let message = format!("importing {source}");
        self.show(
            message.clone(),
            || progress::bar(files as u64, &message),
            |_| {},
        );
    }

    fn imported_file(&self) {
        if let Ok(current) = self.current.lock()
            && let Some((_, bar)) = current.as_ref()
        {
            bar.inc(1);
        }
    }
}
