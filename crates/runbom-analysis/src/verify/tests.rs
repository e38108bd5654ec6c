//! verify on hand-made runtime reports and expected inventories (derived from the shapes
//! `runbom run` writes; see `docs/reference/runtime-report.md`).

use std::path::PathBuf;

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};
use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::integrity::{ArchiveHashes, ChangedFile, IntegrityScan, UnlistedFile};
use runbom_model::runtime::{
    DistributionUse, FileIntegrity, LoadedModule, RUNTIME_REPORT_SCHEMA, RuntimeInterpreter,
    RuntimeReport,
};
use runbom_model::{Ecosystem, Language, PackageName};

use super::*;

const SITE: &str = "/venv/lib/python3.11/site-packages";

fn pin(name: &str, version: ExpectedVersion, line: usize) -> ExpectedComponent {
    let normalized = PackageName::pypi(name);
    ExpectedComponent {
        ecosystem: Some(Ecosystem::PyPi),
        raw_name: name.to_owned(),
        purl: version.exact().map(|v| pypi_purl(&normalized, v)),
        name: normalized,
        version,
        hashes: Vec::new(),
        licenses: Vec::new(),
        marker: None,
        location: SourceLocation {
            file: "requirements.txt".to_owned(),
            line: Some(line),
            path: None,
        },
    }
}

fn exact(name: &str, version: &str, line: usize) -> ExpectedComponent {
    pin(name, ExpectedVersion::Exact(version.to_owned()), line)
}

fn expected(components: Vec<ExpectedComponent>) -> ExpectedInventory {
    ExpectedInventory {
        format: "python/requirements".to_owned(),
        source: "requirements.txt".to_owned(),
        components,
        checksum_file: None,
        lists_unbuilt: false,
    }
}

fn module(name: &str, file: &str, integrity: Option<FileIntegrity>) -> LoadedModule {
    LoadedModule {
        name: name.to_owned(),
        file: Some(PathBuf::from(file)),
        pids: vec![42],
        integrity,
    }
}

fn dist(name: &str, version: &str, modules: Vec<LoadedModule>) -> DistributionUse {
    let normalized = PackageName::pypi(name);
    DistributionUse {
        ecosystem: Ecosystem::PyPi,
        name: name.to_owned(),
        purl: pypi_purl(&normalized, version),
        normalized_name: normalized,
        version: version.to_owned(),
        location: PathBuf::from(SITE),
        size: 1000,
        requires_dist: Vec::new(),
        sum: None,
        modules,
    }
}

fn loaded(name: &str, version: &str) -> DistributionUse {
    let file = format!("{SITE}/{name}/__init__.py");
    let integrity = FileIntegrity::Verified {
        sha256: "aa".repeat(32),
    };
    dist(name, version, vec![module(name, &file, Some(integrity))])
}

fn report(distributions: Vec<DistributionUse>, unowned: Vec<LoadedModule>) -> RuntimeReport {
    RuntimeReport {
        schema: RUNTIME_REPORT_SCHEMA.to_owned(),
        report_id: "r1".to_owned(),
        session_id: "s1".to_owned(),
        sequence: 0,
        complete: true,
        app: None,
        environment: None,
        host: "host".to_owned(),
        started_at: "2026-11-25T10:00:00Z".to_owned(),
        reported_at: "2026-11-25T10:00:05Z".to_owned(),
        command: vec!["python".to_owned(), "/app/main.py".to_owned()],
        exit_code: Some(0),
        interpreter: RuntimeInterpreter {
            language: Language::Python,
            executable: PathBuf::from("/venv/bin/python"),
            implementation: "cpython".to_owned(),
            version: "3.11.7".to_owned(),
            prefix: PathBuf::from("/venv"),
            build: Default::default(),
        },
        processes: Vec::new(),
        distributions,
        stdlib_modules: vec!["json".to_owned()],
        unowned_modules: unowned,
        hook_errors: 0,
        attached: None,
        enforcement: Vec::new(),
        refusals: Vec::new(),
    }
}

