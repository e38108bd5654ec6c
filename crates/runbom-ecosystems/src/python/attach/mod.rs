//! CPython's module table read from outside a live process: `_PyRuntime` located from the ELF
//! symbols of the interpreter or `libpython` mapped into it, then the main interpreter, its
//! `sys.modules` (names and `__file__`) and the `sys` attributes that say which environment it
//! runs in — read with `process_vm_readv`, so the process is never stopped nor changed. The result
//! is the same [`Observation`] the hook writes, so the report is built by the hook's own mapping
//! (`runtime::observe`). Traps: the process keeps running while it is read, so a dict may be
//! resized under the reader (the walk is retried, then refused); the process owns every byte read
//! (see [`objects`]); a stripped interpreter has no `_PyRuntime` to find (refused, said why).

pub mod layout;
pub mod objects;

#[cfg(test)]
mod fuzz;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSegment, ObjectSymbol};

use runbom_model::Language;
use runbom_model::inventory::{FileIndex, Inventory};
use runbom_model::runtime::LoadedModule;

use super::environment;
use super::hash_cache::HashCache;
use super::runtime::{self, Observation};
use crate::attach::{AttachFailure, Attachment};
use crate::process::{LiveProcess, Memory, MemoryError};
use crate::report::Observed;
use layout::Layout;
use objects::Objects;

/// At most this many bytes are read from one process in one attach.
pub const READ_BUDGET: u64 = 64 << 20;
/// A walk that met a structure changing under it is tried this many times in all.
const ATTEMPTS: usize = 3;

/// Why a CPython process's module table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("no CPython is mapped into the process")]
    NotPython,
    #[error("CPython {version} is not read by this runbom (3.8–3.13 are)")]
    Unsupported { version: String },
    #[error("`{}` has no `_PyRuntime` symbol (a stripped interpreter): its module table cannot be found", path.display())]
    NoSymbols { path: PathBuf },
    #[error("cannot read `{}`", path.display())]
    Binary {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not an ELF file runbom can read: {message}", path.display())]
    Elf { path: PathBuf, message: String },
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error("the interpreter's memory does not hold what CPython would: {0}")]
    Layout(String),
}

impl AttachError {
    /// The process went away or may not be read: nothing else is worth trying.
    fn is_final(&self) -> bool {
        matches!(
            self,
            AttachError::Memory(MemoryError::Gone | MemoryError::Denied { .. })
        )
    }
}

/// The CPython runtime of a process: where `_PyRuntime` is, and which minor version it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// The file holding `_PyRuntime` (the interpreter, or `libpython3.X.so`).
    pub file: PathBuf,
    pub minor: u32,
    pub address: u64,
}

/// The CPython mapped into `process`, if any: `libpython3.X.so` or an executable `python3.X`.
pub fn find_runtime(process: &LiveProcess) -> Result<Runtime, AttachError> {
    let files = process.mapped_files();
    let candidate = files
        .iter()
        .find(|p| file_name(p).is_some_and(|n| n.starts_with("libpython3.")))
        .or_else(|| {
            files
                .iter()
                .find(|p| **p == process.executable && minor_of_name(p).is_some())
        })
        .copied()
        .ok_or(AttachError::NotPython)?;
    let minor = minor_of_name(candidate).ok_or(AttachError::NotPython)?;
    if !layout::SUPPORTED.contains(&minor) {
        return Err(AttachError::Unsupported {
            version: format!("3.{minor}"),
        });
    }
    let base = process.base_of(candidate).ok_or(AttachError::NotPython)?;
    // The file as the process sees it (its root may be a container's).
    let on_disk = Path::new("/proc")
        .join(process.pid.to_string())
        .join("root")
        .join(candidate.strip_prefix("/").unwrap_or(candidate));
    let symbol = runtime_symbol(&on_disk, candidate)?;
    let bias = base
        .checked_sub(symbol.first_load)
        .ok_or_else(|| AttachError::Elf {
            path: candidate.to_owned(),
            message: "mapped below its first segment".into(),
        })?;
    Ok(Runtime {
        file: candidate.to_owned(),
        minor,
        address: bias.wrapping_add(symbol.address),
    })
}

struct RuntimeSymbol {
    address: u64,
    first_load: u64,
}

