//! The Perl distributions installed for one perl (`runbom inventory --perl`,
//! `runbom.perl-inventory/v1`), each with its files, so that a loaded module file maps to the
//! distribution that installed it. Read from the perl's `@INC` trees and Debian's package
//! database, in this order:
//!
//! 1. Perl's own files: a `.packlist` directly in an `@INC` directory (a perl built from source
//!    lists its core there), or, on Debian, the files of `perl`, `perl-base`, `perl-modules-*`
//!    and `libperl*`. These are the core (`stdlib`), not distributions.
//! 2. ExtUtils::Install's `auto/**/.packlist` under each `@INC` directory: one distribution per
//!    main module (`auto/Foo/Bar/.packlist` is `Foo::Bar`'s), named and versioned by cpanm's
//!    `.meta/<dist>/{install,MYMETA}.json` or `META.json` when there, else by `perllocal.pod`,
//!    else by the main module's `$VERSION`; its name is then the main module's with `::` as `-`.
//! 3. Debian: every installed `lib*-perl` package whose `*.list` names a `.pm` under an `@INC`
//!    directory (other packages' modules, `debconf`'s, are not CPAN's and stay unowned).
//!    Its CPAN distribution is the `Upstream-Name` of its DEP-5 `copyright` file
//!    (`libwww-perl` → `libwww-perl`, `libmojolicious-perl` → `Mojolicious`), else its name
//!    without `lib` and `-perl`, each word capitalised as the module that best matches it; its
//!    version is the `$VERSION` of its main module (the distribution name with `-` as `::`,
//!    else its shortest module name), else the upstream part of the Debian version.
//!
//! A file claimed twice belongs to the first claimant (a CPAN install over Debian's wins, as
//! the site directories come first in `@INC`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use runbom_model::inventory::Problem;
use serde::Serialize;

use super::metadata::{
    self, DistMeta, debian_upstream_version, is_module_name, module_version, parse_dpkg_status,
    parse_packlist, parse_perllocal, upstream_name,
};

/// The `schema` value of the JSON form.
pub const PERL_INVENTORY_SCHEMA: &str = "runbom.perl-inventory/v1";

/// Debian packages whose files are perl itself.
fn is_debian_core(package: &str) -> bool {
    package == "perl"
        || package == "perl-base"
        || package.starts_with("perl-modules-")
        || package.starts_with("libperl5")
}

/// Debian packages that are CPAN distributions: by Debian's Perl policy, `lib<name>-perl`
/// (`libwww-perl` too). Perl modules of other packages (`debconf`, `git`'s `Git.pm`) are that
/// package's own code, not a CPAN distribution: loaded, they are unowned.
fn is_debian_cpan(package: &str) -> bool {
    package.starts_with("lib") && package.ends_with("-perl")
}

/// Where Debian's package database is.
#[derive(Debug, Clone)]
pub struct DpkgDatabase {
    /// `/var/lib/dpkg`: `status` and `info/*.list`.
    pub admin_dir: PathBuf,
    /// `/usr/share/doc`: `<package>/copyright`.
    pub doc_dir: PathBuf,
}

impl Default for DpkgDatabase {
    fn default() -> Self {
        Self {
            admin_dir: PathBuf::from("/var/lib/dpkg"),
            doc_dir: PathBuf::from("/usr/share/doc"),
        }
    }
}

/// The perl an inventory is of.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PerlInfo {
    pub executable: PathBuf,
    /// `$^V` without the `v`, e.g. `5.36.0`.
    pub version: String,
    /// `@INC`, the directories read.
    pub inc: Vec<PathBuf>,
}

/// How a distribution was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// An `auto/**/.packlist` (ExtUtils::Install).
    Packlist,
    /// Debian's package database.
    Dpkg,
}

/// One installed distribution.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PerlDistribution {
    /// The CPAN distribution, e.g. `Mojolicious`, `libwww-perl`.
    pub name: String,
    /// Empty when nothing says.
    pub version: String,
    pub source: Source,
    /// The main module, e.g. `LWP` for libwww-perl.
    pub main_module: Option<String>,
    /// The Debian package that installed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debian_package: Option<String>,
    /// The `@INC` directory its main module (or its first module) is in.
    pub location: PathBuf,
    /// The file it was read from (`.packlist`, the dpkg `*.list`).
    pub metadata_path: PathBuf,
    /// Licences as CPAN::Meta names them (`perl_5`), when its metadata says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub license: Vec<String>,
    /// Every file it installed, sorted.
    pub files: Vec<PathBuf>,
}

