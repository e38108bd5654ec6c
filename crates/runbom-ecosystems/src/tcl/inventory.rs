//! Every Tcl package an interpreter can find, as `package require` would: the `pkgIndex.tcl` of
//! each `auto_path` directory and of its immediate subdirectories (and of the directories an index
//! adds to `auto_path`, as tcllib's does), and every `NAME-VERSION.tm` module under each
//! `tcl::tm::path` root (`a/b-1.0.tm` is `a::b`). The interpreter is asked once for its paths;
//! the files are read in Rust. A package under the interpreter's own library (`info library`:
//! `http`, `msgcat`, `opt` …) is Tcl's standard library. `teapot.txt` beside an index gives a
//! licence where present.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use runbom_model::inventory::Problem;
use runbom_versions::TclVersion;
use serde::Serialize;

use super::pkgindex;

/// The `schema` value of the JSON form.
pub const TCL_INVENTORY_SCHEMA: &str = "runbom.tcl-inventory/v1";

/// What the interpreter says about itself and where it looks for packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TclInterpreter {
    pub executable: PathBuf,
    /// `info patchlevel`, e.g. `8.6.13`.
    pub version: String,
    /// `info library`: Tcl's own scripts and bundled packages.
    pub library: PathBuf,
    pub auto_path: Vec<PathBuf>,
    pub tm_path: Vec<PathBuf>,
}

/// Why an interpreter could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("cannot run `{}`", executable.display())]
    Spawn {
        executable: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not a Tcl shell: {detail}", executable.display())]
    NotTcl { executable: PathBuf, detail: String },
}

const QUERY: &str = "puts \"version [info patchlevel]\"\n\
    puts \"executable [info nameofexecutable]\"\n\
    puts \"library [info library]\"\n\
    foreach p $auto_path {puts \"auto_path $p\"}\n\
    foreach p [tcl::tm::path list] {puts \"tm_path $p\"}\n\
    exit 0\n";

/// Asks `tclsh` (once) for its version, library, `auto_path` and module paths.
pub fn query_interpreter(tclsh: &Path) -> Result<TclInterpreter, QueryError> {
    use std::io::Write;
    let mut child = Command::new(tclsh)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| QueryError::Spawn {
            executable: tclsh.to_owned(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(QUERY.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|source| QueryError::Spawn {
            executable: tclsh.to_owned(),
            source,
        })?;
    let mut interpreter = TclInterpreter::default();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        match key {
            "version" => interpreter.version = value.to_owned(),
            "executable" => interpreter.executable = PathBuf::from(value),
            "library" => interpreter.library = PathBuf::from(value),
            "auto_path" => interpreter.auto_path.push(PathBuf::from(value)),
            "tm_path" => interpreter.tm_path.push(PathBuf::from(value)),
            _ => {}
        }
    }
    if interpreter.version.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(QueryError::NotTcl {
            executable: tclsh.to_owned(),
            detail: stderr.lines().next().map_or_else(
                || format!("it exited with {}", output.status),
                str::to_owned,
            ),
        });
    }
    if interpreter.executable.as_os_str().is_empty() {
        interpreter.executable = tclsh.to_owned();
    }
    Ok(interpreter)
}

/// Every package found, and what could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct TclInventory {
    pub schema: String,
    pub interpreter: TclInterpreter,
    /// In the order Tcl finds them: `auto_path` indexes, then modules.
    pub packages: Vec<TclPackage>,
    pub problems: Vec<Problem>,
}

/// How a package is made known to Tcl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageSource {
    /// A `package ifneeded` in a `pkgIndex.tcl`.
    PkgIndex,
    /// A Tcl module, `NAME-VERSION.tm`.
    Module,
}

/// One package (name and version) Tcl can load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TclPackage {
    pub name: String,
    pub version: String,
    pub source: PackageSource,
    /// The `pkgIndex.tcl` or the `.tm` file.
    pub index: PathBuf,
    /// The index's line, for a `pkgIndex.tcl` entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The directory it is installed in (the index's; the module's root).
    pub location: PathBuf,
    /// Files its index names (sourced or loaded); the module file itself.
    pub files: Vec<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Part of Tcl itself: under the interpreter's library.
    pub stdlib: bool,
}

