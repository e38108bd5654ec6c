//! Advisory feeds: the one update `runbom db update` runs — download OSV's bulk export of each
//! configured ecosystem with a conditional request (validators kept per source in the store),
//! then import the fresh ones — and the server's poller, which runs that update at start and
//! every interval against the server's own store.
//!
//! Every download is made and checked before anything is imported, so an unreachable server or a
//! broken archive leaves the store as it was. Imports are idempotent (newer `modified` wins), so a
//! repeated poll costs one `304 Not Modified` per source. When several server processes share a
//! store, a lease row lets one of them poll; another takes over once the holder's lease expires.

use std::sync::Arc;
use std::time::Duration;

use runbom_sources::advisories::download::{
    DEFAULT_ECOSYSTEMS, Download, DownloadError, Downloader, OSV_BULK, Validators, bulk_url,
};
use runbom_sources::advisories::{AdvisoryError, AdvisoryStream};
use runbom_store::{ImportSource, ImportStats, SourceStatus, Store, StoreError};

use crate::lease::Lease;

/// The lease several server processes sharing a store take before polling.
const LEASE: &str = "advisory-feed";

/// Which advisories to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedConfig {
    /// Where OSV's bulk exports are: `<base>/<Ecosystem>/all.zip`.
    pub base: String,
    /// OSV ecosystems to download.
    pub ecosystems: Vec<String>,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            base: OSV_BULK.to_owned(),
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|e| (*e).to_owned()).collect(),
        }
    }
}

impl FeedConfig {
    /// One import source per ecosystem, named `osv-<Ecosystem>`.
    fn sources(&self) -> Vec<ImportSource> {
        self.ecosystems
            .iter()
            .map(|ecosystem| ImportSource {
                name: format!("osv-{ecosystem}"),
                location: bulk_url(&self.base, ecosystem),
                etag: None,
                last_modified: None,
            })
            .collect()
    }
}

/// Why an update failed; the store is unchanged when downloading failed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{0}; nothing was imported, the store is unchanged")]
    Download(#[from] DownloadError),
    #[error("`{location}` is not an advisory archive: {source}; nothing was imported")]
    Archive {
        location: String,
        source: AdvisoryError,
    },
    #[error("cannot import `{location}`: {source}")]
    Import {
        location: String,
        source: StoreError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the download task stopped: {0}")]
    Task(String),
}

/// What an update did to one source: `None` when it was not modified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOutcome {
    pub name: String,
    pub imported: Option<ImportStats>,
}

/// What an update did, source by source, and the reasons of the records it skipped.
#[derive(Debug, Clone, Default)]
pub struct UpdateReport {
    pub sources: Vec<SourceOutcome>,
    pub skipped: Vec<String>,
}

/// Follows an update (a progress bar in the CLI; nothing in the server).
pub trait UpdateProgress: Send + Sync {
    /// `received` bytes of `source` arrived, of `total` when the server sent a length.
    fn downloading(&self, _source: &str, _received: u64, _total: Option<u64>) {}
    /// The import of `files` advisory files of `source` starts.
    fn importing(&self, _source: &str, _files: usize) {}
    /// One more file was read.
    fn imported_file(&self) {}
}

/// Follows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl UpdateProgress for Quiet {}

/// One source after its download.
enum Fetched {
    NotModified(ImportSource),
    Fresh(ImportSource, AdvisoryStream),
}

/// Downloads every source of `config` (conditionally) and imports the fresh ones into `store`.
pub async fn update(
    store: &Store,
    config: &FeedConfig,
    progress: Arc<dyn UpdateProgress>,
) -> Result<UpdateReport, FeedError> {
    let known = store.sources().await?;
    let sources = config.sources();
    let downloads = Arc::clone(&progress);
    let fetched = tokio::task::spawn_blocking(move || fetch_all(sources, &known, &*downloads))
        .await
        .map_err(|e| FeedError::Task(e.to_string()))??;
    let mut report = UpdateReport::default();
    for fetched in fetched {
        let outcome = match fetched {
            Fetched::NotModified(source) => {
                store.mark_checked(&source).await?;
                SourceOutcome {
                    name: source.name,
                    imported: None,
                }
            }
            Fetched::Fresh(source, stream) => {
                progress.importing(&source.name, stream.files());
                let skipped = &mut report.skipped;
                let records = stream.map(|item| {
                    progress.imported_file();
                    item.inspect_err(|e| skipped.push(e.to_string()))
                });
                let stats = store
                    .import_advisories(&source, records)
                    .await
                    .map_err(|e| FeedError::Import {
                        location: source.location.clone(),
                        source: e,
                    })?;
                SourceOutcome {
                    name: source.name,
                    imported: Some(stats),
                }
            }
        };
        report.sources.push(outcome);
    }
    Ok(report)
}

/// Downloads every source, blocking; fails on the first that cannot be downloaded or read.
fn fetch_all(
    sources: Vec<ImportSource>,
    known: &[SourceStatus],
    progress: &dyn UpdateProgress,
) -> Result<Vec<Fetched>, FeedError> {
    let downloader = Downloader::new()?;
    sources
        .into_iter()
        .map(|source| fetch(&downloader, source, known, progress))
        .collect()
}

/// Downloads one source, conditional on what the store kept of its last download.
fn fetch(
    downloader: &Downloader,
    mut source: ImportSource,
    known: &[SourceStatus],
    progress: &dyn UpdateProgress,
) -> Result<Fetched, FeedError> {
    let validators = known
        .iter()
        .find(|s| s.name == source.name && s.location == source.location)
        .map(|s| Validators {
            etag: s.etag.clone(),
            last_modified: s.last_modified.clone(),
        })
        .unwrap_or_default();
    let download = downloader.fetch(&source.location, &validators, &|received, total| {
        progress.downloading(&source.name, received, total);
    })?;
    match download {
        Download::NotModified => {
            source.etag = validators.etag;
            source.last_modified = validators.last_modified;
            Ok(Fetched::NotModified(source))
        }
        Download::Fresh { body, validators } => {
            let stream = AdvisoryStream::from_zip(&source.location, body).map_err(|e| {
                FeedError::Archive {
                    location: source.location.clone(),
                    source: e,
                }
            })?;
            source.etag = validators.etag;
            source.last_modified = validators.last_modified;
            Ok(Fetched::Fresh(source, stream))
        }
    }
}

/// The server's poller: updates at start and then every `interval`, one update at a time, while
/// this process holds the store's feed lease. Errors are logged and retried at the next tick.
pub(crate) async fn run(store: Store, config: FeedConfig, interval: Duration) {
    let lease = Lease::new(LEASE, interval);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if lease.take(&store).await {
            poll(&store, &config).await;
        }
    }
}

/// One update, logged.
async fn poll(store: &Store, config: &FeedConfig) {
    match update(store, config, Arc::new(Quiet)).await {
        Ok(report) => {
            for outcome in &report.sources {
                match &outcome.imported {
                    None => tracing::info!(source = %outcome.name, "advisory feed not modified"),
                    Some(stats) => tracing::info!(
                        source = %outcome.name,
                        added = stats.added,
                        updated = stats.updated,
                        unchanged = stats.unchanged,
                        withdrawn = stats.withdrawn,
                        skipped = stats.skipped,
                        "advisory feed imported"
                    ),
                }
            }
            for reason in &report.skipped {
                tracing::warn!("advisory feed record skipped: {reason}");
            }
        }
        Err(err) => tracing::warn!("advisory feed update failed, retrying next interval: {err}"),
    }
}
