//! What is wrong with one application now, from its live instances: vulnerable components
//! (in use or only installed; matched by `runbom-analysis`), components its expected inventory
//! does not list, components whose version drifted from the expected one, tampered files, and
//! releases their package index yanked or left behind.
//! Pure: the detector feeds it from the store.

use std::collections::BTreeMap;

use runbom_analysis::policy;
use runbom_analysis::severity::Severity;
use runbom_analysis::vulns::{self, Candidate, Usage};
use runbom_model::advisory::Advisory;
use runbom_model::release::{ProjectReleases, Release};
use runbom_model::{Ecosystem, Language, PackageName};
use runbom_store::{AdvisoryMatch, IndexProject, LiveComponent, LiveRefusal, NewFinding};
use runbom_versions::Version;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::time::parse_rfc3339;
use crate::updates::UpdatePolicy;

/// Every finding of `app`.
pub(crate) fn compute(
    app: &str,
    components: &[LiveComponent],
    matches: &[AdvisoryMatch],
    alias_records: &[String],
    expected: Option<&(String, Vec<(String, String)>)>,
) -> Vec<NewFinding> {
    let aliases: Vec<Advisory> = alias_records
        .iter()
        .filter_map(|record| serde_json::from_str(record).ok())
        .collect();
    let mut findings = vulnerable(app, components, matches, &aliases);
    if let Some((release, expected)) = expected {
        findings.extend(against_expected(app, release, components, expected));
    }
    for c in components.iter().filter(|c| !c.tampered.is_empty()) {
        let files: Vec<&str> = c.tampered.lines().collect();
        findings.push(finding(
            app,
            "tampered",
            "high",
            c,
            "",
            format!(
                "{} {}: {} file(s) differ from RECORD",
                c.name,
                c.version,
                files.len()
            ),
            json!({ "files": files }),
            None,
        ));
    }
    findings
}

/// Vulnerability findings, matched by `runbom-analysis` (aliases merged, severity from CVSS or
/// the ecosystem's word); `in_use` when some live instance loaded the component.
fn vulnerable(
    app: &str,
    components: &[LiveComponent],
    matches: &[AdvisoryMatch],
    aliases: &[Advisory],
) -> Vec<NewFinding> {
    let mut by_component: BTreeMap<(&str, &str, &str), Vec<Advisory>> = BTreeMap::new();
    for m in matches {
        if let Ok(advisory) = serde_json::from_str::<Advisory>(&m.record) {
            by_component
                .entry((m.ecosystem.as_str(), m.name.as_str(), m.version.as_str()))
                .or_default()
                .push(advisory);
        }
    }
    let mut findings = Vec::new();
    for ((ecosystem, name, version), advisories) in &by_component {
        let Some(component) = components
            .iter()
            .find(|c| c.ecosystem == *ecosystem && c.name == *name && c.version == *version)
        else {
            continue;
        };
        let Ok(ecosystem) = ecosystem.parse::<Ecosystem>() else {
            continue;
        };
        let ids: Vec<Vec<String>> = advisories
            .iter()
            .map(|a| {
                std::iter::once(a.id.clone())
                    .chain(a.aliases.iter().cloned())
                    .collect()
            })
            .collect();
        let candidates: Vec<Candidate<'_>> = advisories
            .iter()
            .zip(&ids)
            .map(|(advisory, ids)| Candidate { advisory, ids })
            .collect();
        let audited = vulns::Component {
            ecosystem,
            name: PackageName::new(ecosystem, name),
            version: (*version).to_owned(),
            usage: if component.loaded {
                Usage::Loaded {
                    modules: Vec::new(),
                }
            } else {
                Usage::InstalledNotLoaded
            },
            sources: Vec::new(),
            linked: None,
        };
        // A version that does not parse cannot be matched; it is not a finding.
        let Ok(found) = vulns::match_component(&audited, &candidates) else {
            continue;
        };
        let upgrade = smallest_upgrade(&audited, &candidates, &found);
        for f in found {
            let severity = f.severity.clone().or_else(|| alias_severity(aliases, &f));
            let published = advisories
                .iter()
                .filter(|a| f.ids().any(|id| id == a.id))
                .filter_map(|a| a.published.as_deref().and_then(parse_rfc3339))
                .min();
            let stored = matches
                .iter()
                .filter(|m| f.ids().any(|id| id == m.advisory_id))
                .filter_map(|m| m.stored_at)
                .min();
            let summary = f
                .summary
                .clone()
                .unwrap_or_else(|| format!("{} affects {name} {version}", f.id));
            findings.push(
                finding(
                    app,
                    "vulnerable",
                    severity.as_ref().map_or("unknown", |s| s.level.as_str()),
                    component,
                    &f.id,
                    summary,
                    json!({
                        "aliases": f.aliases, "affected": f.affected, "fixed": f.fixed,
                        "upgrade": upgrade, "cvss": severity.as_ref().and_then(|s| s.vector.clone()),
                    }),
                    published,
                )
                .detectable(stored, component.first_seen),
            );
        }
    }
    findings
}

