//! A `runbom serve` child process on a random port with its own SQLite store, killed on drop
//! (or with SIGKILL and restarted on the same port and store); hooked programs reporting to it;
//! a webhook receiver; report builders.

#![allow(clippy::unwrap_used)] // test support: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub struct Server {
    child: Child,
    pub url: String,
    pub db: String,
    /// The admin setup token the server printed at its first start.
    pub admin: String,
    /// What the server wrote on stderr, line by line.
    log: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

impl Server {
    pub async fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db").to_str().unwrap().to_owned();
        Self::start_on(dir, db, extra)
    }

    /// A server whose store lives in `dir` (a directory the test prepared, e.g. on a small
    /// file system), removed with the server.
    pub async fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Server {
        let db = dir.path().join("server.db").to_str().unwrap().to_owned();
        Self::start_on(dir, db, extra)
    }

    /// A server on the store at `db` (e.g. a PostgreSQL URL), new to this test.
    pub async fn start_on_db(db: &str, extra: &[&str]) -> Server {
        Self::start_on(tempfile::tempdir().unwrap(), db.to_owned(), extra)
    }

    /// Another server on a copy of this one's store (SQLite, `VACUUM INTO`) without its
    /// findings: at start it recomputes every application's findings afresh.
    pub async fn fresh_recompute(&self) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("copy.db").to_str().unwrap().to_owned();
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db))
            .await
            .unwrap();
        sqlx::query("VACUUM INTO ?")
            .bind(&db)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let copy = sqlx::SqlitePool::connect(&format!("sqlite://{db}"))
            .await
            .unwrap();
        for table in ["findings", "webhook_deliveries", "change_log"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&copy)
                .await
                .unwrap();
        }
        copy.close().await;
        let (child, url, _, log) = spawn_serve("127.0.0.1:0", &db, dir.path(), &[]);
        Server {
            child,
            url,
            db,
            admin: self.admin.clone(),
            log,
            dir,
            client: reqwest::Client::new(),
        }
    }

    /// The open findings the store holds: `(key, kind, severity, in_use)`, sorted.
    pub async fn open_findings(&self) -> Vec<(String, String, String, i64)> {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db))
            .await
            .unwrap();
        let open = sqlx::query_as(
            "SELECT key, kind, severity, in_use FROM findings WHERE resolved_at IS NULL \
             ORDER BY key",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        open
    }

    fn start_on(dir: tempfile::TempDir, db: String, extra: &[&str]) -> Server {
        let (child, url, admin, log) = spawn_serve("127.0.0.1:0", &db, dir.path(), extra);
        let admin = admin.expect("a new store prints its admin setup token");
        let _ = rustls::crypto::ring::default_provider().install_default();
        Server {
            child,
            url,
            db,
            admin,
            log,
            dir,
            client: reqwest::Client::new(),
        }
    }

    /// A second server process on this one's store (its own port and index cache).
    pub fn another(&self, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (child, url, setup, log) = spawn_serve("127.0.0.1:0", &self.db, dir.path(), extra);
        assert_eq!(setup, None, "a store with tokens prints no setup token");
        Server {
            child,
            url,
            db: self.db.clone(),
            admin: self.admin.clone(),
            log,
            dir,
            client: reqwest::Client::new(),
        }
    }

    /// Every line the server wrote on stderr so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Kills the server with SIGKILL: no shutdown, no flush, whatever it was doing.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Starts the server again on the same address and store.
    pub fn restart(&mut self, extra: &[&str]) {
        let addr = self.url.trim_start_matches("http://").to_owned();
        let (child, url, setup, log) = spawn_serve(&addr, &self.db, self.dir.path(), extra);
        assert_eq!(url, self.url);
        assert_eq!(setup, None, "a store with tokens prints no setup token");
        self.child = child;
        self.log = log;
        // Pooled connections went to the process that is gone.
        self.client = reqwest::Client::new();
    }

    /// `runbom run --app APP --server <this server> --token TOKEN --spool SPOOL -- ARGS`, with
    /// the hook flushing its observations every 0.2 s.
    pub fn hooked(&self, app: &str, token: &str, spool: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(cargo_bin("runbom"));
        cmd.env_remove("RUNBOM_SESSION_DIR")
            .env_remove("RUNBOM_DISABLE")
            .env("RUNBOM_FLUSH_SECONDS", "0.2")
            .args(["run", "--app", app, "--server", &self.url, "--token", token])
            .arg("--spool")
            .arg(spool)
            .args(args);
        cmd
    }

    /// The sequence numbers of the reports the store holds for one session, sorted.
    pub async fn stored_sequences(&self, session_id: &str) -> Vec<i64> {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db))
            .await
            .unwrap();
        let sequences = sqlx::query_scalar(
            "SELECT r.sequence FROM reports r JOIN instances i ON i.id = r.instance_id \
             WHERE i.session_id = ? ORDER BY r.sequence",
        )
        .bind(session_id)
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        sequences
    }

    /// The stored `(state_digest, last_seen, gone)` of one session's instance, if any.
    pub async fn stored_instance(&self, session_id: &str) -> Option<(String, i64, i64)> {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db))
            .await
            .unwrap();
        let row = sqlx::query_as(
            "SELECT state_digest, last_seen, gone FROM instances WHERE session_id = ?",
        )
        .bind(session_id)
        .fetch_optional(&pool)
        .await
        .unwrap();
        pool.close().await;
        row
    }

    /// Runs `runbom ARGS --db <this server's store>`.
    pub fn runbom(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut cmd = assert_cmd::Command::cargo_bin("runbom").unwrap();
        cmd.args(args);
        if args[0] != "push" {
            cmd.args(["--db", &self.db]);
        }
        cmd.assert()
    }

    /// A new token (app token for `Some(app)`, admin token for `None`).
    pub fn token(&self, app: Option<&str>) -> String {
        let args: Vec<&str> = match app {
            Some(app) => vec!["admin", "token", "create", "--app", app],
            None => vec!["admin", "token", "create", "--admin"],
        };
        let out = self.runbom(&args).success().get_output().stdout.clone();
        String::from_utf8(out).unwrap().trim().to_owned()
    }

    /// The ids of the tokens bound to an application (not the setup token, nor team tokens).
    pub fn token_ids(&self) -> Vec<String> {
        let out = self
            .runbom(&["admin", "token", "list"])
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .skip(1)
            .filter(|l| !l.ends_with("(all)") && !l.contains(" team "))
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect()
    }

    /// Imports one OSV JSON record into the server's store, from this (another) process.
    pub async fn import_advisory(&self, record: &str) {
        let advisory: runbom_model::Advisory = serde_json::from_str(record).unwrap();
        let store = runbom_store::Store::open(&self.db).await.unwrap();
        let source = runbom_store::ImportSource {
            name: "test".to_owned(),
            location: "test".to_owned(),
            ..Default::default()
        };
        store
            .import_advisories(&source, [Ok::<_, std::convert::Infallible>(advisory)])
            .await
            .unwrap();
        store.close().await;
    }

    pub async fn post_report(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/api/v1/reports", self.url))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// `POST /api/v1/heartbeats` of `body`: the status, the `Retry-After` header and the answer.
    pub async fn post_heartbeat(&self, token: &str, body: &Value) -> (u16, Option<String>, Value) {
        let response = self
            .client
            .post(format!("{}/api/v1/heartbeats", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            status,
            retry_after,
            response.json().await.unwrap_or_default(),
        )
    }

    pub async fn post_raw(&self, token: &str, body: Vec<u8>, gzip: bool) -> u16 {
        let mut request = self
            .client
            .post(format!("{}/api/v1/reports", self.url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        if gzip {
            request = request.header("content-encoding", "gzip");
        }
        request.send().await.unwrap().status().as_u16()
    }

    pub async fn post_raw_json(&self, token: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/api/v1/reports", self.url))
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// `GET path` as the admin (the setup token).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_with(path, Some(&self.admin)).await
    }

    /// Sends `method path` with `token` (none: anonymously) and a JSON body; the status.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// Makes `team` (once) and a token of `scopes` for its applications; `apps` become its own.
    pub async fn team_token(&self, team: &str, apps: &[&str], scopes: &str) -> String {
        let admin = Some(self.admin.as_str());
        let post = reqwest::Method::POST;
        let (status, _) = self
            .send(
                post.clone(),
                "/api/v1/admin/teams",
                admin,
                &json!({ "name": team }),
            )
            .await;
        assert!(status == 201 || status == 409, "team {team}: {status}");
        for app in apps {
            let path = format!("/api/v1/admin/teams/{team}/applications/{app}");
            let (status, _) = self
                .send(reqwest::Method::PUT, &path, admin, &json!({}))
                .await;
            assert_eq!(status, 200, "{path}");
        }
        let request = json!({ "team": team, "scopes": scopes });
        let (status, answer) = self
            .send(post, "/api/v1/admin/tokens", admin, &request)
            .await;
        assert_eq!(status, 201, "{answer}");
        answer["token"].as_str().unwrap().to_owned()
    }

    pub async fn get_with(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    /// A dashboard page as the admin (the setup token).
    pub async fn get_html(&self, path: &str) -> (u16, HeaderMap, String) {
        self.get_html_with(path, Some(&self.admin)).await
    }

    /// A dashboard page with `token`, or anonymously.
    pub async fn get_html_with(&self, path: &str, token: Option<&str>) -> (u16, HeaderMap, String) {
        let mut request = self.client.get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }
}

/// `runbom serve --listen ADDR --db DB EXTRA…` caching index answers under `dir`, not polling the
/// package indexes unless EXTRA says `--updates-interval`; the URL it printed, the admin setup
/// token it printed before (a new store only), and what it writes on stderr from then on.
#[allow(clippy::type_complexity)]
fn spawn_serve(
    listen: &str,
    db: &str,
    dir: &Path,
    extra: &[&str],
) -> (Child, String, Option<String>, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new(cargo_bin("runbom"))
        .args(["serve", "--listen", listen, "--db", db])
        .args(extra)
        .env_remove("RUNBOM_SETUP_SECRET")
        .env("RUNBOM_UPDATES_INTERVAL", "0")
        // The detector says when its first pass over every application is done.
        .env("RUNBOM_LOG", "warn,runbom_server::detect=info")
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut setup = None;
    let url = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("runbom serve stopped before listening"))
            .unwrap();
        if let Some(token) = line
            .split_whitespace()
            .find(|w| w.starts_with("runbom_admin_"))
        {
            setup = Some(token.to_owned());
        }
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break url.to_owned();
        }
    };
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    (child, url, setup, log)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A runtime report of `app` whose distributions are `(name, version, loaded)`.
pub fn report(report_id: &str, session: &str, app: &str, dists: &[(&str, &str, bool)]) -> Value {
    let distributions: Vec<Value> = dists
        .iter()
        .map(|(name, version, loaded)| {
            let normalized = name.to_lowercase().replace(['_', '.'], "-");
            let modules = if *loaded {
                json!([{ "name": normalized.replace('-', "_"), "file": format!("/site/{normalized}.py"), "pids": [4242] }])
            } else {
                json!([])
            };
            json!({
                "name": name, "normalized_name": normalized, "version": version,
                "purl": format!("pkg:pypi/{normalized}@{version}"), "location": "/site",
                "size": 1, "modules": modules,
            })
        })
        .collect();
    json!({
        "schema": "runbom.runtime-report/v1", "report_id": report_id, "session_id": session,
        "sequence": 0, "complete": false, "app": app, "environment": "prod", "host": "web-1",
        "started_at": "2026-01-01T00:00:00Z", "reported_at": "2026-01-01T00:00:01Z",
        "command": ["python", "app.py"],
        "interpreter": { "executable": "/usr/bin/python3", "implementation": "cpython", "version": "3.11.2", "prefix": "/usr" },
        "processes": [{ "pid": 4242, "parent_pid": 1, "started_at": "2026-01-01T00:00:00Z", "argv": ["app.py"],
                        "executable": "/usr/bin/python3", "modules_loaded": 1, "hook_errors": 0, "exited": false }],
        "distributions": distributions, "stdlib_modules": [], "unowned_modules": [], "hook_errors": 0,
    })
}

/// A webhook receiver on 127.0.0.1 that keeps every JSON body posted to it.
pub struct Receiver {
    port: u16,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        // Any path (`/hook`, `/hook/slack`): every body is kept, as JSON when it parses.
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                let body = serde_json::from_slice(&body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
                kept.lock().unwrap().push(body);
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { port, bodies }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Waits until `n` bodies arrived (panics after `limit`, a generous bound, not a timing
    /// assertion).
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let bodies = self.bodies.lock().unwrap().clone();
            if bodies.len() >= n {
                return bodies;
            }
            assert!(
                start.elapsed() < limit,
                "only {} of {n} webhooks arrived",
                bodies.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}
