//! What Ruby processes loaded, as components: each file of `$LOADED_FEATURES` goes to the gem
//! whose directory (or, for a default gem, whose listed file) holds it, then to the standard
//! library when it is in Ruby's own directories (or is a built-in feature such as
//! `enumerator.so`), else to nobody (the program's own code). A gem the interpreter activated
//! (`Gem.loaded_specs`) is loaded even when none of its files was required yet; one activated
//! from outside `Gem.path` (a bundle's `path`, a `git` source) is read from where it was loaded.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use runbom_model::inventory::Problem;
use runbom_model::runtime::{DistributionUse, LoadedModule, RuntimeInterpreter};
use runbom_model::{Ecosystem, Language, PackageName};

use super::inventory::{
    GemInventory, InstalledGem, RubyInterpreter, query_interpreter, read_inventory,
};
use crate::hook::{ActivePackage, HookObservation};
use crate::report::{Observed, enforcement_in};

/// `pkg:gem/<name>@<version>`, with `?platform=` for a platform gem.
pub fn purl(name: &str, version: &str, platform: &str) -> String {
    let built = packageurl::PackageUrl::new("gem", name).and_then(|mut purl| {
        if !version.is_empty() {
            purl.with_version(version)?;
        }
        if !platform.is_empty() && platform != "ruby" {
            purl.add_qualifier("platform", platform)?;
        }
        Ok(purl.to_string())
    });
    built.unwrap_or_else(|_| format!("pkg:gem/{name}@{version}"))
}

/// Maps the observations (never empty) to the interpreter's installed gems.
pub fn observe(observations: &[HookObservation]) -> (Observed, Vec<Problem>) {
    let mut problems = Vec::new();
    let root = root(observations);
    let ruby = if root.executable.as_os_str().is_empty() {
        PathBuf::from("ruby")
    } else {
        root.executable.clone()
    };
    let interpreter = match query_interpreter(&ruby) {
        Ok(interpreter) => interpreter,
        Err(err) => {
            problems.push(Problem {
                path: ruby.clone(),
                line: None,
                message: format!("installed gems not read: {err}"),
            });
            RubyInterpreter {
                executable: ruby.clone(),
                implementation: "ruby".to_owned(),
                version: root.version.clone(),
                ..RubyInterpreter::default()
            }
        }
    };
    let extra = bundle_dirs(observations, &interpreter);
    let inventory = read_inventory(&interpreter, &extra);
    problems.extend(inventory.problems.iter().cloned());
    (map(observations, &inventory), problems)
}

/// The observation of the first process (the one whose parent is no observed process).
fn root(observations: &[HookObservation]) -> &HookObservation {
    let pids: BTreeSet<u32> = observations.iter().map(|o| o.pid).collect();
    observations
        .iter()
        .find(|o| !pids.contains(&o.ppid))
        .unwrap_or(&observations[0])
}

/// Gem directories (`…/gems/<full name>`) of active gems outside `Gem.path`: their parent's
/// parent is a gem directory of its own (a bundle installed with `path`).
fn bundle_dirs(observations: &[HookObservation], interpreter: &RubyInterpreter) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for package in observations.iter().flat_map(|o| &o.packages) {
        let Some(location) = &package.location else {
            continue;
        };
        let Some(gems) = location.parent() else {
            continue;
        };
        if gems.file_name().is_none_or(|n| n != "gems") {
            continue;
        }
        let Some(base) = gems.parent() else { continue };
        if !interpreter.gem_path.iter().any(|p| p == base) && !dirs.iter().any(|d| d == base) {
            dirs.push(base.to_owned());
        }
    }
    dirs
}

/// Who owns a loaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Gem(usize),
    Stdlib,
    Nobody,
}

struct Owners<'a> {
    by_file: HashMap<&'a Path, usize>,
    /// Gem code directories, longest first.
    by_dir: Vec<(PathBuf, usize)>,
    library_dirs: &'a [PathBuf],
}

impl<'a> Owners<'a> {
    fn new(inventory: &'a GemInventory, active: &[usize]) -> Self {
        let mut by_file = HashMap::new();
        let mut by_dir = Vec::new();
        // Active gems first, so that a file two installed versions list goes to the loaded one.
        let order = active
            .iter()
            .copied()
            .chain((0..inventory.gems.len()).filter(|i| !active.contains(i)));
        for index in order {
            let gem = &inventory.gems[index];
            // Files outside the gem's directory: Ruby's library (a default gem), `vendor_ruby`.
            if gem.default || gem.vendored {
                for file in &gem.files {
                    by_file.entry(file.as_path()).or_insert(index);
                }
            }
            for dir in gem.code_dirs() {
                by_dir.push((dir, index));
            }
        }
        by_dir.sort_by_key(|(dir, _)| std::cmp::Reverse(dir.as_os_str().len()));
        Owners {
            by_file,
            by_dir,
            library_dirs: &inventory.interpreter.library_dirs,
        }
    }

