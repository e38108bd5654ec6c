//! Leases: one row per named job that only one server process sharing the store should run at a
//! time. Taking a lease is one conditional upsert, so two processes racing for it cannot both win.

use crate::error::QueryContext;
use crate::{Store, StoreError};

impl Store {
    /// Takes the lease `name` for `holder` until `until` (Unix ms) when it is free, expired at
    /// `now`, or already `holder`'s. Returns whether `holder` holds it now.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE leases.expires_at <= $4 OR leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(self.pool())
        .await
        .doing("taking a lease")?;
        Ok(result.rows_affected() == 1)
    }
}
