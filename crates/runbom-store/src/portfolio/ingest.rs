//! Ingest of runtime reports, many per transaction. A report whose components equal what its
//! instance already has (a heartbeat) costs three small statements: it is remembered by id (so a
//! resend is a no-op) and moves the instance's `last_seen`. Only a report that changes something
//! touches observations, and then only the changed ones.

use std::collections::{BTreeMap, HashMap};

use runbom_model::runtime::{DistributionUse, FileIntegrity, RuntimeReport};
use sha2::{Digest, Sha256};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::error::QueryContext;
use crate::{Store, StoreError};

/// Observations written per `INSERT` statement (11 parameters each). Kept small: SQLite looks
/// each parameter up by name in a list, so binding costs grow with the square of the count
/// (at 100 rows, binding took more time than writing).
const OBSERVATIONS_PER_STATEMENT: usize = 20;

/// A validated report and the application its token belongs to.
#[derive(Debug, Clone)]
pub struct IncomingReport {
    pub app: String,
    pub report: RuntimeReport,
    /// When the server received it.
    pub received_at: i64,
}

/// What storing one report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored now; `changed` when the instance's components changed (or the instance is new).
    Stored { instance_id: i64, changed: bool },
    /// A report with this id was stored before: nothing was written.
    Duplicate,
}

impl Store {
    /// Stores a batch of reports in one transaction; each outcome is durable when this returns.
    pub async fn ingest_reports(
        &self,
        batch: &[IncomingReport],
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let mut tx = self.begin_write().await.doing("starting an ingest")?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut changed_apps = Vec::new();
        for incoming in batch {
            let outcome = ingest_one(&mut tx, incoming).await?;
            if matches!(outcome, IngestOutcome::Stored { changed: true, .. })
                && !changed_apps.contains(&incoming.app.as_str())
            {
                changed_apps.push(incoming.app.as_str());
            }
            outcomes.push(outcome);
        }
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

async fn ingest_one(
    tx: &mut Transaction<'_, Any>,
    incoming: &IncomingReport,
) -> Result<IngestOutcome, StoreError> {
    let report = &incoming.report;
    let now = incoming.received_at;
    let observations = observations_of(report);
    let state_digest = state_digest(&observations);
    let existing =
        sqlx::query("SELECT id, state_digest FROM instances WHERE app = $1 AND session_id = $2")
            .bind(&incoming.app)
            .bind(&report.session_id)
            .fetch_optional(&mut **tx)
            .await
            .doing("looking up an instance")?
            .map(|row| -> Result<(i64, String), sqlx::Error> {
                Ok((row.try_get(0)?, row.try_get(1)?))
            })
            .transpose()
            .doing("reading an instance")?;
    let changed = existing
        .as_ref()
        .is_none_or(|(_, digest)| *digest != state_digest);
    let inserted = sqlx::query(
        "INSERT INTO reports (report_id, instance_id, sequence, received_at, changed) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (report_id) DO NOTHING",
    )
    .bind(&report.report_id)
    .bind(existing.as_ref().map_or(0, |(id, _)| *id))
    .bind(i64::try_from(report.sequence).unwrap_or(i64::MAX))
    .bind(now)
    .bind(i64::from(changed))
    .execute(&mut **tx)
    .await
    .doing("recording a report id")?
    .rows_affected();
    if inserted == 0 {
        return Ok(IngestOutcome::Duplicate);
    }
    let instance_id = match existing {
        Some((id, _)) => id,
        None => insert_instance(tx, incoming, &state_digest).await?,
    };
    if changed {
        write_observations(tx, instance_id, &observations, now).await?;
    }
    sqlx::query(
        "UPDATE instances SET last_seen = $1, gone = 0, complete = $2, state_digest = $3 \
         WHERE id = $4",
    )
    .bind(now)
    .bind(i64::from(report.complete))
    .bind(&state_digest)
    .bind(instance_id)
    .execute(&mut **tx)
    .await
    .doing("updating an instance's heartbeat")?;
    Ok(IngestOutcome::Stored {
        instance_id,
        changed,
    })
}

async fn insert_instance(
    tx: &mut Transaction<'_, Any>,
    incoming: &IncomingReport,
    state_digest: &str,
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
         started_at, first_seen, last_seen, gone, complete, state_digest) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 0, 0, $10) RETURNING id",
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
    .bind(state_digest)
    .fetch_one(&mut **tx)
    .await
    .doing("registering an instance")?;
    let id: i64 = row.try_get(0).doing("reading a new instance id")?;
    sqlx::query("UPDATE reports SET instance_id = $1 WHERE report_id = $2")
        .bind(id)
        .bind(&report.report_id)
        .execute(&mut **tx)
        .await
        .doing("linking a report to its instance")?;
    Ok(id)
}

/// One row of `observations`, as a report describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observation {
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
        dist.name.as_str(),
        dist.purl.as_str(),
        modules.as_str(),
        tampered.as_str(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    Observation {
        name: dist.normalized_name.as_str().to_owned(),
        version: dist.version.clone(),
        display_name: dist.name.clone(),
        purl: dist.purl.clone(),
        modules,
        tampered,
        digest: hex::encode(&hasher.finalize()[..12]),
    }
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

/// Brings an instance's observations to `observations`, writing only the rows that differ.
async fn write_observations(
    tx: &mut Transaction<'_, Any>,
    instance_id: i64,
    observations: &[Observation],
    now: i64,
) -> Result<(), StoreError> {
    let stored: HashMap<(String, String), String> =
        sqlx::query("SELECT name, version, digest FROM observations WHERE instance_id = $1")
            .bind(instance_id)
            .fetch_all(&mut **tx)
            .await
            .doing("reading an instance's observations")?
            .iter()
            .map(|row| Ok(((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .doing("reading an observation")?;
    let wanted: BTreeMap<(&str, &str), &Observation> = observations
        .iter()
        .map(|o| ((o.name.as_str(), o.version.as_str()), o))
        .collect();
    let changed: Vec<&Observation> = wanted
        .values()
        .filter(|o| stored.get(&(o.name.clone(), o.version.clone())) != Some(&o.digest))
        .copied()
        .collect();
    for chunk in changed.chunks(OBSERVATIONS_PER_STATEMENT) {
        upsert_observations(tx, instance_id, chunk, now).await?;
    }
    for (name, version) in stored.keys() {
        if !wanted.contains_key(&(name.as_str(), version.as_str())) {
            sqlx::query(
                "DELETE FROM observations WHERE instance_id = $1 AND name = $2 AND version = $3",
            )
            .bind(instance_id)
            .bind(name)
            .bind(version)
            .execute(&mut **tx)
            .await
            .doing("removing an observation")?;
        }
    }
    Ok(())
}

async fn upsert_observations(
    tx: &mut Transaction<'_, Any>,
    instance_id: i64,
    chunk: &[&Observation],
    now: i64,
) -> Result<(), StoreError> {
    let mut sql = String::from(
        "INSERT INTO observations (instance_id, name, version, display_name, purl, modules, \
         loaded, tampered, digest, first_seen, loaded_since) VALUES ",
    );
    for i in 0..chunk.len() {
        let p = i * 11;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(
            &(1..=11)
                .map(|k| format!("${}", p + k))
                .collect::<Vec<_>>()
                .join(", "),
        );
        sql.push(')');
    }
    sql.push_str(
        " ON CONFLICT (instance_id, name, version) DO UPDATE SET \
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
