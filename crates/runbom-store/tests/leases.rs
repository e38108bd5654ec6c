//! Leases on every engine: one holder at a time, until the lease expires.

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
