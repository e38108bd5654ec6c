//! The components `policy check` and `outdated` look at, gathered from an installed Python
//! environment, runtime reports (which say what was loaded) and expected inventories (SBOMs,
//! lockfiles); and their release data from the package indexes, behind a progress bar.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use runbom_analysis::licenses::{ResolvedLicense, resolve, resolve_declared};
use runbom_analysis::policy::{Component, Releases};
use runbom_ecosystems::python::{Detail, query_interpreter, read_inventory_with};
use runbom_model::inventory::{Interpreter, Inventory};
use runbom_model::runtime::{DistributionUse, RuntimeReport};
use runbom_model::{Ecosystem, PackageName};
use runbom_sources::index::{IndexClient, IndexError, IndexSettings, releases_of_all};

use crate::commands::{progress, runtime_reports};

/// Where to look; with none of the three, `python3` is read.
#[derive(Debug)]
pub struct Inputs<'a> {
    pub python: Option<&'a Path>,
    pub paths: &'a [PathBuf],
    pub runtime: &'a [PathBuf],
    pub expected: &'a [PathBuf],
}

/// The components found, and a one-line description of each input.
#[derive(Debug)]
pub struct Gathered {
    pub components: Vec<Component>,
    pub inputs: Vec<String>,
}

pub fn gather(inputs: &Inputs<'_>) -> anyhow::Result<Gathered> {
    let mut gathered = Gathered {
        components: Vec::new(),
        inputs: Vec::new(),
    };
    let python = inputs.python.map(Path::to_path_buf).or_else(|| {
        (inputs.runtime.is_empty() && inputs.expected.is_empty()).then(|| PathBuf::from("python3"))
    });
    let inventory = match &python {
        Some(python) => {
            let interpreter = query_interpreter(python)?;
            let inventory = read_inventory_with(&interpreter, inputs.paths, Detail::Summary);
            gathered
                .inputs
                .push(format!("installed: {}", interpreter.executable.display()));
            for dist in inventory.active() {
                add(
                    &mut gathered.components,
                    installed(&dist.name, &dist.version, resolve(&dist.license), None),
                );
            }
            Some(inventory)
        }
        None => None,
    };
    for (path, report) in inputs
        .runtime
        .iter()
        .zip(runtime_reports::read_all(inputs.runtime)?)
    {
        gathered
            .inputs
            .push(format!("runtime report: {}", path.display()));
        let own = match &inventory {
            Some(_) => None,
            None => Some(report_inventory(&report)),
        };
        let metadata = inventory.as_ref().or(own.as_ref());
        for dist in &report.distributions {
            if dist.ecosystem == Ecosystem::RubyGems {
                add(&mut gathered.components, gem(dist));
                continue;
            }
            let license = metadata
                .and_then(|i| {
                    i.active().find(|d| {
                        d.normalized_name == dist.normalized_name && d.version == dist.version
                    })
                })
                .map_or_else(|| resolve(&Default::default()), |d| resolve(&d.license));
            // Each component in its own ecosystem (a Tcl or Go report's are not PyPI's).
            let component = Component {
                ecosystem: dist.ecosystem,
                normalized: dist.normalized_name.clone(),
                ..installed(&dist.name, &dist.version, license, Some(dist.loaded()))
            };
            add(&mut gathered.components, component);
        }
    }
    for path in inputs.expected {
        let expected = super::expected::read(path)?;
        gathered.inputs.push(format!(
            "expected ({}): {}",
            expected.format,
            path.display()
        ));
        for c in &expected.components {
            let Some(ecosystem) = c.ecosystem else {
                eprintln!(
                    "note: `{}` in `{}` names no ecosystem (no PURL); skipped",
                    c.raw_name,
                    path.display()
                );
                continue;
            };
            add(
                &mut gathered.components,
                Component {
                    ecosystem,
                    name: c.raw_name.clone(),
                    normalized: c.name.clone(),
                    version: c.version.exact().map(str::to_owned),
                    license: resolve_declared(&c.licenses),
                    loaded: None,
                },
            );
        }
    }
    gathered
        .components
        .sort_by(|a, b| (&a.normalized, &a.version).cmp(&(&b.normalized, &b.version)));
    Ok(gathered)
}

