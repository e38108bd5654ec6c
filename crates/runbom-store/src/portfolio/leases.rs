//! Who runs a job that only one server process sharing the store should run at a time.
//!
//! - Leases: one row per named job; taking a lease is one conditional upsert, so two processes
//!   racing for it cannot both win. A holder that dies keeps it until it expires (jobs that run
//!   every few minutes: the advisory feed, the package indexes).
//! - Session locks (PostgreSQL): a job that runs all the time (the detector) is held by a
//!   PostgreSQL session advisory lock on a connection of its own, so it passes to another process
//!   as soon as its holder's session ends (the process stopped or died, or lost the server). On
//!   SQLite every process holds it: a SQLite store is one server's.

use sqlx::{AnyConnection, Connection};

use crate::error::QueryContext;
use crate::{Engine, Store, StoreError};

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

    /// The session lock `name` of this store, not held yet: [`SessionLock::hold`] takes it.
    pub fn session_lock(&self, name: &'static str) -> SessionLock {
        SessionLock {
            store: self.clone(),
            name,
            session: None,
            held: false,
        }
    }
}

/// A named session lock, as one process asks for it (see the module's documentation).
#[derive(Debug)]
pub struct SessionLock {
    store: Store,
    name: &'static str,
    /// The connection whose session holds (or asks for) the lock: out of the pool, so that the
    /// lock lives exactly as long as it.
    session: Option<AnyConnection>,
    held: bool,
}

impl SessionLock {
    /// Whether this process holds the lock now: takes it when it is free, and checks that the
    /// session holding it is still alive. Cheap enough to ask at every turn of a loop (one
    /// small query on PostgreSQL, none on SQLite). An error means "not held"; the next call
    /// starts a new session.
    pub async fn hold(&mut self) -> Result<bool, StoreError> {
        if self.store.engine() == Engine::Sqlite {
            return Ok(true);
        }
        let result = self.ask().await;
        if result.is_err() {
            self.session = None;
            self.held = false;
        }
        result
    }

    async fn ask(&mut self) -> Result<bool, StoreError> {
        let session = match &mut self.session {
            Some(session) => session,
            None => {
                let pooled = self
                    .store
                    .pool()
                    .acquire()
                    .await
                    .doing("opening a session for a lock")?;
                self.session.insert(pooled.detach())
            }
        };
        if self.held {
            session.ping().await.doing("checking a held lock")?;
            return Ok(true);
        }
        // The key is per schema as well as per database, so that stores in two schemas of one
        // database (the test suite's) do not share their locks.
        let key = format!("runbom {} ", self.name);
        let held: i64 = sqlx::query_scalar(
            "SELECT CASE WHEN pg_try_advisory_lock(hashtext($1 || current_schema())) \
             THEN 1::BIGINT ELSE 0::BIGINT END",
        )
        .bind(key)
        .fetch_one(&mut *session)
        .await
        .doing("taking a lock")?;
        self.held = held == 1;
        Ok(self.held)
    }
}
