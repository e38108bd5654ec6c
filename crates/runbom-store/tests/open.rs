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

/// Rows written by a server before migration 1080: a Go instance with one finding about its
/// `golang.org/x/net`, and a finding whose component is no longer observed.
const BEFORE_FINDING_ECOSYSTEMS: [&str; 4] = [
    "INSERT INTO applications (name, created_at) VALUES ('edge', 0)",
    "INSERT INTO instances (id, app, environment, session_id, host, pid, command, interpreter, \
     started_at, first_seen, last_seen, state_digest, language) \
     VALUES (1, 'edge', 'prod', 's1', 'web-1', 7, './edge', 'gc go1.19.8', '', 0, 0, '', 'go')",
    "INSERT INTO observations (instance_id, ecosystem, name, version, display_name, purl, modules, \
     loaded, tampered, digest, first_seen) VALUES (1, 'Go', 'golang.org/x/net', 'v0.7.0', \
     'golang.org/x/net', 'pkg:golang/golang.org/x/net@v0.7.0', '[]', 1, '', '', 0)",
    "INSERT INTO findings (key, app, kind, severity, name, version, advisory_id, in_use, summary, \
     detail, opened_at) VALUES \
     ('k1', 'edge', 'vulnerable', 'high', 'golang.org/x/net', 'v0.7.0', 'GO-2023-1988', 1, '', '{}', 1), \
     ('k2', 'edge', 'unexpected', 'medium', 'gone-module', 'v1.0.0', '', 0, '', '{}', 2)",
];

/// Applies the migrations of `engine` numbered below `version` on the connection at `url`, then
/// writes `rows` as a server of then would have.
async fn migrate_below(url: &str, engine: &str, version: i64, rows: &[&str]) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    let mut migrator = sqlx::migrate::Migrator::new(dir)
        .await
        .expect("the migrations");
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect");
    migrator.run(&mut conn).await.expect("migrate");
    for statement in rows {
        sqlx::raw_sql(sqlx::AssertSqlSafe(*statement))
            .execute(&mut conn)
            .await
            .expect("an old row");
    }
    conn.close().await.expect("close");
}

async fn findings_keep_their_ecosystem_after_1080(store: &Store) {
    let findings = store.findings(Some("edge"), false).await.expect("findings");
    // By name: the store lists findings by severity and use, which this test does not set.
    let mut ecosystems: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.finding.name.as_str(), f.finding.ecosystem.as_str()))
        .collect();
    ecosystems.sort_unstable();
    assert_eq!(
        ecosystems,
        [("golang.org/x/net", "Go"), ("gone-module", "")],
        "the observed component gives its ecosystem; the other stays unknown"
    );
    let instances = store.instances("edge").await.expect("instances");
    assert_eq!(instances[0].language, "go");
}

// Migration 1080 adds findings' ecosystem: a store of findings from before still reads.
#[tokio::test]
async fn findings_stored_before_they_kept_an_ecosystem_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    std::fs::File::create(&path).unwrap();
    migrate_below(
        &format!("sqlite://{}", path.display()),
        "sqlite",
        1080,
        &BEFORE_FINDING_ECOSYSTEMS,
    )
    .await;
    let store = Store::open_location(&Location::SqliteFile(path))
        .await
        .unwrap();
    findings_keep_their_ecosystem_after_1080(&store).await;
    store.close().await;

    if let Ok(url) = std::env::var(DATABASE_URL_VAR) {
        let schema = runbom_store::testing::PostgresSchema::create(&url).await;
        migrate_below(&schema.url(), "postgres", 1080, &BEFORE_FINDING_ECOSYSTEMS).await;
        let store = Store::open(&schema.url()).await.unwrap();
        findings_keep_their_ecosystem_after_1080(&store).await;
        store.close().await;
        schema.drop().await;
    }
}

