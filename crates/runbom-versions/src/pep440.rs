//! PEP 440 (PyPI) versions and specifier sets, agreeing with Python's `packaging` 26.
//!
//! Versions are parsed and ordered by `pep440_rs`. Specifiers are matched here, because
//! `pep440_rs::VersionSpecifier::contains` differs from `packaging` in corners that decide
//! whether a vulnerability is reported:
//! - `<V` excludes every pre-release *and dev release* of `V` (`<2.0` rejects `2.0.dev1` and
//!   `2.0rc1`) unless `V` is itself a pre-release; `>V` excludes post-releases and local versions
//!   of `V` unless `V` is a post-release.
//! - `<=V`, `==V` and `!=V` (with `V` without a local label) treat `V+anything` as `V`.
//! - `===` compares raw strings case-insensitively and accepts strings that are not versions.
//! - Since `packaging` 26, a single version with `prereleases=None` is matched on the ranges
//!   alone: `1.5a1 in SpecifierSet(">=1.0")` is true. Only an explicit `prereleases=False` drops
//!   pre-releases.
//! - `pep440_rs` accepts non-ASCII letters that `packaging` rejects (`1.0+İ`); they are rejected
//!   here first.
//! - `packaging`'s release numbers are Python integers, unbounded (PyPI holds
//!   `20210609131134657401`); `pep440_rs` stores `u64`. A release with a wider number is kept
//!   here as decimal digits beside a `pep440_rs` version holding `u64::MAX` in its place.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;
use runbom_model::Ecosystem;

use crate::VersionError;

/// A PEP 440 version.
#[derive(Debug, Clone)]
pub struct Pep440Version {
    version: Version,
    /// The release numbers as decimal digits without leading zeros, kept only when one of them
    /// does not fit a `u64` (`version` then holds `u64::MAX` in its place).
    wide_release: Option<Box<[Box<str>]>>,
}

impl Pep440Version {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        parse_wide(input, "version")
    }

    /// The `pep440_rs` version, for callers that need its accessors (a release number wider
    /// than a `u64` reads as `u64::MAX` there).
    pub fn as_pep440(&self) -> &Version {
        &self.version
    }

    /// A pre-release or dev release, as `packaging`'s `Version.is_prerelease`.
    pub fn is_prerelease(&self) -> bool {
        self.version.any_prerelease()
    }

    fn narrow(version: Version) -> Self {
        Self {
            version,
            wide_release: None,
        }
    }

    /// The same version changed by `change` in anything but its release numbers.
    fn map(&self, change: impl FnOnce(Version) -> Version) -> Self {
        Self {
            version: change(self.version.clone()),
            wide_release: self.wide_release.clone(),
        }
    }

    /// The release numbers as written (normalised digits), trailing zeros kept.
    fn release_numbers(&self) -> Vec<String> {
        match &self.wide_release {
            Some(wide) => wide.iter().map(|d| d.to_string()).collect(),
            None => self.version.release().iter().map(u64::to_string).collect(),
        }
    }

    /// The release numbers as digits, trailing zeros trimmed (`1.0.0` is `1`).
    fn release_digits(&self) -> Vec<std::borrow::Cow<'_, str>> {
        let mut digits: Vec<std::borrow::Cow<'_, str>> = match &self.wide_release {
            Some(wide) => wide
                .iter()
                .map(|d| std::borrow::Cow::Borrowed(&**d))
                .collect(),
            None => self
                .version
                .release()
                .iter()
                .map(|n| std::borrow::Cow::Owned(n.to_string()))
                .collect(),
        };
        while digits.len() > 1 && digits.last().is_some_and(|d| d == "0") {
            digits.pop();
        }
        digits
    }
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440Version {}

impl std::hash::Hash for Pep440Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.version.hash(state);
        if self.wide_release.is_some() {
            self.release_digits().hash(state);
        }
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        if self.wide_release.is_none() && other.wide_release.is_none() {
            return self.version.cmp(&other.version);
        }
        let rest = |v: &Version| v.clone().with_release([0]);
        self.version
            .epoch()
            .cmp(&other.version.epoch())
            .then_with(|| cmp_releases(&self.release_digits(), &other.release_digits()))
            .then_with(|| rest(&self.version).cmp(&rest(&other.version)))
    }
}

