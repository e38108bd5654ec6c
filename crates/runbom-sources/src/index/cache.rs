//! The on-disk cache of index responses: one JSON file per URL (named by the URL's sha256) with
//! the body, its `ETag` and its `Last-Modified`. Writes go to a temporary file in the same directory and are renamed
//! into place, so a reader never sees half a file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{IndexError, Validators};

#[derive(Debug)]
pub(super) struct Cache {
    dir: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Entry {
    pub url: String,
    pub etag: Option<String>,
    /// Absent in entries written before it was kept.
    #[serde(default)]
    pub last_modified: Option<String>,
    pub body: String,
}

impl Cache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, url: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.json",
            hex::encode(Sha256::digest(url.as_bytes()))
        ))
    }

    /// The cached entry for `url`; a missing or unreadable file is no entry.
    pub fn read(&self, url: &str) -> Option<Entry> {
        let text = std::fs::read_to_string(self.path(url)).ok()?;
        serde_json::from_str::<Entry>(&text)
            .ok()
            .filter(|e| e.url == url)
    }

    /// Stores `body` for `url`, atomically.
    pub fn write(&self, url: &str, validators: &Validators, body: &str) -> Result<(), IndexError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let error = |path: &PathBuf, source| IndexError::Cache {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| error(&self.dir, e))?;
        let path = self.path(url);
        let temporary = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let entry = Entry {
            url: url.to_owned(),
            etag: validators.etag.clone(),
            last_modified: validators.last_modified.clone(),
            body: body.to_owned(),
        };
        let text =
            serde_json::to_string(&entry).map_err(|e| error(&path, std::io::Error::other(e)))?;
        let written =
            std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(error(&path, e));
        }
        Ok(())
    }
}