/// The packages `interpreter` finds along its paths, with `extra` directories searched as
/// `auto_path` entries after them (a program's own `lappend auto_path`).
pub fn read_inventory(interpreter: &TclInterpreter, extra: &[PathBuf]) -> TclInventory {
    let tcl = TclVersion::parse(&interpreter.version).ok();
    let library = canonical(&interpreter.library);
    let mut inventory = TclInventory {
        schema: TCL_INVENTORY_SCHEMA.to_owned(),
        interpreter: interpreter.clone(),
        packages: Vec::new(),
        problems: Vec::new(),
    };
    let mut searched = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    let mut queue: Vec<PathBuf> = interpreter.auto_path.iter().chain(extra).cloned().collect();
    let mut next = 0;
    while next < queue.len() {
        let dir = queue[next].clone();
        next += 1;
        let Some(real) = canonical(&dir).filter(|d| d.is_dir()) else {
            continue;
        };
        if !searched.insert(real.clone()) {
            continue;
        }
        let mut candidates = vec![real.join("pkgIndex.tcl")];
        if let Ok(entries) = fs::read_dir(&real) {
            let mut subdirs: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("pkgIndex.tcl"))
                .collect();
            subdirs.sort();
            candidates.extend(subdirs);
        }
        for index in candidates {
            if !index.is_file() || !indexes.insert(index.clone()) {
                continue;
            }
            let text = match fs::read(&index) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(err) => {
                    inventory.problems.push(Problem {
                        path: index,
                        line: None,
                        message: format!("cannot read: {err}"),
                    });
                    continue;
                }
            };
            let parsed = pkgindex::parse(&index, &text, tcl.as_ref());
            let location = index.parent().unwrap_or(Path::new("/")).to_owned();
            if parsed.extends_auto_path {
                queue.push(location.clone());
            }
            let licenses = teapot_licenses(&location);
            let stdlib = is_under(&location, library.as_deref());
            for entry in parsed.entries {
                inventory.packages.push(TclPackage {
                    license: licenses
                        .iter()
                        .find(|(name, _)| name == &entry.name)
                        .map(|(_, license)| license.clone()),
                    name: entry.name,
                    version: entry.version,
                    source: PackageSource::PkgIndex,
                    index: index.clone(),
                    line: Some(entry.line),
                    location: location.clone(),
                    files: entry.files,
                    stdlib,
                });
            }
            inventory.problems.extend(parsed.problems);
        }
    }
    let mut roots = BTreeSet::new();
    for root in &interpreter.tm_path {
        let Some(real) = canonical(root).filter(|d| d.is_dir()) else {
            continue;
        };
        if roots.insert(real.clone()) {
            let stdlib = is_under(&real, library.as_deref());
            modules(&real, &real, "", 0, stdlib, &mut inventory);
        }
    }
    inventory
}

/// The deepest namespace nesting of modules followed (`a::b::c` is 2).
const MAX_MODULE_DEPTH: usize = 8;

fn modules(
    root: &Path,
    dir: &Path,
    prefix: &str,
    depth: usize,
    stdlib: bool,
    inventory: &mut TclInventory,
) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            if depth < MAX_MODULE_DEPTH {
                let prefix = format!("{prefix}{file_name}::");
                modules(root, &path, &prefix, depth + 1, stdlib, inventory);
            }
            continue;
        }
        let Some((name, version)) = module_name(&file_name) else {
            continue;
        };
        if TclVersion::parse(version).is_err() {
            // tm.tcl skips such a file too: not a module.
            continue;
        }
        inventory.packages.push(TclPackage {
            name: format!("{prefix}{name}"),
            version: version.to_owned(),
            source: PackageSource::Module,
            index: path.clone(),
            line: None,
            location: root.to_owned(),
            files: vec![path],
            license: None,
            stdlib,
        });
    }
}

/// `http-2.9.8.tm` → (`http`, `2.9.8`): the name before the last `-` that a digit follows.
pub fn module_name(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.strip_suffix(".tm")?;
    let (name, version) = stem.rsplit_once('-')?;
    (!name.is_empty() && version.starts_with(|c: char| c.is_ascii_digit()))
        .then_some((name, version))
}

/// `Package NAME VERSION` … `Meta license TEXT` blocks of a teapot `teapot.txt`.
fn teapot_licenses(dir: &Path) -> Vec<(String, String)> {
    let Ok(text) = fs::read_to_string(dir.join("teapot.txt")) else {
        return Vec::new();
    };
    let mut licenses = Vec::new();
    let mut package = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Package"), Some(name)) => package = Some(name.to_owned()),
            (Some("Meta"), Some("license")) => {
                if let Some(name) = &package {
                    let license: Vec<&str> = words.collect();
                    licenses.push((name.clone(), license.join(" ")));
                }
            }
            _ => {}
        }
    }
    licenses
}

fn canonical(path: &Path) -> Option<PathBuf> {
    if path.as_os_str().is_empty() {
        return None;
    }
    fs::canonicalize(path).ok()
}

