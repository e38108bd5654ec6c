//! Runtime collection for Python: the embedded hook (`hook/sitecustomize.py`), the per-process
//! observations it writes into a session directory (`p<pid>.json`), and the runtime report built
//! from them against the installed inventory. Traps: a module may have no file (built-ins, frozen
//! and namespace packages); a file owned by no distribution is first-party or unknown code and is
//! listed, never dropped; RECORD hashes are urlsafe base64 while the report holds hex.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use runbom_model::enforce::{EnforceMode, EnforceRule};
use runbom_model::inventory::{
    FileIndex, InstalledDistribution, Interpreter, Inventory, normalize_path,
};
use runbom_model::runtime::{
    DistributionUse, FileIntegrity, LoadedModule, ProcessInfo, RuntimeInterpreter, RuntimeReport,
};
use runbom_model::{Ecosystem, Language, PackageName};
use serde::Deserialize;

use crate::process::Stat;
use crate::report::{Observed, ReportContext, enforcement_of, new_id, rfc3339};

use super::environment::{self, EnvironmentKey};
use super::hash_cache::HashCache;
use super::integrity::record_sha256_hex;
use native_made::LoadedExtensions;

mod native_made;

/// The hook's source, embedded at build time and written out at run time.
pub const HOOK_SOURCE: &str = include_str!("hook/sitecustomize.py");
/// The hook's enforcement half, written beside the hook under [`ENFORCE_FILE`]: the hook runs it
/// into its own namespace only for a process given an enforcement table, so an observed-only
/// program does not load it.
pub const ENFORCE_SOURCE: &str = include_str!("hook/_runbom_enforce.py");
/// The file name the hook looks for [`ENFORCE_SOURCE`] under, beside its own file.
pub const ENFORCE_FILE: &str = "_runbom_enforce.py";

