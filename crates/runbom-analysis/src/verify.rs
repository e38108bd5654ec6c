//! verify: the expected inventory (SBOM, lockfile) held against what runtime reports saw loaded,
//! what is installed, and what the installed files are — as findings with stable kebab-case
//! codes (`unexpected`, `drift`, `missing`, `unknown-code`, `tampered`, `tooling`,
//! `modified-build`).
//!
//! `pip freeze` leaves out the installer's own tooling (pip, setuptools, wheel, distribute), so a
//! venv built from its own freeze holds them unlisted; they are `tooling` notes, which do not
//! fail, unless the program really used them (setuptools' `distutils-precedence.pth` importing
//! `_distutils_hack` at every start is not use) or the user asked for strictness.
//!
//! Traps: a lockfile may pin one name several times under different environment markers, so a
//! version is accepted when *any* entry that applies here accepts it. Components are compared
//! within their ecosystem (a gem `json` is not the PyPI `json`), each ecosystem's versions by its
//! own rules; expected components of an ecosystem nothing observed runs (a go.mod beside a Python
//! report) are not `missing`, and one of no ecosystem (an SBOM without PURLs) is taken to be of
//! the observed program's language. A lockfile hash is of the archive
//! (wheel or sdist): it can only be compared with the archive hash an installer kept
//! (`direct_url.json`), never with the installed files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{MarkerEnvironment, MarkerTree};
use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::integrity::IntegrityScan;
use runbom_model::inventory::Inventory;
use runbom_model::runtime::{FileIntegrity, RuntimeReport};
use runbom_model::{Ecosystem, PackageName};
use runbom_versions::{Pep440Specifiers, Version};
use serde::Serialize;

/// What a finding is about; the code is stable (SARIF rule id, JSON `code`, docs anchor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    Unexpected,
    Drift,
    Missing,
    UnknownCode,
    Tampered,
    Tooling,
    ModifiedBuild,
}

impl FindingCode {
    pub const ALL: [FindingCode; 7] = [
        FindingCode::Unexpected,
        FindingCode::Drift,
        FindingCode::Missing,
        FindingCode::UnknownCode,
        FindingCode::Tampered,
        FindingCode::Tooling,
        FindingCode::ModifiedBuild,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::Unexpected => "unexpected",
            FindingCode::Drift => "drift",
            FindingCode::Missing => "missing",
            FindingCode::UnknownCode => "unknown-code",
            FindingCode::Tampered => "tampered",
            FindingCode::Tooling => "tooling",
            FindingCode::ModifiedBuild => "modified-build",
        }
    }

    /// One line saying what the code means.
    pub fn description(self) -> &'static str {
        match self {
            FindingCode::Unexpected => {
                "A distribution is running or installed but the expected inventory does not list it."
            }
            FindingCode::Drift => {
                "A distribution is expected at one version and running or installed at another."
            }
            FindingCode::Missing => "A distribution is expected but not installed.",
            FindingCode::UnknownCode => {
                "A loaded module belongs to no installed distribution and is not first-party code."
            }
            FindingCode::Tampered => {
                "An installed file differs from its RECORD (or the archive from the lockfile's hash), or a file no RECORD lists sits inside a distribution."
            }
            FindingCode::Tooling => {
                "Installer tooling (pip, setuptools, wheel, distribute) or a Ruby default gem is installed but not listed, as `pip freeze` and Bundler leave it out; a note unless strict."
            }
            FindingCode::ModifiedBuild => {
                "A binary was built from a source tree with uncommitted changes (Go's `vcs.modified=true`): what runs is no commit's code."
            }
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious a finding is; every finding but a note makes `runbom verify` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }

    /// Whether a finding at this level makes `verify` fail.
    pub fn fails(self) -> bool {
        self != Level::Note
    }
}

/// Whether a distribution was seen loaded or only installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UseState {
    /// Some process of some report loaded one of its modules.
    Running,
    /// Installed (in a report's inventory or on disk), never seen loaded.
    Installed,
    /// Not installed at all.
    Absent,
}

