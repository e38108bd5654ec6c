//! Policy evaluation: components (from an installed environment, runtime reports or an expected
//! inventory) held against a validated `runbom.toml`, giving findings. Pure: the package index's
//! release data and today's date are passed in.
//!
//! One file per rule kind. Every finding has a stable kebab-case [`Code`] (also its SARIF rule
//! id), the rule, the component, the config line the rule was written on and how to fix it.

mod advisories;
mod bans;
mod freshness;
mod licenses;
mod versions;

use std::collections::HashMap;

use runbom_config::Config;
use runbom_config::policy::{Level, Origin};
use runbom_model::release::ProjectReleases;
use runbom_model::{Ecosystem, PackageName};
use serde::Serialize;

pub use advisories::active_ignore;
pub use bans::bans_of;
pub use freshness::{Standing, newest, published, standing};

use crate::licenses::ResolvedLicense;

/// One component to judge.
#[derive(Debug, Clone)]
pub struct Component {
    pub ecosystem: Ecosystem,
    /// The name as written in its metadata or source.
    pub name: String,
    pub normalized: PackageName,
    pub version: Option<String>,
    pub license: ResolvedLicense,
    /// For runtime reports: whether some process loaded it. `None` when not known.
    pub loaded: Option<bool>,
}

impl Component {
    /// The name as `[bans]` and `[versions]` compare it (PEP 503-normalised in every ecosystem).
    fn policy_name(&self) -> PackageName {
        PackageName::pypi(&self.name)
    }
}

/// Release data by (ecosystem, normalised name), for `[freshness]`.
pub type Releases = HashMap<(Ecosystem, PackageName), ProjectReleases>;

/// The rule kind a finding comes from: the `runbom.toml` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    Licenses,
    Bans,
    Versions,
    Advisories,
    Freshness,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Licenses => "licenses",
            Rule::Bans => "bans",
            Rule::Versions => "versions",
            Rule::Advisories => "advisories",
            Rule::Freshness => "freshness",
        }
    }
}

/// Every kind of finding, with a stable kebab-case code (documented in
/// `docs/reference/policy-check.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    LicenseDenied,
    LicenseNotAllowed,
    LicenseUnknown,
    PackageBanned,
    PackageNotAllowed,
    VersionBelowMinimum,
    AdvisoryIgnoreExpired,
    ReleaseYanked,
    ReleaseOutdated,
    ProjectStale,
}

impl Code {
    pub const ALL: [Code; 10] = [
        Code::LicenseDenied,
        Code::LicenseNotAllowed,
        Code::LicenseUnknown,
        Code::PackageBanned,
        Code::PackageNotAllowed,
        Code::VersionBelowMinimum,
        Code::AdvisoryIgnoreExpired,
        Code::ReleaseYanked,
        Code::ReleaseOutdated,
        Code::ProjectStale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::LicenseDenied => "license-denied",
            Code::LicenseNotAllowed => "license-not-allowed",
            Code::LicenseUnknown => "license-unknown",
            Code::PackageBanned => "package-banned",
            Code::PackageNotAllowed => "package-not-allowed",
            Code::VersionBelowMinimum => "version-below-minimum",
            Code::AdvisoryIgnoreExpired => "advisory-ignore-expired",
            Code::ReleaseYanked => "release-yanked",
            Code::ReleaseOutdated => "release-outdated",
            Code::ProjectStale => "project-stale",
        }
    }

    /// One line saying what the code means.
    pub fn description(self) -> &'static str {
        match self {
            Code::LicenseDenied => {
                "A licence in the component's licence expression is on the deny list."
            }
            Code::LicenseNotAllowed => {
                "The allowed licences do not satisfy the component's licence expression."
            }
            Code::LicenseUnknown => "The component's licence is missing or cannot be read.",
            Code::PackageBanned => "The package (or this version of it) is banned.",
            Code::PackageNotAllowed => "Allow-list mode: the package is not on the allow list.",
            Code::VersionBelowMinimum => "The component is older than the minimum version.",
            Code::AdvisoryIgnoreExpired => "An advisory ignore is past its expiry date.",
            Code::ReleaseYanked => "The component's release was yanked from the package index.",
            Code::ReleaseOutdated => {
                "The component's release is older than allowed behind the newest release."
            }
            Code::ProjectStale => "The project has had no release for longer than allowed.",
        }
    }

    pub fn rule(self) -> Rule {
        match self {
            Code::LicenseDenied | Code::LicenseNotAllowed | Code::LicenseUnknown => Rule::Licenses,
            Code::PackageBanned | Code::PackageNotAllowed => Rule::Bans,
            Code::VersionBelowMinimum => Rule::Versions,
            Code::AdvisoryIgnoreExpired => Rule::Advisories,
            Code::ReleaseYanked | Code::ReleaseOutdated | Code::ProjectStale => Rule::Freshness,
        }
    }
}

