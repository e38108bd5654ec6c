//! RubyGems versions and requirements, as `Gem::Version` and `Gem::Requirement` define them.
//!
//! Traps:
//! - Any letter makes a version a pre-release, and letters sort *below* numbers: `1.0.a < 1.0`,
//!   `5.a < 5.0.0.rc2` but `5.x > 5.0.0.rc2`.
//! - `-` means `.pre.`: `1.0.0-alpha` is `1.0.0.pre.alpha`.
//! - Segments are split at letter/digit boundaries (`1.0.a10` is `1, 0, "a", 10`), and trailing
//!   zeros are dropped from the numeric and from the pre-release part before comparing
//!   (canonical segments): `1.0 == 1.0.0`, `0.beta.1 == 0.0.beta.1`.
//! - An empty or blank string is version `0`.
//! - `~> 1.2.3` means `>= 1.2.3, < 1.3` and compares the *release* of the candidate (letters
//!   dropped), so `~> 1.0` does not match `2.0.a`. `Requirement#satisfied_by?` does not exclude
//!   pre-releases otherwise.

use std::cmp::Ordering;
use std::fmt;

use runbom_model::Ecosystem;

use crate::VersionError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Digits without leading zeros (`0` for zero); compared as an unbounded number.
    Number(String),
    Letters(String),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(n) if n == "0")
    }
}

/// A `Gem::Version`.
#[derive(Debug, Clone)]
pub struct GemVersion {
    /// As written, with `-` already turned into `.pre.`, trimmed.
    text: String,
    segments: Vec<Segment>,
}

impl GemVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let error = |span: std::ops::Range<usize>, reason: &str| {
            VersionError::new(Ecosystem::RubyGems, "version", input, span, reason)
        };
        let offset = input.len() - input.trim_start().len();
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Ok(Self {
                text: "0".to_owned(),
                segments: vec![Segment::Number("0".to_owned())],
            });
        }
        // VERSION_PATTERN: [0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?
        let (main, pre) = match trimmed.find('-') {
            Some(dash) => (&trimmed[..dash], Some(&trimmed[dash + 1..])),
            None => (trimmed, None),
        };
        let mut at = offset;
        for (index, part) in main.split('.').enumerate() {
            let bad = part.is_empty()
                || !part.bytes().all(|b| b.is_ascii_alphanumeric())
                || (index == 0 && !part.bytes().all(|b| b.is_ascii_digit()));
            if bad {
                let reason = if index == 0 {
                    "a version starts with a number"
                } else {
                    "segments are letters and digits separated by `.`"
                };
                let end = (at + part.len()).max(at + 1);
                return Err(error(at..end, reason));
            }
            at += part.len() + 1;
        }
        if let Some(pre) = pre {
            let mut at = offset + main.len() + 1;
            for part in pre.split('.') {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    let end = (at + part.len()).max(at + 1);
                    return Err(error(
                        at..end,
                        "pre-release parts are letters, digits and `-`",
                    ));
                }
                at += part.len() + 1;
            }
        }
        let text = trimmed.replace('-', ".pre.");
        Ok(Self {
            segments: scan_segments(&text),
            text,
        })
    }

    /// Any letter makes a pre-release.
    pub fn is_prerelease(&self) -> bool {
        self.text.bytes().any(|b| b.is_ascii_alphabetic())
    }

    /// The version without its pre-release part (`1.2.a` -> `1.2`); `Gem::Version#release`.
    pub fn release(&self) -> GemVersion {
        if !self.is_prerelease() {
            return self.clone();
        }
        let mut segments = self.segments.clone();
        while segments.iter().any(|s| matches!(s, Segment::Letters(_))) {
            segments.pop();
        }
        Self::from_segments(segments)
    }

    /// `Gem::Version#bump`: drop pre-release parts and the last number, then increment the new
    /// last number (`1.2.3` -> `1.3`, `5` -> `6`).
    pub fn bump(&self) -> GemVersion {
        let mut segments = self.segments.clone();
        while segments.iter().any(|s| matches!(s, Segment::Letters(_))) {
            segments.pop();
        }
        if segments.len() > 1 {
            segments.pop();
        }
        if let Some(Segment::Number(last)) = segments.last_mut() {
            *last = increment(last);
        }
        Self::from_segments(segments)
    }

    fn from_segments(segments: Vec<Segment>) -> Self {
        let segments = if segments.is_empty() {
            vec![Segment::Number("0".to_owned())]
        } else {
            segments
        };
        let text = segments
            .iter()
            .map(|s| match s {
                Segment::Number(n) | Segment::Letters(n) => n.as_str(),
            })
            .collect::<Vec<_>>()
            .join(".");
        Self { text, segments }
    }

    /// Numeric segments then the rest, each with trailing zeros dropped.
    fn canonical_segments(&self) -> Vec<&Segment> {
        let split = self
            .segments
            .iter()
            .position(|s| matches!(s, Segment::Letters(_)))
            .unwrap_or(self.segments.len());
        let (numbers, rest) = self.segments.split_at(split);
        let trim = |part: &'_ [Segment]| {
            let mut end = part.len();
            while end > 0 && part[end - 1].is_zero() {
                end -= 1;
            }
            end
        };
        let mut out: Vec<&Segment> = numbers[..trim(numbers)].iter().collect();
        out.extend(rest[..trim(rest)].iter());
        out
    }
}

