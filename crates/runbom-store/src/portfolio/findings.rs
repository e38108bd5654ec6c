//! Findings: derived from the portfolio, stored so that each is opened once (the key makes an
//! alert unique even when several server processes recompute at once) and resolved when it no
//! longer holds.

use std::collections::{HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::error::QueryContext;
use crate::portfolio::ingest::log_change;
use crate::{Store, StoreError};

/// One component on an application's live instances, summed over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveComponent {
    /// The OSV name, e.g. `PyPI`, `Go`.
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    /// Loaded by at least one live instance.
    pub loaded: bool,
    /// Files of it whose sha256 differs from RECORD (one instance's list), one per line.
    pub tampered: String,
    /// The live instances that have it: `(host, pid)` each.
    pub instances: Vec<(String, i64)>,
}

/// An advisory naming a component some live instance of an application has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryMatch {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub advisory_id: String,
    /// The OSV record as JSON.
    pub record: String,
}

/// A finding as computed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    /// Unique per (application, kind, component, advisory).
    pub key: String,
    pub kind: String,
    pub severity: String,
    pub name: String,
    pub version: String,
    pub advisory_id: String,
    pub in_use: bool,
    pub summary: String,
    /// JSON: the affected instances and kind-specific facts.
    pub detail: String,
    pub published_at: Option<i64>,
}

/// A stored finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecord {
    pub app: String,
    pub finding: NewFinding,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
}

const FINDING_COLUMNS: &str = "key, app, kind, severity, name, version, advisory_id, in_use, \
                               summary, detail, published_at, opened_at, resolved_at";

impl FindingRecord {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(FindingRecord {
            app: row.try_get("app")?,
            finding: NewFinding {
                key: row.try_get("key")?,
                kind: row.try_get("kind")?,
                severity: row.try_get("severity")?,
                name: row.try_get("name")?,
                version: row.try_get("version")?,
                advisory_id: row.try_get("advisory_id")?,
                in_use: row.try_get::<i64, _>("in_use")? != 0,
                summary: row.try_get("summary")?,
                detail: row.try_get("detail")?,
                published_at: row.try_get("published_at")?,
            },
            opened_at: row.try_get("opened_at")?,
            resolved_at: row.try_get("resolved_at")?,
        })
    }
}

impl Store {
    /// Every application name, sorted.
    pub async fn application_names(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query("SELECT name FROM applications ORDER BY name")
            .fetch_all(self.pool())
            .await
            .doing("listing applications")?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .doing("reading an application")
    }

    /// The components on `app`'s live instances.
    ///
    /// Summed in the engine: one row per component with the ids of the instances that have it
    /// (integers, so a comma-separated list is safe), and one row per live instance; not one
    /// row per instance and component, which for a fleet is their product.
    pub async fn live_components(&self, app: &str) -> Result<Vec<LiveComponent>, StoreError> {
        let instances = self.live_instance_names(app).await?;
        let rows = sqlx::query(
            "SELECT o.name, o.version, max(o.loaded), max(o.tampered), \
             string_agg(CAST(o.instance_id AS TEXT), ','), o.ecosystem \
             FROM observations o JOIN instances i ON i.id = o.instance_id \
             WHERE i.app = $1 AND i.gone = 0 GROUP BY o.ecosystem, o.name, o.version \
             ORDER BY o.ecosystem, o.name, o.version",
        )
        .bind(app)
        .fetch_all(self.pool())
        .await
        .doing("reading live components")?;
        rows.iter()
            .map(|row| -> Result<LiveComponent, sqlx::Error> {
                let loaded: i64 = row.try_get(2)?;
                let ids: String = row.try_get(4)?;
                let mut on: Vec<(String, i64)> = ids
                    .split(',')
                    .filter_map(|id| instances.get(&id.parse::<i64>().ok()?).cloned())
                    .collect();
                on.sort_unstable();
                Ok(LiveComponent {
                    ecosystem: row.try_get(5)?,
                    name: row.try_get(0)?,
                    version: row.try_get(1)?,
                    loaded: loaded != 0,
                    tampered: row.try_get(3)?,
                    instances: on,
                })
            })
            .collect::<Result<_, _>>()
            .doing("reading a component")
    }

