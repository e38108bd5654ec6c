//! `[versions]`: minimum versions, compared under the component's ecosystem's rules.

use runbom_config::policy::Versions;
use runbom_versions::Version;

use super::{Code, Component, Finding, Severity};

pub(super) fn check(policy: &Versions, component: &Component) -> Option<Finding> {
    let name = component.policy_name();
    let minimum = policy
        .minimum
        .iter()
        .find(|m| m.name.value == name.as_str())?;
    let installed = component.version.as_deref()?;
    let wanted = minimum.version.value.to_string();
    let ecosystem = component.ecosystem;
    let (Ok(have), Ok(want)) = (
        Version::parse(ecosystem, installed),
        Version::parse(ecosystem, &wanted),
    ) else {
        return None;
    };
    if have.compare(&want)? != std::cmp::Ordering::Less {
        return None;
    }
    let reason = minimum
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    Some(
        Finding::new(
            Code::VersionBelowMinimum,
            Severity::Error,
            format!(
                "`{}` {installed} is older than the minimum {wanted}{reason}",
                component.name
            ),
            Some(minimum.version.origin),
            format!("upgrade `{}` to {wanted} or later", component.name),
        )
        .about(component),
    )
}
