//! Findings: derived from the portfolio, stored so that each is opened once (the key makes an
//! alert unique even when several server processes recompute at once) and resolved when it no
//! longer holds.

use std::collections::{HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::error::QueryContext;
use crate::portfolio::ingest::log_change;
use crate::portfolio::triage::{Analysis, analyses_of, evidence_of, reopen_analysis};
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
    /// When some live instance of the application first reported it.
    pub first_seen: i64,
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
    /// When the record first arrived in the store; `None` when it came before arrivals were kept.
    pub stored_at: Option<i64>,
}

/// A finding as computed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    /// Unique per (application, kind, component, advisory).
    pub key: String,
    pub kind: String,
    pub severity: String,
    /// The OSV name of the component's ecosystem (`PyPI`, `Go`); `` when unknown (a finding
    /// stored before findings kept it, whose component is no longer observed).
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub advisory_id: String,
    pub in_use: bool,
    pub summary: String,
    /// JSON: the affected instances and kind-specific facts.
    pub detail: String,
    pub published_at: Option<i64>,
    /// When the server could first have known: the later of the advisory's publication, its
    /// arrival in the store and the component's first sighting.
    pub detectable_at: Option<i64>,
    /// Which of those it is: `published`, `stored` or `first_seen` (`` when not about one).
    pub detectable_from: String,
}

/// Why an alert is sent about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertReason {
    /// Opened (new, or again after it was resolved) and not suppressed by its analysis.
    Opened,
    /// Its analysis suppressed it, and its evidence changed since: the analysis reopened.
    EvidenceChanged,
}

/// A finding to alert about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub reason: AlertReason,
    pub finding: FindingRecord,
}

/// A stored finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecord {
    pub app: String,
    pub finding: NewFinding,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    /// Its triage, when someone triaged it.
    pub analysis: Option<Analysis>,
}

pub(crate) const FINDING_COLUMNS: &str = "f.key, f.app, f.kind, f.severity, f.ecosystem, f.name, f.version, \
     f.advisory_id, f.in_use, f.summary, f.detail, f.published_at, f.opened_at, f.resolved_at, \
     f.detectable_at, f.detectable_from, a.key AS analysis_key, a.state, a.justification, \
     a.response, a.detail AS analysis_detail, a.evidence, a.updated_by, a.updated_at";

/// The findings table with each finding's analysis, if any.
pub(crate) const FINDINGS_WITH_ANALYSES: &str =
    "findings f LEFT JOIN finding_analyses a ON a.key = f.key";

impl FindingRecord {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(FindingRecord {
            app: row.try_get("app")?,
            finding: NewFinding {
                key: row.try_get("key")?,
                kind: row.try_get("kind")?,
                severity: row.try_get("severity")?,
                ecosystem: row.try_get("ecosystem")?,
                name: row.try_get("name")?,
                version: row.try_get("version")?,
                advisory_id: row.try_get("advisory_id")?,
                in_use: row.try_get::<i64, _>("in_use")? != 0,
                summary: row.try_get("summary")?,
                detail: row.try_get("detail")?,
                published_at: row.try_get("published_at")?,
                detectable_at: row.try_get("detectable_at")?,
                detectable_from: row.try_get("detectable_from")?,
            },
            opened_at: row.try_get("opened_at")?,
            resolved_at: row.try_get("resolved_at")?,
            analysis: Analysis::from_joined_row(row)?,
        })
    }
}

