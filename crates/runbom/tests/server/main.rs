//! `runbom serve`, `runbom admin token`, `runbom push` and `runbom run --server` against a real
//! server process on 127.0.0.1 (a random port): authentication, limits, gzip, idempotency,
//! escaping, the OpenAPI document, alerts to a local webhook receiver, and hooked programs
//! reporting through a server that is killed and restarted.

mod access;
mod agent;
mod browser;
mod browser_languages;
#[path = "../common/mod.rs"]
mod common;
mod demo;
mod enforce;
mod faults;
mod feed;
mod harness;
mod heartbeats;
mod redaction;
mod reporting;
mod ruby;
mod scale_out;
mod tcl;
mod triage;
mod updates;

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};

use harness::{Receiver, Server, gzip, report};

#[tokio::test]
async fn reports_need_an_app_token_of_their_own_application() {
    let server = Server::start(&[]).await;
    let app = server.token(Some("shop"));
    let admin = server.token(None);
    let body = report("r1", "s1", "shop", &[("PyYAML", "6.0", true)]);

    assert_eq!(server.post_report(None, &body).await.0, 401);
    assert_eq!(
        server.post_report(Some("runbom_app_forged"), &body).await.0,
        401
    );
    assert_eq!(server.post_report(Some(&admin), &body).await.0, 403);
    let other = report("r2", "s1", "billing", &[]);
    assert_eq!(server.post_report(Some(&app), &other).await.0, 403);
    assert_eq!(server.post_report(Some(&app), &body).await.0, 201);

    let (status, _) = server.get_with("/api/v1/admin/webhooks", Some(&app)).await;
    assert_eq!(status, 403, "an app token is no admin token");
    let (status, _) = server.get_with("/api/v1/admin/webhooks", None).await;
    assert_eq!(status, 401);
    let (status, tokens) = server.get_with("/api/v1/admin/tokens", Some(&admin)).await;
    assert_eq!(status, 200);
    assert_eq!(
        tokens["tokens"].as_array().unwrap().len(),
        3,
        "setup, app, admin"
    );
    assert!(
        !tokens.to_string().contains(&app),
        "secrets are never listed"
    );
}

#[tokio::test]
async fn a_revoked_token_is_refused() {
    let server = Server::start(&[]).await;
    let app = server.token(Some("shop"));
    let id = server.token_ids()[0].clone();
    server.runbom(&["admin", "token", "revoke", &id]).success();
    let body = report("r1", "s1", "shop", &[]);
    assert_eq!(server.post_report(Some(&app), &body).await.0, 401);
}

#[tokio::test]
async fn a_token_revoked_through_the_api_is_refused_at_once_though_just_used() {
    let server = Server::start(&[]).await;
    let app = server.token(Some("shop"));
    let admin = server.token(None);
    let listing = server.runbom(&["admin", "token", "list"]).success();
    let listing = String::from_utf8(listing.get_output().stdout.clone()).unwrap();
    let id = listing
        .lines()
        .find(|line| line.contains("shop"))
        .and_then(|line| line.split_whitespace().next())
        .unwrap()
        .to_owned();
    let body = report("r1", "s1", "shop", &[]);
    assert_eq!(server.post_report(Some(&app), &body).await.0, 201);
    let revoked = reqwest::Client::new()
        .delete(format!("{}/api/v1/admin/tokens/{id}", server.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);
    let body = report("r2", "s1", "shop", &[]);
    assert_eq!(server.post_report(Some(&app), &body).await.0, 401);
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_and_after_gzip() {
    let server = Server::start(&["--max-body", "20000"]).await;
    let app = server.token(Some("shop"));
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(30_000));
    assert_eq!(
        server.post_raw(&app, big.clone().into_bytes(), false).await,
        413
    );
    assert_eq!(server.post_raw(&app, gzip(big.as_bytes()), true).await, 413);
}

#[tokio::test]
async fn gzip_reports_are_accepted_and_resends_are_idempotent() {
    let server = Server::start(&[]).await;
    let app = server.token(Some("shop"));
    let body = report("r1", "s1", "shop", &[("PyYAML", "6.0", true)]);
    let bytes = gzip(body.to_string().as_bytes());
    assert_eq!(server.post_raw(&app, bytes.clone(), true).await, 201);
    assert_eq!(server.post_raw(&app, bytes, true).await, 200);
    let (status, answer) = server.post_report(Some(&app), &body).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("duplicate"))
    );

    let (_, shop) = server.get("/api/v1/applications/shop").await;
    assert_eq!(shop["instances"].as_array().unwrap().len(), 1);
    assert_eq!(shop["components"][0]["name"], "pyyaml");
    assert_eq!(shop["components"][0]["loaded_by"], 1);
}

#[tokio::test]
async fn invalid_reports_are_refused_with_the_place() {
    let server = Server::start(&[]).await;
    let app = server.token(Some("shop"));
    let (status, answer) = server
        .post_raw_json(&app, b"{\n \"schema\": 1 }".to_vec())
        .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("line 2"),
        "{answer}"
    );
    let mut wrong = report("r1", "s1", "shop", &[]);
    wrong["schema"] = json!("runbom.runtime-report/v9");
    assert_eq!(server.post_report(Some(&app), &wrong).await.0, 422);
}