/// How much a finding weighs: errors fail the check (exit 1), warnings are shown only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// The severity of a `deny`/`warn` level; `None` for `allow` (nothing is reported).
    fn of(level: Level) -> Option<Self> {
        match level {
            Level::Deny => Some(Severity::Error),
            Level::Warn => Some(Severity::Warning),
            Level::Allow => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The component a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRef {
    pub ecosystem: Ecosystem,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The place in `runbom.toml` a rule was written (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConfigLine {
    pub line: usize,
    pub column: usize,
}

impl ConfigLine {
    /// `None` for a default that was not written in the file.
    fn of(origin: Origin) -> Option<Self> {
        (origin.line > 0).then_some(ConfigLine {
            line: origin.line,
            column: origin.column,
        })
    }
}

/// What runbom made of the component's licence, shown with licence findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spdx: Option<String>,
    pub confidence: crate::licenses::Confidence,
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl LicenseInfo {
    pub fn of(license: &ResolvedLicense) -> Self {
        LicenseInfo {
            spdx: license.spdx().map(str::to_owned),
            confidence: license.confidence(),
            source: license.source().as_str(),
            raw: license.raw().map(str::to_owned),
        }
    }
}

/// One policy violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub rule: Rule,
    pub severity: Severity,
    /// `None` for findings about the config itself (an expired ignore).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentRef>,
    pub message: String,
    /// The config line of the rule, when the rule was written in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigLine>,
    pub help: String,
    /// For runtime reports: whether the component was loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<LicenseInfo>,
}

impl Finding {
    fn new(
        code: Code,
        severity: Severity,
        message: String,
        origin: Option<Origin>,
        help: String,
    ) -> Self {
        Finding {
            code,
            rule: code.rule(),
            severity,
            component: None,
            message,
            config: origin.and_then(ConfigLine::of),
            help,
            loaded: None,
            license: None,
        }
    }

    fn about(mut self, component: &Component) -> Self {
        self.component = Some(ComponentRef {
            ecosystem: component.ecosystem,
            name: component.name.clone(),
            version: component.version.clone(),
        });
        self.loaded = component.loaded;
        self
    }
}

/// What to judge besides the components.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Release data for `[freshness]`; `None` skips those rules (offline).
    pub releases: Option<&'a Releases>,
    /// Today, for advisory-ignore expiry and project staleness.
    pub today: time::Date,
}

/// Every finding for `components` under `config`: errors first, then by component and code.
pub fn evaluate(config: &Config, components: &[Component], context: Context<'_>) -> Vec<Finding> {
    let mut findings = advisories::expired_ignores(&config.advisories, context.today);
    for component in components {
        findings.extend(licenses::check(&config.licenses, component));
        findings.extend(bans::check(&config.bans, component));
        findings.extend(versions::check(&config.versions, component));
        if let Some(releases) = context.releases {
            let project = releases.get(&(component.ecosystem, component.normalized.clone()));
            findings.extend(freshness::check(
                &config.freshness,
                component,
                project,
                context.today,
            ));
        }
    }
    findings.sort_by(|a, b| {
        (
            a.severity,
            &a.component.as_ref().map(|c| (&c.name, &c.version)),
            a.code,
        )
            .cmp(&(
                b.severity,
                &b.component.as_ref().map(|c| (&c.name, &c.version)),
                b.code,
            ))
    });
    findings
}

#[cfg(test)]
mod tests;
