//! `[bans]`: denied packages (all versions or a PEP 440 range), and allow-list mode.

use std::str::FromStr;

use pep440_rs::Version;
use runbom_config::policy::{Ban, Bans, Origin};
use runbom_model::{Ecosystem, PackageName};

use super::{Code, Component, Finding, Severity};

/// The bans of `policy` that hold for `name` at `version`, each with what it bans (`every
/// version`, ``versions `<3` ``) and where it was written. A version range holds for PyPI only.
pub fn bans_of<'a>(
    policy: &'a Bans,
    ecosystem: Ecosystem,
    name: &str,
    version: Option<&str>,
) -> impl Iterator<Item = (&'a Ban, String, Origin)> + 'a {
    let name = PackageName::pypi(name);
    let version = version.and_then(|v| Version::from_str(v).ok());
    policy
        .deny
        .iter()
        .filter(move |b| b.name.value == name.as_str())
        .filter_map(move |ban| match &ban.versions {
            None => Some((ban, "every version".to_owned(), ban.name.origin)),
            Some(range) => (ecosystem == Ecosystem::PyPi
                && version.as_ref().is_some_and(|v| range.value.contains(v)))
            .then(|| (ban, format!("versions `{}`", range.value), range.origin)),
        })
}

pub(super) fn check(policy: &Bans, component: &Component) -> Vec<Finding> {
    let name = component.policy_name();
    let mut findings = Vec::new();
    for (ban, which, origin) in bans_of(
        policy,
        component.ecosystem,
        name.as_str(),
        component.version.as_deref(),
    ) {
        let reason = ban
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        findings.push(
            Finding::new(
                Code::PackageBanned,
                Severity::Error,
                format!(
                    "`{}` {} is banned ({which}){reason}",
                    component.name,
                    component.version.as_deref().unwrap_or("")
                ),
                Some(origin),
                if ban.versions.is_some() {
                    format!("upgrade `{}` out of the banned range", component.name)
                } else {
                    format!("remove `{}` or replace it", component.name)
                },
            )
            .about(component),
        );
    }
    if let Some(allow) = &policy.allow
        && !allow.iter().any(|a| a.value == name.as_str())
    {
        findings.push(
            Finding::new(
                Code::PackageNotAllowed,
                Severity::Error,
                format!(
                    "`{}` is not on the allow list (`bans.allow`)",
                    component.name
                ),
                allow.first().map(|a| a.origin),
                format!(
                    "remove `{}`, or add \"{name}\" to `bans.allow`",
                    component.name
                ),
            )
            .about(component),
        );
    }
    findings
}