fn is_under(path: &Path, dir: Option<&Path>) -> bool {
    dir.is_some_and(|dir| path.starts_with(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_file_names() {
        assert_eq!(module_name("http-2.9.8.tm"), Some(("http", "2.9.8")));
        assert_eq!(module_name("shell-1.1.4.tm"), Some(("shell", "1.1.4")));
        assert_eq!(module_name("my-pkg-1.0.tm"), Some(("my-pkg", "1.0")));
        assert_eq!(module_name("readme.tm"), None);
        assert_eq!(module_name("x-y.tm"), None);
        assert_eq!(module_name("x-1.0.tcl"), None);
    }

    fn tree() -> (tempfile::TempDir, TclInterpreter) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write(
            "lib/bundle/pkgIndex.tcl",
            "if {[lsearch -exact $::auto_path $dir] == -1} {\n    lappend ::auto_path $dir\n}\n",
        );
        write(
            "lib/bundle/json/pkgIndex.tcl",
            "package ifneeded json 1.3.4 [list source [file join $dir json.tcl]]\n",
        );
        write(
            "lib/tls1.7/pkgIndex.tcl",
            "package ifneeded tls 1.7.22 \"[list load [file join $dir libtls.so]]\"\n",
        );
        write(
            "lib/tls1.7/teapot.txt",
            "Package tls 1.7.22\nMeta license BSD\n",
        );
        write("lib/broken/pkgIndex.tcl", "package ifneeded b 1.0 {\n");
        write("tcl/tcl8.6/tcl8/msgcat-1.6.1.tm", "");
        write("tcl/tcl8.6/tcl8/platform/shell-1.1.4.tm", "");
        write("tm/notes.txt", "");
        write("tm/demo-1.x.tm", "");
        let interpreter = TclInterpreter {
            executable: PathBuf::from("/usr/bin/tclsh"),
            version: "8.6.13".into(),
            library: root.join("tcl/tcl8.6"),
            auto_path: vec![root.join("lib"), root.join("missing")],
            tm_path: vec![root.join("tcl/tcl8.6/tcl8"), root.join("tm")],
        };
        (dir, interpreter)
    }

    #[test]
    fn finds_indexes_one_level_down_added_paths_and_modules() {
        let (dir, interpreter) = tree();
        let inventory = read_inventory(&interpreter, &[]);
        let found: Vec<String> = inventory
            .packages
            .iter()
            .map(|p| format!("{} {} {:?} {}", p.name, p.version, p.source, p.stdlib))
            .collect();
        assert_eq!(
            found,
            [
                "tls 1.7.22 PkgIndex false",
                "json 1.3.4 PkgIndex false",
                "msgcat 1.6.1 Module true",
                "platform::shell 1.1.4 Module true",
            ]
        );
        assert_eq!(inventory.packages[0].license.as_deref(), Some("BSD"));
        assert_eq!(inventory.problems.len(), 1);
        let problem = inventory.problems[0].to_string();
        assert!(
            problem.contains("broken/pkgIndex.tcl:1: missing close-brace"),
            "{problem}"
        );
        drop(dir);
    }

    #[test]
    fn a_program_that_is_not_tcl_is_said_so() {
        let err = query_interpreter(Path::new("/no/such/tclsh")).unwrap_err();
        assert!(err.to_string().contains("cannot run `/no/such/tclsh`"));
        let err = query_interpreter(Path::new("/bin/true")).unwrap_err();
        assert!(err.to_string().contains("is not a Tcl shell"), "{err}");
    }

    /// The oracle is tclsh itself: every package `package names` lists after a search, with
    /// `package versions`, equals what runbom read from the same files.
    #[test]
    fn equals_what_tclsh_finds() {
        let Ok(interpreter) = query_interpreter(Path::new("tclsh")) else {
            return;
        };
        let script = "catch {package require runbom-no-such-package}\n\
            foreach p [tcl::tm::path list] {foreach d [glob -nocomplain -type d -directory $p *] {\
                catch {package require [file tail $d]::runbom-none}}}\n\
            foreach name [package names] {foreach v [package versions $name] {puts \"$name $v\"}}\n";
        let output = Command::new("tclsh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(script.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        let tcl: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let inventory = read_inventory(&interpreter, &[]);
        let ours: BTreeSet<String> = inventory
            .packages
            .iter()
            .map(|p| format!("{} {}", p.name, p.version))
            .collect();
        // Tcl and TclOO are provided by the interpreter itself, not indexed.
        let tcl: BTreeSet<String> = tcl
            .into_iter()
            .filter(|p| {
                !super::super::runtime::BUILT_IN
                    .iter()
                    .any(|b| p.split(' ').next() == Some(*b))
            })
            .collect();
        let missing: Vec<_> = tcl.difference(&ours).collect();
        let extra: Vec<_> = ours.difference(&tcl).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:?}, extra {extra:?}"
        );
        assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    }
}
