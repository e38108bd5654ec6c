//! CPAN (Perl) versions as `version.pm` compares them: decimal (`1.002003`) and dotted-decimal
//! (`v1.2.3`) forms.
//!
//! Traps:
//! - A decimal version is a number, not a list: `1.10 < 1.9` (1.100 against 1.900). It maps to
//!   a dotted version by cutting the fraction into groups of three digits, padded on the right:
//!   `1.002003 == v1.2.3`, `1.2 == v1.200.0`.
//! - A version is dotted-decimal when it starts with `v` or has two or more dots; `1.2.3` is
//!   `v1.2.3`, but `1.2` is decimal.
//! - Dotted versions have at least three parts (`v1.2 == v1.2.0`); trailing zero parts do not
//!   change the order.
//! - An underscore marks a developer ("alpha") release and is otherwise ignored, as in
//!   `version.pm` 0.9913 and later: `1.002_003 == 1.002003`, `v1.2_3 == v1.23`.

use std::cmp::Ordering;
use std::fmt;

use runbom_model::Ecosystem;

use crate::VersionError;

/// A Perl module or distribution version.
#[derive(Debug, Clone)]
pub struct CpanVersion {
    text: String,
    /// Digits without leading zeros (empty for zero), dotted-decimal equivalent.
    parts: Vec<String>,
    alpha: bool,
}

impl CpanVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let offset = input.len() - input.trim_start().len();
        let text = input.trim();
        let error = |at: usize, len: usize, reason: &str| {
            VersionError::new(
                Ecosystem::Cpan,
                "version",
                input,
                offset + at..offset + at + len.max(1),
                reason,
            )
        };
        if text.is_empty() {
            return Err(error(0, input.len(), "empty version"));
        }
        if let Some(pos) =
            text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == 'v'))
        {
            return Err(error(
                pos,
                1,
                "only digits, `.`, `_` and a leading `v` are allowed",
            ));
        }
        if let Some(pos) = text[1..].find('v') {
            return Err(error(pos + 1, 1, "`v` may only lead the version"));
        }
        let alpha = text.contains('_');
        if let Some(underscore) = text.find('_') {
            // version.pm: one `_`, after a `.`, between digits, with only digits after it.
            let before = text[..underscore].chars().last();
            let after = &text[underscore + 1..];
            let reason = if text.matches('_').count() > 1 {
                "only one `_` is allowed"
            } else if !text[..underscore].contains('.') {
                "a `_` needs a `.` before it"
            } else if !before.is_some_and(|c| c.is_ascii_digit()) {
                "a `_` must follow a digit"
            } else if after.is_empty() || !after.bytes().all(|b| b.is_ascii_digit()) {
                "only digits may follow the `_`"
            } else {
                ""
            };
            if !reason.is_empty() {
                return Err(error(underscore, 1, reason));
            }
        }
        let dotted = text.starts_with('v') || text.matches('.').count() >= 2;
        let parts = if dotted {
            let body = text.strip_prefix('v').unwrap_or(text);
            let start = text.len() - body.len();
            let mut parts = Vec::new();
            let mut at = start;
            for part in body.split('.') {
                let digits: String = part.chars().filter(|c| *c != '_').collect();
                if digits.is_empty() {
                    return Err(error(at, part.len(), "expected a number between dots"));
                }
                parts.push(digits.trim_start_matches('0').to_owned());
                at += part.len() + 1;
            }
            while parts.len() < 3 {
                parts.push(String::new());
            }
            parts
        } else {
            let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
            let integer: String = integer.chars().filter(|c| *c != '_').collect();
            let fraction: String = fraction.chars().filter(|c| *c != '_').collect();
            if integer.is_empty() && fraction.is_empty() {
                return Err(error(0, text.len(), "expected a number"));
            }
            let mut parts = vec![integer.trim_start_matches('0').to_owned()];
            let mut groups = fraction.clone();
            while !groups.len().is_multiple_of(3) {
                groups.push('0');
            }
            for chunk in groups.as_bytes().chunks(3) {
                let group = String::from_utf8_lossy(chunk);
                parts.push(group.trim_start_matches('0').to_owned());
            }
            parts
        };
        Ok(Self {
            text: text.to_owned(),
            parts,
            alpha,
        })
    }

    /// A developer release (`1.23_01`).
    pub fn is_alpha(&self) -> bool {
        self.alpha
    }

    /// The dotted-decimal equivalent, `v1.2.3`.
    pub fn normal(&self) -> String {
        let parts: Vec<&str> = self
            .parts
            .iter()
            .map(|p| if p.is_empty() { "0" } else { p.as_str() })
            .collect();
        let mut normal = format!("v{}", parts.join("."));
        for _ in parts.len()..3 {
            normal.push_str(".0");
        }
        normal
    }
}

impl Ord for CpanVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = String::new();
        for i in 0..self.parts.len().max(other.parts.len()) {
            let a = self.parts.get(i).unwrap_or(&zero);
            let b = other.parts.get(i).unwrap_or(&zero);
            let ord = a.len().cmp(&b.len()).then_with(|| a.cmp(b));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for CpanVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for CpanVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for CpanVersion {}

impl fmt::Display for CpanVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> CpanVersion {
        CpanVersion::parse(s).unwrap()
    }

    #[test]
    fn decimal_versions_are_numbers() {
        assert!(v("1.10") < v("1.9"));
        assert_eq!(v("1.002003"), v("v1.2.3"));
        assert_eq!(v("1.2").normal(), "v1.200.0");
        assert_eq!(v("1.0001").normal(), "v1.0.100");
        assert_eq!(v("1.2.3"), v("v1.2.3"));
        assert_eq!(v("v1.2"), v("v1.2.0"));
        assert_eq!(v("5"), v("5.000"));
        assert!(v("0.99") < v("1"));
    }

    #[test]
    fn underscores_mark_alpha_and_are_ignored() {
        assert!(v("1.002_003").is_alpha());
        assert_eq!(v("1.002_003"), v("1.002003"));
        assert_eq!(v("v1.2_3"), v("v1.23"));
    }

    #[test]
    fn bad_versions_point_at_the_bad_part() {
        assert_eq!(CpanVersion::parse("1.2x").unwrap_err().span(), 3..4);
        assert_eq!(CpanVersion::parse("v1..2").unwrap_err().span(), 3..4);
        assert_eq!(CpanVersion::parse("1_2_3").unwrap_err().span(), 1..2);
        assert_eq!(CpanVersion::parse("1.2_3.4").unwrap_err().span(), 3..4);
        assert!(CpanVersion::parse("").is_err());
        assert!(CpanVersion::parse("1v").is_err());
    }
}
