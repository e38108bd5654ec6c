//! The on-disk spool of reports a server has not taken yet: one gzip file per report, named so
//! that names sort oldest first, each written to a temp file and renamed (a reader never sees half
//! a report). Bounded by a count and a size: when full, the oldest reports are dropped and
//! counted. Many processes may share one spool; one at a time drains it (a lock file), and a
//! report sent twice is harmless because the server is idempotent by report id.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

/// How much a spool may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolLimits {
    pub max_reports: usize,
    pub max_bytes: u64,
}

impl Default for SpoolLimits {
    fn default() -> Self {
        SpoolLimits {
            max_reports: 1000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What can go wrong with the spool directory.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot create the spool directory `{path}`")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot list the spool directory `{path}`")]
    List {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the spool file `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the spool file `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the spool file `{path}` is corrupt ({reason}); skipped and removed")]
    Corrupt { path: PathBuf, reason: String },
}

/// A spooled report waiting to be sent, as its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolEntry {
    path: PathBuf,
    size: u64,
}

impl SpoolEntry {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A spooled report, read back: the gzip body as it will be sent, and its report id.
#[derive(Debug, Clone)]
pub struct SpooledReport {
    pub report_id: String,
    pub gzip_body: Vec<u8>,
}

/// The right to drain a spool, held until dropped.
#[derive(Debug)]
pub struct DrainLock {
    _file: File,
}

/// Suffix of finished spool files; anything else in the directory is ignored.
const SUFFIX: &str = ".json.gz";

/// Prefix of files being written.
const TEMP_PREFIX: &str = ".tmp-";

/// Temp files older than this were left by a crashed writer and are removed.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Orders files written by one process within the same nanosecond.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// One spool directory.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
    limits: SpoolLimits,
}

impl Spool {
    /// The spool of one server and token under `root` (`root/<digest of both>`), so that a
    /// report is only ever re-sent where it was meant to go; the token itself is not written.
    pub fn for_server(
        root: &Path,
        server: &str,
        token: &str,
        limits: SpoolLimits,
    ) -> Result<Spool, SpoolError> {
        let mut hasher = Sha256::new();
        hasher.update(server.trim_end_matches('/').as_bytes());
        hasher.update([0]);
        hasher.update(token.as_bytes());
        let key = hex::encode(&hasher.finalize()[..8]);
        Spool::open(root.join(key), limits)
    }

