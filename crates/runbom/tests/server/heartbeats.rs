//! Digest heartbeats over HTTP against a real server: what a bad one is answered (an unknown
//! instance, a digest of the wrong length, a flood for one instance, a sender that never sends
//! the full report it was asked for) — each a clear status, and none of them writes the store —
//! and that an unchanged instance's heartbeats reach the store only once per half the gone-after
//! time.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Server, report};

fn heartbeat(session: &str, digest: &str) -> Value {
    json!({ "schema": "runbom.heartbeat/v1", "session_id": session, "state_digest": digest })
}

/// Stores a full report of `session`; the state digest its heartbeats carry.
async fn seed(server: &Server, token: &str, session: &str) -> String {
    let body = report(
        &format!("{session}-r1"),
        session,
        "shop",
        &[("PyYAML", "6.0", true)],
    );
    let (status, answer) = server.post_report(Some(token), &body).await;
    assert_eq!(status, 201, "{answer}");
    answer["state_digest"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_heartbeat_of_an_unknown_instance_asks_for_the_full_report_and_writes_nothing() {
    let server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    let (status, _, answer) = server
        .post_heartbeat(&token, &heartbeat("never-reported", &"ab".repeat(16)))
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["status"], "full-report-needed");
    assert_eq!(answer["reason"], "unknown-instance");
    assert_eq!(server.stored_instance("never-reported").await, None);
}

#[tokio::test]
async fn a_heartbeat_with_a_digest_of_the_wrong_length_or_alphabet_is_refused_with_422() {
    let server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    let digest = seed(&server, &token, "s1").await;
    let before = server.stored_instance("s1").await;
    let short = &digest[..31];
    let long = format!("{digest}0");
    let not_hex = "z".repeat(32);
    for wrong in ["", short, &long, &not_hex] {
        let (status, _, answer) = server.post_heartbeat(&token, &heartbeat("s1", wrong)).await;
        assert_eq!(status, 422, "{wrong:?}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains("`state_digest` must be 32 hex digits"),
            "{error}"
        );
    }
    let (status, _, answer) = server
        .post_heartbeat(
            &token,
            &json!({ "schema": "runbom.heartbeat/v1", "session_id": "s1" }),
        )
        .await;
    assert_eq!(status, 400, "a heartbeat without a digest: {answer}");
    assert_eq!(server.stored_instance("s1").await, before);
}

#[tokio::test]
async fn a_flood_of_heartbeats_for_one_instance_is_answered_429_beyond_one_a_second() {
    let server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    let digest = seed(&server, &token, "s1").await;
    let body = heartbeat("s1", &digest);
    let started = Instant::now();
    let answers =
        futures_util::future::join_all((0..200).map(|_| server.post_heartbeat(&token, &body)))
            .await;
    let seconds = started.elapsed().as_secs() + 1;
    let known = answers.iter().filter(|(status, ..)| *status == 200).count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, ..)| *status == 429)
        .collect();
    println!(
        "flood: 200 heartbeats in {seconds} s or less: {known} known, {} refused",
        refused.len()
    );
    assert_eq!(known + refused.len(), 200, "only 200 and 429: {answers:?}");
    assert!(known >= 1);
    assert!(known as u64 <= seconds, "more than one a second went on");
    for (_, retry_after, answer) in refused {
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("more than one heartbeat a second"),
            "{answer}"
        );
    }
    // The flood's window over, the instance is served as before.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, answer) = server.post_heartbeat(&token, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "known");
}

#[tokio::test]
async fn a_sender_that_never_sends_the_asked_for_report_is_asked_again_and_changes_nothing() {
    let server = Server::start(&[]).await;
    let token = server.token(Some("shop"));
    let digest = seed(&server, &token, "s1").await;
    let before = server.stored_instance("s1").await.unwrap();
    // The sender claims a state the server never stored, and never sends the full report.
    let other = "0".repeat(32);
    for _ in 0..3 {
        let (status, _, answer) = server
            .post_heartbeat(&token, &heartbeat("s1", &other))
            .await;
        assert_eq!(status, 409, "{answer}");
        assert_eq!(answer["status"], "full-report-needed");
        assert_eq!(answer["reason"], "other-state");
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(server.stored_instance("s1").await.unwrap(), before);
    assert_eq!(
        server.stored_sequences("s1").await,
        vec![0],
        "no report was made up"
    );
    let (status, _, answer) = server
        .post_heartbeat(&token, &heartbeat("s1", &digest))
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("known")),
        "{answer}"
    );
}

#[tokio::test]
async fn an_unchanged_instance_writes_its_last_seen_once_per_half_the_gone_after_time() {
    // Gone after 4 s: heartbeats of a confirmed state are answered from memory for 2 s.
    let server = Server::start(&["--gone-after", "4"]).await;
    let token = server.token(Some("shop"));
    let digest = seed(&server, &token, "s1").await;
    let (_, reported, _) = server.stored_instance("s1").await.unwrap();
    let body = heartbeat("s1", &digest);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, answer) = server.post_heartbeat(&token, &body).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("known")),
        "{answer}"
    );
    let (_, last_seen, _) = server.stored_instance("s1").await.unwrap();
    assert_eq!(last_seen, reported, "answered from memory, no write");

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, _, answer) = server.post_heartbeat(&token, &body).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("known")),
        "{answer}"
    );
    let (_, last_seen, gone) = server.stored_instance("s1").await.unwrap();
    assert!(
        last_seen > reported,
        "past 2 s the store wrote last_seen again"
    );
    assert_eq!(gone, 0);
}
