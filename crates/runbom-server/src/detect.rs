//! The detector: polls the store's change log (every process's writes) and the advisory
//! tables, recomputes the findings of each application whose inputs changed (reports,
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

/// How often silent instances are looked for.
const GONE_CHECK: Duration = Duration::from_secs(1);

/// How often the overview is saved for the trend charts.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(60);

/// How often report ids and the rest past their retention are forgotten.
const RETENTION_UPKEEP_EVERY: Duration = Duration::from_secs(3600);

/// An application is recomputed again no sooner than this many times its last recompute took
/// (after it): recomputes take at most a tenth of the time.
const RECOMPUTE_SPACING: u32 = 9;

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
    let mut dirty: BTreeSet<String> = store
        .application_names()
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut last_gone_check = Instant::now();
    let mut last_snapshot: Option<Instant> = None;
    let mut last_retention_upkeep: Option<Instant> = None;
    let mut pacer = RecomputePacer::default();
    // Until every application the store held at start has been recomputed once.
    let mut first_pass = true;
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
        if last_gone_check.elapsed() >= GONE_CHECK {
            last_gone_check = Instant::now();
            let gone_ms = i64::try_from(state.config.gone_after.as_millis()).unwrap_or(i64::MAX);
            let now = now_ms();
            if let Err(err) = store.mark_gone(now.saturating_sub(gone_ms), now).await {
                tracing::warn!("cannot mark silent instances gone: {err:#}");
            }
        }
        let due: Vec<String> = dirty
            .iter()
            .filter(|app| pacer.due(app, Instant::now()))
            .cloned()
            .collect();
        for app in due {
            dirty.remove(&app);
            let started = Instant::now();
            let result = recompute(store, &app, &state.config).await;
            pacer.done(&app, started.elapsed(), Instant::now());
            if let Err(err) = result {
                tracing::warn!("cannot recompute the findings of `{app}`: {err:#}");
                dirty.insert(app);
                break;
            }
        }
        if first_pass && dirty.is_empty() {
            first_pass = false;
            tracing::info!("the findings of every application are recomputed");
        }
        if last_retention_upkeep.is_none_or(|at| at.elapsed() >= RETENTION_UPKEEP_EVERY) {
            last_retention_upkeep = Some(Instant::now());
            forget_report_ids(&state).await;
            forget_old(&state).await;
        }
        if last_snapshot.is_none_or(|at| at.elapsed() >= SNAPSHOT_EVERY) {
            last_snapshot = Some(Instant::now());
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