fn main_module() -> LoadedModule {
    module("__main__", "/app/main.py", None)
}

fn run(expected: &ExpectedInventory, reports: &[RuntimeReport]) -> Vec<Finding> {
    let observed = Observations {
        reports,
        ..Observations::default()
    };
    verify(expected, &observed, &VerifyOptions::default())
}

fn codes(findings: &[Finding]) -> Vec<(FindingCode, &str)> {
    findings
        .iter()
        .map(|f| (f.code, f.subject.as_str()))
        .collect()
}

#[test]
fn matching_report_is_clean() {
    let expected = expected(vec![
        exact("requests", "2.32.3", 1),
        exact("idna", "3.10", 2),
    ]);
    let reports = [report(
        vec![loaded("requests", "2.32.3"), dist("idna", "3.10", vec![])],
        vec![main_module(), module("helpers", "/app/helpers.py", None)],
    )];
    assert_eq!(run(&expected, &reports), []);
}

#[test]
fn running_package_not_expected_is_unexpected_with_its_modules() {
    let expected = expected(vec![exact("requests", "2.32.3", 1)]);
    let reports = [report(
        vec![
            loaded("requests", "2.32.3"),
            loaded("six", "1.16.0"),
            dist("attrs", "24.0", vec![]),
        ],
        vec![],
    )];
    let findings = run(&expected, &reports);
    assert_eq!(
        codes(&findings),
        [
            (FindingCode::Unexpected, "attrs"),
            (FindingCode::Unexpected, "six")
        ]
    );
    let six = &findings[1];
    assert_eq!(six.level, Level::Error);
    assert_eq!(six.state, Some(UseState::Running));
    assert_eq!(six.modules, ["six"]);
    assert_eq!(six.purl.as_deref(), Some("pkg:pypi/six@1.16.0"));
    assert_eq!(six.evidence, ["report r1"]);
    assert_eq!(findings[0].level, Level::Warning);
    assert_eq!(findings[0].state, Some(UseState::Installed));
}

/// A venv made by `python -m venv` and `pip install -r` of its own freeze holds pip and
/// setuptools unlisted, and setuptools' `distutils-precedence.pth` imports `_distutils_hack` at
/// every start: notes, not failures. setuptools really imported is unexpected as anything else.
#[test]
fn unlisted_installer_tooling_is_a_note_unless_used_or_strict() {
    let expected = expected(vec![exact("requests", "2.32.3", 1)]);
    let with_pth_only = report(
        vec![
            loaded("requests", "2.32.3"),
            dist("pip", "24.0", vec![]),
            dist(
                "setuptools",
                "69.0.0",
                vec![module(
                    "_distutils_hack",
                    "/v/_distutils_hack/__init__.py",
                    None,
                )],
            ),
            dist("wheel", "0.42.0", vec![]),
        ],
        vec![],
    );
    let findings = run(&expected, std::slice::from_ref(&with_pth_only));
    assert_eq!(
        codes(&findings),
        [
            (FindingCode::Tooling, "pip"),
            (FindingCode::Tooling, "setuptools"),
            (FindingCode::Tooling, "wheel")
        ]
    );
    assert!(
        findings
            .iter()
            .all(|f| f.level == Level::Note && !f.level.fails())
    );
    assert!(
        findings[0].message.contains("pip freeze"),
        "{}",
        findings[0].message
    );

    let really_used = report(
        vec![dist(
            "setuptools",
            "69.0.0",
            vec![
                module("_distutils_hack", "/v/_distutils_hack/__init__.py", None),
                module("pkg_resources", "/v/pkg_resources/__init__.py", None),
            ],
        )],
        vec![],
    );
    let findings = run(&expected, &[really_used]);
    let setuptools: Vec<_> = findings
        .iter()
        .filter(|f| f.subject == "setuptools")
        .collect();
    assert_eq!(setuptools[0].code, FindingCode::Unexpected);
    assert_eq!(setuptools[0].level, Level::Error);

    let strict = VerifyOptions {
        strict_tooling: true,
        ..VerifyOptions::default()
    };
    let observed = Observations {
        reports: std::slice::from_ref(&with_pth_only),
        ..Observations::default()
    };
    let findings = verify(&expected, &observed, &strict);
    assert!(
        findings.iter().all(|f| f.code == FindingCode::Unexpected),
        "{findings:?}"
    );
}