/// Compares trimmed release numbers given as digits without leading zeros.
fn cmp_releases<S: AsRef<str>>(a: &[S], b: &[S]) -> Ordering {
    let number = |d: &str| (d.len(), d.to_owned());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).map_or("0", |d| d.as_ref());
        let y = b.get(i).map_or("0", |d| d.as_ref());
        match number(x).cmp(&number(y)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
    }
    Ordering::Equal
}

/// Parses a version whose release numbers may be wider than a `u64`: those are replaced by
/// `u64::MAX` for `pep440_rs` and kept as digits.
fn parse_wide(input: &str, what: &'static str) -> Result<Pep440Version, VersionError> {
    let Some((release, narrowed)) = widen_release(input) else {
        return parse_version(input, what).map(Pep440Version::narrow);
    };
    let version = parse_version(&narrowed, what)?;
    Ok(Pep440Version {
        version,
        wide_release: Some(release),
    })
}

/// When `input`'s release holds a number wider than a `u64`: its release numbers (as digits
/// without leading zeros) and `input` with those numbers replaced by `u64::MAX`.
fn widen_release(input: &str) -> Option<(Box<[Box<str>]>, String)> {
    let trimmed = input.trim();
    let body = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
    let prefix_len = trimmed.len() - body.len();
    let release_start = body.find('!').map_or(0, |bang| bang + 1);
    let release_len = body[release_start..]
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len() - release_start);
    let release = body[release_start..release_start + release_len].trim_end_matches('.');
    let numbers: Vec<&str> = release.split('.').collect();
    if numbers.iter().any(|n| n.is_empty()) || numbers.iter().all(|n| n.parse::<u64>().is_ok()) {
        return None;
    }
    let digits: Box<[Box<str>]> = numbers
        .iter()
        .map(|n| {
            let n = n.trim_start_matches('0');
            Box::from(if n.is_empty() { "0" } else { n })
        })
        .collect();
    let narrowed_release: Vec<String> = numbers
        .iter()
        .map(|n| {
            n.parse::<u64>()
                .map_or_else(|_| u64::MAX.to_string(), |_| (*n).to_owned())
        })
        .collect();
    let start = prefix_len + release_start;
    let narrowed = format!(
        "{}{}{}",
        &trimmed[..start],
        narrowed_release.join("."),
        &trimmed[start + release.len()..]
    );
    Some((digits, narrowed))
}

impl fmt::Display for Pep440Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(wide) = &self.wide_release else {
            return self.version.fmt(f);
        };
        let release = wide.join(".");
        let narrow = self.version.release().iter().map(u64::to_string);
        let narrow = narrow.collect::<Vec<_>>().join(".");
        let text = self.version.to_string();
        match text.find(&narrow) {
            Some(at) => write!(f, "{}{release}{}", &text[..at], &text[at + narrow.len()..]),
            None => f.write_str(&text),
        }
    }
}

fn parse_version(input: &str, what: &'static str) -> Result<Version, VersionError> {
    let trimmed = input.trim();
    let offset = input.len() - input.trim_start().len();
    if let Some(pos) = trimmed.find(|c: char| !c.is_ascii()) {
        return Err(VersionError::new(
            Ecosystem::PyPi,
            what,
            input,
            offset + pos..offset + pos + 1,
            "PEP 440 versions are ASCII only",
        ));
    }
    if trimmed.is_empty() {
        return Err(VersionError::new(
            Ecosystem::PyPi,
            what,
            input,
            0..input.len(),
            "empty version",
        ));
    }
    Version::from_str(trimmed).map_err(|err| {
        let reason = err.to_string();
        let span = locate_pep440_error(trimmed, &reason);
        VersionError::new(
            Ecosystem::PyPi,
            what,
            input,
            offset + span.start..offset + span.end,
            reason,
        )
    })
}

