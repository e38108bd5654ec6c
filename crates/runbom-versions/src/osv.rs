//! OSV `affected[].ranges` and `affected[].versions` semantics: the spec's `IsVulnerable`
//! evaluation over `ECOSYSTEM` and `SEMVER` ranges, with typed reasons for ranges that cannot
//! be evaluated (`GIT`, unknown types, unparsable event versions).
//!
//! Traps (all from the OSV schema's "Evaluation" section):
//! - Events must be sorted by the range's version order before the walk; records in the wild
//!   are not always sorted. On equal versions `introduced` sorts first, so `introduced: X,
//!   fixed: X` is the empty range.
//! - `introduced: "0"` sorts below every version (even PEP 440 `0.dev0`); `limit: "*"` is
//!   infinity, and no `limit` at all means an implicit `*`.
//! - `fixed` excludes its version, `last_affected` includes it; `limit` is checked first and
//!   cuts the whole range.
//! - A version is affected if it is listed in `versions` or lies in ANY range.
//! - `SEMVER` ranges compare by SemVer 2.0 precedence, also in ecosystems (PyPI) whose own order
//!   differs; Go versions keep Go rules (the `v` prefix is optional there).
//! - `versions` entries compare with the ecosystem's equality (`1.0` lists `1.0.0` in PEP 440);
//!   an entry that does not parse only matches the identical string.
//! - Events cannot say "from just after `v`", so a range converted from safe-version lists
//!   (ruby-advisory-db's `<= v`, `= v`) holds `v` although it is safe. runbom's import lists
//!   such versions in the range's `database_specific.inexact`, and they are not affected by it
//!   (compared with the ecosystem's equality, so `2.0.3.0` is `2.0.3` in RubyGems).

use std::cmp::Ordering;
use std::fmt;

use runbom_model::Ecosystem;
use runbom_model::advisory::{Affected, Event, EventKind, Range, RangeKind};
use serde::Serialize;

use crate::semver::SemVer;
use crate::{Version, VersionError};

/// The end of an affected interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Versions from this one on are fixed (excluded).
    Fixed(String),
    /// This version is the last affected one (included).
    LastAffected(String),
}

/// Why a version is affected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Match {
    /// Listed in `affected[].versions`.
    Listed { version: String },
    /// Inside range number `range` (0-based), between the `introduced` event that opened the
    /// interval and the event that closes it (`None`: open-ended).
    Range {
        range: usize,
        kind: RangeKind,
        introduced: String,
        until: Option<Bound>,
    },
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::Listed { version } => write!(f, "listed in `versions` as `{version}`"),
            Match::Range {
                range,
                kind,
                introduced,
                until,
            } => {
                write!(f, "in {kind} range #{range}: introduced `{introduced}`")?;
                match until {
                    Some(Bound::Fixed(v)) => write!(f, ", fixed `{v}`"),
                    Some(Bound::LastAffected(v)) => write!(f, ", last_affected `{v}`"),
                    None => write!(f, ", no fix"),
                }
            }
        }
    }
}

/// Why a range was not evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum SkipReason {
    /// `GIT` ranges need the repository's commit graph.
    GitRange { repo: Option<String> },
    /// A range `type` the schema does not define.
    UnknownType { kind: String },
    /// An event version that does not parse under the range's rules.
    BadEvent {
        event: EventKind,
        version: String,
        error: String,
    },
    /// The queried version is valid in its ecosystem but not under this range's rules (a
    /// `SEMVER` range in an ecosystem whose versions are not SemVer).
    VersionNotComparable { error: String },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::GitRange { repo: Some(repo) } => {
                write!(f, "GIT range of `{repo}` needs the commit graph")
            }
            SkipReason::GitRange { repo: None } => write!(f, "GIT range needs the commit graph"),
            SkipReason::UnknownType { kind } => write!(f, "unknown range type `{kind}`"),
            SkipReason::BadEvent {
                event,
                version,
                error,
            } => write!(f, "`{event}` event `{version}` does not parse: {error}"),
            SkipReason::VersionNotComparable { error } => {
                write!(
                    f,
                    "the version does not parse under this range's rules: {error}"
                )
            }
        }
    }
}

