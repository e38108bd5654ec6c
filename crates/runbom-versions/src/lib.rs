//! Version parsing, ordering and range membership for every ecosystem runbom knows, and the OSV
//! `affected[].ranges` / `versions` semantics built on them.
//!
//! One wrong comparison is a missed vulnerability or a false alarm, so each ecosystem follows
//! its own reference implementation, and the tests replay that implementation's own vectors:
//! - PyPI: PEP 440 as `packaging` 26 implements it ([`pep440`]).
//! - npm, crates.io and OSV `SEMVER` ranges: SemVer 2.0 precedence ([`semver`]).
//! - Go: `golang.org/x/mod/semver`, pseudo-versions, `+incompatible` ([`go`]).
//! - RubyGems: `Gem::Version` and `Gem::Requirement` ([`rubygems`]); ruby-advisory-db's
//!   patched/unaffected rule and its conversion to OSV events ([`rubysec`]).
//! - CPAN: `version.pm`, decimal and dotted-decimal ([`cpan`]).
//! - Tcl: `package vcompare` / `package vsatisfies` ([`tcl`]).
//!
//! Traps shared by all ecosystems: versions of different ecosystems never compare; "equal" means
//! equal under the ecosystem's order (`1.0 == 1.0.0` in PEP 440), not equal strings.

pub mod cpan;
mod error;
pub mod go;
pub mod osv;
pub mod pep440;
pub mod rubygems;
pub mod rubysec;
pub mod semver;
pub mod tcl;

use std::cmp::Ordering;
use std::fmt;

pub use cpan::CpanVersion;
pub use error::VersionError;
pub use go::GoVersion;
pub use osv::{Bound, Match, SkipReason, SkippedRange, Verdict, affects, lowest_fixed_above};
pub use pep440::{Pep440Specifiers, Pep440Version};
pub use rubygems::{GemRequirement, GemVersion};
pub use runbom_model::Ecosystem;
pub use semver::SemVer;
pub use tcl::{TclRequirement, TclVersion};

/// A version parsed under one ecosystem's rules.
#[derive(Debug, Clone)]
pub enum Version {
    Pep440(Pep440Version),
    SemVer(SemVer),
    Go(GoVersion),
    RubyGems(GemVersion),
    Cpan(CpanVersion),
    Tcl(TclVersion),
}

impl Version {
    /// Parses `input` under `ecosystem`'s rules; the error locates the bad part.
    pub fn parse(ecosystem: Ecosystem, input: &str) -> Result<Self, VersionError> {
        match ecosystem {
            Ecosystem::PyPi => Pep440Version::parse(input).map(Version::Pep440),
            Ecosystem::Npm | Ecosystem::CratesIo => {
                SemVer::parse(ecosystem, input.trim()).map(Version::SemVer)
            }
            Ecosystem::Go => GoVersion::parse(input.trim()).map(Version::Go),
            Ecosystem::RubyGems => GemVersion::parse(input).map(Version::RubyGems),
            Ecosystem::Cpan => CpanVersion::parse(input).map(Version::Cpan),
            Ecosystem::Tcl => TclVersion::parse(input.trim()).map(Version::Tcl),
        }
    }

