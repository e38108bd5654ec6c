//! Perl: a pure-Perl hook (`hook/Runbom/Hook.pm`, loaded by `PERL5OPT=-MRunbom::Hook` with its
//! directory on `PERL5LIB`) records each process's `%INC`, and this module maps the loaded files
//! to the installed distributions ([`inventory`]): `pkg:cpan` components, perl's own modules as
//! the standard library, the rest unowned.
//!
//! Traps:
//! - Under taint checks (`perl -T`, `-t`, setuid) perl ignores `PERL5OPT` and `PERL5LIB`: such a
//!   process runs bare and is not observed.
//! - `%INC` names a file relative to the directory it was found in when `@INC` held a relative
//!   one (`lib`, `.`); the hook makes those absolute against the process's working directory.

pub mod enforce;
pub mod inventory;
pub mod metadata;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use runbom_model::inventory::Problem;
use runbom_model::runtime::{DistributionUse, LoadedModule, RuntimeInterpreter};
use runbom_model::{Ecosystem, Language, PackageName};

use crate::hook::{Hook, HookError, HookObservation, Launch, prepend_to_env, write_hook_file};
use crate::language::{LanguageModule, ObservedBy};
use crate::program::Program;
use crate::report::{Observed, enforcement_in, rfc3339};

use inventory::{DpkgDatabase, Owner, PerlInfo, PerlInventory, read_inventory};

/// The hook, as the session and `runbom hook install` write it.
pub const HOOK_SOURCE: &str = include_str!("hook/Runbom/Hook.pm");

/// The module `PERL5OPT` loads.
pub const HOOK_MODULE: &str = "Runbom::Hook";

/// Perl behind the language seam: observed by its hook.
#[derive(Debug)]
pub struct Perl;

impl LanguageModule for Perl {
    fn language(&self) -> Language {
        Language::Perl
    }

    fn observed_by(&self) -> ObservedBy {
        ObservedBy::Hook
    }

    /// `perl`, `perl5.36.0` …, or a script whose `#!` line names one.
    fn runs(&self, program: &Program) -> Option<PathBuf> {
        if is_perl_name(Path::new(&program.command)) {
            return Some(PathBuf::from(&program.command));
        }
        program.interpreter.clone().filter(|i| is_perl_name(i))
    }

    fn hook(&self) -> Option<&dyn Hook> {
        Some(self)
    }
}

fn is_perl_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("perl"))
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The environment that makes every perl load the hook installed in `dir`, joined with what the
/// user had (`PERL5LIB` after the hook's directory, `PERL5OPT` after `-MRunbom::Hook`).
pub fn launch(dir: &Path) -> Launch {
    Launch {
        env: vec![
            prepend_to_env("PERL5LIB", &dir.display().to_string(), ":"),
            prepend_to_env("PERL5OPT", &format!("-M{HOOK_MODULE}"), " "),
        ],
    }
}

/// Writes the hook as `dir/Runbom/Hook.pm`.
pub fn write_hook(dir: &Path) -> Result<PathBuf, HookError> {
    write_hook_file(Language::Perl, &dir.join("Runbom"), "Hook.pm", HOOK_SOURCE)
}

impl Hook for Perl {
    fn install(&self, dir: &Path) -> Result<Launch, HookError> {
        write_hook(dir)?;
        Ok(launch(dir))
    }

    fn observe(&self, observations: &[HookObservation]) -> (Observed, Vec<Problem>) {
        let inventory = read_inventory(perl_of(observations), &DpkgDatabase::default());
        let observed = observed(observations, &inventory);
        (observed, inventory.problems)
    }
}

/// The perl the observations ran on, and every directory their `@INC` held, in order.
pub fn perl_of(observations: &[HookObservation]) -> PerlInfo {
    let first = observations.first().cloned().unwrap_or_default();
    let mut inc: Vec<PathBuf> = Vec::new();
    for dir in observations.iter().flat_map(|o| &o.search_path) {
        if !inc.contains(dir) {
            inc.push(dir.clone());
        }
    }
    PerlInfo {
        executable: first.executable,
        version: first.version,
        inc,
    }
}

