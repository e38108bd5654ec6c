//! Property-based fuzzing of the request-body parsers, the first code an untrusted client
//! reaches: whatever the headers and body, [`decoded`] answers with the original bytes or
//! 400/413/415, [`validated_report`] with the report or 400/403/422, and [`json`] (the expected
//! inventory upload) with the value or 400 — never a panic, never another status, and never an
//! allocation far beyond the limit for a gzip bomb.

use std::io::Write;

use axum::http::HeaderValue;
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::runtime::RUNTIME_REPORT_SCHEMA;
use runbom_model::{Ecosystem, PackageName};
use serde_json::Value;

use super::*;

/// A report `runbom run --report` wrote (see `testdata/README.md`).
const REPORT: &str = include_str!("../../testdata/runtime-report.json");

/// The `app` of [`REPORT`].
const REPORT_APP: &str = "fuzz-fixture";

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn with_encodings(values: &[HeaderValue]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(header::CONTENT_ENCODING, value.clone());
    }
    headers
}

/// `gzip` or `x-gzip` in any letter case, with optional whitespace around it.
fn gzip_spelling() -> impl Strategy<Value = HeaderValue> {
    (
        prop_oneof![Just("gzip"), Just("x-gzip")],
        proptest::collection::vec(any::<bool>(), 6),
        "[ \t]{0,2}",
        "[ \t]{0,2}",
    )
        .prop_map(|(name, upper, before, after)| {
            let name: String = name
                .chars()
                .zip(upper)
                .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            HeaderValue::from_str(&format!("{before}{name}{after}")).unwrap()
        })
}

/// What `decoded` must do with one `Content-Encoding` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Unsupported,
}

fn coding_of(values: &[HeaderValue]) -> Coding {
    match values {
        [] => Coding::Identity,
        [value] => match value.to_str().map(|v| v.trim().to_ascii_lowercase()) {
            Ok(v) if v.is_empty() || v == "identity" => Coding::Identity,
            Ok(v) if v == "gzip" || v == "x-gzip" => Coding::Gzip,
            _ => Coding::Unsupported,
        },
        // A list of codings, sent as several headers, like `gzip, gzip` in one.
        _ => Coding::Unsupported,
    }
}

/// Any header value: the codings a client may mean, near misses, and arbitrary bytes.
fn any_encoding() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        gzip_spelling(),
        prop_oneof![
            Just("identity"),
            Just("IDENTITY"),
            Just(""),
            Just("br"),
            Just("deflate"),
            Just("zstd"),
            Just("compress"),
            Just("gzip, identity"),
            Just("gzip;q=1"),
            Just("gzi"),
            Just("gzipp"),
        ]
        .prop_map(HeaderValue::from_static),
        "[ -~\t]{0,12}".prop_map(|s| HeaderValue::from_str(&s).unwrap()),
        proptest::collection::vec(any::<u8>(), 0..12)
            .prop_filter_map("a valid header value", |b| HeaderValue::from_bytes(&b).ok()),
    ]
}

fn is_status(err: &ApiError, allowed: &[StatusCode]) -> bool {
    allowed.contains(&err.status)
}

/// Whether a message names a place as `line N, column M`.
fn names_line_and_column(message: &str) -> bool {
    let Some(rest) = message.split("line ").nth(1) else {
        return false;
    };
    let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).count();
    let line = digits(rest);
    line > 0
        && rest[line..]
            .strip_prefix(", column ")
            .is_some_and(|col| digits(col) > 0)
}

