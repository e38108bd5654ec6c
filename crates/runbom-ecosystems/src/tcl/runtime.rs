//! What a run's Tcl processes loaded, as components: each package a process had present (name
//! and version, as `package provide` said when the hook wrote) is the installed package of that
//! name and version found along the interpreter's paths; Tcl itself and the packages under its library are the
//! standard library; a package or file found nowhere (the program's own script, a package it
//! provides itself) is unowned, the program's own script as `__main__`. The files a process
//! sourced or loaded are the units of the package they belong to (see [`owner`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use runbom_model::inventory::Problem;
use runbom_model::runtime::{DistributionUse, LoadedModule, RuntimeInterpreter};
use runbom_model::{Ecosystem, Language, PackageName};

use super::inventory::{
    TclInterpreter, TclInventory, TclPackage, query_interpreter, read_inventory,
};
use crate::hook::HookObservation;
use crate::report::{Observed, rfc3339};

/// Loaded units by name and file, with the pids that loaded each.
type Units = BTreeMap<(String, Option<PathBuf>), BTreeSet<u32>>;

/// The packages Tcl 8.6 provides itself, with no index: part of Tcl.
pub const BUILT_IN: [&str; 4] = ["Tcl", "TclOO", "tcl::tommath", "zlib"];

/// `pkg:generic/tcl/NAME@VERSION`, as the `packageurl` crate writes it (`::` kept, as the spec allows).
pub fn purl(name: &str, version: &str) -> String {
    let built = packageurl::PackageUrl::new(Ecosystem::Tcl.purl_type(), name).and_then(|mut p| {
        p.with_namespace("tcl")?;
        if !version.is_empty() {
            p.with_version(version)?;
        }
        Ok(p.to_string())
    });
    built.unwrap_or_else(|_| format!("pkg:generic/tcl/{name}@{version}"))
}

