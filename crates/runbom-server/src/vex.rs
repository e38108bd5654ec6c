//! `GET /api/v1/applications/{app}/vex`: a VEX document of one application from the server's
//! store: one statement per open vulnerability finding, `affected` when a live instance loaded
//! the component, `under_investigation` when it is only installed (the server sees live
//! instances, not a closed observation window, so it never claims `not_affected` on its own),
//! and a person's analysis, when the finding was triaged, in place of the computed one.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use runbom_model::Ecosystem;
use runbom_model::sbom::{Subject, Tool, serial_number_from_digest};
use runbom_model::vex::{
    StatementEvidence, TriagedAnalysis, VexDocument, VexProduct, VexStatement, VexStatus,
};
use runbom_store::{FindingRecord, LiveComponent};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::{Caller, Scope};
use crate::error::ApiError;
use crate::findings::Remedy;
use crate::time::{now_ms, rfc3339};

#[derive(Debug, Deserialize)]
pub(crate) struct VexQuery {
    /// `cyclonedx` (the default) or `openvex`.
    #[serde(default)]
    format: Option<String>,
}

/// The statement of one vulnerability finding.
fn statement(f: &FindingRecord, components: &[LiveComponent], now: i64) -> VexStatement {
    let n = &f.finding;
    let detail: Value = serde_json::from_str(&n.detail).unwrap_or_default();
    let strings = |field: &str| -> Vec<String> {
        detail[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let instances: Vec<String> = detail["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| format!("{} pid {}", i["host"].as_str().unwrap_or("?"), i["pid"]))
        .collect();
    let ecosystem = components
        .iter()
        .find(|c| c.name == n.name && c.version == n.version)
        .and_then(|c| c.ecosystem.parse::<Ecosystem>().ok())
        .unwrap_or(Ecosystem::PyPi);
    let remedy = Remedy::of(&detail);
    let (status, what) = if n.in_use {
        (VexStatus::Affected, "loaded")
    } else {
        (
            VexStatus::UnderInvestigation,
            "installed but not seen loaded",
        )
    };
    VexStatement {
        vulnerability: n.advisory_id.clone(),
        aliases: strings("aliases"),
        summary: Some(n.summary.clone()).filter(|s| !s.is_empty()),
        product: VexProduct {
            name: n.name.clone(),
            version: n.version.clone(),
            purl: format!("pkg:{}/{}@{}", ecosystem.purl_type(), n.name, n.version),
        },
        status,
        justification: None,
        detail: format!(
            "{} {} is {what} on {} live instance(s) of {}",
            n.name,
            n.version,
            instances.len(),
            f.app
        ),
        action: Some(match remedy.upgrade.or(remedy.fixed) {
            Some(version) => format!("upgrade {} to {version} or later", n.name),
            None => format!("no fixed version is known; remove or replace {}", n.name),
        }),
        evidence: StatementEvidence {
            reports: instances,
            from: rfc3339(f.opened_at),
            to: rfc3339(now),
            seconds: (now - f.opened_at).max(0) / 1000,
        },
        triage: f.analysis.as_ref().map(|a| TriagedAnalysis {
            state: a.state.clone(),
            justification: a.justification.clone(),
            response: a.response.clone(),
            detail: a.detail.clone(),
            by: a.updated_by.clone(),
            at: rfc3339(a.updated_at),
        }),
    }
}

/// The VEX document of `app`'s open vulnerability findings as of `now`.
pub(crate) fn document(
    app: &str,
    findings: &[FindingRecord],
    components: &[LiveComponent],
    now: i64,
) -> VexDocument {
    let mut statements: Vec<VexStatement> = findings
        .iter()
        .filter(|f| f.finding.kind == "vulnerable")
        .map(|f| statement(f, components, now))
        .collect();
    statements.sort_by(|a, b| {
        (&a.vulnerability, &a.product.purl).cmp(&(&b.vulnerability, &b.product.purl))
    });
    let mut digest = Sha256::new();
    digest.update(app.as_bytes());
    digest.update(now.to_be_bytes());
    let digest: [u8; 32] = digest.finalize().into();
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&digest[..16]);
    VexDocument {
        serial_number: serial_number_from_digest(&serial),
        timestamp: rfc3339(now),
        tool: Tool::runbom(env!("CARGO_PKG_VERSION")),
        subject: Some(Subject {
            name: app.to_owned(),
            version: None,
        }),
        statements,
    }
}

pub(crate) async fn get_vex(
    State(state): State<AppState>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<VexQuery>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    caller.reach_app(&app)?;
    let writer_name = match q.format.as_deref() {
        None | Some("cyclonedx") => "cyclonedx/vex",
        Some("openvex") => "openvex",
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("`format` must be `cyclonedx` or `openvex`, not `{other}`"),
            ));
        }
    };
    let store = &state.store;
    if !store.application_names().await?.contains(&app) {
        return Err(ApiError::not_found("application"));
    }
    let findings = store.findings(Some(&app), false).await?;
    let components = store.live_components(&app).await?;
    let document = document(&app, &findings, &components, now_ms());
    let writer = runbom_sources::write::vex::vex_writer_by_name(writer_name)
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "no VEX writer"))?;
    let text = writer
        .write(&document)
        .map_err(|err| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}