    fn owner(&self, path: Option<&Path>) -> Owner {
        let Some(path) = path else {
            return Owner::Stdlib; // a built-in feature: `enumerator.so`, `thread.rb`
        };
        if let Some(index) = self.by_file.get(path) {
            return Owner::Gem(*index);
        }
        if let Some((_, index)) = self.by_dir.iter().find(|(dir, _)| path.starts_with(dir)) {
            return Owner::Gem(*index);
        }
        if self.library_dirs.iter().any(|dir| path.starts_with(dir)) {
            return Owner::Stdlib;
        }
        Owner::Nobody
    }
}

/// The feature's require name: its path under the longest search-path entry that holds it,
/// without `.rb`/`.so` (`/gems/rack-2.2/lib/rack/request.rb` -> `rack/request`).
fn feature_name(feature: &str, search_path: &[PathBuf]) -> String {
    if feature == "__main__" {
        return feature.to_owned();
    }
    let path = Path::new(feature);
    let relative = search_path
        .iter()
        .filter(|dir| !dir.as_os_str().is_empty() && path.starts_with(dir))
        .max_by_key(|dir| dir.as_os_str().len())
        .and_then(|dir| path.strip_prefix(dir).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| feature.to_owned());
    for extension in [".rb", ".so", ".bundle", ".o", ".dll"] {
        if let Some(stem) = relative.strip_suffix(extension) {
            return stem.to_owned();
        }
    }
    relative
}

/// The installed gem an active package is, preferring the one at its location.
fn find_active(inventory: &GemInventory, package: &ActivePackage) -> Option<usize> {
    let same = |g: &InstalledGem| g.name == package.name && g.version == package.version;
    let at_location = inventory
        .gems
        .iter()
        .position(|g| same(g) && package.location.as_deref().is_some_and(|l| l == g.gem_dir));
    at_location.or_else(|| inventory.gems.iter().position(same))
}

/// Loaded files by require name: the file and the pids that loaded it.
type Loaded = BTreeMap<String, (Option<PathBuf>, BTreeSet<u32>)>;

