//! Ingest of runtime reports, many per transaction. A report whose components equal what its
//! instance already has (a heartbeat) costs three small statements: it is remembered by id (so a
//! resend is a no-op) and moves the instance's `last_seen`. Only a report that changes something
//! touches observations, and then only the changed ones.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use runbom_model::Ecosystem;
use runbom_model::runtime::{DistributionUse, FileIntegrity, RuntimeReport};
use sha2::{Digest, Sha256};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::error::QueryContext;
use crate::sql::{list, placeholders};
use crate::{Store, StoreError};

/// Observations written per `INSERT` statement (12 parameters each). Kept small: SQLite looks
/// each parameter up by name in a list, so binding costs grow with the square of the count
/// (at 100 rows, binding took more time than writing).
const OBSERVATIONS_PER_STATEMENT: usize = 20;

/// A validated report and the application its token belongs to, with what the store compares
/// (its observations and their digest) computed when it is made: on the request's thread, not in
/// the one writer that commits a batch.
#[derive(Debug, Clone)]
pub struct IncomingReport {
    pub app: String,
    /// When the server received it.
    pub received_at: i64,
    report: RuntimeReport,
    observations: Vec<Observation>,
    state_digest: String,
}

impl IncomingReport {
    pub fn new(app: String, report: RuntimeReport, received_at: i64) -> Self {
        let observations = observations_of(&report);
        let state_digest = state_digest(&observations);
        IncomingReport {
            app,
            received_at,
            report,
            observations,
            state_digest,
        }
    }

    /// The digest of the report's state: what a heartbeat of the same state carries.
    pub fn state_digest(&self) -> &str {
        &self.state_digest
    }
}

/// What storing one report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored now; `changed` when the instance's components changed (or the instance is new).
    Stored { instance_id: i64, changed: bool },
    /// A report with this id was stored before: nothing was written.
    Duplicate,
}

/// Rows per multi-row statement of a batch (report ids, instance heartbeats, instance lookups).
pub(super) const ROWS_PER_STATEMENT: usize = 64;

impl Store {
    /// Stores a batch of reports in one transaction; each outcome is durable when this returns.
    ///
    /// The statements do not grow with the batch for heartbeats: one lookup of the instances,
    /// one insert of the report ids and one update of the instances per [`ROWS_PER_STATEMENT`]
    /// reports. A new instance or a changed report costs its own statements on top.
    pub async fn ingest_reports(
        &self,
        batch: &[IncomingReport],
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let mut tx = self.begin_write().await.doing("starting an ingest")?;
        let keys = batch
            .iter()
            .map(|incoming| (incoming.app.as_str(), incoming.report.session_id.as_str()));
        let mut instances = known_instances(&mut tx, keys).await?;
        let stored = record_report_ids(&mut tx, batch, &instances).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut changed_apps = Vec::new();
        let mut heartbeats = HashMap::new();
        let mut changes = Vec::new();
        for (incoming, stored) in batch.iter().zip(stored) {
            if !stored {
                outcomes.push(IngestOutcome::Duplicate);
                continue;
            }
            let (instance_id, changed) =
                store_one(&mut tx, incoming, &mut instances, &mut changes).await?;
            if changed && !changed_apps.contains(&incoming.app.as_str()) {
                changed_apps.push(incoming.app.as_str());
            }
            heartbeats.insert(instance_id, incoming);
            outcomes.push(IngestOutcome::Stored {
                instance_id,
                changed,
            });
        }
        mark_changes(&mut tx, &changes).await?;
        update_heartbeats(&mut tx, &heartbeats).await?;
        let now = batch.last().map_or(0, |last| last.received_at);
        for app in changed_apps {
            log_change(&mut tx, "report", app, now).await?;
        }
        tx.commit().await.doing("committing reports")?;
        Ok(outcomes)
    }
}

/// Appends to the change log that every server process polls.
pub(crate) async fn log_change(
    tx: &mut Transaction<'_, Any>,
    kind: &str,
    app: &str,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO change_log (kind, app, at) VALUES ($1, $2, $3)")
        .bind(kind)
        .bind(app)
        .bind(at)
        .execute(&mut **tx)
        .await
        .doing("logging a change")?;
    Ok(())
}

/// An instance as the store holds it: its id and the state digest of its last report.
#[derive(Debug, Clone)]
pub(super) struct KnownInstance {
    pub id: i64,
    pub state_digest: String,
}

/// The instances a batch reports for, by (application, session) as the batch names them.
pub(super) type Instances<'b> = HashMap<(&'b str, &'b str), KnownInstance>;

