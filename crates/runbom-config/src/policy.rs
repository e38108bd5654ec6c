//! The validated policy of a `runbom.toml`: the top-level structure and one type per section.
//! Every rule remembers where in the file it was written so findings can point back at it.

use pep440_rs::{Version, VersionSpecifiers};
pub use runbom_model::enforce::{EnforceMode, EnforceRule, FailPolicy};
pub use runbom_model::redact::Redactor;

/// Where a value was written in the config file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

/// A value and the place in `runbom.toml` it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value itself.
    pub value: T,
    /// Where it was written.
    pub origin: Origin,
}

/// The whole validated `runbom.toml`. New sections are added here and in `raw::RawConfig`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `[licenses]`.
    pub licenses: Licenses,
    /// `[bans]`.
    pub bans: Bans,
    /// `[versions]`.
    pub versions: Versions,
    /// `[advisories]`.
    pub advisories: Advisories,
    /// `[freshness]`.
    pub freshness: Freshness,
    /// `[verify]`.
    pub verify: Verify,
    /// `[enforce]`.
    pub enforce: Enforce,
    /// `[redact]`: what else of a command line is a secret, beyond the built-in rules.
    pub redact: Redactor,
}

/// What happens when a rule matches: a failing finding, a warning, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The finding fails the check (exit 1).
    Deny,
    /// The finding is reported but does not fail the check.
    Warn,
    /// Nothing is reported.
    Allow,
}

impl Level {
    /// The spelling used in `runbom.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Deny => "deny",
            Level::Warn => "warn",
            Level::Allow => "allow",
        }
    }
}

/// `[licenses]`: which SPDX licences may be used.
#[derive(Debug, Clone)]
pub struct Licenses {
    /// Licences that are accepted (SPDX licence ids, or exception ids for `WITH`).
    pub allow: Vec<Located<spdx::Licensee>>,
    /// Licences that are never accepted, even inside an `OR`.
    pub deny: Vec<Located<spdx::Licensee>>,
    /// What to do when a component's licence is unknown or cannot be read.
    pub unknown: Located<Level>,
    /// Licences accepted only for named packages.
    pub exceptions: Vec<LicenseException>,
}

impl Default for Licenses {
    fn default() -> Self {
        Licenses {
            allow: Vec::new(),
            deny: Vec::new(),
            unknown: Located {
                value: Level::Warn,
                origin: Origin::default(),
            },
            exceptions: Vec::new(),
        }
    }
}

/// One `[[licenses.exceptions]]` entry.
#[derive(Debug, Clone)]
pub struct LicenseException {
    /// The package the exception is for (PEP 503 normalised).
    pub name: Located<String>,
    /// Extra licences allowed for that package only.
    pub allow: Vec<Located<spdx::Licensee>>,
}

/// `[bans]`: packages that must not be used.
#[derive(Debug, Clone, Default)]
pub struct Bans {
    /// Denied packages, optionally only some versions.
    pub deny: Vec<Ban>,
    /// When set, allow-list mode: every package not listed is a finding.
    pub allow: Option<Vec<Located<String>>>,
}

/// One denied package.
#[derive(Debug, Clone)]
pub struct Ban {
    /// The package (PEP 503 normalised).
    pub name: Located<String>,
    /// Only these versions are denied; all versions when absent.
    pub versions: Option<Located<VersionSpecifiers>>,
    /// Why, shown with the finding.
    pub reason: Option<String>,
}

/// `[versions]`: minimum versions.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    /// Packages that must be at least some version.
    pub minimum: Vec<MinimumVersion>,
}

/// One `[[versions.minimum]]` entry.
#[derive(Debug, Clone)]
pub struct MinimumVersion {
    /// The package (PEP 503 normalised).
    pub name: Located<String>,
    /// The lowest accepted version.
    pub version: Located<Version>,
    /// Why, shown with the finding.
    pub reason: Option<String>,
}

/// Advisory severity, as in CVSS qualitative ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

/// A calendar date `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–31.
    pub day: u8,
}

/// `[advisories]`: which known vulnerabilities fail the check.
#[derive(Debug, Clone, Default)]
pub struct Advisories {
    /// Advisories below this severity are not reported; `None` reports all.
    pub severity_threshold: Option<Located<Severity>>,
    /// Advisories that are accepted for now.
    pub ignore: Vec<AdvisoryIgnore>,
    /// Where `runbom db update` finds OSV's bulk exports (`<url>/<Ecosystem>/all.zip`).
    pub osv_url: Option<Located<String>>,
}

/// One `[[advisories.ignore]]` entry.
#[derive(Debug, Clone)]
pub struct AdvisoryIgnore {
    /// The advisory id (`GHSA-…`, `PYSEC-…`, `CVE-…`).
    pub id: Located<String>,
    /// Why it is accepted.
    pub reason: String,
    /// After this day the ignore no longer applies and is itself a finding.
    pub expires: Option<Located<Date>>,
}

/// `[verify]`: how `runbom verify` judges what it finds.
#[derive(Debug, Clone, Default)]
pub struct Verify {
    /// `tooling = "strict"`: unlisted installer tooling (pip, setuptools, wheel, distribute) is
    /// `unexpected`; the default `"note"` reports it as a note, as `pip freeze` leaves it out.
    pub strict_tooling: Option<Located<bool>>,
}

/// `[freshness]`: project health.
#[derive(Debug, Clone, Default)]
pub struct Freshness {
    /// Flag a component whose release is older than this many days behind the newest release.
    pub max_days_behind: Option<Located<u32>>,
    /// What to do with yanked releases.
    pub yanked: Option<Located<Level>>,
    /// Flag projects with no release in this many years.
    pub max_years_without_release: Option<Located<u32>>,
}

/// `[enforce]`: what the hook refuses at import time when given an enforcement table
/// (`runbom run --enforce`, `runbom hook install --enforce`).
#[derive(Debug, Clone, Default)]
pub struct Enforce {
    /// `monitor` (the default) or `enforce`.
    pub mode: Option<Located<EnforceMode>>,
    /// `open` (the default) or `closed`: what happens when the table cannot be loaded.
    pub fail: Option<Located<FailPolicy>>,
    /// Directories always allowed besides the standard library, as written (relative ones are
    /// relative to the config file's directory); the `__main__` directory when empty.
    pub first_party: Vec<Located<String>>,
    /// `listed`, `bans`, `integrity`: each rule set on or off (every rule is on by default).
    pub rules: Vec<(EnforceRule, Located<bool>)>,
}
