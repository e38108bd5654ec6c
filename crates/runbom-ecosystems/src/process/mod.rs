//! A live process read from outside through `/proc/PID` — its executable, memory maps, working
//! directory, environment, command line and status — without stopping or changing it. Everything
//! read is the process's to choose (and it may exit half-way), so each file is read bounded, a
//! vanished process is [`ProcessError::Gone`] wherever it vanishes, and a process of another user
//! is [`ProcessError::Denied`], never a partial answer taken for a whole one.

pub mod maps;
pub mod memory;

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use maps::Mapping;
pub use memory::{ImageMemory, LiveMemory, Memory, MemoryError};

/// At most this many bytes of `environ`, `cmdline` or `status` are read.
const MAX_SMALL_FILE: u64 = 1 << 20;
/// At most this many bytes of `maps`.
const MAX_MAPS_FILE: u64 = 64 << 20;
/// Linux reports process start times in `USER_HZ`, which is 100 on every architecture (ABI).
const USER_HZ: u64 = 100;

/// Why a process could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("no process {pid} (it exited, or never ran)")]
    Gone { pid: u32 },
    #[error(
        "not permitted to read process {pid} of user {uid} (runbom needs to run as that user, or \
         with `CAP_SYS_PTRACE`)"
    )]
    Denied { pid: u32, uid: u32 },
    #[error("process {pid} is a kernel thread: it runs no program to read")]
    KernelThread { pid: u32 },
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}`: {source}")]
    Maps {
        path: PathBuf,
        source: maps::MapsError,
    },
    #[error("`{path}`: {message}")]
    Malformed { path: PathBuf, message: String },
}

/// What `/proc/PID` says of one live process, read once.
#[derive(Debug, Clone)]
pub struct LiveProcess {
    pub pid: u32,
    pub parent_pid: u32,
    /// The real user id.
    pub uid: u32,
    /// `Name:` in `status` (the kernel's short name, at most 15 bytes).
    pub name: String,
    /// The file it runs (`/proc/PID/exe`), as the kernel resolved it.
    pub executable: PathBuf,
    /// The executable was deleted or replaced after it started.
    pub executable_deleted: bool,
    pub cwd: PathBuf,
    pub argv: Vec<String>,
    /// `KEY=value` pairs as the process started with them.
    pub environment: Vec<(String, String)>,
    pub maps: Vec<Mapping>,
    /// Seconds since the Unix epoch.
    pub started_at: f64,
}

impl LiveProcess {
    /// Reads process `pid`. The process may exit at any point of this; then it is `Gone`.
    pub fn read(pid: u32) -> Result<Self, ProcessError> {
        Self::read_in(Path::new("/proc"), pid)
    }

    /// Reads process `pid` from a proc file system mounted at `proc`.
    pub fn read_in(proc: &Path, pid: u32) -> Result<Self, ProcessError> {
        let dir = proc.join(pid.to_string());
        let status = read_text(&dir.join("status"), pid, None)?;
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(str::trim)
        };
        let malformed = |message: &str| ProcessError::Malformed {
            path: dir.join("status"),
            message: message.to_owned(),
        };
        let uid = field("Uid:")
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| malformed("no `Uid:` line"))?;
        let parent_pid = field("PPid:")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| malformed("no `PPid:` line"))?;
        let name = field("Name:").unwrap_or_default().to_owned();
        let is_kernel_thread = field("Kthread:").map(|v| v == "1").unwrap_or(false)
            || (parent_pid == 2 || pid == 2) && field("VmSize:").is_none();
        if is_kernel_thread {
            return Err(ProcessError::KernelThread { pid });
        }
        let exe_link = dir.join("exe");
        let executable = match fs::read_link(&exe_link) {
            Ok(path) => path,
            Err(err) => return Err(classify(&exe_link, err, pid, Some(uid), proc)),
        };
        let (executable, executable_deleted) = strip_deleted(executable);
        let cwd = fs::read_link(dir.join("cwd"))
            .map_err(|err| classify(&dir.join("cwd"), err, pid, Some(uid), proc))?;
        let argv = split_nul(&read_bytes(
            &dir.join("cmdline"),
            pid,
            Some(uid),
            MAX_SMALL_FILE,
        )?);
        let environment = split_nul(&read_bytes(
            &dir.join("environ"),
            pid,
            Some(uid),
            MAX_SMALL_FILE,
        )?)
        .into_iter()
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.to_owned(), value.to_owned()))
        })
        .collect();
        let maps_path = dir.join("maps");
        let maps = maps::parse(&read_bytes(&maps_path, pid, Some(uid), MAX_MAPS_FILE)?).map_err(
            |source| ProcessError::Maps {
                path: maps_path.clone(),
                source,
            },
        )?;
        let started_at = start_time(proc, &dir, pid).unwrap_or_default();
        // Read last: a pid reused by a new process while we read would show a different start.
        if start_time(proc, &dir, pid).unwrap_or_default() != started_at {
            return Err(ProcessError::Gone { pid });
        }
        Ok(Self {
            pid,
            parent_pid,
            uid,
            name,
            executable,
            executable_deleted,
            cwd,
            argv,
            environment,
            maps,
            started_at,
        })
    }

    /// A variable of the environment the process started with.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.environment
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every file mapped into the process, once each, sorted.
    pub fn mapped_files(&self) -> BTreeSet<&Path> {
        self.maps.iter().filter_map(Mapping::file).collect()
    }

    /// Every mapped shared object (`*.so`, `*.so.N…`), sorted.
    pub fn shared_objects(&self) -> Vec<PathBuf> {
        self.mapped_files()
            .into_iter()
            .filter(|p| is_shared_object(p))
            .map(Path::to_owned)
            .collect()
    }

    /// The memory of this process, read at most `budget` bytes in all.
    pub fn memory(&self, budget: u64) -> LiveMemory {
        LiveMemory::new(self.pid, budget)
    }

    /// Where the file `path` (as the process mapped it) is loaded: the start of its mapping at
    /// file offset 0.
    pub fn base_of(&self, path: &Path) -> Option<u64> {
        self.maps
            .iter()
            .filter(|m| m.file() == Some(path) && m.offset == 0)
            .map(|m| m.start)
            .min()
    }

    /// A fingerprint of what is mapped: it changes when the process loads or unloads a file.
    pub fn maps_fingerprint(&self) -> u64 {
        fingerprint(&self.maps)
    }
}

/// A fingerprint of the files of `maps` (see [`LiveProcess::maps_fingerprint`]).
pub fn fingerprint(maps: &[Mapping]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for mapping in maps.iter().filter(|m| m.file().is_some()) {
        (mapping.start, mapping.inode, &mapping.path).hash(&mut hasher);
    }
    hasher.finish()
}

/// The memory maps of process `pid` alone (cheaper than [`LiveProcess::read`]).
pub fn read_maps(pid: u32) -> Result<Vec<Mapping>, ProcessError> {
    let path = PathBuf::from(format!("/proc/{pid}/maps"));
    let bytes = read_bytes(&path, pid, None, MAX_MAPS_FILE)?;
    maps::parse(&bytes).map_err(|source| ProcessError::Maps { path, source })
}

/// A file name `lib….so`, `….so.1.2`, `….cpython-311-x86_64-linux-gnu.so`.
pub fn is_shared_object(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".so") || n.contains(".so."))
}

/// Every pid under `/proc`, sorted.
pub fn pids() -> Vec<u32> {
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    pids
}

fn strip_deleted(path: PathBuf) -> (PathBuf, bool) {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = path.into_os_string().into_vec();
    match bytes.strip_suffix(b" (deleted)") {
        Some(stripped) => (PathBuf::from(std::ffi::OsStr::from_bytes(stripped)), true),
        None => (PathBuf::from(std::ffi::OsString::from_vec(bytes)), false),
    }
}

/// A process's state and start from its `stat` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Field 3: `R`, `S`, `Z` (a zombie, exited but not reaped), `X` (dead) …
    pub state: char,
    /// Field 22: clock ticks after boot; with the pid it names one process.
    pub start_ticks: u64,
}

impl Stat {
    /// Running or sleeping: neither a zombie nor dead.
    pub fn is_alive(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }

    /// The fields of a `stat` line; they follow the `)` that ends the name, which may itself
    /// hold `)`.
    pub fn parse(stat: &str) -> Option<Stat> {
        let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let start_ticks = fields.nth(18)?.parse().ok()?;
        Some(Stat { state, start_ticks })
    }

    /// `/proc/PID/stat` of a process of this host; `None` once it is gone.
    pub fn of(pid: u32) -> Option<Stat> {
        Stat::parse(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }
}

/// Start time from `stat` and the boot time.
fn start_time(proc: &Path, dir: &Path, pid: u32) -> Result<f64, ProcessError> {
    let stat = read_text(&dir.join("stat"), pid, None)?;
    let ticks = Stat::parse(&stat)
        .map(|stat| stat.start_ticks)
        .ok_or_else(|| ProcessError::Malformed {
            path: dir.join("stat"),
            message: "no start time".to_owned(),
        })?;
    let boot: u64 = fs::read_to_string(proc.join("stat"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime "))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0);
    Ok(boot as f64 + ticks as f64 / USER_HZ as f64)
}

fn read_text(path: &Path, pid: u32, uid: Option<u32>) -> Result<String, ProcessError> {
    let bytes = read_bytes(path, pid, uid, MAX_SMALL_FILE)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_bytes(
    path: &Path,
    pid: u32,
    uid: Option<u32>,
    limit: u64,
) -> Result<Vec<u8>, ProcessError> {
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(limit).read_to_end(&mut bytes))
        .map_err(|err| classify(path, err, pid, uid, Path::new("/proc")))?;
    Ok(bytes)
}

/// A read error of a `/proc` file, said as what it means: gone, denied, or a plain I/O error.
fn classify(
    path: &Path,
    err: std::io::Error,
    pid: u32,
    uid: Option<u32>,
    proc: &Path,
) -> ProcessError {
    use std::io::ErrorKind;
    let alive = proc.join(pid.to_string()).exists();
    match err.kind() {
        _ if !alive => ProcessError::Gone { pid },
        // ESRCH while reading a file of a process that is exiting.
        _ if err.raw_os_error() == Some(3) => ProcessError::Gone { pid },
        ErrorKind::NotFound => ProcessError::Gone { pid },
        ErrorKind::PermissionDenied => ProcessError::Denied {
            pid,
            uid: uid.unwrap_or(u32::MAX),
        },
        _ => ProcessError::Read {
            path: path.to_owned(),
            source: err,
        },
    }
}

fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_is_read_after_the_last_parenthesis_of_the_name() {
        let line = "42 (a) b (c) Z 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0";
        let stat = Stat::parse(line).unwrap();
        assert_eq!(
            stat,
            Stat {
                state: 'Z',
                start_ticks: 987_654
            }
        );
        assert!(!stat.is_alive());
        assert_eq!(Stat::parse("42 (truncated"), None);
        assert!(Stat::of(std::process::id()).unwrap().is_alive());
    }

    #[test]
    fn reads_this_process() {
        let me = LiveProcess::read(std::process::id()).unwrap();
        assert_eq!(me.executable, std::env::current_exe().unwrap());
        assert_eq!(me.cwd, std::env::current_dir().unwrap());
        assert_eq!(me.parent_pid, std::os::unix::process::parent_id());
        assert!(!me.argv.is_empty());
        assert!(me.env("PATH").is_some() || std::env::var_os("PATH").is_none());
        assert!(me.base_of(&me.executable).is_some());
        assert!(me.started_at > 1.0e9);
    }

    #[test]
    fn a_process_that_exited_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(matches!(
            LiveProcess::read(pid),
            Err(ProcessError::Gone { .. })
        ));
    }

    #[test]
    fn a_kernel_thread_is_named_as_one() {
        // kthreadd is pid 2 wherever the pid namespace is the host's.
        if fs::read_to_string("/proc/2/status").is_ok_and(|s| s.contains("kthreadd")) {
            assert!(matches!(
                LiveProcess::read(2),
                Err(ProcessError::KernelThread { pid: 2 })
            ));
        }
    }

    #[test]
    fn shared_objects_are_named_by_suffix() {
        assert!(is_shared_object(Path::new("/lib/libc.so.6")));
        assert!(is_shared_object(Path::new(
            "/v/site-packages/_cffi_backend.cpython-311-x86_64-linux-gnu.so"
        )));
        assert!(!is_shared_object(Path::new("/usr/bin/python3.11")));
    }
}
