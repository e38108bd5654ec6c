//! Expected inventories per application release (from an SBOM or lockfile): what the release
//! should run. The newest uploaded release is the one running instances are held against.

use runbom_model::expected::ExpectedInventory;
use sqlx::Row;

use crate::error::QueryContext;
use crate::portfolio::ingest::log_change;
use crate::{Store, StoreError};

impl Store {
    /// Replaces the expected inventory of `app` at `release`.
    pub async fn put_expected(
        &self,
        app: &str,
        release: &str,
        inventory: &ExpectedInventory,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await.doing("starting an upload")?;
        sqlx::query("INSERT INTO applications (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(app)
            .bind(now)
            .execute(&mut *tx)
            .await
            .doing("registering an application")?;
        sqlx::query("DELETE FROM expected_components WHERE app = $1 AND release = $2")
            .bind(app)
            .bind(release)
            .execute(&mut *tx)
            .await
            .doing("replacing an expected inventory")?;
        sqlx::query(
            "INSERT INTO releases (app, release, source, uploaded_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (app, release) DO UPDATE SET source = excluded.source, \
             uploaded_at = excluded.uploaded_at",
        )
        .bind(app)
        .bind(release)
        .bind(&inventory.source)
        .bind(now)
        .execute(&mut *tx)
        .await
        .doing("recording a release")?;
        for component in &inventory.components {
            sqlx::query(
                "INSERT INTO expected_components (app, release, name, version) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(app)
            .bind(release)
            .bind(component.name.as_str())
            .bind(component.version.exact().unwrap_or(""))
            .execute(&mut *tx)
            .await
            .doing("storing an expected component")?;
        }
        log_change(&mut tx, "expected", app, now).await?;
        tx.commit()
            .await
            .doing("committing an expected inventory")?;
        Ok(())
    }

    /// The newest release of `app` with an expected inventory, and its `(name, version)` pairs
    /// (version `""` when the source pinned none).
    pub async fn expected_for(
        &self,
        app: &str,
    ) -> Result<Option<(String, Vec<(String, String)>)>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT release FROM releases WHERE app = $1 ORDER BY uploaded_at DESC, release DESC LIMIT 1",
        )
        .bind(app)
        .fetch_optional(self.pool())
        .await
        .doing("finding an application's release")?
        else {
            return Ok(None);
        };
        let release: String = row.try_get(0).doing("reading a release")?;
        let components = sqlx::query(
            "SELECT name, version FROM expected_components WHERE app = $1 AND release = $2 \
             ORDER BY name, version",
        )
        .bind(app)
        .bind(&release)
        .fetch_all(self.pool())
        .await
        .doing("reading an expected inventory")?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading an expected component")?;
        Ok(Some((release, components)))
    }
}
