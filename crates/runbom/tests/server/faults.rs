//! The fault campaign that fits in a test: the SQLite file locked by another process for seconds
//! mid-ingest, and reports whose clocks are skewed by a day, duplicated, reordered, or resent
//! after the server forgot their id. Each test prints its count of acknowledged reports lost
//! (the target, and the assertion, is 0) and checks that the server kept serving.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

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
