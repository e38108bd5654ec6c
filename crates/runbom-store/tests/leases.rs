//! Leases and session locks on every engine: one holder at a time, until the lease expires or
//! the holder's session ends.

use std::time::{Duration, Instant};

use runbom_store::Engine;
use runbom_store::testing::each_engine;

#[tokio::test]
async fn one_holder_at_a_time_until_the_lease_expires() {
    each_engine(|store| async move {
        assert!(store.take_lease("feed", "a", 0, 100).await.unwrap());
        assert!(!store.take_lease("feed", "b", 50, 150).await.unwrap());
        assert!(store.take_lease("feed", "a", 60, 160).await.unwrap());
        assert!(store.take_lease("feed", "b", 160, 260).await.unwrap());
        assert!(!store.take_lease("feed", "a", 200, 300).await.unwrap());
        assert!(store.take_lease("other", "a", 200, 300).await.unwrap());
    })
    .await;
}

/// Two sessions stand for two server processes: on PostgreSQL one holds the lock and the other
/// takes it over once the holder's session ends; on SQLite (one server's store) both hold it.
#[tokio::test]
async fn a_session_lock_has_one_holder_on_postgresql_and_passes_on_when_its_session_ends() {
    each_engine(|store| async move {
        let one_holder = store.engine() == Engine::Postgres;
        let mut first = store.session_lock("detector");
        let mut second = store.session_lock("detector");
        let mut other = store.session_lock("other");
        assert!(first.hold().await.unwrap());
        assert_eq!(second.hold().await.unwrap(), !one_holder);
        assert!(
            other.hold().await.unwrap(),
            "another lock is another holder's"
        );
        assert!(first.hold().await.unwrap(), "the holder keeps it");
        assert_eq!(second.hold().await.unwrap(), !one_holder);
        drop(first);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !second.hold().await.unwrap() {
            assert!(Instant::now() < deadline, "the lock never passed on");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}
