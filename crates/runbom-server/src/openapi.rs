//! The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`. A test checks that
//! every route the router serves under `/api/v1` is described here.

use axum::Json;
use serde_json::{Value, json};

/// Every path of the API with its methods; kept beside the document so the test can hold the
/// router to it.
pub(crate) const PATHS: &[(&str, &[&str])] = &[
    ("/api/v1/reports", &["post"]),
    ("/api/v1/heartbeats", &["post"]),
    (
        "/api/v1/applications/{app}/releases/{release}/expected",
        &["put"],
    ),
    ("/api/v1/overview", &["get"]),
    ("/api/v1/trends", &["get"]),
    ("/api/v1/applications", &["get"]),
    ("/api/v1/applications/{app}", &["get"]),
    ("/api/v1/applications/{app}/vex", &["get"]),
    ("/api/v1/components/{name}", &["get"]),
    ("/api/v1/advisories/{id}", &["get"]),
    ("/api/v1/findings", &["get"]),
    ("/api/v1/findings/{key}", &["get"]),
    ("/api/v1/findings/{key}/analysis", &["put"]),
    ("/api/v1/search", &["get"]),
    ("/api/v1/events", &["get"]),
    ("/api/v1/openapi.json", &["get"]),
    ("/api/v1/admin/tokens", &["get", "post"]),
    ("/api/v1/admin/tokens/{id}", &["delete"]),
    ("/api/v1/admin/teams", &["get", "post"]),
    ("/api/v1/admin/teams/{team}/applications/{app}", &["put"]),
    ("/api/v1/admin/users", &["get", "post"]),
    ("/api/v1/admin/webhooks", &["get", "post"]),
    ("/api/v1/admin/webhooks/{id}", &["delete"]),
    ("/api/v1/admin/deliveries", &["get"]),
];

pub(crate) async fn document() -> Json<Value> {
    Json(spec())
}

