//! Who may see what, against a real server: every route of the OpenAPI document and every
//! dashboard page refuses an anonymous request (401) and answers a caller outside the owning
//! team with 403 or 404 (or without the other team's data); scopes are enforced; a new store is
//! never open; dashboard logins are rate-limited, their cookies unforgeable and dead after
//! logout, and forms need their CSRF token.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Server, report};

/// A PYSEC advisory on PyYAML 5.3 (see `testdata/server/`).
pub(crate) const ADVISORY: &str = include_str!("../../testdata/server/PYSEC-2021-142.json");

/// Every API route with its path parameters filled for application `shop` (and `key`, one of
/// its findings).
fn api_routes(spec: &Value, key: &str) -> Vec<(Method, String)> {
    let mut routes = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let filled = path
            .replace("{app}", "shop")
            .replace("{release}", "1.0")
            .replace("{name}", "pyyaml")
            .replace("{id}", "PYSEC-2021-142")
            .replace("{team}", "web")
            .replace("{key}", key);
        for method in item.as_object().unwrap().keys() {
            routes.push((
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                filled.clone(),
            ));
        }
    }
    routes
}

/// `shop` (owned by team `web`) runs a vulnerable PyYAML; `billing` (team `payments`) runs idna.
pub(crate) async fn two_teams() -> (Server, String, String) {
    let server = Server::start(&[]).await;
    let web = server
        .team_token("web", &["shop"], "read,upload,triage")
        .await;
    let payments = server
        .team_token("payments", &["billing"], "read,upload,triage")
        .await;
    let shop = server.token(Some("shop"));
    let billing = server.token(Some("billing"));
    let body = report("r1", "s1", "shop", &[("PyYAML", "5.3", true)]);
    assert_eq!(server.post_report(Some(&shop), &body).await.0, 201);
    let body = report("r2", "s2", "billing", &[("idna", "3.7", true)]);
    assert_eq!(server.post_report(Some(&billing), &body).await.0, 201);
    server.import_advisory(ADVISORY).await;
    // The detector opens the finding soon after the import.
    for _ in 0..300 {
        let (_, findings) = server.get("/api/v1/findings").await;
        if !findings["findings"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    (server, web, payments)
}

/// The key of shop's one finding (PyYAML 5.3, opened by [`two_teams`]).
pub(crate) async fn shop_finding(server: &Server) -> String {
    let (_, findings) = server.get("/api/v1/findings?app=shop").await;
    findings["findings"][0]["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_store_prints_an_admin_token_once_and_is_never_open() {
    let mut server = Server::start(&[]).await;
    assert!(
        server.admin.starts_with("runbom_admin_"),
        "{}",
        server.admin
    );
    let (status, _) = server.get("/api/v1/admin/tokens").await;
    assert_eq!(status, 200, "the setup token administers");
    assert_eq!(server.get_with("/api/v1/overview", None).await.0, 401);
    server.kill();
    // The harness asserts that a restart prints no setup token again.
    server.restart(&[]);
    assert_eq!(server.get("/api/v1/overview").await.0, 200);
}

#[tokio::test]
async fn the_setup_token_may_come_from_the_environment_and_must_be_strong() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let weak = assert_cmd::Command::cargo_bin("runbom")
        .unwrap()
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("RUNBOM_SETUP_SECRET", "short")
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&weak.get_output().stderr).into_owned();
    assert!(
        stderr.contains("RUNBOM_SETUP_SECRET") && stderr.contains("24"),
        "{stderr}"
    );
}

#[tokio::test]
async fn every_route_refuses_an_anonymous_caller() {
    let (server, _, _) = two_teams().await;
    let (_, spec) = server.get_with("/api/v1/openapi.json", None).await;
    for (method, path) in api_routes(&spec, &shop_finding(&server).await) {
        if path == "/api/v1/openapi.json" {
            continue;
        }
        let (status, answer) = server.send(method.clone(), &path, None, &json!({})).await;
        assert_eq!(status, 401, "{method} {path}: {answer}");
        let forged = Some("runbom_admin_0000");
        let (status, _) = server.send(method.clone(), &path, forged, &json!({})).await;
        assert_eq!(status, 401, "{method} {path} with a forged token");
    }
    for page in [
        "/",
        "/apps/shop",
        "/components/pyyaml",
        "/advisories/PYSEC-2021-142",
        "/search?q=shop",
        "/logout",
        "/findings/0",
    ] {
        let (status, _, html) = server.get_html_with(page, None).await;
        assert_eq!(status, 401, "{page}");
        assert!(
            html.contains("action=\"/login\""),
            "{page} shows the login form: {html}"
        );
        assert!(!html.contains("pyyaml"), "{page} leaks data: {html}");
    }
}

#[tokio::test]
async fn every_route_keeps_another_teams_application_out_of_reach() {
    let (server, web, payments) = two_teams().await;
    let (_, spec) = server.get_with("/api/v1/openapi.json", None).await;
    let key = shop_finding(&server).await;
    for (method, path) in api_routes(&spec, &key) {
        if path.ends_with("/events") {
            continue; // a stream that never ends: see `live_events_are_kept_within_reach`
        }
        let (status, answer) = server
            .send(method.clone(), &path, Some(&payments), &json!({}))
            .await;
        let text = answer.to_string();
        match (status, path.as_str()) {
            (403 | 404, _) => {}
            // What answers 200 to payments holds nothing of shop's.
            (200, _) => assert!(
                !text.contains("\"shop\""),
                "{method} {path} shows shop to payments: {text}"
            ),
            // A body this test does not fill is refused before anything is done.
            (400 | 415 | 422, _) => {}
            _ => panic!("{method} {path}: {status} {text}"),
        }
        // The owner's token reads shop where payments' could not.
        if method == Method::GET && (path.contains("shop") || path.contains(&key)) {
            let (status, answer) = server.get_with(&path, Some(&web)).await;
            assert_eq!(status, 200, "{path}: {answer}");
        }
    }
    for page in ["/apps/shop", "/components/pyyaml"] {
        let (status, _, html) = server.get_html_with(page, Some(&payments)).await;
        assert_eq!(status, 404, "{page}: {html}");
        let (status, _, _) = server.get_html_with(page, Some(&web)).await;
        assert_eq!(status, 200, "{page}");
    }
    for page in ["/", "/advisories/PYSEC-2021-142", "/search?q=py"] {
        let (status, _, html) = server.get_html_with(page, Some(&payments)).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            !html.contains("/apps/shop") && !html.contains(">pyyaml<"),
            "{page}: {html}"
        );
    }
    let (_, _, html) = server.get_html_with("/", Some(&web)).await;
    assert!(
        html.contains("/apps/shop") && !html.contains("/apps/billing"),
        "{html}"
    );

    // Scoped key risk indicators: payments' overview counts billing only.
    let (_, overview) = server.get_with("/api/v1/overview", Some(&payments)).await;
    assert_eq!(
        (
            overview["applications"].as_i64(),
            overview["vulnerable_in_use"].clone()
        ),
        (Some(1), json!([]))
    );
    let (_, overview) = server.get_with("/api/v1/overview", Some(&web)).await;
    assert_eq!(overview["vulnerable_in_use"], json!([["unknown", 1]]));
}