/// Where in `input` a `pep440_rs` error points. Its error type carries no offsets, but the
/// message quotes the unparsed rest (`found `foo``) or the offending character.
fn locate_pep440_error(input: &str, reason: &str) -> std::ops::Range<usize> {
    if let Some(rest) = reason
        .split("found `")
        .nth(1)
        .and_then(|s| s.split('`').next())
        && !rest.is_empty()
        && input.ends_with(rest)
    {
        return input.len() - rest.len()..input.len();
    }
    if reason.contains("expected version to start with a number") {
        let end = input
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(input.len());
        return 0..end.max(1);
    }
    if reason.contains("local") {
        // `1.0+` or `1.0+a..b`: point at the `+` onwards.
        if let Some(pos) = input.find('+') {
            return pos..input.len();
        }
    }
    if reason.contains("wildcards")
        && let Some(pos) = input.find('*')
    {
        return pos..pos + 1;
    }
    0..input.len()
}

/// A comparison operator of a PEP 440 specifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `~=`
    Compatible,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// `<=`
    LessEqual,
    /// `>=`
    GreaterEqual,
    /// `<`
    Less,
    /// `>`
    Greater,
    /// `===`
    Arbitrary,
}

impl Operator {
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Compatible => "~=",
            Operator::Equal => "==",
            Operator::NotEqual => "!=",
            Operator::LessEqual => "<=",
            Operator::GreaterEqual => ">=",
            Operator::Less => "<",
            Operator::Greater => ">",
            Operator::Arbitrary => "===",
        }
    }
}

/// What a specifier compares against.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A full version; `has_local` says whether the specifier spelled a `+local` label.
    Version {
        version: Pep440Version,
        has_local: bool,
    },
    /// `~=V` (from `V`) and `==V.*` / `!=V.*` (from `V.dev0`): up to the next release prefix's
    /// `.dev0` (`~=1.4.2` below `1.5.dev0`, `==1.2.*` below `1.3.dev0`).
    Range {
        from: Pep440Version,
        below: Pep440Version,
    },
    /// `===text`: compared as a string.
    Text(String),
}

/// One PEP 440 specifier, e.g. `>=1.0` or `==1.2.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep440Specifier {
    operator: Operator,
    target: Target,
    text: String,
}

impl Pep440Specifier {
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// Whether `version` satisfies this specifier, ignoring any pre-release policy.
    pub fn contains(&self, version: &Pep440Version) -> bool {
        let v = version;
        match (&self.target, self.operator) {
            (Target::Text(text), _) => v.to_string().eq_ignore_ascii_case(text),
            (Target::Range { from, below }, Operator::NotEqual) => !(v >= from && v < below),
            (Target::Range { from, below }, _) => v >= from && v < below,
            (Target::Version { version: spec, .. }, Operator::GreaterEqual) => v >= spec,
            (Target::Version { version: spec, .. }, Operator::LessEqual) => {
                v <= spec || same_public(v, spec)
            }
            (Target::Version { version: spec, .. }, Operator::Less) => {
                let bound = if spec.is_prerelease() {
                    spec.clone()
                } else {
                    spec.map(|s| s.with_dev(Some(0)).without_local())
                };
                v < &bound
            }
            (Target::Version { version: spec, .. }, Operator::Greater) => greater(v, spec),
            (
                Target::Version {
                    version: spec,
                    has_local,
                },
                Operator::Equal | Operator::NotEqual,
            ) => {
                let equal = if *has_local {
                    v == spec
                } else {
                    v == spec || same_public(v, spec)
                };
                equal == (self.operator == Operator::Equal)
            }
            (Target::Version { .. }, Operator::Compatible | Operator::Arbitrary) => false,
        }
    }

    /// `===` against a raw string: `packaging` compares the string as given, lower-cased.
    fn contains_text(&self, raw: &str) -> Option<bool> {
        match &self.target {
            Target::Text(text) => Some(raw.trim().eq_ignore_ascii_case(text)),
            _ => None,
        }
    }
}

impl fmt::Display for Pep440Specifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `v` has the same epoch, release (ignoring trailing zeros), pre, post and dev as `spec`, and
/// so differs at most in its local label: `packaging`'s "local family" of `spec`.
fn same_public(v: &Pep440Version, spec: &Pep440Version) -> bool {
    let (a, b) = (v.as_pep440(), spec.as_pep440());
    a.epoch() == b.epoch()
        && v.release_digits() == spec.release_digits()
        && a.pre() == b.pre()
        && a.post() == b.post()
        && a.dev() == b.dev()
}

