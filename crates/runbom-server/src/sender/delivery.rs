//! One attempt to hand a report (or a digest heartbeat) to the server, and what the answer means
//! for the sender: taken (2xx), refused for good (a 4xx other than 408 and 429: retrying cannot
//! help), or worth another try later (no answer, 408, 429, 5xx; with the server's `Retry-After`
//! when it gave one). A heartbeat can also be answered "send the full report" (409), or not be
//! served at all (404 or 405: a server older than heartbeats).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};

/// What the server did with a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Taken,
    Refused {
        status: u16,
        message: String,
    },
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// What the server did with a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeartbeatAnswer {
    /// The server knows the instance in this state.
    Known,
    /// The server asks for the full report (it does not know the instance, or holds another
    /// state), or refused the heartbeat: the full report says everything.
    FullReportNeeded,
    /// The server takes no heartbeats (older than them): send full reports from now on.
    NotServed,
    /// No answer worth acting on now: try again later.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// `POST {server}/api/v1/reports` with the gzip body.
pub(crate) fn post_report(
    client: &Client,
    url: &str,
    token: &str,
    gzip_body: &[u8],
    timeout: Duration,
) -> Answer {
    let sent = client
        .post(url)
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .header(CONTENT_ENCODING, "gzip")
        .timeout(timeout)
        .body(gzip_body.to_vec())
        .send();
    match sent {
        Ok(response) if response.status().is_success() => Answer::Taken,
        Ok(response) => answer_of_failure(response),
        Err(err) => Answer::Retry {
            reason: error_chain(&err),
            after: None,
        },
    }
}

/// `POST {server}/api/v1/heartbeats` with the (small, plain JSON) heartbeat.
pub(crate) fn post_heartbeat(
    client: &Client,
    url: &str,
    token: &str,
    body: &[u8],
    timeout: Duration,
) -> HeartbeatAnswer {
    let sent = client
        .post(url)
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .timeout(timeout)
        .body(body.to_vec())
        .send();
    let response = match sent {
        Ok(response) => response,
        Err(err) => {
            return HeartbeatAnswer::Retry {
                reason: error_chain(&err),
                after: None,
            };
        }
    };
    match response.status() {
        status if status.is_success() => HeartbeatAnswer::Known,
        StatusCode::CONFLICT => HeartbeatAnswer::FullReportNeeded,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => HeartbeatAnswer::NotServed,
        _ => match answer_of_failure(response) {
            Answer::Retry { reason, after } => HeartbeatAnswer::Retry { reason, after },
            _ => HeartbeatAnswer::FullReportNeeded,
        },
    }
}

/// What a non-2xx answer means: its status, `Retry-After` and `{"error": …}` message.
fn answer_of_failure(response: reqwest::blocking::Response) -> Answer {
    let status = response.status();
    let after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let message = response
        .json::<serde_json::Value>()
        .ok()
        .and_then(|body| body["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "no reason given".to_owned());
    classify(status, message, after)
}

fn classify(status: StatusCode, message: String, after: Option<Duration>) -> Answer {
    let retry = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if retry {
        Answer::Retry {
            reason: format!("HTTP {status}: {message}"),
            after,
        }
    } else {
        Answer::Refused {
            status: status.as_u16(),
            message,
        }
    }
}

/// The error and its causes on one line ("error sending request: … Connection refused").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_retried() {
        let answer = |code: u16| {
            classify(
                StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT),
                "m".into(),
                None,
            )
        };
        for code in [408, 429, 500, 502, 503] {
            assert!(matches!(answer(code), Answer::Retry { .. }), "{code}");
        }
        for code in [400, 401, 403, 404, 413, 422] {
            assert!(matches!(answer(code), Answer::Refused { .. }), "{code}");
        }
    }
}