/// Severity × runtime use of a finding `f`, as SQL: what [`Store::findings`] orders by.
const URGENCY: &str = "(CASE f.severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4 \
     WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END) * (CASE WHEN f.in_use <> 0 THEN 2 ELSE 1 END)";

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
             string_agg(CAST(o.instance_id AS TEXT), ','), o.ecosystem, min(o.first_seen) \
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
                    first_seen: row.try_get(6)?,
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
            "SELECT DISTINCT o.name, o.version, a.id, a.record, o.ecosystem, r.stored_at \
             FROM observations o JOIN instances i ON i.id = o.instance_id \
             JOIN advisory_packages p ON p.ecosystem = o.ecosystem AND p.name = o.name \
             JOIN advisories a ON a.id = p.advisory_id \
             LEFT JOIN advisory_arrivals r ON r.id = a.id \
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
                stored_at: row.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading an advisory match")
    }

    /// The records of the vulnerabilities [`Store::advisory_matches`] found that name none of
    /// `app`'s components: the other records of the same vulnerability (linked through a shared
    /// id, e.g. a `CVE-…` record or a `GHSA-…` one filed under another package), whose CVSS
    /// vectors rate a finding its own records leave unrated. Sorted by id.
    pub async fn alias_records(&self, app: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT b.id, b.record FROM advisories b WHERE b.withdrawn IS NULL \
             AND b.vuln_group IN (SELECT a.vuln_group FROM observations o \
               JOIN instances i ON i.id = o.instance_id \
               JOIN advisory_packages p ON p.ecosystem = o.ecosystem AND p.name = o.name \
               JOIN advisories a ON a.id = p.advisory_id \
               WHERE i.app = $1 AND i.gone = 0 AND a.withdrawn IS NULL) \
             AND NOT EXISTS (SELECT 1 FROM advisory_packages q \
               JOIN observations o ON o.ecosystem = q.ecosystem AND o.name = q.name \
               JOIN instances i ON i.id = o.instance_id \
               WHERE q.advisory_id = b.id AND i.app = $1 AND i.gone = 0) \
             ORDER BY b.id",
        )
        .bind(app)
        .fetch_all(self.pool())
        .await
        .doing("reading the aliases of matched advisories")?
        .iter()
        .map(|row| row.try_get(1))
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading an alias record")
    }

    /// Makes `app`'s open findings equal `current`: opens the new ones, updates the evidence
    /// (in use or not) of open ones, resolves those that no longer hold, and returns what to
    /// alert about, each exactly once across all server processes: a finding opened now unless
    /// its analysis suppresses it on the same evidence, and a suppressed finding whose evidence
    /// changed (its analysis reopens to `in_triage`, in the audit trail).
    pub async fn sync_findings(
        &self,
        app: &str,
        current: &[NewFinding],
        now: i64,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut tx = self
            .begin_write()
            .await
            .doing("starting a findings update")?;
        let open: HashMap<String, bool> =
            sqlx::query("SELECT key, in_use FROM findings WHERE app = $1 AND resolved_at IS NULL")
                .bind(app)
                .fetch_all(&mut *tx)
                .await
                .doing("reading open findings")?
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get::<i64, _>(1)? != 0)))
                .collect::<Result<_, sqlx::Error>>()
                .doing("reading a finding key")?;
        let analyses = analyses_of(&mut tx, app).await?;
        let mut alerts = Vec::new();
        let mut changed = false;
        for finding in current {
            let opened = match open.get(&finding.key) {
                None if open_finding(&mut tx, app, finding, now).await? => true,
                Some(in_use) if *in_use != finding.in_use => {
                    if !update_evidence(&mut tx, finding, *in_use).await? {
                        continue;
                    }
                    false
                }
                _ => continue,
            };
            changed = true;
            let analysis = analyses.get(&finding.key);
            let reason = match analysis {
                Some(a) if a.suppresses() && a.evidence == evidence_of(finding) => continue,
                Some(a) if a.suppresses() => {
                    reopen_analysis(&mut tx, app, finding, a, now).await?;
                    AlertReason::EvidenceChanged
                }
                _ if opened => AlertReason::Opened,
                _ => continue,
            };
            alerts.push(Alert {
                reason,
                finding: FindingRecord {
                    app: app.to_owned(),
                    finding: finding.clone(),
                    opened_at: now,
                    resolved_at: None,
                    analysis: analysis.cloned(),
                },
            });
        }
        let current_keys: HashSet<&str> = current.iter().map(|f| f.key.as_str()).collect();
        for key in open.keys().filter(|k| !current_keys.contains(k.as_str())) {
            changed |= sqlx::query(
                "UPDATE findings SET resolved_at = $1 WHERE key = $2 AND resolved_at IS NULL",
            )
            .bind(now)
            .bind(key)
            .execute(&mut *tx)
            .await
            .doing("resolving a finding")?
            .rows_affected()
                > 0;
        }
        if changed {
            log_change(&mut tx, "finding", app, now).await?;
        }
        tx.commit().await.doing("committing findings")?;
        Ok(alerts)
    }

    /// Findings, open ones only unless `include_resolved`, optionally of one application, most
    /// urgent first: by severity × runtime use (critical 5 … low 2, unknown or none 1; twice that
    /// when in use), then newest first.
    pub async fn findings(
        &self,
        app: Option<&str>,
        include_resolved: bool,
    ) -> Result<Vec<FindingRecord>, StoreError> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM {FINDINGS_WITH_ANALYSES} WHERE ($1 = '' OR f.app = $1) \
             AND ($2 = 1 OR f.resolved_at IS NULL) ORDER BY {URGENCY} DESC, f.opened_at DESC, f.key"
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
            "SELECT {FINDING_COLUMNS} FROM {FINDINGS_WITH_ANALYSES} WHERE f.advisory_id = $1 \
             ORDER BY f.opened_at DESC, f.key"
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
         summary, detail, published_at, opened_at, resolved_at, detectable_at, detectable_from, \
         ecosystem) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, $13, $14, $15) \
         ON CONFLICT (key) DO UPDATE SET severity = excluded.severity, in_use = excluded.in_use, \
         ecosystem = excluded.ecosystem, \
         summary = excluded.summary, detail = excluded.detail, opened_at = excluded.opened_at, \
         detectable_at = excluded.detectable_at, detectable_from = excluded.detectable_from, \
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
    .bind(f.detectable_at)
    .bind(&f.detectable_from)
    .bind(&f.ecosystem)
    .execute(&mut **tx)
    .await
    .doing("opening a finding")?;
    Ok(done.rows_affected() > 0)
}

/// Updates an open finding whose evidence changed; false when another process did first.
async fn update_evidence(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    f: &NewFinding,
    was_in_use: bool,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE findings SET in_use = $1, severity = $2, summary = $3, detail = $4 \
         WHERE key = $5 AND in_use = $6 AND resolved_at IS NULL",
    )
    .bind(i64::from(f.in_use))
    .bind(&f.severity)
    .bind(&f.summary)
    .bind(&f.detail)
    .bind(&f.key)
    .bind(i64::from(was_in_use))
    .execute(&mut **tx)
    .await
    .doing("updating a finding's evidence")?;
    Ok(done.rows_affected() > 0)
}
