//! Tcl package versions and `package vsatisfies`, as `generic/tclPkg.c` (Tcl 8.6) implements
//! them.
//!
//! Traps:
//! - One `a` or `b` may replace a dot and means a negative part: `8.5a1` is `8 5 -2 1`,
//!   `8.5b1` is `8 5 -1 1`, so `8.5a1 < 8.5b1 < 8.5`. Missing parts are zero: `1.3 == 1.3.0`.
//! - Requirements: `min` means `min` up to (not including) the next major version; `min-`
//!   has no upper bound; `min-max` excludes `max`, except `V-V`, which means exactly `V`.
//!   Both bounds are padded with `a0`, so `8.5` is satisfied by `8.5a1` and `8.5-9` excludes
//!   `9a0` and every `9aN`/`9bN`.
//! - A version satisfies a list of requirements if it satisfies ANY of them.

use std::cmp::Ordering;
use std::fmt;

use runbom_model::Ecosystem;

use crate::VersionError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// `a` (-2) or `b` (-1).
    Negative(u8),
    /// Digits without leading zeros (empty for zero).
    Number(String),
}

fn cmp_part(a: &Part, b: &Part) -> Ordering {
    match (a, b) {
        (Part::Negative(x), Part::Negative(y)) => y.cmp(x),
        (Part::Negative(_), Part::Number(_)) => Ordering::Less,
        (Part::Number(_), Part::Negative(_)) => Ordering::Greater,
        (Part::Number(x), Part::Number(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
    }
}

/// A Tcl package version (`8.6.13`, `8.7a5`, `2.0b1`).
#[derive(Debug, Clone)]
pub struct TclVersion {
    text: String,
    parts: Vec<Part>,
}

impl TclVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        Self::parse_as(input, "version")
    }

    fn parse_as(input: &str, what: &'static str) -> Result<Self, VersionError> {
        let error = |at: usize, reason: &str| {
            VersionError::new(Ecosystem::Tcl, what, input, at..at + 1, reason)
        };
        let bytes = input.as_bytes();
        if !bytes.first().is_some_and(u8::is_ascii_digit) {
            return Err(error(0, "a version starts with a digit"));
        }
        let mut parts = Vec::new();
        let mut number = String::new();
        let mut unstable = false;
        for (at, &b) in bytes.iter().enumerate() {
            let prev = if at == 0 { b'0' } else { bytes[at - 1] };
            match b {
                b'0'..=b'9' => number.push(char::from(b)),
                b'.' | b'a' | b'b' => {
                    if !prev.is_ascii_digit() {
                        return Err(error(at, "separators must sit between numbers"));
                    }
                    if b != b'.' {
                        if unstable {
                            return Err(error(at, "only one `a` or `b` is allowed"));
                        }
                        unstable = true;
                    }
                    parts.push(Part::Number(
                        std::mem::take(&mut number)
                            .trim_start_matches('0')
                            .to_owned(),
                    ));
                    match b {
                        b'a' => parts.push(Part::Negative(2)),
                        b'b' => parts.push(Part::Negative(1)),
                        _ => {}
                    }
                }
                _ => return Err(error(at, "only digits, `.`, `a` and `b` are allowed")),
            }
        }
        if !number.is_empty() {
            parts.push(Part::Number(number.trim_start_matches('0').to_owned()));
        } else {
            return Err(error(input.len() - 1, "a version ends with a number"));
        }
        Ok(Self {
            text: input.to_owned(),
            parts,
        })
    }

    /// Has an `a` or `b`.
    pub fn is_prerelease(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Negative(_)))
    }

    /// `CompareVersions`: the order, and whether the first difference is in the major number.
    fn compare(&self, other: &Self) -> (Ordering, bool) {
        let zero = Part::Number(String::new());
        for i in 0..self.parts.len().max(other.parts.len()) {
            let a = self.parts.get(i).unwrap_or(&zero);
            let b = other.parts.get(i).unwrap_or(&zero);
            let ord = cmp_part(a, b);
            if ord != Ordering::Equal {
                return (ord, i == 0);
            }
        }
        (Ordering::Equal, false)
    }

    /// This version padded with `a0` (one more `-2` part), as requirements are.
    fn padded(&self) -> Self {
        let mut parts = self.parts.clone();
        parts.push(Part::Negative(2));
        Self {
            text: format!("{}a0", self.text),
            parts,
        }
    }
}

impl Ord for TclVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.compare(other).0
    }
}

impl PartialOrd for TclVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for TclVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for TclVersion {}

