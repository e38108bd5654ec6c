//! What a program really loaded while it ran: the runtime report (`runbom.runtime-report/v2`,
//! see `docs/reference/runtime-report.md`), the same for every language. A language's hook
//! records what was loaded (Python: module names and files; Go: the binary is what runs) and its
//! module of `runbom-ecosystems` maps that to components.
//!
//! v2 added the instance's `interpreter.language` and each component's `ecosystem`; a v1 report
//! (Python only) reads as v2 with `python` and `PyPI`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::enforce::{EnforcementState, Refusal};
use crate::{Ecosystem, Language, PackageName};

/// The `schema` value of every runtime report this version writes.
pub const RUNTIME_REPORT_SCHEMA: &str = "runbom.runtime-report/v2";

/// Every `schema` value this version reads: v1 is v2 without languages (all Python).
pub const RUNTIME_REPORT_SCHEMAS_READ: [&str; 2] =
    ["runbom.runtime-report/v1", RUNTIME_REPORT_SCHEMA];

/// Whether a report of `schema` can be read by this version.
pub fn reads_schema(schema: &str) -> bool {
    RUNTIME_REPORT_SCHEMAS_READ.contains(&schema)
}

/// One observation window of one application: a `runbom run`, or one flush of an installed hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeReport {
    pub schema: String,
    /// Unique per report; a server stores a report once however often it is sent.
    pub report_id: String,
    /// Stable for one observed program run across its periodic reports.
    pub session_id: String,
    /// 0 for the first report of a session, then 1, 2 … for later flushes.
    #[serde(default)]
    pub sequence: u64,
    /// True for the last report of a session (the program has exited).
    #[serde(default)]
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub host: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC: when this report was written.
    pub reported_at: String,
    /// The command as given to `runbom run` (or the first process's argv).
    pub command: Vec<String>,
    /// The exit status of the command, when it has exited and was run by `runbom run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub interpreter: RuntimeInterpreter,
    /// Every process observed: the program and its children.
    pub processes: Vec<ProcessInfo>,
    /// Every installed component (a Python distribution, a Go module …), loaded or not, sorted
    /// by ecosystem, normalised name, then version.
    pub distributions: Vec<DistributionUse>,
    /// Standard-library and built-in modules that were loaded, sorted (Python).
    pub stdlib_modules: Vec<String>,
    /// Loaded modules that belong to no installed distribution: first-party or unknown code.
    pub unowned_modules: Vec<LoadedModule>,
    /// Errors swallowed inside the hook, summed over all processes; never hidden.
    #[serde(default)]
    pub hook_errors: u64,
    /// Present when the process was read from outside (`runbom attach`, `runbom agent`) rather
    /// than observed by a hook inside it: what was read and what could not be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached: Option<Attached>,
    /// How enforcement went in each process that had an enforcement table (or was told to, and
    /// could not load it, or had it turned off by the break-glass variable); empty without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enforcement: Vec<EnforcementState>,
    /// Imports refused (or, in monitor mode, that would have been), in the order they happened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<Refusal>,
}

/// How a report of a live process read from outside was made: by whom, from where, and what of
/// the process only its memory maps show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attached {
    /// `attach` (one `runbom attach`) or `agent` (a host agent's scan).
    pub by: String,
    /// The process's working directory when it was read.
    #[serde(default)]
    pub cwd: PathBuf,
    /// Every shared object mapped into the process (`/proc/PID/maps`), sorted: the interpreter,
    /// its library, native extensions and the system libraries they use.
    #[serde(default)]
    pub shared_objects: Vec<PathBuf>,
    /// What could not be read, or where fuller evidence comes from (a language's hook).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl RuntimeReport {
    /// The distributions some process of this report loaded.
    pub fn loaded(&self) -> impl Iterator<Item = &DistributionUse> {
        self.distributions.iter().filter(|d| d.loaded())
    }

    /// The installed distributions no process of this report loaded.
    pub fn not_loaded(&self) -> impl Iterator<Item = &DistributionUse> {
        self.distributions.iter().filter(|d| !d.loaded())
    }
}

/// The runtime the program ran on: an interpreter, or for Go the binary itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeInterpreter {
    /// Absent in v1 reports, which are all Python.
    #[serde(default)]
    pub language: Language,
    pub executable: PathBuf,
    /// `sys.implementation.name` (`cpython`); `gc` for a Go binary.
    pub implementation: String,
    /// e.g. `3.11.7`; for Go the toolchain that built the binary, e.g. `go1.19.8`.
    pub version: String,
    /// `sys.prefix`; for Go the binary's directory.
    pub prefix: PathBuf,
    /// How the artefact was built, for a Go binary: the build settings that say what source it
    /// is and for which platform (`vcs.revision`, `vcs.modified`, `GOOS`, `CGO_ENABLED`,
    /// `-trimpath` …), never `-ldflags`, which may carry values set at link time.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub build: BTreeMap<String, String>,
}

