//! Triage over HTTP: one finding with its analysis and audit trail, and setting its analysis
//! (CycloneDX state, justification, responses, detail) by a caller with the `triage` scope whose
//! reach holds the finding's application; the dashboard's form goes through the same check with
//! its session's CSRF token.
//!
//! Traps: a finding of an application outside the caller's reach answers 404, as an unknown key
//! does; a `not_affected` without a justification (or a justification on any other state) is
//! refused, because CycloneDX ties the two together.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use runbom_model::vex::{ANALYSIS_JUSTIFICATIONS, ANALYSIS_RESPONSES, ANALYSIS_STATES};
use runbom_store::{Analysis, AuditEntry, FindingRecord, evidence_of};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Caller, Scope, Viewer};
use crate::client::segment;
use crate::dashboard::{self, FindingRow};
use crate::error::ApiError;
use crate::findings::Remedy;
use crate::time::{now_ms, rfc3339};
use crate::{AppState, api, body, login};

/// Largest triage request body: an analysis is a few words and a paragraph.
pub(crate) const MAX_TRIAGE_BODY: usize = 16 * 1024;

/// Longest `detail`, in characters.
const MAX_DETAIL_CHARS: usize = 4000;

/// An analysis as a caller asks for it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalysisRequest {
    pub state: String,
    #[serde(default)]
    pub justification: String,
    #[serde(default)]
    pub response: Vec<String>,
    #[serde(default)]
    pub detail: String,
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

fn one_of(list: &[&str]) -> String {
    list.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl AnalysisRequest {
    /// The analysis to store for `finding`, made by `caller` now; 422 naming what is wrong.
    pub(crate) fn validated(
        self,
        finding: &FindingRecord,
        caller: &Caller,
    ) -> Result<Analysis, ApiError> {
        let state = self.state.trim();
        if !ANALYSIS_STATES.contains(&state) {
            return Err(unprocessable(format!(
                "`state` must be one of {} (CycloneDX), not `{state}`",
                one_of(&ANALYSIS_STATES)
            )));
        }
        let justification = self.justification.trim();
        match (state, justification) {
            ("not_affected", "") => {
                return Err(unprocessable(format!(
                    "`not_affected` needs a `justification`: one of {}",
                    one_of(&ANALYSIS_JUSTIFICATIONS)
                )));
            }
            ("not_affected", j) if !ANALYSIS_JUSTIFICATIONS.contains(&j) => {
                return Err(unprocessable(format!(
                    "`justification` must be one of {} (CycloneDX), not `{j}`",
                    one_of(&ANALYSIS_JUSTIFICATIONS)
                )));
            }
            ("not_affected", _) | (_, "") => {}
            (other, _) => {
                return Err(unprocessable(format!(
                    "a `justification` is for `not_affected` only, not `{other}`"
                )));
            }
        }
        let mut response = Vec::new();
        for r in self.response.iter().map(|r| r.trim()) {
            if !ANALYSIS_RESPONSES.contains(&r) {
                return Err(unprocessable(format!(
                    "each `response` must be one of {} (CycloneDX), not `{r}`",
                    one_of(&ANALYSIS_RESPONSES)
                )));
            }
            if !response.iter().any(|known: &String| known == r) {
                response.push(r.to_owned());
            }
        }
        if self.detail.chars().count() > MAX_DETAIL_CHARS {
            return Err(unprocessable(format!(
                "`detail` is longer than {MAX_DETAIL_CHARS} characters"
            )));
        }
        Ok(Analysis {
            state: state.to_owned(),
            justification: justification.to_owned(),
            response,
            detail: self.detail.trim().to_owned(),
            evidence: evidence_of(&finding.finding).to_owned(),
            updated_by: caller.name.clone(),
            updated_at: now_ms(),
        })
    }
}

/// The finding of `key` if its application is within the caller's reach; 404 otherwise, the
/// same as for a key that does not exist.
pub(crate) async fn finding_within_reach(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<FindingRecord, ApiError> {
    match state.store.finding(key).await? {
        Some(finding) if caller.sees(&finding.app) => Ok(finding),
        _ => Err(ApiError::not_found("finding")),
    }
}

/// Stores `request` as the analysis of `finding` (within the caller's reach, see
/// [`finding_within_reach`]) if the caller has the `triage` scope.
pub(crate) async fn triage(
    state: &AppState,
    caller: &Caller,
    finding: &FindingRecord,
    request: AnalysisRequest,
) -> Result<Analysis, ApiError> {
    caller.require(Scope::Triage)?;
    let analysis = request.validated(finding, caller)?;
    state
        .store
        .set_analysis(&finding.finding.key, &finding.app, &analysis)
        .await?;
    Ok(analysis)
}

pub(crate) fn analysis_json(a: &Analysis) -> Value {
    json!({
        "state": a.state,
        "justification": (!a.justification.is_empty()).then_some(&a.justification),
        "response": a.response,
        "detail": a.detail,
        "evidence": a.evidence,
        "by": a.updated_by,
        "at": rfc3339(a.updated_at),
    })
}

fn audit_json(entry: &AuditEntry) -> Value {
    json!({
        "by": entry.actor,
        "at": rfc3339(entry.at),
        "before": entry.before.as_ref().map(analysis_json),
        "after": analysis_json(&entry.after),
    })
}

/// `GET /api/v1/findings/{key}`: the finding, its analysis and every change to it.
pub(crate) async fn get_finding(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let finding = finding_within_reach(&state, &caller, &key).await?;
    let trail = state.store.audit_trail(&key).await?;
    let mut answer = api::finding_json(&finding);
    answer["audit"] = trail.iter().map(audit_json).collect();
    Ok(Json(answer))
}

/// `PUT /api/v1/findings/{key}/analysis`: sets the finding's analysis; the answer is the
/// analysis before and after.
pub(crate) async fn put_analysis(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Triage)?;
    if body.len() > MAX_TRIAGE_BODY {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a triage request is at most {MAX_TRIAGE_BODY} bytes"),
        ));
    }
    let finding = finding_within_reach(&state, &caller, &key).await?;
    let body = body::decoded(&headers, body, MAX_TRIAGE_BODY)?;
    let request: AnalysisRequest = body::json(&body, "analysis")?;
    let analysis = triage(&state, &caller, &finding, request).await?;
    Ok(Json(json!({
        "key": key,
        "app": finding.app,
        "before": finding.analysis.as_ref().map(analysis_json),
        "analysis": analysis_json(&analysis),
    })))
}