/// Errors reading a session directory.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot write the runtime hook into `{path}`")]
    WriteHook {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the session directory `{path}`")]
    ReadSession {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Interpreter(#[from] super::Error),
}

/// One observed program run: the directory its processes write into, and the installed
/// inventories their modules are mapped against — each process's own environment, from what its
/// hook observed, read once per environment (or one interpreter's for every process, when forced).
#[derive(Debug)]
pub struct Session {
    dir: PathBuf,
    id: String,
    /// Inventories read so far: ahead of the run, or for an environment a process ran in.
    inventories: Vec<Inventory>,
    /// Which of `inventories` each environment seen so far is mapped against.
    fitted: HashMap<EnvironmentKey, usize>,
    /// Every process is mapped against this interpreter's inventory (`--python`).
    forced: Option<PathBuf>,
    /// The remembered hashes of loaded files: opened ahead, or at the first report.
    hashes: Option<HashCache>,
}

impl Session {
    /// A new, empty session directory `parent/runbom-<id>`.
    pub fn create(parent: &Path) -> Result<Self, RuntimeError> {
        let id = new_id();
        let dir = parent.join(format!("runbom-{id}"));
        fs::create_dir_all(&dir).map_err(|source| RuntimeError::ReadSession {
            path: dir.clone(),
            source,
        })?;
        Ok(Self::at(dir, id))
    }

    /// An existing session directory (written by an installed hook); its name is its id.
    pub fn open(dir: &Path) -> Self {
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::at(dir.to_owned(), id)
    }

    fn at(dir: PathBuf, id: String) -> Self {
        Self {
            dir,
            id,
            inventories: Vec::new(),
            fitted: HashMap::new(),
            forced: None,
            hashes: None,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// An inventory read ahead (e.g. while the program ran); used for every process it fits.
    pub fn add_inventory(&mut self, inventory: Inventory) {
        self.inventories.push(inventory);
    }

    /// The hash cache opened ahead (e.g. while the program ran), used by every report.
    pub fn add_hashes(&mut self, hashes: HashCache) {
        self.hashes = Some(hashes);
    }

    /// Whether any Python process has written an observation (or left a note that it could not).
    pub fn observed_any(&self) -> bool {
        fs::read_dir(&self.dir).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                is_observation_name(&name) || name.starts_with('u')
            })
        })
    }

    /// Whether some process wrote an event to send at once (a refused import: `n<pid>`) since
    /// the last call; the markers are removed.
    pub fn take_news(&self) -> bool {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return false;
        };
        let mut news = false;
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let is_news = name
                .to_str()
                .and_then(|n| n.strip_prefix('n'))
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
            if is_news && fs::remove_file(entry.path()).is_ok() {
                news = true;
            }
        }
        news
    }

    /// The programs processes of the session said they started since the last call (`x<pid>-<n>`,
    /// see [`StartedProgram`]); the files are removed.
    pub fn take_started(&self) -> Vec<StartedProgram> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut started = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let parent = name
                .to_str()
                .and_then(|n| n.strip_prefix('x'))
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse().ok());
            let Some(parent) = parent else {
                continue;
            };
            let text = fs::read(entry.path()).unwrap_or_default();
            let _ = fs::remove_file(entry.path());
            started.extend(StartedProgram::parse(parent, &text));
        }
        started
    }

    /// Maps every process against `python`'s inventory, whatever it ran in.
    pub fn force_interpreter(&mut self, python: PathBuf) {
        self.forced = Some(python);
    }

    /// Reads every observation and builds the report. `python` is asked for its inventory when
    /// no process was observed and none was read ahead. An environment that cannot be read (its
    /// interpreter or venv gone) is a problem; the other processes are still mapped.
    pub fn report(
        &mut self,
        python: &Path,
        mut context: ReportContext,
    ) -> Result<(RuntimeReport, Vec<ObservationProblem>), RuntimeError> {
        let (observations, mut problems) = read_session(&self.dir)?;
        let assigned: Vec<usize> = match self.forced.clone() {
            Some(forced) => vec![self.inventory_of(&forced)?; observations.len()],
            None => observations
                .iter()
                .map(|o| self.inventory_for(o, &mut problems))
                .collect(),
        };
        let fallback = match assigned.first() {
            Some(&first) => first,
            None if !self.inventories.is_empty() => 0,
            // Only processes too old to observe ran (Python 2): their problems say so.
            None if !problems.is_empty() => match self.inventory_of(python) {
                Ok(i) => i,
                Err(_) => {
                    self.inventories.push(empty_inventory(Interpreter {
                        executable: python.to_owned(),
                        ..Interpreter::default()
                    }));
                    self.inventories.len() - 1
                }
            },
            None => self.inventory_of(python)?,
        };
        if context.session_id.is_empty() {
            context.session_id = self.id.clone();
        }
        let processes: Vec<(&Observation, &Inventory)> = observations
            .iter()
            .zip(&assigned)
            .map(|(o, &i)| (o, &self.inventories[i]))
            .collect();
        let hashes = self
            .hashes
            .get_or_insert_with(|| HashCache::open(crate::cache::cache_root().as_deref()));
        let report = build_report(&processes, &self.inventories[fallback], context, hashes);
        hashes.save();
        Ok((report, problems))
    }

    /// The inventory of the interpreter `python`, read unless it was already.
    fn inventory_of(&mut self, python: &Path) -> Result<usize, RuntimeError> {
        let interpreter = super::query_interpreter(python)?;
        if let Some(i) = self
            .inventories
            .iter()
            .position(|inv| inv.interpreter == interpreter)
        {
            return Ok(i);
        }
        self.inventories
            .push(super::read_inventory(&interpreter, &[]));
        Ok(self.inventories.len() - 1)
    }

    /// The inventory of the environment `observation` ran in: one already read that fits it,
    /// else one read from its own `sys.path`.
    fn inventory_for(
        &mut self,
        observation: &Observation,
        problems: &mut Vec<ObservationProblem>,
    ) -> usize {
        let key = EnvironmentKey::of(observation);
        if let Some(&i) = self.fitted.get(&key) {
            return i;
        }
        let i = match self
            .inventories
            .iter()
            .position(|inv| environment::fits(inv, observation))
        {
            Some(i) => i,
            None => {
                let inventory = read_environment(observation, problems);
                self.inventories.push(inventory);
                self.inventories.len() - 1
            }
        };
        self.fitted.insert(key, i);
        i
    }

    /// Waits, at most `limit`, until every process that marked itself running (`r<pid>`) has
    /// written its last observation or is gone (killed, or a zombie). Children such as a
    /// multiprocessing forkserver exit just after the program does.
    pub fn wait_for_running(&self, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        while running_pids(&self.dir)
            .into_iter()
            .any(|pid| Stat::of(pid).is_some_and(|stat| stat.is_alive()))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Removes the session directory and what the hook wrote into it.
    pub fn remove(&self) -> std::io::Result<()> {
        fs::remove_dir_all(&self.dir)
    }
}

