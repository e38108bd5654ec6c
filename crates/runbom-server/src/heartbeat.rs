//! `POST /api/v1/heartbeats`: an instance that has not changed since its last full report says
//! so with a few hundred bytes — its session and the state digest the server gave that report
//! (`runbom.heartbeat/v1`). The answer is 200 `known` (the instance was seen now) or 409
//! `full-report-needed` (the server has no such instance, or holds another state: it lost the
//! report, or the store was restored), after which the sender sends its full report to
//! `/api/v1/reports`; that is how a server recovers by itself. A heartbeat writes no row, so
//! a sender that never sends the asked-for report costs one lookup per heartbeat and changes
//! nothing (its instance goes gone in time). More than one heartbeat a second for one instance
//! is answered 429 without touching the store.
//!
//! Most heartbeats do not reach the store at all: [`HeartbeatMemory`] answers those of a state
//! the store confirmed recently, and writes the instance's `last_seen` once per half the
//! gone-after time instead of once per heartbeat.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use runbom_store::{HeartbeatOutcome, IncomingHeartbeat, STATE_DIGEST_LEN};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;
use crate::time::now_ms;
use crate::{auth, body};

/// The `schema` of a heartbeat.
pub const HEARTBEAT_SCHEMA: &str = "runbom.heartbeat/v1";

/// Largest heartbeat body, compressed or not.
const MAX_HEARTBEAT_BYTES: usize = 4096;

/// At most one heartbeat per instance in this window goes on; the others are answered 429.
const HEARTBEAT_WINDOW: Duration = Duration::from_secs(1);

/// Instances remembered at most; beyond, the memory starts over (it stays bounded, and what it
/// forgot is asked of the store again).
const MAX_REMEMBERED: usize = 1_000_000;

#[derive(Debug, Deserialize)]
struct HeartbeatBody {
    schema: String,
    session_id: String,
    state_digest: String,
}

/// What this process remembers of the instances that heartbeat, by application and session:
/// when the last heartbeat came (a second one within [`HEARTBEAT_WINDOW`] is a flood, answered
/// 429 at once), and the state the store last confirmed with when it wrote the instance's
/// `last_seen` then. A heartbeat of that state within `trust_for` of the write is answered
/// `known` from here: an unchanged instance costs one store write per `trust_for`, not one per
/// heartbeat.
///
/// The trap is staleness, bounded by `trust_for` both ways: the store's `last_seen` lags by
/// up to `trust_for` plus a heartbeat period (so `trust_for` is half the gone-after time, and
/// an instance heartbeating more often than gone-after is never marked gone); a state that
/// another server process replaced, or a store restored under a running server, is noticed
/// after at most `trust_for`. A process that starts remembers nothing and asks the store.
#[derive(Debug)]
pub(crate) struct HeartbeatMemory {
    trust_for: Duration,
    prune_every: Duration,
    inner: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    instances: HashMap<(String, String), Remembered>,
    pruned: Option<Instant>,
}

#[derive(Debug, Default)]
struct Remembered {
    last_beat: Option<Instant>,
    confirmed: Option<Confirmed>,
}

#[derive(Debug)]
struct Confirmed {
    state_digest: String,
    instance_id: i64,
    /// When the store last wrote the instance's `last_seen`.
    written: Instant,
}

/// What [`HeartbeatMemory`] makes of a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recall {
    /// A second heartbeat of the instance within [`HEARTBEAT_WINDOW`]: answer 429.
    TooSoon,
    /// The store confirmed this state less than `trust_for` ago: answer `known`.
    Known { instance_id: i64 },
    /// Ask the store, and [`HeartbeatMemory::confirm`] a `known` answer.
    AskStore,
}

