use std::path::PathBuf;

use runbom_model::runtime::{
    DistributionUse, LoadedModule, RUNTIME_REPORT_SCHEMA, RuntimeInterpreter,
};
use runbom_model::{Ecosystem, Language};

use super::*;

fn dist(name: &str, size: u64, requires: &[&str], loaded: bool) -> DistributionUse {
    let normalized = PackageName::pypi(name);
    DistributionUse {
        ecosystem: Ecosystem::PyPi,
        name: name.to_owned(),
        purl: format!("pkg:pypi/{normalized}@1.0"),
        normalized_name: normalized,
        version: "1.0".to_owned(),
        location: PathBuf::from("/venv/lib/python3.11/site-packages"),
        size,
        requires_dist: requires.iter().map(|r| (*r).to_owned()).collect(),
        sum: None,
        modules: if loaded {
            vec![LoadedModule {
                name: name.to_lowercase(),
                file: None,
                pids: vec![1],
                integrity: None,
            }]
        } else {
            Vec::new()
        },
    }
}

fn report(distributions: Vec<DistributionUse>) -> RuntimeReport {
    RuntimeReport {
        schema: RUNTIME_REPORT_SCHEMA.to_owned(),
        report_id: "r".into(),
        session_id: "s".into(),
        sequence: 0,
        complete: true,
        app: None,
        environment: None,
        host: "h".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        reported_at: "2026-01-01T00:00:01Z".into(),
        command: vec![],
        exit_code: Some(0),
        interpreter: RuntimeInterpreter {
            language: Language::Python,
            executable: PathBuf::from("/venv/bin/python"),
            implementation: "cpython".into(),
            version: "3.11.7".into(),
            prefix: PathBuf::from("/venv"),
            build: Default::default(),
        },
        processes: vec![],
        distributions,
        stdlib_modules: vec![],
        unowned_modules: vec![],
        hook_errors: 0,
        attached: None,
        enforcement: Vec::new(),
        refusals: Vec::new(),
    }
}

#[test]
fn merges_runs_and_explains_why_each_is_installed() {
    // Run 1 loads requests only; run 2 (another instance) also loads idna.
    let installed = |requests_loaded, idna_loaded| {
        vec![
            dist(
                "requests",
                500,
                &[
                    "urllib3<3,>=1.21.1",
                    "idna<4,>=2.5",
                    "PySocks!=1.5.7; extra == \"socks\"",
                ],
                requests_loaded,
            ),
            dist("urllib3", 800, &["brotli; extra == 'brotli'"], false),
            dist("idna", 300, &[], idna_loaded),
            dist("PySocks", 50, &[], false),
            dist("pip", 9000, &[], false),
            dist("Sphinx", 4000, &["Jinja2>=3", "docutils (>=0.18)"], false),
            dist("Jinja2", 700, &["MarkupSafe>=2.0"], false),
            dist("MarkupSafe", 90, &[], false),
        ]
    };
    let merged = unused(&[
        report(installed(true, false)),
        report(installed(true, true)),
    ]);
    assert_eq!(merged.loaded, 2);
    let table: Vec<String> = merged
        .unused
        .iter()
        .map(|d| {
            format!(
                "{} {} top={} required_by={:?} pulled_in_by={:?}",
                d.normalized_name,
                d.size,
                d.top_level(),
                d.required_by.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
                d.pulled_in_by
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    insta::assert_snapshot!(table.join("\n"), @r#"
    pip 9000 top=true required_by=[] pulled_in_by=[]
    sphinx 4000 top=true required_by=[] pulled_in_by=[]
    urllib3 800 top=false required_by=["requests"] pulled_in_by=["requests"]
    jinja2 700 top=false required_by=["sphinx"] pulled_in_by=[]
    markupsafe 90 top=false required_by=["jinja2"] pulled_in_by=[]
    pysocks 50 top=true required_by=[] pulled_in_by=[]
    "#);
    assert_eq!(merged.unused_size, 9000 + 4000 + 800 + 700 + 90 + 50);
}

#[test]
fn requirement_names_are_normalised_and_extras_skipped() {
    assert_eq!(
        requirement_name("Foo.Bar[x] (>=1); python_version < '3.12'"),
        Some(PackageName::pypi("foo-bar"))
    );
    assert_eq!(requirement_name("x; extra == \"test\""), None);
    assert_eq!(requirement_name(""), None);
}

#[test]
fn prunes_to_what_was_loaded_and_what_that_needs() {
    let mut setuptools = dist("setuptools", 10, &[], true);
    setuptools.modules[0].name = "_distutils_hack".into();
    let mut old_b = dist("b", 5, &[], false);
    old_b.version = "0.9".into();
    let reports = [
        report(vec![
            dist("A", 10, &["b>=1", "c; extra == 'fast'"], true),
            dist("b", 5, &["d"], false),
            dist("c", 5, &[], false),
            dist("d", 1, &[], false),
            dist("pip", 100, &[], false),
            setuptools,
        ]),
        report(vec![old_b]),
    ];
    let pruned = prune(&reports);
    let kept: Vec<(&str, &str)> = pruned
        .keep
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(kept, [("A", "1.0"), ("b", "1.0"), ("d", "1.0")]);
    let removed: Vec<&str> = pruned.removed.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(removed, ["c", "pip", "setuptools"]);
    assert!(pruned.removed[0].2.contains("never loaded in 2 reports"));
    assert!(pruned.removed[1].2.contains("pip freeze"));
}
