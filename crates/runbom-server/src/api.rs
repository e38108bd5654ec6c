//! The JSON API under `/api/v1`: ingest, everything the dashboard shows, expected-inventory
//! upload, and admin actions (tokens, teams, users, webhooks, the delivery log). Every route but
//! the OpenAPI document names its caller (see [`crate::auth`]): reads need the `read` scope and
//! show only the applications within the caller's reach, writes their own scope.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use runbom_model::expected::ExpectedInventory;
use runbom_store::{ComponentUse, Delivery, FindingRecord, SearchHit};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Caller, Scope, Scopes, TokenGrant};
use crate::error::ApiError;
use crate::time::{now_ms, rfc3339};
use crate::{AppState, auth, body, events, heartbeat, ingest, login, notify, openapi, triage, vex};

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", post(ingest::post_report))
        .route("/api/v1/heartbeats", post(heartbeat::post_heartbeat))
        .route(
            "/api/v1/applications/{app}/releases/{release}/expected",
            put(put_expected),
        )
        .route("/api/v1/overview", get(overview))
        .route("/api/v1/trends", get(trends))
        .route("/api/v1/applications", get(applications))
        .route("/api/v1/applications/{app}", get(application))
        .route("/api/v1/applications/{app}/vex", get(vex::get_vex))
        .route("/api/v1/components/{name}", get(component))
        .route("/api/v1/advisories/{id}", get(advisory))
        .route("/api/v1/findings", get(findings))
        .route("/api/v1/findings/{key}", get(triage::get_finding))
        .route("/api/v1/findings/{key}/analysis", put(triage::put_analysis))
        .route("/api/v1/search", get(search))
        .route("/api/v1/events", get(events::stream_events))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/admin/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/admin/tokens/{id}", delete(revoke_token))
        .route("/api/v1/admin/teams", get(list_teams).post(create_team))
        .route(
            "/api/v1/admin/teams/{team}/applications/{app}",
            put(assign_application),
        )
        .route("/api/v1/admin/users", get(list_users).post(create_user))
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
    caller: Caller,
    Path((app, release)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Scope::Upload)?;
    caller.reach_app(&app)?;
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

/// The caller, who must have the `read` scope.
fn reader(caller: Caller) -> Result<Caller, ApiError> {
    caller.require(Scope::Read)?;
    Ok(caller)
}

async fn overview(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let caller = reader(caller)?;
    let apps = caller.apps();
    Ok(Json(json!(state.store.overview_of(apps.as_deref()).await?)))
}

/// Portfolio-wide snapshots: for callers who reach every application.
async fn trends(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let caller = reader(caller)?;
    if !caller.sees_all() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "portfolio trends are for callers who reach every application",
        ));
    }
    let since = now_ms() - 7 * 24 * 3600 * 1000;
    let snapshots = state.store.snapshots(since).await?;
    Ok(Json(json!({ "snapshots": snapshots })))
}

async fn applications(State(state): State<AppState>, caller: Caller) -> ApiResult {
    let caller = reader(caller)?;
    let mut summaries = state.store.application_summaries().await?;
    summaries.retain(|a| caller.sees(&a.name));
    Ok(Json(json!({ "applications": summaries })))
}