/// `_PyRuntime`'s address in the ELF file at `path` and its first loaded segment's page.
fn runtime_symbol(path: &Path, shown: &Path) -> Result<RuntimeSymbol, AttachError> {
    let file = std::fs::File::open(path).map_err(|source| AttachError::Binary {
        path: shown.to_owned(),
        source,
    })?;
    let cache = object::ReadCache::new(file);
    let elf = object::File::parse(&cache).map_err(|e| AttachError::Elf {
        path: shown.to_owned(),
        message: e.to_string(),
    })?;
    let address = elf
        .dynamic_symbols()
        .chain(elf.symbols())
        .find(|s| s.name() == Ok("_PyRuntime"))
        .map(|s| s.address())
        .ok_or_else(|| AttachError::NoSymbols {
            path: shown.to_owned(),
        })?;
    let first_load = elf.segments().map(|s| s.address()).min().unwrap_or(0) & !0xfff;
    Ok(RuntimeSymbol {
        address,
        first_load,
    })
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()
}

/// `11` of `python3.11`, `libpython3.11.so.1.0`, `libpython3.11d.so`.
fn minor_of_name(path: &Path) -> Option<u32> {
    let name = file_name(path)?;
    let rest = name
        .strip_prefix("libpython3.")
        .or_else(|| name.strip_prefix("python3."))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// What a live CPython process has loaded, read from its memory, as its hook would have said it.
pub fn observe(process: &LiveProcess) -> Result<Observation, AttachError> {
    let runtime = find_runtime(process)?;
    let memory = process.memory(READ_BUDGET);
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match read_observation(&memory, &runtime, process) {
            Ok(observation) => return Ok(observation),
            Err(err) if err.is_final() => return Err(err),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or(AttachError::NotPython))
}

/// One walk of the runtime state at `runtime.address` in `memory`.
pub fn read_observation(
    memory: &dyn Memory,
    runtime: &Runtime,
    process: &LiveProcess,
) -> Result<Observation, AttachError> {
    let layout = layout::layout(runtime.minor, memory, runtime.address)?;
    let table = read_module_table(memory, layout, runtime.address)?;
    let cwd = &process.cwd;
    let absolute = |p: &str| -> PathBuf {
        let path = Path::new(if p.is_empty() { "." } else { p });
        runbom_model::inventory::normalize_path(&cwd.join(path))
    };
    let version = table
        .sys
        .version
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    if !version.starts_with(&format!("3.{}.", runtime.minor)) {
        return Err(AttachError::Layout(format!(
            "`sys.version` is `{version}` in a CPython 3.{} runtime",
            runtime.minor
        )));
    }
    let sys_path: Vec<PathBuf> = table.sys.path.iter().map(|p| absolute(p)).collect();
    let mut stdlib_dirs: BTreeSet<PathBuf> = table
        .modules
        .iter()
        .filter(|(name, _)| {
            ["os", "_json", "_ssl", "_ctypes", "_decimal", "_socket"].contains(&name.as_str())
        })
        .filter_map(|(_, file)| Some(Path::new(file.as_deref()?).parent()?.to_owned()))
        .collect();
    stdlib_dirs.extend(
        table
            .sys
            .path
            .iter()
            .filter(|p| p.ends_with("lib-dynload"))
            .map(PathBuf::from),
    );
    Ok(Observation {
        pid: process.pid,
        ppid: process.parent_pid,
        started_at: process.started_at,
        argv: if table.sys.argv.is_empty() {
            process.argv.clone()
        } else {
            table.sys.argv.clone()
        },
        executable: PathBuf::from(&table.sys.executable),
        implementation: "cpython".to_owned(),
        version,
        prefix: PathBuf::from(&table.sys.prefix),
        base_prefix: Some(PathBuf::from(&table.sys.base_prefix)),
        sys_path,
        stdlib_dirs: stdlib_dirs.into_iter().collect(),
        stdlib_names: table.sys.stdlib_names.into_iter().collect(),
        builtin_names: table.sys.builtin_names.into_iter().collect(),
        exited: false,
        errors: table.errors,
        // Enforcement lives in the hook; a process read from outside says nothing of it.
        enforcement: None,
        refusals: Vec::new(),
        modules: table
            .modules
            .into_iter()
            .map(|(name, file)| (name, file.map(PathBuf::from)))
            .collect(),
    })
}

/// `sys.modules` and the attributes of `sys` read with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleTable {
    /// `(name, __file__)`, sorted by name: every `str` key of `sys.modules`.
    pub modules: Vec<(String, Option<String>)>,
    pub sys: SysAttributes,
    /// Modules whose namespace could not be read (their file is reported as `None`).
    pub errors: u64,
}

/// What of `sys` says which environment the process runs in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysAttributes {
    pub version: String,
    pub executable: String,
    pub prefix: String,
    pub base_prefix: String,
    pub path: Vec<String>,
    pub argv: Vec<String>,
    pub builtin_names: Vec<String>,
    pub stdlib_names: Vec<String>,
}

