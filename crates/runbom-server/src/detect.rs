//! The detector: polls the store's change log (every process's writes) and the advisory
//! tables (in every process, for its dashboards' live events), and, in the one process that
//! holds the detector lock, recomputes the findings of each application whose inputs changed (reports,
//! advisories, expected inventories, package-index answers), opens and resolves
//! findings, queues their alerts, marks silent instances gone, keeps trend snapshots, and
//! forgets what is past its retention.
//!
//! A recompute reads all of an application's live components, so its cost grows with the
//! application's fleet (seconds for 100,000 instances) while a fleet's changes arrive every few
//! seconds: [`RecomputePacer`] keeps an application's recomputes to a tenth of the detector's
//! time, so a large fleet's changes are folded into one recompute and a small application's are
//! recomputed at once.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use runbom_store::{Cutoffs, Forgotten, Store, StoreError};

use crate::events::publish;
use crate::findings;
use crate::notify;
use crate::time::now_ms;
use crate::{AppState, ServerConfig};

/// Silent instances are looked for every this fraction of the gone-after time (a scan of the
/// live instances), and at most once a second: an instance is marked gone between gone-after
/// and 1.1 times it after it was last seen.
const GONE_CHECKS_PER_GONE_AFTER: u32 = 10;

/// How often the overview is saved for the trend charts.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(60);

/// How often report ids and the rest past their retention are forgotten.
const RETENTION_UPKEEP_EVERY: Duration = Duration::from_secs(3600);

/// An application is recomputed again no sooner than this many times its last recompute took
/// (after it): recomputes take at most a tenth of the time.
const RECOMPUTE_SPACING: u32 = 9;

/// The session lock held by the one process (of those sharing a PostgreSQL store) that detects:
/// the others only follow the change log for their own dashboards, and one of them takes over
/// when the holder's session ends. Every process holds it on SQLite.
const DETECTOR_LOCK: &str = "detector";

/// When each application may be recomputed again.
#[derive(Debug, Default)]
struct RecomputePacer {
    next: HashMap<String, Instant>,
}

impl RecomputePacer {
    fn due(&self, app: &str, now: Instant) -> bool {
        self.next.get(app).is_none_or(|next| now >= *next)
    }

    /// `app`'s recompute ended at `now` after taking `took`.
    fn done(&mut self, app: &str, took: Duration, now: Instant) {
        self.next
            .insert(app.to_owned(), now + took * RECOMPUTE_SPACING);
    }
}