proptest! {
    #![proptest_config(config())]

    /// Without a coding (or `identity`), the body is passed on untouched: its size is bounded by
    /// the router's body limit, not here.
    #[test]
    fn plain_bodies_pass_unchanged(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        encoding in prop_oneof![
            Just(None),
            Just(Some("identity")),
            Just(Some("Identity ")),
            Just(Some("")),
        ],
        limit in 0usize..4096,
    ) {
        let values: Vec<HeaderValue> = encoding.map(HeaderValue::from_static).into_iter().collect();
        let out = decoded(&with_encodings(&values), Bytes::from(body.clone()), limit).unwrap();
        prop_assert_eq!(&out[..], &body[..]);
    }

    /// gzip of any data one byte under, at, and one byte over the limit: the exact data up to the
    /// limit, 413 beyond.
    #[test]
    fn gzip_round_trips_up_to_the_limit(
        data in proptest::collection::vec(any::<u8>(), 0..4096),
        spelling in gzip_spelling(),
        over in -1isize..=1,
    ) {
        let Some(limit) = data.len().checked_add_signed(-over) else {
            return Ok(());
        };
        let result = decoded(&with_encodings(&[spelling]), Bytes::from(gzip(&data)), limit);
        if data.len() <= limit {
            prop_assert_eq!(&result.unwrap()[..], &data[..]);
        } else {
            prop_assert_eq!(result.unwrap_err().status, StatusCode::PAYLOAD_TOO_LARGE);
        }
    }

    /// Any bytes under any `Content-Encoding` header (or several): the body itself, a decoded body
    /// within the limit, or 400/413/415 as the coding says.
    #[test]
    fn any_body_under_any_encoding(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..1024),
            proptest::collection::vec(any::<u8>(), 0..1024).prop_map(|d| gzip(&d)),
        ],
        values in proptest::collection::vec(any_encoding(), 0..3),
        limit in 0usize..2048,
    ) {
        let result = decoded(&with_encodings(&values), Bytes::from(body.clone()), limit);
        match (coding_of(&values), result) {
            (Coding::Identity, Ok(out)) => prop_assert_eq!(&out[..], &body[..]),
            (Coding::Gzip, Ok(out)) => prop_assert!(out.len() <= limit),
            (Coding::Gzip, Err(err)) => prop_assert!(
                is_status(&err, &[StatusCode::BAD_REQUEST, StatusCode::PAYLOAD_TOO_LARGE]),
                "{err:?}"
            ),
            (Coding::Unsupported, Err(err)) => {
                prop_assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
            }
            (coding, result) => prop_assert!(false, "{coding:?} {values:?}: {result:?}"),
        }
    }

    /// A gzip stream cut short is a bad request, wherever it is cut.
    #[test]
    fn truncated_gzip_is_a_bad_request(
        data in proptest::collection::vec(any::<u8>(), 0..2048),
        cut in any::<prop::sample::Index>(),
    ) {
        let full = gzip(&data);
        let body = full[..cut.index(full.len())].to_vec();
        let err = decoded(&with_encodings(&[HeaderValue::from_static("gzip")]), Bytes::from(body), data.len())
            .unwrap_err();
        prop_assert_eq!(err.status, StatusCode::BAD_REQUEST, "{}", err.message);
    }

    /// One flipped bit anywhere in a gzip stream: the original data (a flip in a header field
    /// the format does not check) or 400/413, never other data.
    #[test]
    fn a_flipped_bit_never_yields_other_data(
        data in proptest::collection::vec(any::<u8>(), 0..2048),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut body = gzip(&data);
        let at = at.index(body.len());
        body[at] ^= 1 << bit;
        match decoded(&with_encodings(&[HeaderValue::from_static("gzip")]), Bytes::from(body), data.len()) {
            Ok(out) => prop_assert_eq!(&out[..], &data[..]),
            Err(err) => prop_assert!(
                is_status(&err, &[StatusCode::BAD_REQUEST, StatusCode::PAYLOAD_TOO_LARGE]),
                "{err:?}"
            ),
        }
    }

    /// Bytes after a complete gzip member are decoded (another member) or refused, never dropped.
    #[test]
    fn bytes_after_a_gzip_member_are_not_dropped(
        first in proptest::collection::vec(any::<u8>(), 0..512),
        second in proptest::collection::vec(any::<u8>(), 0..512),
        second_is_gzip in any::<bool>(),
    ) {
        let mut body = gzip(&first);
        body.extend(if second_is_gzip { gzip(&second) } else { second.clone() });
        let result = decoded(&with_encodings(&[HeaderValue::from_static("gzip")]), Bytes::from(body), 4096);
        match result {
            Ok(out) if second_is_gzip => prop_assert_eq!(&out[..], &[first, second].concat()[..]),
            Ok(out) => {
                prop_assert!(second.is_empty(), "{} trailing bytes dropped", second.len());
                prop_assert_eq!(&out[..], &first[..]);
            }
            Err(err) => {
                prop_assert!(!second_is_gzip, "{err:?}");
                prop_assert_eq!(err.status, StatusCode::BAD_REQUEST);
            }
        }
    }

    /// Highly compressible data far above the limit (a gzip bomb) is refused with 413, and the
    /// output buffer, the only allocation that grows with the data, stays near the limit.
    #[test]
    fn gzip_bombs_are_refused_within_the_limit(
        byte in any::<u8>(),
        limit in 1usize..16 * 1024,
        factor in 4usize..64,
        members in 1usize..4,
    ) {
        let member = gzip(&vec![byte; limit * factor]);
        let body = member.repeat(members);
        let err = decoded(&with_encodings(&[HeaderValue::from_static("gzip")]), Bytes::from(body.clone()), limit)
            .unwrap_err();
        prop_assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        let mut out = Vec::new();
        prop_assert!(inflate_at_most(&body, limit, &mut out).is_err());
        prop_assert_eq!(out.len(), limit + 1);
        prop_assert!(out.capacity() <= bomb_buffer_bound(limit), "{} for {limit}", out.capacity());
    }
}