/// `yanked` and `outdated` findings: a live component whose release its index yanked, or that
/// is behind the index's newest release past `policy`'s threshold (judged by `runbom-analysis`'s
/// freshness rules).
pub(crate) fn updates(
    app: &str,
    components: &[LiveComponent],
    projects: &[IndexProject],
    policy: &UpdatePolicy,
) -> Vec<NewFinding> {
    let mut findings = Vec::new();
    for project in projects {
        let Ok(ecosystem) = project.ecosystem.parse::<Ecosystem>() else {
            continue;
        };
        let Ok(releases) = serde_json::from_str::<Vec<Release>>(&project.releases) else {
            continue;
        };
        let releases = ProjectReleases {
            ecosystem,
            name: PackageName::new(ecosystem, &project.name),
            releases,
        };
        let running = components
            .iter()
            .filter(|c| c.ecosystem == project.ecosystem && c.name == project.name);
        for c in running {
            let standing = policy::standing(&releases, &c.version);
            let newest = standing.newest.as_ref().map(|(r, _)| *r);
            let upgrade = newest.map_or_else(
                || format!("no release replaces {}", c.version),
                |r| format!("upgrade to {}", r.version),
            );
            let newest_json =
                newest.map(|r| json!({ "version": r.version, "published": r.published }));
            if let (Some(severity), Some(release)) = (policy.yanked, standing.installed)
                && release.yanked
            {
                let reason = release
                    .yanked_reason
                    .as_deref()
                    .map(|r| format!(" ({})", r.trim()))
                    .unwrap_or_default();
                findings.push(finding(
                    app,
                    "yanked",
                    severity,
                    c,
                    "",
                    format!(
                        "{} {} was yanked from the {ecosystem} index{reason}; {upgrade}",
                        c.name, c.version
                    ),
                    json!({ "reason": release.yanked_reason, "newest": newest_json }),
                    None,
                ));
            } else if standing.behind
                && policy
                    .max_days_behind
                    .is_none_or(|max| standing.days_behind.is_some_and(|d| d > i64::from(max)))
                && let Some(newest) = newest
            {
                let behind = standing
                    .days_behind
                    .map(|d| format!("{d} days "))
                    .unwrap_or_default();
                findings.push(finding(
                    app,
                    "outdated",
                    "low",
                    c,
                    "",
                    format!(
                        "{} {} is {behind}behind the newest release {}",
                        c.name, c.version, newest.version
                    ),
                    json!({ "newest": newest_json, "days_behind": standing.days_behind }),
                    None,
                ));
            }
        }
    }
    findings
}

/// What fixes a vulnerability finding, from its `detail`: the lowest version its advisory does
/// not affect, and the smallest upgrade that clears every advisory of the component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Remedy {
    pub(crate) fixed: Option<String>,
    pub(crate) upgrade: Option<String>,
}

impl Remedy {
    pub(crate) fn of(detail: &serde_json::Value) -> Self {
        let text = |field: &str| detail.get(field)?.as_str().map(str::to_owned);
        Remedy {
            fixed: text("fixed"),
            upgrade: text("upgrade"),
        }
    }
}

