//! Enforcement at import time: the plan runbom prepares from the expected inventory, the installed
//! inventory and the policy (which distributions may be imported, which rules are on, what to do
//! when the hook cannot load its table), and what the hook says it refused. Traps: a distribution
//! the expected inventory lists may still be refused (a ban wins); the standard library and
//! first-party directories are never refused; `monitor` refuses nothing and says what `enforce`
//! would have refused.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Whether the hook refuses imports or only says what it would refuse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnforceMode {
    /// Every import goes through; what `enforce` would refuse is reported as "would refuse".
    Monitor,
    /// A refused import raises `ImportError` (the default once a table is asked for).
    #[default]
    Enforce,
}

/// What the hook does when its enforcement table cannot be loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailPolicy {
    /// The program runs unenforced; the hook warns on stderr and in the report.
    #[default]
    Open,
    /// The program does not start; the hook exits with the reason.
    Closed,
}

/// One rule of enforcement, each on or off in `runbom.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnforceRule {
    /// Only distributions the expected inventory lists, at the listed versions, may be imported.
    Listed,
    /// Banned distributions of the policy are refused even when listed.
    Bans,
    /// A module file whose content differs from its distribution's RECORD is refused.
    Integrity,
}

impl EnforceRule {
    pub const ALL: [EnforceRule; 3] = [Self::Listed, Self::Bans, Self::Integrity];

    /// The spelling in `runbom.toml`, the table and the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listed => "listed",
            Self::Bans => "bans",
            Self::Integrity => "integrity",
        }
    }
}

impl fmt::Display for EnforceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EnforceRule {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

/// Where a rule or a setting was written: `runbom.toml` line, 0 when it is a default.
pub type ConfigLine = usize;

/// One rule and whether it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSetting {
    pub rule: EnforceRule,
    pub on: bool,
    /// The `runbom.toml` line that set it (0: the default).
    pub line: ConfigLine,
}

/// Whether one installed distribution may be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Allowed,
    Refused {
        rule: EnforceRule,
        /// Why, in a few words: "not in the expected inventory", "banned (every version)" …
        why: String,
        /// The `runbom.toml` line of the rule (0: the rule's default).
        line: ConfigLine,
    },
}

/// One installed distribution and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionVerdict {
    pub name: String,
    pub version: String,
    /// The site directory it is installed in.
    pub location: PathBuf,
    pub verdict: Verdict,
}

/// Everything the hook is told besides the files: made by `runbom-analysis` (pure), written with
/// the files' stat and hashes by the language's module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnforcementPlan {
    pub mode: EnforceMode,
    pub fail: FailPolicy,
    pub rules: Vec<RuleSetting>,
    /// Directories whose modules are always allowed besides the standard library; empty means
    /// the `__main__` directory.
    pub first_party: Vec<PathBuf>,
    /// The config file the lines are of (for messages), when there is one.
    pub config: Option<String>,
    /// The expected inventory it was made from, as given.
    pub expected: String,
    pub distributions: Vec<DistributionVerdict>,
}

impl EnforcementPlan {
    /// Whether `rule` is on.
    pub fn is_on(&self, rule: EnforceRule) -> bool {
        self.rules.iter().any(|r| r.rule == rule && r.on)
    }

    /// The line of `rule`'s setting (0 when it is the default).
    pub fn line_of(&self, rule: EnforceRule) -> ConfigLine {
        self.rules
            .iter()
            .find(|r| r.rule == rule)
            .map_or(0, |r| r.line)
    }

    /// The verdict on the installed package `name` `version` at `location`, when the plan has
    /// one.
    pub fn verdict_on(
        &self,
        name: &str,
        version: &str,
        location: &Path,
    ) -> Option<&DistributionVerdict> {
        self.distributions
            .iter()
            .find(|v| v.name == name && v.version == version && v.location == location)
    }
}

/// How enforcement went in one process, as its hook says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnforcementState {
    pub pid: u32,
    pub mode: EnforceMode,
    /// `active`, `off` (the break-glass variable), or `failed` (the table could not be loaded).
    pub state: String,
    /// Why it is off or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One import the hook refused, or would have refused in `monitor` mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub pid: u32,
    /// RFC 3339, UTC.
    pub at: String,
    /// The module being imported, e.g. `yaml.constructor`.
    pub module: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The distribution that owns the file, when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub rule: EnforceRule,
    pub why: String,
    /// The `runbom.toml` line of the rule (0: the rule's default).
    #[serde(default)]
    pub config_line: ConfigLine,
    /// The module whose code asked for the import, when the hook could tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importer: Option<String>,
    /// True when the import was refused; false for "would refuse" (monitor mode).
    pub enforced: bool,
}
