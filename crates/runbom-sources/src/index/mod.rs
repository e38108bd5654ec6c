//! Package indexes: every release of a project, its publication date and whether it was yanked,
//! from PyPI's JSON simple API (PEP 691), the Go module proxy protocol and the RubyGems API.
//!
//! Responses are cached on disk (`$XDG_CACHE_HOME/runbom/index`) with their `ETag` and
//! `Last-Modified` and revalidated with `If-None-Match` / `If-Modified-Since`; a body larger than
//! [`IndexSettings::max_body_bytes`] is refused before it is read whole; cache files are written to a temporary name and renamed, so an
//! interrupted run never leaves half a file. Traps: a PyPI release is yanked only when every one
//! of its files is; the Go proxy has no yanks (retractions live in `go.mod`) and RubyGems' API
//! leaves yanked versions out, so for those two `yanked` is always false.

mod cache;
mod golang;
mod pypi;
mod rubygems;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use runbom_model::release::ProjectReleases;
use runbom_model::{Ecosystem, PackageName};

use cache::Cache;

/// The default PyPI simple index.
pub const PYPI_SIMPLE: &str = "https://pypi.org/simple/";
/// The default Go module proxy.
pub const GO_PROXY: &str = "https://proxy.golang.org/";
/// The default RubyGems server.
pub const RUBYGEMS: &str = "https://rubygems.org/";
/// The largest index response read by default (PyPI's biggest project pages are a few MB).
pub const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// Why a project's releases could not be had.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot reach the package index at `{url}`: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("`{url}` answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("`{name}` is not on the index (`{url}` answered 404)")]
    NotFound { name: String, url: String },
    #[error("`{url}` sent a response runbom cannot read: {message}")]
    Malformed { url: String, message: String },
    #[error("cannot write the index cache `{path}`: {source}")]
    Cache {
        path: String,
        source: std::io::Error,
    },
    #[error("`{url}` sent more than {limit} bytes; the response was refused")]
    TooLarge { url: String, limit: u64 },
    #[error("runbom has no index client for {0} packages")]
    Unsupported(Ecosystem),
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}

/// Where to ask and where to cache.
#[derive(Debug, Clone)]
pub struct IndexSettings {
    /// PEP 691 simple index base URL, ending in `/`.
    pub pypi: String,
    pub go_proxy: String,
    pub rubygems: String,
    /// `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// A response body larger than this is refused ([`IndexError::TooLarge`]).
    pub max_body_bytes: u64,
}

