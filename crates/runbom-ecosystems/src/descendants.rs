//! The programs a command's descendants run, whose artefact is what runs (a Go binary): found by
//! walking `/proc/PID/task/TID/children` down from this process, each new process's executable
//! (`/proc/PID/exe`) read once per file (by device, inode, size and mtime) through the language
//! seam. A shell that starts `./server`, a script that execs it, a Python program that spawns it:
//! each process of the tree is looked at when first seen, and again after it execs.
//!
//! Traps: the walk is a poll, so a child that lives shorter than one interval is never seen —
//! a hook that saw it start ([`Descendants::add_started`], Python's `subprocess` and `os.exec*`
//! wrappers) names its file, and it is reported without a pid. The caller should be a child
//! subreaper ([`become_subreaper`]) so that a daemon whose parent exits stays in the tree; the
//! orphans it adopts are then its to reap ([`Descendants::poll`] reaps those it saw start under
//! the command, never another child of the caller, whose own `wait` would fail).

use runbom_model::Language;
use runbom_model::runtime::ProcessInfo;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::language::{Artefact, ObservedBy, language_of};
use crate::process::{LiveProcess, Stat};
use crate::program::Program;
use crate::report::{Observed, rfc3339};

/// Which file a process runs: the same identity is the same artefact, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileIdentity {
    device: u64,
    inode: u64,
    size: u64,
    modified_ns: i128,
}

impl FileIdentity {
    /// The identity of the file at `path` (symbolic links followed: `/proc/PID/exe` is the file
    /// the process runs, even deleted).
    pub fn of(path: &Path) -> Option<FileIdentity> {
        let meta = fs::metadata(path).ok()?;
        Some(FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        })
    }
}

/// Makes this process the reaper of its orphaned descendants (`PR_SET_CHILD_SUBREAPER`), so that
/// a process whose parent exits stays under it instead of moving to init.
pub fn become_subreaper() -> std::io::Result<()> {
    rustix::process::set_child_subreaper(Some(rustix::process::getpid())).map_err(Into::into)
}

/// One process that ran an artefact.
#[derive(Debug, Clone)]
pub struct ArtefactProcess {
    /// 0 when it was not seen running (a hook said it started it; it exited before a poll).
    pub pid: u32,
    pub parent_pid: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub argv: Vec<String>,
    pub executable: PathBuf,
    /// The language of the artefact it runs.
    pub language: Language,
    pub exited: bool,
    /// Seen in the tree (not only named by a hook).
    pub seen: bool,
    identity: FileIdentity,
}

/// What a process was when last seen.
#[derive(Debug, Clone, Copy)]
struct Seen {
    start_ticks: u64,
    identity: Option<FileIdentity>,
    /// First seen below the command (not a child of this process of its own).
    under_command: bool,
}

/// The artefact processes of one command's tree, and what was read to find them.
#[derive(Debug)]
pub struct Descendants {
    /// This process: the root of the walk.
    root: u32,
    /// The command this process started.
    command: u32,
    seen: HashMap<u32, Seen>,
    /// Each executable read so far: its artefact, or `None` when it is not one (a shell, an
    /// interpreter) or could not be read.
    artefacts: HashMap<FileIdentity, Option<Box<dyn Artefact>>>,
    processes: Vec<ArtefactProcess>,
    /// Executables that look like an artefact language's but could not be read, said once each.
    unreadable: Vec<String>,
}