#[test]
fn other_version_is_drift_and_pep440_equal_versions_are_not() {
    let expected = expected(vec![
        exact("requests", "2.32.3", 1),
        exact("idna", "3.0", 2),
        pin(
            "flask",
            ExpectedVersion::Specifier(">=3.0,<4".to_owned()),
            3,
        ),
    ]);
    let reports = [report(
        vec![
            loaded("requests", "2.32.4"),
            loaded("idna", "3.0.0"),
            loaded("flask", "3.1.0"),
        ],
        vec![],
    )];
    let findings = run(&expected, &reports);
    assert_eq!(codes(&findings), [(FindingCode::Drift, "requests")]);
    let drift = &findings[0];
    assert_eq!(drift.version.as_deref(), Some("2.32.4"));
    assert_eq!(
        drift.expected.as_ref().map(|e| e.version.as_str()),
        Some("==2.32.3")
    );
    assert!(
        drift.message.contains("requirements.txt:1") && drift.message.contains("running at 2.32.4"),
        "{}",
        drift.message
    );
}

#[test]
fn specifier_outside_the_range_is_drift() {
    let expected = expected(vec![pin(
        "flask",
        ExpectedVersion::Specifier(">=3.0,<4".to_owned()),
        3,
    )]);
    let findings = run(&expected, &[report(vec![loaded("flask", "2.3.3")], vec![])]);
    assert_eq!(codes(&findings), [(FindingCode::Drift, "flask")]);
}

fn linux_py311() -> MarkerEnvironment {
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: "3.11.7",
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system: "Linux",
        platform_version: "",
        python_full_version: "3.11.7",
        python_version: "3.11",
        sys_platform: "linux",
    })
    .unwrap()
}

#[test]
fn expected_but_not_installed_is_missing_unless_its_marker_excludes_this_platform() {
    let mut colorama = exact("colorama", "0.4.6", 4);
    colorama.marker = Some("sys_platform == 'win32'".to_owned());
    let expected = expected(vec![
        exact("requests", "2.32.3", 1),
        exact("urllib3", "2.2.3", 2),
        colorama,
    ]);
    let reports = [report(vec![loaded("requests", "2.32.3")], vec![])];
    let environment = linux_py311();
    let observed = Observations {
        reports: &reports,
        ..Observations::default()
    };
    let options = VerifyOptions {
        environment: Some(&environment),
        ..VerifyOptions::default()
    };
    let findings = verify(&expected, &observed, &options);
    assert_eq!(codes(&findings), [(FindingCode::Missing, "urllib3")]);
    assert_eq!(findings[0].state, Some(UseState::Absent));
    assert_eq!(
        findings[0].expected.as_ref().and_then(|e| e.location.line),
        Some(2)
    );
    // Without an environment every marker holds.
    assert_eq!(run(&expected, &reports).len(), 2);
}

#[test]
fn lockfile_pins_per_marker_accept_the_one_that_applies() {
    let mut old = exact("numpy", "1.26.4", 1);
    old.marker = Some("python_version < '3.10'".to_owned());
    let mut new = exact("numpy", "2.1.3", 2);
    new.marker = Some("python_version >= '3.10'".to_owned());
    let expected = expected(vec![old, new]);
    let environment = linux_py311();
    let options = VerifyOptions {
        environment: Some(&environment),
        ..VerifyOptions::default()
    };
    let check = |version: &str| {
        let reports = [report(vec![loaded("numpy", version)], vec![])];
        let observed = Observations {
            reports: &reports,
            ..Observations::default()
        };
        codes(&verify(&expected, &observed, &options))
            .into_iter()
            .map(|(c, _)| c)
            .collect::<Vec<_>>()
    };
    assert_eq!(check("2.1.3"), []);
    assert_eq!(check("1.26.4"), [FindingCode::Drift]);
}