/// Why a file counts as tampered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TamperReason {
    /// Its sha256 differs from the one its distribution's RECORD lists.
    RecordMismatch,
    /// It sits inside a distribution's directories and no RECORD lists it.
    UnlistedFile,
    /// The archive the distribution was installed from has a hash the expected inventory does
    /// not list.
    ArchiveHash,
    /// The binary was built from a Go module's source whose checksum (`h1:…`) differs from the
    /// expected inventory's (`go.sum`).
    ModuleSum,
    /// The binary was built from a Go module's source whose checksum the expected inventory's
    /// `go.sum` does not list for that version.
    UnlistedModuleSum,
}

/// Where the expected inventory declares a component, and the version it wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedRef {
    /// `==2.32.3`, `>=3,<4`, `@ https://…` or `*`.
    pub version: String,
    pub location: SourceLocation,
}

/// One thing `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: FindingCode,
    pub level: Level,
    /// The normalised distribution name, or the module name for `unknown-code`.
    pub subject: String,
    pub message: String,
    /// The version observed (running or installed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<UseState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<ExpectedRef>,
    /// The modules loaded (of the distribution, or the unknown module itself), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<TamperReason>,
    /// Lower-case hex sha256 on disk (or of the archive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// What it should have been: RECORD's sha256, or the expected archive hashes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recorded: Vec<String>,
    /// Where runbom saw it: `report <id>` for each runtime report, `installed` for the inventory
    /// read from disk.
    pub evidence: Vec<String>,
}

impl Finding {
    fn new(code: FindingCode, level: Level, subject: &str, message: String) -> Self {
        Self {
            code,
            level,
            subject: subject.to_owned(),
            message,
            version: None,
            purl: None,
            state: None,
            expected: None,
            modules: Vec::new(),
            file: None,
            reason: None,
            sha256: None,
            recorded: Vec::new(),
            evidence: Vec::new(),
        }
    }
}

/// What was observed: runtime reports, the installed inventory, the integrity scan of its files.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observations<'a> {
    pub reports: &'a [RuntimeReport],
    pub installed: Option<&'a Inventory>,
    pub integrity: Option<&'a IntegrityScan>,
}

/// Choices of the user.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// Evaluates expected components' environment markers; without it every marker holds.
    pub environment: Option<&'a MarkerEnvironment>,
    /// Directories of first-party code: unowned modules under them are not `unknown-code`. The
    /// directory of each report's `__main__` module is always first-party.
    pub first_party: &'a [PathBuf],
    /// Distributions never reported as `unexpected`, `drift` or `missing`.
    pub ignore: &'a [PackageName],
    /// Unlisted installer tooling is `unexpected` like anything else, not a `tooling` note.
    pub strict_tooling: bool,
}

/// What `pip freeze` leaves out by convention (pip's `_internal/operations/freeze.py`).
const INSTALLER_TOOLING: [&str; 4] = ["pip", "setuptools", "wheel", "distribute"];

/// Whether `name` is installer tooling that `pip freeze` leaves out.
pub(crate) fn is_installer_tooling(name: &PackageName) -> bool {
    INSTALLER_TOOLING.contains(&name.as_str())
}

/// Modules a tooling distribution's own `.pth` file imports at every interpreter start: loading
/// them is not use of the tool.
const TOOLING_PTH_MODULES: [&str; 1] = ["_distutils_hack"];

/// One distribution (name and version) as observed, over every source.
#[derive(Debug, Default)]
struct ObservedDistribution {
    purl: Option<String>,
    modules: BTreeSet<String>,
    running: bool,
    /// A Ruby default gem (see `DistributionUse::is_default_gem`).
    default_gem: bool,
    evidence: BTreeSet<String>,
}

/// A component's identity across ecosystems.
type Key = (Ecosystem, PackageName);

type ObservedByKey = BTreeMap<Key, BTreeMap<String, ObservedDistribution>>;

type ExpectedByKey<'a> = BTreeMap<Key, Vec<&'a ExpectedComponent>>;

