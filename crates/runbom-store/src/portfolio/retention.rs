//! Retention: what the store forgets so that it grows with what changes, not with time — gone
//! instances (with their observations, refusals and report ids), trend snapshots, finished
//! webhook deliveries and the change log. Each is deleted in bounded steps (at most
//! [`ROWS_PER_STEP`] rows a transaction) so that the write lock is never held for long.
//! Report ids have their own upkeep ([`Store::forget_report_ids`]).

use sqlx::{AssertSqlSafe, Row};

use crate::error::QueryContext;
use crate::sql::list;
use crate::{Store, StoreError};

/// Rows deleted per transaction at most.
const ROWS_PER_STEP: i64 = 500;

/// What to forget: everything older than each cutoff (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Instances marked gone and not seen since.
    pub gone_instances: i64,
    /// Trend snapshots taken before.
    pub snapshots: i64,
    /// Webhook deliveries delivered or failed for good, created before.
    pub deliveries: i64,
    /// Change-log entries written before (every process has long polled them).
    pub changes: i64,
}

/// How many rows of each kind were forgotten.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub instances: u64,
    pub snapshots: u64,
    pub deliveries: u64,
    pub changes: u64,
}

impl Store {
    /// Forgets what is older than `cutoffs`; see the module documentation.
    pub async fn forget_old(&self, cutoffs: &Cutoffs) -> Result<Forgotten, StoreError> {
        Ok(Forgotten {
            instances: self.forget_gone_instances(cutoffs.gone_instances).await?,
            snapshots: self
                .forget_rows(
                    "kpi_snapshots",
                    "at",
                    "at < $1",
                    cutoffs.snapshots,
                    "forgetting trend snapshots",
                )
                .await?,
            deliveries: self
                .forget_rows(
                    "webhook_deliveries",
                    "id",
                    "status IN ('delivered', 'failed') AND created_at < $1",
                    cutoffs.deliveries,
                    "forgetting finished deliveries",
                )
                .await?,
            changes: self
                .forget_rows(
                    "change_log",
                    "id",
                    "at < $1",
                    cutoffs.changes,
                    "forgetting the old change log",
                )
                .await?,
        })
    }

    /// Deletes the rows of `table` matching `condition` (with `$1` the cutoff), by `key`, in
    /// steps of [`ROWS_PER_STEP`].
    async fn forget_rows(
        &self,
        table: &str,
        key: &str,
        condition: &str,
        cutoff: i64,
        doing: &'static str,
    ) -> Result<u64, StoreError> {
        // Only this module's constants reach the SQL text; the cutoff is bound.
        let sql = format!(
            "DELETE FROM {table} WHERE {key} IN \
             (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)"
        );
        let mut forgotten = 0;
        loop {
            let mut tx = self.begin_write().await.doing(doing)?;
            let deleted = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(cutoff)
                .bind(ROWS_PER_STEP)
                .execute(&mut *tx)
                .await
                .doing(doing)?
                .rows_affected();
            tx.commit().await.doing(doing)?;
            forgotten += deleted;
            if deleted < ROWS_PER_STEP.unsigned_abs() {
                return Ok(forgotten);
            }
        }
    }

    /// Deletes instances gone and not seen since `cutoff`, with every row that hangs off them.
    async fn forget_gone_instances(&self, cutoff: i64) -> Result<u64, StoreError> {
        let doing = "forgetting gone instances";
        let mut forgotten = 0;
        loop {
            let mut tx = self.begin_write().await.doing(doing)?;
            let ids: Vec<i64> = sqlx::query(
                "SELECT id FROM instances WHERE gone = 1 AND last_seen < $1 ORDER BY id LIMIT $2",
            )
            .bind(cutoff)
            .bind(ROWS_PER_STEP)
            .fetch_all(&mut *tx)
            .await
            .doing(doing)?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .doing(doing)?;
            if !ids.is_empty() {
                for (table, column) in [
                    ("observations", "instance_id"),
                    ("refusals", "instance_id"),
                    ("reports", "instance_id"),
                    ("instances", "id"),
                ] {
                    let sql = format!(
                        "DELETE FROM {table} WHERE {column} IN ({})",
                        list(1, ids.len())
                    );
                    // Only placeholders and this function's names are generated; ids are bound.
                    let mut query = sqlx::query(AssertSqlSafe(sql));
                    for id in &ids {
                        query = query.bind(*id);
                    }
                    query.execute(&mut *tx).await.doing(doing)?;
                }
            }
            tx.commit().await.doing(doing)?;
            forgotten += ids.len() as u64;
            if ids.len() < ROWS_PER_STEP.unsigned_abs() as usize {
                return Ok(forgotten);
            }
        }
    }
}
