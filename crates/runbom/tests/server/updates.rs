//! The server's update tracking (`runbom serve --updates-interval`) against a PyPI simple index
//! on 127.0.0.1 serving PyPI's recorded answer for `requests` (whose 2.32.0 and 2.32.1 are
//! really yanked): a new release opens an `outdated` finding, a yanked release a `yanked` finding
//! with an alert, answers are revalidated (304), an index that is down leaves the server serving
//! while the poller backs off, and two servers on one store poll once.

#![allow(clippy::unwrap_used)] // test: a failed unwrap is a failed test

use std::collections::HashMap;
use std::time::{Duration, Instant};

use runbom_sources::index::testing::{IndexServer, Route};
use serde_json::Value;

use crate::harness::{Receiver, Server, report};

const PROJECT: &str = "/simple/requests/";

/// PyPI's answer for `requests`, recorded (`runbom-sources/testdata/index/pypi`).
fn requests_page() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../runbom-sources/testdata/index/pypi/requests.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The same answer as it was before 2.32.4 came out: the newer versions and their files left out.
fn requests_page_before_2_32_4() -> Value {
    let newer = |version: &str| {
        ["2.32.4", "2.32.5", "2.33.", "2.34."]
            .iter()
            .any(|prefix| version.starts_with(prefix))
    };
    let mut page = requests_page();
    page["versions"]
        .as_array_mut()
        .unwrap()
        .retain(|v| !newer(v.as_str().unwrap()));
    page["files"].as_array_mut().unwrap().retain(|f| {
        let name = f["filename"].as_str().unwrap();
        let version = name.trim_start_matches("requests-");
        !newer(version)
    });
    page
}

fn route(page: &Value) -> Route {
    Route {
        content_type: "application/vnd.pypi.simple.v1+json".to_owned(),
        body: serde_json::to_vec(page).unwrap(),
    }
}

fn index(page: &Value) -> IndexServer {
    IndexServer::start(HashMap::from([(PROJECT.to_owned(), route(page))])).unwrap()
}

/// `--updates-interval 1` against `index`.
fn polling(index: &IndexServer) -> Vec<String> {
    vec![
        "--updates-interval".to_owned(),
        "1".to_owned(),
        "--index-url".to_owned(),
        format!("{}simple/", index.url()),
    ]
}

/// Waits until `done` holds (panics after a generous bound: not a timing assertion).
async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The open findings of `app` of one kind.
async fn findings_of(server: &Server, app: &str, kind: &str) -> Vec<Value> {
    let (status, body) = server.get(&format!("/api/v1/findings?app={app}")).await;
    assert_eq!(status, 200, "{body}");
    body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .cloned()
        .collect()
}

fn statuses(index: &IndexServer) -> Vec<u16> {
    index
        .requests()
        .into_iter()
        .filter(|(path, _)| path == PROJECT)
        .map(|(_, status)| status)
        .collect()
}

