//! Triage: each finding's analysis (CycloneDX's state, justification, responses and detail,
//! with the evidence it was made on) and the audit trail of every change to it.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::error::QueryContext;
use crate::portfolio::findings::{FindingRecord, NewFinding};
use crate::portfolio::ingest::log_change;
use crate::{Store, StoreError};

/// The analysis states that take a finding out of the key risk indicators and its alerts.
pub const SUPPRESSING_STATES: [&str; 3] = ["not_affected", "false_positive", "resolved"];

/// Who reopens an analysis whose finding's evidence changed, in the audit trail.
pub const DETECTOR: &str = "runbom (evidence changed)";

/// A finding's triage.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Analysis {
    pub state: String,
    /// A CycloneDX justification; empty unless `not_affected`.
    pub justification: String,
    /// CycloneDX responses (`can_not_fix`, `will_not_fix`, `update`, `rollback`,
    /// `workaround_available`).
    pub response: Vec<String>,
    pub detail: String,
    /// The finding's evidence when it was triaged: `loaded` or `installed`.
    pub evidence: String,
    pub updated_by: String,
    pub updated_at: i64,
}

/// One change to an analysis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub actor: String,
    pub at: i64,
    pub before: Option<Analysis>,
    pub after: Analysis,
}

impl Analysis {
    /// Whether it takes the finding out of the key risk indicators and the alerts.
    pub fn suppresses(&self) -> bool {
        SUPPRESSING_STATES.contains(&self.state.as_str())
    }

    /// The analysis columns of a row joined to a finding (`None` when it has none).
    pub(crate) fn from_joined_row(row: &AnyRow) -> Result<Option<Analysis>, sqlx::Error> {
        if row.try_get::<Option<String>, _>("analysis_key")?.is_none() {
            return Ok(None);
        }
        let response: String = row.try_get("response")?;
        Ok(Some(Analysis {
            state: row.try_get("state")?,
            justification: row.try_get("justification")?,
            response: split_list(&response),
            detail: row.try_get("analysis_detail")?,
            evidence: row.try_get("evidence")?,
            updated_by: row.try_get("updated_by")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }
}

fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What a finding's analysis is made on: whether the component was loaded.
pub fn evidence_of(finding: &NewFinding) -> &'static str {
    if finding.in_use {
        "loaded"
    } else {
        "installed"
    }
}

const ANALYSIS_COLUMNS: &str = "key AS analysis_key, state, justification, response, \
                                detail AS analysis_detail, evidence, updated_by, updated_at";

/// Every analysis of `app`'s findings, by finding key.
pub(crate) async fn analyses_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app: &str,
) -> Result<HashMap<String, Analysis>, StoreError> {
    let sql = format!("SELECT {ANALYSIS_COLUMNS} FROM finding_analyses WHERE app = $1");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(app)
        .fetch_all(&mut **tx)
        .await
        .doing("reading analyses")?;
    let mut analyses = HashMap::new();
    for row in &rows {
        let key: String = row.try_get("analysis_key").doing("reading an analysis")?;
        if let Some(analysis) = Analysis::from_joined_row(row).doing("reading an analysis")? {
            analyses.insert(key, analysis);
        }
    }
    Ok(analyses)
}

/// Puts a suppressed finding whose evidence changed back in triage.
pub(crate) async fn reopen_analysis(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app: &str,
    finding: &NewFinding,
    before: &Analysis,
    now: i64,
) -> Result<(), StoreError> {
    let after = Analysis {
        state: "in_triage".to_owned(),
        justification: String::new(),
        response: before.response.clone(),
        detail: format!(
            "reopened: the evidence changed from {} to {} (was {}: {})",
            before.evidence,
            evidence_of(finding),
            before.state,
            before.detail
        ),
        evidence: evidence_of(finding).to_owned(),
        updated_by: DETECTOR.to_owned(),
        updated_at: now,
    };
    write_analysis(tx, &finding.key, app, Some(before), &after).await
}

/// Writes `after` as the analysis of `key` and its audit entry.
async fn write_analysis(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &str,
    app: &str,
    before: Option<&Analysis>,
    after: &Analysis,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO finding_analyses (key, app, state, justification, response, detail, \
         evidence, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (key) DO UPDATE SET state = excluded.state, \
         justification = excluded.justification, response = excluded.response, \
         detail = excluded.detail, evidence = excluded.evidence, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(app)
    .bind(&after.state)
    .bind(&after.justification)
    .bind(after.response.join(","))
    .bind(&after.detail)
    .bind(&after.evidence)
    .bind(&after.updated_by)
    .bind(after.updated_at)
    .execute(&mut **tx)
    .await
    .doing("writing an analysis")?;
    let json = |a: &Analysis| serde_json::to_string(a).unwrap_or_default();
    sqlx::query(
        "INSERT INTO finding_audit (key, app, actor, at, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key)
    .bind(app)
    .bind(&after.updated_by)
    .bind(after.updated_at)
    .bind(before.map(json).unwrap_or_default())
    .bind(json(after))
    .execute(&mut **tx)
    .await
    .doing("writing the audit trail")?;
    log_change(tx, "finding", app, after.updated_at).await
}

impl Store {
    /// The finding of `key` with its analysis, open or resolved.
    pub async fn finding(&self, key: &str) -> Result<Option<FindingRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE f.key = $1",
            crate::portfolio::findings::FINDING_COLUMNS,
            crate::portfolio::findings::FINDINGS_WITH_ANALYSES
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .doing("reading a finding")?
            .as_ref()
            .map(FindingRecord::from_row)
            .transpose()
            .doing("reading a finding")
    }

    /// Sets the analysis of the finding `key` (of `app`), made on its evidence now, and keeps
    /// the change in the audit trail; the analysis before, if any.
    pub async fn set_analysis(
        &self,
        key: &str,
        app: &str,
        after: &Analysis,
    ) -> Result<Option<Analysis>, StoreError> {
        let mut tx = self.begin_write().await.doing("starting a triage")?;
        let before = analyses_of(&mut tx, app).await?.remove(key);
        write_analysis(&mut tx, key, app, before.as_ref(), after).await?;
        tx.commit().await.doing("committing a triage")?;
        Ok(before)
    }

    /// Every change to the analysis of the finding `key`, oldest first.
    pub async fn audit_trail(&self, key: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT actor, at, before_json, after_json FROM finding_audit WHERE key = $1 \
             ORDER BY id",
        )
        .bind(key)
        .fetch_all(self.pool())
        .await
        .doing("reading the audit trail")?;
        let mut trail = Vec::with_capacity(rows.len());
        for row in &rows {
            let before: String = row.try_get(2).doing("reading the audit trail")?;
            let after: String = row.try_get(3).doing("reading the audit trail")?;
            let Ok(after) = serde_json::from_str(&after) else {
                continue;
            };
            trail.push(AuditEntry {
                actor: row.try_get(0).doing("reading the audit trail")?,
                at: row.try_get(1).doing("reading the audit trail")?,
                before: serde_json::from_str(&before).ok(),
                after,
            });
        }
        Ok(trail)
    }
}