/// One change of the audit trail as the page shows it.
#[derive(Debug)]
struct AuditRow {
    at: String,
    by: String,
    before: String,
    after: String,
}

/// An analysis in a few words: `not_affected (code_not_reachable; will_not_fix): detail`.
fn analysis_text(a: &Analysis) -> String {
    let mut qualifiers: Vec<&str> = Vec::new();
    if !a.justification.is_empty() {
        qualifiers.push(&a.justification);
    }
    qualifiers.extend(a.response.iter().map(String::as_str));
    let mut text = a.state.clone();
    if !qualifiers.is_empty() {
        text.push_str(&format!(" ({})", qualifiers.join("; ")));
    }
    if !a.detail.is_empty() {
        text.push_str(&format!(": {}", a.detail));
    }
    text
}

#[derive(Template)]
#[template(path = "finding.html")]
struct FindingPage {
    key: String,
    f: FindingRow,
    fixed: String,
    analysis: String,
    audit: Vec<AuditRow>,
    /// The form's CSRF token; `None` hides the form (a caller without `triage`, or a token).
    csrf: Option<String>,
    states: &'static [&'static str],
    justifications: &'static [&'static str],
    responses: &'static [&'static str],
}

/// `GET /findings/{key}`: the finding, its analysis, the triage form and the audit trail.
pub(crate) async fn finding_page(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let finding = match finding_within_reach(&state, &caller, &key).await {
        Ok(finding) => finding,
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            return Ok(dashboard::not_found("finding", key));
        }
        Err(err) => return Err(err),
    };
    let detail: Value = serde_json::from_str(&finding.finding.detail).unwrap_or_default();
    let remedy = Remedy::of(&detail);
    let audit = state
        .store
        .audit_trail(&key)
        .await?
        .iter()
        .map(|e| AuditRow {
            at: rfc3339(e.at),
            by: e.actor.clone(),
            before: e.before.as_ref().map(analysis_text).unwrap_or_default(),
            after: analysis_text(&e.after),
        })
        .collect();
    Ok(dashboard::page(&FindingPage {
        fixed: match (&remedy.fixed, &remedy.upgrade) {
            (None, _) => "no fixed version known".to_owned(),
            (Some(fixed), Some(upgrade)) if upgrade != fixed => format!(
                "{fixed}; {upgrade} is the smallest upgrade that clears every advisory of {}",
                finding.finding.name
            ),
            (Some(fixed), _) => fixed.clone(),
        },
        analysis: finding
            .analysis
            .as_ref()
            .map_or_else(|| "not triaged".to_owned(), analysis_text),
        audit,
        csrf: caller.require(Scope::Triage).ok().and(caller.csrf.clone()),
        states: &ANALYSIS_STATES,
        justifications: &ANALYSIS_JUSTIFICATIONS,
        responses: &ANALYSIS_RESPONSES,
        f: FindingRow::from(finding),
        key,
    }))
}

