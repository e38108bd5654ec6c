//! What can stop a server, and the JSON error answers of the API.

use std::net::SocketAddr;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use runbom_store::StoreError;

/// A server-level failure.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on `{addr}`")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server stopped")]
    Serve {
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An API error answer: a status and a message, as `{"error": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format!("no such {what}"))
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!("store error: {err:#}");
        let message = match StoreRefusal::of(&err) {
            StoreRefusal::DiskFull => "the store's disk is full; nothing was written; retry later",
            StoreRefusal::Unavailable => "the store is unavailable; retry",
        };
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

/// Why the store refused a write, as far as the sender needs to know: a 503 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreRefusal {
    /// The store's disk is full; writes succeed again once space returns.
    DiskFull,
    /// Any other failure (locked past the busy timeout, connection lost, …).
    Unavailable,
}

impl StoreRefusal {
    pub fn of(err: &StoreError) -> Self {
        if err.is_disk_full() {
            StoreRefusal::DiskFull
        } else {
            StoreRefusal::Unavailable
        }
    }

    /// The answer's message; `what` is what was not stored (`"the report was"`).
    pub fn message(self, what: &str) -> String {
        match self {
            StoreRefusal::DiskFull => {
                format!("the store's disk is full; {what} not stored; retry later")
            }
            StoreRefusal::Unavailable => {
                format!("the store is unavailable; {what} not stored; retry")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}