fn installed(
    name: &str,
    version: &str,
    license: ResolvedLicense,
    loaded: Option<bool>,
) -> Component {
    Component {
        ecosystem: Ecosystem::PyPi,
        name: name.to_owned(),
        normalized: PackageName::pypi(name),
        version: Some(version.to_owned()),
        license,
        loaded,
    }
}

/// A gem of a runtime report, its licences from its gemspec where it is installed (a list in a
/// gemspec means any one of them: `OR`).
fn gem(dist: &DistributionUse) -> Component {
    let declared = runbom_ecosystems::ruby::declared_licenses(&dist.location).unwrap_or_default();
    let license = match declared.as_slice() {
        [] => resolve(&Default::default()),
        licenses => resolve_declared(&[licenses.join(" OR ")]),
    };
    Component {
        ecosystem: Ecosystem::RubyGems,
        name: dist.name.clone(),
        normalized: dist.normalized_name.clone(),
        version: Some(dist.version.clone()),
        license,
        loaded: Some(dist.loaded()),
    }
}

/// Adds `new`, or merges it into the same component (ecosystem, name, version) already found:
/// loaded if any source saw it loaded, and the better-known licence.
fn add(components: &mut Vec<Component>, new: Component) {
    let same = components.iter_mut().find(|c| {
        c.ecosystem == new.ecosystem && c.normalized == new.normalized && c.version == new.version
    });
    match same {
        None => components.push(new),
        Some(existing) => {
            existing.loaded = match (existing.loaded, new.loaded) {
                (Some(a), Some(b)) => Some(a || b),
                (a, b) => a.or(b),
            };
            if new.license.confidence() > existing.license.confidence() {
                existing.license = new.license;
            }
        }
    }
}

/// The distributions' metadata read from the site directories the report names, for a report
/// checked without `--python` (the report itself carries no licences). Also used by `sbom`.
pub(crate) fn report_inventory(report: &RuntimeReport) -> Inventory {
    let locations: BTreeSet<PathBuf> = report
        .distributions
        .iter()
        .map(|d| d.location.clone())
        .collect();
    let interpreter = Interpreter {
        executable: report.interpreter.executable.clone(),
        implementation: report.interpreter.implementation.clone(),
        version: report.interpreter.version.clone(),
        prefix: report.interpreter.prefix.clone(),
        base_prefix: report.interpreter.prefix.clone(),
        sys_path: locations.into_iter().filter(|l| l.is_dir()).collect(),
        user_site: None,
        is_venv: false,
    };
    read_inventory_with(&interpreter, &[], Detail::Summary)
}

/// At most this many index requests in flight.
const CONCURRENCY: usize = 8;

/// Release data for every component whose ecosystem has an index client. A project the index
/// does not know is left out with a note; an unreachable or broken index is an error.
pub fn fetch_releases(
    components: &[Component],
    settings: IndexSettings,
) -> anyhow::Result<Releases> {
    // Asked by the name as written (Go module paths are case-sensitive on the proxy), keyed by
    // the component's normalised name, which is how the policy looks them up.
    let mut keys: Vec<(Ecosystem, PackageName)> = Vec::new();
    let mut projects: Vec<(Ecosystem, String)> = Vec::new();
    for c in components {
        let supported = IndexClient::supports(c.ecosystem);
        let key = (c.ecosystem, c.normalized.clone());
        if supported && !keys.contains(&key) {
            keys.push(key);
            projects.push((c.ecosystem, c.name.clone()));
        }
    }
    let client = IndexClient::new(settings).context("cannot ask the package index")?;
    let bar = progress::bar(projects.len() as u64, "package index");
    let results = releases_of_all(&client, &projects, CONCURRENCY, &|| bar.inc(1));
    bar.finish_and_clear();
    let mut releases = Releases::new();
    for ((key, (ecosystem, name)), result) in keys.into_iter().zip(&projects).zip(results) {
        match result {
            Ok(project) => {
                releases.insert(key, project);
            }
            Err(IndexError::NotFound { .. }) => {
                eprintln!(
                    "note: `{name}` is not on the {ecosystem} index; its freshness is not checked"
                );
            }
            Err(e) => return Err(e).context("cannot read release data from the package index"),
        }
    }
    Ok(releases)
}
