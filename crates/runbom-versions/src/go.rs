//! Go module versions: SemVer with a `v` prefix, `v1`/`v1.2` shorthands, pseudo-versions and
//! `+incompatible`, ordered as `golang.org/x/mod/semver.Compare` orders them.
//!
//! Traps:
//! - Go writes `v1.2.3`; OSV Go data writes `1.2.3`. Both are accepted and compare equal.
//! - `+incompatible` is build metadata, so it is ignored by ordering (`v2.0.0+incompatible`
//!   equals `v2.0.0`).
//! - Pseudo-versions (`v0.0.0-20220101000000-abcdef123456`, `v1.2.4-0.2022…-abc`,
//!   `v1.2.3-pre.0.2022…-abc`) are ordinary pre-releases; SemVer order puts them after their
//!   base version and before the next release, which is what Go intends.

use std::cmp::Ordering;
use std::fmt;

use runbom_model::Ecosystem;

use crate::VersionError;
use crate::semver::SemVer;

/// A Go module version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion(SemVer);

impl GoVersion {
    /// Parses `v1.2.3`, `1.2.3`, `v1`, `v1.2`, pre-releases, pseudo-versions and builds, and
    /// Go toolchain tags (`go1.21.3`, `go1.22rc1`), which the Go vulnerability database writes
    /// as SemVer (`1.21.3`, `1.22.0-rc.1`) for the standard library.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        if let Some(semver) = toolchain_to_semver(input) {
            return SemVer::parse_shorthand(&semver)
                .map(Self)
                .map_err(|(_, reason)| {
                    VersionError::new(Ecosystem::Go, "version", input, 0..input.len(), reason)
                });
        }
        SemVer::parse_shorthand(input)
            .map(Self)
            .map_err(|(span, reason)| {
                VersionError::new(Ecosystem::Go, "version", input, span, reason)
            })
    }

    /// The canonical form Go tools print: `v` prefix, three numbers, no build metadata except
    /// `+incompatible`.
    pub fn canonical(&self) -> String {
        let mut out = format!("v{}", self.0.core());
        if self.0.is_prerelease() {
            out.push('-');
            out.push_str(&self.0.prerelease());
        }
        if self.is_incompatible() {
            out.push_str("+incompatible");
        }
        out
    }

    pub fn is_incompatible(&self) -> bool {
        self.0.build() == Some("incompatible")
    }

    pub fn is_prerelease(&self) -> bool {
        self.0.is_prerelease()
    }

    /// The pseudo-version parts, if this is a pseudo-version.
    pub fn pseudo(&self) -> Option<PseudoVersion> {
        PseudoVersion::parse(&format!("v{}", self.0))
    }
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// The parts of a Go pseudo-version (`golang.org/x/mod/module` `PseudoVersion*` functions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PseudoVersion {
    /// The release the pseudo-version is based on (`v1.2.3` for `v1.2.4-0.2022…`); empty for
    /// `vX.0.0-2022…` pseudo-versions, which have none.
    pub base: String,
    /// `yyyymmddhhmmss`, UTC.
    pub timestamp: String,
    /// The abbreviated commit hash.
    pub revision: String,
}

impl PseudoVersion {
    /// Splits a pseudo-version written with its `v` prefix; `None` if `version` is not one or its
    /// base is impossible (`v1.0.0-0.2022…`, whose base would be patch `-1`).
    pub fn parse(version: &str) -> Option<Self> {
        if !is_pseudo_version(version) {
            return None;
        }
        let (body, build) = match version.find('+') {
            Some(plus) => (&version[..plus], &version[plus..]),
            None => (version, ""),
        };
        let dash = body.rfind('-')?;
        let (rest, revision) = (&body[..dash], &body[dash + 1..]);
        let last_dash = rest.rfind('-')?;
        let (base, timestamp) = match rest.rfind('.') {
            Some(dot) if dot > last_dash => (&rest[..dot], &rest[dot + 1..]),
            _ => (&rest[..last_dash], &rest[last_dash + 1..]),
        };
        let parsed = SemVer::parse_shorthand(base).ok()?;
        let pre = parsed.prerelease();
        let base = if pre.is_empty() {
            if !build.is_empty() {
                return None;
            }
            String::new()
        } else if pre == "0" {
            let core = base.strip_suffix("-0")?;
            let dot = core.rfind('.')?;
            let patch = dec_decimal(&core[dot + 1..])?;
            format!("{}.{patch}{build}", &core[..dot])
        } else {
            format!("{}{build}", base.strip_suffix(".0")?)
        };
        Some(Self {
            base,
            timestamp: timestamp.to_owned(),
            revision: revision.to_owned(),
        })
    }
}