    /// Compares two versions of the same kind; `None` across kinds (e.g. PyPI against Go).
    pub fn compare(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Version::Pep440(a), Version::Pep440(b)) => Some(a.cmp(b)),
            (Version::SemVer(a), Version::SemVer(b)) => Some(a.cmp(b)),
            (Version::Go(a), Version::Go(b)) => Some(a.cmp(b)),
            (Version::RubyGems(a), Version::RubyGems(b)) => Some(a.cmp(b)),
            (Version::Cpan(a), Version::Cpan(b)) => Some(a.cmp(b)),
            (Version::Tcl(a), Version::Tcl(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// A pre-release under the ecosystem's rules (PEP 440 counts dev releases).
    pub fn is_prerelease(&self) -> bool {
        match self {
            Version::Pep440(v) => v.is_prerelease(),
            Version::SemVer(v) => v.is_prerelease(),
            Version::Go(v) => v.is_prerelease(),
            Version::RubyGems(v) => v.is_prerelease(),
            Version::Cpan(v) => v.is_alpha(),
            Version::Tcl(v) => v.is_prerelease(),
        }
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.compare(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.compare(other)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Pep440(v) => v.fmt(f),
            Version::SemVer(v) => v.fmt(f),
            Version::Go(v) => v.fmt(f),
            Version::RubyGems(v) => v.fmt(f),
            Version::Cpan(v) => v.fmt(f),
            Version::Tcl(v) => v.fmt(f),
        }
    }
}

/// `ecosystem.parse_version("1.0")`: [`Version::parse`] as a method of [`Ecosystem`].
pub trait EcosystemVersions {
    fn parse_version(self, input: &str) -> Result<Version, VersionError>;
}

impl EcosystemVersions for Ecosystem {
    fn parse_version(self, input: &str) -> Result<Version, VersionError> {
        Version::parse(self, input)
    }
}

/// Parses every line and returns them sorted ascending by the ecosystem's order (stable: equal
/// versions keep their input order and spelling). The error names the 1-based line.
pub fn sort_versions<'a>(
    ecosystem: Ecosystem,
    lines: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<&'a str>, SortError> {
    let mut parsed = Vec::new();
    for (index, line) in lines.into_iter().enumerate() {
        let version = Version::parse(ecosystem, line).map_err(|source| SortError {
            line: index + 1,
            source,
        })?;
        parsed.push((version, line));
    }
    parsed.sort_by(|a, b| a.0.compare(&b.0).unwrap_or(Ordering::Equal));
    Ok(parsed.into_iter().map(|(_, line)| line).collect())
}

/// A line that is not a version of the ecosystem being sorted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {source}")]
pub struct SortError {
    pub line: usize,
    #[source]
    pub source: VersionError,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_is_by_ecosystem_order() {
        let sorted =
            sort_versions(Ecosystem::PyPi, ["1.0", "1.0rc1", "0.9.post1", "1.0.dev0"]).unwrap();
        assert_eq!(sorted, ["0.9.post1", "1.0.dev0", "1.0rc1", "1.0"]);
        let sorted = sort_versions(
            Ecosystem::Go,
            ["v1.10.0", "1.9.0", "v1.9.1-0.20220101000000-abc"],
        )
        .unwrap();
        assert_eq!(sorted, ["1.9.0", "v1.9.1-0.20220101000000-abc", "v1.10.0"]);
    }

    #[test]
    fn sort_error_names_the_line() {
        let err = sort_versions(Ecosystem::PyPi, ["1.0", "not a version"]).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.to_string()
                .starts_with("line 2: invalid PyPI version `not a version`")
        );
    }

    #[test]
    fn every_ecosystem_parses_through_the_trait() {
        for (ecosystem, raw) in [
            (Ecosystem::PyPi, "1.0.post1"),
            (Ecosystem::Npm, "1.0.0-rc.1"),
            (Ecosystem::CratesIo, "0.7.1"),
            (Ecosystem::Go, "v0.0.0-20220101000000-abcdef123456"),
            (Ecosystem::RubyGems, "7.0.8.5"),
            (Ecosystem::Cpan, "1.002_003"),
            (Ecosystem::Tcl, "8.6b2"),
        ] {
            let version = ecosystem.parse_version(raw).unwrap();
            assert_eq!(
                version.compare(&version),
                Some(Ordering::Equal),
                "{ecosystem} {raw}"
            );
        }
    }

    #[test]
    fn different_ecosystems_do_not_compare() {
        let a = Version::parse(Ecosystem::PyPi, "1.0").unwrap();
        let b = Version::parse(Ecosystem::Npm, "1.0.0").unwrap();
        assert_eq!(a.partial_cmp(&b), None);
    }
}