/// Looks up every instance of `keys` (application, session), one statement per application
/// and [`ROWS_PER_STATEMENT`] sessions.
pub(super) async fn known_instances<'b>(
    tx: &mut Transaction<'_, Any>,
    keys: impl IntoIterator<Item = (&'b str, &'b str)>,
) -> Result<Instances<'b>, StoreError> {
    let mut sessions: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (app, session) in keys {
        sessions.entry(app).or_default().insert(session);
    }
    let mut instances = Instances::new();
    for (app, sessions) in sessions {
        let listed: Vec<&str> = sessions.iter().copied().collect();
        for chunk in listed.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT session_id, id, state_digest FROM instances \
                 WHERE app = $1 AND session_id IN ({})",
                list(2, chunk.len())
            );
            // Only placeholders are generated; every value is bound.
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(app);
            for session in chunk {
                query = query.bind(*session);
            }
            for row in query
                .fetch_all(&mut **tx)
                .await
                .doing("looking up instances")?
            {
                let session: String = row.try_get(0).doing("reading an instance")?;
                let Some(&session) = sessions.get(session.as_str()) else {
                    continue;
                };
                let known = KnownInstance {
                    id: row.try_get(1).doing("reading an instance")?,
                    state_digest: row.try_get(2).doing("reading an instance")?,
                };
                instances.insert((app, session), known);
            }
        }
    }
    Ok(instances)
}

/// Remembers every report id of the batch; `false` for a report whose id was stored before (or
/// earlier in the same batch): a resend, which changes nothing. A report of an instance not yet
/// known is recorded with instance 0 and linked when the instance is made; a changed one is
/// marked when the change is written.
async fn record_report_ids(
    tx: &mut Transaction<'_, Any>,
    batch: &[IncomingReport],
    instances: &Instances<'_>,
) -> Result<Vec<bool>, StoreError> {
    let mut seen = HashSet::new();
    let unique: Vec<&IncomingReport> = batch
        .iter()
        .filter(|incoming| seen.insert(incoming.report.report_id.as_str()))
        .collect();
    let mut inserted = HashSet::new();
    for chunk in unique.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO reports (report_id, instance_id, sequence, received_at, changed) \
             VALUES {} ON CONFLICT (report_id) DO NOTHING RETURNING report_id",
            placeholders(chunk.len(), 5)
        );
        // Only placeholders are generated; every value is bound.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for incoming in chunk {
            let report = &incoming.report;
            let instance_id = instances
                .get(&(incoming.app.as_str(), report.session_id.as_str()))
                .map_or(0, |known| known.id);
            query = query
                .bind(&report.report_id)
                .bind(instance_id)
                .bind(i64::try_from(report.sequence).unwrap_or(i64::MAX))
                .bind(incoming.received_at)
                .bind(0_i64);
        }
        for row in query
            .fetch_all(&mut **tx)
            .await
            .doing("recording report ids")?
        {
            let id: String = row.try_get(0).doing("reading a report id")?;
            inserted.insert(id);
        }
    }
    Ok(batch
        .iter()
        .map(|incoming| inserted.remove(&incoming.report.report_id))
        .collect())
}

/// Stores one new report: makes its instance when it is the first, writes its observations when
/// they changed (and then adds the report to `changes`, its id row to be linked and marked).
/// Returns the instance and whether anything changed.
async fn store_one<'b>(
    tx: &mut Transaction<'_, Any>,
    incoming: &'b IncomingReport,
    instances: &mut Instances<'b>,
    changes: &mut Vec<(&'b str, i64)>,
) -> Result<(i64, bool), StoreError> {
    let key = (incoming.app.as_str(), incoming.report.session_id.as_str());
    let (instance_id, changed, new) = match instances.get_mut(&key) {
        Some(known) => {
            let changed = known.state_digest != incoming.state_digest;
            known.state_digest.clone_from(&incoming.state_digest);
            (known.id, changed, false)
        }
        None => {
            let id = insert_instance(tx, incoming).await?;
            let state_digest = incoming.state_digest.clone();
            instances.insert(key, KnownInstance { id, state_digest });
            (id, true, true)
        }
    };
    if changed {
        let stored = if new {
            HashSet::new()
        } else {
            stored_digests(tx, instance_id).await?
        };
        write_observations(
            tx,
            instance_id,
            &stored,
            &incoming.observations,
            incoming.received_at,
        )
        .await?;
        changes.push((incoming.report.report_id.as_str(), instance_id));
    }
    // A new refused import is news even when the components are as before.
    let refused = super::refusals::store_refusals(tx, instance_id, &incoming.report).await?;
    Ok((instance_id, changed || refused))
}