/// `pkg:cpan/<distribution>@<version>`.
pub fn purl(name: &str, version: &str) -> String {
    packageurl::PackageUrl::new("cpan", name)
        .and_then(|mut purl| {
            if !version.is_empty() {
                purl.with_version(version)?;
            }
            Ok(purl.to_string())
        })
        .unwrap_or_else(|_| format!("pkg:cpan/{name}@{version}"))
}

/// What `observations` loaded, against `inventory`: every installed distribution with the
/// modules each process loaded of it, perl's own modules as `stdlib_modules`, the rest unowned.
pub fn observed(observations: &[HookObservation], inventory: &PerlInventory) -> Observed {
    let index = inventory.file_index();
    let mut by_dist: Vec<BTreeMap<String, LoadedModule>> =
        vec![BTreeMap::new(); inventory.distributions.len()];
    let mut stdlib: BTreeSet<String> = BTreeSet::new();
    let mut unowned: BTreeMap<(String, Option<PathBuf>), LoadedModule> = BTreeMap::new();
    let position = |dist: &inventory::PerlDistribution| {
        inventory
            .distributions
            .iter()
            .position(|d| std::ptr::eq(d, dist))
    };
    for observation in observations {
        for file in &observation.files {
            let owner = file.path.as_deref().and_then(|p| index.owner_of(p));
            let modules = match owner {
                Some(Owner::Core) => {
                    stdlib.insert(file.name.clone());
                    continue;
                }
                Some(Owner::Distribution(dist)) => match position(dist) {
                    Some(at) => &mut by_dist[at],
                    None => continue,
                },
                None => {
                    let key = (file.name.clone(), file.path.clone());
                    let module = unowned.entry(key).or_insert_with(|| LoadedModule {
                        name: file.name.clone(),
                        file: file.path.clone(),
                        pids: Vec::new(),
                        integrity: None,
                    });
                    add_pid(module, observation.pid);
                    continue;
                }
            };
            let module = modules
                .entry(file.name.clone())
                .or_insert_with(|| LoadedModule {
                    name: file.name.clone(),
                    file: file.path.clone(),
                    pids: Vec::new(),
                    integrity: None,
                });
            add_pid(module, observation.pid);
        }
    }
    let mut distributions: Vec<DistributionUse> = inventory
        .distributions
        .iter()
        .zip(by_dist)
        .map(|(dist, modules)| DistributionUse {
            ecosystem: Ecosystem::Cpan,
            name: dist.name.clone(),
            normalized_name: PackageName::new(Ecosystem::Cpan, &dist.name),
            version: dist.version.clone(),
            purl: purl(&dist.name, &dist.version),
            location: dist.location.clone(),
            size: 0,
            requires_dist: Vec::new(),
            sum: None,
            modules: modules.into_values().collect(),
        })
        .collect();
    distributions.sort_by(|a, b| {
        (&a.normalized_name, &a.version, &a.location).cmp(&(
            &b.normalized_name,
            &b.version,
            &b.location,
        ))
    });
    let first = observations.first().cloned().unwrap_or_default();
    let started = observations
        .iter()
        .map(|o| o.started)
        .filter(|s| *s > 0.0)
        .fold(None, |min: Option<f64>, s| {
            Some(min.map_or(s, |m| m.min(s)))
        });
    let prefix = first
        .executable
        .parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .unwrap_or_default();
    let (enforcement, refusals) = enforcement_in(observations);
    Observed {
        started_at: started.map(rfc3339),
        command: first.argv.clone(),
        interpreter: RuntimeInterpreter {
            language: Language::Perl,
            executable: first.executable.clone(),
            implementation: "perl".to_owned(),
            version: first.version.clone(),
            prefix,
            build: BTreeMap::new(),
        },
        processes: observations
            .iter()
            .map(|o| o.process(o.files.len()))
            .collect(),
        distributions,
        stdlib_modules: stdlib.into_iter().collect(),
        unowned_modules: unowned.into_values().collect(),
        hook_errors: observations.iter().map(|o| o.errors).sum(),
        enforcement,
        refusals,
    }
}

fn add_pid(module: &mut LoadedModule, pid: u32) {
    if let Err(at) = module.pids.binary_search(&pid) {
        module.pids.insert(at, pid);
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