/// Reads `sys.modules` of the main interpreter of the runtime at `runtime` in `memory`.
pub fn read_module_table(
    memory: &dyn Memory,
    layout: Layout,
    runtime: u64,
) -> Result<ModuleTable, AttachError> {
    let objects = Objects::new(memory, layout);
    let interp = memory.read_u64(runtime.wrapping_add(layout.interpreters_head))?;
    if interp == 0 {
        return Err(AttachError::Layout(
            "no interpreter (not initialised yet, or finalised)".into(),
        ));
    }
    let modules_dict = memory.read_u64(interp.wrapping_add(layout.interp_modules))?;
    let items = objects.dict_items(modules_dict)?;
    let mut modules = Vec::with_capacity(items.len());
    let mut errors = 0;
    let mut sys_module = None;
    for (key, value) in items {
        let Some(name) = objects.try_string(key)? else {
            continue;
        };
        let namespace = objects.module_dict(value).unwrap_or(None);
        if name == "sys" && namespace.is_some() {
            sys_module = Some(value);
        }
        let file = match namespace.map(|dict| objects.dict_get(dict, "__file__")) {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(file))) => match objects.try_string(file) {
                Ok(file) => file,
                Err(_) => {
                    errors += 1;
                    None
                }
            },
            Some(Err(_)) => {
                errors += 1;
                None
            }
        };
        modules.push((name, file));
    }
    let sys_module = sys_module
        .ok_or_else(|| AttachError::Layout("`sys.modules` holds no `sys` module".into()))?;
    if !modules.iter().any(|(n, _)| n == "builtins") {
        return Err(AttachError::Layout(
            "`sys.modules` holds no `builtins` module".into(),
        ));
    }
    if errors * 2 > modules.len() as u64 {
        return Err(AttachError::Layout(format!(
            "{errors} of {} modules could not be read",
            modules.len()
        )));
    }
    modules.sort();
    let sys = read_sys(&objects, sys_module)?;
    Ok(ModuleTable {
        modules,
        sys,
        errors,
    })
}

fn read_sys(objects: &Objects<'_>, sys: u64) -> Result<SysAttributes, AttachError> {
    let dict = objects
        .module_dict(sys)?
        .ok_or_else(|| AttachError::Layout("`sys` is not a module".into()))?;
    let text = |name: &'static str| -> Result<String, AttachError> {
        Ok(objects.module_str(sys, name)?.unwrap_or_default())
    };
    let strings_of = |name: &'static str, set: bool| -> Result<Vec<String>, AttachError> {
        match objects.dict_get(dict, name)? {
            Some(value) if set => objects.strings(&objects.set_items(value)?),
            Some(value) => objects.strings(&objects.sequence(value)?),
            None => Ok(Vec::new()),
        }
    };
    let mut stdlib_names = strings_of("stdlib_module_names", true)?;
    stdlib_names.sort();
    let mut builtin_names = strings_of("builtin_module_names", false)?;
    builtin_names.sort();
    Ok(SysAttributes {
        version: text("version")?,
        executable: text("executable")?,
        prefix: text("prefix")?,
        base_prefix: text("base_prefix")?,
        path: strings_of("path", false)?,
        argv: strings_of("argv", false)?,
        builtin_names,
        stdlib_names,
    })
}

/// What the live `process` loaded, as a runtime report's part: `None` when it runs no Python.
/// A Python whose module table cannot be read (too old, stripped, its memory not what CPython's
/// would be) is reported from its maps, with the reason; a process that went away or may not be
/// read is an error.
pub fn attach(process: &LiveProcess) -> Option<Result<Attachment, AttachFailure>> {
    let observation = match observe(process) {
        Ok(observation) => observation,
        Err(err) if err.is_final() => return Some(Err(err.into())),
        Err(AttachError::NotPython) => {
            return crate::attach::from_maps(Language::Python, process).map(|mut attachment| {
                attachment.notes.insert(
                    0,
                    "no CPython 3 runtime is mapped into it (Python 2, or an interpreter runbom \
                     does not read): its module table was not read"
                        .to_owned(),
                );
                Ok(attachment)
            });
        }
        Err(err) => {
            let mut attachment = crate::attach::from_maps(Language::Python, process)
                .unwrap_or_else(|| maps_only(process));
            attachment
                .notes
                .insert(0, format!("the module table was not read: {err}"));
            return Some(Ok(attachment));
        }
    };
    let hooked = crate::attach::hooked(process).or_else(|| {
        observation
            .modules
            .iter()
            .any(|(name, _)| name == "_runbom_hook")
            .then(|| "its environment loads runbom's hook (`runbom hook install`)".to_owned())
    });
    let interpreter = match environment::observed_interpreter(&observation) {
        Some(interpreter) => interpreter,
        None => match super::query_interpreter(&observation.executable) {
            Ok(interpreter) => interpreter,
            Err(err) => return Some(Err(err.into())),
        },
    };
    let inventory = cached_inventory(&interpreter);
    let hashes = HashCache::open(crate::cache::cache_root().as_deref());
    let mut observed = runtime::observe(&[(&observation, &inventory)], &inventory, &hashes);
    add_mapped_objects(&mut observed, &inventory, process, &hashes);
    hashes.save();
    let mut notes = Vec::new();
    if observation.errors > 0 {
        notes.push(format!(
            "the namespace of {} module{} could not be read (reported without a file)",
            observation.errors,
            if observation.errors == 1 { "" } else { "s" }
        ));
    }
    Some(Ok(Attachment {
        observed,
        notes,
        hooked,
    }))
}

