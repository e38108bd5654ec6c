//! One severity per advisory, from whatever the record carries: CVSS v3.0/v3.1/v4.0 vectors
//! (scored with RustSec's `cvss`, which follows the FIRST specifications), or an ecosystem's own
//! word (`database_specific.severity` as GitHub's advisories write it, `ecosystem_specific.
//! severity` as RustSec does), or a bare score (`database_specific.cvss_v3`, ruby-advisory-db).
//!
//! Traps:
//! - `CVSS_V2` vectors are not scored (v2 has no "critical" and no longer maps onto the v3
//!   scale); such a record falls back to its ecosystem word, or has no severity.
//! - GitHub writes `MODERATE` where CVSS says "medium".
//! - A per-package severity (`affected[].severity`) wins over the record's top level one.

use std::fmt;
use std::str::FromStr;

use runbom_model::Advisory;
use runbom_model::advisory::{Affected, Severity as OsvSeverity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The qualitative rating of CVSS v3/v4 (the scales are the same), lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityLevel {
    /// CVSS 0.0.
    None,
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

impl SeverityLevel {
    pub const ALL: [SeverityLevel; 5] = [
        SeverityLevel::None,
        SeverityLevel::Low,
        SeverityLevel::Medium,
        SeverityLevel::High,
        SeverityLevel::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLevel::None => "none",
            SeverityLevel::Low => "low",
            SeverityLevel::Medium => "medium",
            SeverityLevel::High => "high",
            SeverityLevel::Critical => "critical",
        }
    }

    /// The rating of a CVSS v3/v4 score.
    pub fn from_score(score: f64) -> Self {
        match score {
            s if s >= 9.0 => SeverityLevel::Critical,
            s if s >= 7.0 => SeverityLevel::High,
            s if s >= 4.0 => SeverityLevel::Medium,
            s if s > 0.0 => SeverityLevel::Low,
            _ => SeverityLevel::None,
        }
    }
}

impl fmt::Display for SeverityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not a severity level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}` (expected none, low, medium, high or critical)")]
pub struct UnknownSeverity(pub String);

impl FromStr for SeverityLevel {
    type Err = UnknownSeverity;

    /// Case-insensitive; `moderate` (GitHub's word) is `medium`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(SeverityLevel::None),
            "low" => Ok(SeverityLevel::Low),
            "medium" | "moderate" => Ok(SeverityLevel::Medium),
            "high" => Ok(SeverityLevel::High),
            "critical" => Ok(SeverityLevel::Critical),
            _ => Err(UnknownSeverity(s.to_owned())),
        }
    }
}

/// An advisory's severity: the level, and the score and vector it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    pub level: SeverityLevel,
    /// The CVSS base score, when a vector was scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The CVSS vector as written, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// Where it came from: `CVSS_V4`, `CVSS_V3`, or the JSON path of an ecosystem word
    /// (`database_specific.severity`).
    pub source: String,
}

impl Severity {
    /// Scores one CVSS v3.0, v3.1 or v4.0 vector; `None` for anything else or a vector that
    /// does not parse.
    pub fn from_cvss(kind: &str, vector: &str) -> Option<Self> {
        let cvss: cvss::Cvss = vector.trim().parse().ok()?;
        let score = cvss.score();
        Some(Severity {
            level: SeverityLevel::from_score(score),
            score: Some(score),
            vector: Some(vector.trim().to_owned()),
            source: kind.to_owned(),
        })
    }

    /// The severity of an advisory as it applies to one of its `affected` entries.
    pub fn of(advisory: &Advisory, affected: Option<&Affected>) -> Option<Self> {
        let scored = affected
            .and_then(|a| best_cvss(&a.severity))
            .or_else(|| best_cvss(&advisory.severity));
        scored.or_else(|| {
            let entry = affected.into_iter().flat_map(|a| {
                [
                    (
                        "affected[].ecosystem_specific",
                        a.ecosystem_specific.as_ref(),
                    ),
                    ("affected[].database_specific", a.database_specific.as_ref()),
                ]
            });
            entry
                .chain([("database_specific", advisory.database_specific.as_ref())])
                .find_map(|(path, value)| word(path, value?))
                .or_else(|| bare_score(advisory.database_specific.as_ref()?))
        })
    }
}

/// The newest CVSS version that scores: v4.0, then v3.1/v3.0.
fn best_cvss(severities: &[OsvSeverity]) -> Option<Severity> {
    ["CVSS_V4", "CVSS_V3"].iter().find_map(|kind| {
        severities
            .iter()
            .filter(|s| s.kind == *kind)
            .find_map(|s| Severity::from_cvss(kind, &s.score))
    })
}

/// `{"severity": "HIGH"}` in an ecosystem's own block.
fn word(path: &str, block: &Value) -> Option<Severity> {
    let level = block.get("severity")?.as_str()?.parse().ok()?;
    Some(Severity {
        level,
        score: None,
        vector: None,
        source: format!("{path}.severity"),
    })
}

/// A bare CVSS base score without its vector (`{"cvss_v3": 9.8}`, as ruby-advisory-db keeps
/// them): v4 first, then v3; v2 scores are not rated.
fn bare_score(block: &Value) -> Option<Severity> {
    ["cvss_v4", "cvss_v3"].iter().find_map(|key| {
        let score = block.get(key)?.as_f64()?;
        Some(Severity {
            level: SeverityLevel::from_score(score),
            score: Some(score),
            vector: None,
            source: format!("database_specific.{key}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(vector: &str) -> (f64, SeverityLevel) {
        let severity = Severity::from_cvss("CVSS", vector).unwrap();
        (severity.score.unwrap(), severity.level)
    }

    /// Base scores from FIRST's specification documents and calculators.
    #[test]
    fn cvss_v3_and_v4_vectors_score_as_first_publishes() {
        let cases = [
            // CVSS v3.1 specification, section 7.4 examples and the calculator.
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N", 0.0),
            // CVSS v4.0: the calculator's all-high network vector and the spec's examples.
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N",
                8.7,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
                0.0,
            ),
        ];
        for (vector, expected) in cases {
            let (got, level) = score(vector);
            assert!(
                (got - expected).abs() < 0.05,
                "{vector}: {got} != {expected}"
            );
            assert_eq!(level, SeverityLevel::from_score(expected), "{vector}");
        }
    }

    #[test]
    fn words_map_to_levels() {
        assert_eq!("MODERATE".parse(), Ok(SeverityLevel::Medium));
        assert_eq!("Critical".parse(), Ok(SeverityLevel::Critical));
        assert!("severe".parse::<SeverityLevel>().is_err());
        assert_eq!(SeverityLevel::from_score(6.9), SeverityLevel::Medium);
        assert_eq!(SeverityLevel::from_score(7.0), SeverityLevel::High);
    }

    fn advisory(json: serde_json::Value) -> Advisory {
        let mut base = serde_json::json!({"id": "X-1", "modified": "2024-01-01T00:00:00Z"});
        base.as_object_mut()
            .unwrap()
            .extend(json.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn v4_wins_over_v3_and_package_over_record() {
        let a = advisory(serde_json::json!({
            "severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N"}
            ],
            "affected": [{"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}]}]
        }));
        let top = Severity::of(&a, None).unwrap();
        assert_eq!(
            (top.source.as_str(), top.level),
            ("CVSS_V4", SeverityLevel::High)
        );
        let package = Severity::of(&a, Some(&a.affected[0])).unwrap();
        assert_eq!(package.level, SeverityLevel::Medium);
    }

    #[test]
    fn ecosystem_words_are_the_fallback_and_v2_is_not_scored() {
        let a = advisory(serde_json::json!({
            "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}],
            "database_specific": {"severity": "MODERATE", "github_reviewed": true},
            "affected": [{"ecosystem_specific": {"severity": "HIGH"}}, {}]
        }));
        let severity = Severity::of(&a, Some(&a.affected[1])).unwrap();
        assert_eq!(severity.level, SeverityLevel::Medium);
        assert_eq!(severity.source, "database_specific.severity");
        let rustsec = Severity::of(&a, Some(&a.affected[0])).unwrap();
        assert_eq!(rustsec.level, SeverityLevel::High);
        let bare = advisory(serde_json::json!({}));
        assert_eq!(Severity::of(&bare, None), None);
        let rubysec = advisory(serde_json::json!({
            "database_specific": {"cvss_v2": 10.0, "cvss_v3": 7.5}
        }));
        let severity = Severity::of(&rubysec, None).unwrap();
        assert_eq!(severity.level, SeverityLevel::High);
        assert_eq!(severity.source, "database_specific.cvss_v3");
        let v2_only = advisory(serde_json::json!({"database_specific": {"cvss_v2": 10.0}}));
        assert_eq!(Severity::of(&v2_only, None), None);
    }
}