#[tokio::test]
async fn a_new_release_opens_an_outdated_finding_and_a_yanked_release_alerts() {
    let index = index(&requests_page_before_2_32_4());
    let receiver = Receiver::start().await;
    let mut args = polling(&index);
    args.extend(["--webhook".to_owned(), receiver.url()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args).await;
    let shop = server.token(Some("shop"));
    let body = report("r1", "s1", "shop", &[("requests", "2.32.3", true)]);
    assert_eq!(server.post_report(Some(&shop), &body).await.0, 201);

    // Asked, then revalidated: the cached answer is sent back with its ETag and 304 comes back.
    wait_until("a revalidation", async || statuses(&index).contains(&304)).await;
    assert_eq!(statuses(&index)[0], 200, "{:?}", index.requests());
    assert!(
        findings_of(&server, "shop", "outdated").await.is_empty(),
        "2.32.3 is the newest release so far"
    );

    index.set_route(PROJECT, route(&requests_page()));
    wait_until("an outdated finding", async || {
        !findings_of(&server, "shop", "outdated").await.is_empty()
    })
    .await;
    let outdated = &findings_of(&server, "shop", "outdated").await[0];
    assert_eq!(outdated["severity"], "low");
    assert_eq!(
        outdated["summary"],
        "requests 2.32.3 is 715 days behind the newest release 2.34.2"
    );
    let alerts = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(alerts[0]["kind"], "outdated");

    let billing = server.token(Some("billing"));
    let body = report("r2", "s2", "billing", &[("requests", "2.32.0", true)]);
    assert_eq!(server.post_report(Some(&billing), &body).await.0, 201);
    let alerts = receiver.wait_for(2, Duration::from_secs(30)).await;
    let yanked = alerts.iter().find(|a| a["kind"] == "yanked").unwrap();
    assert_eq!(yanked["app"], "billing");
    assert_eq!(
        yanked["summary"],
        "requests 2.32.0 was yanked from the PyPI index (Yanked due to conflicts with \
         CVE-2024-35195 mitigation); upgrade to 2.34.2"
    );
    assert_eq!(yanked["severity"], "medium");
    let (_, overview) = server.get("/api/v1/overview").await;
    assert_eq!(
        (&overview["outdated"], &overview["yanked"]),
        (&Value::from(1), &Value::from(1)),
        "{overview}"
    );
    let (_, _, page) = server.get_html("/").await;
    for tile in [
        r#"id="kpi-outdated">1</span><span"#,
        r#"id="kpi-yanked">1</span><span"#,
    ] {
        assert!(page.contains(tile), "no {tile} on the dashboard");
    }
    assert!(page.contains("running a yanked release"), "{page}");
}

#[tokio::test]
async fn an_index_that_is_down_leaves_the_server_serving_and_the_poller_backs_off() {
    let index = index(&requests_page());
    index.set_down(true);
    let args = polling(&index);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args).await;
    let shop = server.token(Some("shop"));
    let body = report("r1", "s1", "shop", &[("requests", "2.32.3", true)]);
    assert_eq!(server.post_report(Some(&shop), &body).await.0, 201);

    let backing_off = |wait: &str| {
        let wait = format!("next poll in {wait} ms");
        server.log().iter().any(|l| l.contains(&wait))
    };
    wait_until("two failed polls", async || {
        backing_off("2000") && backing_off("4000")
    })
    .await;
    let line = server
        .log()
        .into_iter()
        .find(|l| l.contains("2000 ms"))
        .unwrap();
    assert!(
        line.contains("package index down (1 of 1 projects failed") && line.contains("HTTP 503"),
        "{line}"
    );
    let (status, _) = server.get("/api/v1/findings?app=shop").await;
    assert_eq!(status, 200, "the server serves while the index is down");
    assert_eq!(
        server
            .post_report(Some(&shop), &report("r2", "s1", "shop", &[]))
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn two_servers_on_one_store_poll_the_index_once() {
    let index = index(&requests_page());
    let args = polling(&index);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = Server::start(&args).await;
    let second = first.another(&args);
    let shop = first.token(Some("shop"));
    let body = report("r1", "s1", "shop", &[("requests", "2.32.3", true)]);
    assert_eq!(second.post_report(Some(&shop), &body).await.0, 201);

    wait_until("three polls", async || statuses(&index).len() >= 3).await;
    // Each server has a cache of its own: had both polled, both would have downloaded once.
    let statuses = statuses(&index);
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses[1..].iter().all(|s| *s == 304), "{statuses:?}");
    wait_until("the outdated finding on both", async || {
        !findings_of(&first, "shop", "outdated").await.is_empty()
            && !findings_of(&second, "shop", "outdated").await.is_empty()
    })
    .await;
}

/// The PyPA records of PyYAML carry no severity; the CVE record one of them aliases does.
#[tokio::test]
async fn findings_take_their_severity_from_aliases_name_the_upgrade_and_come_most_urgent_first() {
    let server = Server::start(&[]).await;
    let testdata = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/server");
    server
        .runbom(&["db", "import", &format!("{testdata}/pypa-pyyaml")])
        .success();
    server
        .runbom(&["db", "import", &format!("{testdata}/CVE-2020-14343.json")])
        .success();
    let shop = server.token(Some("shop"));
    let body = report(
        "r1",
        "s1",
        "shop",
        &[("PyYAML", "5.3", false), ("urllib3", "1.26.4", true)],
    );
    assert_eq!(server.post_report(Some(&shop), &body).await.0, 201);
    server
        .import_advisory(include_str!("../../testdata/server/PYSEC-2021-108.json"))
        .await;

    wait_until("three vulnerability findings", async || {
        findings_of(&server, "shop", "vulnerable").await.len() == 3
    })
    .await;
    let found: Vec<(String, String, bool, Value, Value)> =
        findings_of(&server, "shop", "vulnerable")
            .await
            .iter()
            .map(|f| {
                (
                    f["advisory"].as_str().unwrap_or_default().to_owned(),
                    f["severity"].as_str().unwrap().to_owned(),
                    f["in_use"].as_bool().unwrap(),
                    f["detail"]["fixed"].clone(),
                    f["detail"]["upgrade"].clone(),
                )
            })
            .collect();
    let expected = [
        // critical, only installed: 5; unknown but in use: 2; unknown, installed: 1.
        ("PYSEC-2021-142", "critical", false, "5.4", "5.4"),
        ("PYSEC-2021-108", "unknown", true, "1.26.5", "1.26.5"),
        ("PYSEC-2020-96", "unknown", false, "5.3.1", "5.4"),
    ];
    let expected: Vec<(String, String, bool, Value, Value)> = expected
        .iter()
        .map(|(id, severity, in_use, fixed, upgrade)| {
            (
                (*id).to_owned(),
                (*severity).to_owned(),
                *in_use,
                Value::from(*fixed),
                Value::from(*upgrade),
            )
        })
        .collect();
    assert_eq!(found, expected);
    let (_, _, page) = server.get_html("/apps/shop").await;
    let critical = page.find("PYSEC-2021-142").unwrap();
    assert!(
        critical < page.find("PYSEC-2020-96").unwrap(),
        "the dashboard lists the most urgent first"
    );
    assert!(
        page.contains(r#"<span class="upgrade">upgrade to 5.4</span>"#),
        "{page}"
    );
    let (_, listed) = server.get("/api/v1/findings?app=shop").await;
    let key = listed["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["advisory"] == "PYSEC-2020-96")
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, page) = server.get_html(&format!("/findings/{key}")).await;
    assert!(
        page.contains("5.3.1; 5.4 is the smallest upgrade that clears every advisory of pyyaml"),
        "{page}"
    );
    let (_, vex) = server.get("/api/v1/applications/shop/vex").await;
    let recommendations: Vec<&str> = vex["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["recommendation"].as_str())
        .collect();
    assert!(
        recommendations.contains(&"upgrade pyyaml to 5.4 or later"),
        "{recommendations:?}"
    );
}
