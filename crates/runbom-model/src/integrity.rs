//! The installed files of an environment held against their distributions' RECORD, as read from
//! disk at one moment: files whose bytes changed after install, files inside a distribution's
//! directories that no RECORD lists, and the archive hashes an installer recorded.
//!
//! Trap: a lockfile's or SBOM's hash is of the *archive* (wheel or sdist), not of any installed
//! file. An installed distribution only keeps its archive's hash when it was installed from a
//! URL or a file (`direct_url.json` `archive_info`); for index installs there is nothing on
//! disk to compare a lockfile hash with.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::PackageName;
use crate::expected::ComponentHash;

/// One pass over the installed files of an inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityScan {
    /// RECORD-listed files whose sha256 on disk differs from RECORD's, sorted by path.
    pub changed: Vec<ChangedFile>,
    /// Files inside a distribution's package directories that no RECORD lists, sorted by path.
    pub unlisted: Vec<UnlistedFile>,
    /// Archive hashes from `direct_url.json`, one entry per distribution that has them.
    pub archives: Vec<ArchiveHashes>,
    /// How many RECORD-listed files were hashed.
    pub files_hashed: usize,
}

/// A RECORD-listed file whose bytes are not the ones installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFile {
    pub distribution: PackageName,
    pub version: String,
    pub path: PathBuf,
    /// Lower-case hex sha256 on disk.
    pub sha256: String,
    /// Lower-case hex sha256 RECORD lists.
    pub recorded: String,
}

/// A file inside a distribution's directories that no RECORD of the environment lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlistedFile {
    pub distribution: PackageName,
    pub version: String,
    pub path: PathBuf,
    /// Lower-case hex sha256, when the file could be read.
    pub sha256: Option<String>,
}

/// The hashes of the archive a distribution was installed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveHashes {
    pub distribution: PackageName,
    pub version: String,
    /// The archive URL from `direct_url.json`.
    pub url: String,
    pub hashes: Vec<ComponentHash>,
}