    /// The spool in `dir`, created if missing.
    pub fn open(dir: PathBuf, limits: SpoolLimits) -> Result<Spool, SpoolError> {
        fs::create_dir_all(&dir).map_err(|source| SpoolError::Create {
            path: dir.clone(),
            source,
        })?;
        let spool = Spool { dir, limits };
        spool.remove_stale_temps();
        Ok(spool)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a report (its gzip body) as the newest file, first dropping the oldest reports while
    /// the spool is full. Returns the files dropped.
    pub fn push(&self, gzip_body: &[u8]) -> Result<Vec<PathBuf>, SpoolError> {
        let size = u64::try_from(gzip_body.len()).unwrap_or(u64::MAX);
        let mut entries = self.entries()?;
        let mut total: u64 = entries.iter().map(|e| e.size).sum();
        let mut dropped = Vec::new();
        while !entries.is_empty()
            && (entries.len() >= self.limits.max_reports
                || total.saturating_add(size) > self.limits.max_bytes)
        {
            let oldest = entries.remove(0);
            total = total.saturating_sub(oldest.size);
            if self.remove(&oldest) {
                dropped.push(oldest.path);
            }
        }
        if !dropped.is_empty() {
            self.count_dropped(u64::try_from(dropped.len()).unwrap_or(u64::MAX));
        }
        let path = self.dir.join(new_name());
        write_atomically(&self.dir, &path, gzip_body)?;
        Ok(dropped)
    }

    /// The spooled reports, oldest first.
    pub fn entries(&self) -> Result<Vec<SpoolEntry>, SpoolError> {
        let list = |source| SpoolError::List {
            path: self.dir.clone(),
            source,
        };
        let mut entries = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(list)? {
            let entry = entry.map_err(list)?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.ends_with(SUFFIX) || name.starts_with('.') {
                continue;
            }
            // A file removed by another process meanwhile is simply not listed.
            let Ok(meta) = entry.metadata() else { continue };
            entries.push(SpoolEntry {
                path: entry.path(),
                size: meta.len(),
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    pub fn is_empty(&self) -> bool {
        self.entries().map(|e| e.is_empty()).unwrap_or(true)
    }

    /// Reads a spooled report back. `Ok(None)`: another process sent and removed it meanwhile.
    /// A corrupt file (not gzip, not JSON, no report id) is removed and reported as
    /// [`SpoolError::Corrupt`]; the caller goes on with the next one.
    pub fn load(&self, entry: &SpoolEntry) -> Result<Option<SpooledReport>, SpoolError> {
        let gzip_body = match fs::read(&entry.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(SpoolError::Read {
                    path: entry.path.clone(),
                    source,
                });
            }
        };
        match report_id_of(&gzip_body) {
            Ok(report_id) => Ok(Some(SpooledReport {
                report_id,
                gzip_body,
            })),
            Err(reason) => {
                self.remove(entry);
                Err(SpoolError::Corrupt {
                    path: entry.path.clone(),
                    reason,
                })
            }
        }
    }

    /// Removes a spooled report (sent, refused or dropped); false when it was already gone.
    pub fn remove(&self, entry: &SpoolEntry) -> bool {
        fs::remove_file(&entry.path).is_ok()
    }

    /// How many reports this spool dropped because it was full, over its whole life.
    pub fn dropped(&self) -> u64 {
        fs::read_to_string(self.dir.join("dropped"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The right to drain this spool, or `None` while another process holds it.
    pub fn try_lock(&self) -> Result<Option<DrainLock>, SpoolError> {
        let path = self.dir.join(".lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| SpoolError::Write {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DrainLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(source)) => Err(SpoolError::Write { path, source }),
        }
    }

    fn count_dropped(&self, more: u64) {
        let total = self.dropped().saturating_add(more);
        let path = self.dir.join("dropped");
        let _ = write_atomically(&self.dir, &path, total.to_string().as_bytes());
    }

    fn remove_stale_temps(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|age| age > STALE_TEMP);
            if stale && entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// `<nanoseconds since 1970>-<pid>-<n>.json.gz`: sorts by time of writing.
fn new_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    format!("{nanos:020}-{:010}-{n:06}{SUFFIX}", std::process::id())
}

/// Writes `bytes` to a temp file in `dir`, flushes it to disk, then renames it to `path`.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), SpoolError> {
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
    let write = |source| SpoolError::Write {
        path: path.to_owned(),
        source,
    };
    let result = File::create(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path))
        .and_then(|()| File::open(dir)?.sync_all());
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(write)
}

/// The `report_id` of a gzip JSON report, or why the bytes are not one.
fn report_id_of(gzip_body: &[u8]) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Id {
        report_id: String,
    }
    let mut json = Vec::new();
    GzDecoder::new(gzip_body)
        .read_to_end(&mut json)
        .map_err(|err| format!("not gzip: {err}"))?;
    let id: Id = serde_json::from_slice(&json).map_err(|err| {
        format!(
            "not a report at line {}, column {}: {err}",
            err.line(),
            err.column()
        )
    })?;
    Ok(id.report_id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gz(report_id: &str, padding: usize) -> Vec<u8> {
        let json = serde_json::json!({ "report_id": report_id, "pad": "x".repeat(padding) });
        let mut encoder = GzEncoder::new(Vec::new(), Compression::none());
        encoder.write_all(json.to_string().as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    fn ids(spool: &Spool) -> Vec<String> {
        spool
            .entries()
            .unwrap()
            .iter()
            .map(|e| spool.load(e).unwrap().unwrap().report_id)
            .collect()
    }

    fn limits(max_reports: usize, max_bytes: u64) -> SpoolLimits {
        SpoolLimits {
            max_reports,
            max_bytes,
        }
    }

    #[test]
    fn reports_come_back_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_owned(), SpoolLimits::default()).unwrap();
        for id in ["a", "b", "c", "d"] {
            spool.push(&gz(id, 0)).unwrap();
        }
        assert_eq!(ids(&spool), ["a", "b", "c", "d"]);
        // A second handle (another process) sees the same order.
        let again = Spool::open(dir.path().to_owned(), SpoolLimits::default()).unwrap();
        assert_eq!(ids(&again), ["a", "b", "c", "d"]);
    }

    #[test]
    fn a_full_spool_drops_the_oldest_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_owned(), limits(3, u64::MAX)).unwrap();
        for id in ["a", "b", "c"] {
            assert!(spool.push(&gz(id, 0)).unwrap().is_empty());
        }
        let dropped = spool.push(&gz("d", 0)).unwrap();
        assert_eq!(dropped.len(), 1);
        spool.push(&gz("e", 0)).unwrap();
        assert_eq!(ids(&spool), ["c", "d", "e"]);
        assert_eq!(spool.dropped(), 2);
    }

    #[test]
    fn the_size_cap_drops_as_many_as_needed() {
        let dir = tempfile::tempdir().unwrap();
        let one = u64::try_from(gz("a", 1000).len()).unwrap();
        let spool = Spool::open(dir.path().to_owned(), limits(100, one * 3)).unwrap();
        for id in ["a", "b", "c"] {
            spool.push(&gz(id, 1000)).unwrap();
        }
        let dropped = spool.push(&gz("big", 2000)).unwrap();
        assert_eq!(dropped.len(), 2);
        assert_eq!(ids(&spool), ["c", "big"]);
        assert_eq!(spool.dropped(), 2);
    }

    #[test]
    fn files_appear_whole_and_temp_files_are_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_owned(), SpoolLimits::default()).unwrap();
        // A writer that crashed mid-write leaves only a temp file.
        fs::write(dir.path().join(".tmp-999-0"), b"half a rep").unwrap();
        spool.push(&gz("a", 0)).unwrap();
        assert_eq!(ids(&spool), ["a"]);
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(TEMP_PREFIX))
            .collect();
        assert_eq!(names, [".tmp-999-0"], "push leaves no temp file of its own");
    }