/// Every finding, sorted by code, subject, version and file.
pub fn verify(
    expected: &ExpectedInventory,
    observed: &Observations<'_>,
    options: &VerifyOptions<'_>,
) -> Vec<Finding> {
    let expected_by_key = expected_by_key(expected, home_ecosystem(observed));
    let observed_by_key = observed_distributions(observed);
    let observed_ecosystems: BTreeSet<Ecosystem> = observed_ecosystems(observed);
    let mut findings = Vec::new();
    for (key, versions) in &observed_by_key {
        if options.ignore.contains(&key.1) {
            continue;
        }
        match expected_by_key.get(key) {
            None => findings.extend(
                versions
                    .iter()
                    .map(|(v, o)| unexpected(expected, key, v, o, options.strict_tooling)),
            ),
            Some(entries) => {
                let applicable = applicable(entries, options.environment);
                let accepted = |version: &str| {
                    applicable
                        .iter()
                        .any(|c| accepts(key.0, &c.version, version))
                };
                // Where versions sit side by side (Tcl's `md5` 1.4.5 beside 2.0.8), one that is
                // only installed is no drift while an expected one is there too; Ruby's shared
                // `Gem.path` keeps it as a note (below).
                let any_accepted = versions.keys().any(|v| accepted(v));
                for (version, seen) in versions {
                    let reported = seen.running || !any_accepted || key.0 == Ecosystem::RubyGems;
                    if !accepted(version) && reported {
                        let mut finding = drift(&key.1, version, seen, applicable[0]);
                        if key.0 == Ecosystem::RubyGems && !seen.running && !options.strict_tooling
                        {
                            // Another version in the shared `Gem.path` than the one the bundle
                            // locks, not loaded: Bundler loads the locked one.
                            finding.level = Level::Note;
                        }
                        findings.push(finding);
                    }
                }
            }
        }
    }
    for (key, entries) in &expected_by_key {
        let wanted_here = observed_ecosystems.contains(&key.0)
            && entries.iter().any(|c| marker_holds(c, options.environment));
        if wanted_here && !observed_by_key.contains_key(key) && !options.ignore.contains(&key.1) {
            findings.push(missing(
                &key.1,
                entries[0],
                observed,
                expected.lists_unbuilt,
            ));
        }
    }
    findings.extend(unknown_code(
        observed.reports,
        options.first_party,
        options.strict_tooling,
    ));
    findings.extend(modified_builds(observed.reports));
    findings.extend(tampered(
        observed,
        &expected_by_key,
        expected.checksum_file.as_deref(),
    ));
    findings.sort_by(|a, b| {
        (a.code, &a.subject, &a.version, &a.file).cmp(&(b.code, &b.subject, &b.version, &b.file))
    });
    findings
}

/// Expected components by ecosystem and normalised name; those of no ecosystem are taken to be
/// of `home`'s and named by its rules.
fn expected_by_key(expected: &ExpectedInventory, home: Ecosystem) -> ExpectedByKey<'_> {
    let mut by_key = ExpectedByKey::new();
    for component in &expected.components {
        let key = match component.ecosystem {
            Some(ecosystem) => (ecosystem, component.name.clone()),
            None => (home, PackageName::new(home, &component.raw_name)),
        };
        by_key.entry(key).or_default().push(component);
    }
    by_key
}

/// The ecosystem of the observed program's language: the first report's, else PyPI (an
/// installed inventory is a Python environment's).
fn home_ecosystem(observed: &Observations<'_>) -> Ecosystem {
    observed
        .reports
        .first()
        .map_or(Ecosystem::PyPi, |r| r.interpreter.language.ecosystem())
}

/// Every ecosystem something observed belongs to: the reports' languages and components, and
/// PyPI for an installed inventory.
fn observed_ecosystems(observed: &Observations<'_>) -> BTreeSet<Ecosystem> {
    let mut ecosystems: BTreeSet<Ecosystem> = observed
        .reports
        .iter()
        .flat_map(|r| {
            std::iter::once(r.interpreter.language.ecosystem())
                .chain(r.distributions.iter().map(|d| d.ecosystem))
        })
        .collect();
    if observed.installed.is_some() {
        ecosystems.insert(Ecosystem::PyPi);
    }
    ecosystems
}

fn observed_distributions(observed: &Observations<'_>) -> ObservedByKey {
    let mut by_key = ObservedByKey::new();
    for report in observed.reports {
        for dist in &report.distributions {
            let seen = by_key
                .entry((dist.ecosystem, dist.normalized_name.clone()))
                .or_default()
                .entry(dist.version.clone())
                .or_default();
            seen.purl.get_or_insert_with(|| dist.purl.clone());
            seen.running |= dist.loaded();
            seen.default_gem |= dist.is_default_gem();
            seen.modules
                .extend(dist.modules.iter().map(|m| m.name.clone()));
            seen.evidence.insert(format!("report {}", report.report_id));
        }
    }
    for dist in observed.installed.iter().flat_map(|i| i.active()) {
        let seen = by_key
            .entry((Ecosystem::PyPi, dist.normalized_name.clone()))
            .or_default()
            .entry(dist.version.clone())
            .or_default();
        seen.purl
            .get_or_insert_with(|| pypi_purl(&dist.normalized_name, &dist.version));
        seen.evidence.insert("installed".to_owned());
    }
    by_key
}

