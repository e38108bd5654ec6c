use serde_json::json;

use super::*;
use crate::severity::SeverityLevel;

fn advisory(value: Value) -> Advisory {
    let mut base = json!({"id": "X", "modified": "2024-01-01T00:00:00Z"});
    base.as_object_mut()
        .unwrap()
        .extend(value.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

fn pypi(name: &str, version: &str, usage: Usage) -> Component {
    Component {
        ecosystem: Ecosystem::PyPi,
        name: PackageName::pypi(name),
        version: version.to_owned(),
        usage,
        sources: vec!["installed".to_owned()],
        linked: None,
    }
}

fn loaded(modules: &[&str]) -> Usage {
    Usage::Loaded {
        modules: modules.iter().map(|m| m.to_string()).collect(),
    }
}

fn run(component: &Component, advisories: &[(Advisory, Vec<String>)]) -> Vec<Finding> {
    let candidates: Vec<Candidate<'_>> = advisories
        .iter()
        .map(|(advisory, ids)| Candidate { advisory, ids })
        .collect();
    match_component(component, &candidates).unwrap()
}

fn own_ids(advisory: Advisory) -> (Advisory, Vec<String>) {
    let ids = advisory.ids().into_iter().map(str::to_owned).collect();
    (advisory, ids)
}

fn yaml_range(id: &str, aliases: &[&str], events: Value) -> Advisory {
    advisory(json!({
        "id": id,
        "aliases": aliases,
        "details": "First line of the details.\nSecond line.",
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": "PyYAML"},
            "ranges": [{"type": "ECOSYSTEM", "events": events}]
        }]
    }))
}

#[test]
fn records_sharing_an_id_are_one_finding_under_every_id() {
    let pysec = yaml_range(
        "PYSEC-2021-142",
        &["CVE-2020-14343", "GHSA-8q59-q68h-6hv4"],
        json!([{"introduced": "0"}, {"fixed": "5.4"}]),
    );
    let mut ghsa = yaml_range(
        "GHSA-8q59-q68h-6hv4",
        &["CVE-2020-14343"],
        json!([{"introduced": "5.1"}, {"fixed": "5.4"}]),
    );
    ghsa.severity = vec![runbom_model::advisory::Severity {
        kind: "CVSS_V3".into(),
        score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
    }];
    let other = yaml_range(
        "PYSEC-2020-96",
        &["CVE-2020-1747"],
        json!([{"introduced": "5.1b7"}, {"fixed": "5.3.1"}]),
    );
    let component = pypi("pyyaml", "5.3", Usage::Unknown);
    let findings = run(&component, &[own_ids(pysec), own_ids(ghsa), own_ids(other)]);
    assert_eq!(findings.len(), 2);
    let merged = findings
        .iter()
        .find(|f| f.aliases.contains(&"CVE-2020-14343".to_owned()))
        .unwrap();
    assert_eq!(merged.id, "GHSA-8q59-q68h-6hv4");
    assert_eq!(merged.aliases, ["CVE-2020-14343", "PYSEC-2021-142"]);
    assert_eq!(merged.affected, ["<5.4", ">=5.1, <5.4"]);
    assert_eq!(merged.fixed.as_deref(), Some("5.4"));
    assert_eq!(
        merged.severity.as_ref().unwrap().level,
        SeverityLevel::Critical
    );
    assert_eq!(
        merged.summary.as_deref(),
        Some("First line of the details.")
    );
}

#[test]
fn store_merged_ids_join_records_without_a_shared_alias() {
    let a = yaml_range("PYSEC-1", &[], json!([{"introduced": "0"}, {"fixed": "6"}]));
    let b = yaml_range("GHSA-1", &[], json!([{"introduced": "0"}, {"fixed": "6"}]));
    let ids = vec!["PYSEC-1".to_owned(), "GHSA-1".to_owned()];
    let findings = run(
        &pypi("PyYAML", "5.3", Usage::Unknown),
        &[(a, ids.clone()), (b, ids)],
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (findings[0].id.as_str(), &findings[0].aliases[..]),
        ("GHSA-1", &["PYSEC-1".to_owned()][..])
    );
}

#[test]
fn withdrawn_other_packages_and_unaffected_versions_do_not_match() {
    let mut withdrawn = yaml_range("A", &[], json!([{"introduced": "0"}]));
    withdrawn.withdrawn = Some("2024-02-01T00:00:00Z".into());
    let fixed = yaml_range("B", &[], json!([{"introduced": "0"}, {"fixed": "5.3"}]));
    let mut other = yaml_range("C", &[], json!([{"introduced": "0"}]));
    other.affected[0].package.as_mut().unwrap().name = "ruamel.yaml".into();
    let findings = run(
        &pypi("pyyaml", "5.3", Usage::Unknown),
        &[own_ids(withdrawn), own_ids(fixed), own_ids(other)],
    );
    assert_eq!(findings, []);
}

