//! The JSON API under `/api/v1`: ingest, everything the dashboard shows, expected-inventory
//! upload, and admin actions (tokens, webhooks, the delivery log). Reads are open; writes need
//! an app token, admin actions an admin token.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use runbom_model::expected::ExpectedInventory;
use runbom_store::{Delivery, FindingRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::time::{now_ms, rfc3339};
use crate::{AppState, auth, body, events, ingest, notify, openapi};

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", post(ingest::post_report))
        .route(
            "/api/v1/applications/{app}/releases/{release}/expected",
            put(put_expected),
        )
        .route("/api/v1/overview", get(overview))
        .route("/api/v1/trends", get(trends))
        .route("/api/v1/applications", get(applications))
        .route("/api/v1/applications/{app}", get(application))
        .route("/api/v1/components/{name}", get(component))
        .route("/api/v1/advisories/{id}", get(advisory))
        .route("/api/v1/findings", get(findings))
        .route("/api/v1/search", get(search))
        .route("/api/v1/events", get(events::stream_events))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/admin/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/admin/tokens/{id}", delete(revoke_token))
        .route(
            "/api/v1/admin/webhooks",
            get(list_webhooks).post(add_webhook),
        )
        .route("/api/v1/admin/webhooks/{id}", delete(remove_webhook))
        .route("/api/v1/admin/deliveries", get(deliveries))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
}

type ApiResult = Result<Json<Value>, ApiError>;

async fn put_expected(
    State(state): State<AppState>,
    Path((app, release)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth::require_app_or_admin(&state.store, &headers, &app).await?;
    let body = body::decoded(&headers, body, state.config.max_body_bytes)?;
    let inventory: ExpectedInventory = body::json(&body, "expected inventory")?;
    state
        .store
        .put_expected(&app, &release, &inventory, now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "app": app, "release": release, "components": inventory.components.len() })),
    ))
}

async fn overview(State(state): State<AppState>) -> ApiResult {
    Ok(Json(json!(state.store.overview().await?)))
}

async fn trends(State(state): State<AppState>) -> ApiResult {
    let since = now_ms() - 7 * 24 * 3600 * 1000;
    let snapshots = state.store.snapshots(since).await?;
    Ok(Json(json!({ "snapshots": snapshots })))
}

async fn applications(State(state): State<AppState>) -> ApiResult {
    Ok(Json(
        json!({ "applications": state.store.application_summaries().await? }),
    ))
}

async fn application(State(state): State<AppState>, Path(app): Path<String>) -> ApiResult {
    let store = &state.store;
    if !store.application_names().await?.contains(&app) {
        return Err(ApiError::not_found("application"));
    }
    let expected = store.expected_for(&app).await?;
    Ok(Json(json!({
        "name": app,
        "instances": store.instances(&app).await?,
        "components": store.component_uses(Some(&app), None).await?,
        "findings": findings_json(&store.findings(Some(&app), false).await?),
        "expected_release": expected.map(|(release, _)| release),
    })))
}

async fn component(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let uses = state.store.component_uses(None, Some(&name)).await?;
    let findings: Vec<FindingRecord> = state
        .store
        .findings(None, false)
        .await?
        .into_iter()
        .filter(|f| f.finding.name == name)
        .collect();
    Ok(Json(
        json!({ "name": name, "uses": uses, "findings": findings_json(&findings) }),
    ))
}

async fn advisory(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let record = state
        .store
        .advisory_record(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("advisory"))?;
    let findings = state
        .store
        .findings_for_advisory(&crate::dashboard::advisory_ids(&id, &record))
        .await?;
    let record: Value = serde_json::from_str(&record).unwrap_or_default();
    Ok(Json(
        json!({ "id": id, "record": record, "findings": findings_json(&findings) }),
    ))
}

#[derive(Debug, Deserialize)]
struct FindingsQuery {
    app: Option<String>,
    #[serde(default)]
    all: bool,
}

async fn findings(State(state): State<AppState>, Query(q): Query<FindingsQuery>) -> ApiResult {
    let findings = state.store.findings(q.app.as_deref(), q.all).await?;
    Ok(Json(json!({ "findings": findings_json(&findings) })))
}