#[tokio::test]
async fn live_events_are_kept_within_reach() {
    let server = Server::start(&[]).await;
    let payments = server.team_token("payments", &["billing"], "read").await;
    let (shop, billing) = (server.token(Some("shop")), server.token(Some("billing")));
    let mut events = reqwest::Client::new()
        .get(format!("{}/api/v1/events", server.url))
        .bearer_auth(&payments)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status().as_u16(), 200);
    let body = report("r1", "s1", "shop", &[("PyYAML", "6.0", true)]);
    assert_eq!(server.post_report(Some(&shop), &body).await.0, 201);
    let body = report("r2", "s2", "billing", &[("idna", "3.7", true)]);
    assert_eq!(server.post_report(Some(&billing), &body).await.0, 201);
    let mut seen = String::new();
    while !seen.contains("billing") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), events.chunk())
            .await
            .expect("an event within a minute")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!seen.contains("shop"), "payments was told of shop: {seen}");
}

#[tokio::test]
async fn scopes_limit_what_a_token_may_do() {
    let server = Server::start(&[]).await;
    let reader = server.team_token("web", &["shop"], "read").await;
    let shop = server.token(Some("shop"));
    let body = report("r1", "s1", "shop", &[("PyYAML", "6.0", true)]);
    assert_eq!(
        server.post_report(Some(&reader), &body).await.0,
        403,
        "read may not report"
    );
    assert_eq!(server.post_report(Some(&shop), &body).await.0, 201);
    assert_eq!(
        server
            .get_with("/api/v1/applications/shop", Some(&shop))
            .await
            .0,
        403,
        "an app token reports, it does not read"
    );
    assert_eq!(
        server
            .get_with("/api/v1/applications/shop", Some(&reader))
            .await
            .0,
        200
    );
    let expected = json!({ "source": "test", "components": [] });
    let (status, _) = server
        .send(
            Method::PUT,
            "/api/v1/applications/shop/releases/1/expected",
            Some(&reader),
            &expected,
        )
        .await;
    assert_eq!(status, 403, "read may not upload");
    assert_eq!(
        server
            .get_with("/api/v1/admin/tokens", Some(&reader))
            .await
            .0,
        403
    );
    assert_eq!(
        server.get_with("/api/v1/trends", Some(&reader)).await.0,
        403,
        "trends are portfolio-wide"
    );
    let asked = json!({ "team": "web", "scopes": "report" });
    let (status, answer) = server
        .send(
            Method::POST,
            "/api/v1/admin/tokens",
            Some(&server.admin),
            &asked,
        )
        .await;
    assert_eq!(status, 422, "report needs one application: {answer}");
    let asked = json!({ "team": "web", "scopes": "read,root" });
    let (status, answer) = server
        .send(
            Method::POST,
            "/api/v1/admin/tokens",
            Some(&server.admin),
            &asked,
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        answer["error"].as_str().unwrap().contains("`root`"),
        "{answer}"
    );
}