/// One process the hook observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: u32,
    /// The parent's pid, as the process saw it at start.
    pub parent_pid: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// `sys.argv` (for `python -m pkg` the module is in `argv[0]` as Python sets it).
    pub argv: Vec<String>,
    pub executable: PathBuf,
    /// How many modules this process loaded (stdlib, distributions and unowned).
    pub modules_loaded: usize,
    /// Errors swallowed inside this process's hook.
    pub hook_errors: u64,
    /// False when the process had not flushed its last observation (still running or killed).
    pub exited: bool,
}

/// One installed component (a Python distribution, a Go module of a binary …) and what of it was
/// loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionUse {
    /// Absent in v1 reports, which are all PyPI.
    #[serde(default = "pypi")]
    pub ecosystem: Ecosystem,
    /// As the package names itself (METADATA `Name`, a Go module path).
    pub name: String,
    pub normalized_name: PackageName,
    pub version: String,
    /// `pkg:<type>/<name>@<version>`.
    pub purl: String,
    /// Where it is installed (a site directory; the Go binary that contains it).
    pub location: PathBuf,
    /// Bytes on disk (the sum of RECORD sizes); 0 when unknown.
    pub size: u64,
    /// `Requires-Dist` as written in METADATA (PEP 508), so that a report alone tells why a
    /// distribution is installed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_dist: Vec<String>,
    /// The checksum the build verified its source against, as `go.sum` writes it (`h1:…`, a Go
    /// module's dirhash), when the artefact records one; absent for other ecosystems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// What of it was loaded (Python modules, Go packages), sorted by name; empty if never
    /// loaded.
    pub modules: Vec<LoadedModule>,
}

fn pypi() -> Ecosystem {
    Ecosystem::PyPi
}

impl DistributionUse {
    pub fn loaded(&self) -> bool {
        !self.modules.is_empty()
    }

    /// A Ruby default gem: shipped with the interpreter, its code in Ruby's own library, its
    /// location the specification under `specifications/default/`. Bundler lists one in
    /// `Gemfile.lock` only when a Gemfile asks for it.
    pub fn is_default_gem(&self) -> bool {
        self.ecosystem == Ecosystem::RubyGems
            && self
                .location
                .parent()
                .is_some_and(|dir| dir.ends_with("specifications/default"))
    }
}

/// The code linked into a binary whose file is what runs (Go): every function, named as
/// vulnerability databases name symbols (`golang.org/x/net/html.Render`, `pkg.T.Method`), and
/// the platform it was built for (an advisory may name symbols for one `GOOS`/`GOARCH` only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkedCode {
    /// e.g. `linux`, `windows`, `darwin`.
    pub os: String,
    /// e.g. `amd64`, `arm64`.
    pub arch: String,
    /// Sorted, each once.
    pub symbols: Vec<String>,
}

/// One loaded module and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadedModule {
    /// Dotted module name, e.g. `yaml.constructor`.
    pub name: String,
    /// `__file__`; `None` for namespace packages and modules without a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The pids of the processes that loaded it, sorted.
    pub pids: Vec<u32>,
    /// The file's state against its distribution's RECORD when the report was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<FileIntegrity>,
}

/// A loaded file held against the hash its distribution's RECORD lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum FileIntegrity {
    /// The sha256 on disk equals RECORD's.
    Verified { sha256: String },
    /// The sha256 on disk differs from RECORD's: the file was changed after install.
    Mismatch { sha256: String, recorded: String },
    /// RECORD lists the file without a hash, or the file is not in RECORD.
    Unrecorded { sha256: String },
    /// The file could not be read.
    Unreadable { error: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_component_is_pypi_and_a_v1_interpreter_python() {
        let dist: DistributionUse = serde_json::from_value(serde_json::json!({
            "name": "PyYAML", "normalized_name": "pyyaml", "version": "6.0",
            "purl": "pkg:pypi/pyyaml@6.0", "location": "/site", "size": 1, "modules": []
        }))
        .unwrap();
        assert_eq!(dist.ecosystem, Ecosystem::PyPi);
        let interpreter: RuntimeInterpreter = serde_json::from_value(serde_json::json!({
            "executable": "/usr/bin/python3", "implementation": "cpython",
            "version": "3.11.7", "prefix": "/usr"
        }))
        .unwrap();
        assert_eq!(interpreter.language, Language::Python);
        assert!(reads_schema("runbom.runtime-report/v1") && reads_schema(RUNTIME_REPORT_SCHEMA));
        assert!(!reads_schema("runbom.runtime-report/v3"));
    }

    #[test]
    fn integrity_serializes_with_a_status_tag() {
        let json = serde_json::to_value(FileIntegrity::Mismatch {
            sha256: "ab".into(),
            recorded: "cd".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"status": "mismatch", "sha256": "ab", "recorded": "cd"})
        );
    }
}