/// Each interpreter asked once per runbom process: a run's periodic reports ask again.
fn interpreter(executable: &Path) -> Result<TclInterpreter, String> {
    static ASKED: Mutex<BTreeMap<PathBuf, Result<TclInterpreter, String>>> =
        Mutex::new(BTreeMap::new());
    let mut asked = ASKED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    asked
        .entry(executable.to_owned())
        .or_insert_with(|| query_interpreter(executable).map_err(|e| error_chain(&e)))
        .clone()
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The observations of one run, mapped to the packages of the first process's interpreter.
pub fn observe(observations: &[HookObservation]) -> (Observed, Vec<Problem>) {
    let mut problems = Vec::new();
    let first = observations.first();
    let executable = first
        .map(|o| o.executable.clone())
        .filter(|e| !e.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("tclsh"));
    let tcl = match interpreter(&executable) {
        Ok(tcl) => tcl,
        Err(message) => {
            problems.push(Problem {
                path: executable.clone(),
                line: None,
                message: format!("packages not mapped to their installation: {message}"),
            });
            TclInterpreter {
                executable: executable.clone(),
                version: first.map(|o| o.version.clone()).unwrap_or_default(),
                ..TclInterpreter::default()
            }
        }
    };
    let extra: Vec<PathBuf> = observations
        .iter()
        .flat_map(|o| &o.search_path)
        .filter(|p| !tcl.auto_path.contains(p))
        .cloned()
        .collect();
    let inventory = read_inventory(&tcl, &extra);
    problems.extend(inventory.problems.iter().cloned());
    let observed = map(observations, &tcl, &inventory);
    (observed, problems)
}

/// The report's part for `observations`, given what is installed.
pub fn map(
    observations: &[HookObservation],
    tcl: &TclInterpreter,
    inventory: &TclInventory,
) -> Observed {
    let library = std::fs::canonicalize(&tcl.library).ok();
    let in_library = |path: &Path| {
        library.as_deref().is_some_and(|l| path.starts_with(l)) || path.starts_with(&tcl.library)
    };
    // The installed packages, each name and version once (the first Tcl would find).
    let mut installed: Vec<&TclPackage> = Vec::new();
    let mut by_key: HashMap<(&str, &str), usize> = HashMap::new();
    for package in &inventory.packages {
        let key = (package.name.as_str(), package.version.as_str());
        if let std::collections::hash_map::Entry::Vacant(entry) = by_key.entry(key) {
            entry.insert(installed.len());
            installed.push(package);
        }
    }
    let mut modules: Vec<Units> = vec![BTreeMap::new(); installed.len()];
    let mut stdlib: BTreeSet<String> = BTreeSet::new();
    let mut unowned: Units = BTreeMap::new();
    let mut processes = Vec::new();
    for observation in observations {
        let pid = observation.pid;
        // The installed packages this process had present, by index.
        let mut present: BTreeSet<usize> = BTreeSet::new();
        for package in &observation.packages {
            let found = by_key
                .get(&(package.name.as_str(), package.version.as_str()))
                .copied();
            if BUILT_IN.contains(&package.name.as_str())
                || found.is_some_and(|at| installed[at].stdlib)
            {
                stdlib.insert(package.name.clone());
            } else if let Some(at) = found {
                present.insert(at);
            } else {
                // Provided by the program itself, or from a place runbom did not search.
                unowned
                    .entry((package.name.clone(), None))
                    .or_default()
                    .insert(pid);
            }
        }
        let mut with_files = BTreeSet::new();
        for file in &observation.files {
            let Some(path) = &file.path else { continue };
            if in_library(path) {
                stdlib.insert(library_name(path, &tcl.library, library.as_deref()));
                continue;
            }
            match owner(path, &present, &installed) {
                Some(at) => {
                    present.insert(at);
                    let name = path
                        .strip_prefix(&installed[at].location)
                        .unwrap_or(path)
                        .to_string_lossy()
                        .into_owned();
                    modules[at]
                        .entry((name, Some(path.clone())))
                        .or_default()
                        .insert(pid);
                    with_files.insert(at);
                }
                None => {
                    let name = if file.name == "__main__" {
                        file.name.clone()
                    } else {
                        path.to_string_lossy().into_owned()
                    };
                    unowned
                        .entry((name, Some(path.clone())))
                        .or_default()
                        .insert(pid);
                }
            }
        }
        // A package present none of whose files were seen (provided by a library loaded before,
        // or by a file another package sourced) is still loaded: it is listed by its name.
        for &at in &present {
            if !with_files.contains(&at) {
                modules[at]
                    .entry((installed[at].name.clone(), None))
                    .or_default()
                    .insert(pid);
            }
        }
        let loaded = observation.files.len().max(observation.packages.len());
        processes.push(observation.process(loaded));
    }
    let mut distributions: Vec<DistributionUse> = installed
        .iter()
        .zip(modules)
        .filter(|(package, _)| !package.stdlib)
        .map(|(package, modules)| component(package, modules))
        .collect();
    distributions.sort_by(|a, b| {
        (a.ecosystem, &a.normalized_name, &a.version).cmp(&(
            b.ecosystem,
            &b.normalized_name,
            &b.version,
        ))
    });
    let started = observations
        .iter()
        .map(|o| o.started)
        .filter(|s| *s > 0.0)
        .fold(None, |min: Option<f64>, s| {
            Some(min.map_or(s, |m| m.min(s)))
        });
    let first = observations.first();
    Observed {
        started_at: started.map(rfc3339),
        command: first.map(|o| o.argv.clone()).unwrap_or_default(),
        interpreter: RuntimeInterpreter {
            language: Language::Tcl,
            executable: first
                .map(|o| o.executable.clone())
                .filter(|e| !e.as_os_str().is_empty())
                .unwrap_or_else(|| tcl.executable.clone()),
            implementation: "tcl".to_owned(),
            version: first
                .map(|o| o.version.clone())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| tcl.version.clone()),
            prefix: tcl.library.clone(),
            build: BTreeMap::new(),
        },
        processes,
        distributions,
        stdlib_modules: stdlib.into_iter().collect(),
        unowned_modules: unowned
            .into_iter()
            .map(|((name, file), pids)| loaded_module(name, file, pids))
            .collect(),
        hook_errors: observations.iter().map(|o| o.errors).sum(),
        enforcement: Vec::new(),
        refusals: Vec::new(),
    }
}

/// The installed package a loaded file belongs to: a present package whose index names it, else
/// the present package installed deepest above it (`json/json_tcl.tcl`, which `json.tcl`
/// sources, is `json`'s; the first listed of several in one directory), else any package whose
/// index names it (a file the program sourced itself).
fn owner(path: &Path, present: &BTreeSet<usize>, installed: &[&TclPackage]) -> Option<usize> {
    let names = |at: &usize| installed[*at].files.iter().any(|f| f == path);
    present
        .iter()
        .copied()
        .find(|at| names(at))
        .or_else(|| {
            present
                .iter()
                .copied()
                .filter(|&at| path.starts_with(&installed[at].location))
                .max_by_key(|&at| {
                    (
                        installed[at].location.components().count(),
                        std::cmp::Reverse(at),
                    )
                })
        })
        .or_else(|| (0..installed.len()).find(|at| names(at)))
}

