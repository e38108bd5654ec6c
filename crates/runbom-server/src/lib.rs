//! runbom's server: the ingest and query HTTP API, authentication (tokens with scopes, teams,
//! dashboard users), the dashboard with live
//! updates, the webhook notifier, the advisory feed poller, the package-index poller and the detector that recomputes findings when an input
//! changes; and its client side, the [`sender`] that hooks report through.
//!
//! Every server process is stateless apart from its store: several `runbom serve` processes
//! may share one PostgreSQL database. They learn of each other's writes from the store's change
//! log (polled), and findings are opened once across processes (the store's finding key), so an
//! alert is sent once.

mod api;
mod auth;
mod backoff;
mod body;
pub mod client;
mod dashboard;
mod detect;
mod error;
mod events;
pub mod feed;
mod findings;
mod heartbeat;
mod ingest;
mod lease;
mod login;
mod notify;
mod openapi;
pub mod sender;
mod time;
mod triage;
pub mod updates;
mod vex;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use runbom_store::Store;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

pub use auth::{
    GrantError, NewToken, SETUP_SECRET_VAR, Scope, Scopes, Setup, SetupError, TokenGrant,
    UnknownScope, create_token, random_secret, set_up,
};
pub use error::ServerError;
pub use events::LiveEvent;
pub use heartbeat::HEARTBEAT_SCHEMA;
pub use login::{MIN_PASSWORD, UserError, create_user};
pub use time::rfc3339;

/// How a server process runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Largest accepted request body, compressed or not (413 beyond).
    pub max_body_bytes: usize,
    /// An instance not heard from for this long is marked gone.
    pub gone_after: Duration,
    /// Report ids are kept this long to answer resends with "duplicate", then forgotten.
    pub keep_report_ids: Duration,
    /// How long the rest of what the store keeps is kept; see [`Retention`].
    pub retention: Retention,
    /// How often the store's change log and advisories are polled for other processes' writes.
    pub poll_interval: Duration,
    /// Webhooks to register at start: `(url, format)` with format `json` or `slack`.
    pub webhooks: Vec<(String, String)>,
    /// The advisory feed to poll at start and every `feed_interval`; `None` polls nothing.
    pub feed: Option<feed::FeedConfig>,
    pub feed_interval: Duration,
    /// The package indexes to poll for the releases of running components; `None` polls
    /// nothing and opens no `outdated` or `yanked` finding.
    pub updates: Option<updates::UpdatesConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 8 * 1024 * 1024,
            gone_after: Duration::from_secs(300),
            keep_report_ids: Duration::from_secs(7 * DAY),
            retention: Retention::default(),
            poll_interval: Duration::from_millis(100),
            webhooks: Vec::new(),
            feed: None,
            feed_interval: Duration::from_secs(3600),
            updates: None,
        }
    }
}

const DAY: u64 = 24 * 3600;

/// How long the store keeps what would otherwise grow with time; checked hourly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// An instance marked gone is forgotten (with its components and report ids) this long
    /// after it was last seen. Default 30 days.
    pub gone_instances: Duration,
    /// Trend snapshots (one a minute) are kept this long. Default 90 days.
    pub trends: Duration,
    /// Webhook deliveries delivered or failed for good are kept in the delivery log this long.
    /// Default 30 days.
    pub deliveries: Duration,
    /// The change log other server processes poll is kept this long. Default 1 day.
    pub changes: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            gone_instances: Duration::from_secs(30 * DAY),
            trends: Duration::from_secs(90 * DAY),
            deliveries: Duration::from_secs(30 * DAY),
            changes: Duration::from_secs(DAY),
        }
    }
}

/// What every request handler shares.
#[derive(Debug, Clone)]
struct AppState {
    store: Store,
    config: Arc<ServerConfig>,
    ingest: ingest::IngestQueue,
    tokens: Arc<auth::TokenCache>,
    logins: Arc<login::LoginLimiter>,
    heartbeats: Arc<heartbeat::HeartbeatMemory>,
    events: broadcast::Sender<LiveEvent>,
}

/// Serves until the process is stopped. Prints nothing; `on_listening` is called with the
/// bound address (the port is chosen by the OS when the configured one is 0).
pub async fn serve(
    store: Store,
    config: ServerConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;
    notify::register_webhooks(&store, &config.webhooks).await?;
    let (events, _) = broadcast::channel(256);
    let state = AppState {
        ingest: ingest::IngestQueue::start(store.clone()),
        store: store.clone(),
        tokens: Arc::default(),
        logins: Arc::default(),
        heartbeats: Arc::new(heartbeat::HeartbeatMemory::new(config.gone_after)),
        config: Arc::new(config),
        events: events.clone(),
    };
    tokio::spawn(detect::run(state.clone()));
    if let Some(feed) = state.config.feed.clone() {
        tokio::spawn(feed::run(store.clone(), feed, state.config.feed_interval));
    }
    if let Some(updates) = state.config.updates.clone() {
        tokio::spawn(updates::run(store.clone(), updates));
    }
    tokio::spawn(notify::run(store));
    on_listening(addr);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .map_err(|source| ServerError::Serve { source })
}

fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes(&state))
        .merge(dashboard::routes())
        .with_state(state)
}
