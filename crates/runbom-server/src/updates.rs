//! Update tracking: the server's package-index poller. At start and every interval it asks the
//! package indexes (`runbom outdated`'s client and on-disk cache, revalidated with `ETag` /
//! `Last-Modified`) for every project a live instance runs and keeps the answers in the store,
//! which logs a change for each application running a project whose releases changed; the
//! detector then opens and resolves `outdated` and `yanked` findings ([`crate::findings`]), and
//! their alerts go out by the webhook notifier.
//!
//! Several server processes sharing a store poll once: the poller holds a store lease. When the
//! index is down (every project asked failed), the server keeps serving and the poller backs
//! off: the wait doubles with each failed poll, up to [`MAX_BACKOFF`] intervals.

use std::sync::Arc;
use std::time::Duration;

use runbom_model::Ecosystem;
use runbom_sources::index::{IndexClient, IndexError, IndexSettings, releases_of_all};
use runbom_store::{Store, StoreError};

use crate::backoff;
use crate::lease::Lease;
use crate::time::now_ms;

/// The lease several server processes sharing a store take before polling.
const LEASE: &str = "package-index";

/// Requests in flight at once.
const CONCURRENCY: usize = 4;

/// After failed polls the poller waits at most this many intervals.
pub const MAX_BACKOFF: u32 = 16;

/// Where to ask, how often, and what counts as a finding.
#[derive(Debug, Clone)]
pub struct UpdatesConfig {
    /// The indexes and the response cache (`runbom outdated`'s).
    pub index: IndexSettings,
    pub interval: Duration,
    pub policy: UpdatePolicy,
}

/// When a running release is a finding: the `[freshness]` thresholds of `runbom.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdatePolicy {
    /// A release behind the newest is `outdated` once it is more than this many days older
    /// than the newest; `None`: as soon as a newer release exists.
    pub max_days_behind: Option<u32>,
    /// The severity of a `yanked` finding; `None` opens none.
    pub yanked: Option<&'static str>,
}

impl Default for UpdatePolicy {
    fn default() -> Self {
        UpdatePolicy {
            max_days_behind: None,
            yanked: Some("medium"),
        }
    }
}

/// Why a poll stopped before it asked the index.
#[derive(Debug, thiserror::Error)]
pub enum UpdatesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the index task stopped: {0}")]
    Task(String),
    #[error("cannot encode the releases of `{name}`: {source}")]
    Encode {
        name: String,
        source: serde_json::Error,
    },
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PollOutcome {
    asked: usize,
    changed: usize,
    not_found: usize,
    /// The errors of the projects the index could not answer about.
    failed: Vec<String>,
}

impl PollOutcome {
    /// Every project asked failed: the index is down or unreachable.
    fn index_down(&self) -> bool {
        self.asked > 0 && self.failed.len() == self.asked
    }
}

/// The poller: polls at start, then every interval while this process holds the lease; after a
/// poll that found the index down, waits twice as long each time, up to [`MAX_BACKOFF`]
/// intervals.
pub(crate) async fn run(store: Store, config: UpdatesConfig) {
    // reqwest's blocking client may not be built on an async worker.
    let settings = config.index.clone();
    let client = match tokio::task::spawn_blocking(move || IndexClient::new(settings)).await {
        Ok(Ok(client)) => Arc::new(client),
        Ok(Err(err)) => {
            tracing::error!("update tracking disabled: {err}");
            return;
        }
        Err(err) => {
            tracing::error!("update tracking disabled: {err}");
            return;
        }
    };
    let lease = Lease::new(LEASE, config.interval);
    let mut failures: u32 = 0;
    loop {
        if lease.take(&store).await {
            match poll(&store, &client).await {
                Ok(outcome) if outcome.index_down() => {
                    failures = failures.saturating_add(1);
                    let wait = next_wait(config.interval, failures);
                    tracing::warn!(
                        "package index down ({} of {} projects failed: {}); next poll in {} ms",
                        outcome.failed.len(),
                        outcome.asked,
                        outcome.failed[0],
                        wait.as_millis()
                    );
                }
                Ok(outcome) => {
                    failures = 0;
                    for error in &outcome.failed {
                        tracing::warn!("package index: {error}");
                    }
                    tracing::debug!(
                        asked = outcome.asked,
                        changed = outcome.changed,
                        not_found = outcome.not_found,
                        failed = outcome.failed.len(),
                        "package indexes polled"
                    );
                }
                Err(err) => tracing::warn!("package index poll failed: {err}"),
            }
        }
        tokio::time::sleep(next_wait(config.interval, failures)).await;
    }
}

/// `interval` after a good poll; `2^failures × interval`, at most [`MAX_BACKOFF`] intervals,
/// after `failures` polls in a row that found the index down.
fn next_wait(interval: Duration, failures: u32) -> Duration {
    if failures == 0 {
        interval
    } else {
        backoff::exponential(interval, failures, interval * MAX_BACKOFF)
    }
}

/// Asks the indexes about every running project and keeps the answers.
async fn poll(store: &Store, client: &Arc<IndexClient>) -> Result<PollOutcome, UpdatesError> {
    // Kept as the store spells the ecosystem, so the answers join the observations.
    let running: Vec<(String, String)> = store
        .running_projects()
        .await?
        .into_iter()
        .filter(|(ecosystem, _)| {
            ecosystem
                .parse::<Ecosystem>()
                .is_ok_and(IndexClient::supports)
        })
        .collect();
    let asked: Vec<(Ecosystem, String)> = running
        .iter()
        .filter_map(|(ecosystem, name)| Some((ecosystem.parse().ok()?, name.clone())))
        .collect();
    let client = Arc::clone(client);
    let results =
        tokio::task::spawn_blocking(move || releases_of_all(&client, &asked, CONCURRENCY, &|| {}))
            .await
            .map_err(|e| UpdatesError::Task(e.to_string()))?;
    let mut outcome = PollOutcome {
        asked: running.len(),
        ..PollOutcome::default()
    };
    for ((ecosystem, name), result) in running.iter().zip(results) {
        let now = now_ms();
        match result {
            Ok(project) => {
                let releases = serde_json::to_string(&project.releases).map_err(|source| {
                    UpdatesError::Encode {
                        name: name.clone(),
                        source,
                    }
                })?;
                if store.save_releases(ecosystem, name, &releases, now).await? {
                    outcome.changed += 1;
                }
            }
            Err(err @ IndexError::NotFound { .. }) => {
                outcome.not_found += 1;
                store
                    .record_index_error(ecosystem, name, &err.to_string(), now)
                    .await?;
            }
            Err(err) => {
                let message = err.to_string();
                store
                    .record_index_error(ecosystem, name, &message, now)
                    .await?;
                outcome.failed.push(message);
            }
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_while_the_index_is_down_and_is_capped() {
        let s = Duration::from_secs;
        assert_eq!(next_wait(s(60), 0), s(60));
        assert_eq!(next_wait(s(60), 1), s(120));
        assert_eq!(next_wait(s(60), 3), s(480));
        assert_eq!(next_wait(s(60), 40), s(60 * 16));
    }

    #[test]
    fn the_index_is_down_only_when_every_project_failed() {
        let outcome = |asked, failed: usize| PollOutcome {
            asked,
            failed: vec!["503".to_owned(); failed],
            ..PollOutcome::default()
        };
        assert!(outcome(2, 2).index_down());
        assert!(!outcome(2, 1).index_down());
        assert!(!outcome(0, 0).index_down(), "nothing runs: nothing to ask");
    }
}