/// The dashboard's triage form.
#[derive(Debug, Deserialize)]
pub(crate) struct TriageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    justification: String,
    /// One response, or empty.
    #[serde(default)]
    response: String,
    #[serde(default)]
    detail: String,
}

/// `POST /findings/{key}/analysis`: the form, checked against the session's CSRF token; back to
/// the finding's page.
pub(crate) async fn post_analysis(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Form(form): Form<TriageForm>,
) -> Result<Response, ApiError> {
    login::check_csrf(&caller, &form.csrf)?;
    caller.require(Scope::Triage)?;
    let finding = finding_within_reach(&state, &caller, &key).await?;
    let request = AnalysisRequest {
        state: form.state,
        justification: form.justification,
        response: Some(form.response)
            .filter(|r| !r.trim().is_empty())
            .into_iter()
            .collect(),
        detail: form.detail,
    };
    triage(&state, &caller, &finding, request).await?;
    Ok(Redirect::to(&format!("/findings/{}", segment(&key))).into_response())
}

#[cfg(test)]
mod tests {
    use runbom_store::NewFinding;

    use super::*;

    fn finding() -> FindingRecord {
        FindingRecord {
            app: "shop".into(),
            finding: NewFinding {
                key: "k".into(),
                kind: "vulnerable".into(),
                severity: "high".into(),
                ecosystem: "PyPI".into(),
                name: "pyyaml".into(),
                version: "5.3".into(),
                advisory_id: "PYSEC-2021-142".into(),
                in_use: true,
                summary: String::new(),
                detail: "{}".into(),
                published_at: None,
                detectable_at: None,
                detectable_from: String::new(),
            },
            opened_at: 0,
            resolved_at: None,
            analysis: None,
        }
    }

    fn caller() -> Caller {
        Caller::for_tests("user alice")
    }

    fn check(state: &str, justification: &str, response: &[&str]) -> Result<Analysis, String> {
        AnalysisRequest {
            state: state.into(),
            justification: justification.into(),
            response: response.iter().map(|r| (*r).to_owned()).collect(),
            detail: "reviewed".into(),
        }
        .validated(&finding(), &caller())
        .map_err(|err| err.message)
    }

    #[test]
    fn states_and_justifications_are_cyclonedx_s() {
        let ok = check("not_affected", "code_not_reachable", &["will_not_fix"]).unwrap();
        assert_eq!(
            (
                ok.state.as_str(),
                ok.evidence.as_str(),
                ok.updated_by.as_str()
            ),
            ("not_affected", "loaded", "user alice")
        );
        assert!(
            check("exploitable", "", &["update", "update"])
                .unwrap()
                .response
                == ["update"]
        );
        let err = check("wontfix", "", &[]).unwrap_err();
        assert!(
            err.contains("`wontfix`") && err.contains("`in_triage`"),
            "{err}"
        );
        let err = check("not_affected", "", &[]).unwrap_err();
        assert!(err.contains("needs a `justification`"), "{err}");
        let err = check("not_affected", "because", &[]).unwrap_err();
        assert!(err.contains("`because`"), "{err}");
        let err = check("exploitable", "code_not_present", &[]).unwrap_err();
        assert!(err.contains("`not_affected` only"), "{err}");
        let err = check("exploitable", "", &["pray"]).unwrap_err();
        assert!(err.contains("`pray`"), "{err}");
    }

    #[test]
    fn a_detail_longer_than_the_limit_is_refused() {
        let request = AnalysisRequest {
            state: "in_triage".into(),
            detail: "x".repeat(MAX_DETAIL_CHARS + 1),
            ..AnalysisRequest::default()
        };
        assert!(request.validated(&finding(), &caller()).is_err());
    }
}