fn running_pids(dir: &Path) -> Vec<u32> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.strip_prefix('r')?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The inventory of the environment a process ran in, from its observed `sys.path` (or by asking
/// its interpreter, for a hook that did not record it). What is gone becomes a problem and an
/// empty inventory: that process's modules are reported unowned rather than guessed.
fn read_environment(
    observation: &Observation,
    problems: &mut Vec<ObservationProblem>,
) -> Inventory {
    if !observation.prefix.is_dir() {
        problems.push(ObservationProblem {
            path: observation.prefix.clone(),
            message: format!(
                "the environment of process {} no longer exists; its modules are reported unowned",
                observation.pid
            ),
        });
    }
    if let Some(interpreter) = environment::observed_interpreter(observation) {
        return super::read_inventory(&interpreter, &[]);
    }
    match super::query_interpreter(&observation.executable) {
        Ok(interpreter) => super::read_inventory(&interpreter, &[]),
        Err(err) => {
            problems.push(ObservationProblem {
                path: observation.executable.clone(),
                message: format!(
                    "cannot read the environment of process {}: {err}; its modules are reported unowned",
                    observation.pid
                ),
            });
            empty_inventory(Interpreter {
                executable: observation.executable.clone(),
                implementation: observation.implementation.clone(),
                version: observation.version.clone(),
                prefix: observation.prefix.clone(),
                base_prefix: observation.base_prefix.clone().unwrap_or_default(),
                ..Interpreter::default()
            })
        }
    }
}

/// An inventory with no distributions, for an environment that cannot be read: every module
/// of its processes is then reported unowned rather than guessed.
fn empty_inventory(interpreter: Interpreter) -> Inventory {
    Inventory {
        schema: runbom_model::inventory::INVENTORY_SCHEMA.to_owned(),
        interpreter,
        distributions: Vec::new(),
        problems: Vec::new(),
    }
}

/// A program a hooked process started: its file, as the process named it (made absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedProgram {
    pub parent: u32,
    pub path: PathBuf,
    /// By an `exec`: the program replaced `parent` (and has its pid).
    pub replaced: bool,
}

impl StartedProgram {
    /// `exec` or `spawn`, a newline, the path, a newline; `None` for anything else.
    fn parse(parent: u32, text: &[u8]) -> Option<StartedProgram> {
        use std::os::unix::ffi::OsStrExt;
        let mut lines = text.split(|&b| b == b'\n');
        let replaced = match lines.next()? {
            b"exec" => true,
            b"spawn" => false,
            _ => return None,
        };
        let path = lines.next().filter(|p| p.starts_with(b"/"))?;
        Some(StartedProgram {
            parent,
            path: PathBuf::from(std::ffi::OsStr::from_bytes(path)),
            replaced,
        })
    }
}

