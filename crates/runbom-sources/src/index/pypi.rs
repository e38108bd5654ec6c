//! PyPI through the JSON simple API (PEP 691, with PEP 700's `versions` and `upload-time`).
//! A release's date is its earliest file upload; it is yanked when every file is (PEP 592).

use std::collections::BTreeMap;

use runbom_model::PackageName;
use runbom_model::release::Release;
use runbom_versions::Pep440Version;
use serde::Deserialize;

use super::{IndexClient, IndexError};

const ACCEPT: &str = "application/vnd.pypi.simple.v1+json";

#[derive(Debug, Deserialize)]
struct Project {
    #[serde(default)]
    versions: Option<Vec<String>>,
    files: Vec<File>,
}

#[derive(Debug, Deserialize)]
struct File {
    filename: String,
    #[serde(default, rename = "upload-time")]
    upload_time: Option<String>,
    #[serde(default)]
    yanked: Yanked,
}

/// PEP 592 in JSON: `false`, `true`, or the reason as a string.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Yanked {
    #[default]
    No,
    Flag(bool),
    Reason(String),
}

impl Yanked {
    fn is_yanked(&self) -> bool {
        matches!(self, Yanked::Flag(true) | Yanked::Reason(_))
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Yanked::Reason(r) if !r.trim().is_empty() => Some(r),
            _ => None,
        }
    }
}

pub(super) fn releases(client: &IndexClient, name: &str) -> Result<Vec<Release>, IndexError> {
    let normalized = PackageName::pypi(name);
    let url = format!("{}{}/", client.settings.pypi, normalized);
    client.fetch(&url, ACCEPT, name, |text| parse(text, normalized.as_str()))
}

/// Releases from a PEP 691 project page, in the order of its `versions` (or of first upload).
pub(super) fn parse(text: &str, normalized: &str) -> Result<Vec<Release>, String> {
    let project: Project = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut versions: Vec<String> = project.versions.clone().unwrap_or_default();
    if project.versions.is_none() {
        for file in &project.files {
            if let Some(v) = version_of(&file.filename, normalized, &[])
                && !versions.contains(&v)
            {
                versions.push(v);
            }
        }
    }
    let mut files_of: BTreeMap<usize, Vec<&File>> = BTreeMap::new();
    for file in &project.files {
        if let Some(index) = version_of(&file.filename, normalized, &versions)
            .and_then(|v| versions.iter().position(|known| *known == v))
        {
            files_of.entry(index).or_default().push(file);
        }
    }
    Ok(versions
        .iter()
        .enumerate()
        .map(|(index, version)| {
            let files = files_of.get(&index).map(Vec::as_slice).unwrap_or_default();
            Release {
                version: version.clone(),
                published: files.iter().filter_map(|f| f.upload_time.clone()).min(),
                yanked: !files.is_empty() && files.iter().all(|f| f.yanked.is_yanked()),
                yanked_reason: files
                    .iter()
                    .find_map(|f| f.yanked.reason())
                    .map(str::to_owned),
            }
        })
        .collect())
}

/// The version a distribution file belongs to. Wheels (`name-1.0-py3-none-any.whl`) carry it as
/// their second field; other files (`name-1.0.tar.gz`, `Name-1.0.win32-py2.7.exe`) are matched
/// against the known versions, longest first, after the normalised project name.
fn version_of(filename: &str, normalized: &str, known: &[String]) -> Option<String> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let wheel_version = stem.split('-').nth(1)?;
        return Some(match_known(wheel_version, known).unwrap_or_else(|| wheel_version.to_owned()));
    }
    let lower = filename.to_lowercase();
    let name_len = split_name(&lower, normalized)?;
    let rest = &filename[name_len + 1..];
    let mut candidates: Vec<&String> = known.iter().collect();
    candidates.sort_by_key(|v| std::cmp::Reverse(v.len()));
    if let Some(v) = candidates.into_iter().find(|v| {
        rest.strip_prefix(v.as_str())
            .is_some_and(|after| after.is_empty() || after.starts_with(['.', '-']))
    }) {
        return Some(v.clone());
    }
    // Without a version list: up to the archive extension.
    let version = [".tar.gz", ".tar.bz2", ".zip", ".tgz", ".tar.xz"]
        .iter()
        .find_map(|ext| rest.strip_suffix(ext))?;
    Some(version.to_owned())
}

/// The length of the project-name prefix of a lower-cased file name (separators `-_.` equal).
fn split_name(lower: &str, normalized: &str) -> Option<usize> {
    let mut matched = 0;
    let mut chars = lower.char_indices();
    for expected in normalized.chars() {
        let (i, c) = chars.next()?;
        let same = c == expected || (expected == '-' && matches!(c, '_' | '.'));
        if !same {
            return None;
        }
        matched = i + c.len_utf8();
    }
    (lower[matched..].starts_with('-')).then_some(matched)
}

/// The known spelling equal under PEP 440 to `version` (a wheel may spell `6.0b1` as `6.0b1`
/// while the index lists `6.0b1`, or normalise `1.0.0-beta` to `1.0.0b0`).
fn match_known(version: &str, known: &[String]) -> Option<String> {
    if let Some(exact) = known.iter().find(|k| *k == version) {
        return Some(exact.clone());
    }
    let parsed = Pep440Version::parse(version).ok()?;
    known
        .iter()
        .find(|k| Pep440Version::parse(k).is_ok_and(|v| v == parsed))
        .cloned()
}