fn operation(path: &str, method: &str) -> Value {
    let (summary, security, ok): (&str, Option<&str>, &str) = match (path, method) {
        ("/api/v1/reports", _) => (
            "Ingest a runtime report (runbom.runtime-report/v2). Body may be gzip \
             (Content-Encoding: gzip). 201 stored, 200 already stored (same report_id), \
             401 no token, 403 token of another application, 413 too large, 422 invalid.",
            Some("report"),
            "201",
        ),
        ("/api/v1/heartbeats", _) => (
            "A digest heartbeat (runbom.heartbeat/v1: session_id and the state_digest of the \
             answer to the last full report). 200 known, 409 full-report-needed (unknown \
             instance or another state: send the full report), 422 invalid (a state_digest \
             of other than 32 hex digits), 429 more than one a second for one instance.",
            Some("report"),
            "200",
        ),
        (p, _) if p.ends_with("/expected") => (
            "Upload the expected inventory (ExpectedInventory JSON) of an application release.",
            Some("upload"),
            "201",
        ),
        ("/api/v1/overview", _) => (
            "Key risk indicators of the applications within the caller's reach; `outdated` \
             and `yanked` count the open findings of update tracking (live components behind \
             their package index's newest release past the freshness threshold, or running a \
             yanked release).",
            Some("read"),
            "200",
        ),
        ("/api/v1/trends", _) => (
            "Overview snapshots of the last 7 days (one per minute); callers who reach every \
             application only (403 otherwise).",
            Some("read"),
            "200",
        ),
        ("/api/v1/applications", _) => (
            "Every application with instance and finding counts.",
            Some("read"),
            "200",
        ),
        ("/api/v1/applications/{app}", _) => (
            "One application: instances, components with runtime use, open findings.",
            Some("read"),
            "200",
        ),
        ("/api/v1/applications/{app}/vex", _) => (
            "A VEX document of the application's open vulnerability findings: CycloneDX 1.6 \
             (default) or `format=openvex`. Computed: exploitable/affected when a live instance \
             loaded the component, in_triage/under_investigation when it is only installed; a \
             triaged finding carries its analysis (state, justification, response, detail) \
             instead.",
            Some("read"),
            "200",
        ),
        ("/api/v1/components/{name}", _) => (
            "One component (normalised name): which applications run which versions, findings.",
            Some("read"),
            "200",
        ),
        ("/api/v1/advisories/{id}", _) => (
            "One advisory (by id or alias) and who it affects.",
            Some("read"),
            "200",
        ),
        ("/api/v1/findings", _) => (
            "Findings, most urgent first (severity × runtime use, then newest); `app` filters, \
             `all=true` includes resolved ones. `kind` is one of vulnerable, unexpected, drift, \
             tampered, refused, outdated, yanked; a vulnerable finding's `detail` has `fixed`, \
             `upgrade` (the smallest version clearing all of the component's advisories) and \
             `cvss`.",
            Some("read"),
            "200",
        ),
        ("/api/v1/findings/{key}", _) => (
            "One finding (open or resolved) with its analysis and audit trail: each change's \
             `by`, `at`, `before` and `after`.",
            Some("read"),
            "200",
        ),
        ("/api/v1/findings/{key}/analysis", _) => (
            "Triage a finding: {\"state\": in_triage|exploitable|not_affected|false_positive|\
             resolved, \"justification\": a CycloneDX justification (required for, and only \
             for, not_affected), \"response\": [can_not_fix|will_not_fix|update|rollback|\
             workaround_available], \"detail\": text of at most 4000 characters}. \
             not_affected, false_positive and resolved take the finding out of the key risk \
             indicators and alerts until its evidence changes. 413 over 16 KiB, 422 a state, \
             justification or response CycloneDX does not define.",
            Some("triage"),
            "200",
        ),
        ("/api/v1/search", _) => (
            "Applications, components and advisories matching `q`.",
            Some("read"),
            "200",
        ),
        ("/api/v1/events", _) => (
            "Server-sent events: `change` with {kind, app} whenever anything changes.",
            Some("read"),
            "200",
        ),
        ("/api/v1/openapi.json", _) => ("This document.", None, "200"),
        ("/api/v1/admin/tokens", "post") => (
            "Create a token: {\"app\": NAME} for an app token (scopes report,upload), \
             {\"team\": TEAM, \"scopes\": \"read,triage\"} for a team token, {} for an admin \
             token. The secret is in the answer only.",
            Some("admin"),
            "201",
        ),
        ("/api/v1/admin/tokens", _) => ("List tokens (never their secrets).", Some("admin"), "200"),
        ("/api/v1/admin/tokens/{id}", _) => ("Revoke a token.", Some("admin"), "200"),
        ("/api/v1/admin/webhooks", "post") => (
            "Add a webhook: {\"url\": URL, \"format\": \"json\"|\"slack\"}.",
            Some("admin"),
            "201",
        ),
        ("/api/v1/admin/webhooks", _) => ("List webhooks.", Some("admin"), "200"),
        ("/api/v1/admin/webhooks/{id}", _) => ("Remove a webhook.", Some("admin"), "200"),
        ("/api/v1/admin/teams", "post") => {
            ("Create a team: {\"name\": TEAM}.", Some("admin"), "201")
        }
        ("/api/v1/admin/teams", _) => (
            "List teams with their applications and members.",
            Some("admin"),
            "200",
        ),
        ("/api/v1/admin/teams/{team}/applications/{app}", _) => (
            "Make the team the owner of the application.",
            Some("admin"),
            "200",
        ),
        ("/api/v1/admin/users", "post") => (
            "Create a dashboard user: {\"name\", \"password\" (12 characters or more), \
             \"admin\": bool, \"teams\": [TEAM]}.",
            Some("admin"),
            "201",
        ),
        ("/api/v1/admin/users", _) => ("List dashboard users.", Some("admin"), "200"),
        ("/api/v1/admin/deliveries", _) => (
            "The webhook delivery log, newest first.",
            Some("admin"),
            "200",
        ),
        _ => ("", None, "200"),
    };
    let mut op = json!({
        "summary": summary,
        "responses": { ok: { "description": "success", "content": { "application/json": {} } } },
    });
    let parameters: Vec<Value> = path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if !parameters.is_empty() {
        op["parameters"] = json!(parameters);
    }
    if let Some(scope) = security {
        op["security"] = json!([{ "bearer": [scope] }, { "session": [scope] }]);
        op["responses"]["401"] = json!({ "description": "no valid bearer token or session" });
        op["responses"]["403"] =
            json!({ "description": format!("the caller lacks the `{scope}` scope") });
        op["responses"]["404"] = json!({ "description": "absent, or outside the caller's teams" });
    }
    op
}

fn spec() -> Value {
    let mut paths = serde_json::Map::new();
    for (path, methods) in PATHS {
        let item: serde_json::Map<String, Value> = methods
            .iter()
            .map(|method| ((*method).to_owned(), operation(path, method)))
            .collect();
        paths.insert((*path).to_owned(), Value::Object(item));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "runbom server API",
            "version": "1",
            "description": "Ingest runtime reports, query the portfolio, manage tokens, teams, users \
                            and webhooks. Every operation but this document needs a caller: a bearer \
                            token (Authorization: Bearer …) or a dashboard session cookie, with the \
                            scope the operation names (read, report, upload, triage, admin). Callers \
                            see and act on their teams' applications only; admin tokens and users \
                            on all.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "a token: runbom admin token create --app NAME | --team TEAM --scopes … | --admin" },
                "session": { "type": "apiKey", "in": "cookie", "name": "runbom_session", "description": "a dashboard session (POST /login)" },
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_documented_with_a_summary() {
        let spec = spec();
        for (path, methods) in PATHS {
            for method in *methods {
                let summary = spec["paths"][path][method]["summary"].as_str().unwrap();
                assert!(!summary.is_empty(), "{method} {path}");
            }
        }
    }
}