#[tokio::test]
async fn hostile_package_names_render_as_text() {
    let server = Server::start(&[]).await;
    let app = server.token(Some("shop"));
    let hostile = "<img src=x onerror=alert(1)>";
    let body = report("r1", "s1", "shop", &[(hostile, "1.0", true)]);
    assert_eq!(server.post_report(Some(&app), &body).await.0, 201);
    for path in ["/apps/shop", "/search?q=img"] {
        let (status, headers, html) = server.get_html(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<img"), "{path} has raw markup: {html}");
        assert!(
            html.contains("&#60;img src=x onerror=alert(1)&#62;"),
            "{path}: {html}"
        );
        let csp = headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
    }
}

#[tokio::test]
async fn an_empty_dashboard_says_how_to_send_the_first_report() {
    let server = Server::start(&[]).await;
    let (status, _, html) = server.get_html("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("No reports yet"), "{html}");
    assert!(
        html.contains("runbom admin token create --app shop")
            && html.contains("runbom run --app shop"),
        "{html}"
    );

    let app = server.token(Some("shop"));
    let body = report("r1", "s1", "shop", &[("PyYAML", "6.0", true)]);
    assert_eq!(server.post_report(Some(&app), &body).await.0, 201);
    let (_, _, html) = server.get_html("/").await;
    assert!(!html.contains("No reports yet"), "{html}");
}

#[tokio::test]
async fn every_documented_read_answers() {
    let server = Server::start(&[]).await;
    let (status, spec) = server.get_with("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/reports"));
    for (path, item) in paths {
        if item.get("get").is_none() || path.contains('{') || path.ends_with("/events") {
            continue;
        }
        let (status, _) = server.get_with(path, Some(&server.token(None))).await;
        assert_eq!(status, 200, "{path}");
    }
}

#[tokio::test]
async fn an_unexpected_component_alerts_a_webhook_naming_the_instance() {
    let receiver = Receiver::start().await;
    let slack_url = format!("{}/slack", receiver.url());
    let server =
        Server::start(&["--webhook", &receiver.url(), "--slack-webhook", &slack_url]).await;
    let app = server.token(Some("shop"));

    let dir = tempfile::tempdir().unwrap();
    let requirements = dir.path().join("requirements.txt");
    std::fs::File::create(&requirements)
        .unwrap()
        .write_all(b"pyyaml==6.0\n")
        .unwrap();
    server
        .runbom(&[
            "push",
            "--expected",
            requirements.to_str().unwrap(),
            "--app",
            "shop",
            "--release",
            "1.0",
            "--server",
            &server.url,
            "--token",
            &app,
        ])
        .success();

    let body = report(
        "r1",
        "s1",
        "shop",
        &[("PyYAML", "6.0", true), ("evil-pkg", "0.1", true)],
    );
    assert_eq!(server.post_report(Some(&app), &body).await.0, 201);

    let alerts = receiver.wait_for(2, Duration::from_secs(30)).await;
    let generic = alerts
        .iter()
        .find(|a| a.get("event").is_some())
        .expect("a JSON alert");
    assert_eq!(generic["kind"], "unexpected");
    assert_eq!(generic["component"]["name"], "evil-pkg");
    assert_eq!(generic["instances"][0]["host"], "web-1");
    assert_eq!(generic["instances"][0]["pid"], 4242);
    let slack = alerts
        .iter()
        .find(|a| a.get("text").is_some())
        .expect("a Slack alert");
    assert!(
        slack["text"].as_str().unwrap().contains("web-1:4242"),
        "{slack}"
    );

    // The same finding is not alerted again on the next report.
    let heartbeat = report(
        "r2",
        "s1",
        "shop",
        &[("PyYAML", "6.0", true), ("evil-pkg", "0.1", true)],
    );
    assert_eq!(server.post_report(Some(&app), &heartbeat).await.0, 201);
    let (_, log) = server
        .get_with("/api/v1/admin/deliveries", Some(&server.token(None)))
        .await;
    let delivered: Vec<&Value> = log["deliveries"].as_array().unwrap().iter().collect();
    assert_eq!(delivered.len(), 2, "{log}");
    let (_, overview) = server.get("/api/v1/overview").await;
    assert_eq!(overview["unexpected_components"], 1);
}

#[tokio::test]
async fn an_advisory_import_alerts_a_webhook_naming_the_running_instances() {
    let receiver = Receiver::start().await;
    let server = Server::start(&["--webhook", &receiver.url()]).await;
    let app = server.token(Some("shop"));
    for (i, (host, loaded)) in [("web-1", true), ("web-2", true), ("worker-1", false)]
        .into_iter()
        .enumerate()
    {
        let mut body = report(
            &format!("r{i}"),
            &format!("s{i}"),
            "shop",
            &[("PyYAML", "5.3", loaded)],
        );
        body["host"] = json!(host);
        body["processes"][0]["pid"] = json!(100 + i);
        assert_eq!(server.post_report(Some(&app), &body).await.0, 201);
    }

    server
        .import_advisory(include_str!("../../testdata/server/PYSEC-2021-142.json"))
        .await;

    let alerts = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(alerts[0]["kind"], "vulnerable");
    assert_eq!(alerts[0]["advisory"], "PYSEC-2021-142");
    assert_eq!(
        alerts[0]["component"],
        json!({"name": "pyyaml", "version": "5.3"})
    );
    assert_eq!(alerts[0]["in_use"], true);
    let mut hosts: Vec<&str> = alerts[0]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["host"].as_str().unwrap())
        .collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["web-1", "web-2", "worker-1"]);

    let (_, advisory) = server.get("/api/v1/advisories/CVE-2020-14343").await;
    assert_eq!(advisory["findings"][0]["app"], "shop");
    let (_, overview) = server.get("/api/v1/overview").await;
    // PYSEC records carry no severity.
    assert_eq!(overview["vulnerable_in_use"], json!([["unknown", 1]]));
    // Counted from the advisory's arrival in the store (just now), not its publication in 2021.
    let mttd = overview["mean_seconds_to_detect"].as_i64().unwrap();
    assert!((0..60).contains(&mttd), "{mttd}");
}
