//! The webhook receiver `runbom demo` registers with its server: it takes the alerts the server
//! sends and hands them to the demo, which prints them as they arrive.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;
use tokio::sync::mpsc;

/// One alert as the server sent it.
#[derive(Debug, Clone)]
pub struct Alert {
    pub severity: String,
    pub component: String,
    pub advisory: Option<String>,
    pub summary: String,
}

impl Alert {
    fn from_payload(payload: &Value) -> Alert {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let component = &payload["component"];
        Alert {
            severity: text(&payload["severity"]),
            component: format!(
                "{} {}",
                text(&component["name"]),
                text(&component["version"])
            ),
            advisory: payload["advisory"].as_str().map(str::to_owned),
            summary: text(&payload["summary"]),
        }
    }
}

/// Listens on a free port of 127.0.0.1; returns the URL to register and the alerts' channel.
pub async fn start() -> anyhow::Result<(String, mpsc::UnboundedReceiver<Alert>)> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}/alerts", listener.local_addr()?);
    let (sender, alerts) = mpsc::unbounded_channel();
    let app = Router::new()
        .route("/alerts", post(receive))
        .with_state(sender);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, alerts))
}

async fn receive(State(sender): State<mpsc::UnboundedSender<Alert>>, Json(payload): Json<Value>) {
    let _ = sender.send(Alert::from_payload(&payload));
}
