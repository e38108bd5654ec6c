//! Downloading advisory archives (OSV's per-ecosystem bulk exports) with conditional requests:
//! the `ETag` and `Last-Modified` of the last download go back as `If-None-Match` and
//! `If-Modified-Since`, and a `304 Not Modified` costs no body.

use std::io::Read;
use std::time::Duration;

use crate::index::{error_chain, http_client};

/// Where OSV publishes its bulk exports: `<base>/<Ecosystem>/all.zip`.
pub const OSV_BULK: &str = "https://osv-vulnerabilities.storage.googleapis.com/";

/// The ecosystems `runbom db update` downloads by default.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &["PyPI", "Go", "RubyGems"];

/// The bulk export of one ecosystem under `base`.
pub fn bulk_url(base: &str, ecosystem: &str) -> String {
    format!("{}/{ecosystem}/all.zip", base.trim_end_matches('/'))
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("cannot reach `{url}`: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("`{url}` answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}

/// HTTP validators of the last download of a URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The answer to a conditional download.
#[derive(Debug)]
pub enum Download {
    /// The copy behind `Validators` is still current.
    NotModified,
    /// A new body with its validators.
    Fresh {
        body: Vec<u8>,
        validators: Validators,
    },
}

/// A blocking downloader.
#[derive(Debug)]
pub struct Downloader {
    http: reqwest::blocking::Client,
}

impl Downloader {
    pub fn new() -> Result<Self, DownloadError> {
        Ok(Self {
            http: http_client(Duration::from_secs(600)).map_err(DownloadError::Client)?,
        })
    }

    /// GETs `url`, conditional on `known`; `progress(received, total)` is called as the body
    /// arrives (`total` from `Content-Length`, when sent).
    pub fn fetch(
        &self,
        url: &str,
        known: &Validators,
        progress: &dyn Fn(u64, Option<u64>),
    ) -> Result<Download, DownloadError> {
        let unreachable = |e: &dyn std::error::Error| DownloadError::Unreachable {
            url: url.to_owned(),
            reason: error_chain(e),
        };
        let mut request = self.http.get(url);
        if let Some(etag) = &known.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = &known.last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
        }
        let mut response = request.send().map_err(|e| unreachable(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Download::NotModified);
        }
        if !status.is_success() {
            return Err(DownloadError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
        };
        let total = response.content_length();
        let mut body = Vec::with_capacity(usize::try_from(total.unwrap_or(0)).unwrap_or(0));
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = response.read(&mut chunk).map_err(|e| unreachable(&e))?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
            progress(body.len() as u64, total);
        }
        Ok(Download::Fresh { body, validators })
    }
}
