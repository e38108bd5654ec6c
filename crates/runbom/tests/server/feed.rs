//! The server's advisory feed poller: `runbom serve --feed-interval` downloads OSV's bulk export
//! from a local server, alerts on the running instances it hits with no manual import, and
//! revalidates with a conditional request afterwards.

#![allow(clippy::unwrap_used)] // test: a failed unwrap is a failed test

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use runbom_sources::index::testing::{IndexServer, Route};
use serde_json::json;

use crate::harness::{Receiver, Server, report};

/// An OSV bulk export holding one fixture advisory.
fn bulk_export() -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    out.start_file(
        "PYSEC-2021-142.json",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    out.write_all(include_bytes!("../../testdata/server/PYSEC-2021-142.json"))
        .unwrap();
    out.finish().unwrap().into_inner()
}

#[tokio::test]
async fn the_feed_poller_alerts_without_a_manual_import_and_then_revalidates() {
    let routes = HashMap::from([(
        "/PyPI/all.zip".to_owned(),
        Route {
            content_type: "application/zip".to_owned(),
            body: bulk_export(),
        },
    )]);
    let osv = IndexServer::start(routes).unwrap();
    let receiver = Receiver::start().await;
    let server = Server::start(&[
        "--webhook",
        &receiver.url(),
        "--feed-interval",
        "1",
        "--feed-url",
        &osv.url(),
        "--ecosystem",
        "PyPI",
    ])
    .await;
    let app = server.token(Some("shop"));
    let body = report("r1", "s1", "shop", &[("PyYAML", "5.3", true)]);
    assert_eq!(server.post_report(Some(&app), &body).await.0, 201);

    let alerts = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(alerts[0]["advisory"], "PYSEC-2021-142");
    assert_eq!(
        alerts[0]["component"],
        json!({"name": "pyyaml", "version": "5.3"})
    );
    assert_eq!(alerts[0]["instances"][0]["host"], "web-1");

    let deadline = Instant::now() + Duration::from_secs(30);
    while !osv.requests().iter().any(|(_, status)| *status == 304) {
        assert!(
            Instant::now() < deadline,
            "no revalidation: {:?}",
            osv.requests()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let downloads = osv.requests().iter().filter(|(_, s)| *s == 200).count();
    assert_eq!(downloads, 1, "{:?}", osv.requests());
    let (_, log) = server
        .get_with("/api/v1/admin/deliveries", Some(&server.token(None)))
        .await;
    assert_eq!(log["deliveries"].as_array().unwrap().len(), 1, "{log}");
}