/// Links each report of `changes` (report id, instance) to its instance and marks it a change.
async fn mark_changes(
    tx: &mut Transaction<'_, Any>,
    changes: &[(&str, i64)],
) -> Result<(), StoreError> {
    for chunk in changes.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "WITH change (report_id, instance_id) AS (VALUES {}) \
             UPDATE reports SET instance_id = change.instance_id, changed = 1 \
             FROM change WHERE reports.report_id = change.report_id",
            placeholders(chunk.len(), 2)
        );
        // Only placeholders are generated; every value is bound.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (report_id, instance_id) in chunk {
            query = query.bind(*report_id).bind(*instance_id);
        }
        query
            .execute(&mut **tx)
            .await
            .doing("marking reports as changes")?;
    }
    Ok(())
}

/// Moves each instance to its last report of the batch: seen now, not gone, its state digest.
async fn update_heartbeats(
    tx: &mut Transaction<'_, Any>,
    last_reports: &HashMap<i64, &IncomingReport>,
) -> Result<(), StoreError> {
    let rows: Vec<(&i64, &&IncomingReport)> = last_reports.iter().collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "WITH seen (id, last_seen, complete, state_digest) AS (VALUES {}) \
             UPDATE instances SET last_seen = seen.last_seen, gone = 0, \
             complete = seen.complete, state_digest = seen.state_digest \
             FROM seen WHERE instances.id = seen.id",
            placeholders(chunk.len(), 4)
        );
        // Only placeholders are generated; every value is bound.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, incoming) in chunk {
            query = query
                .bind(**id)
                .bind(incoming.received_at)
                .bind(i64::from(incoming.report.complete))
                .bind(&incoming.state_digest);
        }
        query
            .execute(&mut **tx)
            .await
            .doing("updating instances' heartbeats")?;
    }
    Ok(())
}

async fn insert_instance(
    tx: &mut Transaction<'_, Any>,
    incoming: &IncomingReport,
) -> Result<i64, StoreError> {
    let report = &incoming.report;
    let now = incoming.received_at;
    sqlx::query(
        "INSERT INTO applications (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&incoming.app)
    .bind(now)
    .execute(&mut **tx)
    .await
    .doing("registering an application")?;
    let interpreter = format!(
        "{} {} ({})",
        report.interpreter.implementation,
        report.interpreter.version,
        report.interpreter.executable.display()
    );
    let pid = report.processes.first().map_or(0, |p| i64::from(p.pid));
    let row = sqlx::query(
        "INSERT INTO instances (app, environment, session_id, host, pid, command, interpreter, \
         started_at, first_seen, last_seen, gone, complete, state_digest, language) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 0, 0, $10, $11) RETURNING id",
    )
    .bind(&incoming.app)
    .bind(report.environment.as_deref().unwrap_or("default"))
    .bind(&report.session_id)
    .bind(&report.host)
    .bind(pid)
    .bind(report.command.join(" "))
    .bind(interpreter)
    .bind(&report.started_at)
    .bind(now)
    .bind(&incoming.state_digest)
    .bind(report.interpreter.language.as_str())
    .fetch_one(&mut **tx)
    .await
    .doing("registering an instance")?;
    let id: i64 = row.try_get(0).doing("reading a new instance id")?;
    Ok(id)
}

/// One row of `observations`, as a report describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observation {
    ecosystem: &'static str,
    name: String,
    version: String,
    display_name: String,
    purl: String,
    /// Loaded module names, one per line.
    modules: String,
    /// Files whose sha256 differs from RECORD, one per line.
    tampered: String,
    digest: String,
}

fn observations_of(report: &RuntimeReport) -> Vec<Observation> {
    report.distributions.iter().map(observation_of).collect()
}

