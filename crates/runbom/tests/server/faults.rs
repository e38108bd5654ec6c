//! The fault campaign that fits in a test: the SQLite file locked by another process for seconds
//! mid-ingest, the store's disk full, PostgreSQL (a private cluster) restarted mid-ingest, the
//! server killed with SIGKILL during an advisory import and during a findings recompute (after
//! the restarts, its findings equal a fresh recompute), and reports whose clocks are skewed by a
//! day, duplicated, reordered, or resent after the server forgot their id. Each test prints its count of acknowledged reports lost
//! (the target, and the assertion, is 0) and checks that the server kept serving.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::Connection;

use crate::harness::{Server, report};

/// Posts `body` as a hook's sender would: 503 (the store unavailable) is retried after a short
/// pause, anything else is the answer. A generous bound, not a timing assertion.
async fn post_until_answered(server: &Server, token: &str, body: &Value) -> u16 {
    let start = Instant::now();
    loop {
        let (status, _) = server.post_report(Some(token), body).await;
        if status != 503 {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "still 503 after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The acknowledged reports of `ids` the store does not hold.
async fn lost(server: &Server, ids: &[String]) -> usize {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db))
        .await
        .unwrap();
    let mut lost = 0;
    for id in ids {
        let held: i64 = sqlx::query_scalar("SELECT count(*) FROM reports WHERE report_id = ?")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        lost += usize::from(held == 0);
    }
    pool.close().await;
    lost
}

#[tokio::test]
async fn a_store_file_locked_by_another_process_for_seconds_delays_ingest_and_loses_nothing() {
    let server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    // Another process (this test) takes the write lock the way a backup or a `sqlite3` shell
    // would, and holds it for three seconds.
    let mut locker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", server.db))
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    let held = Duration::from_secs(3);
    let locked_at = Instant::now();

    let senders: Vec<_> = (0..20)
        .map(|n| {
            let body = report(
                &format!("locked-{n}"),
                &format!("session-{}", n % 4),
                "shop",
                &[("PyYAML", "6.0", n % 2 == 0)],
            );
            (format!("locked-{n}"), body)
        })
        .collect();
    let posting = async {
        let mut acknowledged = Vec::new();
        let answers = futures_util::future::join_all(
            senders
                .iter()
                .map(|(_, body)| post_until_answered(&server, &token, body)),
        )
        .await;
        for ((id, _), status) in senders.iter().zip(answers) {
            assert!(status == 201 || status == 200, "{id}: {status}");
            acknowledged.push(id.clone());
        }
        acknowledged
    };
    let unlocking = async {
        tokio::time::sleep(held).await;
        // Reads go on while the file is locked for writing (WAL): the server kept serving.
        let (status, _) = server.get("/api/v1/overview").await;
        assert_eq!(status, 200, "reads are served while the store is locked");
        sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    };
    let (acknowledged, ()) = tokio::join!(posting, unlocking);
    let waited = locked_at.elapsed();

    let lost = lost(&server, &acknowledged).await;
    println!(
        "store locked {held:?}: {} reports acknowledged after {waited:?}, {lost} lost",
        acknowledged.len()
    );
    assert_eq!(lost, 0);
    assert!(
        waited >= held,
        "nothing was stored while the file was locked"
    );
    let after = report("after", "session-9", "shop", &[]);
    assert_eq!(server.post_report(Some(&token), &after).await.0, 201);
}

#[tokio::test]
async fn skewed_duplicated_reordered_and_forgotten_reports_are_each_stored_once() {
    let server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    let dists = [("PyYAML", "6.0", true)];
    let with = |id: &str, sequence: u64, reported_at: &str| {
        let mut body = report(id, "s1", "shop", &dists);
        body["sequence"] = sequence.into();
        body["reported_at"] = reported_at.into();
        body
    };
    // Sent newest first, clocks a day ahead and a day behind the server's.
    let sent = [
        with("r3", 3, "2026-01-02T00:00:03Z"),
        with("r1", 1, "2025-12-31T00:00:01Z"),
        with("r2", 2, "2026-01-01T00:00:02Z"),
    ];
    for body in &sent {
        assert_eq!(
            server.post_report(Some(&token), body).await.0,
            201,
            "{body}"
        );
    }
    for body in &sent {
        let (status, answer) = server.post_report(Some(&token), body).await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (200, Some("duplicate"))
        );
    }
    // The server forgets `r1` (its id kept past `--keep-report-ids`), then the sender resends it.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db))
        .await
        .unwrap();
    sqlx::query("DELETE FROM reports WHERE report_id = 'r1'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (status, answer) = server.post_report(Some(&token), &sent[1]).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["changed"], false,
        "the same state is no change: {answer}"
    );

    let ids: Vec<String> = ["r1", "r2", "r3"].map(String::from).to_vec();
    let lost = lost(&server, &ids).await;
    println!("skewed, duplicated, reordered, forgotten: {lost} lost");
    assert_eq!(lost, 0);
    assert_eq!(server.stored_sequences("s1").await, [1, 2, 3]);
    let (status, shop) = server.get("/api/v1/applications/shop").await;
    assert_eq!(status, 200);
    assert_eq!(
        shop["instances"].as_array().unwrap().len(),
        1,
        "one instance, not one per resend: {shop}"
    );
}