pub(crate) fn findings_json(findings: &[FindingRecord]) -> Vec<Value> {
    findings.iter().map(finding_json).collect()
}

fn finding_json(f: &FindingRecord) -> Value {
    let n = &f.finding;
    json!({
        "key": n.key,
        "app": f.app,
        "kind": n.kind,
        "severity": n.severity,
        "component": { "name": n.name, "version": n.version },
        "advisory": (!n.advisory_id.is_empty()).then_some(&n.advisory_id),
        "in_use": n.in_use,
        "summary": n.summary,
        "detail": serde_json::from_str::<Value>(&n.detail).unwrap_or_default(),
        "opened_at": rfc3339(f.opened_at),
        "resolved_at": f.resolved_at.map(rfc3339),
    })
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> ApiResult {
    let hits = if q.q.trim().is_empty() {
        Vec::new()
    } else {
        state.store.search(q.q.trim(), 100).await?
    };
    Ok(Json(json!({ "query": q.q, "hits": hits })))
}

#[derive(Debug, Deserialize)]
struct NewTokenRequest {
    app: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<NewTokenRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth::require_admin(&state.store, &headers).await?;
    let token = auth::create_token(&state.store, request.app.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": token.id, "app": request.app, "token": token.secret })),
    ))
}

async fn list_tokens(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    auth::require_admin(&state.store, &headers).await?;
    let tokens: Vec<Value> = state
        .store
        .tokens()
        .await?
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "app": t.app, "created_at": rfc3339(t.created_at),
                "revoked_at": t.revoked_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({ "tokens": tokens })))
}

async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    auth::require_admin(&state.store, &headers).await?;
    let revoked = state.store.revoke_token(&id, now_ms()).await?;
    state.app_tokens.forget(&id);
    if !revoked {
        return Err(ApiError::not_found("live token"));
    }
    Ok(Json(json!({ "id": id, "revoked": true })))
}

#[derive(Debug, Deserialize)]
struct NewWebhook {
    url: String,
    #[serde(default = "json_format")]
    format: String,
}

impl NewWebhook {
    /// The webhook as asked for, or 422 when its format or URL cannot be used.
    fn validated(self) -> Result<Self, ApiError> {
        if !matches!(self.format.as_str(), "json" | "slack") {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "`format` must be `json` or `slack`",
            ));
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "`url` must be an http:// or https:// URL",
            ));
        }
        Ok(self)
    }
}

fn json_format() -> String {
    "json".to_owned()
}

async fn add_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<NewWebhook>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth::require_admin(&state.store, &headers).await?;
    let request = request.validated()?;
    let id = state
        .store
        .add_webhook(&notify::new_id(), &request.url, &request.format, now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "url": request.url, "format": request.format })),
    ))
}

async fn list_webhooks(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    auth::require_admin(&state.store, &headers).await?;
    let webhooks: Vec<Value> = state
        .store
        .webhooks()
        .await?
        .iter()
        .map(|w| json!({ "id": w.id, "url": w.url, "format": w.format, "created_at": rfc3339(w.created_at) }))
        .collect();
    Ok(Json(json!({ "webhooks": webhooks })))
}

async fn remove_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    auth::require_admin(&state.store, &headers).await?;
    if !state.store.remove_webhook(&id).await? {
        return Err(ApiError::not_found("webhook"));
    }
    Ok(Json(json!({ "id": id, "removed": true })))
}

async fn deliveries(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    auth::require_admin(&state.store, &headers).await?;
    let log: Vec<Value> = state
        .store
        .deliveries(200)
        .await?
        .iter()
        .map(delivery_json)
        .collect();
    Ok(Json(json!({ "deliveries": log })))
}

fn delivery_json(d: &Delivery) -> Value {
    json!({
        "id": d.id, "webhook": d.webhook_id, "event": d.event_key, "status": d.status,
        "attempts": d.attempts, "last_error": d.last_error,
        "created_at": rfc3339(d.created_at), "delivered_at": d.delivered_at.map(rfc3339),
        "payload": serde_json::from_str::<Value>(&d.payload).unwrap_or_default(),
    })
}

#[cfg(test)]
mod fuzz;