#[test]
fn unowned_modules_outside_the_program_directory_are_unknown_code() {
    let expected = expected(vec![]);
    let reports = [report(
        vec![],
        vec![
            main_module(),
            module("helpers", "/app/helpers.py", None),
            module("dropper", "/tmp/dropper.py", None),
            LoadedModule {
                name: "namespace_pkg".to_owned(),
                file: None,
                pids: vec![42],
                integrity: None,
            },
        ],
    )];
    let findings = run(&expected, &reports);
    assert_eq!(codes(&findings), [(FindingCode::UnknownCode, "dropper")]);
    assert_eq!(
        findings[0].file.as_deref(),
        Some(Path::new("/tmp/dropper.py"))
    );
    // A first-party directory given by the user clears it.
    let observed = Observations {
        reports: &reports,
        ..Observations::default()
    };
    let first_party = [PathBuf::from("/tmp")];
    let options = VerifyOptions {
        first_party: &first_party,
        ..VerifyOptions::default()
    };
    assert_eq!(verify(&expected, &observed, &options), []);
}

#[test]
fn virtualenvs_shim_is_tooling_unless_strict() {
    let expected = expected(vec![]);
    let shim = "/proj/.venv/lib/python3.11/site-packages/_virtualenv.py";
    let reports = [report(
        vec![],
        vec![
            main_module(),
            module("_virtualenv", shim, None),
            // The same name anywhere else is not virtualenv's.
            module("_virtualenv", "/tmp/_virtualenv.py", None),
        ],
    )];
    let findings = run(&expected, &reports);
    assert_eq!(
        codes(&findings),
        [
            (FindingCode::UnknownCode, "_virtualenv"),
            (FindingCode::Tooling, "_virtualenv")
        ]
    );
    assert_eq!(
        findings[0].file.as_deref(),
        Some(Path::new("/tmp/_virtualenv.py"))
    );
    assert_eq!(findings[1].level, Level::Note);
    let observed = Observations {
        reports: &reports,
        ..Observations::default()
    };
    let options = VerifyOptions {
        strict_tooling: true,
        ..VerifyOptions::default()
    };
    let strict = verify(&expected, &observed, &options);
    assert!(
        strict.iter().all(|f| f.code == FindingCode::UnknownCode),
        "{strict:?}"
    );
}

#[test]
fn a_loaded_file_that_differs_from_record_is_tampered() {
    let expected = expected(vec![exact("requests", "2.32.3", 1)]);
    let file = format!("{SITE}/requests/api.py");
    let mismatch = FileIntegrity::Mismatch {
        sha256: "bb".repeat(32),
        recorded: "aa".repeat(32),
    };
    let reports = [report(
        vec![dist(
            "requests",
            "2.32.3",
            vec![module("requests.api", &file, Some(mismatch))],
        )],
        vec![],
    )];
    let findings = run(&expected, &reports);
    assert_eq!(codes(&findings), [(FindingCode::Tampered, "requests")]);
    let tampered = &findings[0];
    assert_eq!(tampered.reason, Some(TamperReason::RecordMismatch));
    assert_eq!(tampered.file.as_deref(), Some(Path::new(&file)));
    assert_eq!(tampered.sha256.as_deref(), Some("bb".repeat(32).as_str()));
    assert_eq!(tampered.recorded, ["aa".repeat(32)]);
    assert_eq!(tampered.state, Some(UseState::Running));
    assert_eq!(tampered.modules, ["requests.api"]);
}