/// `pkg:pypi/<name>@<version>`, percent-encoded as the PURL spec wants.
pub fn pypi_purl(name: &PackageName, version: &str) -> String {
    match packageurl::PackageUrl::new("pypi", name.as_str()) {
        Ok(mut purl) => {
            let _ = purl.with_version(version.to_owned());
            purl.to_string()
        }
        Err(_) => format!("pkg:pypi/{name}@{version}"),
    }
}

/// The PEP 508 marker environment of a Python `implementation` (`cpython`) and `version`
/// (`3.11.7`) on the platform runbom itself was built for. `None` if the version does not parse.
pub fn marker_environment(implementation: &str, version: &str) -> Option<MarkerEnvironment> {
    let python_version = version.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
    let (sys_platform, platform_system, os_name) = match std::env::consts::OS {
        "linux" => ("linux", "Linux", "posix"),
        "macos" => ("darwin", "Darwin", "posix"),
        "windows" => ("win32", "Windows", "nt"),
        other => (other, other, "posix"),
    };
    let platform_python_implementation = match implementation {
        "cpython" => "CPython",
        "pypy" => "PyPy",
        other => other,
    };
    MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
        implementation_name: implementation,
        implementation_version: version,
        os_name,
        platform_machine: std::env::consts::ARCH,
        platform_python_implementation,
        platform_release: "",
        platform_system,
        platform_version: "",
        python_full_version: version,
        python_version: &python_version,
        sys_platform,
    })
    .ok()
}

fn marker_holds(component: &ExpectedComponent, environment: Option<&MarkerEnvironment>) -> bool {
    let (Some(marker), Some(environment)) = (&component.marker, environment) else {
        return true;
    };
    match MarkerTree::from_str(marker) {
        Ok(tree) => tree.evaluate(environment, &[]),
        // A marker runbom cannot read is taken to hold: better a finding than a silent pass.
        Err(_) => true,
    }
}

/// The entries whose marker holds here, or all of them when none does.
fn applicable<'a>(
    entries: &[&'a ExpectedComponent],
    environment: Option<&MarkerEnvironment>,
) -> Vec<&'a ExpectedComponent> {
    let holding: Vec<_> = entries
        .iter()
        .copied()
        .filter(|c| marker_holds(c, environment))
        .collect();
    if holding.is_empty() {
        entries.to_vec()
    } else {
        holding
    }
}

/// Whether an observed version is what the component expects, equal under the ecosystem's
/// rules (PEP 440: `1.0 == 1.0.0`). A specifier is read as PEP 440 for PyPI; other ecosystems'
/// lockfiles pin exact versions, and a specifier runbom cannot read is taken to hold.
pub(crate) fn accepts(ecosystem: Ecosystem, expected: &ExpectedVersion, observed: &str) -> bool {
    match expected {
        ExpectedVersion::Exact(want) => want == observed || same_version(ecosystem, want, observed),
        ExpectedVersion::Specifier(spec) if ecosystem == Ecosystem::PyPi => {
            Pep440Specifiers::parse(spec)
                .map(|s| s.contains_str(observed, Some(true)))
                .unwrap_or(true)
        }
        ExpectedVersion::Specifier(_) | ExpectedVersion::Url(_) | ExpectedVersion::Unspecified => {
            true
        }
    }
}

fn same_version(ecosystem: Ecosystem, a: &str, b: &str) -> bool {
    match (Version::parse(ecosystem, a), Version::parse(ecosystem, b)) {
        (Ok(a), Ok(b)) => a.compare(&b) == Some(std::cmp::Ordering::Equal),
        _ => false,
    }
}