#[test]
fn a_version_that_does_not_parse_is_unchecked_not_clean() {
    let a = yaml_range("A", &[], json!([{"introduced": "0"}]));
    let (advisory, ids) = own_ids(a);
    let component = pypi("pyyaml", "not-a-version!", Usage::Unknown);
    let err = match_component(
        &component,
        &[Candidate {
            advisory: &advisory,
            ids: &ids,
        }],
    )
    .unwrap_err();
    assert_eq!(err.package.name.as_str(), "pyyaml");
    assert!(err.error.contains("not-a-version!"), "{}", err.error);
}

#[test]
fn ranges_read_as_specifiers() {
    let text = |introduced: &str, until: Option<Bound>| {
        range_text(&Match::Range {
            range: 0,
            kind: runbom_model::advisory::RangeKind::Ecosystem,
            introduced: introduced.into(),
            until,
        })
    };
    assert_eq!(
        text("1.0", Some(Bound::Fixed("1.2.3".into()))),
        ">=1.0, <1.2.3"
    );
    assert_eq!(text("0", Some(Bound::LastAffected("2.1".into()))), "<=2.1");
    assert_eq!(text("3.0", None), ">=3.0");
    assert_eq!(text("0", None), "all versions");
    assert_eq!(
        range_text(&Match::Listed {
            version: "5.3".into()
        }),
        "==5.3"
    );
}

fn pillow() -> (Advisory, Vec<String>) {
    own_ids(advisory(json!({
        "id": "PYSEC-2099-1",
        "summary": "ImageFont overflow",
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": "Pillow"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "10.0"}]}],
            "ecosystem_specific": {"imports": [
                {"attribute": "ImageFont", "modules": ["PIL", "PIL.ImageFont"]}
            ]}
        }]
    })))
}

#[test]
fn named_vulnerable_modules_are_checked_against_what_was_loaded() {
    let used = run(
        &pypi("pillow", "9.0", loaded(&["PIL", "PIL.ImageFont"])),
        &[pillow()],
    );
    let code = used[0].vulnerable_code.as_ref().unwrap();
    assert_eq!(code.named, ["PIL.ImageFont:ImageFont", "PIL:ImageFont"]);
    assert_eq!(
        code.loaded.as_deref(),
        Some(&["PIL".to_owned(), "PIL.ImageFont".to_owned()][..])
    );
    assert_eq!(used[0].runtime_rank(), 0);

    let unused = run(&pypi("pillow", "9.0", loaded(&["PIL.Image"])), &[pillow()]);
    assert_eq!(
        unused[0].vulnerable_code.as_ref().unwrap().loaded,
        Some(vec![])
    );
    assert_eq!(unused[0].runtime_rank(), 1);

    let unknown = run(&pypi("pillow", "9.0", Usage::Unknown), &[pillow()]);
    assert_eq!(unknown[0].vulnerable_code.as_ref().unwrap().loaded, None);
}

#[test]
fn go_imports_and_function_lists_name_code() {
    let entry: Affected = serde_json::from_value(json!({
        "ecosystem_specific": {"imports": [
            {"path": "golang.org/x/net/html", "symbols": ["Parse", "Tokenizer.Next"]},
            {"path": "golang.org/x/net/http2"}
        ]},
        "database_specific": {"affects": {"functions": ["django.contrib.auth.views.login"]}}
    }))
    .unwrap();
    let (named, modules, elsewhere) = named_code(&entry, None).unwrap();
    assert!(elsewhere.is_empty());
    assert_eq!(
        named,
        [
            "django.contrib.auth.views.login",
            "golang.org/x/net/html.Parse",
            "golang.org/x/net/html.Tokenizer.Next",
            "golang.org/x/net/http2",
        ]
    );
    assert_eq!(
        modules,
        [
            "django.contrib.auth.views",
            "golang.org/x/net/html",
            "golang.org/x/net/http2"
        ]
    );
    assert_eq!(
        module_of("http::header::HeaderMap::reserve"),
        "http::header::HeaderMap"
    );
}

fn finding(id: &str, runtime: Usage, level: Option<SeverityLevel>) -> Finding {
    Finding {
        id: id.into(),
        aliases: vec![],
        summary: None,
        severity: level.map(|level| Severity {
            level,
            score: None,
            vector: None,
            source: "test".into(),
        }),
        package: FindingPackage {
            ecosystem: Ecosystem::PyPi,
            name: PackageName::pypi("p"),
            version: "1".into(),
        },
        affected: vec![],
        fixed: None,
        runtime,
        vulnerable_code: None,
        ignore: None,
        sources: vec![],
    }
}

