//! A Ruby program's report reaches the server as an instance of language `ruby` beside Python's,
//! its loaded gems as components (Debian's `ruby-sinatra`; skipped without Ruby).

use crate::harness::Server;

const APP: &str = "require 'sinatra/base'\nclass A < Sinatra::Base; end\nputs A.name\n";

#[tokio::test]
async fn a_ruby_instance_and_its_gems_are_stored_beside_python() {
    let ruby = std::process::Command::new("ruby")
        .args(["-e", "require 'sinatra/base'"])
        .output();
    if !ruby.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: no ruby with ruby-sinatra (scripts/test installs it)");
        return;
    }
    let server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(dir.path().join("app.rb"), APP).expect("present");
    let spool = dir.path().join("spool");
    let out = server
        .hooked("shop", &token, &spool, &["--", "ruby", "app.rb"])
        .current_dir(dir.path())
        .output()
        .expect("present");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "A\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("refused"), "{stderr}");
    let python = server
        .hooked(
            "shop",
            &token,
            &spool,
            &["--", "python3", "-c", "import json"],
        )
        .output()
        .expect("present");
    assert!(python.status.success());

    let (status, shop) = server.get("/api/v1/applications/shop").await;
    assert_eq!(status, 200, "{shop}");
    let instances = shop["instances"].as_array().expect("present");
    assert_eq!(instances.len(), 2, "{shop}");
    let interpreters: Vec<&str> = instances
        .iter()
        .map(|i| i["interpreter"].as_str().unwrap_or_default())
        .collect();
    assert!(
        interpreters.iter().any(|i| i.starts_with("ruby 3."))
            && interpreters.iter().any(|i| i.starts_with("cpython ")),
        "{interpreters:?}"
    );
    let loaded: Vec<&str> = shop["components"]
        .as_array()
        .expect("present")
        .iter()
        .filter(|c| c["loaded_by"] == 1)
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    for gem in ["sinatra", "rack", "mustermann", "tilt"] {
        assert!(loaded.contains(&gem), "{gem} in {loaded:?}");
    }
}
