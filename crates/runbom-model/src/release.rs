//! What a package index knows of a project's releases: every version, when it was published and
//! whether it was yanked. `runbom outdated` prints it; the `[freshness]` policy judges by it.
//!
//! Timestamps stay RFC 3339 strings as the index wrote them. Trap: on PyPI a release is yanked
//! when *all* its files are yanked; one yanked wheel beside a good sdist is not a yanked release.

use serde::{Deserialize, Serialize};

use crate::{Ecosystem, PackageName};

/// Every release of one project, in the index's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectReleases {
    pub ecosystem: Ecosystem,
    pub name: PackageName,
    pub releases: Vec<Release>,
}

impl ProjectReleases {
    /// The release with exactly this version string.
    pub fn release(&self, version: &str) -> Option<&Release> {
        self.releases.iter().find(|r| r.version == version)
    }
}

/// One release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub version: String,
    /// RFC 3339, UTC: the earliest upload of the release's files, when the index says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    pub yanked: bool,
    /// The reason the index gives for the yank, when it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yanked_reason: Option<String>,
}