impl PerlDistribution {
    /// The modules it installed under `@INC` (`Foo/Bar.pm` → `Foo::Bar`), sorted.
    pub fn modules(&self, inc: &[PathBuf]) -> Vec<String> {
        let mut modules: Vec<String> = self
            .files
            .iter()
            .filter_map(|file| module_name(inc, file))
            .collect();
        modules.sort();
        modules.dedup();
        modules
    }
}

/// Everything installed for one perl.
#[derive(Debug, Clone, Serialize)]
pub struct PerlInventory {
    pub schema: String,
    pub perl: PerlInfo,
    /// Sorted by name, then version.
    pub distributions: Vec<PerlDistribution>,
    /// Perl's own files (its core modules), sorted.
    pub core_files: BTreeSet<PathBuf>,
    pub problems: Vec<Problem>,
}

/// What a loaded file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    Core,
    Distribution(&'a PerlDistribution),
}

impl PerlInventory {
    /// A path -> owner map, built once for many lookups.
    pub fn file_index(&self) -> FileIndex<'_> {
        let mut by_path = HashMap::new();
        for dist in &self.distributions {
            for file in &dist.files {
                by_path
                    .entry(file.clone())
                    .or_insert(Owner::Distribution(dist));
            }
        }
        for file in &self.core_files {
            by_path.entry(file.clone()).or_insert(Owner::Core);
        }
        FileIndex { by_path }
    }
}

/// Loaded file → core or distribution.
#[derive(Debug)]
pub struct FileIndex<'a> {
    by_path: HashMap<PathBuf, Owner<'a>>,
}

impl<'a> FileIndex<'a> {
    /// The owner of `path` as `%INC` gives it (made absolute by the hook); a path through a
    /// symbolic link (`/lib` → `/usr/lib`) is tried as it resolves.
    pub fn owner_of(&self, path: &Path) -> Option<Owner<'a>> {
        let path = runbom_model::inventory::normalize_path(path);
        self.by_path.get(&path).copied().or_else(|| {
            let real = fs::canonicalize(&path).ok()?;
            self.by_path.get(&real).copied()
        })
    }
}

/// The module a file under one of `inc`'s directories is (`…/Foo/Bar.pm` → `Foo::Bar`).
pub fn module_name(inc: &[PathBuf], file: &Path) -> Option<String> {
    if file.extension()? != "pm" {
        return None;
    }
    let relative = inc
        .iter()
        .filter_map(|dir| file.strip_prefix(dir).ok())
        .min_by_key(|rel| rel.as_os_str().len())?;
    let name = relative.with_extension("");
    let name = name.to_str()?.replace('/', "::");
    is_module_name(&name).then_some(name)
}