/// The most the output buffer may take for `limit`: `read_to_end` grows it by doubling.
fn bomb_buffer_bound(limit: usize) -> usize {
    2 * (limit + 1) + 8 * 1024
}

/// A gigabyte of zeros in about a megabyte of gzip (a thousand members of one megabyte each):
/// refused at the default body limit after inflating 8 MiB and a byte, not a gigabyte.
#[test]
fn a_gigabyte_bomb_stops_at_the_default_limit() {
    let limit = crate::ServerConfig::default().max_body_bytes;
    let body = gzip(&vec![0; 1 << 20]).repeat(1024);
    assert!(body.len() < 2 << 20, "{}", body.len());
    let mut out = Vec::new();
    let err = inflate_at_most(&body, limit, &mut out).unwrap_err();
    assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(out.len(), limit + 1);
    assert!(
        out.capacity() <= bomb_buffer_bound(limit),
        "{}",
        out.capacity()
    );
}

/// The answer every report body must get: a report that passed every check, or 400 (naming the
/// line and column), 403 or 422.
fn check_report_answer(result: Result<RuntimeReport, ApiError>) -> Result<(), TestCaseError> {
    match result {
        Ok(report) => {
            prop_assert!(reads_schema(&report.schema), "{}", report.schema);
            for id in [&report.report_id, &report.session_id] {
                prop_assert!(!id.trim().is_empty() && id.len() <= MAX_ID_LEN, "{id:?}");
            }
            prop_assert!(report.app.as_deref().is_none_or(|app| app == REPORT_APP));
            let again = validated_report(&serde_json::to_vec(&report).unwrap(), REPORT_APP);
            prop_assert_eq!(again.unwrap(), report);
        }
        Err(err) if err.status == StatusCode::BAD_REQUEST => {
            prop_assert!(names_line_and_column(&err.message), "{}", err.message);
        }
        Err(err) => prop_assert!(
            is_status(
                &err,
                &[StatusCode::FORBIDDEN, StatusCode::UNPROCESSABLE_ENTITY]
            ),
            "{err:?}"
        ),
    }
    Ok(())
}

fn report_value() -> Value {
    serde_json::from_str(REPORT).unwrap()
}

