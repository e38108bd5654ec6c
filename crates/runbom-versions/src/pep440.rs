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

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;
use runbom_model::Ecosystem;

use crate::VersionError;

/// A PEP 440 version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pep440Version(Version);

impl Pep440Version {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        parse_version(input, "version").map(Self)
    }

    /// The `pep440_rs` version, for callers that need its accessors.
    pub fn as_pep440(&self) -> &Version {
        &self.0
    }

    /// A pre-release or dev release, as `packaging`'s `Version.is_prerelease`.
    pub fn is_prerelease(&self) -> bool {
        self.0.any_prerelease()
    }
}

impl fmt::Display for Pep440Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
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
    Version { version: Version, has_local: bool },
    /// `==V.*` / `!=V.*`: the release prefix `V`.
    Prefix(Version),
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
        let v = &version.0;
        match (&self.target, self.operator) {
            (Target::Text(text), _) => v.to_string().eq_ignore_ascii_case(text),
            (Target::Prefix(base), Operator::Equal) => in_prefix(v, base),
            (Target::Prefix(base), _) => !in_prefix(v, base),
            (Target::Version { version: spec, .. }, Operator::GreaterEqual) => v >= spec,
            (Target::Version { version: spec, .. }, Operator::LessEqual) => {
                v <= spec || same_public(v, spec)
            }
            (Target::Version { version: spec, .. }, Operator::Less) => {
                let bound = if spec.any_prerelease() {
                    spec.clone()
                } else {
                    spec.clone().with_dev(Some(0)).without_local()
                };
                v < &bound
            }
            (Target::Version { version: spec, .. }, Operator::Greater) => greater(v, spec),
            (Target::Version { version: spec, .. }, Operator::Compatible) => {
                let release = spec.release();
                let prefix = &release[..release.len() - 1];
                v >= spec && v < &next_prefix_dev0(spec.epoch(), prefix)
            }
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
            (Target::Version { .. }, Operator::Arbitrary) => false,
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
fn same_public(v: &Version, spec: &Version) -> bool {
    v.epoch() == spec.epoch()
        && trim(v.release()) == trim(spec.release())
        && v.pre() == spec.pre()
        && v.post() == spec.post()
        && v.dev() == spec.dev()
}

/// `>V`: above `V` and not a post-release or local version of `V` (unless `V` is a post or dev
/// release, which have their own next version).
fn greater(v: &Version, spec: &Version) -> bool {
    if let Some(dev) = spec.dev() {
        return v >= &spec.clone().with_dev(Some(dev + 1)).without_local();
    }
    if let Some(post) = spec.post() {
        return v
            >= &spec
                .clone()
                .with_post(Some(post + 1))
                .with_dev(Some(0))
                .without_local();
    }
    if v <= spec {
        return false;
    }
    !(v.epoch() == spec.epoch()
        && trim(v.release()) == trim(spec.release())
        && v.pre() == spec.pre())
}

/// `==V.*`: from `V.dev0` (inclusive) to the next prefix's `.dev0` (exclusive).
fn in_prefix(v: &Version, base: &Version) -> bool {
    let lower = Version::new(base.release().iter().copied())
        .with_epoch(base.epoch())
        .with_dev(Some(0));
    v >= &lower && v < &next_prefix_dev0(base.epoch(), base.release())
}

/// `1.2` -> `1.3.dev0`.
fn next_prefix_dev0(epoch: u64, release: &[u64]) -> Version {
    let mut next = release.to_vec();
    if let Some(last) = next.last_mut() {
        *last = last.saturating_add(1);
    }
    Version::new(next).with_epoch(epoch).with_dev(Some(0))
}

fn trim(release: &[u64]) -> &[u64] {
    let mut end = release.len();
    while end > 1 && release[end - 1] == 0 {
        end -= 1;
    }
    &release[..end]
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
        parse_version(text, "specifier").map_err(|err| {
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
        if base.any_prerelease() || base.is_post() || base.is_local() {
            return Err(error(
                version_at,
                version_end,
                "a `.*` prefix may only hold an epoch and release numbers",
            ));
        }
        return Ok(Pep440Specifier {
            operator: *operator,
            target: Target::Prefix(base),
            text,
        });
    }
    let version = parse(version_text)?;
    let has_local = version.is_local();
    if has_local && !matches!(operator, Operator::Equal | Operator::NotEqual) {
        let plus = version_text.find('+').unwrap_or(0);
        return Err(error(
            version_at + plus,
            version_end,
            "a local version label is only allowed with `==` and `!=`",
        ));
    }
    if *operator == Operator::Compatible && version.release().len() < 2 {
        return Err(error(
            version_at,
            version_end,
            "`~=` needs at least two release numbers",
        ));
    }
    Ok(Pep440Specifier {
        operator: *operator,
        target: Target::Version { version, has_local },
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
}
