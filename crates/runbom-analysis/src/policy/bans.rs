//! `[bans]`: denied packages (all versions or a PEP 440 range), and allow-list mode.

use std::str::FromStr;

use pep440_rs::Version;
use runbom_config::policy::Bans;
use runbom_model::Ecosystem;

use super::{Code, Component, Finding, Severity};

pub(super) fn check(policy: &Bans, component: &Component) -> Vec<Finding> {
    let name = component.policy_name();
    let mut findings = Vec::new();
    for ban in policy.deny.iter().filter(|b| b.name.value == name.as_str()) {
        let (which, origin) = match &ban.versions {
            None => ("every version".to_owned(), ban.name.origin),
            Some(range) => {
                let in_range = component.ecosystem == Ecosystem::PyPi
                    && component
                        .version
                        .as_deref()
                        .and_then(|v| Version::from_str(v).ok())
                        .is_some_and(|v| range.value.contains(&v));
                if !in_range {
                    continue;
                }
                (format!("versions `{}`", range.value), range.origin)
            }
        };
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