impl HeartbeatMemory {
    /// A memory for a server that marks instances gone after `gone_after`.
    pub(crate) fn new(gone_after: Duration) -> Self {
        let trust_for = gone_after / 2;
        HeartbeatMemory {
            trust_for,
            prune_every: (trust_for / 4).max(HEARTBEAT_WINDOW),
            inner: Mutex::default(),
        }
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a heartbeat of `(app, session)` in `state_digest`, arrived `now`.
    pub(crate) fn recall(
        &self,
        app: &str,
        session: &str,
        state_digest: &str,
        now: Instant,
    ) -> Recall {
        let mut memory = self.memory();
        self.prune(&mut memory, now);
        let remembered = memory
            .instances
            .entry((app.to_owned(), session.to_owned()))
            .or_default();
        if remembered
            .last_beat
            .is_some_and(|at| now.duration_since(at) < HEARTBEAT_WINDOW)
        {
            return Recall::TooSoon;
        }
        remembered.last_beat = Some(now);
        match &remembered.confirmed {
            Some(confirmed)
                if confirmed.state_digest == state_digest
                    && now.duration_since(confirmed.written) < self.trust_for =>
            {
                Recall::Known {
                    instance_id: confirmed.instance_id,
                }
            }
            _ => Recall::AskStore,
        }
    }

    /// The store holds `(app, session)` as `instance_id` in `state_digest` and wrote its
    /// `last_seen` at `now`: it took a heartbeat of it, or stored a full report.
    pub(crate) fn confirm(
        &self,
        app: &str,
        session: &str,
        state_digest: &str,
        instance_id: i64,
        now: Instant,
    ) {
        let mut memory = self.memory();
        memory
            .instances
            .entry((app.to_owned(), session.to_owned()))
            .or_default()
            .confirmed = Some(Confirmed {
            state_digest: state_digest.to_owned(),
            instance_id,
            written: now,
        });
    }

    /// Forgets, every `prune_every`, what no heartbeat can use any more; everything when more
    /// than [`MAX_REMEMBERED`] instances are still useful.
    fn prune(&self, memory: &mut Memory, now: Instant) {
        let due = memory
            .pruned
            .is_none_or(|at| now.duration_since(at) >= self.prune_every);
        if !due && memory.instances.len() < MAX_REMEMBERED {
            return;
        }
        memory.pruned = Some(now);
        let trust_for = self.trust_for;
        memory.instances.retain(|_, r| {
            r.last_beat
                .is_some_and(|at| now.duration_since(at) < HEARTBEAT_WINDOW)
                || r.confirmed
                    .as_ref()
                    .is_some_and(|c| now.duration_since(c.written) < trust_for)
        });
        if memory.instances.len() >= MAX_REMEMBERED {
            memory.instances.clear();
        }
    }
}

/// 200 `known`.
fn known(instance_id: i64) -> Response {
    (
        StatusCode::OK,
        Json(json!({ "status": "known", "instance_id": instance_id })),
    )
        .into_response()
}

/// A heartbeat the store may take: the right schema, a usable session and a well-formed digest.
fn validated(body: &[u8]) -> Result<HeartbeatBody, ApiError> {
    let beat: HeartbeatBody = body::json(body, "heartbeat")?;
    let unprocessable = |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    if beat.schema != HEARTBEAT_SCHEMA {
        return Err(unprocessable(format!(
            "unsupported schema `{}` (this server takes `{HEARTBEAT_SCHEMA}`)",
            beat.schema
        )));
    }
    body::check_id("session_id", &beat.session_id)?;
    let digest = &beat.state_digest;
    if digest.len() != STATE_DIGEST_LEN || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(unprocessable(format!(
            "`state_digest` must be {STATE_DIGEST_LEN} hex digits (got {} bytes); send the \
             `state_digest` of the answer to the last full report",
            digest.len()
        )));
    }
    Ok(beat)
}