/// `golang.org/x/mod/module.IsPseudoVersion`: at least two dashes, valid SemVer, and the shape
/// `vX.0.0-yyyymmddhhmmss-rev`, `vX.Y.Z-0.yyyymmddhhmmss-rev` or `vX.Y.Z-pre.0.yyyymmddhhmmss-rev`.
pub fn is_pseudo_version(version: &str) -> bool {
    if version.matches('-').count() < 2 || SemVer::parse_shorthand(version).is_err() {
        return false;
    }
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let body = match rest.find('+') {
        Some(plus) => &rest[..plus],
        None => rest,
    };
    // Split off `-rev` and the 14-digit timestamp before it.
    let Some(dash) = body.rfind('-') else {
        return false;
    };
    let (head, revision) = (&body[..dash], &body[dash + 1..]);
    if revision.is_empty() || !revision.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    if head.len() < 14 {
        return false;
    }
    let (prefix, timestamp) = head.split_at(head.len() - 14);
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    // prefix is `X.0.0-` or `X.Y.Z-` + optional `<anything>.` + `0.`
    let Some(dot) = prefix.find('.') else {
        return false;
    };
    let major = &prefix[..dot];
    if major.is_empty() || !major.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let after_major = &prefix[dot + 1..];
    if after_major == "0.0-" {
        return true;
    }
    let Some(dash) = after_major.find('-') else {
        return false;
    };
    let (minor_patch, pre) = (&after_major[..dash], &after_major[dash + 1..]);
    let mut numbers = minor_patch.split('.');
    let ok_numbers = numbers
        .by_ref()
        .take(2)
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .count()
        == 2
        && numbers.next().is_none();
    ok_numbers && (pre == "0." || pre.ends_with(".0."))
}

/// `go1.21rc2` -> `1.21.0-rc.2`, `go1.21.3` -> `1.21.3`, `go1` -> `1.0.0` (the rule of
/// `golang.org/x/vuln`'s `semverFromGoTag`); `None` if `tag` is not a Go toolchain tag.
pub fn toolchain_to_semver(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("go")?;
    let numbers_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (numbers, pre) = rest.split_at(numbers_end);
    let mut parts: Vec<&str> = numbers.split('.').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || (p.len() > 1 && p.starts_with('0')))
        || parts.len() > 3
    {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut semver = parts.join(".");
    if !pre.is_empty() {
        let kind_end = pre.find(|c: char| c.is_ascii_digit())?;
        let (kind, number) = pre.split_at(kind_end);
        if !matches!(kind, "rc" | "beta" | "alpha") || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        semver = format!("{semver}-{kind}.{number}");
    }
    Some(semver)
}

/// Decrements a decimal string; `None` for `0`.
fn dec_decimal(decimal: &str) -> Option<String> {
    let mut digits: Vec<u8> = decimal.bytes().collect();
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || digits.iter().all(|&d| d == b'0')
    {
        return None;
    }
    let mut i = digits.len();
    loop {
        i -= 1;
        if digits[i] == b'0' {
            digits[i] = b'9';
        } else {
            digits[i] -= 1;
            break;
        }
    }
    let text = String::from_utf8(digits).ok()?;
    let trimmed = text.trim_start_matches('0');
    Some(if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    })
}

/// `golang.org/x/mod/semver.Compare` on two parsed versions.
pub fn compare(a: &GoVersion, b: &GoVersion) -> Ordering {
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GoVersion {
        GoVersion::parse(s).unwrap()
    }

    #[test]
    fn v_prefix_and_incompatible_do_not_change_order() {
        assert_eq!(v("v1.2.3"), v("1.2.3"));
        assert_eq!(v("v2.0.0+incompatible"), v("2.0.0"));
        assert_eq!(v("2.0.0+incompatible").canonical(), "v2.0.0+incompatible");
        assert_eq!(v("v1.2").canonical(), "v1.2.0");
    }

    #[test]
    fn pseudo_versions_sit_between_releases() {
        assert!(v("v1.2.3") < v("v1.2.4-0.20220101000000-abcdef123456"));
        assert!(v("v1.2.4-0.20220101000000-abcdef123456") < v("v1.2.4"));
        assert!(v("0.0.0-20220101000000-abcdef123456") < v("0.0.1"));
    }

    #[test]
    fn pseudo_parts() {
        let pseudo = v("0.0.0-20220314234659-1baeb1ce4c0b").pseudo().unwrap();
        assert_eq!(pseudo.base, "");
        assert_eq!(pseudo.timestamp, "20220314234659");
        assert_eq!(pseudo.revision, "1baeb1ce4c0b");
        assert!(v("v1.2.3").pseudo().is_none());
    }

    #[test]
    fn toolchain_tags() {
        assert_eq!(
            toolchain_to_semver("go1.21rc2").as_deref(),
            Some("1.21.0-rc.2")
        );
        assert_eq!(toolchain_to_semver("go1.21.3").as_deref(), Some("1.21.3"));
        assert_eq!(toolchain_to_semver("go1").as_deref(), Some("1.0.0"));
        assert_eq!(toolchain_to_semver("go1.x"), None);
        assert_eq!(toolchain_to_semver("v1.2.3"), None);
        assert!(v("go1.21.3") < v("1.21.4"));
        assert!(v("go1.22rc1") < v("1.22.0"));
    }

    #[test]
    fn decimal_decrement() {
        assert_eq!(
            dec_decimal("100000000000000000").as_deref(),
            Some("99999999999999999")
        );
        assert_eq!(dec_decimal("1").as_deref(), Some("0"));
        assert_eq!(dec_decimal("0"), None);
    }
}
