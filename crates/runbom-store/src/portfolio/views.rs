//! Read models for the dashboard and the query API: the portfolio overview (key risk
//! indicators), per-application, per-component and search views, trend snapshots, and the
//! change log and liveness upkeep the server runs.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::error::QueryContext;
use crate::portfolio::ingest::log_change;
use crate::{Store, StoreError};

/// A finding no analysis suppresses: the states are [`crate::SUPPRESSING_STATES`], SQL literals
/// of a fixed list of names (no input reaches them).
fn not_suppressed() -> String {
    let states: Vec<String> = crate::SUPPRESSING_STATES
        .iter()
        .map(|state| format!("'{state}'"))
        .collect();
    format!(
        "key NOT IN (SELECT key FROM finding_analyses WHERE state IN ({}))",
        states.join(", ")
    )
}

/// What a finding's time to detect counts from: when the server could first have known (the
/// later of the advisory's publication, its arrival and the component's first sighting); the
/// publication for findings opened before that was kept.
const SINCE: &str = "COALESCE(detectable_at, published_at)";

/// Report ids deleted per transaction by [`Store::forget_report_ids`].
const REPORT_IDS_PER_PRUNE: i64 = 10_000;

/// The portfolio's key risk indicators at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Overview {
    pub applications: i64,
    pub live_instances: i64,
    /// Distinct (name, version) loaded by some live instance.
    pub components_in_use: i64,
    /// Open vulnerability findings on loaded components, by severity.
    pub vulnerable_in_use: Vec<(String, i64)>,
    /// Open vulnerability findings on installed but never loaded components, by severity.
    pub vulnerable_installed: Vec<(String, i64)>,
    pub policy_violations: i64,
    pub unexpected_components: i64,
    pub drift: i64,
    pub tampered_files: i64,
    /// Open `outdated` findings: running a release too far behind the index's newest.
    #[serde(default)]
    pub outdated: i64,
    /// Open `yanked` findings: running a release its index yanked (PEP 592).
    #[serde(default)]
    pub yanked: i64,
    /// Mean seconds from when the server could first have known of a vulnerability (the later of
    /// the advisory's publication, its arrival in the store and the component's first sighting)
    /// to its finding; `None` before any. Suppressed findings (triaged `not_affected`,
    /// `false_positive` or `resolved`) count in no indicator.
    pub mean_seconds_to_detect: Option<i64>,
}

/// An application's line in the portfolio.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApplicationSummary {
    pub name: String,
    pub live_instances: i64,
    pub instances: i64,
    pub open_findings: i64,
    pub last_seen: Option<i64>,
}

/// One instance of an application.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstanceView {
    pub id: i64,
    pub environment: String,
    pub host: String,
    pub pid: i64,
    pub command: String,
    pub interpreter: String,
    /// The language its report names (`python`, `go`, …); `python` for reports of schema v1.
    pub language: String,
    pub started_at: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub gone: bool,
    pub complete: bool,
}

/// A component (name and version) as one application has it on its live instances.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ComponentUse {
    pub app: String,
    pub name: String,
    pub display_name: String,
    pub version: String,
    /// Live instances that have it installed / that loaded it.
    pub instances: i64,
    pub loaded_by: i64,
    /// Loaded module names (of one instance), one per line.
    pub modules: String,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SearchHit {
    /// `application`, `component` or `advisory`.
    pub kind: String,
    pub name: String,
}

/// A stored overview, for trend charts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KpiSnapshot {
    pub at: i64,
    pub overview: Overview,
}

fn count(row: &AnyRow, index: usize) -> Result<i64, sqlx::Error> {
    row.try_get(index)
}

impl Store {
    /// The key risk indicators now, of the whole portfolio.
    pub async fn overview(&self) -> Result<Overview, StoreError> {
        self.overview_of(None).await
    }