/// A file of Tcl's library by its path there (`package.tcl`, `tcl8/http-2.9.8.tm`).
fn library_name(path: &Path, library: &Path, canonical: Option<&Path>) -> String {
    canonical
        .and_then(|l| path.strip_prefix(l).ok())
        .or_else(|| path.strip_prefix(library).ok())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn loaded_module(name: String, file: Option<PathBuf>, pids: BTreeSet<u32>) -> LoadedModule {
    LoadedModule {
        name,
        file,
        pids: pids.into_iter().collect(),
        integrity: None,
    }
}

fn component(package: &TclPackage, modules: Units) -> DistributionUse {
    let size = package
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    DistributionUse {
        ecosystem: Ecosystem::Tcl,
        name: package.name.clone(),
        normalized_name: PackageName::new(Ecosystem::Tcl, &package.name),
        version: package.version.clone(),
        purl: purl(&package.name, &package.version),
        location: package.location.clone(),
        size,
        requires_dist: Vec::new(),
        sum: None,
        modules: modules
            .into_iter()
            .map(|((name, file), pids)| loaded_module(name, file, pids))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::{ActivePackage, LoadedFile};
    use crate::tcl::inventory::PackageSource;

    fn package(name: &str, version: &str, location: &str, stdlib: bool) -> TclPackage {
        TclPackage {
            name: name.into(),
            version: version.into(),
            source: PackageSource::PkgIndex,
            index: PathBuf::from(location).join("pkgIndex.tcl"),
            line: Some(1),
            location: PathBuf::from(location),
            files: vec![PathBuf::from(location).join(format!("{name}.tcl"))],
            license: None,
            stdlib,
        }
    }

    #[test]
    fn purls_are_generic_in_the_tcl_namespace() {
        assert_eq!(purl("json", "1.3.4"), "pkg:generic/tcl/json@1.3.4");
        assert_eq!(
            purl("struct::list", "1.8.5"),
            "pkg:generic/tcl/struct::list@1.8.5"
        );
    }

    #[test]
    fn maps_present_packages_and_their_files_to_installed_ones() {
        let tcl = TclInterpreter {
            executable: PathBuf::from("/usr/bin/tclsh8.6"),
            version: "8.6.13".into(),
            library: PathBuf::from("/tcl/lib8.6"),
            auto_path: Vec::new(),
            tm_path: Vec::new(),
        };
        let inventory = TclInventory {
            schema: String::new(),
            interpreter: tcl.clone(),
            packages: vec![
                package("json", "1.3.4", "/tcllib/json", false),
                package("json::write", "1.0.4", "/tcllib/json", false),
                package("md5", "2.0.8", "/tcllib/md5", false),
                package("md5", "1.4.5", "/tcllib/md5", false),
                package("msgcat", "1.6.1", "/tcl/lib8.6/tcl8", true),
            ],
            problems: Vec::new(),
        };
        let file = |name: &str, path: &str| LoadedFile {
            name: name.into(),
            path: Some(PathBuf::from(path)),
        };
        let active = |name: &str, version: &str| ActivePackage {
            name: name.into(),
            version: version.into(),
            location: None,
        };
        let observation = HookObservation {
            pid: 7,
            executable: PathBuf::from("/usr/bin/tclsh8.6"),
            version: "8.6.13".into(),
            started: 1.0,
            exited: true,
            files: vec![
                file("__main__", "/app/app.tcl"),
                file("", "/app/helper.tcl"),
                file("", "/tcl/lib8.6/package.tcl"),
                file("", "/tcllib/json/json.tcl"),
                file("", "/tcllib/json/json_tcl.tcl"),
                file("", "/app/lib/mine.tcl"),
            ],
            packages: vec![
                active("Tcl", "8.6.13"),
                active("json", "1.3.4"),
                active("json::write", "1.0.4"),
                active("md5", "1.4.5"),
                active("msgcat", "1.6.1"),
                active("mine", "0.1"),
            ],
            ..HookObservation::default()
        };
        let observed = map(&[observation], &tcl, &inventory);
        let loaded: Vec<String> = observed
            .distributions
            .iter()
            .filter(|d| d.loaded())
            .map(|d| {
                let modules: Vec<&str> = d.modules.iter().map(|m| m.name.as_str()).collect();
                format!("{} {} {}", d.name, d.version, modules.join(","))
            })
            .collect();
        assert_eq!(
            loaded,
            [
                "json 1.3.4 json.tcl,json_tcl.tcl",
                "json::write 1.0.4 json::write",
                "md5 1.4.5 md5"
            ]
        );
        assert_eq!(observed.distributions.len(), 4);
        assert_eq!(observed.stdlib_modules, ["Tcl", "msgcat", "package.tcl"]);
        let unowned: Vec<&str> = observed
            .unowned_modules
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(
            unowned,
            ["/app/helper.tcl", "/app/lib/mine.tcl", "__main__", "mine"]
        );
        assert_eq!(observed.interpreter.language, Language::Tcl);
        assert_eq!(observed.processes[0].pid, 7);
    }
}