/// JSON pointers to every value inside `value`, parents before children.
fn pointers(value: &Value) -> Vec<String> {
    fn walk(value: &Value, at: &str, out: &mut Vec<String>) {
        let children: Vec<(String, &Value)> = match value {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        for (token, child) in children {
            let pointer = format!("{at}/{token}");
            out.push(pointer.clone());
            walk(child, &pointer, out);
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// Removes the value at `pointer` from its object or array.
fn remove(value: &mut Value, pointer: &str) {
    let (parent, token) = pointer.rsplit_once('/').unwrap();
    match value.pointer_mut(parent).unwrap() {
        Value::Object(map) => {
            map.remove(&token.replace("~1", "/").replace("~0", "~"));
        }
        Value::Array(items) => {
            items.remove(token.parse::<usize>().unwrap());
        }
        _ => unreachable!("{parent} has children"),
    }
}

/// Stands in for a value whose text `serde_json::Value` cannot hold (a huge number, invalid
/// UTF-8); replaced in the serialized bytes.
const MARKER: &str = "RUNBOM-FUZZ-MARKER";

fn with_raw(mut value: Value, pointer: &str, raw: &[u8]) -> Vec<u8> {
    *value.pointer_mut(pointer).unwrap() = Value::String(MARKER.to_owned());
    let text = serde_json::to_vec_pretty(&value).unwrap();
    let marker = format!("\"{MARKER}\"");
    let at = text
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .unwrap();
    [&text[..at], raw, &text[at + marker.len()..]].concat()
}

/// Any JSON value, with keys that are sometimes the report's own field names.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String(RUNTIME_REPORT_SCHEMA.to_owned())),
    ];
    let key = prop_oneof![
        prop::sample::select(vec![
            "schema",
            "report_id",
            "session_id",
            "app",
            "host",
            "started_at",
            "reported_at",
            "command",
            "interpreter",
            "processes",
            "distributions",
            "stdlib_modules",
            "unowned_modules",
            "sequence",
            "hook_errors",
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A change to the fixture report, and the answer it must get when that answer is certain.
#[derive(Debug, Clone)]
enum Mutation {
    /// Removes one field or array item (a required one: 400; an optional one: still valid).
    Delete(prop::sample::Index),
    /// Puts any JSON value in place of one value.
    Replace(prop::sample::Index, Value),
    /// Sets `report_id` or `session_id`.
    Id(&'static str, String),
    Schema(String),
    App(Option<String>),
    /// Wraps one value in this many arrays.
    Nest(prop::sample::Index, usize),
    /// Puts a number's text in place of one number.
    Number(prop::sample::Index, &'static str),
    /// Puts a string holding invalid UTF-8 (or a lone surrogate escape) in place of one string.
    BadText(prop::sample::Index, String, &'static [u8]),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let id = prop_oneof![
        Just(String::new()),
        "[ \t\r\n]{1,8}",
        ".{1,40}",
        "[a-z0-9-]{201,260}",
        ".{201,260}",
        ".{60,80}",
    ];
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (any::<prop::sample::Index>(), any_json()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        (prop::sample::select(vec!["report_id", "session_id"]), id)
            .prop_map(|(field, id)| Mutation::Id(field, id)),
        prop_oneof![
            ".{0,30}",
            Just("runbom.runtime-report/v2".to_owned()),
            Just(" runbom.runtime-report/v1".to_owned()),
            Just("RUNBOM.RUNTIME-REPORT/V1".to_owned()),
        ]
        .prop_map(Mutation::Schema),
        prop_oneof![
            Just(None),
            Just(Some(REPORT_APP.to_owned())),
            Just(Some(String::new())),
            Just(Some(format!("{REPORT_APP} "))),
            ".{0,20}".prop_map(Some),
        ]
        .prop_map(Mutation::App),
        (
            any::<prop::sample::Index>(),
            prop_oneof![1usize..8, 120usize..140, 1000usize..20_000],
        )
            .prop_map(|(at, depth)| Mutation::Nest(at, depth)),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(vec![
                "1e400",
                "-1e400",
                "18446744073709551616",
                "99999999999999999999999999999999",
                "-9223372036854775809",
                "-1",
                "1.5",
                "-0",
                "1e2",
                "0.0",
                "4294967296",
            ]),
        )
            .prop_map(|(at, n)| Mutation::Number(at, n)),
        (
            any::<prop::sample::Index>(),
            "[a-z]{0,8}",
            prop::sample::select(vec![
                &b"\x80"[..],
                b"\xc0\x80",
                b"\xed\xa0\x80",
                b"\xf8\x88\x80\x80\x80",
                b"\xff",
                b"\xe2\x82",
                b"\\ud800",
                b"\\udc00x",
            ]),
        )
            .prop_map(|(at, prefix, bad)| Mutation::BadText(at, prefix, bad)),
    ]
}

/// Pointers to the values of the fixture `keep` accepts.
fn pointers_where(value: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    pointers(value)
        .into_iter()
        .filter(|p| keep(value.pointer(p).unwrap()))
        .collect()
}

/// The mutated body, and the status it must get if that is certain (`None`: valid).
fn apply(mutation: &Mutation) -> (Vec<u8>, Option<Option<StatusCode>>) {
    let mut value = report_value();
    let json = |value: &Value| serde_json::to_vec_pretty(value).unwrap();
    match mutation {
        Mutation::Delete(at) => {
            let all = pointers(&value);
            remove(&mut value, &all[at.index(all.len())]);
            (json(&value), None)
        }
        Mutation::Replace(at, new) => {
            let all = pointers(&value);
            *value.pointer_mut(&all[at.index(all.len())]).unwrap() = new.clone();
            (json(&value), None)
        }
        Mutation::Id(field, id) => {
            value[field] = Value::String(id.clone());
            let refused = id.trim().is_empty() || id.len() > MAX_ID_LEN;
            let status = refused.then_some(StatusCode::UNPROCESSABLE_ENTITY);
            (json(&value), Some(status))
        }
        Mutation::Schema(schema) => {
            value["schema"] = Value::String(schema.clone());
            let status = (!reads_schema(schema)).then_some(StatusCode::UNPROCESSABLE_ENTITY);
            (json(&value), Some(status))
        }
        Mutation::App(app) => {
            match app {
                Some(app) => value["app"] = Value::String(app.clone()),
                None => {
                    value.as_object_mut().unwrap().remove("app");
                }
            }
            let status = app
                .as_ref()
                .is_some_and(|app| app != REPORT_APP)
                .then_some(StatusCode::FORBIDDEN);
            (json(&value), Some(status))
        }
        Mutation::Nest(at, depth) => {
            let all = pointers(&value);
            let target = value.pointer_mut(&all[at.index(all.len())]).unwrap();
            let inner = std::mem::take(target);
            let raw = serde_json::to_string(&inner).unwrap();
            let nested = format!("{}{raw}{}", "[".repeat(*depth), "]".repeat(*depth));
            // Beyond serde_json's recursion limit (128) it must be a 400, not a stack overflow.
            let certain = (*depth > 128).then_some(Some(StatusCode::BAD_REQUEST));
            (
                with_raw(value, &all[at.index(all.len())], nested.as_bytes()),
                certain,
            )
        }
        Mutation::Number(at, text) => {
            let numbers = pointers_where(&value, Value::is_number);
            let out_of_range = matches!(
                *text,
                "1e400"
                    | "-1e400"
                    | "18446744073709551616"
                    | "99999999999999999999999999999999"
                    | "-9223372036854775809"
                    | "1.5"
            );
            let certain = out_of_range.then_some(Some(StatusCode::BAD_REQUEST));
            (
                with_raw(value, &numbers[at.index(numbers.len())], text.as_bytes()),
                certain,
            )
        }
        Mutation::BadText(at, prefix, bad) => {
            let strings = pointers_where(&value, Value::is_string);
            let raw = [b"\"", prefix.as_bytes(), bad, b"\""].concat();
            let certain = Some(Some(StatusCode::BAD_REQUEST));
            (
                with_raw(value, &strings[at.index(strings.len())], &raw),
                certain,
            )
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes at all.
    #[test]
    fn any_bytes_get_a_client_error(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_report_answer(validated_report(&body, REPORT_APP))?;
    }

    /// The fixture's text with bytes flipped, inserted or removed.
    #[test]
    fn a_damaged_report_text_gets_a_client_error(
        edits in proptest::collection::vec(
            (any::<prop::sample::Index>(), any::<u8>(), 0u8..3),
            1..4,
        ),
    ) {
        let mut body = REPORT.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            let at = at.index(body.len());
            match kind {
                0 => body[at] = byte,
                1 => body.insert(at, byte),
                _ => {
                    body.remove(at);
                }
            }
        }
        check_report_answer(validated_report(&body, REPORT_APP))?;
    }

    /// Any JSON value.
    #[test]
    fn any_json_value_gets_a_client_error(value in any_json()) {
        check_report_answer(validated_report(&serde_json::to_vec(&value).unwrap(), REPORT_APP))?;
    }

    /// The fixture with one thing changed: the answer the change calls for where it is certain,
    /// and otherwise a report that passed every check or a client error.
    #[test]
    fn a_mutated_report_gets_the_right_answer(mutation in mutation()) {
        let (body, certain) = apply(&mutation);
        let result = validated_report(&body, REPORT_APP);
        match certain {
            Some(None) => prop_assert!(result.is_ok(), "{:?}", result.unwrap_err()),
            Some(Some(status)) => {
                let err = result.as_ref().unwrap_err();
                prop_assert_eq!(err.status, status, "{}", err.message);
            }
            None => {}
        }
        check_report_answer(result)?;
    }

    /// A valid report, with any ids, counters and host, is taken as sent, plain or gzip.
    #[test]
    fn a_valid_report_round_trips(
        report_id in ".{1,60}".prop_filter("not blank", |s| !s.trim().is_empty()),
        session_id in "[!-~]{1,200}",
        app in prop_oneof![Just(None), Just(Some(REPORT_APP))],
        sequence in any::<u64>(),
        hook_errors in any::<u64>(),
        exit_code in any::<Option<i32>>(),
        host in ".{0,40}",
        gzipped in any::<bool>(),
    ) {
        let mut value = report_value();
        value["report_id"] = report_id.into();
        value["session_id"] = session_id.into();
        value["sequence"] = sequence.into();
        value["hook_errors"] = hook_errors.into();
        value["host"] = host.into();
        let object = value.as_object_mut().unwrap();
        match app {
            Some(app) => object.insert("app".to_owned(), app.into()),
            None => object.remove("app"),
        };
        match exit_code {
            Some(code) => object.insert("exit_code".to_owned(), code.into()),
            None => object.remove("exit_code"),
        };
        let mut body = serde_json::to_vec(&value).unwrap();
        let mut headers = HeaderMap::new();
        if gzipped {
            body = gzip(&body);
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let body = decoded(&headers, Bytes::from(body), 1 << 20).unwrap();
        let report = validated_report(&body, REPORT_APP).unwrap();
        prop_assert_eq!(serde_json::to_value(&report).unwrap(), value);
    }
}

#[test]
fn a_v1_report_is_taken_as_python_and_pypi() {
    let mut value = report_value();
    value["schema"] = "runbom.runtime-report/v1".into();
    value["interpreter"]
        .as_object_mut()
        .unwrap()
        .remove("language");
    for dist in value["distributions"].as_array_mut().unwrap() {
        dist.as_object_mut().unwrap().remove("ecosystem");
    }
    let report = validated_report(&serde_json::to_vec(&value).unwrap(), REPORT_APP).unwrap();
    assert_eq!(report.interpreter.language, runbom_model::Language::Python);
    assert!(
        report
            .distributions
            .iter()
            .all(|d| d.ecosystem == Ecosystem::PyPi)
    );
}

/// An expected inventory as `PUT …/expected` takes it (`body::json`), of any content.
fn expected_inventory() -> impl Strategy<Value = ExpectedInventory> {
    let version = prop_oneof![
        ".{0,12}".prop_map(ExpectedVersion::Exact),
        ".{0,12}".prop_map(ExpectedVersion::Specifier),
        ".{0,12}".prop_map(ExpectedVersion::Url),
        Just(ExpectedVersion::Unspecified),
    ];
    let component = (
        proptest::option::of(prop::sample::select(Ecosystem::ALL.to_vec())),
        ".{0,16}",
        version,
        proptest::option::of(".{0,24}"),
        proptest::collection::vec(("[a-z0-9]{0,8}", "[0-9a-f]{0,16}"), 0..3),
        proptest::collection::vec(".{0,12}", 0..3),
        proptest::option::of(".{0,16}"),
        (
            ".{0,12}",
            proptest::option::of(any::<usize>()),
            proptest::option::of(".{0,12}"),
        ),
    )
        .prop_map(
            |(ecosystem, raw_name, version, purl, hashes, licenses, marker, (file, line, path))| {
                ExpectedComponent {
                    name: PackageName::new(ecosystem.unwrap_or(Ecosystem::PyPi), &raw_name),
                    ecosystem,
                    raw_name,
                    version,
                    purl,
                    hashes: hashes
                        .into_iter()
                        .map(|(algorithm, hex)| ComponentHash::new(&algorithm, &hex))
                        .collect(),
                    licenses,
                    marker,
                    location: SourceLocation { file, line, path },
                }
            },
        );
    (
        ".{0,16}",
        ".{0,16}",
        proptest::collection::vec(component, 0..4),
    )
        .prop_map(|(format, source, components)| ExpectedInventory {
            format,
            source,
            components,
            checksum_file: None,
            lists_unbuilt: false,
        })
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes as an expected inventory: one, or 400 naming line and column.
    #[test]
    fn any_bytes_as_an_expected_inventory(body in proptest::collection::vec(any::<u8>(), 0..1024)) {
        if let Err(err) = json::<ExpectedInventory>(&body, "expected inventory") {
            prop_assert_eq!(err.status, StatusCode::BAD_REQUEST);
            prop_assert!(names_line_and_column(&err.message), "{}", err.message);
        }
    }

    /// Any expected inventory is taken as sent; with one value deleted or replaced it is
    /// taken or refused with 400 naming line and column.
    #[test]
    fn expected_inventories_round_trip_and_mutants_get_a_400(
        inventory in expected_inventory(),
        at in any::<prop::sample::Index>(),
        replacement in proptest::option::of(any_json()),
    ) {
        let mut value = serde_json::to_value(&inventory).unwrap();
        let body = serde_json::to_vec(&value).unwrap();
        prop_assert_eq!(&json::<ExpectedInventory>(&body, "expected inventory").unwrap(), &inventory);

        let all = pointers(&value);
        let at = &all[at.index(all.len())];
        match replacement {
            Some(new) => *value.pointer_mut(at).unwrap() = new,
            None => remove(&mut value, at),
        }
        match json::<ExpectedInventory>(&serde_json::to_vec(&value).unwrap(), "expected inventory") {
            // A deleted optional field reads as `None`: the parse is what is stored, and stable.
            Ok(parsed) => {
                let again = serde_json::to_vec(&parsed).unwrap();
                prop_assert_eq!(json::<ExpectedInventory>(&again, "expected inventory").unwrap(), parsed);
            }
            Err(err) => {
                prop_assert_eq!(err.status, StatusCode::BAD_REQUEST);
                prop_assert!(names_line_and_column(&err.message), "{}", err.message);
            }
        }
    }
}