#[test]
fn the_disk_scan_adds_changed_unlisted_and_archive_findings_once_per_file() {
    let mut requests = exact("requests", "2.32.3", 1);
    requests.hashes = vec![ComponentHash::new("sha256", &"cc".repeat(32))];
    let expected = expected(vec![requests]);
    let file = format!("{SITE}/requests/api.py");
    let mismatch = FileIntegrity::Mismatch {
        sha256: "bb".repeat(32),
        recorded: "aa".repeat(32),
    };
    let reports = [report(
        vec![dist(
            "requests",
            "2.32.3",
            vec![module("requests.api", &file, Some(mismatch))],
        )],
        vec![],
    )];
    let name = PackageName::pypi("requests");
    let scan = IntegrityScan {
        changed: vec![ChangedFile {
            distribution: name.clone(),
            version: "2.32.3".to_owned(),
            path: PathBuf::from(&file),
            sha256: "bb".repeat(32),
            recorded: "aa".repeat(32),
        }],
        unlisted: vec![UnlistedFile {
            distribution: name.clone(),
            version: "2.32.3".to_owned(),
            path: PathBuf::from(format!("{SITE}/requests/backdoor.py")),
            sha256: Some("dd".repeat(32)),
        }],
        archives: vec![ArchiveHashes {
            distribution: name,
            version: "2.32.3".to_owned(),
            url: "file:///wheels/requests-2.32.3-py3-none-any.whl".to_owned(),
            hashes: vec![ComponentHash::new("sha256", &"ee".repeat(32))],
        }],
        files_hashed: 10,
    };
    let observed = Observations {
        reports: &reports,
        installed: None,
        integrity: Some(&scan),
    };
    let findings = verify(&expected, &observed, &VerifyOptions::default());
    let reasons: Vec<_> = findings.iter().map(|f| f.reason).collect();
    assert_eq!(
        reasons,
        [
            Some(TamperReason::ArchiveHash),
            Some(TamperReason::RecordMismatch),
            Some(TamperReason::UnlistedFile),
        ],
        "{findings:#?}"
    );
    assert_eq!(findings[0].recorded, ["cc".repeat(32)]);
    assert_eq!(findings[1].evidence, ["report r1", "installed"]);
    assert_eq!(findings[2].state, None);
}

#[test]
fn ignored_names_and_other_ecosystems_are_left_out() {
    let mut go = exact("github.com/x/y", "v1.0.0", 2);
    go.ecosystem = Some(Ecosystem::Go);
    go.name = PackageName::new(Ecosystem::Go, "github.com/x/y");
    let expected = expected(vec![exact("requests", "2.32.3", 1), go]);
    let reports = [report(
        vec![loaded("requests", "2.32.3"), dist("pip", "24.0", vec![])],
        vec![],
    )];
    let observed = Observations {
        reports: &reports,
        ..Observations::default()
    };
    let ignore = [PackageName::pypi("PIP")];
    let options = VerifyOptions {
        ignore: &ignore,
        ..VerifyOptions::default()
    };
    assert_eq!(verify(&expected, &observed, &options), []);
}

#[test]
fn every_code_is_kebab_case_and_described() {
    for code in FindingCode::ALL {
        let json = serde_json::to_value(code).unwrap();
        assert_eq!(json, code.as_str());
        assert!(
            code.as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-')
        );
        assert!(code.description().ends_with('.'));
    }
}

fn of(ecosystem: Ecosystem, mut component: ExpectedComponent) -> ExpectedComponent {
    component.ecosystem = Some(ecosystem);
    component.name = PackageName::new(ecosystem, &component.raw_name);
    component.purl = None;
    component
}

fn used(ecosystem: Ecosystem, name: &str, version: &str) -> DistributionUse {
    let mut used = loaded(name, version);
    used.ecosystem = ecosystem;
    used.normalized_name = PackageName::new(ecosystem, name);
    used
}