pub(crate) async fn run(state: AppState) {
    let store = &state.store;
    let mut watermark = store.change_watermark().await.unwrap_or(0);
    let mut advisories = store.advisory_watermark().await.unwrap_or_default();
    let mut dirty: BTreeSet<String> = BTreeSet::new();
    let mut lock = store.session_lock(DETECTOR_LOCK);
    let mut detection: Option<Detection> = None;
    let mut tick = tokio::time::interval(state.config.poll_interval);
    loop {
        tick.tick().await;
        if let Err(err) = poll_changes(&state, &mut watermark, &mut dirty).await {
            tracing::warn!("cannot read the change log: {err:#}");
        }
        match store.advisory_watermark().await {
            Ok(now) if now != advisories => {
                advisories = now;
                dirty.extend(store.application_names().await.unwrap_or_default());
                publish(&state.events, "advisories", "");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!("cannot read the advisories: {err:#}"),
        }
        let holds = match lock.hold().await {
            Ok(holds) => holds,
            Err(err) => {
                tracing::warn!("cannot take or check the detector lock: {err:#}");
                false
            }
        };
        if !holds {
            if detection.take().is_some() {
                tracing::warn!("this process no longer detects: another one took over");
            }
            continue;
        }
        let detection = match &mut detection {
            Some(detection) => detection,
            None => {
                tracing::info!("this process is the store's detector");
                // What the previous holder left undone is not known: everything, once.
                dirty.extend(store.application_names().await.unwrap_or_default());
                detection.insert(Detection::default())
            }
        };
        detection.turn(&state, &mut dirty).await;
    }
}

/// What the detecting process keeps between turns; new when it starts detecting.
#[derive(Debug, Default)]
struct Detection {
    last_gone_check: Option<Instant>,
    last_snapshot: Option<Instant>,
    last_retention_upkeep: Option<Instant>,
    pacer: RecomputePacer,
    /// Whether every application dirty at the start has been recomputed once.
    caught_up: bool,
}

impl Detection {
    /// Marks silent instances gone, recomputes the applications in `dirty` that are due, and
    /// keeps the trend snapshots and retention on their schedules.
    async fn turn(&mut self, state: &AppState, dirty: &mut BTreeSet<String>) {
        let store = &state.store;
        let gone_check =
            (state.config.gone_after / GONE_CHECKS_PER_GONE_AFTER).max(Duration::from_secs(1));
        if self
            .last_gone_check
            .is_none_or(|at| at.elapsed() >= gone_check)
        {
            self.last_gone_check = Some(Instant::now());
            let gone_ms = i64::try_from(state.config.gone_after.as_millis()).unwrap_or(i64::MAX);
            let now = now_ms();
            if let Err(err) = store.mark_gone(now.saturating_sub(gone_ms), now).await {
                tracing::warn!("cannot mark silent instances gone: {err:#}");
            }
        }
        let due: Vec<String> = dirty
            .iter()
            .filter(|app| self.pacer.due(app, Instant::now()))
            .cloned()
            .collect();
        for app in due {
            dirty.remove(&app);
            let started = Instant::now();
            let result = recompute(store, &app, &state.config).await;
            self.pacer.done(&app, started.elapsed(), Instant::now());
            if let Err(err) = result {
                tracing::warn!("cannot recompute the findings of `{app}`: {err:#}");
                dirty.insert(app);
                break;
            }
        }
        if !self.caught_up && dirty.is_empty() {
            self.caught_up = true;
            tracing::info!("the findings of every application are recomputed");
        }
        if self
            .last_retention_upkeep
            .is_none_or(|at| at.elapsed() >= RETENTION_UPKEEP_EVERY)
        {
            self.last_retention_upkeep = Some(Instant::now());
            forget_report_ids(state).await;
            forget_old(state).await;
        }
        if self
            .last_snapshot
            .is_none_or(|at| at.elapsed() >= SNAPSHOT_EVERY)
        {
            self.last_snapshot = Some(Instant::now());
            if let Err(err) = snapshot(store).await {
                tracing::warn!("cannot save a trend snapshot: {err:#}");
            }
        }
    }
}

async fn poll_changes(
    state: &AppState,
    watermark: &mut i64,
    dirty: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    for (id, kind, app) in state.store.changes_since(*watermark).await? {
        *watermark = id;
        if kind != "finding" {
            dirty.insert(app.clone());
        }
        publish(&state.events, &kind, &app);
    }
    Ok(())
}

/// Recomputes one application's findings from its live instances, advisories and expected
/// inventory; queues alerts for the findings opened now.
pub(crate) async fn recompute(
    store: &Store,
    app: &str,
    config: &ServerConfig,
) -> Result<(), StoreError> {
    let components = store.live_components(app).await?;
    let matches = store.advisory_matches(app).await?;
    let expected = store.expected_for(app).await?;
    let aliases = store.alias_records(app).await?;
    let mut current = findings::compute(app, &components, &matches, &aliases, expected.as_ref());
    current.extend(findings::refused(app, &store.live_refusals(app).await?));
    if let Some(updates) = &config.updates {
        let projects = store.index_releases_for(app).await?;
        current.extend(findings::updates(
            app,
            &components,
            &projects,
            &updates.policy,
        ));
    }
    let now = now_ms();
    for alert in store.sync_findings(app, &current, now).await? {
        notify::enqueue(store, &alert, now).await?;
    }
    Ok(())
}

/// Forgets the report ids older than the configured retention.
async fn forget_report_ids(state: &AppState) {
    let keep = i64::try_from(state.config.keep_report_ids.as_millis()).unwrap_or(i64::MAX);
    match state
        .store
        .forget_report_ids(now_ms().saturating_sub(keep))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!("forgot {n} report ids past their retention"),
        Err(err) => tracing::warn!("cannot forget old report ids: {err:#}"),
    }
}

/// Forgets gone instances, trend snapshots, finished deliveries and the change log past their
/// retention.
async fn forget_old(state: &AppState) {
    let now = now_ms();
    let before =
        |keep: Duration| now.saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
    let retention = &state.config.retention;
    let cutoffs = Cutoffs {
        gone_instances: before(retention.gone_instances),
        snapshots: before(retention.trends),
        deliveries: before(retention.deliveries),
        changes: before(retention.changes),
    };
    match state.store.forget_old(&cutoffs).await {
        Ok(forgotten) if forgotten == Forgotten::default() => {}
        Ok(forgotten) => tracing::info!("forgot past their retention: {forgotten:?}"),
        Err(err) => tracing::warn!("cannot forget what is past its retention: {err:#}"),
    }
}

/// Saves the overview under the current minute.
async fn snapshot(store: &Store) -> Result<(), StoreError> {
    let overview = store.overview().await?;
    let now = now_ms();
    store.save_snapshot(now - now % 60_000, &overview).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_is_recomputed_again_after_nine_times_its_last_recompute() {
        let mut pacer = RecomputePacer::default();
        let start = Instant::now();
        assert!(pacer.due("fleet", start));
        pacer.done("fleet", Duration::from_secs(2), start);
        assert!(!pacer.due("fleet", start + Duration::from_secs(17)));
        assert!(pacer.due("fleet", start + Duration::from_secs(18)));
        assert!(
            pacer.due("shop", start),
            "other applications wait for nothing"
        );
        pacer.done("shop", Duration::from_millis(5), start);
        assert!(pacer.due("shop", start + Duration::from_millis(45)));
    }
}
