//! Opening stores: locations, the default directory, migrations on both engines.

use std::sync::{Arc, Mutex};

use runbom_store::testing::{DATABASE_URL_VAR, each_engine};
use runbom_store::{Engine, Location, Store};

#[tokio::test]
async fn a_fresh_store_is_migrated_and_empty() {
    let engines = Arc::new(Mutex::new(Vec::new()));
    each_engine(|store| {
        let engines = Arc::clone(&engines);
        async move {
            assert!(store.sources().await.unwrap().is_empty());
            engines.lock().unwrap().push(store.engine());
        }
    })
    .await;
    let mut expected = vec![Engine::Sqlite];
    if std::env::var(DATABASE_URL_VAR).is_ok() {
        expected.push(Engine::Postgres);
    }
    assert_eq!(*engines.lock().unwrap(), expected);
}

#[tokio::test]
async fn opening_twice_applies_migrations_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/runbom.db");
    let location = path.to_str().unwrap().to_owned();
    let first = Store::open(&location).await.unwrap();
    assert_eq!(first.engine(), Engine::Sqlite);
    first.close().await;
    assert!(
        path.exists(),
        "the store file and its directories are created"
    );
    let second = Store::open(&format!("sqlite://{location}")).await.unwrap();
    assert!(second.sources().await.unwrap().is_empty());
    second.close().await;
}

#[tokio::test]
async fn sqlite_store_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_location(&Location::SqliteFile(dir.path().join("w.db")))
        .await
        .unwrap();
    store.close().await;
    assert!(dir.path().join("w.db").exists());
    // WAL mode is persistent in the file header: bytes 18 and 19 are 2 in WAL mode.
    let header = std::fs::read(dir.path().join("w.db")).unwrap();
    assert_eq!(&header[18..20], &[2, 2]);
}

#[tokio::test]
async fn an_unreachable_postgres_server_is_a_clear_error() {
    let err = Store::open("postgres://nobody:secret@127.0.0.1:1/none")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("cannot open the store"), "{message}");
    assert!(!message.contains("secret"), "{message}");
}
