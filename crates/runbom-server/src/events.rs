//! Live updates: every change any server process writes (from the store's change log) goes out
//! to dashboards as a server-sent event — to callers who may read, and only changes of the
//! applications within their reach (portfolio-wide changes, such as new advisories, to all).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::auth::{Caller, Scope};
use crate::error::ApiError;

/// One change: `kind` is `report`, `finding`, `expected`, `gone` or `advisories`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveEvent {
    pub kind: String,
    /// The application it concerns (empty for portfolio-wide changes).
    pub app: String,
}

/// `GET /api/v1/events`: a `text/event-stream` of [`LiveEvent`]s as JSON (event name `change`).
pub(crate) async fn stream_events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.require(Scope::Read)?;
    let rx = state.events.subscribe();
    let events = stream::unfold((rx, caller), |(mut rx, caller)| async move {
        let data = loop {
            match rx.recv().await {
                Ok(event) if event.app.is_empty() || caller.sees(&event.app) => {
                    break serde_json::to_string(&event).unwrap_or_default();
                }
                Ok(_) => {}
                // A slow client missed some: tell it something changed.
                Err(RecvError::Lagged(_)) => break "{}".to_owned(),
                Err(RecvError::Closed) => return None,
            }
        };
        Some((
            Ok(Event::default().event("change").data(data)),
            (rx, caller),
        ))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Sends `event` to every connected dashboard (none connected is fine).
pub(crate) fn publish(events: &broadcast::Sender<LiveEvent>, kind: &str, app: &str) {
    let _ = events.send(LiveEvent {
        kind: kind.to_owned(),
        app: app.to_owned(),
    });
}
