//! `POST /api/v1/reports`: authenticated, decoded, validated, then committed by one writer task
//! that groups the reports waiting at that moment into one transaction (a group commit). Each
//! request is answered only once its report is durably stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use runbom_model::redact::Redactor;
use runbom_store::{IncomingReport, IngestOutcome, Store};
use tokio::sync::{mpsc, oneshot};

use crate::AppState;
use crate::error::{ApiError, StoreRefusal};
use crate::time::now_ms;
use crate::{auth, body};

/// Reports committed together at most.
const MAX_BATCH: usize = 256;

/// Reports waiting for the writer at most; beyond, senders wait (backpressure).
const QUEUE_DEPTH: usize = 4096;

type Reply = oneshot::Sender<Result<IngestOutcome, StoreRefusal>>;

/// The way into the writer task.
#[derive(Debug, Clone)]
pub(crate) struct IngestQueue {
    tx: mpsc::Sender<(IncomingReport, Reply)>,
}

impl IngestQueue {
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(write_batches(store, rx));
        IngestQueue { tx }
    }

    async fn submit(&self, report: IncomingReport) -> Result<IngestOutcome, ApiError> {
        let refused = |refusal: StoreRefusal| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                refusal.message("the report was"),
            )
        };
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((report, reply))
            .await
            .map_err(|_| refused(StoreRefusal::Unavailable))?;
        answer
            .await
            .map_err(|_| refused(StoreRefusal::Unavailable))?
            .map_err(refused)
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<(IncomingReport, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (reports, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        match store.ingest_reports(&reports).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                tracing::error!("cannot store {} reports: {err:#}", reports.len());
                let refusal = StoreRefusal::of(&err);
                for reply in replies {
                    let _ = reply.send(Err(refusal));
                }
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
    let outcome = state
        .ingest
        .submit(IncomingReport::new(app, report, now_ms()))
        .await?;
    Ok(match outcome {
        IngestOutcome::Stored {
            instance_id,
            changed,
        } => (
            StatusCode::CREATED,
            Json(serde_json::json!({
                "report_id": report_id,
                "status": "stored",
                "instance_id": instance_id,
                "changed": changed,
            })),
        ),
        IngestOutcome::Duplicate => (
            StatusCode::OK,
            Json(serde_json::json!({ "report_id": report_id, "status": "duplicate" })),
        ),
    })
}
