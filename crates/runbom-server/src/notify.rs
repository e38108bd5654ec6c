//! Alerts as webhooks: one delivery per (webhook, opened finding), in runbom's JSON or as a
//! Slack-compatible `{"text": …}`, sent by a worker in every server process, retried with
//! exponential backoff, every attempt kept in the delivery log.

use std::time::Duration;

use rand::RngCore;
use runbom_store::{Alert, AlertReason, Delivery, FindingRecord, Store, StoreError};
use serde_json::json;

use crate::time::{now_ms, rfc3339};

/// Attempts before a delivery is given up.
const MAX_ATTEMPTS: i64 = 8;

/// How long one attempt may take; also the claim lease.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often due deliveries are looked for.
const POLL: Duration = Duration::from_millis(100);

/// Registers the webhooks given on the command line (an existing URL keeps its id).
pub(crate) async fn register_webhooks(
    store: &Store,
    webhooks: &[(String, String)],
) -> Result<(), StoreError> {
    for (url, format) in webhooks {
        store.add_webhook(&new_id(), url, format, now_ms()).await?;
    }
    Ok(())
}

pub(crate) fn new_id() -> String {
    let mut bytes = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Queues the alert for a finding just opened (or reopened: its evidence changed while its
/// analysis suppressed it), to every webhook.
pub(crate) async fn enqueue(store: &Store, alert: &Alert, now: i64) -> Result<(), StoreError> {
    let opened = &alert.finding;
    let (event, event_key) = match alert.reason {
        AlertReason::Opened => (
            "finding.opened",
            format!("{}:{}", opened.finding.key, opened.opened_at),
        ),
        AlertReason::EvidenceChanged => (
            "finding.reopened",
            format!("{}:reopened:{now}", opened.finding.key),
        ),
    };
    for webhook in store.webhooks().await? {
        let mut payload = match webhook.format.as_str() {
            "slack" => slack_payload(opened),
            _ => json_payload(opened),
        };
        if payload.get("event").is_some() {
            payload["event"] = event.into();
        }
        store
            .enqueue_delivery(&webhook.id, &event_key, &payload.to_string(), now)
            .await?;
    }
    Ok(())
}

fn json_payload(opened: &FindingRecord) -> serde_json::Value {
    let f = &opened.finding;
    let detail: serde_json::Value = serde_json::from_str(&f.detail).unwrap_or_default();
    json!({
        "event": "finding.opened",
        "app": opened.app,
        "kind": f.kind,
        "severity": f.severity,
        "component": { "name": f.name, "version": f.version },
        "advisory": (!f.advisory_id.is_empty()).then_some(&f.advisory_id),
        "in_use": f.in_use,
        "summary": f.summary,
        "instances": detail.get("instances").cloned().unwrap_or_default(),
        "opened_at": rfc3339(opened.opened_at),
    })
}

/// Slack's `text` treats `&`, `<` and `>` as markup: they are escaped.
fn slack_payload(opened: &FindingRecord) -> serde_json::Value {
    let f = &opened.finding;
    let detail: serde_json::Value = serde_json::from_str(&f.detail).unwrap_or_default();
    let instances: Vec<String> = detail
        .get("instances")
        .and_then(|i| i.as_array())
        .map(|list| {
            list.iter()
                .map(|i| format!("{}:{}", i["host"].as_str().unwrap_or(""), i["pid"]))
                .collect()
        })
        .unwrap_or_default();
    let text = format!(
        "runbom: [{}] {} in {}: {} {}{} on {}",
        f.severity,
        f.summary,
        opened.app,
        f.name,
        f.version,
        if f.in_use { " (in use)" } else { "" },
        instances.join(", ")
    );
    json!({ "text": slack_escape(&text) })
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The delivery worker: sends what is due, forever.
pub(crate) async fn run(store: Store) {
    let client = match crate::client::http_client(ATTEMPT_TIMEOUT) {
        Ok(client) => client,
        Err(err) => {
            tracing::error!("webhooks disabled: cannot build an HTTP client: {err}");
            return;
        }
    };
    loop {
        if let Err(err) = deliver_due(&store, &client).await {
            tracing::warn!("webhook deliveries: {err:#}");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn deliver_due(store: &Store, client: &reqwest::Client) -> Result<(), StoreError> {
    let now = now_ms();
    let lease = i64::try_from(ATTEMPT_TIMEOUT.as_millis()).unwrap_or(i64::MAX) * 2;
    let webhooks = store.webhooks().await?;
    for delivery in store.due_deliveries(now, 32).await? {
        if !store.claim_delivery(&delivery, now + lease).await? {
            continue;
        }
        let Some(webhook) = webhooks.iter().find(|w| w.id == delivery.webhook_id) else {
            store
                .record_attempt(delivery.id, Err("the webhook was removed"), None, now_ms())
                .await?;
            continue;
        };
        let outcome = send(client, &webhook.url, &delivery).await;
        let retry_at =
            (delivery.attempts + 1 < MAX_ATTEMPTS).then(|| now_ms() + backoff(delivery.attempts));
        store
            .record_attempt(
                delivery.id,
                outcome.as_ref().map(|_| ()).map_err(String::as_str),
                retry_at,
                now_ms(),
            )
            .await?;
    }
    Ok(())
}

async fn send(client: &reqwest::Client, url: &str, delivery: &Delivery) -> Result<(), String> {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-runbom-event", &delivery.event_key)
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|err| err.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", response.status()))
    }
}

/// 1 s, 2 s, 4 s … capped at 10 minutes, in milliseconds.
fn backoff(attempts: i64) -> i64 {
    let attempts = u32::try_from(attempts.max(0)).unwrap_or(u32::MAX);
    let delay = crate::backoff::exponential(
        std::time::Duration::from_secs(1),
        attempts,
        std::time::Duration::from_secs(600),
    );
    i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use runbom_store::NewFinding;

    use super::*;

    fn opened(name: &str) -> FindingRecord {
        FindingRecord {
            app: "shop".into(),
            finding: NewFinding {
                key: "k".into(),
                kind: "vulnerable".into(),
                severity: "high".into(),
                ecosystem: "PyPI".into(),
                name: name.into(),
                version: "1.0".into(),
                advisory_id: "GHSA-1".into(),
                in_use: true,
                summary: "bad".into(),
                detail: r#"{"instances":[{"host":"web-1","pid":7}]}"#.into(),
                published_at: None,
                detectable_at: None,
                detectable_from: String::new(),
            },
            opened_at: 0,
            analysis: None,
            resolved_at: None,
        }
    }

    #[test]
    fn json_alerts_name_the_instances() {
        let payload = json_payload(&opened("yaml"));
        assert_eq!(payload["instances"][0]["host"], "web-1");
        assert_eq!(payload["advisory"], "GHSA-1");
    }

    #[test]
    fn slack_text_is_escaped() {
        let payload = slack_payload(&opened("<!channel>"));
        let text = payload["text"].as_str().unwrap();
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert!(text.contains("web-1:7"), "{text}");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), 1000);
        assert_eq!(backoff(3), 8000);
        assert_eq!(backoff(30), 600_000);
    }
}
