//! `POST /api/v1/reports`: authenticated, decoded, validated, then committed by one writer task
//! that groups the reports (and the heartbeats of [`crate::heartbeat`]) waiting at that moment
//! into one transaction (a group commit). Each request is answered only once what it sent is
//! durably stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use runbom_model::redact::Redactor;
use runbom_store::{
    HeartbeatOutcome, IncomingHeartbeat, IncomingReport, IngestOutcome, Store, StoreError,
};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::AppState;
use crate::error::{ApiError, StoreRefusal};
use crate::time::now_ms;
use crate::{auth, body};

/// Reports committed together at most.
const MAX_BATCH: usize = 256;

/// Reports waiting for the writer at most; beyond, senders wait (backpressure).
const QUEUE_DEPTH: usize = 4096;

type Reply<T> = oneshot::Sender<Result<T, StoreRefusal>>;

/// One thing for the writer to commit: a report or a heartbeat, with whom to answer.
#[derive(Debug)]
enum Work {
    Report(Box<IncomingReport>, Reply<IngestOutcome>),
    Heartbeat(IncomingHeartbeat, Reply<HeartbeatOutcome>),
}

/// The way into the writer task.
#[derive(Debug, Clone)]
pub(crate) struct IngestQueue {
    tx: mpsc::Sender<Work>,
}

impl IngestQueue {
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(write_batches(store, rx));
        IngestQueue { tx }
    }

    async fn submit(&self, report: IncomingReport) -> Result<IngestOutcome, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.wait(Work::Report(Box::new(report), reply), answer)
            .await
    }

    pub(crate) async fn submit_heartbeat(
        &self,
        heartbeat: IncomingHeartbeat,
    ) -> Result<HeartbeatOutcome, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.wait(Work::Heartbeat(heartbeat, reply), answer).await
    }

    async fn wait<T>(
        &self,
        work: Work,
        answer: oneshot::Receiver<Result<T, StoreRefusal>>,
    ) -> Result<T, ApiError> {
        let refused = |refusal: StoreRefusal| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                refusal.message("what was sent was"),
            )
        };
        self.tx
            .send(work)
            .await
            .map_err(|_| refused(StoreRefusal::Unavailable))?;
        answer
            .await
            .map_err(|_| refused(StoreRefusal::Unavailable))?
            .map_err(refused)
    }
}

/// Takes what waits (at most [`MAX_BATCH`]) and commits it: the reports in one transaction,
/// then the heartbeats in another, so a heartbeat finds the state a report of the same batch
/// stored.
async fn write_batches(store: Store, mut rx: mpsc::Receiver<Work>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (mut reports, mut report_replies) = (Vec::new(), Vec::new());
        let (mut beats, mut beat_replies) = (Vec::new(), Vec::new());
        for work in batch.drain(..) {
            match work {
                Work::Report(report, reply) => {
                    reports.push(*report);
                    report_replies.push(reply);
                }
                Work::Heartbeat(beat, reply) => {
                    beats.push(beat);
                    beat_replies.push(reply);
                }
            }
        }
        if !reports.is_empty() {
            answer(
                store.ingest_reports(&reports).await,
                report_replies,
                "reports",
            );
        }
        if !beats.is_empty() {
            answer(
                store.ingest_heartbeats(&beats).await,
                beat_replies,
                "heartbeats",
            );
        }
    }
}

/// Hands each waiting request its outcome, or the failure of the whole batch.
fn answer<T>(outcomes: Result<Vec<T>, StoreError>, replies: Vec<Reply<T>>, what: &str) {
    match outcomes {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(err) => {
            tracing::error!("cannot store {} {what}: {err:#}", replies.len());
            let refusal = StoreRefusal::of(&err);
            for reply in replies {
                let _ = reply.send(Err(refusal));
            }
        }
    }
}

/// 201 when stored now, 200 when this report id was stored before; errors as JSON.
pub(crate) async fn post_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let app = auth::require_reporter(&state.store, &state.tokens, &headers).await?;
    let body = body::decoded(&headers, body, state.config.max_body_bytes)?;
    let mut report = body::validated_report(&body, &app)?;
    // runbom redacts secrets before a report leaves the host; this is the second line of defence.
    Redactor::default().redact_report(&mut report);
    let report_id = report.report_id.clone();
    let session_id = report.session_id.clone();
    let arrived = Instant::now();
    let incoming = IncomingReport::new(app.clone(), report, now_ms());
    let state_digest = incoming.state_digest().to_owned();
    let outcome = state.ingest.submit(incoming).await?;
    Ok(match outcome {
        IngestOutcome::Stored {
            instance_id,
            changed,
        } => {
            // The store wrote the instance's `last_seen` in this state: its heartbeats are known.
            state
                .heartbeats
                .confirm(&app, &session_id, &state_digest, instance_id, arrived);
            (
                StatusCode::CREATED,
                Json(serde_json::json!({
                    "report_id": report_id,
                    "status": "stored",
                    "instance_id": instance_id,
                    "changed": changed,
                    "state_digest": state_digest,
                })),
            )
        }
        IngestOutcome::Duplicate => (
            StatusCode::OK,
            Json(serde_json::json!({ "report_id": report_id, "status": "duplicate" })),
        ),
    })
}
