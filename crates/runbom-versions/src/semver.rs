//! SemVer 2.0 versions (npm, crates.io, OSV `SEMVER` ranges) compared by precedence.
//!
//! Traps:
//! - Build metadata (`+build`) is ignored for precedence: `1.2.3+a == 1.2.3+b`. The `semver`
//!   crate orders by build metadata as a tie-break, which would make OSV matching depend on it,
//!   so precedence is computed here.
//! - Numbers are unbounded: real data holds `999999999999999999999999999999.0.0`, and OSV does
//!   not promise they fit in 64 bits. They are compared as digit strings.
//! - A leading `v` (and npm's `=`) is accepted, as OSV tooling does: `v1.2.3 == 1.2.3`.
//! - Pre-release identifiers: numeric ones compare numerically and sort below alphanumeric
//!   ones; alphanumeric ones compare by ASCII (`R2 < r100`); a shorter prefix sorts first.

use std::cmp::Ordering;
use std::fmt;

use runbom_model::Ecosystem;

use crate::VersionError;

/// A SemVer 2.0 version.
#[derive(Debug, Clone)]
pub struct SemVer {
    major: String,
    minor: String,
    patch: String,
    pre: Vec<Identifier>,
    build: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Identifier {
    /// Digits without leading zeros.
    Numeric(String),
    Alphanumeric(String),
}

impl SemVer {
    /// Parses a SemVer 2.0 version; `ecosystem` only labels the error.
    /// Surrounding whitespace is ignored.
    pub fn parse(ecosystem: Ecosystem, input: &str) -> Result<Self, VersionError> {
        let offset = input.len() - input.trim_start().len();
        Self::parse_inner(input.trim(), false).map_err(|(span, reason)| {
            VersionError::new(
                ecosystem,
                "version",
                input,
                span.start + offset..span.end + offset,
                reason,
            )
        })
    }

    /// Like [`Self::parse`] but also accepts Go's `v1` / `v1.2` shorthands (missing parts are 0).
    pub(crate) fn parse_shorthand(input: &str) -> Result<Self, (std::ops::Range<usize>, String)> {
        Self::parse_inner(input, true)
    }

    fn parse_inner(
        input: &str,
        allow_shorthand: bool,
    ) -> Result<Self, (std::ops::Range<usize>, String)> {
        let mut at = 0;
        if input.starts_with('=') {
            at += 1;
        }
        if input[at..].starts_with(['v', 'V']) {
            at += 1;
        }
        let (core_end, pre_start, build_start) = {
            let rest = &input[at..];
            let plus = rest.find('+').map(|p| p + at);
            let dash = rest
                .find('-')
                .map(|p| p + at)
                .filter(|&d| plus.is_none_or(|p| d < p));
            let core_end = dash.or(plus).unwrap_or(input.len());
            (core_end, dash, plus)
        };
        let mut numbers = Vec::new();
        let mut start = at;
        for part in input[at..core_end].split('.') {
            let span = start..start + part.len();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err((
                    span.start..span.end.max(span.start + 1),
                    "expected a number".to_owned(),
                ));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err((span, "leading zeros are not allowed".to_owned()));
            }
            numbers.push(part.to_owned());
            start = span.end + 1;
        }
        if numbers.len() > 3 || (numbers.len() < 3 && !allow_shorthand) {
            return Err((
                at..core_end,
                "expected MAJOR.MINOR.PATCH (three numbers)".to_owned(),
            ));
        }
        if numbers.len() < 3 && (pre_start.is_some() || build_start.is_some()) {
            return Err((
                at..core_end,
                "a shorthand version cannot have a pre-release or build".to_owned(),
            ));
        }
        numbers.resize(3, "0".to_owned());
        let mut pre = Vec::new();
        if let Some(dash) = pre_start {
            let end = build_start.unwrap_or(input.len());
            let mut start = dash + 1;
            for part in input[dash + 1..end].split('.') {
                let span = start..start + part.len();
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    return Err((
                        span.start..span.end.max(span.start + 1),
                        "pre-release identifiers are non-empty [0-9A-Za-z-]".to_owned(),
                    ));
                }
                if part.bytes().all(|b| b.is_ascii_digit()) {
                    if part.len() > 1 && part.starts_with('0') {
                        return Err((span, "leading zeros are not allowed".to_owned()));
                    }
                    pre.push(Identifier::Numeric(part.to_owned()));
                } else {
                    pre.push(Identifier::Alphanumeric(part.to_owned()));
                }
                start = span.end + 1;
            }
        }
        let build = match build_start {
            Some(plus) => {
                let build = &input[plus + 1..];
                let mut start = plus + 1;
                for part in build.split('.') {
                    if part.is_empty()
                        || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        return Err((
                            start..(start + part.len()).max(start + 1),
                            "build identifiers are non-empty [0-9A-Za-z-]".to_owned(),
                        ));
                    }
                    start += part.len() + 1;
                }
                Some(build.to_owned())
            }
            None => None,
        };
        let mut numbers = numbers.into_iter();
        let mut next = || numbers.next().unwrap_or_default();
        Ok(Self {
            major: next(),
            minor: next(),
            patch: next(),
            pre,
            build,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// The build metadata after `+`, if any (ignored by ordering).
    pub fn build(&self) -> Option<&str> {
        self.build.as_deref()
    }

    /// The pre-release identifiers, joined by `.` (empty for a release).
    pub fn prerelease(&self) -> String {
        self.pre
            .iter()
            .map(|id| match id {
                Identifier::Numeric(s) | Identifier::Alphanumeric(s) => s.as_str(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// `MAJOR.MINOR.PATCH` as written (without pre-release or build).
    pub fn core(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }
}

fn cmp_number(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_number(&self.major, &other.major)
            .then_with(|| cmp_number(&self.minor, &other.minor))
            .then_with(|| cmp_number(&self.patch, &other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let ord = match (a, b) {
                            (Identifier::Numeric(a), Identifier::Numeric(b)) => cmp_number(a, b),
                            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
                            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => {
                                Ordering::Greater
                            }
                            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => a.cmp(b),
                        };
                        if ord != Ordering::Equal {
                            return ord;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVer {}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.core())?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.prerelease())?;
        }
        if let Some(build) = &self.build {
            write!(f, "+{build}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SemVer {
        SemVer::parse(Ecosystem::Npm, s).unwrap()
    }

    #[test]
    fn precedence_follows_semver_section_11() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn build_metadata_and_v_prefix_are_ignored() {
        assert_eq!(v("1.2.3+a"), v("v1.2.3+b"));
        assert_eq!(v("=1.2.3").to_string(), "1.2.3");
    }

    #[test]
    fn huge_numbers_compare() {
        assert!(v("999999999999999999999999999991.0.0") < v("999999999999999999999999999999.0.0"));
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let err = SemVer::parse(Ecosystem::Npm, "1.02.3").unwrap_err();
        assert_eq!(&err.input()[err.span()], "02");
        let err = SemVer::parse(Ecosystem::Npm, "1.2.3-a..b").unwrap_err();
        assert_eq!(err.span(), 8..9);
        let err = SemVer::parse(Ecosystem::Npm, "1.2").unwrap_err();
        assert_eq!(&err.input()[err.span()], "1.2");
    }
}
