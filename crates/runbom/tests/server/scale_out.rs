//! Several `runbom serve` processes on one PostgreSQL store (a fresh schema on the server of
//! `RUNBOM_TEST_DATABASE_URL`; skipped without it): one of them detects, so a finding is opened
//! and alerted once, and when that process is killed another one takes over.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt;

use runbom_store::testing::{DATABASE_URL_VAR, PostgresSchema};
use serde_json::json;

use crate::harness::{Receiver, Server, report};

const DETECTOR: &str = "this process is the store's detector";

/// Waits until `server` logged `line` (a generous bound, not a timing assertion).
async fn wait_for_log(server: &Server, line: &str) {
    let start = Instant::now();
    while !server.log().iter().any(|l| l.contains(line)) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never logged `{line}`: {:?}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn one_of_two_servers_on_a_postgresql_store_detects_and_the_other_takes_over_when_it_dies() {
    let Ok(url) = std::env::var(DATABASE_URL_VAR) else {
        println!("skipped: {DATABASE_URL_VAR} is not set");
        return;
    };
    let schema = PostgresSchema::create(&url).await;
    let outcome = AssertUnwindSafe(detect_once_then_take_over(schema.url()))
        .catch_unwind()
        .await;
    schema.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn detect_once_then_take_over(db: String) {
    let receiver = Receiver::start().await;
    let hook = receiver.url();
    let mut first = Server::start_on_db(&db, &["--webhook", &hook]).await;
    wait_for_log(&first, DETECTOR).await;
    let second = first.another(&["--webhook", &hook]);
    let shop = first.token(Some("shop"));
    first
        .import_advisory(include_str!("../../testdata/server/PYSEC-2021-142.json"))
        .await;
    // Reported to the process that does not detect.
    let body = report("r1", "s1", "shop", &[("PyYAML", "5.3", true)]);
    assert_eq!(second.post_report(Some(&shop), &body).await.0, 201);
    let alerts = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(alerts[0]["advisory"], "PYSEC-2021-142");
    // Both would have recomputed within a few polls (0.1 s each); one alert, one detector.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.wait_for(1, Duration::ZERO).await.len(), 1);
    assert!(
        !second.log().iter().any(|l| l.contains(DETECTOR)),
        "{:?}",
        second.log()
    );

    first.kill();
    wait_for_log(&second, DETECTOR).await;
    let web = second.token(Some("web"));
    let mut body = report("r2", "s2", "web", &[("PyYAML", "5.3", true)]);
    body["host"] = json!("web-1");
    assert_eq!(second.post_report(Some(&web), &body).await.0, 201);
    let alerts = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[1]["app"], "web", "{alerts:?}");
}
