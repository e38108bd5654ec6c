//! Digest heartbeats: an instance that has not changed since its last full report says so with
//! its key and the state digest of that report. A heartbeat writes no row: it moves the
//! instance's `last_seen` when the digest is the one stored, and otherwise changes nothing and
//! says why (the instance is unknown, or the store holds another state), so that the sender
//! sends its full report. Heartbeats are idempotent: a resend needs no id to be remembered.

use std::collections::HashMap;

use runbom_model::RuntimeReport;
use sqlx::{AssertSqlSafe, Row};

use super::ingest::{ROWS_PER_STATEMENT, known_instances, state_digest_of_report};
use crate::error::QueryContext;
use crate::sql::placeholders;
use crate::{Engine, Store, StoreError};

/// The length of a state digest in hex digits (16 bytes of sha256).
pub const STATE_DIGEST_LEN: usize = 32;

/// The state digest the store keeps for `report`: what a heartbeat of the same state carries.
pub fn state_digest(report: &RuntimeReport) -> String {
    state_digest_of_report(report)
}

/// One heartbeat as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingHeartbeat {
    pub app: String,
    pub session_id: String,
    pub state_digest: String,
    /// When the server received it.
    pub received_at: i64,
}

/// What the store did with a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatOutcome {
    /// The instance is known in this state: it was seen now.
    Known { instance_id: i64 },
    /// No instance has this key: the sender must send a full report.
    UnknownInstance,
    /// The instance is known in another state: the sender must send a full report.
    OtherState,
}

impl Store {
    /// Takes a batch of heartbeats in one transaction: per [`ROWS_PER_STATEMENT`] distinct
    /// instances, one `UPDATE` of those whose digest matches, and for the others (rare once a
    /// fleet runs) one lookup saying why not. Several heartbeats of one instance in a batch cost
    /// what one does.
    pub async fn ingest_heartbeats(
        &self,
        batch: &[IncomingHeartbeat],
    ) -> Result<Vec<HeartbeatOutcome>, StoreError> {
        // The last heartbeat of each instance counts.
        let mut latest: HashMap<(&str, &str), &IncomingHeartbeat> = HashMap::new();
        for beat in batch {
            latest.insert((beat.app.as_str(), beat.session_id.as_str()), beat);
        }
        let distinct: Vec<&IncomingHeartbeat> = latest.into_values().collect();
        let mut tx = self
            .begin_write()
            .await
            .doing("starting a heartbeat batch")?;
        if self.engine() == Engine::Postgres {
            // A heartbeat's only write is `last_seen`: answered before PostgreSQL flushed it
            // to its WAL (no wait of a disk sync per batch). A PostgreSQL crash (not a restart)
            // loses at most the last ~0.6 s of such moves, never a report or a state: the
            // instance looks seen a little earlier, and its next write corrects it (at worst it
            // is marked gone in between, as if it had paused).
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await
                .doing("starting a heartbeat batch")?;
        }
        let mut seen: HashMap<(String, String, String), i64> = HashMap::new();
        for chunk in distinct.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "WITH beat (app, session_id, state_digest, last_seen) AS (VALUES {}) \
                 UPDATE instances SET last_seen = beat.last_seen, gone = 0 FROM beat \
                 WHERE instances.app = beat.app AND instances.session_id = beat.session_id \
                 AND instances.state_digest = beat.state_digest \
                 RETURNING instances.app, instances.session_id, instances.state_digest, \
                 instances.id",
                placeholders(chunk.len(), 4)
            );
            // Only placeholders are generated; every value is bound.
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for beat in chunk {
                query = query
                    .bind(&beat.app)
                    .bind(&beat.session_id)
                    .bind(&beat.state_digest)
                    .bind(beat.received_at);
            }
            for row in query.fetch_all(&mut *tx).await.doing("taking heartbeats")? {
                let key = (
                    row.try_get(0).doing("reading a heartbeat's instance")?,
                    row.try_get(1).doing("reading a heartbeat's instance")?,
                    row.try_get(2).doing("reading a heartbeat's instance")?,
                );
                seen.insert(key, row.try_get(3).doing("reading a heartbeat's instance")?);
            }
        }
        let known_of = |beat: &IncomingHeartbeat| {
            seen.get(&(
                beat.app.clone(),
                beat.session_id.clone(),
                beat.state_digest.clone(),
            ))
            .copied()
        };
        let missed = batch
            .iter()
            .filter(|beat| known_of(beat).is_none())
            .map(|beat| (beat.app.as_str(), beat.session_id.as_str()));
        let elsewhere = known_instances(&mut tx, missed).await?;
        tx.commit().await.doing("committing heartbeats")?;
        Ok(batch
            .iter()
            .map(|beat| match known_of(beat) {
                Some(instance_id) => HeartbeatOutcome::Known { instance_id },
                None if elsewhere.contains_key(&(beat.app.as_str(), beat.session_id.as_str())) => {
                    HeartbeatOutcome::OtherState
                }
                None => HeartbeatOutcome::UnknownInstance,
            })
            .collect())
    }
}
