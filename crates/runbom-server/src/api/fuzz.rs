//! Property-based fuzzing of what the API handlers parse besides bodies of reports and
//! inventories: the query strings of `/findings` and `/search`, and the JSON bodies of the admin
//! actions (new token, new webhook). axum's extractors parse them; these properties pin that any
//! input is a value or a 400/422 rejection, and that what is sent is what the handler sees.

use axum::Json;
use axum::extract::Query;
use axum::http::Uri;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// `text` percent-encoded for a query string, all but unreserved bytes escaped.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn uri(path: &str, query: &str) -> Option<Uri> {
    format!("{path}?{query}").parse().ok()
}

/// A query string: encoded pairs with the handlers' keys and others, or raw text.
fn query_string() -> impl Strategy<Value = String> {
    let key = prop_oneof![Just("app"), Just("all"), Just("q"), Just("x")].prop_map(str::to_owned);
    prop_oneof![
        proptest::collection::vec((key, ".{0,12}"), 0..4).prop_map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", encoded(v)))
                .collect::<Vec<_>>()
                .join("&")
        }),
        "[!-~]{0,40}",
        "(app|all|q)=[%+&=a-z0-9]{0,20}",
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Any query string on `/findings` and `/search`: the parsed query, or a 400 rejection.
    #[test]
    fn any_query_string_is_parsed_or_refused(query in query_string()) {
        let Some(findings) = uri("/api/v1/findings", &query) else {
            return Ok(());
        };
        if let Err(rejection) = Query::<FindingsQuery>::try_from_uri(&findings) {
            prop_assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        }
        let search = uri("/api/v1/search", &query).unwrap();
        if let Err(rejection) = Query::<SearchQuery>::try_from_uri(&search) {
            prop_assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        }
    }

    /// Any text sent as `app` or `q` reaches the handler as sent; `all` is a boolean or a 400.
    #[test]
    fn query_values_arrive_as_sent(app in ".{0,24}", q in ".{0,24}", all in ".{0,6}") {
        let findings = uri("/api/v1/findings", &format!("app={}&all={}", encoded(&app), encoded(&all)))
            .unwrap();
        match Query::<FindingsQuery>::try_from_uri(&findings) {
            Ok(Query(parsed)) => {
                prop_assert_eq!(parsed.app.as_deref(), Some(app.as_str()));
                prop_assert_eq!(parsed.all, all == "true");
                prop_assert!(all == "true" || all == "false", "{all:?}");
            }
            Err(rejection) => {
                prop_assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
                prop_assert!(all != "true" && all != "false");
            }
        }
        let search = uri("/api/v1/search", &format!("q={}", encoded(&q))).unwrap();
        prop_assert_eq!(Query::<SearchQuery>::try_from_uri(&search).unwrap().0.q, q);
    }

    /// Any bytes as an admin-action body: the request, or a 400/422 rejection.
    #[test]
    fn any_admin_body_is_parsed_or_refused(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        for status in [
            Json::<NewTokenRequest>::from_bytes(&body).err().map(|r| r.status()),
            Json::<NewWebhook>::from_bytes(&body).err().map(|r| r.status()),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(
                matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY),
                "{status}"
            );
        }
    }

    /// A new token's `app` arrives as sent, whatever it holds.
    #[test]
    fn a_token_request_carries_any_app(app in proptest::option::of(".{0,40}")) {
        let body = serde_json::to_vec(&json!({ "app": app })).unwrap();
        prop_assert_eq!(Json::<NewTokenRequest>::from_bytes(&body).unwrap().0.app, app);
    }

    /// A new webhook is accepted exactly when its format is `json` or `slack` (default `json`)
    /// and its URL is http(s); every other well-formed body is a 422, a malformed one a 400.
    #[test]
    fn a_webhook_is_accepted_only_when_usable(
        url in prop_oneof![
            Just(None),
            "(https?|HTTP|ftp|javascript)://[ -~]{0,20}".prop_map(Some),
            ".{0,20}".prop_map(Some),
        ],
        format in prop_oneof![
            Just(None),
            prop_oneof![Just("json"), Just("slack"), Just("JSON"), Just("slack "), Just("")]
                .prop_map(|f| Some(f.to_owned())),
            ".{0,8}".prop_map(Some),
        ],
        extra in proptest::option::of(any::<i64>()),
    ) {
        let mut body = serde_json::Map::new();
        if let Some(url) = &url {
            body.insert("url".to_owned(), url.clone().into());
        }
        if let Some(format) = &format {
            body.insert("format".to_owned(), format.clone().into());
        }
        if let Some(extra) = extra {
            body.insert("extra".to_owned(), extra.into());
        }
        let body = serde_json::to_vec(&Value::Object(body)).unwrap();
        let Some(url) = url else {
            let rejection = Json::<NewWebhook>::from_bytes(&body).unwrap_err();
            prop_assert_eq!(rejection.status(), StatusCode::UNPROCESSABLE_ENTITY);
            return Ok(());
        };
        let request = Json::<NewWebhook>::from_bytes(&body).unwrap().0;
        let format = format.unwrap_or_else(|| "json".to_owned());
        let usable = (format == "json" || format == "slack")
            && (url.starts_with("http://") || url.starts_with("https://"));
        match request.validated() {
            Ok(webhook) => {
                prop_assert!(usable);
                prop_assert_eq!(webhook.url, url);
                prop_assert_eq!(webhook.format, format);
            }
            Err(err) => {
                prop_assert!(!usable);
                prop_assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
            }
        }
    }
}
