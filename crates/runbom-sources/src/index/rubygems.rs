//! The RubyGems API: `/api/v1/versions/<gem>.json`, one entry per version and platform, newest
//! first. Platforms of one version are folded into one release dated by its first upload.

use runbom_model::release::Release;
use serde::Deserialize;

use super::{IndexClient, IndexError};

#[derive(Debug, Deserialize)]
struct Version {
    number: String,
    #[serde(default)]
    created_at: Option<String>,
}

pub(super) fn releases(client: &IndexClient, gem: &str) -> Result<Vec<Release>, IndexError> {
    let url = format!("{}api/v1/versions/{gem}.json", client.settings.rubygems);
    client.fetch(&url, "application/json", gem, parse)
}

pub(super) fn parse(text: &str) -> Result<Vec<Release>, String> {
    let versions: Vec<Version> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut releases: Vec<Release> = Vec::new();
    for v in versions {
        match releases.iter_mut().find(|r| r.version == v.number) {
            Some(existing) => {
                if let Some(created) = v.created_at
                    && existing.published.as_ref().is_none_or(|p| created < *p)
                {
                    existing.published = Some(created);
                }
            }
            None => releases.push(Release {
                version: v.number,
                published: v.created_at,
                yanked: false,
                yanked_reason: None,
            }),
        }
    }
    Ok(releases)
}