impl fmt::Display for TclVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One `package require` / `vsatisfies` requirement: `min`, `min-` or `min-max`.
#[derive(Debug, Clone)]
pub enum TclRequirement {
    /// `min`: from `min` to the next major version.
    MinBounded(TclVersion),
    /// `min-`: from `min` on.
    MinUnbounded(TclVersion),
    /// `min-max`: from `min` to `max` (excluded), or exactly `min` when both are equal.
    Bounded(TclVersion, TclVersion),
}

impl TclRequirement {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let shift = |err: VersionError, offset: usize| {
            let span = err.span();
            VersionError::new(
                Ecosystem::Tcl,
                "requirement",
                input,
                span.start + offset..span.end + offset,
                err.reason(),
            )
        };
        match input.split_once('-') {
            None => TclVersion::parse_as(input, "requirement").map(TclRequirement::MinBounded),
            Some((min, max)) => {
                if let Some(extra) = max.find('-') {
                    let at = min.len() + 1 + extra;
                    return Err(VersionError::new(
                        Ecosystem::Tcl,
                        "requirement",
                        input,
                        at..at + 1,
                        "expected `min`, `min-` or `min-max`",
                    ));
                }
                let min_version = TclVersion::parse(min).map_err(|e| shift(e, 0))?;
                if max.is_empty() {
                    return Ok(TclRequirement::MinUnbounded(min_version));
                }
                let max_version = TclVersion::parse(max).map_err(|e| shift(e, min.len() + 1))?;
                Ok(TclRequirement::Bounded(min_version, max_version))
            }
        }
    }

    /// `RequirementSatisfied` in `tclPkg.c`.
    pub fn satisfied_by(&self, version: &TclVersion) -> bool {
        match self {
            TclRequirement::MinBounded(min) => {
                let (ord, major) = version.compare(&min.padded());
                ord == Ordering::Equal || (ord == Ordering::Greater && !major)
            }
            TclRequirement::MinUnbounded(min) => version >= &min.padded(),
            TclRequirement::Bounded(min, max) if min == max => version == min,
            TclRequirement::Bounded(min, max) => {
                &min.padded() <= version && version < &max.padded()
            }
        }
    }
}

/// `package vsatisfies version requirement…`: true if ANY requirement holds. No requirement at
/// all is `0-` (every version).
pub fn vsatisfies(version: &TclVersion, requirements: &[TclRequirement]) -> bool {
    requirements.is_empty() || requirements.iter().any(|r| r.satisfied_by(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> TclVersion {
        TclVersion::parse(s).unwrap()
    }

    fn sat(version: &str, requirement: &str) -> bool {
        TclRequirement::parse(requirement)
            .unwrap()
            .satisfied_by(&v(version))
    }

    #[test]
    fn alpha_and_beta_sort_before_the_release() {
        assert!(v("8.5a1") < v("8.5b1"));
        assert!(v("8.5b1") < v("8.5"));
        assert!(v("8.5") < v("8.5.1"));
        assert_eq!(v("1.3"), v("1.3.0.0"));
        assert_eq!(v("1.03"), v("1.3"));
    }

    #[test]
    fn requirement_forms() {
        // min: same major, at or above min (padded with a0, so alphas of min count).
        assert!(sat("8.5", "8.5"));
        assert!(sat("8.6.13", "8.5"));
        assert!(sat("8.5a1", "8.5"));
        assert!(!sat("9.0", "8.5"));
        assert!(!sat("8.4", "8.5"));
        // min-: no upper bound.
        assert!(sat("9.0", "8.5-"));
        // min-max: max excluded, and alphas of max too.
        assert!(sat("8.6", "8.5-9"));
        assert!(!sat("9", "8.5-9"));
        assert!(!sat("9a1", "8.5-9"));
        // V-V: exactly V.
        assert!(sat("8.5", "8.5-8.5"));
        assert!(!sat("8.5.1", "8.5-8.5"));
        let reqs = [
            TclRequirement::parse("8.4").unwrap(),
            TclRequirement::parse("9-").unwrap(),
        ];
        assert!(vsatisfies(&v("9.1"), &reqs));
        assert!(!vsatisfies(&v("8.3"), &reqs));
    }

    #[test]
    fn bad_versions_point_at_the_bad_part() {
        assert_eq!(TclVersion::parse("8.5a1b2").unwrap_err().span(), 5..6);
        assert_eq!(TclVersion::parse("8..5").unwrap_err().span(), 2..3);
        assert_eq!(TclVersion::parse("8.5.").unwrap_err().span(), 3..4);
        assert_eq!(TclVersion::parse("v8").unwrap_err().span(), 0..1);
        assert_eq!(TclRequirement::parse("8-9-10").unwrap_err().span(), 3..4);
        assert_eq!(TclRequirement::parse("8-9x").unwrap_err().span(), 3..4);
    }
}