/// What one process's hook wrote (`runbom.observation/v2`, or `v1` from a hook installed by an
/// older runbom): who it was and the modules it loaded.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Observation {
    pub pid: u32,
    pub ppid: u32,
    /// Seconds since the Unix epoch.
    pub started_at: f64,
    #[serde(default)]
    pub argv: Vec<String>,
    pub executable: PathBuf,
    pub implementation: String,
    pub version: String,
    pub prefix: PathBuf,
    /// `sys.base_prefix`; differs from `prefix` in a venv.
    #[serde(default)]
    pub base_prefix: Option<PathBuf>,
    /// `sys.path` as the process last saw it, absolute; empty from hooks older than this field.
    #[serde(default)]
    pub sys_path: Vec<PathBuf>,
    #[serde(default)]
    pub stdlib_dirs: Vec<PathBuf>,
    #[serde(default)]
    pub stdlib_names: BTreeSet<String>,
    #[serde(default)]
    pub builtin_names: BTreeSet<String>,
    pub exited: bool,
    #[serde(default)]
    pub errors: u64,
    /// `(module name, __file__)`, in import order from the hook (`sys.modules` order), sorted by
    /// name when read from outside the process.
    #[serde(deserialize_with = "module_files")]
    pub modules: Vec<(String, Option<PathBuf>)>,
    /// How enforcement went, when the process was given an enforcement table.
    #[serde(default)]
    pub enforcement: Option<HookEnforcement>,
    /// Imports refused (or that would have been, in monitor mode), in order.
    #[serde(default)]
    pub refusals: Vec<HookRefusal>,
}

/// The hook's modules in either shape: v2's flat strings (name, file, name, file ..., `""` for a
/// module without a file, which the hook joins in one pass) or v1's `[name, file|null]` pairs.
fn module_files<'de, D>(deserializer: D) -> Result<Vec<(String, Option<PathBuf>)>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Shape {
        Flat(Vec<String>),
        Pairs(Vec<(String, Option<PathBuf>)>),
    }
    match Shape::deserialize(deserializer)? {
        Shape::Pairs(pairs) => Ok(pairs),
        Shape::Flat(flat) if flat.len() % 2 == 0 => Ok(flat
            .chunks_exact(2)
            .map(|pair| {
                let file = (!pair[1].is_empty()).then(|| PathBuf::from(&pair[1]));
                (pair[0].clone(), file)
            })
            .collect()),
        Shape::Flat(_) => Err(serde::de::Error::custom(
            "`modules` holds an odd number of strings: a name without its file",
        )),
    }
}

/// The hook's word on enforcement in one process (see `runbom_model::enforce`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HookEnforcement {
    pub mode: EnforceMode,
    pub state: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// One refusal as the hook wrote it (`at` in seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HookRefusal {
    pub at: f64,
    pub module: String,
    #[serde(default)]
    pub file: Option<PathBuf>,
    #[serde(default)]
    pub distribution: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    pub rule: EnforceRule,
    pub why: String,
    #[serde(default)]
    pub config_line: usize,
    #[serde(default)]
    pub importer: Option<String>,
    pub enforced: bool,
}

/// An observation file that could not be read; the other processes are still reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationProblem {
    pub path: PathBuf,
    pub message: String,
}

/// Writes the hook as `dir/file_name` (`sitecustomize.py` or `_runbom_hook.py`), and its
/// enforcement half beside it.
pub fn write_hook(dir: &Path, file_name: &str) -> Result<PathBuf, RuntimeError> {
    let path = dir.join(file_name);
    for (target, source) in [
        (&path, HOOK_SOURCE),
        (&dir.join(ENFORCE_FILE), ENFORCE_SOURCE),
    ] {
        fs::create_dir_all(dir)
            .and_then(|()| fs::write(target, source))
            .map_err(|source| RuntimeError::WriteHook {
                path: target.clone(),
                source,
            })?;
    }
    Ok(path)
}

