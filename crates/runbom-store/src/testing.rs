//! A harness that runs one test on every engine: SQLite in a temporary directory, and PostgreSQL
//! when `RUNBOM_TEST_DATABASE_URL` is set — each run in its own freshly created schema with a
//! unique name, dropped afterwards even when the test fails (the server is shared).
//!
//! ```no_run
//! # async fn example() {
//! runbom_store::testing::each_engine(|store| async move {
//!     assert!(store.sources().await.unwrap().is_empty());
//! })
//! .await;
//! # }
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Executor};

use crate::{Location, Store};

/// The environment variable naming the PostgreSQL server tests may use.
pub const DATABASE_URL_VAR: &str = "RUNBOM_TEST_DATABASE_URL";

/// Runs `test` against a fresh SQLite store, then, when [`DATABASE_URL_VAR`] is set, against a
/// fresh PostgreSQL schema. A failure names the engine; the schema is dropped either way.
pub async fn each_engine<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("a temporary directory for the SQLite store");
    let location = Location::SqliteFile(dir.path().join("runbom.db"));
    let store = Store::open_location(&location)
        .await
        .expect("open SQLite store");
    run_named("sqlite", test(store.clone())).await;
    store.close().await;

    if let Ok(url) = std::env::var(DATABASE_URL_VAR) {
        let schema = PostgresSchema::create(&url).await;
        let store = Store::open(&schema.url())
            .await
            .expect("open PostgreSQL store");
        let outcome = tokio::spawn(test(store.clone())).await;
        store.close().await;
        schema.drop().await;
        if let Err(err) = outcome {
            eprintln!("test failed on engine postgres");
            std::panic::resume_unwind(err.into_panic());
        }
    }
}

async fn run_named<Fut>(engine: &str, test: Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    if let Err(err) = tokio::spawn(test).await {
        eprintln!("test failed on engine {engine}");
        std::panic::resume_unwind(err.into_panic());
    }
}

/// A uniquely named schema on the shared test server.
#[derive(Debug)]
pub struct PostgresSchema {
    server_url: String,
    name: String,
}

impl PostgresSchema {
    /// Creates `runbom_test_<pid>_<time>_<n>` on the server at `server_url`.
    pub async fn create(server_url: &str) -> PostgresSchema {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "runbom_test_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        admin(server_url, &format!("CREATE SCHEMA {name}")).await;
        PostgresSchema {
            server_url: server_url.to_owned(),
            name,
        }
    }

    /// The server URL with `search_path` set to this schema, for [`Store::open`].
    pub fn url(&self) -> String {
        let separator = if self.server_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.server_url, self.name
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the schema and everything in it.
    pub async fn drop(self) {
        admin(
            &self.server_url,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        )
        .await;
    }
}

async fn admin(server_url: &str, statement: &str) {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(server_url)
        .await
        .unwrap_or_else(|err| panic!("cannot connect to {DATABASE_URL_VAR}: {err}"));
    pool.execute(AssertSqlSafe(statement))
        .await
        .unwrap_or_else(|err| panic!("`{statement}` failed: {err}"));
    pool.close().await;
}