/// `@version.scan(/[0-9]+|[a-z]+/i)`, numbers without leading zeros.
fn scan_segments(text: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = text[start..i].trim_start_matches('0');
            segments.push(Segment::Number(
                if digits.is_empty() { "0" } else { digits }.to_owned(),
            ));
        } else if bytes[i].is_ascii_alphabetic() {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            segments.push(Segment::Letters(text[start..i].to_owned()));
        } else {
            i += 1;
        }
    }
    segments
}

fn increment(number: &str) -> String {
    let mut digits: Vec<u8> = number.bytes().collect();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, b'1');
            break;
        }
        i -= 1;
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            break;
        }
    }
    String::from_utf8(digits).unwrap_or_default()
}

fn cmp_number(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for GemVersion {
    /// `Gem::Version#<=>`.
    fn cmp(&self, other: &Self) -> Ordering {
        if self.text == other.text {
            return Ordering::Equal;
        }
        let zero = Segment::Number("0".to_owned());
        let (left, right) = (self.canonical_segments(), other.canonical_segments());
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i).copied().unwrap_or(&zero);
            let r = right.get(i).copied().unwrap_or(&zero);
            let ord = match (l, r) {
                (Segment::Number(a), Segment::Number(b)) => cmp_number(a, b),
                (Segment::Letters(a), Segment::Letters(b)) => a.cmp(b),
                (Segment::Letters(_), Segment::Number(_)) => Ordering::Less,
                (Segment::Number(_), Segment::Letters(_)) => Ordering::Greater,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}

impl fmt::Display for GemVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An operator of a `Gem::Requirement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GemOperator {
    Equal,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    /// `~>`, the pessimistic operator.
    Pessimistic,
}

impl GemOperator {
    pub fn as_str(self) -> &'static str {
        match self {
            GemOperator::Equal => "=",
            GemOperator::NotEqual => "!=",
            GemOperator::Greater => ">",
            GemOperator::Less => "<",
            GemOperator::GreaterEqual => ">=",
            GemOperator::LessEqual => "<=",
            GemOperator::Pessimistic => "~>",
        }
    }
}

/// A `Gem::Requirement`: comma-separated constraints that must all hold (`~> 1.2, >= 1.2.3`).
#[derive(Debug, Clone)]
pub struct GemRequirement {
    constraints: Vec<(GemOperator, GemVersion)>,
}

impl GemRequirement {
    /// Parses `>= 1.0, < 2` (one string, comma-separated); a bare version means `=`; blank
    /// means `>= 0`.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let mut constraints = Vec::new();
        let mut start = 0;
        for part in input.split(',') {
            constraints.push(parse_constraint(input, start, part)?);
            start += part.len() + 1;
        }
        Ok(Self { constraints })
    }

    /// Parses several requirement strings (as a YAML list holds them) into one requirement
    /// that needs all of them.
    pub fn parse_all<'a>(inputs: impl IntoIterator<Item = &'a str>) -> Result<Self, VersionError> {
        let mut constraints = Vec::new();
        for input in inputs {
            constraints.extend(Self::parse(input)?.constraints);
        }
        Ok(Self { constraints })
    }

    /// `Gem::Requirement#satisfied_by?`.
    pub fn satisfied_by(&self, version: &GemVersion) -> bool {
        self.constraints.iter().all(|(op, r)| match op {
            GemOperator::Equal => version == r,
            GemOperator::NotEqual => version != r,
            GemOperator::Greater => version > r,
            GemOperator::Less => version < r,
            GemOperator::GreaterEqual => version >= r,
            GemOperator::LessEqual => version <= r,
            GemOperator::Pessimistic => version >= r && version.release() < r.bump(),
        })
    }

    pub fn constraints(&self) -> impl Iterator<Item = (GemOperator, &GemVersion)> {
        self.constraints.iter().map(|(op, v)| (*op, v))
    }
}

impl fmt::Display for GemRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .constraints
            .iter()
            .map(|(op, v)| format!("{} {v}", op.as_str()))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

fn parse_constraint(
    input: &str,
    start: usize,
    part: &str,
) -> Result<(GemOperator, GemVersion), VersionError> {
    let lead = part.len() - part.trim_start().len();
    let body = part.trim();
    if body.is_empty() {
        if input.trim().is_empty() {
            return Ok((GemOperator::GreaterEqual, GemVersion::parse("0")?));
        }
        return Err(VersionError::new(
            Ecosystem::RubyGems,
            "requirement",
            input,
            start..start + part.len().max(1),
            "empty constraint",
        ));
    }
    let operators = [
        ("~>", GemOperator::Pessimistic),
        (">=", GemOperator::GreaterEqual),
        ("<=", GemOperator::LessEqual),
        ("!=", GemOperator::NotEqual),
        ("=", GemOperator::Equal),
        (">", GemOperator::Greater),
        ("<", GemOperator::Less),
    ];
    let (op, rest) = match operators.iter().find(|(text, _)| body.starts_with(text)) {
        Some((text, op)) => (*op, &body[text.len()..]),
        None => (GemOperator::Equal, body),
    };
    let version_at =
        start + lead + (body.len() - rest.len()) + (rest.len() - rest.trim_start().len());
    if rest.trim().is_empty() && op != GemOperator::Equal {
        return Err(VersionError::new(
            Ecosystem::RubyGems,
            "requirement",
            input,
            start + lead..start + lead + body.len(),
            "missing version after operator",
        ));
    }
    let version = GemVersion::parse(rest).map_err(|err| {
        let span = err.span();
        let skipped = rest.len() - rest.trim_start().len();
        VersionError::new(
            Ecosystem::RubyGems,
            "requirement",
            input,
            version_at + span.start.saturating_sub(skipped)
                ..version_at + span.end.saturating_sub(skipped),
            err.reason(),
        )
    })?;
    Ok((op, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GemVersion {
        GemVersion::parse(s).unwrap()
    }

    #[test]
    fn letters_sort_below_numbers() {
        assert!(v("1.0.a") < v("1.0"));
        assert!(v("5.a") < v("5.0.0.rc2"));
        assert!(v("5.x") > v("5.0.0.rc2"));
        assert_eq!(v("0.beta.1"), v("0.0.beta.1"));
        assert_eq!(v("1.0.0-alpha").to_string(), "1.0.0.pre.alpha");
    }

    #[test]
    fn pessimistic_operator() {
        let r = GemRequirement::parse("~> 1.2.3").unwrap();
        assert!(r.satisfied_by(&v("1.2.9")));
        assert!(!r.satisfied_by(&v("1.3")));
        let r = GemRequirement::parse("~> 1.0").unwrap();
        assert!(!r.satisfied_by(&v("2.0.a")));
        assert!(r.satisfied_by(&v("1.9")));
    }

    #[test]
    fn bad_input_points_at_the_bad_part() {
        let err = GemVersion::parse("1..2").unwrap_err();
        assert_eq!(err.span(), 2..3);
        let err = GemRequirement::parse(">= 1.0, < 2.x!").unwrap_err();
        assert_eq!(&err.input()[err.span()], "x!");
        assert!(GemVersion::parse("junk").is_err());
        assert!(GemVersion::parse("1.0\n2.0").is_err());
        assert!(
            GemVersion::parse("2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.")
                .is_err()
        );
    }
}
