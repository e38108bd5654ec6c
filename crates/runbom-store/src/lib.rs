//! runbom's store: advisories, runtime reports and the portfolio, behind one interface with two
//! engines — SQLite (a file, the embedded default) and PostgreSQL (many servers, one database).
//!
//! One code path serves both engines: an [`sqlx::AnyPool`] and runtime [`sqlx::query`] with
//! `$1, $2 …` placeholders (both engines accept them) and simple column types (`TEXT`, 64-bit
//! integers), so that a query written once runs on either.
//!
//! # Adding a migration
//!
//! Migrations are versioned and run at [`Store::open`]. Each has one file per engine, with the
//! same name, in `migrations/sqlite/` and `migrations/postgres/`:
//! `NNNN_what_it_does.sql`, where `NNNN` is the version. Advisories (this crate's first user)
//! number theirs `0001…`; the server's portfolio tables number theirs `1001…`, so the two series
//! never collide. Never edit a migration that has landed on `main`: add a new one. Keep both
//! files equivalent (same tables, columns, indexes); only spellings differ (`INTEGER` in SQLite
//! is `BIGINT` in PostgreSQL, so both read back as `i64`). The test suite runs every test on both
//! engines (see [`testing`]), which is what keeps them equivalent.

mod advisories;
mod error;
mod location;
mod portfolio;
mod sources;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::BTreeMap;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Connection, Executor, Row};

pub use advisories::{ImportSource, ImportStats, StoredAdvisory};
pub use error::StoreError;
pub use location::{Engine, Location};
pub use portfolio::{
    AdvisoryMatch, Alert, AlertReason, Analysis, ApplicationSummary, AuditEntry, ComponentUse,
    Cutoffs, DETECTOR, Delivery, FindingRecord, Forgotten, HeartbeatOutcome, IncomingHeartbeat,
    IncomingReport, IndexProject, IngestOutcome, InstanceView, KpiSnapshot, LiveComponent,
    LiveRefusal, NewFinding, Overview, STATE_DIGEST_LEN, SUPPRESSING_STATES, SearchHit,
    SessionLock, SessionRecord, TeamRecord, TokenRecord, UserRecord, Webhook, evidence_of,
    state_digest,
};
pub use sources::{EcosystemCount, SourceStatus};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a writer waits for another writer's lock before giving up (SQLite).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// An open store: a connection pool with every migration applied. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
}

impl Store {
    /// Opens (creating when missing, with its directory) the store at `location`: a file path,
    /// `sqlite://…` or `postgres://…`. Applies pending migrations.
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        Self::open_location(&Location::parse(location)).await
    }

    /// Opens the store at an already parsed [`Location`], with a pool of connections.
    pub async fn open_location(location: &Location) -> Result<Store, StoreError> {
        Self::open_location_with(location, Connections::Pool).await
    }

    /// Opens the store at `location` with as many connections as `connections` says.
    pub async fn open_location_with(
        location: &Location,
        connections: Connections,
    ) -> Result<Store, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(install_default_drivers);

        location.prepare()?;
        let engine = location.engine();
        let url = location.url();
        let open_error = |source| StoreError::Open {
            location: location.to_string(),
            source,
        };
        let migrator = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        let migrate_error = |source| StoreError::Migrate {
            location: location.to_string(),
            source,
        };
        let pool = match engine {
            // One connection: its pool's, where an up-to-date store is told by one query, so a
            // read-only command (an audit) parses the schema once and runs no migrator.
            Engine::Sqlite => {
                let pool = pool_options(engine, connections)
                    .connect(&url)
                    .await
                    .map_err(open_error)?;
                if !is_current(&pool, migrator).await {
                    migrator.run(&pool).await.map_err(migrate_error)?;
                }
                pool
            }
            // One direct connection first: an unreachable server fails at once (a pool would
            // retry until its timeout), and migrations run on it.
            Engine::Postgres => {
                let mut conn = AnyConnection::connect(&url).await.map_err(open_error)?;
                let migrated = migrator.run(&mut conn).await;
                conn.close().await.map_err(open_error)?;
                migrated.map_err(migrate_error)?;
                pool_options(engine, connections)
                    .connect(&url)
                    .await
                    .map_err(open_error)?
            }
        };
        Ok(Store { pool, engine })
    }

    /// Which engine holds this store.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Closes every connection; pending writes are already committed.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`,
    /// where the busy timeout applies: a deferred transaction that read first and then writes
    /// after another connection committed fails at once with `SQLITE_BUSY` instead of waiting.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        }
    }
}

/// Whether the store has exactly `migrator`'s migrations applied, each successfully and with the
/// same checksum: what the migrator itself checks before it has nothing to do, read with one
/// statement (it runs three, and creates its table first). Any doubt (no table yet, a failed or
/// unknown migration) is `false`, and the migrator then runs and says what is wrong.
async fn is_current(pool: &AnyPool, migrator: &Migrator) -> bool {
    let Ok(rows) = sqlx::query("SELECT version, checksum, success FROM _sqlx_migrations")
        .fetch_all(pool)
        .await
    else {
        return false;
    };
    let applied: BTreeMap<i64, (Vec<u8>, bool)> = rows
        .iter()
        .map(|row| {
            let success = row
                .try_get::<bool, _>(2)
                .or_else(|_| row.try_get::<i64, _>(2).map(|v| v != 0))
                .unwrap_or(false);
            (row.get(0), (row.get(1), success))
        })
        .collect();
    let wanted: Vec<_> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    applied.len() == wanted.len()
        && wanted.iter().all(|m| {
            applied
                .get(&m.version)
                .is_some_and(|(checksum, success)| *success && checksum[..] == m.checksum[..])
        })
}

/// Pool settings per engine. SQLite: WAL (readers never block the writer), a busy timeout
/// instead of immediate `database is locked` errors, and one writer connection at a time.
///
/// A connection still in a transaction when taken from the pool is closed instead of used: a
/// `COMMIT` refused with `SQLITE_FULL` rolls back inside SQLite, the driver's `ROLLBACK` then
/// fails, and the driver goes on counting a transaction that is gone, so every later
/// `BEGIN IMMEDIATE` on that connection failed even after disk space returned. (The pool's ping
/// before this check lets a queued rollback run first.)
fn pool_options(engine: Engine, connections: Connections) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .before_acquire(|conn, _meta| Box::pin(async move { Ok(!conn.is_in_transaction()) }));
    let max = match (connections, engine) {
        (Connections::One, _) => 1,
        (Connections::Pool, Engine::Sqlite) => 4,
        (Connections::Pool, Engine::Postgres) => 8,
    };
    let options = options.max_connections(max);
    match engine {
        Engine::Sqlite => options.after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(AssertSqlSafe(format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    BUSY_TIMEOUT.as_millis()
                )))
                .await?;
                Ok(())
            })
        }),
        Engine::Postgres => options,
    }
}

/// How many connections an open store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// A pool, for requests in parallel (the server).
    Pool,
    /// One, for a command that asks one thing at a time (an audit): a pool of several opens a
    /// second connection when a query follows another at once (the first connection goes back
    /// to the pool on a task of its own), and each SQLite connection parses the whole schema.
    One,
}
