//! Refused imports (issue 18): stored from each report that carries them, once per instance,
//! process, module and file, and read back for an application's live instances so that the
//! server derives a `refused` finding naming host, pid and the importing module.

use runbom_model::runtime::RuntimeReport;
use sqlx::{Any, Row, Transaction};

use crate::error::QueryContext;
use crate::{Store, StoreError};

/// One refused (or would-be refused) import on a live instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRefusal {
    pub host: String,
    /// The language of the instance that refused (`python`, `ruby`, …).
    pub language: String,
    pub pid: i64,
    pub module: String,
    pub file: String,
    /// Empty when no distribution owns the file.
    pub distribution: String,
    pub version: String,
    pub rule: String,
    pub why: String,
    pub config_line: i64,
    /// Empty when the hook could not tell.
    pub importer: String,
    /// False for "would refuse" (monitor mode).
    pub enforced: bool,
    pub at: String,
}

/// Stores the report's refusals not stored before; true when there was a new one.
pub(crate) async fn store_refusals(
    tx: &mut Transaction<'_, Any>,
    instance_id: i64,
    report: &RuntimeReport,
) -> Result<bool, StoreError> {
    let mut new = false;
    for r in &report.refusals {
        let inserted = sqlx::query(
            "INSERT INTO refusals (instance_id, pid, module, file, distribution, version, rule, \
             why, config_line, importer, enforced, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (instance_id, pid, module, file) DO NOTHING",
        )
        .bind(instance_id)
        .bind(i64::from(r.pid))
        .bind(&r.module)
        .bind(
            r.file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
        )
        .bind(r.distribution.clone().unwrap_or_default())
        .bind(r.version.clone().unwrap_or_default())
        .bind(r.rule.as_str())
        .bind(&r.why)
        .bind(i64::try_from(r.config_line).unwrap_or(0))
        .bind(r.importer.clone().unwrap_or_default())
        .bind(i64::from(r.enforced))
        .bind(&r.at)
        .execute(&mut **tx)
        .await
        .doing("storing a refused import")?;
        new |= inserted.rows_affected() > 0;
    }
    Ok(new)
}

impl Store {
    /// The refused imports on `app`'s live instances, in the order they happened.
    pub async fn live_refusals(&self, app: &str) -> Result<Vec<LiveRefusal>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.host, r.pid, r.module, r.file, r.distribution, r.version, r.rule, r.why, \
             r.config_line, r.importer, r.enforced, r.at, i.language \
             FROM refusals r JOIN instances i ON i.id = r.instance_id \
             WHERE i.app = $1 AND i.gone = 0 ORDER BY r.at, i.host, r.pid, r.module",
        )
        .bind(app)
        .fetch_all(self.pool())
        .await
        .doing("reading refused imports")?;
        rows.iter()
            .map(|row| -> Result<LiveRefusal, sqlx::Error> {
                let enforced: i64 = row.try_get(10)?;
                Ok(LiveRefusal {
                    host: row.try_get(0)?,
                    pid: row.try_get(1)?,
                    module: row.try_get(2)?,
                    file: row.try_get(3)?,
                    distribution: row.try_get(4)?,
                    version: row.try_get(5)?,
                    rule: row.try_get(6)?,
                    why: row.try_get(7)?,
                    config_line: row.try_get(8)?,
                    importer: row.try_get(9)?,
                    enforced: enforced != 0,
                    at: row.try_get(11)?,
                    language: row.try_get(12)?,
                })
            })
            .collect::<Result<_, _>>()
            .doing("reading a refused import")
    }
}