/// The hook as `sitecustomize.py` (and its enforcement half) in `cache/hook-<content hash>/`,
/// written once: Python keeps their compiled bytecode beside them there, so hooked processes do
/// not recompile the hook at every start (about 10 ms each). A copy whose bytes are not the
/// hook's is rewritten.
pub fn cached_hook_dir(cache: &Path) -> Result<PathBuf, RuntimeError> {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(HOOK_SOURCE)
        .chain_update(ENFORCE_SOURCE)
        .finalize();
    let dir = cache.join(format!("hook-{}", &hex::encode(digest)[..16]));
    for (name, source) in [
        ("sitecustomize.py", HOOK_SOURCE),
        (ENFORCE_FILE, ENFORCE_SOURCE),
    ] {
        let path = dir.join(name);
        if fs::read(&path).is_ok_and(|bytes| bytes == source.as_bytes()) {
            continue;
        }
        // Several runs may start at once: each writes its own temporary file and renames it.
        let temp = dir.join(format!("{name}.{}.tmp", std::process::id()));
        fs::create_dir_all(&dir)
            .and_then(|()| fs::write(&temp, source))
            .and_then(|()| fs::rename(&temp, &path))
            .map_err(|source| RuntimeError::WriteHook { path, source })?;
    }
    Ok(dir)
}

/// Compiles the cached hook for `interpreter` when its bytecode is missing — Python does not
/// write it itself under `PYTHONDONTWRITEBYTECODE`, which container images often set. Runs after
/// the program, never inside it; best effort (the hook works uncompiled, only slower to start).
pub fn precompile_hook(dir: &Path, interpreter: &RuntimeInterpreter) {
    // A run whose first process was Ruby's or Perl's has nothing to compile the hook with.
    if interpreter.language != Language::Python {
        return;
    }
    let mut numbers = interpreter.version.split('.');
    let (Some(major), Some(minor)) = (numbers.next(), numbers.next()) else {
        return;
    };
    let tag = format!("{}-{major}{minor}", interpreter.implementation);
    let compiled = dir.join(format!("__pycache__/sitecustomize.{tag}.pyc"));
    if compiled.exists() || interpreter.executable.as_os_str().is_empty() {
        return;
    }
    let _ = std::process::Command::new(&interpreter.executable)
        .args(["-I", "-m", "py_compile"])
        .arg(dir.join("sitecustomize.py"))
        .arg(dir.join(ENFORCE_FILE))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Whether `name` is a Python observation's: `p<pid>.json`, or `p<pid>-<start>.json` of a program
/// that an `os.exec*` replaced (not another language's `perl-<pid>.json`).
fn is_observation_name(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix('p')
        .and_then(|rest| rest.strip_suffix(".json"))
        .is_some_and(|rest| match rest.split_once('-') {
            Some((pid, start)) => digits(pid) && digits(start),
            None => digits(rest),
        })
}

/// Every `p<pid>.json` in a session directory, sorted by start time then pid. Files being
/// written (`*.tmp`) are skipped; a malformed one becomes a problem.
pub fn read_session(
    dir: &Path,
) -> Result<(Vec<Observation>, Vec<ObservationProblem>), RuntimeError> {
    let entries = fs::read_dir(dir).map_err(|source| RuntimeError::ReadSession {
        path: dir.to_owned(),
        source,
    })?;
    let mut observations = Vec::new();
    let mut problems = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(pid) = name.strip_prefix('u') {
            problems.extend(unobservable(&path, pid));
            continue;
        }
        if !is_observation_name(name) {
            continue;
        }
        let parsed = fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()));
        match parsed {
            Ok(observation) => observations.push(observation),
            Err(message) => problems.push(ObservationProblem { path, message }),
        }
    }
    observations.sort_by(|a: &Observation, b: &Observation| {
        a.started_at
            .total_cmp(&b.started_at)
            .then(a.pid.cmp(&b.pid))
    });
    Ok((observations, problems))
}

/// A process whose interpreter is too old for the hook (`u<pid>`: its version and executable).
fn unobservable(path: &Path, pid: &str) -> Option<ObservationProblem> {
    let pid: u32 = pid.parse().ok()?;
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines();
    let version = lines.next().unwrap_or("?");
    let executable = lines.next().unwrap_or("");
    Some(ObservationProblem {
        path: PathBuf::from(executable),
        message: format!(
            "process {pid} ran Python {version}, which runbom cannot observe (the hook needs \
             CPython 3.6 or newer); its modules are not in this report"
        ),
    })
}