#[test]
fn components_are_compared_within_their_ecosystem_by_its_version_rules() {
    let expected = expected(vec![
        of(Ecosystem::Go, exact("golang.org/x/net", "v0.7.0", 3)),
        of(Ecosystem::Go, exact("golang.org/x/text", "v0.7.0", 4)),
        of(Ecosystem::RubyGems, exact("json", "2.6.1", 5)),
        exact("json", "2.0", 6),
    ]);
    let mut go = report(
        vec![
            used(Ecosystem::Go, "golang.org/x/net", "v0.7.0"),
            used(Ecosystem::Go, "golang.org/x/text", "v0.3.8"),
            used(Ecosystem::RubyGems, "json", "2.6.1"),
        ],
        vec![],
    );
    go.interpreter.language = Language::Go;
    let observed = Observations {
        reports: std::slice::from_ref(&go),
        ..Observations::default()
    };
    let findings = verify(&expected, &observed, &VerifyOptions::default());
    let got: Vec<_> = findings
        .iter()
        .map(|f| (f.code, f.subject.as_str(), f.version.as_deref()))
        .collect();
    // The PyPI `json` is not held against a Go program's report, nor the gem `json` against it.
    assert_eq!(
        got,
        [(FindingCode::Drift, "golang.org/x/text", Some("v0.3.8"))],
        "{findings:#?}"
    );
    // A Go pin is written as Go writes it, not as a PEP 440 `==`.
    assert_eq!(
        findings[0].message,
        "`golang.org/x/text` is expected at v0.7.0 (requirements.txt:4) but running at v0.3.8"
    );
}

#[test]
fn a_component_of_no_ecosystem_is_of_the_observed_language() {
    let mut unnamed = of(Ecosystem::Go, exact("golang.org/x/net", "v0.7.0", 2));
    unnamed.ecosystem = None;
    let mut go = report(
        vec![used(Ecosystem::Go, "golang.org/x/net", "v0.8.0")],
        vec![],
    );
    go.interpreter.language = Language::Go;
    let observed = Observations {
        reports: std::slice::from_ref(&go),
        ..Observations::default()
    };
    let findings = verify(
        &expected(vec![unnamed]),
        &observed,
        &VerifyOptions::default(),
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].code, FindingCode::Drift);
}