/// A range that was not evaluated, by 0-based index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedRange {
    pub range: usize,
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// The outcome of checking one version against one `affected[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Every reason the version is affected; empty when it is not.
    pub matches: Vec<Match>,
    /// Ranges that could not be evaluated. When the version is not affected and this is not
    /// empty, "not affected" is only as good as the ranges that were evaluated.
    pub skipped: Vec<SkippedRange>,
}

impl Verdict {
    pub fn is_affected(&self) -> bool {
        !self.matches.is_empty()
    }
}

/// A version position on a range's line: `introduced: "0"` is below everything and
/// `limit: "*"` above.
#[derive(Debug, Clone)]
enum Point {
    Zero,
    At(Version),
    Infinity,
}

impl Point {
    fn cmp_version(&self, v: &Version) -> Ordering {
        match self {
            Point::Zero => Ordering::Less,
            Point::Infinity => Ordering::Greater,
            Point::At(p) => p.compare(v).unwrap_or(Ordering::Equal),
        }
    }

    fn cmp_point(&self, other: &Point) -> Ordering {
        match (self, other) {
            (Point::Zero, Point::Zero) | (Point::Infinity, Point::Infinity) => Ordering::Equal,
            (Point::Zero, _) | (_, Point::Infinity) => Ordering::Less,
            (_, Point::Zero) | (Point::Infinity, _) => Ordering::Greater,
            (Point::At(a), Point::At(b)) => a.compare(b).unwrap_or(Ordering::Equal),
        }
    }
}

/// How the versions of one range parse.
#[derive(Debug, Clone, Copy)]
enum Rules {
    Ecosystem(Ecosystem),
    SemVer,
}

impl Rules {
    fn for_range(ecosystem: Ecosystem, kind: &RangeKind) -> Option<Self> {
        match kind {
            RangeKind::Ecosystem => Some(Rules::Ecosystem(ecosystem)),
            // Go versions are SemVer with an optional `v`: keep Go's parser.
            RangeKind::Semver if matches!(ecosystem, Ecosystem::Go) => {
                Some(Rules::Ecosystem(ecosystem))
            }
            RangeKind::Semver => Some(Rules::SemVer),
            RangeKind::Git | RangeKind::Other(_) => None,
        }
    }

    fn parse(self, ecosystem: Ecosystem, input: &str) -> Result<Version, VersionError> {
        match self {
            Rules::Ecosystem(ecosystem) => Version::parse(ecosystem, input),
            Rules::SemVer => SemVer::parse(ecosystem, input.trim()).map(Version::SemVer),
        }
    }
}

/// A range with its events parsed and sorted, ready to evaluate.
#[derive(Debug)]
struct PreparedRange<'a> {
    rules: Rules,
    events: Vec<(Point, &'a Event)>,
}

fn skip_reason(range: &Range) -> Option<SkipReason> {
    match &range.kind {
        RangeKind::Git => Some(SkipReason::GitRange {
            repo: range.repo.clone(),
        }),
        RangeKind::Other(kind) => Some(SkipReason::UnknownType { kind: kind.clone() }),
        RangeKind::Semver | RangeKind::Ecosystem => None,
    }
}

fn prepare(ecosystem: Ecosystem, range: &Range) -> Result<PreparedRange<'_>, SkipReason> {
    if let Some(reason) = skip_reason(range) {
        return Err(reason);
    }
    let rules = Rules::for_range(ecosystem, &range.kind).ok_or(SkipReason::UnknownType {
        kind: range.kind.to_string(),
    })?;
    let mut events = Vec::with_capacity(range.events.len());
    for event in &range.events {
        let text = event.version().trim();
        let point = match event.kind() {
            EventKind::Introduced if text == "0" => Point::Zero,
            EventKind::Limit if text.contains('*') => Point::Infinity,
            kind => {
                Point::At(
                    rules
                        .parse(ecosystem, text)
                        .map_err(|err| SkipReason::BadEvent {
                            event: kind,
                            version: event.version().to_owned(),
                            error: err.with_what("event version").to_string(),
                        })?,
                )
            }
        };
        events.push((point, event));
    }
    // Equal versions: `introduced` first, then `fixed`/`last_affected`, then `limit`.
    let rank = |event: &Event| match event.kind() {
        EventKind::Introduced => 0,
        EventKind::Fixed | EventKind::LastAffected => 1,
        EventKind::Limit => 2,
    };
    events.sort_by(|a, b| a.0.cmp_point(&b.0).then_with(|| rank(a.1).cmp(&rank(b.1))));
    Ok(PreparedRange { rules, events })
}