    /// `(host, pid)` of each live instance of `app`, by id.
    async fn live_instance_names(
        &self,
        app: &str,
    ) -> Result<HashMap<i64, (String, i64)>, StoreError> {
        sqlx::query("SELECT id, host, pid FROM instances WHERE app = $1 AND gone = 0")
            .bind(app)
            .fetch_all(self.pool())
            .await
            .doing("reading live instances")?
            .iter()
            .map(|row| Ok((row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?))))
            .collect::<Result<_, sqlx::Error>>()
            .doing("reading a live instance")
    }

    /// The advisories (not withdrawn) naming a component of `app`'s live instances.
    pub async fn advisory_matches(&self, app: &str) -> Result<Vec<AdvisoryMatch>, StoreError> {
        sqlx::query(
            "SELECT DISTINCT o.name, o.version, a.id, a.record, o.ecosystem \
             FROM observations o JOIN instances i ON i.id = o.instance_id \
             JOIN advisory_packages p ON p.ecosystem = o.ecosystem AND p.name = o.name \
             JOIN advisories a ON a.id = p.advisory_id \
             WHERE i.app = $1 AND i.gone = 0 AND a.withdrawn IS NULL \
             ORDER BY o.ecosystem, o.name, o.version, a.id",
        )
        .bind(app)
        .fetch_all(self.pool())
        .await
        .doing("matching advisories")?
        .iter()
        .map(|row| {
            Ok(AdvisoryMatch {
                ecosystem: row.try_get(4)?,
                name: row.try_get(0)?,
                version: row.try_get(1)?,
                advisory_id: row.try_get(2)?,
                record: row.try_get(3)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading an advisory match")
    }

    /// Makes `app`'s open findings equal `current`: opens the new ones (returned, each exactly
    /// once across all server processes) and resolves those that no longer hold.
    pub async fn sync_findings(
        &self,
        app: &str,
        current: &[NewFinding],
        now: i64,
    ) -> Result<Vec<FindingRecord>, StoreError> {
        let mut tx = self
            .begin_write()
            .await
            .doing("starting a findings update")?;
        let open: HashSet<String> =
            sqlx::query("SELECT key FROM findings WHERE app = $1 AND resolved_at IS NULL")
                .bind(app)
                .fetch_all(&mut *tx)
                .await
                .doing("reading open findings")?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()
                .doing("reading a finding key")?;
        let mut opened = Vec::new();
        for finding in current.iter().filter(|f| !open.contains(&f.key)) {
            if open_finding(&mut tx, app, finding, now).await? {
                opened.push(FindingRecord {
                    app: app.to_owned(),
                    finding: finding.clone(),
                    opened_at: now,
                    resolved_at: None,
                });
            }
        }
        let current_keys: HashSet<&str> = current.iter().map(|f| f.key.as_str()).collect();
        let mut resolved = 0;
        for key in open.iter().filter(|k| !current_keys.contains(k.as_str())) {
            resolved += sqlx::query(
                "UPDATE findings SET resolved_at = $1 WHERE key = $2 AND resolved_at IS NULL",
            )
            .bind(now)
            .bind(key)
            .execute(&mut *tx)
            .await
            .doing("resolving a finding")?
            .rows_affected();
        }
        if !opened.is_empty() || resolved > 0 {
            log_change(&mut tx, "finding", app, now).await?;
        }
        tx.commit().await.doing("committing findings")?;
        Ok(opened)
    }

    /// Findings, open ones only unless `include_resolved`, optionally of one application,
    /// newest first.
    pub async fn findings(
        &self,
        app: Option<&str>,
        include_resolved: bool,
    ) -> Result<Vec<FindingRecord>, StoreError> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE ($1 = '' OR app = $1) \
             AND ($2 = 1 OR resolved_at IS NULL) ORDER BY opened_at DESC, key"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(app.unwrap_or(""))
            .bind(i64::from(include_resolved))
            .fetch_all(self.pool())
            .await
            .doing("listing findings")?
            .iter()
            .map(FindingRecord::from_row)
            .collect::<Result<_, _>>()
            .doing("reading a finding")
    }

    /// The findings about one vulnerability (any of its `ids`), open and resolved, newest first.
    pub async fn findings_for_advisory(
        &self,
        ids: &[String],
    ) -> Result<Vec<FindingRecord>, StoreError> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE advisory_id = $1 ORDER BY opened_at DESC, key"
        );
        let mut findings = Vec::new();
        for id in ids {
            let rows = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_all(self.pool())
                .await
                .doing("listing an advisory's findings")?;
            for row in &rows {
                findings.push(FindingRecord::from_row(row).doing("reading a finding")?);
            }
        }
        findings.sort_by(|a, b| {
            b.opened_at
                .cmp(&a.opened_at)
                .then(a.finding.key.cmp(&b.finding.key))
        });
        findings.dedup_by(|a, b| a.finding.key == b.finding.key);
        Ok(findings)
    }
}

/// Opens a finding (new, or re-opened after being resolved); false when another process
/// opened it first.
async fn open_finding(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app: &str,
    f: &NewFinding,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO findings (key, app, kind, severity, name, version, advisory_id, in_use, \
         summary, detail, published_at, opened_at, resolved_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL) \
         ON CONFLICT (key) DO UPDATE SET severity = excluded.severity, in_use = excluded.in_use, \
         summary = excluded.summary, detail = excluded.detail, opened_at = excluded.opened_at, \
         resolved_at = NULL WHERE findings.resolved_at IS NOT NULL",
    )
    .bind(&f.key)
    .bind(app)
    .bind(&f.kind)
    .bind(&f.severity)
    .bind(&f.name)
    .bind(&f.version)
    .bind(&f.advisory_id)
    .bind(i64::from(f.in_use))
    .bind(&f.summary)
    .bind(&f.detail)
    .bind(f.published_at)
    .bind(now)
    .execute(&mut **tx)
    .await
    .doing("opening a finding")?;
    Ok(done.rows_affected() > 0)
}
