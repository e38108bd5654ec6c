//! The server's bearer tokens: stored as sha256 hashes only, with scopes (a comma-separated
//! list the server interprets), bound to one application, to one team's applications, or to
//! none (then only an `admin` scope reaches anything); revocable.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::QueryContext;
use crate::{Store, StoreError};

/// A stored token (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    /// The one application the token acts on, if bound to one.
    pub app: Option<String>,
    /// The team whose applications the token acts on, if bound to one.
    pub team: Option<String>,
    /// What the token may do: `read`, `report`, `upload`, `triage`, `admin`, comma-separated.
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl TokenRecord {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(TokenRecord {
            id: row.try_get("id")?,
            app: row.try_get("app")?,
            team: row.try_get("team")?,
            scopes: row.try_get("scopes")?,
            created_at: row.try_get("created_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }
}

impl Store {
    /// Stores a new token's hash with what it may do.
    pub async fn create_token(
        &self,
        token: &TokenRecord,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO server_tokens (id, app, team, scopes, hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token.id)
        .bind(token.app.as_deref())
        .bind(token.team.as_deref())
        .bind(&token.scopes)
        .bind(hash)
        .bind(now)
        .execute(self.pool())
        .await
        .doing("storing a token")?;
        Ok(())
    }

    /// The live (not revoked) token with this hash.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(
            "SELECT id, app, team, scopes, created_at, revoked_at FROM server_tokens \
             WHERE hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(self.pool())
        .await
        .doing("looking up a token")?
        .map(|row| TokenRecord::from_row(&row))
        .transpose()
        .doing("reading a token")
    }

    /// Revokes a token by id; false when no live token has it.
    pub async fn revoke_token(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE server_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .doing("revoking a token")?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether any token or user exists: a server with neither has never been set up.
    pub async fn has_credentials(&self) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM server_tokens) + (SELECT COUNT(*) FROM users)",
        )
        .fetch_one(self.pool())
        .await
        .doing("counting credentials")?
        .try_get(0)
        .doing("counting credentials")?;
        Ok(n > 0)
    }

    /// Every token, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        sqlx::query(
            "SELECT id, app, team, scopes, created_at, revoked_at FROM server_tokens \
             ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await
        .doing("listing tokens")?
        .iter()
        .map(TokenRecord::from_row)
        .collect::<Result<_, _>>()
        .doing("reading a token")
    }
}
