//! The seam's half for languages observed by a hook of their own (Ruby, Perl, Tcl): how
//! `runbom run` makes the language's interpreters load the hook ([`Hook::install`],
//! [`Hook::wrap`]), and the one observation file every such hook writes per process
//! ([`HookObservation`], `<language>-<pid>.json` in the session directory), which the language
//! then maps to its components ([`Hook::observe`]).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use runbom_model::Language;
use runbom_model::inventory::Problem;
use runbom_model::runtime::ProcessInfo;
use serde::Deserialize;

use crate::report::{Observed, rfc3339};

/// How a command's environment loads a language's hook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    /// Variables to set for the command, each value already joined with what the user had
    /// (e.g. `RUBYOPT` keeps the user's options after the hook's).
    pub env: Vec<(OsString, OsString)>,
}

/// Why a hook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the {language} hook into `{}`", path.display())]
pub struct HookError {
    pub language: Language,
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// A language observed by a hook in the language itself, beside Python's `sitecustomize`.
pub trait Hook: Sync + std::fmt::Debug {
    /// Writes the hook's files into `dir` (empty, the language's own) and says how the
    /// command's environment loads them.
    fn install(&self, dir: &Path) -> Result<Launch, HookError>;

    /// `command` rewritten to load the hook installed in `dir`, for a language whose
    /// interpreter reads no start-up file from the environment (Tcl: `tclsh hook.tcl app.tcl`);
    /// `None` when the environment is enough, or `command` is not this language's.
    fn wrap(&self, _dir: &Path, _command: &[String]) -> Option<Vec<String>> {
        None
    }

    /// What the language's processes of one run loaded, mapped to its installed components,
    /// from their observations (never empty). Problems (an unreadable package directory) are
    /// returned beside a report that is still true for the rest.
    fn observe(&self, observations: &[HookObservation]) -> (Observed, Vec<Problem>);
}

/// What a hook writes for one process: whatever it saw loaded, in the language's own terms.
/// Every field but `pid` may be missing from a hook that failed half-way.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct HookObservation {
    pub pid: u32,
    #[serde(default)]
    pub ppid: u32,
    #[serde(default)]
    pub argv: Vec<String>,
    /// The interpreter's executable.
    #[serde(default)]
    pub executable: PathBuf,
    /// The interpreter's version (`RUBY_VERSION`, `$^V`, `info patchlevel`).
    #[serde(default)]
    pub version: String,
    /// Seconds since the epoch.
    #[serde(default)]
    pub started: f64,
    /// Whether this is the process's last observation.
    #[serde(default)]
    pub exited: bool,
    /// Every file the program loaded (`$LOADED_FEATURES`, `%INC`, `source`d and `load`ed files).
    #[serde(default)]
    pub files: Vec<LoadedFile>,
    /// Packages the interpreter itself says are active (`Gem.loaded_specs`, Tcl's
    /// `package present`), when it knows.
    #[serde(default)]
    pub packages: Vec<ActivePackage>,
    /// Where the interpreter looks for code (`$LOAD_PATH`, `@INC`, `auto_path`).
    #[serde(default)]
    pub search_path: Vec<PathBuf>,
    /// Errors the hook caught and kept from the program.
    #[serde(default)]
    pub errors: u64,
    /// How enforcement went, when the process was given an enforcement table (Ruby).
    #[serde(default)]
    pub enforcement: Option<crate::python::runtime::HookEnforcement>,
    /// Loads refused (or that would have been, in monitor mode), in order.
    #[serde(default)]
    pub refusals: Vec<crate::python::runtime::HookRefusal>,
}

/// One loaded unit: its name in the language (`rack/request`, `LWP::UserAgent`) and its file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct LoadedFile {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub path: Option<PathBuf>,
}

/// A package the interpreter reports active, with where it is installed when it says.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ActivePackage {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub location: Option<PathBuf>,
}

impl HookObservation {
    /// The process as a report lists it.
    pub fn process(&self, modules_loaded: usize) -> ProcessInfo {
        ProcessInfo {
            pid: self.pid,
            parent_pid: self.ppid,
            started_at: rfc3339(self.started),
            argv: self.argv.clone(),
            executable: self.executable.clone(),
            modules_loaded,
            hook_errors: self.errors,
            exited: self.exited,
        }
    }
}

/// The file a process of `language` writes its observation to, in the session directory.
pub fn observation_file_name(language: Language, pid: u32) -> String {
    format!("{language}-{pid}.json")
}

/// Every observation of `language` in the session directory `session`, by pid; a file that is
/// not a valid observation is a problem naming it, and the others are still read.
pub fn read_observations(
    session: &Path,
    language: Language,
) -> (Vec<HookObservation>, Vec<Problem>) {
    let prefix = format!("{language}-");
    let mut observations = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = fs::read_dir(session) else {
        return (observations, problems);
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(&prefix) && name.ends_with(".json")) {
            continue;
        }
        let path = entry.path();
        match fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
        {
            Ok(observation) => observations.push(observation),
            Err(message) => problems.push(Problem {
                path,
                line: None,
                message: format!("not a {language} hook observation: {message}"),
            }),
        }
    }
    observations.sort_by_key(|o: &HookObservation| o.pid);
    (observations, problems)
}

/// `value` first, then what the variable `name` held in runbom's environment, joined by `sep`.
pub fn prepend_to_env(name: &str, value: &str, sep: &str) -> (OsString, OsString) {
    let joined = match std::env::var_os(name).filter(|v| !v.is_empty()) {
        Some(existing) => {
            let mut joined = OsString::from(value);
            joined.push(sep);
            joined.push(existing);
            joined
        }
        None => OsString::from(value),
    };
    (OsString::from(name), joined)
}

/// Writes `source` as `dir/file_name`, for [`Hook::install`].
pub fn write_hook_file(
    language: Language,
    dir: &Path,
    file_name: &str,
    source: &str,
) -> Result<PathBuf, HookError> {
    let path = dir.join(file_name);
    fs::create_dir_all(dir)
        .and_then(|()| fs::write(&path, source))
        .map_err(|source| HookError {
            language,
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_observation_and_names_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let good = r#"{"pid": 7, "ppid": 1, "argv": ["ruby", "app.rb"], "version": "3.1.2",
            "files": [{"name": "rack", "path": "/gems/rack-2.2/lib/rack.rb"}],
            "packages": [{"name": "rack", "version": "2.2.22"}], "exited": true}"#;
        fs::write(dir.path().join("ruby-7.json"), good).unwrap();
        fs::write(dir.path().join("ruby-9.json"), "{\"pid\": ").unwrap();
        fs::write(dir.path().join("perl-8.json"), "{\"pid\": 8}").unwrap();
        let (observations, problems) = read_observations(dir.path(), Language::Ruby);
        assert_eq!(observations.len(), 1);
        assert_eq!(observations[0].packages[0].version, "2.2.22");
        assert_eq!(observations[0].process(1).argv, ["ruby", "app.rb"]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].path.ends_with("ruby-9.json"));
        assert!(problems[0].message.contains("not a ruby hook observation"));
    }

    #[test]
    fn names_the_observation_file_by_language_and_pid() {
        assert_eq!(observation_file_name(Language::Perl, 42), "perl-42.json");
    }
}