async fn application(
    State(state): State<AppState>,
    caller: Caller,
    Path(app): Path<String>,
) -> ApiResult {
    let caller = reader(caller)?;
    caller.reach_app(&app)?;
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

/// A component's uses and open findings within the caller's reach; 404 when none is.
pub(crate) async fn component_within_reach(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<(Vec<ComponentUse>, Vec<FindingRecord>), ApiError> {
    let mut uses = state.store.component_uses(None, Some(name)).await?;
    uses.retain(|u| caller.sees(&u.app));
    let findings: Vec<FindingRecord> = state
        .store
        .findings(None, false)
        .await?
        .into_iter()
        .filter(|f| f.finding.name == name && caller.sees(&f.app))
        .collect();
    if uses.is_empty() && findings.is_empty() && !caller.sees_all() {
        return Err(ApiError::not_found("component"));
    }
    Ok((uses, findings))
}

async fn component(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult {
    let caller = reader(caller)?;
    let (uses, findings) = component_within_reach(&state, &caller, &name).await?;
    Ok(Json(
        json!({ "name": name, "uses": uses, "findings": findings_json(&findings) }),
    ))
}

/// An advisory is public knowledge; who it affects is shown within the caller's reach only.
async fn advisory(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let caller = reader(caller)?;
    let record = state
        .store
        .advisory_record(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("advisory"))?;
    let mut findings = state
        .store
        .findings_for_advisory(&crate::dashboard::advisory_ids(&id, &record))
        .await?;
    findings.retain(|f| caller.sees(&f.app));
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

async fn findings(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FindingsQuery>,
) -> ApiResult {
    let caller = reader(caller)?;
    if let Some(app) = &q.app {
        caller.reach_app(app)?;
    }
    let mut findings = state.store.findings(q.app.as_deref(), q.all).await?;
    findings.retain(|f| caller.sees(&f.app));
    Ok(Json(json!({ "findings": findings_json(&findings) })))
}

pub(crate) fn findings_json(findings: &[FindingRecord]) -> Vec<Value> {
    findings.iter().map(finding_json).collect()
}

pub(crate) fn finding_json(f: &FindingRecord) -> Value {
    let n = &f.finding;
    json!({
        "key": n.key,
        "app": f.app,
        "kind": n.kind,
        "severity": n.severity,
        "component": {
            "ecosystem": (!n.ecosystem.is_empty()).then_some(&n.ecosystem),
            "name": n.name,
            "version": n.version,
        },
        "advisory": (!n.advisory_id.is_empty()).then_some(&n.advisory_id),
        "in_use": n.in_use,
        "summary": n.summary,
        "detail": serde_json::from_str::<Value>(&n.detail).unwrap_or_default(),
        "opened_at": rfc3339(f.opened_at),
        "resolved_at": f.resolved_at.map(rfc3339),
        "analysis": f.analysis.as_ref().map(triage::analysis_json),
        "suppressed": f.analysis.as_ref().is_some_and(|a| a.suppresses()),
    })
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SearchQuery>,
) -> ApiResult {
    let caller = reader(caller)?;
    let hits = search_within_reach(&state, &caller, q.q.trim()).await?;
    Ok(Json(json!({ "query": q.q, "hits": hits })))
}

/// Search hits the caller may see: applications within reach, components some application
/// within reach has, and advisories (public knowledge).
pub(crate) async fn search_within_reach(
    state: &AppState,
    caller: &Caller,
    text: &str,
) -> Result<Vec<SearchHit>, ApiError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut hits = state.store.search(text, 100).await?;
    if let Some(apps) = caller.apps() {
        let mut visible = std::collections::BTreeSet::new();
        for app in &apps {
            for used in state.store.component_uses(Some(app), None).await? {
                visible.insert(used.name);
            }
        }
        hits.retain(|h| match h.kind.as_str() {
            "application" => caller.sees(&h.name),
            "component" => visible.contains(&h.name),
            _ => true,
        });
    }
    Ok(hits)
}

/// The caller, who must have the `admin` scope.
fn admin(caller: Caller) -> Result<Caller, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(caller)
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

#[derive(Debug, Deserialize)]
struct NewTokenRequest {
    app: Option<String>,
    team: Option<String>,
    /// Comma-separated; default: `report,upload` with `app`, `read` with `team`, else admin.
    scopes: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<NewTokenRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    admin(caller)?;
    let mut grant = match (&request.app, &request.team) {
        (Some(app), _) => TokenGrant::app(app),
        (None, Some(_)) => TokenGrant {
            scopes: Scopes::of(&[Scope::Read]),
            ..TokenGrant::default()
        },
        (None, None) => TokenGrant::admin(),
    };
    grant.team.clone_from(&request.team);
    if let Some(scopes) = &request.scopes {
        grant.scopes = Scopes::parse(scopes).map_err(|err| unprocessable(err.to_string()))?;
    }
    if let Some(team) = &grant.team
        && !state.store.team_exists(team).await?
    {
        return Err(unprocessable(format!("no team `{team}`")));
    }
    let token = auth::create_token(&state.store, &grant)
        .await
        .map_err(|err| match err {
            auth::GrantError::Store(err) => ApiError::from(err),
            other => unprocessable(other.to_string()),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": token.id, "app": grant.app, "team": grant.team,
            "scopes": grant.scopes.to_string(), "token": token.secret,
        })),
    ))
}

