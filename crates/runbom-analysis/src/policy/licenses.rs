//! `[licenses]`: the component's licence expression against the allow and deny lists.

use runbom_config::policy::Licenses;

use super::{Code, Component, Finding, LicenseInfo, Severity};
use crate::licenses::{Confidence, LicenseVerdict, evaluate};

pub(super) fn check(policy: &Licenses, component: &Component) -> Option<Finding> {
    let license = &component.license;
    let shown = license.spdx().unwrap_or("unknown");
    let guess = if license.confidence() == Confidence::Inferred {
        format!(
            " (inferred from {} `{}`)",
            license.source().as_str(),
            license.raw().unwrap_or_default()
        )
    } else {
        String::new()
    };
    let finding = match evaluate(license, &component.normalized, policy) {
        LicenseVerdict::Allowed => return None,
        LicenseVerdict::Denied {
            license: denied,
            origin,
        } => Finding::new(
            Code::LicenseDenied,
            Severity::Error,
            format!(
                "`{}` is licensed `{shown}`{guess}, and `{denied}` is denied",
                component.name
            ),
            Some(origin),
            format!(
                "remove `{}`, or take `{denied}` off `licenses.deny` if it is acceptable",
                component.name
            ),
        ),
        LicenseVerdict::NotAllowed { missing } => Finding::new(
            Code::LicenseNotAllowed,
            Severity::Error,
            format!(
                "`{}` is licensed `{shown}`{guess}, which the allowed licences do not satisfy",
                component.name
            ),
            policy.allow.first().map(|a| a.origin),
            format!(
                "allow {} in `licenses.allow`, or for this package only in a `[[licenses.exceptions]]` entry with name = \"{}\"",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(" or "),
                component.normalized
            ),
        ),
        LicenseVerdict::Unknown => {
            let severity = Severity::of(policy.unknown.value)?;
            let what = license.raw().map_or_else(
                || "declares no licence".to_owned(),
                |raw| format!("has a licence runbom cannot read: `{raw}`"),
            );
            Finding::new(
                Code::LicenseUnknown,
                severity,
                format!("`{}` {what}", component.name),
                Some(policy.unknown.origin),
                format!(
                    "check the package's licence by hand; if acceptable, add its SPDX id (or a `LicenseRef-…`) to a `[[licenses.exceptions]]` entry with name = \"{}\", or set `licenses.unknown`",
                    component.normalized
                ),
            )
        }
    };
    let mut finding = finding.about(component);
    finding.license = Some(LicenseInfo::of(license));
    Some(finding)
}
