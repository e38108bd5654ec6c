//! A Tcl script under `runbom run --server`: the server holds an instance of language `tcl` whose
//! components are the tcllib packages the script loaded (see issue 16).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::Server;

#[tokio::test]
async fn a_tcl_script_is_an_instance_of_language_tcl_with_its_packages() {
    let has_tcllib = std::fs::read_dir("/usr/share/tcltk").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("tcllib"))
    });
    if !(Path::new("/usr/bin/tclsh").exists() && has_tcllib) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app.tcl");
    std::fs::write(
        &app,
        "package require json\npackage require base64\nputs [base64::encode tcl]\n",
    )
    .unwrap();
    let server = Server::start(&[]).await;
    let token = server.token(Some("tclapp"));
    let out = server
        .hooked("tclapp", &token, &tmp.path().join("spool"), &["--"])
        .arg("tclsh")
        .arg(&app)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "dGNs\n");

    let start = Instant::now();
    let answer = loop {
        let (_, answer) = server.get("/api/v1/applications/tclapp").await;
        let loaded = |name: &str| {
            answer["components"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c: &Value| c["name"] == name && c["loaded_by"] == 1)
        };
        if loaded("json") && loaded("base64") {
            break answer;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{answer}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let components = answer["components"].as_array().unwrap();
    assert!(
        components
            .iter()
            .any(|c| c["name"] == "md5" && c["loaded_by"] == 0),
        "installed, not loaded"
    );
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db))
        .await
        .unwrap();
    let languages: Vec<String> = sqlx::query_scalar("SELECT language FROM instances")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(languages, ["tcl"]);
}