#[test]
fn rank_is_runtime_use_then_severity_then_id() {
    let mut findings = vec![
        finding("A", Usage::Unknown, Some(SeverityLevel::Critical)),
        finding(
            "B",
            Usage::InstalledNotLoaded,
            Some(SeverityLevel::Critical),
        ),
        finding("C", loaded(&["p"]), None),
        finding("D", loaded(&["p"]), Some(SeverityLevel::Low)),
        finding("E", loaded(&["p"]), Some(SeverityLevel::High)),
        finding("F", loaded(&["p"]), Some(SeverityLevel::High)),
    ];
    rank(&mut findings);
    let order: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(order, ["E", "F", "D", "C", "B", "A"]);
}

#[test]
fn ignores_hide_until_they_expire() {
    let mut findings = vec![
        finding("PYSEC-1", Usage::Unknown, None),
        finding("PYSEC-2", Usage::Unknown, None),
        finding("PYSEC-3", Usage::Unknown, None),
    ];
    findings[0].aliases = vec!["CVE-2020-1".into()];
    let ignore = |id: &str, expires: Option<&str>| Ignore {
        id: id.into(),
        reason: "not reachable".into(),
        expires: expires.map(str::to_owned),
    };
    apply_ignores(
        &mut findings,
        &[
            ignore("cve-2020-1", None),
            ignore("PYSEC-2", Some("2026-11-24")),
        ],
        "2026-11-25",
    );
    assert!(findings[0].is_ignored());
    assert_eq!(findings[0].ignore.as_ref().unwrap().id, "cve-2020-1");
    assert!(!findings[1].is_ignored());
    assert!(findings[1].ignore.as_ref().unwrap().expired);
    assert_eq!(findings[2].ignore, None);
    apply_ignores(
        &mut findings,
        &[ignore("PYSEC-2", Some("2026-11-25"))],
        "2026-11-25",
    );
    assert!(
        findings[1].is_ignored(),
        "an ignore holds through its last day"
    );
}

#[test]
fn evidence_merges_towards_loaded() {
    let merged = merge_components([
        pypi("PyYAML", "5.3", Usage::Unknown),
        Component {
            sources: vec!["report.json".into()],
            ..pypi("pyyaml", "5.3", loaded(&["yaml"]))
        },
        pypi("pyyaml", "5.3", loaded(&["yaml.constructor", "yaml"])),
        pypi("pyyaml", "5.4", Usage::InstalledNotLoaded),
        pypi("pyyaml", "5.4", Usage::Unknown),
    ]);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0].usage, loaded(&["yaml", "yaml.constructor"]));
    assert_eq!(merged[0].sources, ["installed", "report.json"]);
    assert_eq!(merged[1].usage, Usage::InstalledNotLoaded);
}

#[test]
fn go_symbols_of_another_platform_are_not_linked_code() {
    let advisory: Advisory = serde_json::from_value(json!({
        "id": "GO-2025-3750", "modified": "2025-06-11T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Go", "name": "stdlib"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.23.10"}]}],
            "ecosystem_specific": {"imports": [
                {"path": "os", "goos": ["windows"], "symbols": ["NewFile", "Open"]},
                {"path": "os", "symbols": ["Open"]}
            ]}}]
    }))
    .unwrap();
    let linked = |os: &str| Component {
        ecosystem: Ecosystem::Go,
        name: PackageName::new(Ecosystem::Go, "stdlib"),
        version: "go1.19.8".to_owned(),
        usage: loaded(&["os"]),
        sources: vec![],
        linked: Some(std::sync::Arc::new(LinkedCode {
            os: os.to_owned(),
            arch: "amd64".to_owned(),
            symbols: vec!["os.NewFile".to_owned()],
        })),
    };
    let ids = ["GO-2025-3750".to_owned()];
    let candidates = [Candidate {
        advisory: &advisory,
        ids: &ids,
    }];
    let on = |os: &str| {
        let found = match_component(&linked(os), &candidates).unwrap();
        found[0]
            .vulnerable_code
            .as_ref()
            .unwrap()
            .linked
            .clone()
            .unwrap()
    };
    assert_eq!(on("windows"), ["os.NewFile"]);
    assert!(
        on("linux").is_empty(),
        "os.NewFile is vulnerable on Windows only"
    );
}

#[test]
fn may_affect_agrees_with_match_component_and_keeps_what_cannot_be_compared() {
    let record = yaml_range(
        "PYSEC-1",
        &[],
        json!([{"introduced": "5.1"}, {"fixed": "5.4"}]),
    );
    for (version, affected) in [("5.3", true), ("5.4", false), ("5.0", false)] {
        let component = pypi("pyyaml", version, loaded(&["yaml"]));
        assert_eq!(
            may_affect(&component, &record.affected),
            affected,
            "{version}"
        );
        assert_eq!(
            !run(&component, &[own_ids(record.clone())]).is_empty(),
            affected,
            "{version}"
        );
    }
    let other = pypi("other", "5.3", Usage::Unknown);
    assert!(
        !may_affect(&other, &record.affected),
        "names another package"
    );
    let unparsable = pypi("pyyaml", "not a version", Usage::Unknown);
    assert!(may_affect(&unparsable, &record.affected));
}