impl Default for IndexSettings {
    fn default() -> Self {
        Self {
            pypi: PYPI_SIMPLE.to_owned(),
            go_proxy: GO_PROXY.to_owned(),
            rubygems: RUBYGEMS.to_owned(),
            cache_dir: default_cache_dir(),
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// `$XDG_CACHE_HOME/runbom/index`, else `$HOME/.cache/runbom/index`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("runbom").join("index"))
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// A blocking client for the three indexes; cheap to share between threads.
#[derive(Debug)]
pub struct IndexClient {
    http: reqwest::blocking::Client,
    settings: IndexSettings,
    cache: Option<Cache>,
}

/// A response body: fresh from the network (to be cached once it parses) or revalidated
/// from the cache.
struct Body {
    text: String,
    /// The validators of a fresh response; `None` when it came from the cache.
    fresh: Option<Validators>,
}

/// What a response says to revalidate it with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl IndexClient {
    pub fn new(settings: IndexSettings) -> Result<Self, IndexError> {
        let http = http_client(Duration::from_secs(60)).map_err(IndexError::Client)?;
        let cache = settings.cache_dir.clone().map(Cache::new);
        Ok(Self {
            http,
            settings: IndexSettings {
                pypi: with_slash(&settings.pypi),
                go_proxy: with_slash(&settings.go_proxy),
                rubygems: with_slash(&settings.rubygems),
                cache_dir: settings.cache_dir,
                max_body_bytes: settings.max_body_bytes,
            },
            cache,
        })
    }

    /// Whether runbom can ask an index about `ecosystem`'s packages: PyPI, Go and RubyGems.
    pub fn supports(ecosystem: Ecosystem) -> bool {
        matches!(
            ecosystem,
            Ecosystem::PyPi | Ecosystem::Go | Ecosystem::RubyGems
        )
    }

    /// Every release of `name` in `ecosystem`.
    pub fn releases(
        &self,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<ProjectReleases, IndexError> {
        let releases = match ecosystem {
            Ecosystem::PyPi => pypi::releases(self, name)?,
            Ecosystem::Go => golang::releases(self, name)?,
            Ecosystem::RubyGems => rubygems::releases(self, name)?,
            other => return Err(IndexError::Unsupported(other)),
        };
        Ok(ProjectReleases {
            ecosystem,
            name: PackageName::new(ecosystem, name),
            releases,
        })
    }

    /// GET `url` and parse the body; a fresh body is cached only once it parsed, so a broken
    /// response is never kept.
    fn fetch<T>(
        &self,
        url: &str,
        accept: &str,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, IndexError> {
        let body = self.get(url, accept, name)?;
        let parsed = parse(&body.text).map_err(|message| IndexError::Malformed {
            url: url.to_owned(),
            message,
        })?;
        if let (Some(cache), Some(validators)) = (&self.cache, &body.fresh) {
            cache.write(url, validators, &body.text)?;
        }
        Ok(parsed)
    }

    /// GET `url` with `accept`, revalidating a cached copy by its ETag or date. `name` names
    /// the project in a 404.
    fn get(&self, url: &str, accept: &str, name: &str) -> Result<Body, IndexError> {
        let cached = self.cache.as_ref().and_then(|c| c.read(url));
        let mut request = self.http.get(url).header(reqwest::header::ACCEPT, accept);
        if let Some(etag) = cached.as_ref().and_then(|c| c.etag.as_deref()) {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = cached.as_ref().and_then(|c| c.last_modified.as_deref()) {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
        }
        let response = request.send().map_err(|e| IndexError::Unreachable {
            url: url.to_owned(),
            reason: error_chain(&e),
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED
            && let Some(cached) = cached
        {
            return Ok(Body {
                text: cached.body,
                fresh: None,
            });
        }
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(IndexError::NotFound {
                name: name.to_owned(),
                url: url.to_owned(),
            });
        }
        if !status.is_success() {
            return Err(IndexError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
        };
        let text = self.read_body(url, response)?;
        Ok(Body {
            text,
            fresh: Some(validators),
        })
    }

    /// The body as text, refused past `max_body_bytes` (by its `Content-Length` before reading,
    /// else after reading one byte more than the limit).
    fn read_body(
        &self,
        url: &str,
        response: reqwest::blocking::Response,
    ) -> Result<String, IndexError> {
        use std::io::Read;
        let limit = self.settings.max_body_bytes;
        let too_large = || IndexError::TooLarge {
            url: url.to_owned(),
            limit,
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        response
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| IndexError::Unreachable {
                url: url.to_owned(),
                reason: error_chain(&e),
            })?;
        if bytes.len() as u64 > limit {
            return Err(too_large());
        }
        String::from_utf8(bytes).map_err(|e| IndexError::Malformed {
            url: url.to_owned(),
            message: format!("the body is not UTF-8: {e}"),
        })
    }
}

/// The blocking HTTP client every remote source uses: rustls with ring (no C), runbom's user
/// agent, a 10 s connect timeout and `timeout` for the whole exchange.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::blocking::Client, String> {
    static PROVIDER: Once = Once::new();
    // reqwest is built without a crypto provider (no C): use ring, once per process.
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::blocking::Client::builder()
        .user_agent(concat!("runbom/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// The error and its causes on one line ("error sending request: … : Connection refused").
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Asks for many projects at once, at most `concurrency` requests in flight; `done` is called
/// after each project. Results come back in the order of `projects`.
pub fn releases_of_all(
    client: &IndexClient,
    projects: &[(Ecosystem, String)],
    concurrency: usize,
    done: &(dyn Fn() + Sync),
) -> Vec<Result<ProjectReleases, IndexError>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<ProjectReleases, IndexError>>>> =
        Mutex::new((0..projects.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..concurrency.clamp(1, projects.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((ecosystem, name)) = projects.get(index) else {
                        break;
                    };
                    let result = client.releases(*ecosystem, name);
                    if let Ok(mut all) = results.lock() {
                        all[index] = Some(result);
                    }
                    done();
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| Err(IndexError::Client("a worker thread panicked".to_owned())))
        })
        .collect()
}

#[cfg(test)]
mod tests;
