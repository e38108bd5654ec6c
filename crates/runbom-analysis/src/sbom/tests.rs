use runbom_model::inventory::LicenseSources;

use super::*;

/// A report of `id`, covering `started`..`reported`, that loaded `yaml` (two modules, one of
/// them changed after install) and left `six` unloaded.
pub(crate) fn report(id: &str, started: &str, reported: &str) -> RuntimeReport {
    serde_json::from_value(serde_json::json!({
        "schema": "runbom.runtime-report/v1",
        "report_id": id,
        "session_id": format!("s-{id}"),
        "complete": true,
        "app": "shop",
        "host": "h",
        "started_at": started,
        "reported_at": reported,
        "command": ["python", "app.py"],
        "interpreter": {"executable": "/v/bin/python", "implementation": "cpython", "version": "3.11.7", "prefix": "/v"},
        "processes": [],
        "distributions": [
            {"name": "PyYAML", "normalized_name": "pyyaml", "version": "6.0.1",
             "purl": "pkg:pypi/pyyaml@6.0.1", "location": "/v/site", "size": 1,
             "modules": [
                {"name": "yaml", "file": "/v/site/yaml/__init__.py", "pids": [1],
                 "integrity": {"status": "verified", "sha256": "aa"}},
                {"name": "yaml.constructor", "file": "/v/site/yaml/constructor.py", "pids": [1, 2],
                 "integrity": {"status": "mismatch", "sha256": "bb", "recorded": "cc"}}
             ]},
            {"name": "six", "normalized_name": "six", "version": "1.16.0",
             "purl": "pkg:pypi/six@1.16.0", "location": "/v/site", "size": 1, "modules": []}
        ],
        "stdlib_modules": [],
        "unowned_modules": []
    }))
    .expect("a runtime report")
}

fn facts() -> Facts {
    let mut facts = Facts::new();
    facts.insert(
        (
            Ecosystem::PyPi,
            PackageName::pypi("pyyaml"),
            "6.0.1".to_owned(),
        ),
        DistributionFacts {
            license: LicenseSources {
                expression: None,
                license: Some("MIT".to_owned()),
                classifiers: vec![],
            },
            archive_hashes: vec![ComponentHash::new("sha256", "ABCD")],
        },
    );
    facts
}

#[test]
fn only_loaded_distributions_with_their_evidence() {
    let reports = [report(
        "r1",
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:00:05.5Z",
    )];
    let sbom = runtime_sbom(&reports, &facts(), Tool::runbom("0.1.0")).expect("sbom");
    assert_eq!(sbom.components.len(), 1);
    let yaml = &sbom.components[0];
    assert_eq!(yaml.purl.as_deref(), Some("pkg:pypi/pyyaml@6.0.1"));
    assert_eq!(yaml.licenses, ["MIT"]);
    assert_eq!(yaml.hashes, [ComponentHash::new("sha256", "abcd")]);
    assert_eq!(sbom.timestamp, "2026-11-25T10:00:05Z");
    assert_eq!(sbom.subject.as_ref().map(|s| s.name.as_str()), Some("shop"));
    let evidence = yaml.evidence.as_ref().expect("evidence");
    let techniques: Vec<Technique> = evidence.methods.iter().map(|m| m.technique).collect();
    assert_eq!(
        techniques,
        [
            Technique::Instrumentation,
            Technique::ManifestAnalysis,
            Technique::HashComparison
        ]
    );
    assert_eq!(evidence.methods[2].confidence, 0.5);
    assert!(
        evidence.methods[0].value.contains("2 process(es)"),
        "{}",
        evidence.methods[0].value
    );
    assert_eq!(evidence.occurrences.len(), 2);
    assert_eq!(
        evidence.occurrences[1].integrity.as_deref(),
        Some("mismatch (RECORD has cc)")
    );
}

#[test]
fn many_reports_make_one_component_and_a_stable_serial_number() {
    let a = report("r1", "2026-11-25T10:00:00Z", "2026-11-25T10:00:05Z");
    let b = report("r2", "2026-11-26T10:00:00Z", "2026-11-26T10:00:05Z");
    let one = runtime_sbom(&[a.clone(), b.clone()], &Facts::new(), Tool::runbom("0")).unwrap();
    let two = runtime_sbom(&[b, a], &Facts::new(), Tool::runbom("0")).unwrap();
    assert_eq!(one, two);
    assert_eq!(one.components.len(), 1);
    assert_eq!(one.timestamp, "2026-11-26T10:00:05Z");
    assert!(one.serial_number.starts_with("urn:uuid:"));
}

#[test]
fn no_reports_or_a_bad_time_is_an_error() {
    assert!(matches!(
        runtime_sbom(&[], &Facts::new(), Tool::runbom("0")),
        Err(SbomError::NoReports)
    ));
    let bad = report("r1", "yesterday", "2026-11-25T10:00:05Z");
    let error = runtime_sbom(&[bad], &Facts::new(), Tool::runbom("0")).unwrap_err();
    assert!(error.to_string().contains("`r1`: `started_at`"), "{error}");
}

#[test]
fn a_gem_and_a_pypi_distribution_of_one_name_and_version_are_two_components() {
    let mut report = report("r1", "2026-11-25T10:00:00Z", "2026-11-25T10:00:05Z");
    let mut gem = report.distributions[0].clone();
    gem.ecosystem = Ecosystem::RubyGems;
    gem.purl = "pkg:gem/pyyaml@6.0.1".to_owned();
    report.distributions.push(gem);
    let sbom = runtime_sbom(&[report], &facts(), Tool::runbom("0")).unwrap();
    let purls: Vec<&str> = sbom
        .components
        .iter()
        .filter_map(|c| c.purl.as_deref())
        .collect();
    assert_eq!(purls, ["pkg:pypi/pyyaml@6.0.1", "pkg:gem/pyyaml@6.0.1"]);
    // The installed Python metadata speaks for the PyPI distribution only.
    assert_eq!(sbom.components[0].licenses, ["MIT"]);
    assert!(sbom.components[1].licenses.is_empty());
}