/// An advisory imported before migration 1081, as its import wrote it: the record and its
/// package index row, without the index's `affected` entries.
const BEFORE_ADVISORY_AFFECTED: [&str; 3] = [
    "INSERT INTO advisories (id, source, modified, withdrawn, vuln_group, record) VALUES \
     ('GO-1', 'test', '2024-01-01T00:00:00Z', NULL, 'GO-1', \
      '{\"id\":\"GO-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[\
        {\"package\":{\"ecosystem\":\"Go\",\"name\":\"stdlib\"},\
         \"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.20.0\"}]}]}]}')",
    "INSERT INTO advisory_ids (id, advisory_id) VALUES ('GO-1', 'GO-1')",
    "INSERT INTO advisory_packages (ecosystem, name, advisory_id) VALUES ('Go', 'stdlib', 'GO-1')",
];

async fn lookups_see_the_affected_entries_of_old_records(store: &Store) {
    let seen = Mutex::new(Vec::new());
    let found = store
        .advisories_for_packages_where(&[("Go", "stdlib")], |_, entries| {
            seen.lock().expect("lock").extend(entries.to_vec());
            false
        })
        .await
        .expect("lookup");
    assert!(found[0].is_empty(), "refused by the filter");
    let seen = seen.into_inner().expect("lock");
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].ranges.len(), 1);
}

// Migration 1081 fills the package index's `affected` entries of records stored before it.
#[tokio::test]
async fn advisories_stored_before_the_range_index_are_filtered_by_their_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    std::fs::File::create(&path).unwrap();
    let url = format!("sqlite://{}", path.display());
    migrate_below(&url, "sqlite", 1081, &BEFORE_ADVISORY_AFFECTED).await;
    let store = Store::open_location(&Location::SqliteFile(path))
        .await
        .unwrap();
    lookups_see_the_affected_entries_of_old_records(&store).await;
    store.close().await;

    if let Ok(url) = std::env::var(DATABASE_URL_VAR) {
        let schema = runbom_store::testing::PostgresSchema::create(&url).await;
        migrate_below(&schema.url(), "postgres", 1081, &BEFORE_ADVISORY_AFFECTED).await;
        let store = Store::open(&schema.url()).await.unwrap();
        lookups_see_the_affected_entries_of_old_records(&store).await;
        store.close().await;
        schema.drop().await;
    }
}

/// Opens the SQLite store at `path` after `statement` changed its migration table, and says
/// what the open told.
async fn open_after(path: &std::path::Path, statement: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut conn)
        .await
        .expect("the change");
    conn.close().await.expect("close");
    match Store::open_location(&Location::SqliteFile(path.to_owned())).await {
        Ok(store) => {
            store.close().await;
            "opened".to_owned()
        }
        Err(err) => format!("{err}"),
    }
}

// An up-to-date SQLite store is told by one query and the migrator skipped: that query must not
// hide what the migrator would refuse (an edited or a failed migration), nor skip a missing one.
#[tokio::test]
async fn the_up_to_date_check_leaves_every_doubt_to_the_migrator() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    Store::open_location(&Location::SqliteFile(path.clone()))
        .await
        .unwrap()
        .close()
        .await;
    let refused = "cannot bring the store";
    let edited = open_after(
        &path,
        "UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 1",
    )
    .await;
    assert!(edited.contains(refused), "{edited}");
    let failed = open_after(
        &path,
        "UPDATE _sqlx_migrations SET checksum = (SELECT checksum FROM _sqlx_migrations \
         WHERE version = 1001), success = FALSE WHERE version = 1",
    )
    .await;
    assert!(failed.contains(refused), "{failed}");

    let fresh = dir.path().join("f.db");
    Store::open_location(&Location::SqliteFile(fresh.clone()))
        .await
        .unwrap()
        .close()
        .await;
    let missing = open_after(
        &fresh,
        "ALTER TABLE advisory_packages DROP COLUMN affected; \
         DELETE FROM _sqlx_migrations WHERE version = 1081",
    )
    .await;
    assert_eq!(missing, "opened", "a missing migration is applied");
}
