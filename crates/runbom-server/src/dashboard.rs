//! The dashboard: server-rendered pages (askama escapes every value: package names, versions
//! and advisory texts are attacker-controlled), a strict Content-Security-Policy (no inline
//! script or style, nothing from other origins), live updates by `static/live.js` over SSE.
//! Every page but `/login` and the static files needs a logged-in user (or a bearer token) with
//! the `read` scope, and shows only the applications within the caller's reach; without a
//! login a page answers 401 with the login form in its place.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use runbom_model::Advisory;
use runbom_store::{ApplicationSummary, ComponentUse, FindingRecord, KpiSnapshot, Overview};
use serde::Deserialize;

use crate::auth::Viewer;
use crate::client::segment;
use crate::error::ApiError;
use crate::findings::Remedy;
use crate::time::{now_ms, rfc3339};
use crate::{AppState, api, login, triage};

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview))
        .route("/apps/{name}", get(application))
        .route("/components/{name}", get(component))
        .route("/advisories/{id}", get(advisory))
        .route("/search", get(search))
        .route("/findings/{key}", get(triage::finding_page))
        .route("/findings/{key}/analysis", post(triage::post_analysis))
        .route("/login", get(login::get_login).post(login::post_login))
        .route("/logout", get(login::get_logout).post(login::post_logout))
        .route("/static/live.js", get(live_js))
        .route("/static/runbom.css", get(css))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn live_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/live.js"),
    )
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/runbom.css"),
    )
}

