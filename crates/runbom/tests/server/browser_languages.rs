//! Go beside Python on the dashboard, in a real browser (`tests/browser/languages.mjs`): a Go
//! program run under `runbom run` and a hooked Python program report to one server; the Go
//! instance shows its language, and its finding (GO-2023-1988, whose vulnerable `html.Render`
//! the program calls) shows the `Go` ecosystem beside the Python finding's `PyPI`.

use std::path::Path;

use assert_cmd::cargo::cargo_bin;
use serde_json::{Value, json};

use crate::browser::{ADVISORY, browser_available, browser_dir, hook_run, site};
use crate::common::go::{Variant, binary};
use crate::harness::Server;

const GO_ADVISORY: &str = include_str!("../../testdata/go/vulndb/GO-2023-1988.json");

/// `runbom run --app APP --report … -- PROGRAM`: the report it wrote.
fn go_run(dir: &Path, app: &str, program: &Path) -> Value {
    let report = dir.join(format!("{app}.json"));
    let out = std::process::Command::new(cargo_bin("runbom"))
        .env_remove("RUNBOM_SESSION_DIR")
        .args(["run", "--app", app, "--report"])
        .arg(&report)
        .arg("--")
        .arg(program)
        .output()
        .expect("runbom run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("report JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn go_instances_and_findings_show_beside_python_ones() {
    if !browser_available() {
        return;
    }
    let Some(render) = binary("render", Variant::Plain) else {
        return;
    };
    let server = Server::start(&[]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let edge = go_run(dir.path(), "edge", &render);
    assert_eq!(edge["interpreter"]["language"], "go");
    let token = server.token(Some("edge"));
    assert_eq!(server.post_report(Some(&token), &edge).await.0, 201);
    let shop_dir = dir.path().join("shop");
    let shop_site = site(&shop_dir, &[("tinypkg", "1.0", "tinypkg")]);
    let shop = hook_run(&shop_dir, "shop", &shop_site, &["tinypkg"]);
    let token = server.token(Some("shop"));
    assert_eq!(server.post_report(Some(&token), &shop).await.0, 201);
    server.import_advisory(GO_ADVISORY).await;
    server.import_advisory(ADVISORY).await;

    let password = "a browser test passphrase";
    let user = json!({ "name": "ana", "password": password, "admin": true });
    let (status, answer) = server
        .send(
            reqwest::Method::POST,
            "/api/v1/admin/users",
            Some(&server.admin),
            &user,
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&screenshots).expect("screenshot dir");
    let out = tokio::process::Command::new("node")
        .arg(browser_dir().join("languages.mjs"))
        .env("RUNBOM_URL", &server.url)
        .env("RUNBOM_USER", "ana")
        .env("RUNBOM_PASSWORD", password)
        .env("SCREENSHOT_DIR", &screenshots)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node");
    assert!(
        out.status.success(),
        "the browser checks failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for shot in ["go-application", "overview-languages"] {
        assert!(screenshots.join(format!("{shot}.png")).exists(), "{shot}");
    }

    // The API says the same as the pages.
    let (_, findings) = server.get("/api/v1/findings").await;
    let mut seen: Vec<(String, String)> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["component"]["ecosystem"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                f["advisory"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("Go".to_owned(), "GO-2023-1988".to_owned()),
            ("PyPI".to_owned(), "PYSEC-2099-1".to_owned())
        ]
    );
    let (_, app) = server.get("/api/v1/applications/edge").await;
    assert_eq!(app["instances"][0]["language"], "go");
}