impl Descendants {
    /// Watches the tree below this process, whose command is the child `command`.
    pub fn new(command: u32) -> Self {
        Descendants {
            root: std::process::id(),
            command,
            seen: HashMap::new(),
            artefacts: HashMap::new(),
            processes: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    /// The command itself, read before it started: `artefact` is what its pid runs.
    pub fn add_command(&mut self, artefact: Box<dyn Artefact>, path: &Path, argv: &[String]) {
        let Some(identity) = FileIdentity::of(path) else {
            return;
        };
        let language = artefact.interpreter().language;
        self.artefacts.insert(identity, Some(artefact));
        self.processes.push(ArtefactProcess {
            pid: self.command,
            parent_pid: self.root,
            started_at: rfc3339(now()),
            argv: argv.to_vec(),
            executable: path.canonicalize().unwrap_or_else(|_| path.to_owned()),
            language,
            exited: false,
            seen: true,
            identity,
        });
    }

    /// Looks at the tree once: every process not seen before (or that exec'd since) whose
    /// executable is an artefact is added; those gone are marked exited; adopted orphans that
    /// exited are reaped. Returns the processes found by this poll, and whether the tree changed.
    pub fn poll(&mut self) -> (Vec<ArtefactProcess>, bool) {
        let tree = tree_below(self.root);
        let mut found = Vec::new();
        let mut changed = false;
        for &(pid, parent) in &tree {
            let Some(Stat { start_ticks, state }) = Stat::of(pid) else {
                continue;
            };
            if state == 'Z' {
                continue;
            }
            let exe = PathBuf::from(format!("/proc/{pid}/exe"));
            let identity = FileIdentity::of(&exe);
            let before = self.seen.get(&pid).copied();
            if before.is_some_and(|s| s.start_ticks == start_ticks && s.identity == identity) {
                continue;
            }
            changed = true;
            let under_command = match before {
                Some(s) if s.start_ticks == start_ticks => s.under_command,
                _ => pid == self.command || parent != self.root,
            };
            self.seen.insert(
                pid,
                Seen {
                    start_ticks,
                    identity,
                    under_command,
                },
            );
            if let Some(process) = identity.and_then(|id| self.read_process(pid, &exe, id))
                && self.record(process.clone())
            {
                found.push(process);
            }
        }
        let alive: HashSet<u32> = tree.iter().map(|(pid, _)| *pid).collect();
        for process in &mut self.processes {
            if process.pid != 0 && !process.exited && !alive.contains(&process.pid) {
                process.exited = true;
            }
        }
        self.seen.retain(|pid, _| alive.contains(pid));
        self.reap_adopted(&tree);
        (found, changed)
    }

    /// A program a hook saw `parent` start (`replaced`: by an exec, so it runs as `parent`), by
    /// its file: kept, without a pid, unless the tree showed it already.
    pub fn add_started(&mut self, parent: u32, path: &Path, replaced: bool) {
        let Some(identity) = FileIdentity::of(path) else {
            return;
        };
        let Some(language) = self.artefact_language(identity, path) else {
            return;
        };
        let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
        self.record(ArtefactProcess {
            pid: if replaced { parent } else { 0 },
            // An exec keeps the parent of the process it replaced (0 once that is gone too).
            parent_pid: if replaced {
                LiveProcess::read(parent).map_or(0, |p| p.parent_pid)
            } else {
                parent
            },
            started_at: rfc3339(now()),
            argv: vec![path.display().to_string()],
            executable: path,
            language,
            exited: true,
            seen: false,
            identity,
        });
    }

    /// Every artefact process so far.
    pub fn processes(&self) -> &[ArtefactProcess] {
        &self.processes
    }

    /// Executables of an artefact language that could not be read, one message each.
    pub fn take_unreadable(&mut self) -> Vec<String> {
        std::mem::take(&mut self.unreadable)
    }

    /// What the artefact processes ran, one [`Observed`] per file (its components loaded by
    /// every process that ran it), in the order first seen.
    pub fn observed(&self) -> Vec<Observed> {
        let mut by_file: BTreeMap<FileIdentity, (usize, Vec<&ArtefactProcess>)> = BTreeMap::new();
        for (order, process) in self.processes.iter().enumerate() {
            by_file
                .entry(process.identity)
                .or_insert_with(|| (order, Vec::new()))
                .1
                .push(process);
        }
        let mut groups: Vec<(usize, FileIdentity, Vec<&ArtefactProcess>)> = by_file
            .into_iter()
            .map(|(identity, (order, processes))| (order, identity, processes))
            .collect();
        groups.sort_by_key(|(order, ..)| *order);
        groups
            .into_iter()
            .filter_map(|(_, identity, processes)| {
                let artefact = self.artefacts.get(&identity)?.as_ref()?;
                Some(observed(artefact.as_ref(), &processes))
            })
            .collect()
    }

    /// The artefact of process `pid`, read (once per file) when it is one.
    fn read_process(
        &mut self,
        pid: u32,
        exe: &Path,
        identity: FileIdentity,
    ) -> Option<ArtefactProcess> {
        let path = fs::read_link(exe).unwrap_or_else(|_| exe.to_owned());
        let language = self.artefact_language(identity, exe)?;
        let live = LiveProcess::read(pid).ok()?;
        Some(ArtefactProcess {
            pid,
            parent_pid: live.parent_pid,
            started_at: rfc3339(live.started_at),
            argv: live.argv,
            executable: if live.executable_deleted {
                path
            } else {
                live.executable
            },
            language,
            exited: false,
            seen: true,
            identity,
        })
    }

    /// The language of the artefact the file `path` (of `identity`) is, through the language seam;
    /// read once.
    fn artefact_language(&mut self, identity: FileIdentity, path: &Path) -> Option<Language> {
        if let Some(known) = self.artefacts.get(&identity) {
            return known.as_ref().map(|a| a.interpreter().language);
        }
        let program = Program {
            command: path.display().to_string(),
            path: Some(path.to_owned()),
            // The kernel already ran any `#!` line: this is the file that runs.
            interpreter: None,
        };
        let artefact = language_of(&program)
            .filter(|(module, _)| module.observed_by() == ObservedBy::Artefact)
            .and_then(|(module, runner)| match module.artefact(&runner) {
                Ok(artefact) => Some(artefact),
                Err(why) => {
                    self.unreadable.push(format!(
                        "{} program `{}`: {why}",
                        module.language(),
                        path.display()
                    ));
                    None
                }
            });
        let language = artefact.as_ref().map(|a| a.interpreter().language);
        self.artefacts.insert(identity, artefact);
        language
    }

    /// Keeps `process`, folding a hook's word on it and the tree's sight of it into one (the
    /// tree's wins: it knows the pid and argv). Whether it was new.
    fn record(&mut self, process: ArtefactProcess) -> bool {
        let same = self.processes.iter().position(|known| {
            known.identity == process.identity
                && (known.pid == process.pid && known.pid != 0
                    || (known.pid == 0 || process.pid == 0)
                        && known.parent_pid == process.parent_pid)
        });
        match same {
            Some(index) => {
                let newly_seen = process.seen && !self.processes[index].seen;
                if newly_seen {
                    self.processes[index] = process;
                }
                newly_seen
            }
            None => {
                self.processes.push(process);
                true
            }
        }
    }

    /// Reaps the zombies among this process's children that it adopted from the command's tree.
    fn reap_adopted(&self, tree: &[(u32, u32)]) {
        for &(pid, parent) in tree {
            let adopted =
                parent == self.root && pid != self.command && self.seen_under_command(pid);
            if adopted && Stat::of(pid).is_some_and(|stat| stat.state == 'Z') {
                let pid = i32::try_from(pid)
                    .ok()
                    .and_then(rustix::process::Pid::from_raw);
                let _ = rustix::process::waitpid(pid, rustix::process::WaitOptions::NOHANG);
            }
        }
    }

    fn seen_under_command(&self, pid: u32) -> bool {
        self.seen.get(&pid).is_some_and(|s| s.under_command)
    }
}

/// The report part of the processes that ran one artefact.
fn observed(artefact: &dyn Artefact, processes: &[&ArtefactProcess]) -> Observed {
    let pids: Vec<u32> = processes
        .iter()
        .map(|p| p.pid)
        .filter(|&p| p != 0)
        .collect();
    let mut distributions = artefact.components(None);
    for module in distributions.iter_mut().flat_map(|d| d.modules.iter_mut()) {
        module.pids.clone_from(&pids);
    }
    let modules_loaded = distributions.iter().map(|d| d.modules.len()).sum();
    let mut interpreter = artefact.interpreter();
    if let Some(first) = processes.first() {
        interpreter.executable.clone_from(&first.executable);
    }
    Observed {
        started_at: processes.iter().map(|p| p.started_at.clone()).min(),
        command: processes
            .first()
            .map(|p| p.argv.clone())
            .unwrap_or_default(),
        interpreter,
        processes: processes
            .iter()
            .map(|p| ProcessInfo {
                pid: p.pid,
                parent_pid: p.parent_pid,
                started_at: p.started_at.clone(),
                argv: p.argv.clone(),
                executable: p.executable.clone(),
                modules_loaded,
                hook_errors: 0,
                exited: p.exited,
            })
            .collect(),
        distributions,
        stdlib_modules: Vec::new(),
        unowned_modules: Vec::new(),
        hook_errors: 0,
        enforcement: Vec::new(),
        refusals: Vec::new(),
    }
}

/// Every process below `root` with its parent, parents before children.
fn tree_below(root: u32) -> Vec<(u32, u32)> {
    let mut tree = Vec::new();
    let mut next = vec![root];
    while let Some(parent) = next.pop() {
        for child in children_of(parent) {
            if !tree.iter().any(|(pid, _)| *pid == child) {
                tree.push((child, parent));
                next.push(child);
            }
        }
    }
    tree
}

/// The children of `pid`, over all its threads (`/proc/PID/task/TID/children`).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// The start time (clock ticks since boot) and state letter of `pid`, from `/proc/PID/stat`.
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}