/// The first process of a session: the earliest whose parent is not in the session.
pub fn root_observation<'a>(observations: &[&'a Observation]) -> Option<&'a Observation> {
    let pids: BTreeSet<u32> = observations.iter().map(|o| o.pid).collect();
    observations
        .iter()
        .find(|o| !pids.contains(&o.ppid))
        .or(observations.first())
        .copied()
}

/// Builds the runtime report: every process, with its modules mapped against the inventory of
/// the environment it ran in; every distribution of those inventories (loaded or not) with the
/// modules of it that were loaded and their integrity against RECORD; the standard-library
/// modules apart; every other module as unowned. `fallback` gives the distributions and the
/// interpreter when no process was observed.
pub fn build_report(
    processes: &[(&Observation, &Inventory)],
    fallback: &Inventory,
    context: ReportContext,
    hashes: &HashCache,
) -> RuntimeReport {
    let mut report = context.report(observe(processes, fallback, hashes));
    let observations: Vec<&Observation> = processes.iter().map(|(o, _)| *o).collect();
    add_enforcement(&mut report, &observations);
    report
}

/// What [`build_report`] reports of the processes: each one's modules mapped against the
/// inventory of its environment (also used for processes read from outside, `attach`).
pub fn observe(
    processes: &[(&Observation, &Inventory)],
    fallback: &Inventory,
    hashes: &HashCache,
) -> Observed {
    let mut inventories: Vec<&Inventory> = Vec::new();
    for (_, inventory) in processes {
        if !inventories.iter().any(|i| std::ptr::eq(*i, *inventory)) {
            inventories.push(inventory);
        }
    }
    if inventories.is_empty() {
        inventories.push(fallback);
    }
    let indexes: Vec<FileIndex> = inventories.iter().map(|i| FileIndex::new(i)).collect();
    let mut owned: HashMap<PackageKey, ModulePids> = HashMap::new();
    let mut stdlib = BTreeSet::new();
    let mut unowned: ModulePids = BTreeMap::new();
    for (observation, inventory) in processes {
        let index = inventories
            .iter()
            .position(|i| std::ptr::eq(*i, *inventory))
            .map(|i| &indexes[i]);
        let owners_by_file: HashMap<&str, &InstalledDistribution> = observation
            .modules
            .iter()
            .filter_map(|(name, file)| {
                let owner = index?.owner_of(file.as_deref()?)?;
                Some((name.as_str(), owner))
            })
            .collect();
        // The owner of a module without a file: its nearest owned parent, else (outside the
        // standard library) the distribution filling its namespace.
        let owner_without_file = |name: &str| {
            nearest_owned_parent(name, &owners_by_file).or_else(|| {
                if is_stdlib(observation, name, None) {
                    return None;
                }
                namespace_owner(name, &observation.modules, &owners_by_file)
            })
        };
        let orphans: Vec<&str> = observation
            .modules
            .iter()
            .filter(|(name, file)| {
                file.is_none()
                    && !is_hook_module(name, None)
                    && !is_stdlib(observation, name, None)
                    && owner_without_file(name).is_none()
            })
            .map(|(name, _)| name.as_str())
            .collect();
        let made_by_extensions =
            LoadedExtensions::new(&observation.modules, &owners_by_file).creators(&orphans);
        for (name, file) in &observation.modules {
            if is_hook_module(name, file.as_deref()) {
                continue;
            }
            let owner = match file {
                Some(_) => owners_by_file.get(name.as_str()).copied(),
                None => owner_without_file(name)
                    .or_else(|| made_by_extensions.get(name.as_str()).copied()),
            };
            let key = (name.clone(), file.clone());
            if let Some(dist) = owner {
                owned
                    .entry(PackageKey::of(dist))
                    .or_default()
                    .entry(key)
                    .or_default()
                    .insert(observation.pid);
            } else if is_stdlib(observation, name, file.as_deref()) {
                stdlib.insert(name.clone());
            } else {
                unowned.entry(key).or_default().insert(observation.pid);
            }
        }
    }
    let mut installed: BTreeMap<PackageKey, &InstalledDistribution> = BTreeMap::new();
    for inventory in &inventories {
        for dist in inventory.active() {
            installed.entry(PackageKey::of(dist)).or_insert(dist);
        }
    }
    let installed: Vec<(&InstalledDistribution, Option<ModulePids>)> = installed
        .into_iter()
        .map(|(key, dist)| (dist, owned.remove(&key)))
        .collect();
    // Each loaded file is checked against RECORD (a `stat`, and a read when the hash cache
    // misses): on every core, as this is most of what a report waits on after its program exits.
    let distributions = crate::parallel::map_ordered(&installed, |(dist, modules)| {
        let modules = modules
            .as_ref()
            .map(|m| loaded_modules(m, Some(dist), hashes))
            .unwrap_or_default();
        distribution_use(dist, modules)
    });
    let observations: Vec<&Observation> = processes.iter().map(|(o, _)| *o).collect();
    let root = root_observation(&observations);
    Observed {
        started_at: processes.first().map(|(o, _)| rfc3339(o.started_at)),
        command: root.map(|o| o.argv.clone()).unwrap_or_default(),
        interpreter: interpreter(fallback, root),
        processes: processes.iter().map(|(o, _)| process_info(o)).collect(),
        distributions,
        stdlib_modules: stdlib.into_iter().collect(),
        unowned_modules: loaded_modules(&unowned, None, hashes),
        hook_errors: processes.iter().map(|(o, _)| o.errors).sum(),
        enforcement: Vec::new(),
        refusals: Vec::new(),
    }
}