    #[test]
    fn a_corrupt_file_is_skipped_with_a_message_and_the_rest_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_owned(), SpoolLimits::default()).unwrap();
        spool.push(&gz("a", 0)).unwrap();
        let bad = dir.path().join(new_name());
        fs::write(&bad, b"not gzip at all").unwrap();
        let truncated = dir.path().join(new_name());
        let whole = gz("c", 100);
        fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
        spool.push(&gz("d", 0)).unwrap();

        let mut loaded = Vec::new();
        let mut messages = Vec::new();
        for entry in spool.entries().unwrap() {
            match spool.load(&entry) {
                Ok(Some(report)) => loaded.push(report.report_id),
                Ok(None) => {}
                Err(err) => messages.push(err.to_string()),
            }
        }
        assert_eq!(loaded, ["a", "d"]);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains(&bad.display().to_string()) && messages[0].contains("not gzip"),
            "{}",
            messages[0]
        );
        assert_eq!(
            spool.entries().unwrap().len(),
            2,
            "corrupt files are removed"
        );
    }

    #[test]
    fn a_file_removed_by_another_process_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_owned(), SpoolLimits::default()).unwrap();
        spool.push(&gz("a", 0)).unwrap();
        let entry = spool.entries().unwrap().remove(0);
        assert!(spool.remove(&entry));
        assert!(spool.load(&entry).unwrap().is_none());
        assert!(!spool.remove(&entry));
    }

    #[test]
    fn one_drainer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().to_owned(), SpoolLimits::default()).unwrap();
        let held = spool.try_lock().unwrap();
        assert!(held.is_some());
        assert!(spool.try_lock().unwrap().is_none());
        drop(held);
        assert!(spool.try_lock().unwrap().is_some());
    }

    #[test]
    fn each_server_and_token_has_its_own_spool_without_the_token_in_it() {
        let root = tempfile::tempdir().unwrap();
        let limits = SpoolLimits::default();
        let a = Spool::for_server(root.path(), "http://h:1/", "secret-a", limits).unwrap();
        let same = Spool::for_server(root.path(), "http://h:1", "secret-a", limits).unwrap();
        let b = Spool::for_server(root.path(), "http://h:1", "secret-b", limits).unwrap();
        assert_eq!(a.dir(), same.dir());
        assert_ne!(a.dir(), b.dir());
        assert!(!a.dir().to_string_lossy().contains("secret"));
    }
}