fn observation_of(dist: &DistributionUse) -> Observation {
    let modules = dist
        .modules
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let tampered = dist
        .modules
        .iter()
        .filter(|m| matches!(m.integrity, Some(FileIntegrity::Mismatch { .. })))
        .filter_map(|m| m.file.as_ref().map(|f| f.display().to_string()))
        .collect::<Vec<_>>()
        .join("\n");
    let mut hasher = Sha256::new();
    for part in [
        dist.normalized_name.as_str(),
        dist.version.as_str(),
        dist.name.as_str(),
        dist.purl.as_str(),
        modules.as_str(),
        tampered.as_str(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    // PyPI left out, so that the digests of observations stored before ecosystems stay equal.
    if dist.ecosystem != Ecosystem::PyPi {
        hasher.update(dist.ecosystem.as_str().as_bytes());
    }
    Observation {
        ecosystem: dist.ecosystem.as_str(),
        name: dist.normalized_name.as_str().to_owned(),
        version: dist.version.clone(),
        display_name: dist.name.clone(),
        purl: dist.purl.clone(),
        modules,
        tampered,
        digest: hex::encode(&hasher.finalize()[..12]),
    }
}

/// The state digest of a report, as [`IncomingReport::new`] computes it.
pub(super) fn state_digest_of_report(report: &RuntimeReport) -> String {
    state_digest(&observations_of(report))
}

/// A digest of every observation of a report: equal digests mean nothing changed.
fn state_digest(observations: &[Observation]) -> String {
    let mut hasher = Sha256::new();
    for o in observations {
        hasher.update(o.name.as_bytes());
        hasher.update([0]);
        hasher.update(o.version.as_bytes());
        hasher.update([0]);
        hasher.update(o.digest.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// The digests of an instance's stored observations (none for an instance made now: not read).
async fn stored_digests(
    tx: &mut Transaction<'_, Any>,
    instance_id: i64,
) -> Result<HashSet<String>, StoreError> {
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT string_agg(digest, ',') FROM observations WHERE instance_id = $1",
    )
    .bind(instance_id)
    .fetch_one(&mut **tx)
    .await
    .doing("reading an instance's observation digests")?;
    Ok(stored.as_deref().map_or_else(HashSet::new, |all| {
        all.split(',').map(str::to_owned).collect()
    }))
}

/// Brings an instance's observations (whose digests are `stored`) to `observations`, writing only the rows that differ.
///
/// An observation's digest covers its key (ecosystem, name, version) and everything stored of
/// it, so the
/// stored digests, read as one value, say which rows are current: the others are written, and
/// a stored digest that is no longer wanted (once the writes are done) is a row to remove.
async fn write_observations(
    tx: &mut Transaction<'_, Any>,
    instance_id: i64,
    stored: &HashSet<String>,
    observations: &[Observation],
    now: i64,
) -> Result<(), StoreError> {
    // One row per key; of two components with the same key, the last counts.
    let wanted: BTreeMap<(&str, &str, &str), &Observation> = observations
        .iter()
        .map(|o| ((o.ecosystem, o.name.as_str(), o.version.as_str()), o))
        .collect();
    let changed: Vec<&Observation> = wanted
        .values()
        .filter(|o| !stored.contains(o.digest.as_str()))
        .copied()
        .collect();
    for chunk in changed.chunks(OBSERVATIONS_PER_STATEMENT) {
        upsert_observations(tx, instance_id, chunk, now).await?;
    }
    let wanted_digests: HashSet<&str> = wanted.values().map(|o| o.digest.as_str()).collect();
    let gone: Vec<&str> = stored
        .iter()
        .map(String::as_str)
        .filter(|digest| !wanted_digests.contains(digest))
        .collect();
    for chunk in gone.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "DELETE FROM observations WHERE instance_id = $1 AND digest IN ({})",
            list(2, chunk.len())
        );
        // Only placeholders are generated; every value is bound.
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(instance_id);
        for digest in chunk {
            query = query.bind(*digest);
        }
        query
            .execute(&mut **tx)
            .await
            .doing("removing observations")?;
    }
    Ok(())
}

async fn upsert_observations(
    tx: &mut Transaction<'_, Any>,
    instance_id: i64,
    chunk: &[&Observation],
    now: i64,
) -> Result<(), StoreError> {
    let mut sql = format!(
        "INSERT INTO observations (instance_id, ecosystem, name, version, display_name, purl, \
         modules, loaded, tampered, digest, first_seen, loaded_since) VALUES {}",
        placeholders(chunk.len(), 12)
    );
    sql.push_str(
        " ON CONFLICT (instance_id, ecosystem, name, version) DO UPDATE SET \
         display_name = excluded.display_name, purl = excluded.purl, \
         modules = excluded.modules, loaded = excluded.loaded, tampered = excluded.tampered, \
         digest = excluded.digest, \
         loaded_since = COALESCE(observations.loaded_since, excluded.loaded_since)",
    );
    // Only placeholders are generated; every value is bound.
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for o in chunk {
        let loaded = !o.modules.is_empty();
        query = query
            .bind(instance_id)
            .bind(o.ecosystem)
            .bind(&o.name)
            .bind(&o.version)
            .bind(&o.display_name)
            .bind(&o.purl)
            .bind(&o.modules)
            .bind(i64::from(loaded))
            .bind(&o.tampered)
            .bind(&o.digest)
            .bind(now)
            .bind(loaded.then_some(now));
    }
    query
        .execute(&mut **tx)
        .await
        .doing("writing observations")?;
    Ok(())
}