/// The expected version as its ecosystem writes a pin: `==1.2` for PyPI (and a component of no
/// ecosystem, which is most often a Python SBOM's), the bare version elsewhere (`v0.6.0`).
pub(crate) fn display_version(component: &ExpectedComponent) -> String {
    match &component.version {
        ExpectedVersion::Exact(v)
            if matches!(component.ecosystem, None | Some(Ecosystem::PyPi)) =>
        {
            format!("=={v}")
        }
        ExpectedVersion::Exact(v) => v.clone(),
        ExpectedVersion::Specifier(s) => s.clone(),
        ExpectedVersion::Url(u) => format!("@ {u}"),
        ExpectedVersion::Unspecified => "*".to_owned(),
    }
}

fn expected_ref(component: &ExpectedComponent) -> ExpectedRef {
    ExpectedRef {
        version: display_version(component),
        location: component.location.clone(),
    }
}

fn place(location: &SourceLocation) -> String {
    match (location.line, &location.path) {
        (Some(line), _) => format!("{}:{line}", location.file),
        (None, Some(path)) => format!("{} at {path}", location.file),
        (None, None) => location.file.clone(),
    }
}

fn state(seen: &ObservedDistribution) -> UseState {
    if seen.running {
        UseState::Running
    } else {
        UseState::Installed
    }
}

fn with_observation(mut finding: Finding, version: &str, seen: &ObservedDistribution) -> Finding {
    finding.version = Some(version.to_owned());
    finding.purl.clone_from(&seen.purl);
    finding.state = Some(state(seen));
    finding.modules = seen.modules.iter().cloned().collect();
    finding.evidence = seen.evidence.iter().cloned().collect();
    finding
}

fn unexpected(
    expected: &ExpectedInventory,
    (ecosystem, name): &Key,
    version: &str,
    seen: &ObservedDistribution,
    strict_tooling: bool,
) -> Finding {
    if !strict_tooling
        && *ecosystem == Ecosystem::PyPi
        && is_unused_tooling(name, seen.modules.iter())
    {
        let message = format!(
            "`{name}` {version} is installer tooling that `{}` does not list, as `pip freeze` \
             leaves it out; not used by the program (strict: `--strict-tooling`)",
            expected.source
        );
        return with_observation(
            Finding::new(FindingCode::Tooling, Level::Note, name.as_str(), message),
            version,
            seen,
        );
    }
    if !strict_tooling && *ecosystem == Ecosystem::RubyGems && seen.default_gem {
        let message = format!(
            "`{name}` {version} is a default gem shipped with Ruby, which `{}` lists only when \
             a Gemfile asks for it (strict: `--strict-tooling`)",
            expected.source
        );
        return with_observation(
            Finding::new(FindingCode::Tooling, Level::Note, name.as_str(), message),
            version,
            seen,
        );
    }
    let (level, what) = if seen.running {
        (Level::Error, "is running")
    } else if ecosystem.installs_in_bundles() {
        (Level::Note, "is installed (never loaded)")
    } else if !strict_tooling && *ecosystem == Ecosystem::RubyGems {
        // A gem of the interpreter's shared `Gem.path` that the program did not load: Bundler
        // would not let it load one outside the bundle.
        (Level::Note, "is installed for the interpreter (not loaded)")
    } else {
        (Level::Warning, "is installed")
    };
    let message = format!(
        "`{name}` {version} {what} but `{}` does not list it",
        expected.source
    );
    with_observation(
        Finding::new(FindingCode::Unexpected, level, name.as_str(), message),
        version,
        seen,
    )
}

/// Installer tooling the program did not use: installed only, or loaded only through its own
/// `.pth` hook (`loaded` are the names of its modules that were loaded).
pub fn is_unused_tooling<'a>(
    name: &PackageName,
    mut loaded: impl Iterator<Item = &'a String>,
) -> bool {
    INSTALLER_TOOLING.contains(&name.as_str())
        && loaded.all(|m| TOOLING_PTH_MODULES.contains(&m.as_str()))
}

fn drift(
    name: &PackageName,
    version: &str,
    seen: &ObservedDistribution,
    wanted: &ExpectedComponent,
) -> Finding {
    let what = if seen.running { "running" } else { "installed" };
    let message = format!(
        "`{name}` is expected at {} ({}) but {what} at {version}",
        display_version(wanted),
        place(&wanted.location)
    );
    let mut finding = with_observation(
        Finding::new(FindingCode::Drift, Level::Error, name.as_str(), message),
        version,
        seen,
    );
    finding.expected = Some(expected_ref(wanted));
    finding
}