/// `>V`: above `V` and not a post-release or local version of `V` (unless `V` is a post or dev
/// release, which have their own next version).
fn greater(v: &Pep440Version, spec: &Pep440Version) -> bool {
    let s = spec.as_pep440();
    if let Some(dev) = s.dev() {
        return v >= &spec.map(|s| s.with_dev(Some(dev + 1)).without_local());
    }
    if let Some(post) = s.post() {
        return v
            >= &spec.map(|s| {
                s.with_post(Some(post + 1))
                    .with_dev(Some(0))
                    .without_local()
            });
    }
    if v <= spec {
        return false;
    }
    !(v.as_pep440().epoch() == s.epoch()
        && v.release_digits() == spec.release_digits()
        && v.as_pep440().pre() == s.pre())
}

/// `V.dev0` of a release prefix `V` (`1.2` -> `1.2.dev0`): the first version `==V.*` holds.
fn prefix_dev0(base: &Pep440Version) -> Pep440Version {
    base.map(|b| {
        Version::new(b.release().iter().copied())
            .with_epoch(b.epoch())
            .with_dev(Some(0))
    })
}

/// The first `len` release numbers of `version` with the last one incremented, as `.dev0`
/// (`1.2`, 2 -> `1.3.dev0`): the first version above that release prefix.
fn next_prefix_dev0(version: &Pep440Version, len: usize) -> Pep440Version {
    let mut numbers = version.release_numbers();
    numbers.truncate(len);
    if let Some(last) = numbers.last_mut() {
        *last = increment_decimal(last);
    }
    let text = format!("{}!{}.dev0", version.as_pep440().epoch(), numbers.join("."));
    parse_wide(&text, "specifier").unwrap_or_else(|_| prefix_dev0(version))
}

/// `"199"` -> `"200"`: a decimal number of any size plus one.
fn increment_decimal(digits: &str) -> String {
    let mut bytes = digits.as_bytes().to_vec();
    for byte in bytes.iter_mut().rev() {
        if *byte == b'9' {
            *byte = b'0';
        } else {
            *byte += 1;
            return String::from_utf8(bytes).unwrap_or_default();
        }
    }
    format!("1{}", String::from_utf8(bytes).unwrap_or_default())
}

/// A comma-separated set of PEP 440 specifiers (`>=1.0,!=1.3.*,<2`); the empty set contains
/// everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep440Specifiers {
    specifiers: Vec<Pep440Specifier>,
}

impl Pep440Specifiers {
    /// Parses a specifier set; an error points at the bad specifier or part of it.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let mut specifiers = Vec::new();
        if input.trim().is_empty() {
            return Ok(Self { specifiers });
        }
        let mut start = 0;
        for part in input.split(',') {
            specifiers.push(parse_specifier(input, start, part)?);
            start += part.len() + 1;
        }
        Ok(Self { specifiers })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Pep440Specifier> {
        self.specifiers.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.specifiers.is_empty()
    }

    /// Whether a parsed version satisfies every specifier (`packaging`'s
    /// `SpecifierSet.contains(v)` with the default `prereleases=None`).
    pub fn contains(&self, version: &Pep440Version) -> bool {
        self.specifiers.iter().all(|s| s.contains(version))
    }

    /// `packaging`'s `SpecifierSet(...).contains(raw, prereleases=...)` on a string: an
    /// unparsable string matches only through `===` (or an empty set), and `Some(false)` drops
    /// pre-releases.
    pub fn contains_str(&self, raw: &str, prereleases: Option<bool>) -> bool {
        let parsed = Pep440Version::parse(raw).ok();
        if prereleases == Some(false) && parsed.as_ref().is_some_and(|v| v.is_prerelease()) {
            return false;
        }
        self.specifiers
            .iter()
            .all(|spec| match (spec.contains_text(raw), &parsed) {
                (Some(matched), _) => matched,
                (None, Some(version)) => spec.contains(version),
                (None, None) => false,
            })
    }
}