/// The dashboard as a browser sees it: a login form (with its CSRF cookie), then a session
/// cookie.
pub(crate) struct Browser<'s> {
    server: &'s Server,
    client: reqwest::Client,
}

/// The `name=value` of a `Set-Cookie` header named `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value of hidden input `csrf` in a page.
pub(crate) fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let encoded: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={encoded}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl<'s> Browser<'s> {
    pub(crate) fn new(server: &'s Server) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { server, client }
    }

    /// Logs in; the status and the session cookie (`runbom_session=…`) on success.
    pub(crate) async fn log_in(&self, user: &str, password: &str) -> (u16, Option<String>) {
        let page = self
            .client
            .get(format!("{}/login", self.server.url))
            .send()
            .await
            .unwrap();
        let cookie = set_cookie(&page, "runbom_login").unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        assert!(
            set_cookie(&page, "runbom_login")
                .unwrap()
                .contains("SameSite=Strict")
        );
        let csrf = csrf_of(&page.text().await.unwrap());
        self.post_login(
            &cookie,
            &[("user", user), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    async fn post_login(&self, cookie: &str, fields: &[(&str, &str)]) -> (u16, Option<String>) {
        let answer = self
            .client
            .post(format!("{}/login", self.server.url))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(fields))
            .send()
            .await
            .unwrap();
        let session = set_cookie(&answer, "runbom_session");
        if let Some(session) = &session {
            for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
                assert!(session.contains(flag), "{flag} missing: {session}");
            }
        }
        let session = session.map(|c| c.split(';').next().unwrap().to_owned());
        (answer.status().as_u16(), session)
    }

    pub(crate) async fn get(&self, path: &str, cookie: &str) -> (u16, String) {
        let answer = self
            .client
            .get(format!("{}{path}", self.server.url))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }

    pub(crate) async fn post(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> u16 {
        self.client
            .post(format!("{}{path}", self.server.url))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(fields))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

pub(crate) const PASSWORD: &str = "a long enough passphrase";

/// Creates user `name` in team `web` over the API.
pub(crate) async fn user(server: &Server, name: &str) {
    server.team_token("web", &["shop"], "read").await;
    let asked = json!({ "name": name, "password": PASSWORD, "teams": ["web"] });
    let (status, answer) = server
        .send(
            Method::POST,
            "/api/v1/admin/users",
            Some(&server.admin),
            &asked,
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test]
async fn a_user_logs_in_sees_their_teams_applications_and_logs_out_for_good() {
    let (server, _, _) = two_teams().await;
    user(&server, "ana").await;
    let browser = Browser::new(&server);
    let (status, cookie) = browser.log_in("ana", PASSWORD).await;
    assert_eq!(status, 303);
    let cookie = cookie.unwrap();
    let (status, html) = browser.get("/", &cookie).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("/apps/shop") && !html.contains("/apps/billing"),
        "{html}"
    );
    assert_eq!(browser.get("/apps/billing", &cookie).await.0, 404);
    let (status, answer) = browser.get("/api/v1/applications", &cookie).await;
    assert_eq!(status, 200, "the API takes the session too");
    assert!(
        answer.contains("shop") && !answer.contains("billing"),
        "{answer}"
    );

    // Logging out needs the form's CSRF token.
    let (_, page) = browser.get("/logout", &cookie).await;
    let csrf = csrf_of(&page);
    assert_eq!(
        browser.post("/logout", &cookie, &[]).await,
        403,
        "no CSRF token"
    );
    assert_eq!(
        browser.post("/logout", &cookie, &[("csrf", "0000")]).await,
        403,
        "a wrong one"
    );
    assert_eq!(browser.get("/", &cookie).await.0, 200, "still logged in");
    assert_eq!(
        browser.post("/logout", &cookie, &[("csrf", &csrf)]).await,
        303
    );
    // The same cookie, replayed after logout, is refused.
    assert_eq!(browser.get("/", &cookie).await.0, 401);
    assert_eq!(browser.get("/api/v1/overview", &cookie).await.0, 401);
}

#[tokio::test]
async fn forged_cookies_and_forged_login_forms_are_refused() {
    let server = Server::start(&[]).await;
    user(&server, "ana").await;
    let browser = Browser::new(&server);
    let forged = format!("runbom_session={}", "ab".repeat(32));
    assert_eq!(browser.get("/", &forged).await.0, 401);
    assert_eq!(browser.get("/", "runbom_session=").await.0, 401);
    assert_eq!(browser.get("/api/v1/overview", &forged).await.0, 401);
    // A login form posted from elsewhere has no matching form cookie.
    let (status, session) = browser
        .post_login(
            "runbom_login=x",
            &[("user", "ana"), ("password", PASSWORD), ("csrf", "y")],
        )
        .await;
    assert_eq!((status, session), (403, None));
    let (status, session) = browser
        .post_login("", &[("user", "ana"), ("password", PASSWORD), ("csrf", "")])
        .await;
    assert_eq!((status, session), (403, None));
    let (status, session) = browser.log_in("ana", "a wrong passphrase").await;
    assert_eq!((status, session), (401, None));
    let (status, session) = browser.log_in("nobody", PASSWORD).await;
    assert_eq!((status, session), (401, None));
}

#[tokio::test]
async fn a_login_flood_is_refused_per_user_and_per_address() {
    let server = Server::start(&[]).await;
    user(&server, "ana").await;
    user(&server, "bob").await;
    let browser = Browser::new(&server);
    for _ in 0..5 {
        assert_eq!(browser.log_in("ana", "wrong wrong wrong").await.0, 401);
    }
    let (status, session) = browser.log_in("ana", PASSWORD).await;
    assert_eq!(
        (status, session),
        (429, None),
        "ana's password is not even tried now"
    );
    // Other users from the same address still log in until the address's own limit.
    assert_eq!(browser.log_in("bob", PASSWORD).await.0, 303);
    for i in 0..5 {
        assert_eq!(
            browser
                .log_in(&format!("guess{i}"), "wrong wrong wrong")
                .await
                .0,
            401
        );
    }
    let (status, session) = browser.log_in("bob", PASSWORD).await;
    assert_eq!(
        (status, session),
        (429, None),
        "the address made 10 failed attempts"
    );
}

#[tokio::test]
async fn a_hostile_argv_reaches_the_store_redacted() {
    let server = Server::start(&[]).await;
    let shop = server.token(Some("shop"));
    let mut body = report("r1", "s1", "shop", &[]);
    body["command"] = json!([
        "mysql",
        "-phunter2",
        "--token",
        "tok-123",
        "postgres://u:pw-42@db/x"
    ]);
    body["processes"][0]["argv"] = json!(["app.py", "API_KEY=key-77"]);
    assert_eq!(server.post_report(Some(&shop), &body).await.0, 201);
    let (_, app) = server.get("/api/v1/applications/shop").await;
    let command = app["instances"][0]["command"].as_str().unwrap();
    assert_eq!(command, "mysql -p*** --token *** postgres://u:***@db/x");
    let stored = std::fs::read(&server.db).unwrap();
    let wal = std::fs::read(format!("{}-wal", server.db)).unwrap_or_default();
    for secret in ["hunter2", "tok-123", "pw-42", "key-77"] {
        let found = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(
            !found(&stored) && !found(&wal),
            "`{secret}` is in the store"
        );
    }
}