#[test]
fn a_binary_built_from_a_modified_checkout_is_a_finding() {
    let mut go = report(vec![], vec![]);
    go.interpreter.language = Language::Go;
    go.interpreter.executable = PathBuf::from("/srv/bin/api");
    go.interpreter.build = [
        ("vcs", "git"),
        ("vcs.modified", "true"),
        ("vcs.revision", "abc123"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut clean = go.clone();
    clean
        .interpreter
        .build
        .insert("vcs.modified".to_owned(), "false".to_owned());
    let reports = [go, clean];
    let observed = Observations {
        reports: &reports,
        ..Observations::default()
    };
    let findings = verify(&expected(vec![]), &observed, &VerifyOptions::default());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding.code, FindingCode::ModifiedBuild);
    assert_eq!(finding.subject, "api");
    assert!(
        finding.message.contains("git checkout at revision abc123"),
        "{}",
        finding.message
    );
    assert!(finding.level.fails());
}

/// A Ruby report against its `Gemfile.lock`: default gems are `tooling` notes, loaded or not; an
/// unlisted gem of the shared `Gem.path` that did not load is an `unexpected` note; one that
/// loaded is an `unexpected` error; `--strict-tooling` makes the notes warnings and errors again.
#[test]
fn ruby_default_gems_and_unloaded_system_gems_are_notes() {
    let gem = |name: &str, version: &str, location: &str, loaded: bool| {
        let mut d = dist(name, version, Vec::new());
        d.ecosystem = Ecosystem::RubyGems;
        d.normalized_name = PackageName::new(Ecosystem::RubyGems, name);
        d.purl = format!("pkg:gem/{name}@{version}");
        d.location = PathBuf::from(location);
        if loaded {
            d.modules = vec![module(name, &format!("{location}/lib/{name}.rb"), None)];
        }
        d
    };
    let mut lock = exact("rack", "2.2.22", 3);
    lock.ecosystem = Some(Ecosystem::RubyGems);
    lock.name = PackageName::new(Ecosystem::RubyGems, "rack");
    let expected = expected(vec![lock]);
    let mut ruby = report(
        vec![
            gem("rack", "2.2.22", "/g/gems/rack-2.2.22", true),
            gem(
                "set",
                "1.0.2",
                "/g/specifications/default/set-1.0.2.gemspec",
                true,
            ),
            gem("debug", "1.4.0", "/g/gems/debug-1.4.0", false),
            gem("tilt", "2.0.11", "/g/gems/tilt-2.0.11", true),
        ],
        vec![main_module()],
    );
    ruby.interpreter.language = Language::Ruby;
    let reports = [ruby];
    let findings = run(&expected, &reports);
    let got: Vec<(FindingCode, &str, Level)> = findings
        .iter()
        .map(|f| (f.code, f.subject.as_str(), f.level))
        .collect();
    assert_eq!(
        got,
        [
            (FindingCode::Unexpected, "debug", Level::Note),
            (FindingCode::Unexpected, "tilt", Level::Error),
            (FindingCode::Tooling, "set", Level::Note),
        ]
    );
    let observed = Observations {
        reports: &reports,
        ..Observations::default()
    };
    let strict = VerifyOptions {
        strict_tooling: true,
        ..VerifyOptions::default()
    };
    let strict_findings = verify(&expected, &observed, &strict);
    let levels: Vec<(&str, Level)> = strict_findings
        .iter()
        .map(|f| (f.subject.as_str(), f.level))
        .collect();
    assert_eq!(
        levels,
        [
            ("debug", Level::Warning),
            ("set", Level::Error),
            ("tilt", Level::Error)
        ]
    );
}

/// Tcl packages sit side by side (tcllib installs `md5` 1.4.5 beside 2.0.8, and some 450 others):
/// the expected version running is clean, another only installed is no drift, and a package
/// installed but never loaded is a note, not a warning.
#[test]
fn tcl_packages_installed_side_by_side_are_no_drift_and_unloaded_ones_a_note() {
    let tcl = |name: &str, version: &str, loaded: bool| {
        let mut d = dist(name, version, Vec::new());
        d.ecosystem = Ecosystem::Tcl;
        d.normalized_name = PackageName::new(Ecosystem::Tcl, name);
        d.purl = format!("pkg:generic/tcl/{name}@{version}");
        if loaded {
            d.modules = vec![module("md5x.tcl", "/tcllib/md5/md5x.tcl", None)];
        }
        d
    };
    let mut md5 = exact("md5", "2.0.8", 1);
    md5.ecosystem = Some(Ecosystem::Tcl);
    md5.name = PackageName::new(Ecosystem::Tcl, "md5");
    let expected = expected(vec![md5]);
    let mut report = report(
        vec![
            tcl("md5", "2.0.8", true),
            tcl("md5", "1.4.5", false),
            tcl("aes", "1.2.1", false),
        ],
        vec![main_module()],
    );
    report.interpreter.language = Language::Tcl;
    let findings = run(&expected, std::slice::from_ref(&report));
    assert_eq!(codes(&findings), [(FindingCode::Unexpected, "aes")]);
    assert_eq!(findings[0].level, Level::Note);

    report.distributions[0].modules.clear();
    report.distributions[1].modules = vec![module("md5.tcl", "/tcllib/md5/md5.tcl", None)];
    let findings = run(&expected, &[report]);
    assert_eq!(
        codes(&findings),
        [
            (FindingCode::Unexpected, "aes"),
            (FindingCode::Drift, "md5")
        ]
    );
}