/// `wanted`, which nothing observed or installed holds: a warning, or a note when the source
/// lists requirements a build may leave out (`lists_unbuilt`).
fn missing(
    name: &PackageName,
    wanted: &ExpectedComponent,
    observed: &Observations<'_>,
    lists_unbuilt: bool,
) -> Finding {
    let (level, why) = if lists_unbuilt {
        (
            Level::Note,
            ": the source lists requirements a build may prune",
        )
    } else {
        (Level::Warning, "")
    };
    let message = format!(
        "`{name}` {} is expected ({}) but not installed{why}",
        display_version(wanted),
        place(&wanted.location)
    );
    let mut finding = Finding::new(FindingCode::Missing, level, name.as_str(), message);
    finding.purl.clone_from(&wanted.purl);
    finding.state = Some(UseState::Absent);
    finding.expected = Some(expected_ref(wanted));
    finding.evidence = observed
        .reports
        .iter()
        .map(|r| format!("report {}", r.report_id))
        .chain(observed.installed.map(|_| "installed".to_owned()))
        .collect();
    finding
}

/// The shim virtualenv writes into the site directory of every environment it creates (with a
/// `_virtualenv.pth` that imports it at each start): poetry's, tox's, hatch's and pipenv's
/// environments hold it, and no distribution's RECORD lists it.
fn is_virtualenv_shim(module: &str, file: &Path) -> bool {
    module == "_virtualenv"
        && file.file_name().is_some_and(|n| n == "_virtualenv.py")
        && file
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d == "site-packages" || d == "dist-packages")
}

/// Unowned modules with a file outside every first-party directory, once per (module, file);
/// virtualenv's shim as `tooling` unless `strict_tooling`.
fn unknown_code(
    reports: &[RuntimeReport],
    first_party: &[PathBuf],
    strict_tooling: bool,
) -> Vec<Finding> {
    let mut found: BTreeMap<(String, PathBuf), Finding> = BTreeMap::new();
    for report in reports {
        let mut roots: Vec<&Path> = first_party.iter().map(PathBuf::as_path).collect();
        roots.extend(
            report
                .unowned_modules
                .iter()
                .filter(|m| m.name == "__main__")
                .filter_map(|m| m.file.as_deref()?.parent()),
        );
        for module in &report.unowned_modules {
            let Some(file) = &module.file else { continue };
            if module.name == "__main__" || roots.iter().any(|root| file.starts_with(root)) {
                continue;
            }
            let finding = found
                .entry((module.name.clone(), file.clone()))
                .or_insert_with(|| {
                    let mut finding = if !strict_tooling && is_virtualenv_shim(&module.name, file) {
                        let message = format!(
                            "module `_virtualenv` was loaded from `{}`: the shim virtualenv \
                             writes into every environment it creates, which no distribution's \
                             RECORD lists (strict: `--strict-tooling`)",
                            file.display()
                        );
                        Finding::new(FindingCode::Tooling, Level::Note, &module.name, message)
                    } else {
                        let message = format!(
                            "module `{}` was loaded from `{}`, which no installed distribution \
                             owns",
                            module.name,
                            file.display()
                        );
                        Finding::new(
                            FindingCode::UnknownCode,
                            Level::Warning,
                            &module.name,
                            message,
                        )
                    };
                    finding.modules = vec![module.name.clone()];
                    finding.file = Some(file.clone());
                    finding
                });
            finding
                .evidence
                .push(format!("report {}", report.report_id));
        }
    }
    found.into_values().collect()
}

/// Each binary that says it was built from a modified checkout, once per file.
fn modified_builds(reports: &[RuntimeReport]) -> Vec<Finding> {
    let mut found: BTreeMap<&Path, Finding> = BTreeMap::new();
    for report in reports {
        let build = &report.interpreter.build;
        if build.get("vcs.modified").map(String::as_str) != Some("true") {
            continue;
        }
        let file = report.interpreter.executable.as_path();
        let finding = found.entry(file).or_insert_with(|| {
            let revision = build.get("vcs.revision").map_or_else(
                || "an unrecorded revision".to_owned(),
                |r| format!("revision {r}"),
            );
            let message = format!(
                "`{}` was built from a {} checkout at {revision} with uncommitted changes                  (vcs.modified=true)",
                file.display(),
                build.get("vcs").map_or("version-controlled", String::as_str),
            );
            let subject = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let mut finding =
                Finding::new(FindingCode::ModifiedBuild, Level::Error, &subject, message);
            finding.file = Some(file.to_owned());
            finding
        });
        finding
            .evidence
            .push(format!("report {}", report.report_id));
    }
    found.into_values().collect()
}