/// A tmpfs of `megabytes` mounted on a new directory, unmounted on drop; `None` (with the
/// reason printed) where this process may not mount (not root, or in a container without
/// `CAP_SYS_ADMIN`).
struct SmallDisk {
    mount: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let mount = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(mount.path())
            .output()
            .unwrap();
        if out.status.success() {
            return Some(SmallDisk { mount });
        }
        println!(
            "skipped: cannot mount a tmpfs here ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        None
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.mount.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0_u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.mount.path())
            .status();
    }
}

/// A report of its own session whose 200 distributions make the store write pages.
fn bulky(id: &str) -> Value {
    let names: Vec<String> = (0..200).map(|n| format!("package-{id}-{n}")).collect();
    let dists: Vec<(&str, &str, bool)> = names.iter().map(|n| (n.as_str(), "1.0", true)).collect();
    report(id, &format!("session-{id}"), "shop", &dists)
}

#[tokio::test]
async fn a_full_store_disk_refuses_writes_with_503_and_recovers_when_space_returns() {
    let Some(disk) = SmallDisk::mount(16) else {
        return;
    };
    let dir = tempfile::tempdir_in(disk.mount.path()).unwrap();
    let server = Server::start_in(dir, &[]).await;
    let token = server.token(Some("shop"));
    let mut acknowledged = Vec::new();
    let mut post = async |id: String| {
        let (status, answer) = server.post_report(Some(&token), &bulky(&id)).await;
        if status == 201 {
            acknowledged.push(id);
        }
        (status, answer)
    };
    for n in 0..3 {
        assert_eq!(post(format!("before-{n}")).await.0, 201);
    }

    let filler = disk.fill();
    let mut refused = Vec::new();
    for n in 0..40 {
        let (status, answer) = post(format!("full-{n}")).await;
        assert!(
            status == 201 || status == 503,
            "full-{n}: {status} {answer}"
        );
        if status == 503 {
            refused.push(answer["error"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert!(
        !refused.is_empty(),
        "the disk filled up but every write succeeded"
    );
    assert!(
        refused.iter().all(|error| error.contains("disk is full")),
        "{refused:?}"
    );
    let (status, _) = server.get("/api/v1/overview").await;
    assert_eq!(status, 200, "reads are served while the disk is full");

    std::fs::remove_file(filler).unwrap();
    for n in 0..3 {
        assert_eq!(post(format!("after-{n}")).await.0, 201, "space returned");
    }

    let lost = lost(&server, &acknowledged).await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db))
        .await
        .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    println!(
        "disk full: {} refused with 503, {} acknowledged, {lost} lost, integrity {integrity}",
        refused.len(),
        acknowledged.len()
    );
    assert_eq!(lost, 0);
    assert_eq!(integrity, "ok");
    drop(server);
}

/// Components with advisories in the PyPA database (`runbom-sources`' testdata), loaded.
const VULNERABLE: [(&str, &str, bool); 4] = [
    ("PyYAML", "5.3", true),
    ("Django", "2.2", true),
    ("Jinja2", "2.10", true),
    ("urllib3", "1.24.1", false),
];

/// A fleet's sender under faults: posts reports of new ids to `url` until stopped, retrying
/// what was not acknowledged (a refused connection while the server is down, 503 while its store
/// is) as a hook's spool would. The ids acknowledged (201) are what must not be lost.
struct Poster {
    stop: Arc<AtomicBool>,
    /// How many were acknowledged so far.
    count: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<Vec<String>>,
}

impl Poster {
    fn start(url: &str, token: &str, app: &str) -> Poster {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let (url, token, app, stopped, counted) = (
            format!("{url}/api/v1/reports"),
            token.to_owned(),
            app.to_owned(),
            stop.clone(),
            count.clone(),
        );
        let task = tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stopped.load(Ordering::Relaxed) {
                let id = format!("{app}-fault-{n}");
                let mut body = report(&id, &format!("{app}-poster-{}", n % 3), &app, &VULNERABLE);
                body["sequence"] = n.into();
                // A new client per report: a pooled connection may lead to a killed process.
                let sent = reqwest::Client::new()
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                match sent.map(|r| r.status().as_u16()) {
                    Ok(201) => {
                        acknowledged.push(id);
                        counted.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                    }
                    Ok(200) => n += 1,
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            acknowledged
        });
        Poster { stop, count, task }
    }

    /// Waits (a generous bound) until `more` reports beyond those acknowledged so far are.
    async fn wait_for_more(&self, more: usize) {
        let target = self.count.load(Ordering::Relaxed) + more;
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.count.load(Ordering::Relaxed) < target {
            assert!(Instant::now() < deadline, "ingest did not go on");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap()
    }
}

/// Waits (a generous bound, not a timing assertion) until `server`'s open findings are those
/// of a fresh recompute of its store; both sets.
async fn converged(
    server: &Server,
) -> (
    Vec<(String, String, String, i64)>,
    Vec<(String, String, String, i64)>,
) {
    let fresh = server.fresh_recompute().await;
    let deadline = Instant::now() + Duration::from_secs(90);
    // The fresh server's first pass recomputes every application, then says so.
    while !fresh
        .log()
        .iter()
        .any(|line| line.contains("the findings of every application are recomputed"))
    {
        assert!(
            Instant::now() < deadline,
            "the fresh recompute never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expected = fresh.open_findings().await;
    loop {
        let held = server.open_findings().await;
        if held == expected || Instant::now() >= deadline {
            return (held, expected);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_server_killed_during_an_advisory_import_and_a_findings_recompute_ends_as_a_fresh_recompute()
 {
    let mut server = Server::start(&[]).await;
    let apps = ["shop", "blog", "api", "jobs", "search", "admin"];
    let tokens: Vec<String> = apps.iter().map(|app| server.token(Some(app))).collect();
    for (app, token) in apps.iter().zip(&tokens) {
        for k in 0..2 {
            let body = report(
                &format!("{app}-seed-{k}"),
                &format!("{app}-{k}"),
                app,
                &VULNERABLE,
            );
            assert_eq!(server.post_report(Some(token), &body).await.0, 201);
        }
    }
    let poster = Poster::start(&server.url, &tokens[0], apps[0]);

    // 1. The whole PyPA advisory database imported from another process; the server is killed
    //    while the import's transaction is open.
    let zip = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../runbom-sources/testdata/advisories/pypa-advisory-database.zip"
    );
    let mut import = Command::new(assert_cmd::cargo::cargo_bin("runbom"))
        .args(["db", "import", zip, "--db", &server.db])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let importing = import.try_wait().unwrap().is_none();
    server.kill();
    assert!(import.wait().unwrap().success(), "the import went on alone");
    server.restart(&[]);

    // 2. Killed again as soon as the restarted server's recompute wrote its first findings
    //    (of six applications).
    let deadline = Instant::now() + Duration::from_secs(60);
    let written = loop {
        let open = server.open_findings().await.len();
        if open > 0 {
            break open;
        }
        assert!(Instant::now() < deadline, "no finding after the import");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    server.kill();
    server.restart(&[]);
    poster.wait_for_more(3).await;
    let acknowledged = poster.stop().await;

    let (held, fresh) = converged(&server).await;
    let lost = lost(&server, &acknowledged).await;
    println!(
        "kill -9 during an import (import running: {importing}) and during a recompute ({written} \
         findings written when killed): {} open findings, a fresh recompute {}; {} reports \
         acknowledged, {lost} lost",
        held.len(),
        fresh.len(),
        acknowledged.len()
    );
    assert_eq!(
        held, fresh,
        "findings after the restarts equal a fresh recompute"
    );
    assert_eq!(lost, 0);
    let (status, _) = server.get("/api/v1/overview").await;
    assert_eq!(status, 200, "the server serves after the restarts");
}

/// A private PostgreSQL cluster: `initdb` in a temporary directory, its own port on 127.0.0.1,
/// run as the `postgres` user when this process is root (PostgreSQL refuses root); stopped on
/// drop. `None` (the reason printed) where PostgreSQL's programs are not installed. Never the
/// machine's own server, which other work shares.
struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivateCluster {
    fn start() -> Option<PrivateCluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max();
        let Some(bin) = bin else {
            println!("skipped: no PostgreSQL under /usr/lib/postgresql");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if rustix::process::geteuid().is_root() {
            let chown = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(chown.success(), "chown to the postgres user");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = PrivateCluster { dir, bin, port };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        cluster.pg_ctl(&["start"]);
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_owned()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl ACTION` of this cluster, waiting until it is done.
    fn pg_ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").to_str().unwrap().to_owned();
        let data = self.data();
        let mut args = vec!["-D", &data, "-l", &log, "-o", &options, "-w", "-m", "fast"];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args);
    }

    /// One of PostgreSQL's programs, as the `postgres` user when this process is root.
    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut cmd = if rustix::process::geteuid().is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(&program);
            cmd
        } else {
            Command::new(&program)
        };
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
        if !rustix::process::geteuid().is_root() {
            let _ = Command::new(self.bin.join("pg_ctl"))
                .args(["-D", &data, "-m", "immediate", "stop"])
                .output();
        }
    }
}

#[tokio::test]
async fn postgresql_restarted_mid_ingest_delays_reports_and_loses_none() {
    let Some(cluster) = PrivateCluster::start() else {
        return;
    };
    let server = Server::start_on_db(&cluster.url(), &[]).await;
    let token = server.token(Some("shop"));
    let poster = Poster::start(&server.url, &token, "shop");
    poster.wait_for_more(10).await;
    cluster.pg_ctl(&["restart"]);
    // Ingest goes on once PostgreSQL is back: the server's pool reconnects by itself.
    poster.wait_for_more(10).await;
    let acknowledged = poster.stop().await;

    let store = sqlx::PgPool::connect(&cluster.url()).await.unwrap();
    let mut lost = 0;
    for id in &acknowledged {
        let held: i64 = sqlx::query_scalar("SELECT count(*) FROM reports WHERE report_id = $1")
            .bind(id)
            .fetch_one(&store)
            .await
            .unwrap();
        lost += usize::from(held == 0);
    }
    store.close().await;
    println!(
        "PostgreSQL restarted mid-ingest: {} reports acknowledged, {lost} lost",
        acknowledged.len()
    );
    assert_eq!(lost, 0);
    let (status, _) = server.get("/api/v1/overview").await;
    assert_eq!(status, 200, "the server serves after the restart");
}
