//! `[freshness]`: the component's release against the package index: yanked, too far behind the
//! newest release, or a project with no release for years. Releases too far behind and stale
//! projects are warnings; yanked releases take the configured level.
//!
//! Trap: "newest" skips yanked releases and pre-releases (unless the component is itself a
//! pre-release), as pip does when it picks a version.

use runbom_config::policy::Freshness;
use runbom_model::release::{ProjectReleases, Release};
use runbom_versions::Version;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Code, Component, Finding, Severity};

/// The newest release that pip would pick, with its parsed version.
pub fn newest(project: &ProjectReleases, include_prereleases: bool) -> Option<(&Release, Version)> {
    project
        .releases
        .iter()
        .filter(|r| !r.yanked)
        .filter_map(|r| {
            Version::parse(project.ecosystem, &r.version)
                .ok()
                .map(|v| (r, v))
        })
        .filter(|(_, v)| include_prereleases || !v.is_prerelease())
        .fold(
            None,
            |best: Option<(&Release, Version)>, (r, v)| match &best {
                Some((_, b)) if v.compare(b) != Some(std::cmp::Ordering::Greater) => best,
                _ => Some((r, v)),
            },
        )
}

/// A release's publication date, when the index gave one that parses.
pub fn published(release: &Release) -> Option<time::Date> {
    let text = release.published.as_deref()?;
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::date)
}

/// Where one installed version stands against its project's releases.
#[derive(Debug, Clone)]
pub struct Standing<'a> {
    /// The installed release, by spelling or else by version equality (`1.0` is `1.0.0`).
    pub installed: Option<&'a Release>,
    /// The newest release pip would pick for it (pre-releases only for a pre-release).
    pub newest: Option<(&'a Release, Version)>,
    /// Whether the installed version orders before the newest release.
    pub behind: bool,
    /// Days from the installed release's publication to the newest's, when both are dated.
    pub days_behind: Option<i64>,
}

/// Where `version` stands in `project`.
pub fn standing<'a>(project: &'a ProjectReleases, version: &str) -> Standing<'a> {
    let parsed = Version::parse(project.ecosystem, version).ok();
    let installed = project.release(version).or_else(|| {
        let parsed = parsed.as_ref()?;
        project
            .releases
            .iter()
            .find(|r| Version::parse(project.ecosystem, &r.version).is_ok_and(|v| v == *parsed))
    });
    let prerelease = parsed.as_ref().is_some_and(Version::is_prerelease);
    let newest = newest(project, prerelease);
    let behind = parsed
        .as_ref()
        .zip(newest.as_ref())
        .is_some_and(|(mine, (_, theirs))| mine.compare(theirs) == Some(std::cmp::Ordering::Less));
    let days_behind = installed
        .and_then(published)
        .zip(newest.as_ref().and_then(|(r, _)| published(r)))
        .map(|(mine, theirs)| (theirs - mine).whole_days());
    Standing {
        installed,
        newest,
        behind,
        days_behind,
    }
}

pub(super) fn check(
    policy: &Freshness,
    component: &Component,
    project: Option<&ProjectReleases>,
    today: time::Date,
) -> Vec<Finding> {
    let (Some(project), Some(version)) = (project, component.version.as_deref()) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let Standing {
        installed,
        newest,
        behind: behind_by_version,
        days_behind,
    } = standing(project, version);

    if let (Some(level), Some(release)) = (&policy.yanked, installed)
        && release.yanked
        && let Some(severity) = Severity::of(level.value)
    {
        let reason = release
            .yanked_reason
            .as_deref()
            .map(|r| format!(": {}", r.trim()))
            .unwrap_or_default();
        let help = newest.as_ref().map_or_else(
            || format!("replace `{}`", component.name),
            |(r, _)| format!("upgrade `{}` to {}", component.name, r.version),
        );
        findings.push(
            Finding::new(
                Code::ReleaseYanked,
                severity,
                format!("`{}` {version} was yanked{reason}", component.name),
                Some(level.origin),
                help,
            )
            .about(component),
        );
    }

    if let (Some(max), Some(release), Some((newest_release, _)), Some(behind)) =
        (&policy.max_days_behind, installed, &newest, days_behind)
        && let (Some(mine), Some(theirs)) = (published(release), published(newest_release))
        && behind_by_version
        && behind > i64::from(max.value)
    {
        findings.push(
            Finding::new(
                Code::ReleaseOutdated,
                Severity::Warning,
                format!(
                    "`{}` {version} ({mine}) is {behind} days behind the newest release {} ({theirs}); at most {} allowed",
                    component.name, newest_release.version, max.value
                ),
                Some(max.origin),
                format!("upgrade `{}` to {}", component.name, newest_release.version),
            )
            .about(component),
        );
    }

    if let Some(max) = &policy.max_years_without_release
        && let Some(last) = project.releases.iter().filter_map(published).max()
    {
        let years = (today - last).whole_days() / 365;
        if years >= i64::from(max.value) {
            findings.push(
                Finding::new(
                    Code::ProjectStale,
                    Severity::Warning,
                    format!(
                        "`{}` has had no release since {last} ({years} years); at most {} allowed",
                        component.name, max.value
                    ),
                    Some(max.origin),
                    format!(
                        "check that `{}` is still maintained, or move to a maintained alternative",
                        component.name
                    ),
                )
                .about(component),
            );
        }
    }
    findings
}