pub(crate) async fn post_heartbeat(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app = auth::require_reporter(&state.store, &state.tokens, &headers).await?;
    let body = body::decoded(&headers, body, MAX_HEARTBEAT_BYTES)?;
    if body.len() > MAX_HEARTBEAT_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a heartbeat is at most {MAX_HEARTBEAT_BYTES} bytes"),
        ));
    }
    let beat = validated(&body)?;
    let state_digest = beat.state_digest.to_ascii_lowercase();
    let arrived = Instant::now();
    match state
        .heartbeats
        .recall(&app, &beat.session_id, &state_digest, arrived)
    {
        Recall::TooSoon => {
            let mut answer = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "more than one heartbeat a second for this instance; wait a second",
            )
            .into_response();
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return Ok(answer);
        }
        Recall::Known { instance_id } => return Ok(known(instance_id)),
        Recall::AskStore => {}
    }
    let outcome = state
        .ingest
        .submit_heartbeat(IncomingHeartbeat {
            app: app.clone(),
            session_id: beat.session_id.clone(),
            state_digest: state_digest.clone(),
            received_at: now_ms(),
        })
        .await?;
    let needed = |reason: &str, message: &str| {
        (
            StatusCode::CONFLICT,
            Json(json!({ "status": "full-report-needed", "reason": reason, "error": message })),
        )
            .into_response()
    };
    Ok(match outcome {
        HeartbeatOutcome::Known { instance_id } => {
            state
                .heartbeats
                .confirm(&app, &beat.session_id, &state_digest, instance_id, arrived);
            known(instance_id)
        }
        HeartbeatOutcome::UnknownInstance => needed(
            "unknown-instance",
            "this server has no instance of that session; send the full report",
        ),
        HeartbeatOutcome::OtherState => needed(
            "other-state",
            "this server holds another state of that instance; send the full report",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GONE_AFTER: Duration = Duration::from_secs(300);

    #[test]
    fn one_heartbeat_per_instance_and_window() {
        let memory = HeartbeatMemory::new(GONE_AFTER);
        let start = Instant::now();
        let later = start + Duration::from_millis(10);
        assert_eq!(memory.recall("shop", "s1", "d", start), Recall::AskStore);
        assert_eq!(memory.recall("shop", "s1", "d", later), Recall::TooSoon);
        assert_eq!(memory.recall("shop", "s2", "d", later), Recall::AskStore);
        assert_eq!(memory.recall("web", "s1", "d", later), Recall::AskStore);
        let next = start + HEARTBEAT_WINDOW;
        assert_eq!(memory.recall("shop", "s1", "d", next), Recall::AskStore);
    }

    #[test]
    fn a_confirmed_state_is_known_without_the_store_for_half_the_gone_after_time() {
        let memory = HeartbeatMemory::new(GONE_AFTER);
        let start = Instant::now();
        memory.confirm("shop", "s1", "d1", 7, start);
        let beat = |digest, after: Duration| memory.recall("shop", "s1", digest, start + after);
        let known = Recall::Known { instance_id: 7 };
        assert_eq!(beat("d1", Duration::from_secs(60)), known);
        assert_eq!(beat("d2", Duration::from_secs(120)), Recall::AskStore);
        assert_eq!(beat("d1", Duration::from_secs(149)), known);
        // Past half of gone-after since the store wrote `last_seen`: the store again.
        assert_eq!(beat("d1", Duration::from_secs(150)), Recall::AskStore);
        memory.confirm("shop", "s1", "d1", 7, start + Duration::from_secs(150));
        assert_eq!(beat("d1", Duration::from_secs(210)), known);
        assert_eq!(
            memory.recall("web", "s1", "d1", start + Duration::from_secs(211)),
            Recall::AskStore,
            "another application's session of the same name"
        );
    }

    #[test]
    fn the_memory_forgets_what_no_heartbeat_can_use() {
        let memory = HeartbeatMemory::new(GONE_AFTER);
        let start = Instant::now();
        for i in 0..1000 {
            memory.recall("shop", &format!("s{i}"), "d", start);
        }
        memory.confirm("shop", "kept", "d", 1, start);
        memory.recall("shop", "late", "d", start + GONE_AFTER / 8);
        let remembered: Vec<String> = memory
            .memory()
            .instances
            .keys()
            .map(|(_, session)| session.clone())
            .collect();
        assert_eq!(remembered.len(), 2, "{remembered:?}");
        assert!(remembered.contains(&"kept".to_owned()));
    }

    #[test]
    fn a_digest_of_the_wrong_length_or_alphabet_is_refused() {
        let body = |digest: &str| {
            serde_json::to_vec(&json!({
                "schema": HEARTBEAT_SCHEMA, "session_id": "s1", "state_digest": digest,
            }))
            .unwrap()
        };
        for digest in ["", "abc", &"a".repeat(33), &"g".repeat(32), &"é".repeat(16)] {
            let err = validated(&body(digest)).unwrap_err();
            assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY, "{digest}");
            assert!(err.message.contains("32 hex digits"), "{}", err.message);
        }
        assert!(validated(&body(&"a".repeat(32))).is_ok());
    }

    #[test]
    fn another_schema_and_a_blank_session_are_refused() {
        let err =
            validated(br#"{"schema":"runbom.heartbeat/v9","session_id":"s","state_digest":"x"}"#)
                .unwrap_err();
        assert!(
            err.message.contains("unsupported schema"),
            "{}",
            err.message
        );
        let digest = "a".repeat(32);
        let blank = format!(
            r#"{{"schema":"{HEARTBEAT_SCHEMA}","session_id":" ","state_digest":"{digest}"}}"#
        );
        let err = validated(blank.as_bytes()).unwrap_err();
        assert!(err.message.contains("session_id"), "{}", err.message);
        let err = validated(b"[1,").unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }
}