/// Each process's enforcement state and refusals, the refusals in the order they happened.
fn add_enforcement(report: &mut RuntimeReport, observations: &[&Observation]) {
    for observation in observations {
        let (state, refusals) = enforcement_of(
            observation.pid,
            observation.enforcement.as_ref(),
            &observation.refusals,
        );
        report.enforcement.extend(state);
        report.refusals.extend(refusals);
    }
    report
        .refusals
        .sort_by(|a, b| a.at.cmp(&b.at).then(a.pid.cmp(&b.pid)));
}

type ModuleKey = (String, Option<PathBuf>);
/// Loaded modules, each with the processes that loaded it.
type ModulePids = BTreeMap<ModuleKey, BTreeSet<u32>>;

/// Identifies one active distribution of an inventory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PackageKey(String, PathBuf);

impl PackageKey {
    fn of(dist: &InstalledDistribution) -> Self {
        Self(dist.normalized_name.to_string(), dist.location.clone())
    }
}

/// The hook itself is not part of the program.
fn is_hook_module(name: &str, file: Option<&Path>) -> bool {
    name == "_runbom_hook"
        || (name == "sitecustomize"
            && file.is_some_and(|f| fs::read_to_string(f).is_ok_and(|text| text == HOOK_SOURCE)))
}

/// The owner of a module that has no file of its own (`urllib3.packages.six.moves`, made by
/// six's importer inside urllib3): the distribution of its nearest parent package that has one.
fn nearest_owned_parent<'a>(
    name: &str,
    owners: &HashMap<&str, &'a InstalledDistribution>,
) -> Option<&'a InstalledDistribution> {
    let mut parent = name;
    while let Some((up, _)) = parent.rsplit_once('.') {
        if let Some(owner) = owners.get(up) {
            return Some(owner);
        }
        parent = up;
    }
    None
}