/// The highest CVSS severity of the other records of `f`'s vulnerability (linked to it through
/// an id), for a finding whose own records carry none.
fn alias_severity(aliases: &[Advisory], f: &vulns::Finding) -> Option<Severity> {
    aliases
        .iter()
        .filter(|a| {
            std::iter::once(&a.id)
                .chain(&a.aliases)
                .any(|id| f.ids().any(|mine| mine == id))
        })
        .filter_map(|a| Severity::of(a, None))
        .max_by(|a, b| {
            a.level
                .cmp(&b.level)
                .then(a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
        })
}

/// The smallest of the findings' fixed versions (by the ecosystem's version order) that none of
/// the component's advisories affects: the one upgrade that clears them all.
fn smallest_upgrade(
    audited: &vulns::Component,
    candidates: &[Candidate<'_>],
    found: &[vulns::Finding],
) -> Option<String> {
    let mut fixes: Vec<(Version, &str)> = found
        .iter()
        .filter_map(|f| f.fixed.as_deref())
        .filter_map(|v| Some((Version::parse(audited.ecosystem, v).ok()?, v)))
        .collect();
    fixes.sort_by(|a, b| a.0.compare(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    fixes.into_iter().find_map(|(_, version)| {
        let upgraded = vulns::Component {
            version: version.to_owned(),
            ..audited.clone()
        };
        vulns::match_component(&upgraded, candidates)
            .is_ok_and(|left| left.is_empty())
            .then(|| version.to_owned())
    })
}

fn against_expected(
    app: &str,
    release: &str,
    components: &[LiveComponent],
    expected: &[(String, String)],
) -> Vec<NewFinding> {
    let mut findings = Vec::new();
    for c in components {
        let pins: Vec<&str> = expected
            .iter()
            .filter(|(name, _)| *name == c.name)
            .map(|(_, version)| version.as_str())
            .collect();
        if pins.is_empty() {
            findings.push(finding(
                app,
                "unexpected",
                if c.loaded { "high" } else { "medium" },
                c,
                "",
                format!(
                    "{} {} is not in release {release}'s expected inventory",
                    c.name, c.version
                ),
                json!({ "release": release }),
                None,
            ));
        } else if !pins.contains(&"") && !pins.contains(&c.version.as_str()) {
            findings.push(finding(
                app,
                "drift",
                "medium",
                c,
                "",
                format!(
                    "{} runs {} but release {release} expects {}",
                    c.name,
                    c.version,
                    pins.join(" or ")
                ),
                json!({ "release": release, "expected": pins }),
                None,
            ));
        }
    }
    findings
}

/// `refused` findings: one per application, component (or module owned by none), rule and
/// whether it was enforced, naming every live instance (host, pid) and the module that imported
/// it. A refused import is `high`; one monitor mode would have refused is `medium`.
pub(crate) fn refused(app: &str, refusals: &[LiveRefusal]) -> Vec<NewFinding> {
    let mut grouped: BTreeMap<(&str, &str, &str, bool), Vec<&LiveRefusal>> = BTreeMap::new();
    for r in refusals {
        let subject = if r.distribution.is_empty() {
            r.module.split('.').next().unwrap_or(&r.module)
        } else {
            r.distribution.as_str()
        };
        grouped
            .entry((subject, r.version.as_str(), r.rule.as_str(), r.enforced))
            .or_default()
            .push(r);
    }
    grouped
        .into_iter()
        .map(|((subject, version, rule, enforced), events)| {
            let first = events[0];
            let mut hasher = Sha256::new();
            for part in [
                app,
                "refused",
                subject,
                version,
                rule,
                if enforced { "1" } else { "0" },
            ] {
                hasher.update(part.as_bytes());
                hasher.update([0x1f]);
            }
            let mut places: Vec<String> = events
                .iter()
                .map(|e| format!("{} pid {}", e.host, e.pid))
                .collect();
            places.dedup();
            let owner = if first.distribution.is_empty() {
                "no distribution".to_owned()
            } else {
                format!("{} {}", first.distribution, first.version)
            };
            let importer = if first.importer.is_empty() {
                String::new()
            } else {
                format!(", imported by `{}`", first.importer)
            };
            let summary = format!(
                "{} import of `{}` ({owner}) on {}{importer}: {} (rule `{rule}`{})",
                if enforced { "refused" } else { "would refuse" },
                first.module,
                places.join(", "),
                first.why,
                if first.config_line > 0 {
                    format!(", runbom.toml line {}", first.config_line)
                } else {
                    String::new()
                }
            );
            let instances: Vec<_> = events
                .iter()
                .map(|e| {
                    json!({ "host": e.host, "pid": e.pid, "module": e.module, "file": e.file,
                            "importer": e.importer, "at": e.at })
                })
                .collect();
            NewFinding {
                key: hex::encode(&hasher.finalize()[..16]),
                kind: "refused".to_owned(),
                severity: if enforced { "high" } else { "medium" }.to_owned(),
                ecosystem: first
                    .language
                    .parse::<Language>()
                    .map(|l| l.ecosystem().as_str().to_owned())
                    .unwrap_or_default(),
                name: subject.to_owned(),
                version: version.to_owned(),
                advisory_id: String::new(),
                in_use: !enforced,
                summary,
                detail: json!({
                    "rule": rule, "why": first.why, "config_line": first.config_line,
                    "enforced": enforced, "instances": instances,
                })
                .to_string(),
                published_at: None,
                detectable_at: None,
                detectable_from: String::new(),
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn finding(
    app: &str,
    kind: &str,
    severity: &str,
    c: &LiveComponent,
    advisory_id: &str,
    summary: String,
    mut detail: serde_json::Value,
    published_at: Option<i64>,
) -> NewFinding {
    let mut hasher = Sha256::new();
    for part in [app, kind, &c.name, &c.version, advisory_id] {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    // PyPI left out, so that the keys of findings opened before ecosystems stay equal.
    if c.ecosystem != "PyPI" {
        hasher.update(c.ecosystem.as_bytes());
    }
    let instances: Vec<_> = c
        .instances
        .iter()
        .map(|(host, pid)| json!({ "host": host, "pid": pid }))
        .collect();
    detail["instances"] = json!(instances);
    NewFinding {
        key: hex::encode(&hasher.finalize()[..16]),
        kind: kind.to_owned(),
        severity: severity.to_owned(),
        ecosystem: c.ecosystem.clone(),
        name: c.name.clone(),
        version: c.version.clone(),
        advisory_id: advisory_id.to_owned(),
        in_use: c.loaded,
        summary,
        detail: detail.to_string(),
        published_at,
        detectable_at: None,
        detectable_from: String::new(),
    }
}

/// Sets when the server could first have known of a vulnerability finding: the latest of the
/// advisory's publication, its arrival in the store and the component's first sighting.
trait Detectable {
    fn detectable(self, stored_at: Option<i64>, first_seen: i64) -> Self;
}

impl Detectable for NewFinding {
    fn detectable(mut self, stored_at: Option<i64>, first_seen: i64) -> Self {
        let candidates = [
            (self.published_at, "published"),
            (stored_at, "stored"),
            (Some(first_seen), "first_seen"),
        ];
        if let Some((at, from)) = candidates
            .iter()
            .filter_map(|(at, from)| at.map(|at| (at, *from)))
            .max_by_key(|(at, _)| *at)
        {
            self.detectable_at = Some(at);
            self.detectable_from = from.to_owned();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(name: &str, version: &str, loaded: bool) -> LiveComponent {
        LiveComponent {
            ecosystem: "PyPI".into(),
            name: name.into(),
            version: version.into(),
            loaded,
            tampered: String::new(),
            instances: vec![("web-1".into(), 42)],
            first_seen: 0,
        }
    }

    fn advisory_match(name: &str, version: &str) -> AdvisoryMatch {
        let record = json!({
            "id": "GHSA-test", "modified": "2024-01-01T00:00:00Z",
            "published": "2024-01-01T00:00:00Z", "summary": "bad thing",
            "database_specific": {"severity": "MODERATE"},
            "affected": [{"package": {"ecosystem": "PyPI", "name": "Py_YAML"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "6.0"}]}]}]
        });
        AdvisoryMatch {
            ecosystem: "PyPI".into(),
            name: name.into(),
            version: version.into(),
            advisory_id: "GHSA-test".into(),
            record: record.to_string(),
            stored_at: Some(1_800_000_000_000),
        }
    }

    #[test]
    fn a_vulnerable_loaded_component_is_in_use_and_names_its_instances() {
        let found = compute(
            "shop",
            &[component("py-yaml", "5.4", true)],
            &[advisory_match("py-yaml", "5.4")],
            &[],
            None,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, "vulnerable");
        assert_eq!(found[0].severity, "medium");
        assert!(found[0].in_use);
        assert!(found[0].detail.contains("web-1"), "{}", found[0].detail);
        assert_eq!(found[0].published_at, Some(1_704_067_200_000));
        assert_eq!(found[0].detectable_at, Some(1_800_000_000_000));
        assert_eq!(found[0].detectable_from, "stored");
    }

    fn project(releases: serde_json::Value) -> IndexProject {
        IndexProject {
            ecosystem: "PyPI".into(),
            name: "py-yaml".into(),
            releases: releases.to_string(),
            checked_at: 0,
            changed_at: Some(0),
            error: String::new(),
        }
    }

    #[test]
    fn a_release_behind_the_threshold_is_outdated_and_a_yanked_one_is_yanked() {
        let index = project(json!([
            {"version": "5.4", "published": "2021-01-20T00:00:00Z", "yanked": false},
            {"version": "5.5", "published": "2021-03-01T00:00:00Z", "yanked": true,
             "yanked_reason": "broken"},
            {"version": "6.0", "published": "2021-10-13T00:00:00Z", "yanked": false},
            {"version": "7.0b1", "published": "2022-01-01T00:00:00Z", "yanked": false},
        ]));
        let running = [
            component("py-yaml", "5.4", true),
            component("py-yaml", "5.5", false),
        ];
        let any_newer = UpdatePolicy::default();
        let found = updates("shop", &running, std::slice::from_ref(&index), &any_newer);
        let kinds: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.kind.as_str(), f.version.as_str()))
            .collect();
        assert_eq!(kinds, [("outdated", "5.4"), ("yanked", "5.5")]);
        assert_eq!(
            found[0].summary,
            "py-yaml 5.4 is 266 days behind the newest release 6.0"
        );
        assert_eq!(
            found[1].summary,
            "py-yaml 5.5 was yanked from the PyPI index (broken); upgrade to 6.0"
        );

        let lenient = UpdatePolicy {
            max_days_behind: Some(300),
            yanked: None,
        };
        assert!(updates("shop", &running, &[index], &lenient).is_empty());
    }

    #[test]
    fn a_fixed_version_is_not_vulnerable() {
        let found = compute(
            "shop",
            &[component("py-yaml", "6.0", true)],
            &[advisory_match("py-yaml", "6.0")],
            &[],
            None,
        );
        assert!(found.is_empty());
    }

    #[test]
    fn a_refused_import_is_a_finding_naming_host_pid_and_importer() {
        let refusal = |host: &str, pid: i64, enforced: bool| LiveRefusal {
            host: host.into(),
            language: "python".into(),
            pid,
            module: "idna.core".into(),
            file: "/venv/lib/python3.11/site-packages/idna/core.py".into(),
            distribution: "idna".into(),
            version: "3.10".into(),
            rule: "listed".into(),
            why: "not in the expected inventory `requirements.txt`".into(),
            config_line: 4,
            importer: "app.views".into(),
            enforced,
            at: "2026-12-06T10:00:00Z".into(),
        };
        let found = refused(
            "shop",
            &[
                refusal("web-1", 42, true),
                refusal("web-2", 7, true),
                refusal("web-3", 9, false),
            ],
        );
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].kind.as_str(), found[0].severity.as_str()),
            ("refused", "medium")
        );
        assert_eq!(found[1].severity, "high");
        assert_eq!(
            found[1].summary,
            "refused import of `idna.core` (idna 3.10) on web-1 pid 42, web-2 pid 7, imported by \
             `app.views`: not in the expected inventory `requirements.txt` (rule `listed`, \
             runbom.toml line 4)"
        );
        assert!(found[1].detail.contains("\"pid\":7"), "{}", found[1].detail);
        assert_eq!(found[1].ecosystem, "PyPI");
        assert_ne!(found[0].key, found[1].key);
    }

    #[test]
    fn unexpected_and_drifted_components_are_found() {
        let expected = (
            "1.0".to_owned(),
            vec![("flask".to_owned(), "3.0.0".to_owned())],
        );
        let found = compute(
            "shop",
            &[
                component("flask", "3.0.1", true),
                component("evil", "1", false),
            ],
            &[],
            &[],
            Some(&expected),
        );
        let kinds: Vec<&str> = found.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["drift", "unexpected"]);
        assert_ne!(found[0].key, found[1].key);
    }
}
