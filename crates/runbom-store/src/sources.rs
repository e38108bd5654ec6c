//! Advisory sources: where each set of advisories came from, when it was last imported, the HTTP
//! validators (ETag / Last-Modified) for the next conditional download, and counts per ecosystem.

use sqlx::Row;

use crate::error::QueryContext;
use crate::{Store, StoreError};

/// What the store knows about one advisory source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    /// The source's name (`osv-PyPI`, `pypa-advisory-database` …).
    pub name: String,
    /// The URL or path it was last read from.
    pub location: String,
    /// RFC 3339 time of the last import that changed or confirmed its records.
    pub last_import: Option<String>,
    /// RFC 3339 time of the last check of a remote source (a `304 Not Modified` counts).
    pub last_checked: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Advisories (withdrawn ones excluded) per ecosystem, sorted by ecosystem.
    pub counts: Vec<EcosystemCount>,
    /// Withdrawn advisories kept from this source.
    pub withdrawn: u64,
}

/// How many advisories of a source name a package of one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcosystemCount {
    pub ecosystem: String,
    pub advisories: u64,
}

impl Store {
    /// Every known source, sorted by name, with its counts.
    pub async fn sources(&self) -> Result<Vec<SourceStatus>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, location, last_import, last_checked, etag, last_modified \
             FROM advisory_sources ORDER BY name",
        )
        .fetch_all(self.pool())
        .await
        .doing("listing advisory sources")?;
        let mut sources = Vec::with_capacity(rows.len());
        for row in rows {
            let name: String = row.get(0);
            let counts = self.counts_of(&name).await?;
            let withdrawn = self.withdrawn_of(&name).await?;
            sources.push(SourceStatus {
                location: row.get(1),
                last_import: row.get(2),
                last_checked: row.get(3),
                etag: row.get(4),
                last_modified: row.get(5),
                name,
                counts,
                withdrawn,
            });
        }
        Ok(sources)
    }

    /// Whether any source was ever imported: what an audit asks before trusting an empty
    /// result, without the counts of [`Store::sources`], which read every advisory row (a
    /// 4,000-record Go database made them most of a binary audit's time).
    pub async fn has_sources(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM (SELECT 1 FROM advisory_sources LIMIT 1) s")
            .fetch_one(self.pool())
            .await
            .doing("looking for advisory sources")?;
        Ok(row.get::<i64, _>(0) > 0)
    }

    async fn counts_of(&self, source: &str) -> Result<Vec<EcosystemCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.ecosystem, COUNT(DISTINCT a.id) FROM advisories a \
             JOIN advisory_packages p ON p.advisory_id = a.id \
             WHERE a.source = $1 AND a.withdrawn IS NULL \
             GROUP BY p.ecosystem ORDER BY p.ecosystem",
        )
        .bind(source)
        .fetch_all(self.pool())
        .await
        .doing("counting advisories per ecosystem")?;
        Ok(rows
            .into_iter()
            .map(|row| EcosystemCount {
                ecosystem: row.get(0),
                advisories: count(row.get(1)),
            })
            .collect())
    }

    async fn withdrawn_of(&self, source: &str) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM advisories WHERE source = $1 AND withdrawn IS NOT NULL",
        )
        .bind(source)
        .fetch_one(self.pool())
        .await
        .doing("counting withdrawn advisories")?;
        Ok(count(row.get(0)))
    }
}

/// SQL counts come back as `i64` on both engines.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
