//! The OSV advisory record (<https://ossf.github.io/osv-schema/>), serde-compatible with the
//! schema: every crate that reads, stores or matches advisories uses these types.
//!
//! Timestamps stay strings as written (RFC 3339 in OSV); ecosystems stay strings so that an
//! affected entry in an ecosystem runbom does not know never fails the whole record — ask
//! [`Affected::ecosystem`] for the typed value.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Ecosystem, UnknownEcosystem};

/// One OSV advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    pub id: String,
    /// RFC 3339 timestamp of the last change; re-imports update by it.
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// When set, the advisory no longer applies and must not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// A severity score: `type` is `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu` …, `score` a vector or
/// an ecosystem-specific word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Severity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// One affected package with the versions it is affected in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<AffectedPackage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly enumerated affected versions; they match in addition to `ranges`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

impl Affected {
    /// The ecosystem of the affected package, when runbom knows it. The OSV ecosystem field
    /// may carry a suffix (`Debian:11`); only the part before `:` is looked up.
    pub fn ecosystem(&self) -> Option<Result<Ecosystem, UnknownEcosystem>> {
        let package = self.package.as_ref()?;
        let base = package.ecosystem.split(':').next().unwrap_or_default();
        Some(base.parse())
    }
}

/// The package an [`Affected`] entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// The OSV ecosystem name as written (`PyPI`, `Go`, `RubyGems`, `Debian:11` …).
    pub ecosystem: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// One OSV range: events in the range's own version scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: RangeKind,
    /// The repository a `GIT` range's commits belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// How a range's versions are ordered: the OSV `type`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum RangeKind {
    /// The ecosystem's own version ordering (`ECOSYSTEM`).
    Ecosystem,
    /// Semantic Versioning 2.0 (`SEMVER`).
    Semver,
    /// Commit hashes of `repo` (`GIT`); runbom does not evaluate these.
    Git,
    /// A type this version of the schema does not define, kept as written so that the record
    /// still reads.
    Other(String),
}

impl RangeKind {
    /// The OSV spelling, e.g. `ECOSYSTEM`.
    pub fn as_str(&self) -> &str {
        match self {
            RangeKind::Ecosystem => "ECOSYSTEM",
            RangeKind::Semver => "SEMVER",
            RangeKind::Git => "GIT",
            RangeKind::Other(other) => other,
        }
    }
}

impl From<String> for RangeKind {
    fn from(value: String) -> Self {
        match value.as_str() {
            "ECOSYSTEM" => RangeKind::Ecosystem,
            "SEMVER" => RangeKind::Semver,
            "GIT" => RangeKind::Git,
            _ => RangeKind::Other(value),
        }
    }
}

impl From<RangeKind> for String {
    fn from(value: RangeKind) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for RangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of a range; OSV writes each as a single-key object, e.g. `{"fixed": "1.2"}`.
///
/// Read through a map visitor rather than serde's enum form, so that YAML (where serde's enums
/// are tags, `!fixed 1.2`) reads the same single-key maps as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// The kind of an [`Event`], without its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

impl EventKind {
    /// The OSV key, e.g. `last_affected`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Introduced => "introduced",
            EventKind::Fixed => "fixed",
            EventKind::LastAffected => "last_affected",
            EventKind::Limit => "limit",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Event {
    pub fn new(kind: EventKind, version: impl Into<String>) -> Self {
        let version = version.into();
        match kind {
            EventKind::Introduced => Event::Introduced(version),
            EventKind::Fixed => Event::Fixed(version),
            EventKind::LastAffected => Event::LastAffected(version),
            EventKind::Limit => Event::Limit(version),
        }
    }

    pub fn kind(&self) -> EventKind {
        match self {
            Event::Introduced(_) => EventKind::Introduced,
            Event::Fixed(_) => EventKind::Fixed,
            Event::LastAffected(_) => EventKind::LastAffected,
            Event::Limit(_) => EventKind::Limit,
        }
    }

    /// The version (or commit) the event names.
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> serde::de::Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with one key: introduced, fixed, last_affected or limit")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        use serde::de::Error;
        let Some((kind, version)) = map.next_entry::<EventKind, String>()? else {
            return Err(A::Error::custom("an event needs one key, found none"));
        };
        if map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::custom(
                "an event has exactly one key, found several",
            ));
        }
        Ok(Event::new(kind, version))
    }
}

/// A link from an advisory: `type` is `ADVISORY`, `ARTICLE`, `FIX`, `WEB` ….
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

impl Advisory {
    /// The id and every alias, deduplicated, id first.
    pub fn ids(&self) -> Vec<&str> {
        let mut ids = vec![self.id.as_str()];
        for alias in &self.aliases {
            if !ids.contains(&alias.as_str()) {
                ids.push(alias);
            }
        }
        ids
    }

    /// Whether the advisory was withdrawn and must no longer match.
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_go_vulndb_record_and_writes_it_back_unchanged() {
        let text = include_str!("../testdata/GO-2022-0345.json");
        let advisory: Advisory = serde_json::from_str(text).unwrap();
        assert_eq!(advisory.id, "GO-2022-0345");
        assert_eq!(
            advisory.ids(),
            ["GO-2022-0345", "CVE-2021-3602", "GHSA-7638-r9r3-rmjj"]
        );
        let affected = &advisory.affected[0];
        assert_eq!(affected.ecosystem(), Some(Ok(Ecosystem::Go)));
        assert_eq!(affected.ranges[0].kind, RangeKind::Semver);
        let original: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_value(&advisory).unwrap(), original);
    }

    #[test]
    fn reads_events_as_single_key_objects() {
        let range: Range = serde_json::from_str(
            r#"{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"2.1"},{"limit":"3"},{"fixed":"2.2"}]}"#,
        )
        .unwrap();
        assert_eq!(
            range.events,
            [
                Event::Introduced("0".into()),
                Event::LastAffected("2.1".into()),
                Event::Limit("3".into()),
                Event::Fixed("2.2".into()),
            ]
        );
    }

    #[test]
    fn unknown_range_types_are_kept_and_events_take_one_key() {
        let json = r#"{"type":"PLANETARY","events":[{"introduced":"0"},{"limit":"*"}]}"#;
        let range: Range = serde_json::from_str(json).unwrap();
        assert_eq!(range.kind, RangeKind::Other("PLANETARY".into()));
        assert_eq!(serde_json::to_string(&range).unwrap(), json);
        assert!(serde_json::from_str::<Event>(r#"{"introduced":"1","fixed":"2"}"#).is_err());
        assert!(serde_json::from_str::<Event>(r#"{}"#).is_err());
        assert!(serde_json::from_str::<Event>(r#"{"fixd":"2"}"#).is_err());
    }

    #[test]
    fn an_unknown_ecosystem_does_not_fail_the_record() {
        let advisory: Advisory = serde_json::from_str(
            r#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
                "affected":[{"package":{"ecosystem":"Debian:11","name":"openssl"}}]}"#,
        )
        .unwrap();
        assert!(advisory.is_withdrawn());
        assert_eq!(
            advisory.affected[0].ecosystem(),
            Some(Err(UnknownEcosystem("Debian".into())))
        );
    }
}
