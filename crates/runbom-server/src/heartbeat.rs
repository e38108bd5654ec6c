//! `POST /api/v1/heartbeats`: an instance that has not changed since its last full report says
//! so with a few hundred bytes — its session and the state digest the server gave that report
//! (`runbom.heartbeat/v1`). The answer is 200 `known` (the instance was seen now) or 409
//! `full-report-needed` (the server has no such instance, or holds another state: it lost the
//! report, or the store was restored), after which the sender sends its full report to
//! `/api/v1/reports`; that is how a server recovers by itself. A heartbeat writes no row, so
//! a sender that never sends the asked-for report costs one lookup per heartbeat and changes
//! nothing (its instance goes gone in time). More than one heartbeat a second for one instance
//! is answered 429 without touching the store.

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

/// At most one heartbeat per instance in this window reaches the store.
const HEARTBEAT_WINDOW: Duration = Duration::from_secs(1);

/// Instances the limiter tracks at most; beyond, it starts over (memory stays bounded).
const LIMITER_KEYS: usize = 200_000;

#[derive(Debug, Deserialize)]
struct HeartbeatBody {
    schema: String,
    session_id: String,
    state_digest: String,
}

/// Remembers, for one window, which instances sent a heartbeat.
#[derive(Debug, Default)]
pub(crate) struct HeartbeatLimiter {
    recent: Mutex<Recent>,
}

#[derive(Debug, Default)]
struct Recent {
    seen: HashMap<(String, String), Instant>,
    pruned: Option<Instant>,
}

impl HeartbeatLimiter {
    fn recent(&self) -> MutexGuard<'_, Recent> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a heartbeat of `(app, session)` may go on now; records it when it may.
    fn admit(&self, app: &str, session: &str, now: Instant) -> bool {
        let mut recent = self.recent();
        if recent
            .pruned
            .is_none_or(|at| now.duration_since(at) >= HEARTBEAT_WINDOW)
            || recent.seen.len() >= LIMITER_KEYS
        {
            recent
                .seen
                .retain(|_, at| now.duration_since(*at) < HEARTBEAT_WINDOW);
            if recent.seen.len() >= LIMITER_KEYS {
                recent.seen.clear();
            }
            recent.pruned = Some(now);
        }
        let key = (app.to_owned(), session.to_owned());
        match recent.seen.get(&key) {
            Some(at) if now.duration_since(*at) < HEARTBEAT_WINDOW => false,
            _ => {
                recent.seen.insert(key, now);
                true
            }
        }
    }
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
    if !state
        .heartbeats
        .admit(&app, &beat.session_id, Instant::now())
    {
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
    let outcome = state
        .ingest
        .submit_heartbeat(IncomingHeartbeat {
            app,
            session_id: beat.session_id,
            state_digest: beat.state_digest.to_ascii_lowercase(),
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
        HeartbeatOutcome::Known { instance_id } => (
            StatusCode::OK,
            Json(json!({ "status": "known", "instance_id": instance_id })),
        )
            .into_response(),
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

    #[test]
    fn one_heartbeat_per_instance_and_window() {
        let limiter = HeartbeatLimiter::default();
        let start = Instant::now();
        assert!(limiter.admit("shop", "s1", start));
        assert!(!limiter.admit("shop", "s1", start + Duration::from_millis(10)));
        assert!(limiter.admit("shop", "s2", start + Duration::from_millis(10)));
        assert!(limiter.admit("web", "s1", start + Duration::from_millis(10)));
        assert!(limiter.admit("shop", "s1", start + HEARTBEAT_WINDOW));
    }

    #[test]
    fn the_limiter_forgets_what_is_past_its_window() {
        let limiter = HeartbeatLimiter::default();
        let start = Instant::now();
        for i in 0..1000 {
            limiter.admit("shop", &format!("s{i}"), start);
        }
        limiter.admit("shop", "late", start + 2 * HEARTBEAT_WINDOW);
        assert_eq!(limiter.recent().seen.len(), 1);
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