fn tampered(
    observed: &Observations<'_>,
    expected_by_key: &ExpectedByKey<'_>,
    checksum_file: Option<&str>,
) -> Vec<Finding> {
    let mut by_file: BTreeMap<PathBuf, Finding> = BTreeMap::new();
    // Which modules each report saw loaded from which file, to say whether a file ran.
    let mut loaded_from: BTreeMap<&Path, BTreeSet<&str>> = BTreeMap::new();
    for report in observed.reports {
        for dist in &report.distributions {
            for module in &dist.modules {
                if let Some(file) = &module.file {
                    loaded_from.entry(file).or_default().insert(&module.name);
                }
                let (Some(file), Some(FileIntegrity::Mismatch { sha256, recorded })) =
                    (&module.file, &module.integrity)
                else {
                    continue;
                };
                let finding = by_file.entry(file.clone()).or_insert_with(|| {
                    record_mismatch(&dist.normalized_name, &dist.version, file, sha256, recorded)
                });
                let evidence = format!("report {}", report.report_id);
                if !finding.evidence.contains(&evidence) {
                    finding.evidence.push(evidence);
                }
            }
        }
    }
    if let Some(scan) = observed.integrity {
        for changed in &scan.changed {
            by_file
                .entry(changed.path.clone())
                .or_insert_with(|| {
                    record_mismatch(
                        &changed.distribution,
                        &changed.version,
                        &changed.path,
                        &changed.sha256,
                        &changed.recorded,
                    )
                })
                .evidence
                .push("installed".to_owned());
        }
        for unlisted in &scan.unlisted {
            let message = format!(
                "`{}` sits inside `{}` {} but no RECORD lists it",
                unlisted.path.display(),
                unlisted.distribution,
                unlisted.version
            );
            let mut finding = Finding::new(
                FindingCode::Tampered,
                Level::Error,
                unlisted.distribution.as_str(),
                message,
            );
            finding.version = Some(unlisted.version.clone());
            finding.file = Some(unlisted.path.clone());
            finding.reason = Some(TamperReason::UnlistedFile);
            finding.sha256.clone_from(&unlisted.sha256);
            finding.evidence.push("installed".to_owned());
            by_file.insert(unlisted.path.clone(), finding);
        }
    }
    let mut findings: Vec<Finding> = by_file
        .into_values()
        .map(|mut finding| {
            if let Some(file) = &finding.file
                && let Some(modules) = loaded_from.get(file.as_path())
            {
                finding.modules = modules.iter().map(|m| (*m).to_owned()).collect();
                finding.state = Some(UseState::Running);
            }
            finding
        })
        .collect();
    if let Some(scan) = observed.integrity {
        findings.extend(archive_mismatches(scan, expected_by_key));
    }
    findings.extend(module_sum_mismatches(
        observed.reports,
        expected_by_key,
        checksum_file,
    ));
    findings
}