    /// The key risk indicators now, of the applications `apps` (every one for `None`): what a
    /// caller who sees only some applications is shown.
    pub async fn overview_of(&self, apps: Option<&[String]>) -> Result<Overview, StoreError> {
        let list = match apps {
            Some([]) => return Ok(Overview::default()),
            Some(apps) => crate::sql::list(1, apps.len()),
            None => String::new(),
        };
        let within = |column: &str| match apps {
            Some(_) => format!("{column} IN ({list})"),
            None => "1 = 1".to_owned(),
        };
        let (app_is, name_is, instance_is) = (within("app"), within("name"), within("i.app"));
        let not_suppressed = not_suppressed();
        let bind_apps = |sql: String| {
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for app in apps.unwrap_or_default() {
                query = query.bind(app);
            }
            query
        };
        let open = |kind: &str| {
            format!(
                "(SELECT COUNT(*) FROM findings WHERE resolved_at IS NULL AND kind = '{kind}' \
                 AND {app_is} AND {not_suppressed})"
            )
        };
        let row = bind_apps(format!(
            "SELECT (SELECT COUNT(*) FROM applications WHERE {name_is}), \
             (SELECT COUNT(*) FROM instances WHERE gone = 0 AND {app_is}), \
             (SELECT COUNT(*) FROM (SELECT DISTINCT o.name, o.version FROM observations o \
                JOIN instances i ON i.id = o.instance_id WHERE i.gone = 0 AND o.loaded = 1 \
                AND {instance_is}) AS c), {}, {}, {}, {}, {}, {}",
            open("policy"),
            open("unexpected"),
            open("drift"),
            open("tampered"),
            open("outdated"),
            open("yanked"),
        ))
        .fetch_one(self.pool())
        .await
        .doing("computing the overview")?;
        let mut overview = Overview {
            applications: count(&row, 0).doing("reading the overview")?,
            live_instances: count(&row, 1).doing("reading the overview")?,
            components_in_use: count(&row, 2).doing("reading the overview")?,
            policy_violations: count(&row, 3).doing("reading the overview")?,
            unexpected_components: count(&row, 4).doing("reading the overview")?,
            drift: count(&row, 5).doing("reading the overview")?,
            tampered_files: count(&row, 6).doing("reading the overview")?,
            outdated: count(&row, 7).doing("reading the overview")?,
            yanked: count(&row, 8).doing("reading the overview")?,
            ..Overview::default()
        };
        let rows = bind_apps(format!(
            "SELECT in_use, severity, COUNT(*) FROM findings \
             WHERE resolved_at IS NULL AND kind = 'vulnerable' AND {app_is} AND {not_suppressed} \
             GROUP BY in_use, severity ORDER BY in_use, severity"
        ))
        .fetch_all(self.pool())
        .await
        .doing("counting vulnerable components")?;
        for row in rows {
            let in_use: i64 = row.try_get(0).doing("reading severities")?;
            let severity: String = row.try_get(1).doing("reading severities")?;
            let n: i64 = row.try_get(2).doing("reading severities")?;
            if in_use != 0 {
                overview.vulnerable_in_use.push((severity, n));
            } else {
                overview.vulnerable_installed.push((severity, n));
            }
        }
        let row = bind_apps(format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM(opened_at - {SINCE}), 0) AS BIGINT) \
             FROM findings WHERE kind = 'vulnerable' AND {SINCE} IS NOT NULL \
             AND opened_at >= {SINCE} AND {app_is}"
        ))
        .fetch_one(self.pool())
        .await
        .doing("computing the time to detect")?;
        let (n, total): (i64, i64) = (
            row.try_get(0).doing("reading the time to detect")?,
            row.try_get(1).doing("reading the time to detect")?,
        );
        overview.mean_seconds_to_detect = (n > 0).then(|| total / n / 1000);
        Ok(overview)
    }

    /// Every application with its instance and finding counts.
    pub async fn application_summaries(&self) -> Result<Vec<ApplicationSummary>, StoreError> {
        sqlx::query(
            "SELECT a.name, \
             (SELECT COUNT(*) FROM instances i WHERE i.app = a.name AND i.gone = 0), \
             (SELECT COUNT(*) FROM instances i WHERE i.app = a.name), \
             (SELECT COUNT(*) FROM findings f WHERE f.app = a.name AND f.resolved_at IS NULL), \
             (SELECT MAX(i.last_seen) FROM instances i WHERE i.app = a.name) \
             FROM applications a ORDER BY a.name",
        )
        .fetch_all(self.pool())
        .await
        .doing("listing applications")?
        .iter()
        .map(|row| {
            Ok(ApplicationSummary {
                name: row.try_get(0)?,
                live_instances: row.try_get(1)?,
                instances: row.try_get(2)?,
                open_findings: row.try_get(3)?,
                last_seen: row.try_get(4)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading an application")
    }

    /// The instances of `app`, live first, newest first.
    pub async fn instances(&self, app: &str) -> Result<Vec<InstanceView>, StoreError> {
        sqlx::query(
            "SELECT id, environment, host, pid, command, interpreter, started_at, first_seen, \
             last_seen, gone, complete, language FROM instances WHERE app = $1 \
             ORDER BY gone, last_seen DESC, id DESC",
        )
        .bind(app)
        .fetch_all(self.pool())
        .await
        .doing("listing instances")?
        .iter()
        .map(|row| {
            Ok(InstanceView {
                id: row.try_get(0)?,
                environment: row.try_get(1)?,
                host: row.try_get(2)?,
                pid: row.try_get(3)?,
                command: row.try_get(4)?,
                interpreter: row.try_get(5)?,
                started_at: row.try_get(6)?,
                first_seen: row.try_get(7)?,
                last_seen: row.try_get(8)?,
                gone: row.try_get::<i64, _>(9)? != 0,
                complete: row.try_get::<i64, _>(10)? != 0,
                language: row.try_get(11)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading an instance")
    }

    /// Components on live instances, of one application (`app`) or of one component name
    /// (`name`) across applications.
    pub async fn component_uses(
        &self,
        app: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<ComponentUse>, StoreError> {
        sqlx::query(
            "SELECT i.app, o.name, MAX(o.display_name), o.version, COUNT(*), CAST(SUM(o.loaded) AS BIGINT), \
             MAX(o.modules) FROM observations o JOIN instances i ON i.id = o.instance_id \
             WHERE i.gone = 0 AND ($1 = '' OR i.app = $1) AND ($2 = '' OR o.name = $2) \
             GROUP BY i.app, o.name, o.version ORDER BY SUM(o.loaded) DESC, o.name, o.version, i.app",
        )
        .bind(app.unwrap_or(""))
        .bind(name.unwrap_or(""))
        .fetch_all(self.pool())
        .await
        .doing("listing components")?
        .iter()
        .map(|row| {
            Ok(ComponentUse {
                app: row.try_get(0)?,
                name: row.try_get(1)?,
                display_name: row.try_get(2)?,
                version: row.try_get(3)?,
                instances: row.try_get(4)?,
                loaded_by: row.try_get(5)?,
                modules: row.try_get(6)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading a component")
    }

    /// Applications, components and advisories whose name contains `text` (case-insensitive).
    pub async fn search(&self, text: &str, limit: i64) -> Result<Vec<SearchHit>, StoreError> {
        let pattern = format!(
            "%{}%",
            text.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        sqlx::query(
            "SELECT kind, name FROM ( \
             SELECT 'application' AS kind, name FROM applications WHERE LOWER(name) LIKE $1 ESCAPE '\\' \
             UNION SELECT DISTINCT 'component' AS kind, name FROM observations WHERE name LIKE $1 ESCAPE '\\' \
             UNION SELECT 'advisory' AS kind, id AS name FROM advisory_ids WHERE LOWER(id) LIKE $1 ESCAPE '\\' \
             ) AS hits ORDER BY kind, name LIMIT $2",
        )
        .bind(pattern)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .doing("searching")?
        .iter()
        .map(|row| {
            Ok(SearchHit {
                kind: row.try_get(0)?,
                name: row.try_get(1)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading a search hit")
    }

    /// Stores the overview for the trend charts.
    pub async fn save_snapshot(&self, at: i64, overview: &Overview) -> Result<(), StoreError> {
        let summary = serde_json::to_string(overview).unwrap_or_default();
        sqlx::query(
            "INSERT INTO kpi_snapshots (at, summary) VALUES ($1, $2) \
             ON CONFLICT (at) DO UPDATE SET summary = excluded.summary",
        )
        .bind(at)
        .bind(summary)
        .execute(self.pool())
        .await
        .doing("saving a trend snapshot")?;
        Ok(())
    }

    /// Trend snapshots taken at or after `since`, oldest first.
    pub async fn snapshots(&self, since: i64) -> Result<Vec<KpiSnapshot>, StoreError> {
        let rows = sqlx::query("SELECT at, summary FROM kpi_snapshots WHERE at >= $1 ORDER BY at")
            .bind(since)
            .fetch_all(self.pool())
            .await
            .doing("reading trend snapshots")?;
        let mut snapshots = Vec::with_capacity(rows.len());
        for row in rows {
            let at: i64 = row.try_get(0).doing("reading a trend snapshot")?;
            let summary: String = row.try_get(1).doing("reading a trend snapshot")?;
            if let Ok(overview) = serde_json::from_str(&summary) {
                snapshots.push(KpiSnapshot { at, overview });
            }
        }
        Ok(snapshots)
    }

    /// The newest change-log entry's id (0 when empty): what server processes poll.
    pub async fn change_watermark(&self) -> Result<i64, StoreError> {
        sqlx::query("SELECT COALESCE(MAX(id), 0) FROM change_log")
            .fetch_one(self.pool())
            .await
            .doing("reading the change log")?
            .try_get(0)
            .doing("reading the change log")
    }

    /// Change-log entries after `after`: `(id, kind, app)`, oldest first.
    pub async fn changes_since(
        &self,
        after: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        sqlx::query("SELECT id, kind, app FROM change_log WHERE id > $1 ORDER BY id LIMIT 1000")
            .bind(after)
            .fetch_all(self.pool())
            .await
            .doing("reading the change log")?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .doing("reading a change")
    }

    /// A value that changes whenever advisories are imported (by any process).
    pub async fn advisory_watermark(&self) -> Result<String, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM advisories), \
             (SELECT COALESCE(MAX(modified), '') FROM advisories), \
             (SELECT COALESCE(MAX(last_import), '') FROM advisory_sources)",
        )
        .fetch_one(self.pool())
        .await
        .doing("reading the advisory watermark")?;
        let n: i64 = row.try_get(0).doing("reading the advisory watermark")?;
        let modified: String = row.try_get(1).doing("reading the advisory watermark")?;
        let imported: String = row.try_get(2).doing("reading the advisory watermark")?;
        Ok(format!("{n}|{modified}|{imported}"))
    }

    /// Marks instances not heard from since `cutoff` as gone; returns their applications.
    ///
    /// `last_seen` is in no index (so that a heartbeat's update of it is cheap): this scans the
    /// live instances, first as a read, so that on SQLite the write lock is taken only when an
    /// instance went silent.
    pub async fn mark_gone(&self, cutoff: i64, now: i64) -> Result<Vec<String>, StoreError> {
        let silent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM instances WHERE gone = 0 AND last_seen < $1 \
             LIMIT 1) AS silent",
        )
        .bind(cutoff)
        .fetch_one(self.pool())
        .await
        .doing("looking for silent instances")?;
        if silent == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await.doing("starting liveness upkeep")?;
        let mut apps: Vec<String> = sqlx::query(
            "UPDATE instances SET gone = 1 WHERE gone = 0 AND last_seen < $1 RETURNING app",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await
        .doing("marking instances gone")?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .doing("reading a gone instance")?;
        apps.sort();
        apps.dedup();
        for app in &apps {
            log_change(&mut tx, "gone", app, now).await?;
        }
        tx.commit().await.doing("committing liveness upkeep")?;
        Ok(apps)
    }

    /// Forgets the ids of reports received before `cutoff` (Unix ms), at most
    /// [`REPORT_IDS_PER_PRUNE`] per transaction so that the write lock is never held for
    /// long; returns how many. A resend of a forgotten report is taken as new, which for a
    /// resend (the same state again) changes nothing but the instance's last-seen time.
    pub async fn forget_report_ids(&self, cutoff: i64) -> Result<u64, StoreError> {
        let mut forgotten = 0;
        loop {
            let mut tx = self
                .begin_write()
                .await
                .doing("starting report id upkeep")?;
            let deleted = sqlx::query(
                "DELETE FROM reports WHERE report_id IN \
                 (SELECT report_id FROM reports WHERE received_at < $1 LIMIT $2)",
            )
            .bind(cutoff)
            .bind(REPORT_IDS_PER_PRUNE)
            .execute(&mut *tx)
            .await
            .doing("forgetting old report ids")?
            .rows_affected();
            tx.commit().await.doing("committing report id upkeep")?;
            forgotten += deleted;
            if deleted < REPORT_IDS_PER_PRUNE.unsigned_abs() {
                return Ok(forgotten);
            }
        }
    }

    /// An advisory's OSV record (JSON) by id or alias.
    pub async fn advisory_record(&self, id: &str) -> Result<Option<String>, StoreError> {
        sqlx::query(
            "SELECT a.record FROM advisories a JOIN advisory_ids i ON i.advisory_id = a.id \
             WHERE i.id = $1 ORDER BY a.id LIMIT 1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .doing("reading an advisory")?
        .map(|row| row.try_get(0))
        .transpose()
        .doing("reading an advisory")
    }
}