fn map(observations: &[HookObservation], inventory: &GemInventory) -> Observed {
    let mut inventory = inventory.clone();
    // Active gems; those not installed under any read directory are added as they were seen.
    let mut active: BTreeMap<usize, BTreeSet<u32>> = BTreeMap::new();
    for observation in observations {
        for package in &observation.packages {
            let index = match find_active(&inventory, package) {
                Some(index) => index,
                None => {
                    inventory.gems.push(seen_gem(package));
                    inventory.gems.len() - 1
                }
            };
            active.entry(index).or_default().insert(observation.pid);
        }
    }
    let active_list: Vec<usize> = active.keys().copied().collect();
    let owners = Owners::new(&inventory, &active_list);
    let mut modules: BTreeMap<usize, Loaded> = BTreeMap::new();
    let mut stdlib = BTreeSet::new();
    let mut unowned = Loaded::new();
    let mut processes = Vec::new();
    for observation in observations {
        let mut search_path = observation.search_path.clone();
        search_path.extend(inventory.interpreter.library_dirs.iter().cloned());
        for file in &observation.files {
            let name = feature_name(&file.name, &search_path);
            match owners.owner(file.path.as_deref()) {
                Owner::Gem(index) => {
                    let entry = modules
                        .entry(index)
                        .or_default()
                        .entry(name)
                        .or_insert_with(|| (file.path.clone(), BTreeSet::new()));
                    entry.1.insert(observation.pid);
                }
                Owner::Stdlib => {
                    stdlib.insert(name);
                }
                Owner::Nobody => {
                    let entry = unowned
                        .entry(name)
                        .or_insert_with(|| (file.path.clone(), BTreeSet::new()));
                    entry.1.insert(observation.pid);
                }
            }
        }
        processes.push(observation.process(observation.files.len()));
    }
    // An activated gem none of whose files was required is loaded all the same.
    for (index, pids) in &active {
        let gem = &inventory.gems[*index];
        let loaded = modules.entry(*index).or_default();
        if loaded.is_empty() {
            loaded.insert(gem.name.clone(), (None, pids.clone()));
        }
    }
    let to_modules = |entries: Loaded| {
        entries
            .into_iter()
            .map(|(name, (file, pids))| LoadedModule {
                name,
                file,
                pids: pids.into_iter().collect(),
                integrity: None,
            })
            .collect::<Vec<_>>()
    };
    let mut distributions: Vec<DistributionUse> = inventory
        .gems
        .iter()
        .enumerate()
        .map(|(index, gem)| DistributionUse {
            ecosystem: Ecosystem::RubyGems,
            name: gem.name.clone(),
            normalized_name: PackageName::new(Ecosystem::RubyGems, &gem.name),
            version: gem.version.clone(),
            purl: purl(&gem.name, &gem.version, &gem.platform),
            // A default gem's code is in Ruby's own library: it is where its specification is
            // (which is how verify knows it from the report alone).
            location: if gem.default {
                gem.spec_path.clone()
            } else {
                gem.gem_dir.clone()
            },
            size: gem.size,
            requires_dist: Vec::new(),
            sum: None,
            modules: modules.remove(&index).map(to_modules).unwrap_or_default(),
        })
        .collect();
    distributions.sort_by(|a, b| {
        (&a.normalized_name, &a.version, &a.location).cmp(&(
            &b.normalized_name,
            &b.version,
            &b.location,
        ))
    });
    let root = root(observations);
    let started = observations
        .iter()
        .map(|o| o.started)
        .filter(|s| *s > 0.0)
        .reduce(f64::min);
    let interpreter = &inventory.interpreter;
    let (enforcement, refusals) = enforcement_in(observations);
    Observed {
        started_at: started.map(crate::report::rfc3339),
        command: root.argv.clone(),
        interpreter: RuntimeInterpreter {
            language: Language::Ruby,
            executable: if root.executable.as_os_str().is_empty() {
                interpreter.executable.clone()
            } else {
                root.executable.clone()
            },
            implementation: if interpreter.implementation.is_empty() {
                "ruby".to_owned()
            } else {
                interpreter.implementation.clone()
            },
            version: if root.version.is_empty() {
                interpreter.version.clone()
            } else {
                root.version.clone()
            },
            prefix: interpreter.prefix.clone(),
            build: BTreeMap::new(),
        },
        hook_errors: observations.iter().map(|o| o.errors).sum(),
        enforcement,
        refusals,
        processes,
        distributions,
        stdlib_modules: stdlib.into_iter().collect(),
        unowned_modules: to_modules(unowned),
    }
}