/// The inventory of `interpreter`'s environment, read once per state of its site directories:
/// an agent attaching to many processes of one venv reads it once, and again after a `pip
/// install` changes a directory of its `sys.path` (its modification time).
fn cached_inventory(
    interpreter: &runbom_model::inventory::Interpreter,
) -> std::sync::Arc<Inventory> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    type Key = (PathBuf, Vec<(PathBuf, Option<std::time::SystemTime>)>);
    static CACHE: Mutex<Option<HashMap<Key, Arc<Inventory>>>> = Mutex::new(None);
    const KEPT: usize = 64;
    let key: Key = (
        interpreter.prefix.clone(),
        interpreter
            .sys_path
            .iter()
            .map(|dir| {
                let modified = std::fs::metadata(dir).and_then(|m| m.modified()).ok();
                (dir.clone(), modified)
            })
            .collect(),
    );
    if let Some(inventory) = CACHE
        .lock()
        .ok()
        .and_then(|cache| cache.as_ref()?.get(&key).cloned())
    {
        return inventory;
    }
    let inventory = Arc::new(super::read_inventory(interpreter, &[]));
    if let Ok(mut cache) = CACHE.lock() {
        let cache = cache.get_or_insert_with(HashMap::new);
        if cache.len() >= KEPT {
            cache.clear();
        }
        cache.insert(key, inventory.clone());
    }
    inventory
}

/// A process that maps CPython but is not named like a Python (an embedding program).
fn maps_only(process: &LiveProcess) -> Attachment {
    crate::attach::maps_only(Language::Python, String::new(), process)
}

/// Shared objects mapped into the process that a distribution installed but no module of it
/// names (`numpy.libs/libopenblas….so`, a library loaded with `ctypes`): listed among that
/// distribution's loaded files, under their path inside its site directory.
fn add_mapped_objects(
    observed: &mut Observed,
    inventory: &Inventory,
    process: &LiveProcess,
    hashes: &HashCache,
) {
    let index = FileIndex::new(inventory);
    for path in process.shared_objects() {
        let Some(owner) = index.owner_of(&path) else {
            continue;
        };
        let Some(dist) = observed
            .distributions
            .iter_mut()
            .find(|d| d.normalized_name == owner.normalized_name && d.location == owner.location)
        else {
            continue;
        };
        if dist
            .modules
            .iter()
            .any(|m| m.file.as_deref() == Some(path.as_path()))
        {
            continue;
        }
        let name = path
            .strip_prefix(&owner.location)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        dist.modules.push(LoadedModule {
            integrity: Some(runtime::integrity(owner, &path, hashes)),
            name,
            file: Some(path.clone()),
            pids: vec![process.pid],
        });
        dist.modules.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minor_version_is_in_the_file_name() {
        assert_eq!(
            minor_of_name(Path::new("/x/libpython3.11.so.1.0")),
            Some(11)
        );
        assert_eq!(minor_of_name(Path::new("/usr/bin/python3.8")), Some(8));
        assert_eq!(minor_of_name(Path::new("/usr/bin/python3")), None);
        assert_eq!(minor_of_name(Path::new("/usr/bin/perl")), None);
    }

    #[test]
    fn a_process_without_python_is_not_python() {
        let me = LiveProcess::read(std::process::id()).unwrap();
        assert!(matches!(find_runtime(&me), Err(AttachError::NotPython)));
    }

    #[test]
    fn an_elf_without_the_symbol_is_refused_by_name() {
        let me = std::env::current_exe().unwrap();
        assert!(matches!(
            runtime_symbol(&me, &me),
            Err(AttachError::NoSymbols { .. })
        ));
        let text = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(text.path(), b"#!/bin/sh\n").unwrap();
        assert!(matches!(
            runtime_symbol(text.path(), text.path()),
            Err(AttachError::Elf { .. })
        ));
    }
}