/// The owner of a namespace package (`poetry`, whose `poetry.console` is poetry's and
/// `poetry.core` poetry-core's): the distribution of its name when that one fills it, else the
/// distribution of its first loaded submodule that has one.
fn namespace_owner<'a>(
    name: &str,
    modules: &[(String, Option<PathBuf>)],
    owners: &HashMap<&str, &'a InstalledDistribution>,
) -> Option<&'a InstalledDistribution> {
    let filling: Vec<&InstalledDistribution> = modules
        .iter()
        .filter(|(child, _)| {
            child
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .filter_map(|(child, _)| owners.get(child.as_str()).copied())
        .collect();
    let own_name = PackageName::new(Ecosystem::PyPi, name);
    filling
        .iter()
        .find(|d| d.normalized_name == own_name)
        .or(filling.first())
        .copied()
}

fn is_stdlib(observation: &Observation, name: &str, file: Option<&Path>) -> bool {
    let top = name.split('.').next().unwrap_or(name);
    let known = observation.stdlib_names.contains(top)
        || observation.builtin_names.contains(top)
        || top.starts_with("_frozen_importlib")
        // Frozen into CPython 3.8+ (no `__file__`), and before 3.10 in no list the hook can ask for.
        || top == "zipimport";
    match file {
        None => known,
        Some(file) => {
            let in_site = file.components().any(|c| {
                let c = c.as_os_str();
                c == "site-packages" || c == "dist-packages"
            });
            !in_site && observation.stdlib_dirs.iter().any(|d| file.starts_with(d))
        }
    }
}

fn loaded_modules(
    modules: &ModulePids,
    dist: Option<&InstalledDistribution>,
    hashes: &HashCache,
) -> Vec<LoadedModule> {
    modules
        .iter()
        .map(|((name, file), pids)| LoadedModule {
            integrity: dist
                .zip(file.as_deref())
                .map(|(d, f)| integrity(d, f, hashes)),
            name: name.clone(),
            file: file.clone(),
            pids: pids.iter().copied().collect(),
        })
        .collect()
}

fn distribution_use(dist: &InstalledDistribution, modules: Vec<LoadedModule>) -> DistributionUse {
    DistributionUse {
        ecosystem: Ecosystem::PyPi,
        name: dist.name.clone(),
        normalized_name: dist.normalized_name.clone(),
        version: dist.version.clone(),
        purl: format!("pkg:pypi/{}@{}", dist.normalized_name, dist.version),
        location: dist.location.clone(),
        size: dist.size,
        requires_dist: dist.requires_dist.clone(),
        sum: None,
        modules,
    }
}

/// A loaded file held against its distribution's RECORD hash.
pub fn integrity(dist: &InstalledDistribution, file: &Path, hashes: &HashCache) -> FileIntegrity {
    let path = normalize_path(file);
    let sha256 = match hashes.sha256(&path) {
        Ok(sha256) => sha256,
        Err(err) => {
            return FileIntegrity::Unreadable {
                error: err.to_string(),
            };
        }
    };
    let recorded = dist
        .files
        .binary_search_by(|f| f.path.as_os_str().cmp(path.as_os_str()))
        .ok()
        .and_then(|i| dist.files[i].hash.as_deref())
        .and_then(record_sha256_hex);
    match recorded {
        Some(recorded) if recorded == sha256 => FileIntegrity::Verified { sha256 },
        Some(recorded) => FileIntegrity::Mismatch { sha256, recorded },
        None => FileIntegrity::Unrecorded { sha256 },
    }
}

fn process_info(observation: &Observation) -> ProcessInfo {
    ProcessInfo {
        pid: observation.pid,
        parent_pid: observation.ppid,
        started_at: rfc3339(observation.started_at),
        argv: observation.argv.clone(),
        executable: observation.executable.clone(),
        modules_loaded: observation.modules.len(),
        hook_errors: observation.errors,
        exited: observation.exited,
    }
}

fn interpreter(inventory: &Inventory, root: Option<&Observation>) -> RuntimeInterpreter {
    match root {
        Some(o) => RuntimeInterpreter {
            language: Language::Python,
            executable: o.executable.clone(),
            implementation: o.implementation.clone(),
            version: o.version.clone(),
            prefix: o.prefix.clone(),
            build: Default::default(),
        },
        None => {
            let i = &inventory.interpreter;
            RuntimeInterpreter {
                language: Language::Python,
                executable: i.executable.clone(),
                implementation: i.implementation.clone(),
                version: i.version.clone(),
                prefix: i.prefix.clone(),
                build: Default::default(),
            }
        }
    }
}

#[cfg(test)]
mod tests;