impl fmt::Display for Pep440Specifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.specifiers.iter().map(|s| s.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Pep440Specifiers {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Parses one specifier `part`, which starts at byte `start` of the whole set `input`.
fn parse_specifier(input: &str, start: usize, part: &str) -> Result<Pep440Specifier, VersionError> {
    let error = |from: usize, to: usize, reason: &str| {
        VersionError::new(
            Ecosystem::PyPi,
            "specifier",
            input,
            start + from..start + to,
            reason,
        )
    };
    let lead = part.len() - part.trim_start().len();
    let body = part.trim();
    if body.is_empty() {
        return Err(error(0, part.len().max(1), "empty specifier"));
    }
    let operators = [
        ("===", Operator::Arbitrary),
        ("~=", Operator::Compatible),
        ("==", Operator::Equal),
        ("!=", Operator::NotEqual),
        ("<=", Operator::LessEqual),
        (">=", Operator::GreaterEqual),
        ("<", Operator::Less),
        (">", Operator::Greater),
    ];
    let Some((op_text, operator)) = operators.iter().find(|(text, _)| body.starts_with(text))
    else {
        let end = body
            .find(|c: char| c.is_ascii_alphanumeric())
            .unwrap_or(body.len())
            .max(1);
        return Err(error(
            lead,
            lead + end,
            "expected an operator (`~=`, `==`, `!=`, `<=`, `>=`, `<`, `>`, `===`)",
        ));
    };
    let after_op = &body[op_text.len()..];
    let version_text = after_op.trim_start();
    let version_at = lead + op_text.len() + (after_op.len() - version_text.len());
    let version_end = version_at + version_text.len();
    if version_text.is_empty() {
        return Err(error(
            lead,
            version_end.max(lead + 1),
            "missing version after operator",
        ));
    }
    let text = format!("{op_text}{version_text}");
    if *operator == Operator::Arbitrary {
        if version_text.contains(char::is_whitespace) {
            return Err(error(version_at, version_end, "`===` takes one word"));
        }
        return Ok(Pep440Specifier {
            operator: *operator,
            target: Target::Text(version_text.to_owned()),
            text,
        });
    }
    let parse = |text: &str| {
        parse_wide(text, "specifier").map_err(|err| {
            let span = err.span();
            error(version_at + span.start, version_at + span.end, err.reason())
        })
    };
    if let Some(prefix) = version_text.strip_suffix(".*") {
        if !matches!(operator, Operator::Equal | Operator::NotEqual) {
            return Err(error(
                version_end - 2,
                version_end,
                "`.*` is only allowed with `==` and `!=`",
            ));
        }
        let base = parse(prefix)?;
        let plain = base.as_pep440();
        if plain.any_prerelease() || plain.is_post() || plain.is_local() {
            return Err(error(
                version_at,
                version_end,
                "a `.*` prefix may only hold an epoch and release numbers",
            ));
        }
        let below = next_prefix_dev0(&base, base.release_numbers().len());
        return Ok(Pep440Specifier {
            operator: *operator,
            target: Target::Range {
                from: prefix_dev0(&base),
                below,
            },
            text,
        });
    }
    let version = parse(version_text)?;
    let has_local = version.as_pep440().is_local();
    if has_local && !matches!(operator, Operator::Equal | Operator::NotEqual) {
        let plus = version_text.find('+').unwrap_or(0);
        return Err(error(
            version_at + plus,
            version_end,
            "a local version label is only allowed with `==` and `!=`",
        ));
    }
    let release_len = version.release_numbers().len();
    if *operator == Operator::Compatible && release_len < 2 {
        return Err(error(
            version_at,
            version_end,
            "`~=` needs at least two release numbers",
        ));
    }
    let target = if *operator == Operator::Compatible {
        Target::Range {
            below: next_prefix_dev0(&version, release_len - 1),
            from: version,
        }
    } else {
        Target::Version { version, has_local }
    };
    Ok(Pep440Specifier {
        operator: *operator,
        target,
        text,
    })
}

/// Total order of PEP 440 versions (`packaging.version.Version` order).
pub fn compare(a: &Pep440Version, b: &Pep440Version) -> Ordering {
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Pep440Version {
        Pep440Version::parse(s).unwrap()
    }

    fn set(s: &str) -> Pep440Specifiers {
        Pep440Specifiers::parse(s).unwrap()
    }

    #[test]
    fn less_than_excludes_prereleases_of_the_bound() {
        assert!(!set("<2.0").contains(&v("2.0.dev1")));
        assert!(!set("<2.0").contains(&v("2.0rc1")));
        assert!(set("<2.0").contains(&v("1.9a1")));
        assert!(set("<2.0rc2").contains(&v("2.0rc1")));
    }

    #[test]
    fn greater_than_excludes_posts_and_locals_of_the_bound() {
        assert!(!set(">1.0").contains(&v("1.0.post1")));
        assert!(!set(">1.0").contains(&v("1.0+local")));
        assert!(set(">1.0.post1").contains(&v("1.0.post2")));
        assert!(set(">1.0").contains(&v("1.0.1")));
    }

    #[test]
    fn local_labels_are_ignored_unless_spelled() {
        assert!(set("==1.0").contains(&v("1.0+abc")));
        assert!(!set("==1.0+def").contains(&v("1.0+abc")));
        assert!(set("<=1.0").contains(&v("1.0+abc")));
        assert!(!set("!=1.0").contains(&v("1.0+abc")));
    }

    #[test]
    fn wildcards_and_compatible_release() {
        assert!(set("==1.*").contains(&v("1.0a1")));
        assert!(!set("==1.*").contains(&v("2.0.dev0")));
        assert!(set("~=1.4.2").contains(&v("1.4.9")));
        assert!(!set("~=1.4.2").contains(&v("1.5.dev0")));
        assert!(set("!=1.2.*").contains(&v("1.3")));
    }

    #[test]
    fn arbitrary_equality_compares_strings() {
        assert!(set("===foobar").contains_str("FooBar", None));
        assert!(!set("===1.0").contains_str("1.0.0", None));
    }

    #[test]
    fn explicit_prereleases_false_drops_prereleases() {
        assert!(set(">=1.0").contains_str("1.5a1", None));
        assert!(!set(">=1.0").contains_str("1.5a1", Some(false)));
    }

    #[test]
    fn bad_specifiers_point_at_the_bad_part() {
        let err = Pep440Specifiers::parse(">=1.0, <=1.0+abc").unwrap_err();
        assert_eq!(&err.input()[err.span()], "+abc");
        let err = Pep440Specifiers::parse(">=1.0,=>2").unwrap_err();
        assert_eq!(err.span().start, 6);
        let err = Pep440Specifiers::parse("~=1").unwrap_err();
        assert_eq!(&err.input()[err.span()], "1");
    }

    #[test]
    fn bad_versions_point_at_the_bad_part() {
        let err = Pep440Version::parse("1.0foo").unwrap_err();
        assert_eq!(&err.input()[err.span()], "foo");
        assert!(err.to_string().contains("^^^"), "{err}");
    }

    /// PyPI holds `20210609131134657401` (wider than a `u64`); `packaging` orders it as any
    /// other integer.
    #[test]
    fn orders_release_numbers_wider_than_a_u64() {
        let huge = v("20210609131134657401");
        assert_eq!(huge.to_string(), "20210609131134657401");
        assert!(huge > v("18446744073709551615"));
        assert!(huge > v("2021.6.9"));
        assert!(v("20210609131134657400") < huge);
        assert!(v("20210609131134657401.post1") > huge);
        assert!(v("20210609131134657401rc1") < huge);
        assert_eq!(v("020210609131134657401.0"), huge);
        assert!(v("1!0") > huge);
        assert!(v("1.99999999999999999999999") > v("1.99999999999999999999998"));
        assert!(v("1.99999999999999999999999") < v("2"));
        let hashed: std::collections::HashSet<Pep440Version> =
            [v("20210609131134657401"), v("20210609131134657401.0")].into();
        assert_eq!(hashed.len(), 1);
    }

    #[test]
    fn matches_specifiers_with_wide_release_numbers() {
        let huge = v("20210609131134657401");
        assert!(set(">=20210609131134657400").contains(&huge));
        assert!(!set(">20210609131134657401").contains(&huge));
        assert!(set("<20210609131134657402").contains(&huge));
        assert!(set("==20210609131134657401.*").contains(&v("20210609131134657401.3")));
        assert!(!set("==20210609131134657401.*").contains(&v("20210609131134657402")));
        assert!(set("~=1.99999999999999999999.0").contains(&v("1.99999999999999999999.7")));
        assert!(!set("~=1.99999999999999999999.0").contains(&v("1.100000000000000000000")));
        assert!(set("<=20210609131134657401").contains(&v("20210609131134657401+local")));
        assert!(set("!=20210609131134657401").contains(&v("1.0")));
    }
}
