//! Triage against a real server: a finding's analysis set over the API (the `triage` scope,
//! within the caller's teams, CycloneDX states and justifications only, a bounded body) and
//! through the dashboard's form (session and CSRF token); the audit trail shows every change,
//! a finding triaged `not_affected` stops counting in the key risk indicators but stays
//! listed, marked, and alerts again only when its evidence changes.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use reqwest::Method;
use runbom_sources::write::schemas;
use serde_json::{Value, json};

use crate::access::{ADVISORY, Browser, PASSWORD, csrf_of, shop_finding, two_teams, user};
use crate::harness::{Receiver, Server, report};

#[tokio::test]
async fn a_finding_is_triaged_over_the_api_with_its_audit_trail() {
    let (server, web, payments) = two_teams().await;
    let key = shop_finding(&server).await;
    let path = format!("/api/v1/findings/{key}/analysis");
    let reader = server.team_token("web", &["shop"], "read").await;
    let not_affected = json!({
        "state": "not_affected", "justification": "code_not_reachable",
        "response": ["will_not_fix"], "detail": "yaml.load is never called on input",
    });

    let put = |token: Option<&str>, body: serde_json::Value| {
        let (server, path) = (&server, path.clone());
        let token = token.map(str::to_owned);
        async move {
            server
                .send(Method::PUT, &path, token.as_deref(), &body)
                .await
        }
    };
    assert_eq!(put(None, not_affected.clone()).await.0, 401);
    assert_eq!(
        put(Some(&payments), not_affected.clone()).await.0,
        404,
        "another team's finding is out of reach"
    );
    assert_eq!(
        put(Some(&reader), not_affected.clone()).await.0,
        403,
        "read may not triage"
    );
    let unknown = server
        .send(
            Method::PUT,
            "/api/v1/findings/0000/analysis",
            Some(&web),
            &not_affected,
        )
        .await;
    assert_eq!(unknown.0, 404);
    for (bad, says) in [
        (json!({ "state": "wontfix" }), "`wontfix`"),
        (
            json!({ "state": "not_affected" }),
            "needs a `justification`",
        ),
        (
            json!({ "state": "not_affected", "justification": "trust me" }),
            "`trust me`",
        ),
        (
            json!({ "state": "exploitable", "justification": "code_not_present" }),
            "`not_affected` only",
        ),
        (
            json!({ "state": "exploitable", "response": ["pray"] }),
            "`pray`",
        ),
        (json!({ "state": "exploitable", "owner": "me" }), "owner"),
    ] {
        let (status, answer) = put(Some(&web), bad.clone()).await;
        assert!(status == 422 || status == 400, "{bad}: {status} {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(says), "{bad}: {message}");
    }
    let huge = json!({ "state": "in_triage", "detail": "x".repeat(20_000) });
    assert_eq!(put(Some(&web), huge).await.0, 413);

    let (_, overview) = server.get_with("/api/v1/overview", Some(&web)).await;
    assert_eq!(overview["vulnerable_in_use"], json!([["unknown", 1]]));

    let (status, answer) = put(Some(&web), json!({ "state": "in_triage" })).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["before"], json!(null));
    let (status, answer) = put(Some(&web), not_affected.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["before"]["state"], "in_triage");
    assert_eq!(answer["analysis"]["justification"], "code_not_reachable");

    // The indicators drop; the finding stays listed, marked suppressed.
    let (_, overview) = server.get_with("/api/v1/overview", Some(&web)).await;
    assert_eq!(overview["vulnerable_in_use"], json!([]));
    let (_, listed) = server.get_with("/api/v1/findings", Some(&web)).await;
    let listed = &listed["findings"][0];
    assert_eq!(
        (listed["key"].as_str(), listed["suppressed"].as_bool()),
        (Some(key.as_str()), Some(true))
    );

    let (status, one) = server
        .get_with(&format!("/api/v1/findings/{key}"), Some(&web))
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["analysis"]["state"], "not_affected");
    assert_eq!(one["analysis"]["evidence"], "loaded");
    let audit = one["audit"].as_array().unwrap();
    assert_eq!(audit.len(), 2, "{one}");
    assert_eq!(audit[0]["before"], json!(null));
    assert_eq!(audit[0]["after"]["state"], "in_triage");
    assert_eq!(audit[1]["before"]["state"], "in_triage");
    assert_eq!(audit[1]["after"]["response"], json!(["will_not_fix"]));
    assert!(
        audit[1]["by"].as_str().unwrap().starts_with("token "),
        "{one}"
    );
    let (status, _) = server
        .get_with(&format!("/api/v1/findings/{key}"), Some(&payments))
        .await;
    assert_eq!(status, 404, "another team's finding is not shown");

    // The application's VEX carries the analysis in place of the computed `exploitable`.
    let (status, vex) = server
        .get_with("/api/v1/applications/shop/vex", Some(&web))
        .await;
    assert_eq!(status, 200, "{vex}");
    let errors = schemas::cyclonedx_json_errors(&vex);
    assert!(errors.is_empty(), "{errors:#?}");
    let analysis = &vex["vulnerabilities"][0]["analysis"];
    assert_eq!(vex["vulnerabilities"][0]["id"], "PYSEC-2021-142");
    assert_eq!(
        (
            &analysis["state"],
            &analysis["justification"],
            &analysis["response"]
        ),
        (
            &json!("not_affected"),
            &json!("code_not_reachable"),
            &json!(["will_not_fix"])
        )
    );
    assert_eq!(
        vex["vulnerabilities"][0]["affects"][0]["ref"],
        "pkg:pypi/pyyaml@5.3"
    );
    let (status, openvex) = server
        .get_with("/api/v1/applications/shop/vex?format=openvex", Some(&web))
        .await;
    assert_eq!(status, 200);
    let errors = schemas::openvex_errors(&openvex);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        openvex["statements"][0]["justification"],
        "vulnerable_code_not_in_execute_path"
    );
    assert_eq!(
        server
            .get_with("/api/v1/applications/shop/vex", Some(&payments))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn a_user_triages_a_finding_on_the_dashboard_with_the_forms_csrf_token() {
    let (server, _, _) = two_teams().await;
    let key = shop_finding(&server).await;
    user(&server, "ana").await;
    let browser = Browser::new(&server);
    let (_, cookie) = browser.log_in("ana", PASSWORD).await;
    let cookie = cookie.unwrap();
    let (status, overview) = browser.get("/", &cookie).await;
    assert_eq!(status, 200);
    assert!(overview.contains(&format!("/findings/{key}")), "{overview}");

    let page = format!("/findings/{key}");
    let (status, html) = browser.get(&page, &cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("not triaged") && html.contains("action=\"/findings/"),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let form = format!("/findings/{key}/analysis");
    let fields = [
        ("state", "not_affected"),
        ("justification", "requires_configuration"),
        ("response", ""),
        ("detail", "<script>alert(1)</script> only with yaml.load"),
    ];
    assert_eq!(
        browser.post(&form, &cookie, &fields).await,
        403,
        "no CSRF token"
    );
    let mut with_csrf = fields.to_vec();
    with_csrf.push(("csrf", "0000"));
    assert_eq!(
        browser.post(&form, &cookie, &with_csrf).await,
        403,
        "a wrong one"
    );
    with_csrf.pop();
    with_csrf.push(("csrf", &csrf));
    assert_eq!(browser.post(&form, &cookie, &with_csrf).await, 303);

    let (_, html) = browser.get(&page, &cookie).await;
    assert!(
        html.contains("not_affected (requires_configuration)") && html.contains("user ana"),
        "{html}"
    );
    assert!(
        html.contains("&#60;script&#62;alert") && !html.contains("<script>alert"),
        "the detail is text: {html}"
    );
    let (_, overview) = browser.get("/", &cookie).await;
    assert!(overview.contains("class=\"suppressed\""), "{overview}");

    // Another team's user reaches neither the page nor the form.
    let (status, _, _) = server
        .get_html_with(
            &page,
            Some(
                &server
                    .team_token("payments", &["billing"], "read,triage")
                    .await,
            ),
        )
        .await;
    assert_eq!(status, 404);
}

/// Alerts honour triage: a finding triaged `not_affected` raises no alert while its evidence
/// stays (another instance reporting the component installed but not loaded), and one
/// `finding.reopened` alert, with the analysis back in triage, once the vulnerable module is
/// loaded.
#[tokio::test]
async fn a_finding_triaged_not_affected_alerts_again_only_when_its_evidence_changes() {
    let receiver = Receiver::start().await;
    let server = Server::start(&["--webhook", &receiver.url()]).await;
    let web = server.team_token("web", &["shop"], "read,triage").await;
    let shop = server.token(Some("shop"));
    let installed = report("r1", "s1", "shop", &[("PyYAML", "5.3", false)]);
    assert_eq!(server.post_report(Some(&shop), &installed).await.0, 201);
    server.import_advisory(ADVISORY).await;
    let alerts = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(
        (&alerts[0]["event"], &alerts[0]["in_use"]),
        (&json!("finding.opened"), &json!(false))
    );
    let key = shop_finding(&server).await;
    let not_affected = json!({ "state": "not_affected", "justification": "code_not_reachable" });
    let path = format!("/api/v1/findings/{key}/analysis");
    let (status, answer) = server
        .send(Method::PUT, &path, Some(&web), &not_affected)
        .await;
    assert_eq!(status, 200, "{answer}");

    // Same evidence from a second instance: the analysis holds, nothing is sent.
    let again = report("r2", "s2", "shop", &[("PyYAML", "5.3", false)]);
    assert_eq!(server.post_report(Some(&shop), &again).await.0, 201);
    // The evidence changes: a third instance loads the vulnerable module.
    let loaded = report("r3", "s3", "shop", &[("PyYAML", "5.3", true)]);
    assert_eq!(server.post_report(Some(&shop), &loaded).await.0, 201);
    let alerts = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(
        (&alerts[1]["event"], &alerts[1]["in_use"]),
        (&json!("finding.reopened"), &json!(true)),
        "{alerts:?}"
    );
    let (_, one) = server
        .get_with(&format!("/api/v1/findings/{key}"), Some(&web))
        .await;
    assert_eq!(one["analysis"]["state"], "in_triage", "{one}");
    let trail: Vec<(&Value, &Value)> = one["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (&e["before"]["state"], &e["after"]["state"]))
        .collect();
    assert_eq!(
        trail,
        [
            (&Value::Null, &json!("not_affected")),
            (&json!("not_affected"), &json!("in_triage")),
        ]
    );
    let (_, log) = server
        .get_with("/api/v1/admin/deliveries", Some(&server.token(None)))
        .await;
    assert_eq!(
        log["deliveries"].as_array().unwrap().len(),
        2,
        "no alert while the analysis held: {log}"
    );
}

/// `runbom vex --server URL --application APP` writes the server's VEX document of the
/// application, triage analysis included; the token comes from `--token` or `RUNBOM_TOKEN` and
/// reaches only its teams' applications.
#[tokio::test]
async fn runbom_vex_fetches_the_servers_document_with_the_analysis() {
    let (server, web, payments) = two_teams().await;
    let key = shop_finding(&server).await;
    let not_affected = json!({ "state": "not_affected", "justification": "code_not_present" });
    let path = format!("/api/v1/findings/{key}/analysis");
    let (status, _) = server
        .send(Method::PUT, &path, Some(&web), &not_affected)
        .await;
    assert_eq!(status, 200);
    let vex = |token: Option<&str>, extra: &[&str]| {
        let mut cmd = assert_cmd::Command::cargo_bin("runbom").unwrap();
        cmd.env_remove("RUNBOM_TOKEN")
            .args(["vex", "--server", &server.url, "--application", "shop"])
            .args(extra);
        if let Some(token) = token {
            cmd.env("RUNBOM_TOKEN", token);
        }
        cmd.assert()
    };

    let out = vex(Some(&web), &[]).success().get_output().stdout.clone();
    let document: Value = serde_json::from_slice(&out).unwrap();
    assert!(schemas::cyclonedx_json_errors(&document).is_empty());
    assert_eq!(
        document["vulnerabilities"][0]["analysis"]["state"],
        "not_affected"
    );
    let out = vex(None, &["--token", &web, "--format", "openvex"])
        .success()
        .get_output()
        .stdout
        .clone();
    let document: Value = serde_json::from_slice(&out).unwrap();
    assert!(schemas::openvex_errors(&document).is_empty());
    assert_eq!(document["statements"][0]["status"], "not_affected");

    let refused = vex(Some(&payments), &[])
        .code(2)
        .get_output()
        .stderr
        .clone();
    let refused = String::from_utf8_lossy(&refused);
    assert!(
        refused.contains("cannot fetch the VEX document of `shop`") && refused.contains("404"),
        "{refused}"
    );
    let anonymous = vex(None, &[]).code(2).get_output().stderr.clone();
    let anonymous = String::from_utf8_lossy(&anonymous);
    assert!(
        anonymous.contains("`--server` needs a token"),
        "{anonymous}"
    );
}