/// An active gem found in no specifications directory, as the interpreter described it.
fn seen_gem(package: &ActivePackage) -> InstalledGem {
    let gem_dir = package.location.clone().unwrap_or_default();
    InstalledGem {
        name: package.name.clone(),
        version: package.version.clone(),
        platform: "ruby".to_owned(),
        licenses: Vec::new(),
        summary: None,
        location: gem_dir.parent().map(Path::to_owned).unwrap_or_default(),
        spec_path: PathBuf::new(),
        gem_dir,
        default: false,
        vendored: false,
        dependencies: Vec::new(),
        size: 0,
        files: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::LoadedFile;

    fn gem(name: &str, version: &str, dir: &str, default: bool, files: &[&str]) -> InstalledGem {
        InstalledGem {
            name: name.into(),
            version: version.into(),
            platform: "ruby".into(),
            licenses: vec!["MIT".into()],
            summary: None,
            location: "/g".into(),
            spec_path: PathBuf::new(),
            gem_dir: dir.into(),
            default,
            vendored: false,
            dependencies: Vec::new(),
            size: 0,
            files: files.iter().map(PathBuf::from).collect(),
        }
    }

    fn file(path: &str) -> LoadedFile {
        LoadedFile {
            name: path.into(),
            path: path.starts_with('/').then(|| path.into()),
        }
    }

    /// A Debian gem whose code is in Ruby's `vendor_ruby` (`ruby-tilt`, `ruby-xmlrpc`).
    fn vendored(name: &str, version: &str, files: &[&str]) -> InstalledGem {
        let dir = format!("/usr/share/rubygems-integration/all/gems/{name}-{version}");
        InstalledGem {
            vendored: true,
            ..gem(name, version, &dir, false, files)
        }
    }

    #[test]
    fn maps_files_to_gems_default_gems_stdlib_and_nobody() {
        let inventory = GemInventory {
            schema: String::new(),
            interpreter: RubyInterpreter {
                library_dirs: vec![
                    "/usr/lib/ruby/3.1.0".into(),
                    "/usr/lib/ruby/vendor_ruby".into(),
                ],
                ..RubyInterpreter::default()
            },
            gems: vec![
                gem("rack", "2.2.22", "/g/gems/rack-2.2.22", false, &[]),
                gem("rack", "3.0.0", "/g/gems/rack-3.0.0", false, &[]),
                vendored(
                    "tilt",
                    "2.0.11",
                    &[
                        "/usr/lib/ruby/vendor_ruby/tilt.rb",
                        "/usr/lib/ruby/vendor_ruby/tilt/erb.rb",
                    ],
                ),
                vendored("xmlrpc", "0.3.2", &["/usr/lib/ruby/vendor_ruby/xmlrpc.rb"]),
                gem(
                    "uri",
                    "0.11.0",
                    "/g/gems/uri-0.11.0",
                    true,
                    &["/usr/lib/ruby/3.1.0/uri.rb"],
                ),
            ],
            problems: Vec::new(),
        };
        let observation = HookObservation {
            pid: 10,
            ppid: 1,
            executable: "/usr/bin/ruby3.1".into(),
            version: "3.1.2".into(),
            files: vec![
                LoadedFile {
                    name: "__main__".into(),
                    path: Some("/srv/app/main.rb".into()),
                },
                file("enumerator.so"),
                file("/usr/lib/ruby/3.1.0/set.rb"),
                file("/usr/lib/ruby/3.1.0/uri.rb"),
                file("/g/gems/rack-2.2.22/lib/rack/request.rb"),
                file("/usr/lib/ruby/vendor_ruby/tilt.rb"),
                // Required from `vendor_ruby` without its gem being activated.
                file("/usr/lib/ruby/vendor_ruby/xmlrpc.rb"),
                file("/usr/lib/ruby/vendor_ruby/rubygems.rb"),
                file("/srv/app/app.rb"),
            ],
            packages: vec![
                ActivePackage {
                    name: "rack".into(),
                    version: "2.2.22".into(),
                    location: Some("/g/gems/rack-2.2.22".into()),
                },
                ActivePackage {
                    name: "tilt".into(),
                    version: "2.0.11".into(),
                    location: Some("/usr/share/rubygems-integration/all/gems/tilt-2.0.11".into()),
                },
                ActivePackage {
                    name: "local".into(),
                    version: "0.1".into(),
                    location: Some("/src/local".into()),
                },
            ],
            search_path: vec![
                "/g/gems/rack-2.2.22/lib".into(),
                "/usr/lib/ruby/vendor_ruby".into(),
                "/srv".into(),
            ],
            ..HookObservation::default()
        };
        let observed = map(&[observation], &inventory);
        let loaded: Vec<String> = observed
            .distributions
            .iter()
            .map(|d| {
                let modules: Vec<&str> = d.modules.iter().map(|m| m.name.as_str()).collect();
                format!("{} {} {}: {}", d.name, d.version, d.purl, modules.join(","))
            })
            .collect();
        assert_eq!(
            loaded,
            [
                "local 0.1 pkg:gem/local@0.1: local",
                "rack 2.2.22 pkg:gem/rack@2.2.22: rack/request",
                "rack 3.0.0 pkg:gem/rack@3.0.0: ",
                "tilt 2.0.11 pkg:gem/tilt@2.0.11: tilt",
                "uri 0.11.0 pkg:gem/uri@0.11.0: uri",
                "xmlrpc 0.3.2 pkg:gem/xmlrpc@0.3.2: xmlrpc",
            ]
        );
        let tilt = observed.distributions.iter().find(|d| d.name == "tilt");
        assert_eq!(
            tilt.unwrap().modules[0].file.as_deref(),
            Some(Path::new("/usr/lib/ruby/vendor_ruby/tilt.rb"))
        );
        assert_eq!(observed.stdlib_modules, ["enumerator", "rubygems", "set"]);
        let unowned: Vec<&str> = observed
            .unowned_modules
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(unowned, ["__main__", "app/app"]);
        assert_eq!(observed.interpreter.language, Language::Ruby);
        assert_eq!(observed.processes[0].modules_loaded, 9);
    }

    #[test]
    fn purls_carry_a_platform_only_when_there_is_one() {
        assert_eq!(purl("rack", "2.2.22", "ruby"), "pkg:gem/rack@2.2.22");
        assert_eq!(
            purl("nokogiri", "1.15.0", "x86_64-linux"),
            "pkg:gem/nokogiri@1.15.0?platform=x86_64-linux"
        );
    }
}
