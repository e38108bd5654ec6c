//! ruby-advisory-db records (`rubysec/yaml`, `gems/<gem>/<id>.yml`) converted to the OSV model.
//!
//! The conversion:
//! - id `RUBYSEC-<gem>-<file stem>` (one advisory file per gem, so the same CVE filed under
//!   `actionpack` and `rails` stays two records); `CVE-…`, `GHSA-…` and `OSVDB-…` become aliases,
//!   which merges the record with the same vulnerability from other databases.
//! - the safe `patched_versions` and `unaffected_versions` become one `ECOSYSTEM` range through
//!   `runbom_versions::rubysec::to_osv_events`; versions OSV cannot exclude exactly are listed in
//!   the range's `database_specific.inexact`, which matching honours (`runbom_versions::osv`).
//! - `date` (the only date the database keeps) is both `published` and `modified`, at midnight UTC.
//! - `cvss_v2`/`cvss_v3`/`cvss_v4` are scores, not vectors: they go into `database_specific`,
//!   where severity rating reads `cvss_v3`/`cvss_v4`.

use runbom_model::Advisory;
use runbom_model::advisory::{Affected, AffectedPackage, Range, RangeKind, Reference};
use runbom_versions::GemRequirement;
use runbom_versions::rubysec::to_osv_events;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AdvisoryError, AdvisoryReader, text};

#[derive(Debug)]
pub struct RubySec;

impl AdvisoryReader for RubySec {
    fn name(&self) -> &'static str {
        "rubysec/yaml"
    }

    fn detect(&self, name: &str, contents: &[u8]) -> bool {
        let lower = name.to_ascii_lowercase();
        (lower.ends_with(".yml") || lower.ends_with(".yaml"))
            && contents
                .split(|b| *b == b'\n')
                .any(|line| line.starts_with(b"gem:"))
    }

    fn read(&self, file: &str, contents: &[u8]) -> Result<Advisory, AdvisoryError> {
        let record: RubyAdvisory = serde_norway::from_str(text(file, contents)?)
            .map_err(|e| AdvisoryError::yaml(file, &e))?;
        record.into_osv(file)
    }
}

/// One ruby-advisory-db file, as its `spec/schema` describes it (unknown keys are ignored).
#[derive(Debug, Deserialize)]
struct RubyAdvisory {
    gem: String,
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    ghsa: Option<String>,
    #[serde(default)]
    osvdb: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    date: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    cvss_v2: Option<String>,
    #[serde(default)]
    cvss_v3: Option<String>,
    #[serde(default)]
    cvss_v4: Option<String>,
    #[serde(default)]
    patched_versions: Option<Vec<String>>,
    #[serde(default)]
    unaffected_versions: Option<Vec<String>>,
    #[serde(default)]
    related: Option<Related>,
}

#[derive(Debug, Deserialize)]
struct Related {
    #[serde(default)]
    url: Option<Vec<String>>,
}

/// The file name without directories and extension: `CVE-2008-7248`.
fn stem(file: &str) -> &str {
    let name = file.rsplit(['/', '\\', '!']).next().unwrap_or(file);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

fn requirements(
    file: &str,
    field: &str,
    list: Option<&Vec<String>>,
) -> Result<Vec<GemRequirement>, AdvisoryError> {
    list.into_iter()
        .flatten()
        .map(|r| {
            GemRequirement::parse(r).map_err(|e| AdvisoryError::Invalid {
                file: file.to_owned(),
                message: format!("{field}: `{r}`: {e}"),
            })
        })
        .collect()
}

impl RubyAdvisory {
    fn into_osv(self, file: &str) -> Result<Advisory, AdvisoryError> {
        let patched = requirements(file, "patched_versions", self.patched_versions.as_ref())?;
        let unaffected = requirements(
            file,
            "unaffected_versions",
            self.unaffected_versions.as_ref(),
        )?;
        let conversion = to_osv_events(&patched, &unaffected);
        let date = self.date.trim();
        if date.is_empty() {
            return Err(AdvisoryError::Invalid {
                file: file.to_owned(),
                message: "`date` is empty".to_owned(),
            });
        }
        let timestamp = if date.contains('T') {
            date.to_owned()
        } else {
            format!("{date}T00:00:00Z")
        };
        let mut aliases = Vec::new();
        for (prefix, value) in [
            ("CVE-", &self.cve),
            ("GHSA-", &self.ghsa),
            ("OSVDB-", &self.osvdb),
        ] {
            if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                let alias = format!("{prefix}{value}");
                if !aliases.contains(&alias) {
                    aliases.push(alias);
                }
            }
        }
        let mut references: Vec<Reference> = self
            .url
            .iter()
            .map(|url| Reference {
                kind: "ADVISORY".to_owned(),
                url: url.clone(),
            })
            .collect();
        for url in self.related.and_then(|r| r.url).into_iter().flatten() {
            if !references.iter().any(|r| r.url == url) {
                references.push(Reference {
                    kind: "WEB".to_owned(),
                    url,
                });
            }
        }
        let mut specific = Map::new();
        specific.insert("source".to_owned(), json!("ruby-advisory-db"));
        for (key, score) in [
            ("cvss_v2", &self.cvss_v2),
            ("cvss_v3", &self.cvss_v3),
            ("cvss_v4", &self.cvss_v4),
        ] {
            if let Some(score) = score.as_deref() {
                let value: f64 = score.trim().parse().map_err(|_| AdvisoryError::Invalid {
                    file: file.to_owned(),
                    message: format!("{key}: `{score}` is not a score"),
                })?;
                specific.insert(key.to_owned(), json!(value));
            }
        }
        for (key, list) in [
            ("patched_versions", &self.patched_versions),
            ("unaffected_versions", &self.unaffected_versions),
        ] {
            if let Some(list) = list {
                specific.insert(key.to_owned(), json!(list));
            }
        }
        Ok(Advisory {
            schema_version: Some("1.6.0".to_owned()),
            id: format!("RUBYSEC-{}-{}", self.gem, stem(file)),
            modified: timestamp.clone(),
            published: Some(timestamp),
            withdrawn: None,
            aliases,
            related: Vec::new(),
            summary: self.title,
            details: self.description,
            severity: Vec::new(),
            affected: vec![Affected {
                package: Some(AffectedPackage {
                    ecosystem: "RubyGems".to_owned(),
                    purl: Some(format!("pkg:gem/{}", self.gem)),
                    name: self.gem,
                }),
                ranges: vec![Range {
                    kind: RangeKind::Ecosystem,
                    repo: None,
                    database_specific: (!conversion.inexact.is_empty())
                        .then(|| json!({ "inexact": conversion.inexact })),
                    events: conversion.events,
                }],
                ..Affected::default()
            }],
            references,
            credits: Vec::new(),
            database_specific: Some(Value::Object(specific)),
        })
    }
}