pub(crate) fn page(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!("cannot render a page: {err}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A finding as the tables show it.
#[derive(Debug)]
pub(crate) struct FindingRow {
    pub(crate) key: String,
    pub(crate) severity: String,
    pub(crate) kind: String,
    pub(crate) app: String,
    /// The component's ecosystem (`PyPI`, `Go`); empty when a finding from before did not keep it.
    pub(crate) ecosystem: String,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) advisory_id: String,
    pub(crate) in_use: bool,
    pub(crate) summary: String,
    pub(crate) opened_at: String,
    /// The analysis state, empty when not triaged.
    pub(crate) state: String,
    /// Its analysis takes it out of the indicators: shown, but marked.
    pub(crate) suppressed: bool,
    /// The smallest upgrade that clears every advisory of the component (vulnerability
    /// findings), empty when none is known.
    pub(crate) upgrade: String,
}

pub(crate) fn rows(findings: Vec<FindingRecord>) -> Vec<FindingRow> {
    findings.into_iter().map(FindingRow::from).collect()
}

impl From<FindingRecord> for FindingRow {
    fn from(f: FindingRecord) -> Self {
        FindingRow {
            key: f.finding.key,
            state: f
                .analysis
                .as_ref()
                .map(|a| a.state.clone())
                .unwrap_or_default(),
            suppressed: f.analysis.as_ref().is_some_and(|a| a.suppresses()),
            severity: f.finding.severity,
            kind: f.finding.kind,
            app: f.app,
            ecosystem: f.finding.ecosystem,
            name: f.finding.name,
            version: f.finding.version,
            advisory_id: f.finding.advisory_id,
            in_use: f.finding.in_use,
            summary: f.finding.summary,
            opened_at: rfc3339(f.opened_at),
            upgrade: serde_json::from_str(&f.finding.detail)
                .map(|detail| Remedy::of(&detail))
                .unwrap_or_default()
                .upgrade
                .unwrap_or_default(),
        }
    }
}

/// One trend line: SVG polyline points (numbers only) and the latest value.
#[derive(Debug)]
struct Chart {
    label: &'static str,
    points: String,
    last: i64,
}

fn chart(label: &'static str, snapshots: &[KpiSnapshot], value: fn(&Overview) -> i64) -> Chart {
    let values: Vec<i64> = snapshots.iter().map(|s| value(&s.overview)).collect();
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let step = if values.len() > 1 {
        300.0 / (values.len() - 1) as f64
    } else {
        0.0
    };
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                76.0 - (*v as f64 / max as f64) * 72.0
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    Chart {
        label,
        points,
        last: values.last().copied().unwrap_or(0),
    }
}

fn total(by_severity: &[(String, i64)]) -> i64 {
    by_severity.iter().map(|(_, n)| n).sum()
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    o: Overview,
    vulnerable_in_use: i64,
    vulnerable_installed: i64,
    mttd: String,
    severities: Vec<(String, i64, i64)>,
    charts: Vec<Chart>,
    apps: Vec<AppRow>,
    findings: Vec<FindingRow>,
}

#[derive(Debug)]
struct AppRow {
    name: String,
    live_instances: i64,
    instances: i64,
    open_findings: i64,
    last_seen: String,
}

impl From<ApplicationSummary> for AppRow {
    fn from(a: ApplicationSummary) -> Self {
        AppRow {
            name: a.name,
            live_instances: a.live_instances,
            instances: a.instances,
            open_findings: a.open_findings,
            last_seen: a.last_seen.map(rfc3339).unwrap_or_default(),
        }
    }
}

fn severity_table(o: &Overview) -> Vec<(String, i64, i64)> {
    ["critical", "high", "medium", "low", "unknown"]
        .iter()
        .map(|s| {
            let count =
                |list: &[(String, i64)]| list.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
            (
                (*s).to_owned(),
                count(&o.vulnerable_in_use),
                count(&o.vulnerable_installed),
            )
        })
        .collect()
}

fn duration_text(seconds: Option<i64>) -> String {
    match seconds {
        None => "–".to_owned(),
        Some(s) if s < 120 => format!("{s} s"),
        Some(s) if s < 7200 => format!("{} min", s / 60),
        Some(s) if s < 172_800 => format!("{} h", s / 3600),
        Some(s) => format!("{} d", s / 86_400),
    }
}

async fn overview(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Response, ApiError> {
    let store = &state.store;
    let apps = caller.apps();
    let o = store.overview_of(apps.as_deref()).await?;
    // Trend snapshots are of the whole portfolio: a caller who sees part of it sees now only.
    let mut snapshots = if caller.sees_all() {
        store.snapshots(now_ms() - 24 * 3600 * 1000).await?
    } else {
        Vec::new()
    };
    snapshots.push(KpiSnapshot {
        at: now_ms(),
        overview: o.clone(),
    });
    let charts = vec![
        chart("live instances", &snapshots, |o| o.live_instances),
        chart("components in use", &snapshots, |o| o.components_in_use),
        chart("vulnerable, in use", &snapshots, |o| {
            total(&o.vulnerable_in_use)
        }),
        chart("unexpected components", &snapshots, |o| {
            o.unexpected_components
        }),
    ];
    Ok(page(&OverviewPage {
        vulnerable_in_use: total(&o.vulnerable_in_use),
        vulnerable_installed: total(&o.vulnerable_installed),
        mttd: duration_text(o.mean_seconds_to_detect),
        severities: severity_table(&o),
        charts,
        apps: store
            .application_summaries()
            .await?
            .into_iter()
            .filter(|a| caller.sees(&a.name))
            .map(AppRow::from)
            .collect(),
        findings: rows(
            store
                .findings(None, false)
                .await?
                .into_iter()
                .filter(|f| caller.sees(&f.app))
                .collect(),
        ),
        o,
    }))
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    what: &'static str,
    name: String,
}

pub(crate) fn not_found(what: &'static str, name: String) -> Response {
    let mut response = page(&NotFoundPage { what, name });
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

#[derive(Debug)]
struct InstanceRow {
    environment: String,
    host: String,
    pid: i64,
    command: String,
    language: String,
    interpreter: String,
    started_at: String,
    last_seen: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "application.html")]
struct ApplicationPage {
    name: String,
    release: Option<String>,
    instances: Vec<InstanceRow>,
    components: Vec<ComponentUse>,
    findings: Vec<FindingRow>,
}

async fn application(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let store = &state.store;
    if !caller.sees(&name) || !store.application_names().await?.contains(&name) {
        return Ok(not_found("application", name));
    }
    let instances = store
        .instances(&name)
        .await?
        .into_iter()
        .map(|i| InstanceRow {
            environment: i.environment,
            host: i.host,
            pid: i.pid,
            command: i.command,
            language: i.language,
            interpreter: i.interpreter,
            started_at: i.started_at,
            last_seen: rfc3339(i.last_seen),
            state: match (i.gone, i.complete) {
                (true, _) => "gone",
                (false, true) => "exited",
                (false, false) => "live",
            },
        })
        .collect();
    Ok(page(&ApplicationPage {
        release: store.expected_for(&name).await?.map(|(r, _)| r),
        instances,
        components: store.component_uses(Some(&name), None).await?,
        findings: rows(store.findings(Some(&name), false).await?),
        name,
    }))
}

#[derive(Template)]
#[template(path = "component.html")]
struct ComponentPage {
    name: String,
    uses: Vec<ComponentUse>,
    findings: Vec<FindingRow>,
}

async fn component(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let (uses, findings) = match api::component_within_reach(&state, &caller, &name).await {
        Ok(found) => found,
        Err(err) if err.status == StatusCode::NOT_FOUND => return Ok(not_found("component", name)),
        Err(err) => return Err(err),
    };
    Ok(page(&ComponentPage {
        uses,
        findings: rows(findings),
        name,
    }))
}

#[derive(Template)]
#[template(path = "advisory.html")]
struct AdvisoryPage {
    id: String,
    summary: Option<String>,
    details: Option<String>,
    published: String,
    aliases: String,
    findings: Vec<FindingRow>,
}

async fn advisory(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = &state.store;
    let Some(record) = store.advisory_record(&id).await? else {
        return Ok(not_found("advisory", id));
    };
    let advisory: Option<Advisory> = serde_json::from_str(&record).ok();
    let findings = rows(
        store
            .findings_for_advisory(&advisory_ids(&id, &record))
            .await?
            .into_iter()
            .filter(|f| caller.sees(&f.app))
            .collect(),
    );
    Ok(page(&match advisory {
        Some(a) => AdvisoryPage {
            summary: a.summary,
            details: a.details,
            published: a.published.unwrap_or_default(),
            aliases: a.aliases.join(", "),
            findings,
            id,
        },
        None => AdvisoryPage {
            summary: None,
            details: Some(record),
            published: String::new(),
            aliases: String::new(),
            findings,
            id,
        },
    }))
}

/// Every id a vulnerability is known by: the one asked for, the record's id and its aliases.
pub(crate) fn advisory_ids(asked: &str, record: &str) -> Vec<String> {
    let mut ids = vec![asked.to_owned()];
    if let Ok(advisory) = serde_json::from_str::<Advisory>(record) {
        ids.push(advisory.id);
        ids.extend(advisory.aliases);
    }
    ids.sort();
    ids.dedup();
    ids
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Debug)]
struct Hit {
    kind: String,
    name: String,
    href: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    query: String,
    hits: Vec<Hit>,
}

async fn search(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let query = q.q.trim().to_owned();
    let hits = api::search_within_reach(&state, &caller, &query)
        .await?
        .into_iter()
        .map(|h| {
            let prefix = match h.kind.as_str() {
                "application" => "/apps/",
                "component" => "/components/",
                _ => "/advisories/",
            };
            Hit {
                href: format!("{prefix}{}", segment(&h.name)),
                kind: h.kind,
                name: h.name,
            }
        })
        .collect();
    Ok(page(&SearchPage { query, hits }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("a b/<c>"), "a%20b%2F%3Cc%3E");
    }

    #[test]
    fn charts_scale_into_the_box() {
        let snapshots: Vec<KpiSnapshot> = [0, 5, 10]
            .iter()
            .map(|n| KpiSnapshot {
                at: 0,
                overview: Overview {
                    live_instances: *n,
                    ..Overview::default()
                },
            })
            .collect();
        let c = chart("x", &snapshots, |o| o.live_instances);
        assert_eq!(c.points, "0.0,76.0 150.0,40.0 300.0,4.0");
        assert_eq!(c.last, 10);
    }
}
