//! The probe of `bench/detect/run`: the time from an advisory import into a running server's
//! store to the webhook that names the affected instance.
//!
//! It registers a webhook to its own receiver on 127.0.0.1, reports an instance running the
//! component the advisory affects, then, `--rounds` times, imports a copy of the advisory under a
//! new id (as `runbom db import` would, from another process) and waits for its alert.
//!
//! ```text
//! cargo run --release -p runbom-server --example detect_latency -- --server URL --db LOC \
//!     --token APP_TOKEN --admin ADMIN_TOKEN --advisory OSV.json --package NAME --version V \
//!     [--rounds 10]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a failed unwrap ends it, loudly

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Longest wait for one alert.
const LIMIT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.chunks(2)
            .find(|pair| pair[0] == name)
            .and_then(|pair| pair.get(1).cloned())
    };
    let need = |name: &str| flag(name).unwrap_or_else(|| panic!("{name} is required"));
    let server = need("--server").trim_end_matches('/').to_owned();
    let rounds: usize = flag("--rounds").map_or(10, |r| r.parse().unwrap());
    let (package, version) = (need("--package"), need("--version"));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();

    let (url, mut alerts) = receiver().await;
    let answer = client
        .post(format!("{server}/api/v1/admin/webhooks"))
        .bearer_auth(need("--admin"))
        .json(&json!({"url": url, "format": "json"}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    let answer = client
        .post(format!("{server}/api/v1/reports"))
        .bearer_auth(need("--token"))
        .json(&report(&package, &version))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());

    let record: Value =
        serde_json::from_slice(&std::fs::read(need("--advisory")).expect("the advisory")).unwrap();
    let store = runbom_store::Store::open(&need("--db")).await.unwrap();
    let mut times = Vec::new();
    for round in 0..rounds {
        let id = format!("BENCH-{}-{round}", std::process::id());
        let mut copy = record.clone();
        copy["id"] = json!(id);
        copy["aliases"] = json!([]);
        copy["modified"] = json!(runbom_server::rfc3339(now_ms()));
        let advisory: runbom_model::Advisory = serde_json::from_value(copy).unwrap();
        let source = runbom_store::ImportSource {
            name: "bench".to_owned(),
            location: "bench".to_owned(),
            ..Default::default()
        };
        let began = Instant::now();
        store
            .import_advisories(&source, [Ok::<_, std::convert::Infallible>(advisory)])
            .await
            .unwrap();
        loop {
            let alert = tokio::time::timeout(LIMIT.saturating_sub(began.elapsed()), alerts.recv())
                .await
                .expect("no alert in time")
                .expect("the receiver stopped");
            if alert["advisory"] == id.as_str() {
                break;
            }
        }
        let took = began.elapsed();
        println!("round {round}: alert {:.0} ms after the import", ms(took));
        times.push(took);
    }
    times.sort_unstable();
    println!(
        "advisory import -> webhook over {rounds} rounds: median {:.0} ms, max {:.0} ms",
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
    store.close().await;
}

/// A small runtime report of one instance that loaded `package` `version`.
fn report(package: &str, version: &str) -> Value {
    let normalized = package.to_lowercase();
    json!({
        "schema": "runbom.runtime-report/v1",
        "report_id": format!("bench-detect-{}", std::process::id()),
        "session_id": format!("bench-detect-{}", std::process::id()),
        "host": "bench-host", "started_at": runbom_server::rfc3339(now_ms()),
        "reported_at": runbom_server::rfc3339(now_ms()), "command": ["python3", "app.py"],
        "interpreter": { "executable": "/usr/bin/python3", "implementation": "cpython",
                         "version": "3.11.7", "prefix": "/usr" },
        "processes": [{ "pid": 4242, "parent_pid": 1, "started_at": runbom_server::rfc3339(now_ms()),
                        "argv": ["app.py"], "executable": "/usr/bin/python3", "modules_loaded": 1,
                        "hook_errors": 0, "exited": false }],
        "distributions": [{
            "name": package, "normalized_name": normalized, "version": version,
            "purl": format!("pkg:pypi/{normalized}@{version}"), "location": "/site", "size": 1,
            "modules": [{ "name": normalized.replace('-', "_"), "pids": [4242] }],
        }],
        "stdlib_modules": [], "unowned_modules": [], "hook_errors": 0,
    })
}

/// A webhook receiver on 127.0.0.1: its URL, and every JSON body posted to it.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let _ = tx.send(body);
            async {}
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
