//! A live process read from outside (`runbom attach`, `runbom agent`): each language of
//! [`LANGUAGES`] is asked in turn whether the process is its own ([`LanguageModule::attach`]) and
//! says what it loaded; what any process shows — its executable, its memory maps, its working
//! directory — is the default answer, with the language's hook named as the way to full evidence.

use std::path::{Path, PathBuf};

use runbom_model::Language;
use runbom_model::runtime::{Attached, ProcessInfo, RuntimeInterpreter};

use crate::language::{Artefact, LANGUAGES, LanguageModule};
use crate::process::LiveProcess;
use crate::report::{Observed, rfc3339};

/// Why a live process's language module could not read it: its own error, with its causes.
pub type AttachFailure = Box<dyn std::error::Error + Send + Sync>;

/// What one language read of a live process.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub observed: Observed,
    /// What could not be read, and where fuller evidence comes from.
    pub notes: Vec<String>,
    /// The process is also observed by runbom's hook (how, e.g. its session directory): the
    /// hook's reports are the fuller evidence and win where both exist.
    pub hooked: Option<String>,
}

/// What `process` loaded, from the first language that says it is its own; `None` for a process
/// of no language runbom knows (a native program, a shell).
pub fn attach(
    process: &LiveProcess,
) -> Option<(
    &'static dyn LanguageModule,
    Result<Attachment, AttachFailure>,
)> {
    LANGUAGES
        .iter()
        .find_map(|module| module.attach(process).map(|result| (*module, result)))
}

/// The `attached` part of a report of `process`: by whom, from where, its shared objects.
pub fn attached(process: &LiveProcess, by: &str, notes: Vec<String>) -> Attached {
    Attached {
        by: by.to_owned(),
        cwd: process.cwd.clone(),
        shared_objects: process.shared_objects(),
        notes,
    }
}

/// The language whose interpreter `process` runs, by the executable's name (`ruby3.1`,
/// `perl5.36.0`, `tclsh8.6`, `python3.11`), and its version where the name or a mapped
/// `lib<language>` says it.
pub fn interpreter_of(process: &LiveProcess) -> Option<(Language, String)> {
    let name = process.executable.file_name()?.to_str()?;
    let (language, stem, lib) = [
        (Language::Python, "python", "libpython"),
        (Language::Ruby, "ruby", "libruby"),
        (Language::Perl, "perl", "libperl"),
        (Language::Tcl, "tclsh", "libtcl"),
        (Language::Tcl, "wish", "libtcl"),
    ]
    .into_iter()
    .find(|(_, stem, _)| {
        name.strip_prefix(stem)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
    })?;
    let from_name = name[stem.len()..].to_owned();
    let from_lib = process.shared_objects().iter().find_map(|p| {
        let file = p.file_name()?.to_str()?;
        let rest = file.strip_prefix(lib)?;
        let version: String = rest
            .trim_start_matches(".so.")
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let version = version.trim_matches('.').to_owned();
        (!version.is_empty()).then_some(version)
    });
    let version = from_lib
        .filter(|v| v.len() >= from_name.len())
        .unwrap_or(from_name);
    Some((language, version))
}

/// The process as the report's one process.
pub fn process_info(process: &LiveProcess, modules_loaded: usize) -> ProcessInfo {
    ProcessInfo {
        pid: process.pid,
        parent_pid: process.parent_pid,
        started_at: rfc3339(process.started_at),
        argv: process.argv.clone(),
        executable: process.executable.clone(),
        modules_loaded,
        hook_errors: 0,
        exited: false,
    }
}

/// What the maps and the executable show of a process of `language`: the interpreter and the
/// process, no components (its shared objects go in [`attached`]); `None` when the process's
/// interpreter is not `language`'s by name.
pub fn from_maps(language: Language, process: &LiveProcess) -> Option<Attachment> {
    let (found, version) = interpreter_of(process)?;
    if found != language {
        return None;
    }
    Some(maps_only(language, version, process))
}

/// What the maps and the executable show of a process of `language` (at `version`, when known).
pub fn maps_only(language: Language, version: String, process: &LiveProcess) -> Attachment {
    let note = format!(
        "only the executable and the memory maps of this {language} process were read; run it \
         under `runbom run` (its {language} hook) for what it loaded"
    );
    Attachment {
        observed: Observed {
            started_at: Some(rfc3339(process.started_at)),
            command: process.argv.clone(),
            interpreter: RuntimeInterpreter {
                language,
                executable: process.executable.clone(),
                implementation: process
                    .executable
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                version,
                prefix: process
                    .executable
                    .parent()
                    .and_then(Path::parent)
                    .map(Path::to_owned)
                    .unwrap_or_default(),
                build: Default::default(),
            },
            processes: vec![process_info(process, 0)],
            distributions: Vec::new(),
            stdlib_modules: Vec::new(),
            unowned_modules: Vec::new(),
            hook_errors: 0,
            enforcement: Vec::new(),
            refusals: Vec::new(),
        },
        notes: vec![note],
        hooked: hooked(process),
    }
}

/// What an artefact (a Go binary) that a live process runs says it is made of.
pub fn from_artefact(artefact: &dyn Artefact, process: &LiveProcess) -> Attachment {
    let mut interpreter = artefact.interpreter();
    interpreter.executable = process.executable.clone();
    let distributions = artefact.components(Some(process.pid));
    let loaded = distributions.iter().map(|d| d.modules.len()).sum();
    Attachment {
        observed: Observed {
            started_at: Some(rfc3339(process.started_at)),
            command: process.argv.clone(),
            interpreter,
            processes: vec![process_info(process, loaded)],
            distributions,
            stdlib_modules: Vec::new(),
            unowned_modules: Vec::new(),
            hook_errors: 0,
            enforcement: Vec::new(),
            refusals: Vec::new(),
        },
        notes: Vec::new(),
        hooked: hooked(process),
    }
}

/// How `process` is observed by runbom's hook, when it was started by `runbom run` (which gives
/// every process it starts `RUNBOM_SESSION_DIR`).
pub fn hooked(process: &LiveProcess) -> Option<String> {
    process
        .env("RUNBOM_SESSION_DIR")
        .filter(|dir| !dir.is_empty())
        .map(|dir| format!("started by `runbom run` (session `{dir}`)"))
}

/// `/proc/PID/exe`: the process's executable as it runs, even when its file was replaced.
pub fn executable_of(process: &LiveProcess) -> PathBuf {
    Path::new("/proc").join(process.pid.to_string()).join("exe")
}