impl PreparedRange<'_> {
    /// The spec's `BeforeLimits` and event walk; on a hit, the interval that holds `v`.
    fn evaluate(&self, v: &Version) -> Option<(String, Option<Bound>)> {
        let limits: Vec<&Point> = self
            .events
            .iter()
            .filter(|(_, e)| e.kind() == EventKind::Limit)
            .map(|(p, _)| p)
            .collect();
        if !limits.is_empty() && !limits.iter().any(|p| p.cmp_version(v) == Ordering::Greater) {
            return None;
        }
        let mut open: Option<usize> = None;
        for (index, (point, event)) in self.events.iter().enumerate() {
            let ord = point.cmp_version(v);
            match event.kind() {
                EventKind::Introduced if ord != Ordering::Greater => open = Some(index),
                EventKind::Fixed if ord != Ordering::Greater => open = None,
                EventKind::LastAffected if ord == Ordering::Less => open = None,
                _ => {}
            }
        }
        let start = open?;
        let until = self.events[start + 1..].iter().find_map(|(_, e)| match e {
            Event::Fixed(f) => Some(Bound::Fixed(f.clone())),
            Event::LastAffected(l) => Some(Bound::LastAffected(l.clone())),
            _ => None,
        });
        Some((self.events[start].1.version().to_owned(), until))
    }
}

/// `IsVulnerable`: whether `version` of a package in `ecosystem` is affected by one OSV
/// `affected[]` entry (its `ranges` and `versions`; the package is not checked), and why. A
/// `version` that is not valid in `ecosystem` is an error; ranges that cannot be evaluated are
/// reported in [`Verdict::skipped`].
pub fn affects(
    ecosystem: Ecosystem,
    affected: &Affected,
    version: &str,
) -> Result<Verdict, VersionError> {
    let query = Version::parse(ecosystem, version)?;
    let mut verdict = Verdict::default();
    for listed in &affected.versions {
        let hit = match Version::parse(ecosystem, listed) {
            Ok(parsed) => parsed == query,
            Err(_) => listed.trim() == version.trim(),
        };
        if hit {
            verdict.matches.push(Match::Listed {
                version: listed.clone(),
            });
        }
    }
    for (index, range) in affected.ranges.iter().enumerate() {
        let prepared = match prepare(ecosystem, range) {
            Ok(prepared) => prepared,
            Err(reason) => {
                verdict.skipped.push(SkippedRange {
                    range: index,
                    reason,
                });
                continue;
            }
        };
        let v = match prepared.rules {
            Rules::Ecosystem(_) => query.clone(),
            Rules::SemVer => match prepared.rules.parse(ecosystem, version) {
                Ok(v) => v,
                Err(err) => {
                    verdict.skipped.push(SkippedRange {
                        range: index,
                        reason: SkipReason::VersionNotComparable {
                            error: err.to_string(),
                        },
                    });
                    continue;
                }
            },
        };
        if is_inexact(ecosystem, range, &query) {
            continue;
        }
        if let Some((introduced, until)) = prepared.evaluate(&v) {
            verdict.matches.push(Match::Range {
                range: index,
                kind: range.kind.clone(),
                introduced,
                until,
            });
        }
    }
    Ok(verdict)
}

