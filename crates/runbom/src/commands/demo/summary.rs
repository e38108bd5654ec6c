//! The three lines `runbom demo` prints once its findings are on the dashboard: what runs,
//! what is vulnerable and loaded, what drifted.

use std::collections::{BTreeMap, BTreeSet};

use runbom_store::{FindingRecord, InstanceView, LiveComponent};

/// `[runs, vulnerable and loaded, drifted]`, each one line.
pub fn lines(
    instances: &[InstanceView],
    components: &[LiveComponent],
    findings: &[FindingRecord],
) -> [String; 3] {
    [
        runs(instances, components),
        vulnerable(findings),
        drifted(findings),
    ]
}

fn runs(instances: &[InstanceView], components: &[LiveComponent]) -> String {
    let environments: BTreeSet<&str> = instances.iter().map(|i| i.environment.as_str()).collect();
    let mut loaded: BTreeMap<&str, bool> = BTreeMap::new();
    for c in components {
        *loaded.entry(c.name.as_str()).or_default() |= c.loaded;
    }
    let never: Vec<&str> = loaded
        .iter()
        .filter(|(_, l)| !**l)
        .map(|(n, _)| *n)
        .collect();
    let mut line = format!(
        "runs: {} instances ({}); {} of {} installed distributions loaded",
        instances.len(),
        environments.into_iter().collect::<Vec<_>>().join(", "),
        loaded.values().filter(|l| **l).count(),
        loaded.len(),
    );
    if !never.is_empty() {
        line.push_str(&format!(", never loaded: {}", first_few(&never)));
    }
    line
}

/// Up to [`FEW`] names, then how many more: a summary line stays one line.
fn first_few(names: &[&str]) -> String {
    match names.len().checked_sub(FEW) {
        Some(more) if more > 0 => format!("{} and {more} more", names[..FEW].join(", ")),
        _ => names.join(", "),
    }
}

const FEW: usize = 5;

fn vulnerable(findings: &[FindingRecord]) -> String {
    let mut by_component: BTreeMap<(&str, &str), (usize, &str)> = BTreeMap::new();
    for f in findings
        .iter()
        .map(|f| &f.finding)
        .filter(|f| f.kind == "vulnerable" && f.in_use)
    {
        let entry = by_component
            .entry((f.name.as_str(), f.version.as_str()))
            .or_insert((0, f.severity.as_str()));
        entry.0 += 1;
        if rank(&f.severity) > rank(entry.1) {
            entry.1 = f.severity.as_str();
        }
    }
    let mut ranked: Vec<_> = by_component.into_iter().collect();
    ranked.sort_by(|(a, (na, sa)), (b, (nb, sb))| {
        rank(sb).cmp(&rank(sa)).then(nb.cmp(na)).then(a.cmp(b))
    });
    let parts: Vec<String> = ranked
        .iter()
        .map(|((name, version), (count, worst))| {
            let advisories = if *count == 1 {
                "advisory"
            } else {
                "advisories"
            };
            format!("{name} {version} ({count} {advisories}, worst {worst})")
        })
        .collect();
    format!("vulnerable and loaded: {}", or_nothing(&parts))
}

fn drifted(findings: &[FindingRecord]) -> String {
    let parts: Vec<String> = findings
        .iter()
        .filter(|f| f.finding.kind == "drift")
        .map(|f| f.finding.summary.clone())
        .collect();
    format!("drifted: {}", or_nothing(&parts))
}

fn or_nothing(parts: &[String]) -> String {
    if parts.is_empty() {
        "nothing".to_owned()
    } else {
        parts.join("; ")
    }
}

/// Severity order, worst highest; unknown names rank lowest.
fn rank(severity: &str) -> u8 {
    match severity {
        "critical" => 4,
        "high" => 3,
        "medium" | "moderate" => 2,
        "low" => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use runbom_store::NewFinding;

    use super::*;

    fn finding(
        kind: &str,
        name: &str,
        version: &str,
        severity: &str,
        in_use: bool,
    ) -> FindingRecord {
        FindingRecord {
            app: "storefront".into(),
            finding: NewFinding {
                key: format!("{kind}{name}{version}{severity}"),
                kind: kind.into(),
                severity: severity.into(),
                ecosystem: "PyPI".into(),
                name: name.into(),
                version: version.into(),
                advisory_id: String::new(),
                in_use,
                summary: format!("{name} runs {version} but release 1.4.0 expects 1.26.4"),
                detail: "{}".into(),
                published_at: None,
                detectable_at: None,
                detectable_from: String::new(),
            },
            opened_at: 0,
            analysis: None,
            resolved_at: None,
        }
    }

    fn component(name: &str, version: &str, loaded: bool) -> LiveComponent {
        LiveComponent {
            ecosystem: "PyPI".into(),
            name: name.into(),
            version: version.into(),
            loaded,
            tampered: String::new(),
            instances: vec![],
            first_seen: 0,
        }
    }

    fn instance(environment: &str) -> InstanceView {
        InstanceView {
            id: 1,
            environment: environment.into(),
            host: "h".into(),
            pid: 1,
            command: String::new(),
            language: "python".into(),
            interpreter: String::new(),
            started_at: String::new(),
            first_seen: 0,
            last_seen: 0,
            gone: false,
            complete: false,
        }
    }

    #[test]
    fn three_lines_rank_the_worst_first_and_skip_what_is_not_loaded() {
        let findings = [
            finding("vulnerable", "requests", "2.25.1", "medium", true),
            finding("vulnerable", "urllib3", "1.26.4", "medium", true),
            finding("vulnerable", "urllib3", "1.26.4", "high", true),
            finding("vulnerable", "six", "1.15.0", "critical", false),
            finding("drift", "urllib3", "1.26.5", "medium", true),
        ];
        let components = [
            component("urllib3", "1.26.4", true),
            component("urllib3", "1.26.5", true),
            component("six", "1.15.0", false),
        ];
        let [runs, vulnerable, drifted] = lines(
            &[instance("prod"), instance("staging")],
            &components,
            &findings,
        );
        assert_eq!(
            runs,
            "runs: 2 instances (prod, staging); 1 of 2 installed distributions loaded, \
             never loaded: six"
        );
        assert_eq!(
            vulnerable,
            "vulnerable and loaded: urllib3 1.26.4 (2 advisories, worst high); \
             requests 2.25.1 (1 advisory, worst medium)"
        );
        assert_eq!(
            drifted,
            "drifted: urllib3 runs 1.26.5 but release 1.4.0 expects 1.26.4"
        );
    }

    #[test]
    fn a_long_list_of_unused_distributions_is_cut_short() {
        let components: Vec<LiveComponent> = ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .map(|n| component(n, "1", false))
            .collect();
        let [runs, ..] = lines(&[instance("prod")], &components, &[]);
        assert!(
            runs.ends_with("never loaded: a, b, c, d, e and 2 more"),
            "{runs}"
        );
    }

    #[test]
    fn nothing_is_said_plainly() {
        let [_, vulnerable, drifted] = lines(&[], &[], &[]);
        assert_eq!(vulnerable, "vulnerable and loaded: nothing");
        assert_eq!(drifted, "drifted: nothing");
    }
}
