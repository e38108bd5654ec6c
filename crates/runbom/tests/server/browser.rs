//! The dashboard in a real browser: Debian's headless chromium, driven by playwright-core
//! (`tests/browser/dashboard.mjs`), over a server fed by real hook runs. It sees a new report and
//! a new advisory arrive live (no reload) after logging in through the login form, triages a
//! finding through its form and sees it struck through, renders a hostile package name as text, and saves
//! screenshots under `target/tmp/dashboard-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::cargo::cargo_bin;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::common::write_distribution;
use crate::harness::Server;

const CHROMIUM: &str = "/usr/bin/chromium";
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

pub(crate) fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Whether chromium and playwright-core are installed (`./scripts/test` installs both). Without
/// them the test is skipped with the reason, unless `RUNBOM_REQUIRE_BROWSER` demands it.
pub(crate) fn browser_available() -> bool {
    let missing: Vec<&str> = [
        (!Path::new(CHROMIUM).exists()).then_some("chromium (apt-get install chromium)"),
        (!browser_dir().join("node_modules/playwright-core").exists())
            .then_some("playwright-core (npm ci --prefix crates/runbom/tests/browser)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("RUNBOM_REQUIRE_BROWSER").is_none(),
        "browser test required but missing: {missing:?}"
    );
    eprintln!("skipped: missing {missing:?}");
    false
}

/// A site holding `dists` (each with one module), shared by the hook runs of one application.
pub(crate) fn site(dir: &Path, dists: &[(&str, &str, &str)]) -> PathBuf {
    let site = dir.join("site");
    for (name, version, module) in dists {
        write_distribution(
            &site,
            name,
            version,
            &[(&format!("{module}.py"), "VALUE = 1\n")],
        );
    }
    site
}

/// Runs `python3 -c "import MODULES"` under `runbom run --app APP` and returns its report.
pub(crate) fn hook_run(dir: &Path, app: &str, site: &Path, modules: &[&str]) -> Value {
    let report = dir.join(format!("{app}.json"));
    let out = std::process::Command::new(cargo_bin("runbom"))
        .env("PYTHONPATH", site)
        .env_remove("RUNBOM_SESSION_DIR")
        .args(["run", "--app", app, "--report"])
        .arg(&report)
        .args(["--", "python3", "-c"])
        .arg(format!("import {}", modules.join(", ")))
        .output()
        .expect("runbom run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("report JSON")
}

pub(crate) const ADVISORY: &str = r#"{
  "schema_version": "1.6.0", "id": "PYSEC-2099-1", "modified": "2099-01-02T00:00:00Z",
  "published": "2099-01-01T00:00:00Z", "aliases": ["CVE-2099-0001"],
  "summary": "Remote code execution in tinypkg <script>alert(2)</script>",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "tinypkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}]}]
}"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_shows_reports_and_advisories_live_and_names_as_text() {
    if !browser_available() {
        return;
    }
    let server = Server::start(&[]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let shop_dir = dir.path().join("shop");
    let shop_site = site(
        &shop_dir,
        &[
            ("tinypkg", "1.0", "tinypkg"),
            (HOSTILE, "6.6", "hostile_mod"),
        ],
    );
    let shop = hook_run(&shop_dir, "shop", &shop_site, &["tinypkg", "hostile_mod"]);
    let shop_token = server.token(Some("shop"));
    assert_eq!(server.post_report(Some(&shop_token), &shop).await.0, 201);

    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&screenshots).expect("screenshot dir");
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
    let mut driver = tokio::process::Command::new("node")
        .arg(browser_dir().join("dashboard.mjs"))
        .env("RUNBOM_URL", &server.url)
        .env("RUNBOM_USER", "ana")
        .env("RUNBOM_PASSWORD", password)
        .env("SCREENSHOT_DIR", &screenshots)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node");
    let mut to_driver = driver.stdin.take().expect("stdin");
    let mut from_driver = BufReader::new(driver.stdout.take().expect("stdout")).lines();
    let mut finished = false;
    while let Some(line) = from_driver.next_line().await.expect("driver output") {
        match line.as_str() {
            "step report" => {
                let billing_dir = dir.path().join("billing");
                let billing_site = site(&billing_dir, &[("tinypkg", "1.1", "tinypkg")]);
                let billing = hook_run(&billing_dir, "billing", &billing_site, &["tinypkg"]);
                let token = server.token(Some("billing"));
                assert_eq!(server.post_report(Some(&token), &billing).await.0, 201);
            }
            "step advisory" => server.import_advisory(ADVISORY).await,
            "ok" => finished = true,
            other => eprintln!("driver: {other}"),
        }
        if let Some(step) = line.strip_prefix("step ") {
            let answer = format!("done {step}\n");
            to_driver
                .write_all(answer.as_bytes())
                .await
                .expect("answer the driver");
        }
    }
    let status = driver.wait().await.expect("driver exit");
    assert!(
        status.success() && finished,
        "the browser checks failed (see stderr)"
    );
    for shot in [
        "overview",
        "application",
        "overview-live-report",
        "advisory",
        "finding-triaged",
    ] {
        assert!(screenshots.join(format!("{shot}.png")).exists(), "{shot}");
    }
    eprintln!("screenshots: {}", screenshots.display());
}