/// A perl that could not be asked for its `@INC`.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("cannot run `{}`", perl.display())]
    Run {
        perl: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` failed ({status}): {stderr}", perl.display())]
    Failed {
        perl: PathBuf,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// Asks `perl` (a command or a path) for its executable, version and `@INC`, with no hook and
/// none of the user's `PERL5OPT`.
pub fn query_perl(perl: &Path) -> Result<PerlInfo, QueryError> {
    let output = std::process::Command::new(perl)
        .args([
            "-e",
            r#"print "$^X\n"; printf "%vd\n", $^V; print "$_\n" for grep { !ref } @INC"#,
        ])
        .env_remove("PERL5OPT")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| QueryError::Run {
            perl: perl.to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(QueryError::Failed {
            perl: perl.to_owned(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    Ok(PerlInfo {
        executable: PathBuf::from(lines.next().unwrap_or_default()),
        version: lines.next().unwrap_or_default().to_owned(),
        inc: lines.map(PathBuf::from).collect(),
    })
}

/// The inventory of the perl whose `@INC` is `perl.inc`, with Debian's database at `dpkg`.
pub fn read_inventory(perl: PerlInfo, dpkg: &DpkgDatabase) -> PerlInventory {
    let mut inventory = PerlInventory {
        schema: PERL_INVENTORY_SCHEMA.to_owned(),
        perl,
        distributions: Vec::new(),
        core_files: BTreeSet::new(),
        problems: Vec::new(),
    };
    // Each directory as `@INC` names it and as it resolves: Debian's `/usr/share/perl/5.36` is
    // a link to `5.36.0`, the name its package lists use.
    let mut inc: Vec<PathBuf> = Vec::new();
    for dir in &inventory.perl.inc {
        if !(dir.is_absolute() && dir.is_dir()) {
            continue;
        }
        for dir in [Some(dir.clone()), fs::canonicalize(dir).ok()]
            .into_iter()
            .flatten()
        {
            if !inc.contains(&dir) {
                inc.push(dir);
            }
        }
    }
    let mut claimed: BTreeSet<PathBuf> = BTreeSet::new();
    for dir in &inc {
        read_core_packlist(dir, &mut inventory);
    }
    for dir in &inc {
        read_packlists(dir, &inc, &mut claimed, &mut inventory);
    }
    read_dpkg(dpkg, &inc, &mut claimed, &mut inventory);
    inventory
        .distributions
        .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    inventory
}

fn problem(inventory: &mut PerlInventory, path: &Path, line: Option<usize>, message: String) {
    inventory.problems.push(Problem {
        path: path.to_owned(),
        line,
        message,
    });
}

fn read_text(path: &Path, inventory: &mut PerlInventory) -> Option<String> {
    match fs::read(path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            problem(inventory, path, None, err.to_string());
            None
        }
    }
}

fn read_core_packlist(dir: &Path, inventory: &mut PerlInventory) {
    let path = dir.join(".packlist");
    let Some(text) = read_text(&path, inventory) else {
        return;
    };
    let (files, problems) = parse_packlist(&path, &text);
    inventory.problems.extend(problems);
    inventory.core_files.extend(files);
}

/// cpanm's and CPAN::Meta's records under `dir/.meta/*/`, by distribution name and main module.
fn read_meta_dir(dir: &Path, inventory: &mut PerlInventory) -> Vec<DistMeta> {
    let mut metas = Vec::new();
    let Ok(entries) = fs::read_dir(dir.join(".meta")) else {
        return metas;
    };
    let mut dists: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dists.sort();
    for dist in dists {
        for file in ["install.json", "MYMETA.json", "META.json"] {
            let path = dist.join(file);
            let Ok(bytes) = fs::read(&path) else {
                continue;
            };
            match metadata::parse_meta_json(&bytes) {
                Ok(meta) => {
                    metas.push(meta);
                    break;
                }
                Err(err) => {
                    let line = err.line();
                    problem(inventory, &path, line, err.to_string());
                }
            }
        }
    }
    metas
}

fn read_packlists(
    dir: &Path,
    inc: &[PathBuf],
    claimed: &mut BTreeSet<PathBuf>,
    inventory: &mut PerlInventory,
) {
    let auto = dir.join("auto");
    if !auto.is_dir() {
        return;
    }
    let mut packlists = Vec::new();
    find_packlists(&auto, &mut packlists, 0);
    if packlists.is_empty() {
        return;
    }
    packlists.sort();
    let metas = read_meta_dir(dir, inventory);
    let perllocal = dir.join("perllocal.pod");
    let mut local_versions: BTreeMap<String, String> = BTreeMap::new();
    if let Some(text) = read_text(&perllocal, inventory) {
        let (installs, problems) = parse_perllocal(&perllocal, &text);
        inventory.problems.extend(problems);
        for install in installs {
            if let Some(version) = install.version {
                local_versions.insert(install.module, version);
            }
        }
    }
    for packlist in packlists {
        let Some(text) = read_text(&packlist, inventory) else {
            continue;
        };
        let (files, problems) = parse_packlist(&packlist, &text);
        inventory.problems.extend(problems);
        let main_module = packlist
            .parent()
            .and_then(|p| p.strip_prefix(&auto).ok())
            .and_then(|p| p.to_str())
            .map(|p| p.replace('/', "::"))
            .filter(|m| is_module_name(m));
        let Some(main_module) = main_module else {
            problem(
                inventory,
                &packlist,
                None,
                "not under `auto/<Module>/`".to_owned(),
            );
            continue;
        };
        let dist_name = main_module.replace("::", "-");
        let meta = metas.iter().find(|m| {
            m.main_module.as_deref() == Some(main_module.as_str()) || m.name == dist_name
        });
        let main_file = main_file(inc, &files, &main_module);
        let version = meta
            .map(|m| m.version.clone())
            .or_else(|| local_versions.get(&main_module).cloned())
            .or_else(|| main_file.as_deref().and_then(file_version))
            .unwrap_or_default();
        add_distribution(
            inventory,
            claimed,
            inc,
            PerlDistribution {
                name: meta.map_or(dist_name, |m| m.name.clone()),
                version,
                source: Source::Packlist,
                main_module: Some(main_module),
                debian_package: None,
                location: PathBuf::new(),
                metadata_path: packlist.clone(),
                license: meta.map(|m| m.license.clone()).unwrap_or_default(),
                files,
            },
        );
    }
}

fn find_packlists(dir: &Path, found: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            find_packlists(&path, found, depth + 1);
        } else if entry.file_name() == ".packlist" {
            found.push(path);
        }
    }
}

/// The file of `module` among `files`, under one of `inc`'s directories.
fn main_file(inc: &[PathBuf], files: &[PathBuf], module: &str) -> Option<PathBuf> {
    files
        .iter()
        .find(|f| module_name(inc, f).as_deref() == Some(module))
        .cloned()
}

fn file_version(path: &Path) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    module_version(&String::from_utf8_lossy(&bytes))
}

/// Adds `dist` with the files no earlier distribution claimed, located at the `@INC`
/// directory of its main module (or first module).
fn add_distribution(
    inventory: &mut PerlInventory,
    claimed: &mut BTreeSet<PathBuf>,
    inc: &[PathBuf],
    mut dist: PerlDistribution,
) {
    dist.files.retain(|f| !claimed.contains(f));
    dist.files.sort();
    dist.files.dedup();
    claimed.extend(dist.files.iter().cloned());
    let anchor = dist
        .main_module
        .as_deref()
        .and_then(|m| main_file(inc, &dist.files, m))
        .or_else(|| {
            dist.files
                .iter()
                .find(|f| module_name(inc, f).is_some())
                .cloned()
        });
    dist.location = anchor
        .and_then(|file| inc.iter().find(|dir| file.starts_with(dir)).cloned())
        .unwrap_or_default();
    inventory.distributions.push(dist);
}

fn read_dpkg(
    dpkg: &DpkgDatabase,
    inc: &[PathBuf],
    claimed: &mut BTreeSet<PathBuf>,
    inventory: &mut PerlInventory,
) {
    let status = dpkg.admin_dir.join("status");
    let Some(text) = read_text(&status, inventory) else {
        return;
    };
    let (packages, problems) = parse_dpkg_status(&status, &text);
    inventory.problems.extend(problems);
    for package in packages {
        let info = dpkg.admin_dir.join("info");
        let list = [
            info.join(format!("{}:{}.list", package.name, package.architecture)),
            info.join(format!("{}.list", package.name)),
        ]
        .into_iter()
        .find(|p| p.is_file());
        let Some(list) = list else {
            continue;
        };
        let Some(text) = read_text(&list, inventory) else {
            continue;
        };
        let files: Vec<PathBuf> = text
            .lines()
            .filter(|line| inc.iter().any(|dir| Path::new(line).starts_with(dir)))
            .map(PathBuf::from)
            .collect();
        if !files.iter().any(|f| module_name(inc, f).is_some()) {
            continue;
        }
        if is_debian_core(&package.name) {
            inventory.core_files.extend(files);
            continue;
        }
        if !is_debian_cpan(&package.name) {
            continue;
        }
        let modules: Vec<String> = files.iter().filter_map(|f| module_name(inc, f)).collect();
        let copyright = dpkg.doc_dir.join(&package.name).join("copyright");
        let upstream = fs::read(&copyright).ok().and_then(|bytes| {
            upstream_name(&String::from_utf8_lossy(&bytes)).map(|n| n.replace("::", "-"))
        });
        let name = upstream.unwrap_or_else(|| name_from_package(&package.name, &modules));
        let wanted = name.replace('-', "::");
        let main_module = modules
            .iter()
            .find(|m| **m == wanted)
            .or_else(|| modules.iter().min_by_key(|m| (m.len(), (*m).clone())))
            .cloned();
        let version = main_module
            .as_deref()
            .and_then(|m| main_file(inc, &files, m))
            .as_deref()
            .and_then(file_version)
            .unwrap_or_else(|| debian_upstream_version(&package.version).to_owned());
        add_distribution(
            inventory,
            claimed,
            inc,
            PerlDistribution {
                name,
                version,
                source: Source::Dpkg,
                main_module,
                debian_package: Some(package.name.clone()),
                location: PathBuf::new(),
                metadata_path: list,
                license: Vec::new(),
                files,
            },
        );
    }
}

/// A CPAN distribution name for a Debian package without `Upstream-Name`: `libfoo-bar-perl` is
/// the module among its own that spells `Foo::Bar` ignoring case, as `Foo-Bar`.
fn name_from_package(package: &str, modules: &[String]) -> String {
    let stem = package
        .strip_prefix("lib")
        .unwrap_or(package)
        .strip_suffix("-perl")
        .unwrap_or(package);
    let wanted = stem.replace('-', "::");
    modules
        .iter()
        .find(|m| m.eq_ignore_ascii_case(&wanted))
        .map(|m| m.replace("::", "-"))
        .unwrap_or_else(|| stem.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// A site directory with one CPAN install (packlist, cpanm's meta, perllocal), a vendor
    /// directory with one Debian package, and a core directory of Debian's perl-base.
    fn fixture(root: &Path) -> (PerlInfo, DpkgDatabase) {
        let site = root.join("site");
        let vendor = root.join("vendor");
        let core = root.join("core");
        let s = |p: &str| site.join(p).display().to_string();
        write(
            &site.join("Try/Tiny.pm"),
            "package Try::Tiny;\nour $VERSION = '0.30';\n",
        );
        write(
            &site.join("auto/Try/Tiny/.packlist"),
            &format!(
                "{}\n{} type=file\nbroken line\n",
                s("Try/Tiny.pm"),
                s("man3/x")
            ),
        );
        write(
            &site.join(".meta/Try-Tiny-0.31/install.json"),
            r#"{"name": "Try::Tiny", "dist": "Try-Tiny-0.31", "version": "0.31"}"#,
        );
        write(&site.join(".meta/Broken-1/MYMETA.json"), "{\n  \"name\": ");
        write(&site.join("Moo.pm"), "package Moo;\n$VERSION = '2.0';\n");
        write(
            &site.join("auto/Moo/.packlist"),
            &format!("{}\n", s("Moo.pm")),
        );
        write(
            &site.join("perllocal.pod"),
            "=head2 x: C<Module> L<Moo|Moo>\n\nC<VERSION: 2.005005>\n",
        );
        write(&vendor.join("Mojo/Base.pm"), "package Mojo::Base;\n");
        write(&vendor.join("Mojolicious.pm"), "our $VERSION = '9.31';\n");
        write(&vendor.join("Try/Tiny.pm"), "our $VERSION = '0.1';\n");
        write(&core.join("strict.pm"), "package strict;\n");
        let admin = root.join("dpkg");
        write(
            &admin.join("status"),
            "Package: libmojolicious-perl\nStatus: install ok installed\nArchitecture: all\n\
             Version: 9.31+dfsg-1\n\n\
             Package: perl-base\nStatus: install ok installed\nArchitecture: amd64\n\
             Version: 5.36.0-7\n\n\
             Package: libtry-tiny-perl\nStatus: install ok installed\nVersion: 0.1-1\n\n\
             Package: bash\nStatus: install ok installed\nVersion: 5.2-2\n",
        );
        let v = |p: &str| vendor.join(p).display().to_string();
        write(
            &admin.join("info/libmojolicious-perl.list"),
            &format!(
                "/.\n{}\n{}\n/usr/bin/mojo\n",
                v("Mojo/Base.pm"),
                v("Mojolicious.pm")
            ),
        );
        write(
            &admin.join("info/libtry-tiny-perl.list"),
            &format!("{}\n{}\n", v("Try/Tiny.pm"), s("Try/Tiny.pm")),
        );
        write(
            &admin.join("info/perl-base:amd64.list"),
            &format!("{}\n", core.join("strict.pm").display()),
        );
        write(&admin.join("info/bash.list"), "/bin/bash\n");
        let doc = root.join("doc");
        write(
            &doc.join("libmojolicious-perl/copyright"),
            "Format: x\nUpstream-Name: Mojolicious\n\nFiles: *\n",
        );
        let perl = PerlInfo {
            executable: PathBuf::from("/usr/bin/perl"),
            version: "5.36.0".into(),
            inc: vec![site, vendor, core, root.join("missing")],
        };
        let dpkg = DpkgDatabase {
            admin_dir: admin,
            doc_dir: doc,
        };
        (perl, dpkg)
    }

    #[test]
    fn reads_packlists_dpkg_and_the_core() {
        let dir = tempfile::tempdir().unwrap();
        let (perl, dpkg) = fixture(dir.path());
        let inventory = read_inventory(perl, &dpkg);
        let names: Vec<(&str, &str, Source)> = inventory
            .distributions
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_str(), d.source))
            .collect();
        assert_eq!(
            names,
            [
                ("Mojolicious", "9.31", Source::Dpkg),
                ("Moo", "2.005005", Source::Packlist),
                ("Try-Tiny", "0.1", Source::Dpkg),
                ("Try-Tiny", "0.31", Source::Packlist),
            ]
        );
        let index = inventory.file_index();
        let site_try = dir.path().join("site/Try/Tiny.pm");
        let Some(Owner::Distribution(owner)) = index.owner_of(&site_try) else {
            panic!("site Try::Tiny has no owner");
        };
        assert_eq!(
            (owner.source, owner.version.as_str()),
            (Source::Packlist, "0.31")
        );
        assert_eq!(owner.location, dir.path().join("site"));
        assert_eq!(
            index.owner_of(&dir.path().join("core/strict.pm")),
            Some(Owner::Core)
        );
        let mojo = &inventory.distributions[0];
        assert_eq!(mojo.debian_package.as_deref(), Some("libmojolicious-perl"));
        assert_eq!(mojo.main_module.as_deref(), Some("Mojolicious"));
        assert_eq!(
            mojo.modules(&inventory.perl.inc),
            ["Mojo::Base", "Mojolicious"]
        );
        let problems: Vec<String> = inventory
            .problems
            .iter()
            .map(|p| p.to_string().replace(&dir.path().display().to_string(), ""))
            .collect();
        assert_eq!(
            problems,
            [
                "/site/auto/Try/Tiny/.packlist:3: not an absolute file path: `broken line`",
                "/site/.meta/Broken-1/MYMETA.json:2: not JSON: EOF while parsing a value at line 2 column 10",
            ]
            .map(str::to_owned)
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn asks_the_machines_perl_and_names_a_missing_one() {
        if let Ok(perl) = query_perl(Path::new("perl")) {
            assert!(perl.executable.is_absolute());
            assert!(perl.version.starts_with("5."), "{}", perl.version);
            assert!(!perl.inc.is_empty());
        }
        let err = query_perl(Path::new("/no/such/perl")).unwrap_err();
        assert_eq!(err.to_string(), "cannot run `/no/such/perl`");
    }

    #[test]
    fn a_debian_package_without_upstream_name_is_named_after_its_module() {
        let modules = ["Try::Tiny".to_owned()];
        assert_eq!(name_from_package("libtry-tiny-perl", &modules), "Try-Tiny");
        assert_eq!(name_from_package("libfoo-perl", &[]), "foo");
    }

    #[test]
    fn module_names_from_the_shortest_inc_prefix() {
        let inc = [PathBuf::from("/usr/share/perl5"), PathBuf::from("/usr")];
        assert_eq!(
            module_name(&inc, Path::new("/usr/share/perl5/Mojo/Base.pm")).as_deref(),
            Some("Mojo::Base")
        );
        assert_eq!(module_name(&inc, Path::new("/usr/share/perl5/x.pl")), None);
    }

    /// The machine's own perl, when it is Debian's: Mojolicious and libwww-perl are found with
    /// the versions their main modules declare.
    #[test]
    fn the_installed_debian_perl() {
        let inc: Vec<PathBuf> = [
            "/usr/share/perl5",
            "/usr/lib/x86_64-linux-gnu/perl5/5.36",
            "/usr/lib/x86_64-linux-gnu/perl-base",
            "/usr/share/perl/5.36",
        ]
        .map(PathBuf::from)
        .to_vec();
        if !Path::new("/usr/share/perl5/Mojolicious.pm").exists() {
            eprintln!("skipped: libmojolicious-perl is not installed");
            return;
        }
        let perl = PerlInfo {
            executable: PathBuf::from("/usr/bin/perl"),
            version: String::new(),
            inc,
        };
        let inventory = read_inventory(perl, &DpkgDatabase::default());
        let find = |name: &str| {
            inventory
                .distributions
                .iter()
                .find(|d| d.name == name)
                .unwrap_or_else(|| panic!("no {name}"))
        };
        let mojo = find("Mojolicious");
        assert_eq!(
            Some(mojo.version.as_str()),
            module_version(&fs::read_to_string("/usr/share/perl5/Mojolicious.pm").unwrap())
                .as_deref()
        );
        assert_eq!(find("libwww-perl").main_module.as_deref(), Some("LWP"));
        assert!(
            inventory
                .core_files
                .contains(Path::new("/usr/lib/x86_64-linux-gnu/perl-base/strict.pm"))
        );
    }
}
