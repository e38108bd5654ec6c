//! What can go wrong with a store.

use std::path::PathBuf;

/// A store error; every message names the store or the record involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the store's directory `{path}`")]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store `{location}`")]
    Open {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot bring the store `{location}` up to date (migrations)")]
    Migrate {
        location: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("store query failed while {doing}")]
    Query {
        doing: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("the stored record `{id}` is not valid OSV JSON")]
    CorruptRecord {
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// Whether the engine refused a write because its disk is full: SQLite's `SQLITE_FULL`
    /// (any extended code of it), PostgreSQL's `disk_full` (SQLSTATE 53100), or `ENOSPC` from
    /// the file system. Nothing of the refused transaction is stored.
    pub fn is_disk_full(&self) -> bool {
        let source = match self {
            StoreError::Open { source, .. } | StoreError::Query { source, .. } => source,
            _ => return false,
        };
        match source {
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                code == "53100" || code.parse::<i64>().is_ok_and(|n| n & 0xff == SQLITE_FULL)
            }),
            sqlx::Error::Io(io) => io.raw_os_error() == Some(ENOSPC),
            _ => false,
        }
    }
}

/// SQLite's primary result code for "database or disk is full".
const SQLITE_FULL: i64 = 13;

/// Linux's "no space left on device".
const ENOSPC: i32 = 28;

/// Attaches what the store was doing to a driver error.
pub(crate) trait QueryContext<T> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> QueryContext<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { doing, source })
    }
}
