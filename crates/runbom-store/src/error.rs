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

/// Attaches what the store was doing to a driver error.
pub(crate) trait QueryContext<T> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> QueryContext<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { doing, source })
    }
}
