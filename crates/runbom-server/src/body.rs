//! Request bodies of the ingest API: gzip or plain, bounded before and after decompression (a
//! small gzip bomb must not become a large allocation), then a validated `RuntimeReport`.

use std::io::Read;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use flate2::read::MultiGzDecoder;
use runbom_model::runtime::{RUNTIME_REPORT_SCHEMAS_READ, RuntimeReport, reads_schema};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Longest accepted `report_id` or `session_id`, in bytes of UTF-8.
const MAX_ID_LEN: usize = 200;

/// The body as sent, decompressed when `Content-Encoding: gzip`, at most `limit` bytes.
///
/// One coding is taken, `gzip` (alias `x-gzip`) or none: a list of codings, the header given
/// more than once, or a value that is not visible ASCII is refused (415) like an unknown coding.
pub(crate) fn decoded(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, ApiError> {
    let unsupported = |what: &str| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Encoding {what} (use gzip or none)"),
        )
    };
    let mut values = headers.get_all(header::CONTENT_ENCODING).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Ok(body),
        (Some(value), None) => value,
        (Some(_), Some(_)) => return Err(unsupported("given more than once")),
    };
    let encoding = value
        .to_str()
        .map_err(|_| unsupported("that is not visible ASCII"))?
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "identity" | "" => Ok(body),
        "gzip" | "x-gzip" => gunzip(&body, limit),
        other => Err(unsupported(&format!("`{other}`"))),
    }
}

/// Every gzip member of `body`, one after another (RFC 1952 §2.2); bytes after the last member
/// that are not a member are an error, not silently dropped.
fn gunzip(body: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::with_capacity(expected_size(body, limit));
    inflate_at_most(body, limit, &mut out)?;
    Ok(Bytes::from(out))
}

/// Deflate expands by at most this factor (RFC 1951: a 258-byte match in as few as two bits).
const MAX_DEFLATE_RATIO: usize = 1032;

/// The size the last gzip member says it inflates to (its `ISIZE` trailer, RFC 1952 §2.3.1): a
/// hint that spares the output buffer its growth by doubling. The sender chooses it, so it is
/// never taken beyond what `body` could inflate to, nor beyond the limit.
fn expected_size(body: &[u8], limit: usize) -> usize {
    let claimed = body
        .last_chunk::<4>()
        .map_or(0, |isize| u32::from_le_bytes(*isize) as usize);
    claimed
        .min(body.len().saturating_mul(MAX_DEFLATE_RATIO))
        .min(limit.saturating_add(1))
}

/// Inflates `body` into `out`, reading one byte past `limit` at most: however far the stream
/// would expand, `out` never holds more, and it is the only allocation that grows with the data
/// (the decoder's own state is of fixed size).
fn inflate_at_most(body: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), ApiError> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    MultiGzDecoder::new(body)
        .take(cap)
        .read_to_end(out)
        .map_err(|err| {
            ApiError::new(StatusCode::BAD_REQUEST, format!("invalid gzip body: {err}"))
        })?;
    if out.len() > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the decompressed body exceeds {limit} bytes"),
        ));
    }
    Ok(())
}

/// Parses a JSON body, naming the line and column of the first problem.
pub(crate) fn json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "invalid {what} at line {}, column {}: {err}",
                err.line(),
                err.column()
            ),
        )
    })
}

/// A report the store may take: right schema, usable ids, and for the token's own application.
pub(crate) fn validated_report(body: &[u8], token_app: &str) -> Result<RuntimeReport, ApiError> {
    let report: RuntimeReport = json(body, "runtime report")?;
    let unprocessable = |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    if !reads_schema(&report.schema) {
        return Err(unprocessable(format!(
            "unsupported schema `{}` (this server takes `{}`)",
            report.schema,
            RUNTIME_REPORT_SCHEMAS_READ.join("`, `")
        )));
    }
    for (field, value) in [
        ("report_id", &report.report_id),
        ("session_id", &report.session_id),
    ] {
        check_id(field, value)?;
    }
    if let Some(app) = &report.app
        && app != token_app
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("the report is for application `{app}` but the token is for `{token_app}`"),
        ));
    }
    Ok(report)
}

