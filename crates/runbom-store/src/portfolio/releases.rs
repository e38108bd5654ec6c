//! Update tracking: what the package indexes said of the projects live instances run (each
//! project's releases as `runbom-model`'s `Release` list in JSON), written by the server's update
//! poller and read by the detector. A changed answer is logged as a `releases` change of every
//! application running the project, so every server process recomputes those findings.

use sqlx::Row;

use crate::error::QueryContext;
use crate::portfolio::ingest::log_change;
use crate::{Store, StoreError};

/// One project as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexProject {
    /// The OSV ecosystem name, e.g. `PyPI`.
    pub ecosystem: String,
    pub name: String,
    /// JSON array of releases; `[]` before the index first answered.
    pub releases: String,
    pub checked_at: i64,
    /// When `releases` last changed; `None` before any answer.
    pub changed_at: Option<i64>,
    /// The last poll's error; empty when it was answered.
    pub error: String,
}

fn project_of(row: &sqlx::any::AnyRow) -> Result<IndexProject, sqlx::Error> {
    Ok(IndexProject {
        ecosystem: row.try_get(0)?,
        name: row.try_get(1)?,
        releases: row.try_get(2)?,
        checked_at: row.try_get(3)?,
        changed_at: row.try_get(4)?,
        error: row.try_get(5)?,
    })
}

impl Store {
    /// `(ecosystem, name)` of every project some live instance has, sorted.
    pub async fn running_projects(&self) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query(
            "SELECT DISTINCT o.ecosystem, o.name FROM observations o \
             JOIN instances i ON i.id = o.instance_id WHERE i.gone = 0 \
             ORDER BY o.ecosystem, o.name",
        )
        .fetch_all(self.pool())
        .await
        .doing("listing running projects")?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading a running project")
    }

    /// Keeps the index's answer for a project; when it differs from the kept one, logs a
    /// `releases` change for every application running the project. Returns whether it changed.
    pub async fn save_releases(
        &self,
        ecosystem: &str,
        name: &str,
        releases: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await.doing("saving releases")?;
        let kept: Option<(String, Option<i64>)> = sqlx::query(
            "SELECT releases, changed_at FROM index_releases WHERE ecosystem = $1 AND name = $2",
        )
        .bind(ecosystem)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await
        .doing("reading kept releases")?
        .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
        .doing("reading kept releases")?;
        let changed = !matches!(&kept, Some((old, Some(_))) if old == releases);
        sqlx::query(
            "INSERT INTO index_releases (ecosystem, name, releases, checked_at, changed_at, error) \
             VALUES ($1, $2, $3, $4, $4, '') ON CONFLICT (ecosystem, name) DO UPDATE SET \
             releases = excluded.releases, checked_at = excluded.checked_at, error = '', \
             changed_at = CASE WHEN $5 = 1 THEN excluded.changed_at \
             ELSE index_releases.changed_at END",
        )
        .bind(ecosystem)
        .bind(name)
        .bind(releases)
        .bind(now)
        .bind(i64::from(changed))
        .execute(&mut *tx)
        .await
        .doing("saving releases")?;
        if changed {
            let apps: Vec<String> = sqlx::query(
                "SELECT DISTINCT i.app FROM observations o JOIN instances i \
                 ON i.id = o.instance_id WHERE i.gone = 0 AND o.ecosystem = $1 AND o.name = $2 \
                 ORDER BY i.app",
            )
            .bind(ecosystem)
            .bind(name)
            .fetch_all(&mut *tx)
            .await
            .doing("finding who runs a project")?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .doing("reading an application")?;
            for app in apps {
                log_change(&mut tx, "releases", &app, now).await?;
            }
        }
        tx.commit().await.doing("committing releases")?;
        Ok(changed)
    }

    /// Notes that the index could not be asked about a project; what was kept of it stays.
    pub async fn record_index_error(
        &self,
        ecosystem: &str,
        name: &str,
        error: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO index_releases (ecosystem, name, releases, checked_at, changed_at, error) \
             VALUES ($1, $2, '[]', $3, NULL, $4) ON CONFLICT (ecosystem, name) DO UPDATE SET \
             checked_at = excluded.checked_at, error = excluded.error",
        )
        .bind(ecosystem)
        .bind(name)
        .bind(now)
        .bind(error)
        .execute(self.pool())
        .await
        .doing("recording an index error")?;
        Ok(())
    }

    /// What the indexes said of the projects `app`'s live instances run (answered ones only).
    pub async fn index_releases_for(&self, app: &str) -> Result<Vec<IndexProject>, StoreError> {
        sqlx::query(
            "SELECT r.ecosystem, r.name, r.releases, r.checked_at, r.changed_at, r.error \
             FROM index_releases r WHERE r.changed_at IS NOT NULL AND EXISTS (\
             SELECT 1 FROM observations o JOIN instances i ON i.id = o.instance_id \
             WHERE i.app = $1 AND i.gone = 0 AND o.ecosystem = r.ecosystem AND o.name = r.name) \
             ORDER BY r.ecosystem, r.name",
        )
        .bind(app)
        .fetch_all(self.pool())
        .await
        .doing("reading index releases")?
        .iter()
        .map(project_of)
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading index releases")
    }

    /// Every project the store keeps index data of, answered or not, sorted.
    pub async fn index_projects(&self) -> Result<Vec<IndexProject>, StoreError> {
        sqlx::query(
            "SELECT ecosystem, name, releases, checked_at, changed_at, error \
             FROM index_releases ORDER BY ecosystem, name",
        )
        .fetch_all(self.pool())
        .await
        .doing("reading index projects")?
        .iter()
        .map(project_of)
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading index projects")
    }
}