/// Whether `version` is one of the range's `database_specific.inexact` versions: inside its
/// events, but safe.
fn is_inexact(ecosystem: Ecosystem, range: &Range, version: &Version) -> bool {
    let listed = range
        .database_specific
        .as_ref()
        .and_then(|specific| specific.get("inexact"))
        .and_then(|inexact| inexact.as_array());
    listed.into_iter().flatten().any(|safe| {
        safe.as_str()
            .and_then(|safe| Version::parse(ecosystem, safe).ok())
            .is_some_and(|safe| safe.compare(version) == Some(Ordering::Equal))
    })
}

/// The lowest `fixed` version above `version` that is not itself affected by the entry: what to
/// upgrade to. `None` when no evaluated range names such a fix.
pub fn lowest_fixed_above(
    ecosystem: Ecosystem,
    affected: &Affected,
    version: &str,
) -> Result<Option<String>, VersionError> {
    let query = Version::parse(ecosystem, version)?;
    let mut candidates: Vec<(Version, &str)> = Vec::new();
    for range in &affected.ranges {
        let Ok(prepared) = prepare(ecosystem, range) else {
            continue;
        };
        for (point, event) in &prepared.events {
            if let (Point::At(_), Event::Fixed(text)) = (point, event) {
                // Compare in the ecosystem's own order, whatever the range type.
                let Ok(fixed) = Version::parse(ecosystem, text) else {
                    continue;
                };
                if fixed.compare(&query) == Some(Ordering::Greater) {
                    candidates.push((fixed, text));
                }
            }
        }
    }
    candidates.sort_by(|a, b| a.0.compare(&b.0).unwrap_or(Ordering::Equal));
    for (_, text) in candidates {
        if !affects(ecosystem, affected, text)?.is_affected() {
            return Ok(Some(text.to_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affected(json: &str) -> Affected {
        serde_json::from_str(json).unwrap()
    }

    fn hit(a: &Affected, eco: Ecosystem, v: &str) -> bool {
        affects(eco, a, v).unwrap().is_affected()
    }

    #[test]
    fn introduced_zero_and_fixed() {
        let a = affected(
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0.2"}]}]}"#,
        );
        assert!(hit(&a, Ecosystem::PyPi, "0.dev0"));
        assert!(hit(&a, Ecosystem::PyPi, "1.0.2rc1"));
        assert!(!hit(&a, Ecosystem::PyPi, "1.0.2"));
        assert!(!hit(&a, Ecosystem::PyPi, "1.0.2.post1"));
    }

    #[test]
    fn unsorted_events_are_sorted_by_version_order() {
        let a = affected(
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"1.10"},{"introduced":"3.0"},{"introduced":"1.9"},{"fixed":"3.2"}]}]}"#,
        );
        assert!(!hit(&a, Ecosystem::PyPi, "1.8"));
        assert!(hit(&a, Ecosystem::PyPi, "1.9.5"));
        assert!(!hit(&a, Ecosystem::PyPi, "1.10"));
        assert!(!hit(&a, Ecosystem::PyPi, "2.0"));
        assert!(hit(&a, Ecosystem::PyPi, "3.1"));
        assert!(!hit(&a, Ecosystem::PyPi, "3.2"));
    }

    #[test]
    fn last_affected_includes_its_version() {
        let a = affected(
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"2.1.214"}]}]}"#,
        );
        assert!(hit(&a, Ecosystem::Npm, "2.1.214"));
        assert!(!hit(&a, Ecosystem::Npm, "2.1.215"));
    }

    #[test]
    fn limit_cuts_the_range() {
        let a = affected(
            r#"{"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"1.5.0"}]}]}"#,
        );
        assert!(hit(&a, Ecosystem::Npm, "1.4.9"));
        assert!(!hit(&a, Ecosystem::Npm, "1.5.0"));
        let star = affected(
            r#"{"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"*"}]}]}"#,
        );
        assert!(hit(&star, Ecosystem::Npm, "99.0.0"));
    }

    #[test]
    fn introduced_and_fixed_at_the_same_version_is_empty() {
        let a = affected(
            r#"{"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"},{"introduced":"1.0.0"}]}]}"#,
        );
        assert!(!hit(&a, Ecosystem::Npm, "1.0.0"));
    }

    #[test]
    fn any_range_or_listed_version_affects() {
        let a = affected(
            r#"{"versions":["0.5"],"ranges":[
                {"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.1"}]},
                {"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.1"}]}]}"#,
        );
        assert!(hit(&a, Ecosystem::PyPi, "0.5.0"));
        assert!(hit(&a, Ecosystem::PyPi, "2.0.1"));
        assert!(!hit(&a, Ecosystem::PyPi, "1.5"));
        let verdict = affects(Ecosystem::PyPi, &a, "2.0.1").unwrap();
        assert_eq!(
            verdict.matches,
            [Match::Range {
                range: 1,
                kind: RangeKind::Ecosystem,
                introduced: "2.0".into(),
                until: Some(Bound::Fixed("2.1".into()))
            }]
        );
    }

    /// gems/rack/CVE-2018-16470.yml: unaffected `<= 2.0.3`, patched `>= 2.0.6`.
    #[test]
    fn an_inexact_version_of_a_range_is_not_affected() {
        let a = affected(
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0.3"},{"fixed":"2.0.6"}],
                "database_specific":{"inexact":["2.0.3"]}}]}"#,
        );
        assert!(!hit(&a, Ecosystem::RubyGems, "2.0.3"));
        assert!(!hit(&a, Ecosystem::RubyGems, "2.0.3.0"));
        assert!(hit(&a, Ecosystem::RubyGems, "2.0.3.1"));
        assert!(hit(&a, Ecosystem::RubyGems, "2.0.5"));
    }

    #[test]
    fn git_ranges_are_skipped_with_a_reason() {
        let a = affected(
            r#"{"ranges":[{"type":"GIT","repo":"https://example.invalid/r","events":[{"introduced":"0"},{"fixed":"abc"}]}],"versions":["1.0"]}"#,
        );
        let verdict = affects(Ecosystem::PyPi, &a, "1.0").unwrap();
        assert!(verdict.is_affected());
        assert_eq!(
            verdict.skipped,
            [SkippedRange {
                range: 0,
                reason: SkipReason::GitRange {
                    repo: Some("https://example.invalid/r".into())
                }
            }]
        );
    }

    #[test]
    fn bad_event_versions_skip_the_range() {
        let a = affected(
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0 beta"}]}]}"#,
        );
        let verdict = affects(Ecosystem::PyPi, &a, "0.1").unwrap();
        assert!(!verdict.is_affected());
        assert!(matches!(
            verdict.skipped[0].reason,
            SkipReason::BadEvent {
                event: EventKind::Fixed,
                ..
            }
        ));
    }

    #[test]
    fn bad_query_version_is_an_error() {
        let a = Affected::default();
        assert!(affects(Ecosystem::PyPi, &a, "not a version").is_err());
    }

    #[test]
    fn go_versions_with_and_without_v() {
        let a = affected(
            r#"{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.0.0-20220314234659-1baeb1ce4c0b"}]}]}"#,
        );
        assert!(hit(&a, Ecosystem::Go, "v0.0.0-20210101000000-abcdefabcdef"));
        assert!(!hit(&a, Ecosystem::Go, "v0.1.0"));
    }

    #[test]
    fn lowest_fixed_above_skips_fixes_that_are_affected_again() {
        let a = affected(
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[
                {"introduced":"0"},{"fixed":"1.2"},{"introduced":"1.2.1"},{"fixed":"1.3"},
                {"introduced":"2.0"},{"fixed":"2.0.5"}]},
              {"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.2.5"}]}]}"#,
        );
        assert_eq!(
            lowest_fixed_above(Ecosystem::PyPi, &a, "1.1")
                .unwrap()
                .as_deref(),
            Some("1.3")
        );
        assert_eq!(
            lowest_fixed_above(Ecosystem::PyPi, &a, "2.0.1")
                .unwrap()
                .as_deref(),
            Some("2.0.5")
        );
        assert_eq!(
            lowest_fixed_above(Ecosystem::PyPi, &a, "3.0").unwrap(),
            None
        );
    }
}