/// An id the store may key by: not blank, at most [`MAX_ID_LEN`] bytes.
pub(crate) fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.len() > MAX_ID_LEN {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`{field}` must not be blank and at most {MAX_ID_LEN} bytes long"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use std::io::Write;

    use axum::http::HeaderValue;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Bytes {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        Bytes::from(encoder.finish().unwrap())
    }

    fn gzip_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        headers
    }

    #[test]
    fn gzip_bodies_are_decompressed() {
        let body = decoded(&gzip_headers(), gzip(b"{\"a\":1}"), 100).unwrap();
        assert_eq!(&body[..], b"{\"a\":1}");
    }

    #[test]
    fn a_gzip_bomb_is_cut_at_the_limit() {
        let err = decoded(&gzip_headers(), gzip(&vec![b' '; 10_000]), 1000).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn the_size_hint_is_the_trailer_bounded_by_the_data_and_the_limit() {
        let body = gzip(&[b'a'; 5_000]);
        assert_eq!(expected_size(&body, 1 << 20), 5_000);
        assert_eq!(expected_size(&body, 100), 101);
        // A trailer that claims 4 GiB after a few bytes: the hint follows the deflate ratio.
        let mut lying = body.to_vec();
        let at = lying.len() - 4;
        lying[at..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            expected_size(&lying, usize::MAX),
            lying.len() * MAX_DEFLATE_RATIO
        );
        assert_eq!(expected_size(b"ab", 1 << 20), 0);
    }

    #[test]
    fn broken_gzip_is_a_bad_request() {
        let err = decoded(&gzip_headers(), Bytes::from_static(b"not gzip"), 1000).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    /// Found by `fuzz::bytes_after_a_gzip_member_are_not_dropped`: only the first gzip member
    /// was read, so whatever followed it, garbage or more data, was silently dropped.
    #[test]
    fn bytes_after_the_gzip_stream_are_refused() {
        let mut body = gzip(b"{}").to_vec();
        body.extend_from_slice(b"trailing");
        let err = decoded(&gzip_headers(), Bytes::from(body), 100).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn every_gzip_member_is_decoded() {
        let body = [gzip(b"{\"a\":"), gzip(b"1}")].concat();
        let body = decoded(&gzip_headers(), Bytes::from(body), 100).unwrap();
        assert_eq!(&body[..], b"{\"a\":1}");
    }

    #[test]
    fn unknown_encodings_are_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, "br".parse().unwrap());
        let err = decoded(&headers, Bytes::new(), 10).unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    /// Found by `fuzz::any_body_under_any_encoding`: a value that is not visible ASCII was
    /// read as no header at all, and the body passed on undecoded.
    #[test]
    fn an_unreadable_encoding_is_refused_not_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_bytes(b"gzip\x80").unwrap(),
        );
        let err = decoded(&headers, Bytes::from_static(b"{}"), 10).unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    /// Found by `fuzz::any_body_under_any_encoding`: of several `Content-Encoding` headers only
    /// the first was read, while the same list in one header (`gzip, gzip`) is refused.
    #[test]
    fn a_repeated_encoding_header_is_refused() {
        let mut headers = gzip_headers();
        headers.append(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        let err = decoded(&headers, gzip(&gzip(b"{}")), 100).unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    /// The limit is in bytes, as the message says: 100 characters of 3 bytes each are too long.
    #[test]
    fn the_id_limit_is_in_bytes() {
        let mut report: serde_json::Value =
            serde_json::from_str(include_str!("../testdata/runtime-report.json")).unwrap();
        report["report_id"] = "€".repeat(100).into();
        let body = serde_json::to_vec(&report).unwrap();
        let err = validated_report(&body, "fuzz-fixture").unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.message.contains("200 bytes"), "{}", err.message);
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err = validated_report(b"{\n  \"schema\": 3\n}", "app").unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("line 2"), "{}", err.message);
    }
}