async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult {
    admin(caller)?;
    let tokens: Vec<Value> = state
        .store
        .tokens()
        .await?
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "app": t.app, "team": t.team, "scopes": t.scopes,
                "created_at": rfc3339(t.created_at),
                "revoked_at": t.revoked_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({ "tokens": tokens })))
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    admin(caller)?;
    let revoked = state.store.revoke_token(&id, now_ms()).await?;
    state.tokens.forget(&id);
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
    caller: Caller,
    Json(request): Json<NewWebhook>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    admin(caller)?;
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

async fn list_webhooks(State(state): State<AppState>, caller: Caller) -> ApiResult {
    admin(caller)?;
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
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    admin(caller)?;
    if !state.store.remove_webhook(&id).await? {
        return Err(ApiError::not_found("webhook"));
    }
    Ok(Json(json!({ "id": id, "removed": true })))
}

async fn deliveries(State(state): State<AppState>, caller: Caller) -> ApiResult {
    admin(caller)?;
    let log: Vec<Value> = state
        .store
        .deliveries(200)
        .await?
        .iter()
        .map(delivery_json)
        .collect();
    Ok(Json(json!({ "deliveries": log })))
}

#[derive(Debug, Deserialize)]
struct NewTeam {
    name: String,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<NewTeam>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    admin(caller)?;
    if !valid_name(&request.name) {
        return Err(unprocessable(
            "a team name must be 1 to 64 letters, digits, `.`, `_` or `-`",
        ));
    }
    if !state.store.create_team(&request.name, now_ms()).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("team `{}` exists", request.name),
        ));
    }
    Ok((StatusCode::CREATED, Json(json!({ "name": request.name }))))
}

async fn list_teams(State(state): State<AppState>, caller: Caller) -> ApiResult {
    admin(caller)?;
    Ok(Json(json!({ "teams": state.store.teams().await? })))
}

async fn assign_application(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, app)): Path<(String, String)>,
) -> ApiResult {
    admin(caller)?;
    if !state.store.team_exists(&team).await? {
        return Err(ApiError::not_found("team"));
    }
    state.store.assign_application(&app, &team).await?;
    Ok(Json(json!({ "team": team, "app": app })))
}

#[derive(Debug, Deserialize)]
struct NewUser {
    name: String,
    password: String,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    teams: Vec<String>,
}

async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    admin(caller)?;
    login::create_user(
        &state.store,
        &request.name,
        &request.password,
        request.admin,
        &request.teams,
    )
    .await
    .map_err(|err| match err {
        login::UserError::Store(err) => ApiError::from(err),
        login::UserError::Exists(_) => ApiError::new(StatusCode::CONFLICT, err.to_string()),
        other => unprocessable(other.to_string()),
    })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "name": request.name, "admin": request.admin, "teams": request.teams })),
    ))
}

async fn list_users(State(state): State<AppState>, caller: Caller) -> ApiResult {
    admin(caller)?;
    let mut users = Vec::new();
    for name in state.store.user_names().await? {
        if let Some(user) = state.store.user(&name).await? {
            users.push(json!({
                "name": user.name, "admin": user.admin, "teams": user.teams,
                "created_at": rfc3339(user.created_at),
                "disabled_at": user.disabled_at.map(rfc3339),
            }));
        }
    }
    Ok(Json(json!({ "users": users })))
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