/// Components built from source whose checksum (a Go module's `h1:`, recorded in the binary)
/// is not the one the expected inventory (`go.sum`) lists for that version, or that the
/// expected inventory's `checksum_file` lists no checksum for: the build that file belongs to
/// never verified that source. Where the expected side lists no checksum and vouches for none
/// (no go.sum, an SBOM without hashes), there is nothing to compare; a version it does not
/// expect is `drift` or `unexpected`, not this. Lines for modules the binary lacks are no
/// finding: a go.sum holds the whole module graph (tests, other platforms, other commands).
fn module_sum_mismatches(
    reports: &[RuntimeReport],
    expected_by_key: &ExpectedByKey<'_>,
    checksum_file: Option<&str>,
) -> Vec<Finding> {
    let mut found: BTreeMap<(&str, &str, &str), Finding> = BTreeMap::new();
    for report in reports {
        for dist in &report.distributions {
            let Some(sum) = &dist.sum else { continue };
            let key = (dist.ecosystem, dist.normalized_name.clone());
            let Some(entries) = expected_by_key.get(&key) else {
                continue;
            };
            let accepting: Vec<&&ExpectedComponent> = entries
                .iter()
                .filter(|c| accepts(dist.ecosystem, &c.version, &dist.version))
                .collect();
            let wanted: Vec<&str> = accepting
                .iter()
                .flat_map(|c| &c.hashes)
                .filter(|h| h.algorithm == ComponentHash::GO_SUM)
                .map(|h| h.hex.as_str())
                .collect();
            if accepting.is_empty() || wanted.contains(&sum.as_str()) {
                continue;
            }
            let (message, reason) = match (wanted.is_empty(), checksum_file) {
                (true, None) => continue,
                (true, Some(file)) => (
                    format!(
                        "`{}` {} was built from source whose checksum is {sum}, but {file} lists no checksum of that version: the build it belongs to never verified this source",
                        dist.name, dist.version
                    ),
                    TamperReason::UnlistedModuleSum,
                ),
                (false, _) => (
                    format!(
                        "`{}` {} was built from source whose checksum is {sum}, but the expected inventory lists {}",
                        dist.name,
                        dist.version,
                        wanted.join(", ")
                    ),
                    TamperReason::ModuleSum,
                ),
            };
            let finding = found
                .entry((&dist.name, &dist.version, sum))
                .or_insert_with(|| {
                    let mut finding =
                        Finding::new(FindingCode::Tampered, Level::Error, &dist.name, message);
                    finding.version = Some(dist.version.clone());
                    finding.reason = Some(reason);
                    finding.recorded = wanted.iter().map(|h| (*h).to_owned()).collect();
                    finding.expected = accepting.first().map(|c| expected_ref(c));
                    finding
                });
            finding
                .evidence
                .push(format!("report {}", report.report_id));
        }
    }
    found.into_values().collect()
}

fn record_mismatch(
    name: &PackageName,
    version: &str,
    file: &Path,
    sha256: &str,
    recorded: &str,
) -> Finding {
    let message = format!(
        "`{}` of `{name}` {version} has sha256 {sha256}, RECORD says {recorded}",
        file.display()
    );
    let mut finding = Finding::new(FindingCode::Tampered, Level::Error, name.as_str(), message);
    finding.version = Some(version.to_owned());
    finding.file = Some(file.to_owned());
    finding.reason = Some(TamperReason::RecordMismatch);
    finding.sha256 = Some(sha256.to_owned());
    finding.recorded = vec![recorded.to_owned()];
    finding
}

/// Archives whose hash of some algorithm is not among the expected hashes of that algorithm.
/// Where either side has no hash of a shared algorithm, there is nothing to compare.
fn archive_mismatches(scan: &IntegrityScan, expected_by_key: &ExpectedByKey<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for archive in &scan.archives {
        let key = (Ecosystem::PyPi, archive.distribution.clone());
        let Some(entries) = expected_by_key.get(&key) else {
            continue;
        };
        let wanted: Vec<_> = entries
            .iter()
            .filter(|c| accepts(Ecosystem::PyPi, &c.version, &archive.version))
            .flat_map(|c| &c.hashes)
            .collect();
        // The finding carries a sha256; other algorithms are compared by `runbom` only when
        // an installer records them, which pip and uv do not.
        for have in archive.hashes.iter().filter(|h| h.algorithm == "sha256") {
            let same_algorithm: Vec<&str> = wanted
                .iter()
                .filter(|w| w.algorithm == have.algorithm)
                .map(|w| w.hex.as_str())
                .collect();
            if same_algorithm.is_empty() || same_algorithm.contains(&have.hex.as_str()) {
                continue;
            }
            let message = format!(
                "`{}` {} was installed from `{}` whose sha256 is {}, which the expected inventory does not list",
                archive.distribution, archive.version, archive.url, have.hex
            );
            let mut finding = Finding::new(
                FindingCode::Tampered,
                Level::Error,
                archive.distribution.as_str(),
                message,
            );
            finding.version = Some(archive.version.clone());
            finding.reason = Some(TamperReason::ArchiveHash);
            finding.sha256 = Some(have.hex.clone());
            finding.recorded = same_algorithm.iter().map(|h| (*h).to_owned()).collect();
            finding.evidence.push("installed".to_owned());
            findings.push(finding);
        }
    }
    findings
}

#[cfg(test)]
mod tests;
