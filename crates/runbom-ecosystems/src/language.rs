//! The seam every language plugs into. A language is one module of this crate that answers the
//! same few questions — which programs are its own, and how a running one is observed — and is
//! listed once in [`LANGUAGES`]. Its names, PURL type and OSV ecosystem follow from its
//! [`Language`] (`Language::ecosystem`, `PackageName::new`, `Ecosystem::purl_type`), so that
//! nothing downstream of a runtime report needs to know a language by name.

use std::path::{Path, PathBuf};

use runbom_model::Language;
use runbom_model::runtime::{DistributionUse, LinkedCode, RuntimeInterpreter};

use crate::attach::{AttachFailure, Attachment};
use crate::hook::Hook;
use crate::process::LiveProcess;
use crate::program::Program;

/// How a running program of a language is observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObservedBy {
    /// A small hook in the language itself, loaded by the interpreter from the environment
    /// (`PYTHONPATH`, `RUBYOPT`, `PERL5OPT` …) or by a wrapper of the command (Tcl), reports what
    /// the program loads. Every process of the language started under `runbom run` is observed,
    /// children included where the environment carries the hook.
    Hook,
    /// The artefact is what runs: a Go binary carries the list of what it was built from.
    Artefact,
}

/// One language, as the rest of runbom sees it.
pub trait LanguageModule: Sync + std::fmt::Debug {
    fn language(&self) -> Language;

    fn observed_by(&self) -> ObservedBy;

    /// The file that runs `program` when it is this language's: its interpreter (the program
    /// itself, or the one its shebang names) or, for an artefact, the program's own file.
    fn runs(&self, program: &Program) -> Option<PathBuf>;

    /// The hook of a language observed by one in the language itself, other than Python's
    /// (whose `sitecustomize` keeps its own session, `python::runtime`); `None` otherwise.
    fn hook(&self) -> Option<&dyn Hook> {
        None
    }

    /// What the live `process` has loaded, read from outside without stopping it (`runbom
    /// attach`, `runbom agent`), when it is one of this language's; `None` when it is not. By
    /// default what its executable and memory maps show, for a process whose interpreter is this
    /// language's by name ([`crate::attach::from_maps`]).
    fn attach(&self, process: &LiveProcess) -> Option<Result<Attachment, AttachFailure>> {
        crate::attach::from_maps(self.language(), process).map(Ok)
    }

    /// The artefact at `path` (the file [`runs`](Self::runs) gave), read, for a language
    /// observed by its [`ObservedBy::Artefact`]. The error says why it cannot be read.
    fn artefact(&self, path: &Path) -> Result<Box<dyn Artefact>, ArtefactError> {
        Err(format!(
            "`{}`: {} programs are observed by a hook, not read as artefacts",
            path.display(),
            self.language()
        )
        .into())
    }
}

/// Why an artefact could not be read: the language module's own error, with its causes.
pub type ArtefactError = Box<dyn std::error::Error + Send + Sync>;

/// A program whose file is what runs (a Go binary), read once before it starts.
pub trait Artefact: Send + std::fmt::Debug {
    /// The runtime the report names: the language, the file, the toolchain that built it.
    fn interpreter(&self) -> RuntimeInterpreter;

    /// Its components, each loaded by the process `pid` (when known).
    fn components(&self, pid: Option<u32>) -> Vec<DistributionUse>;

    /// The code linked in (see [`LinkedCode`]); `None` when the artefact's function table could
    /// not be read.
    fn linked_code(&self) -> Option<LinkedCode>;
}

/// Every language runbom knows, in the order a command is tried against them.
pub static LANGUAGES: &[&dyn LanguageModule] = &[
    &crate::python::Python,
    &crate::go::Go,
    &crate::ruby::Ruby,
    &crate::perl::Perl,
    &crate::tcl::Tcl,
];

/// The language whose program `program` is, and the file that runs it.
pub fn language_of(program: &Program) -> Option<(&'static dyn LanguageModule, PathBuf)> {
    LANGUAGES
        .iter()
        .find_map(|module| module.runs(program).map(|runner| (*module, runner)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_is_listed_once() {
        let mut languages: Vec<Language> = LANGUAGES.iter().map(|m| m.language()).collect();
        let listed = languages.len();
        languages.sort();
        languages.dedup();
        assert_eq!(languages.len(), listed);
    }

    #[test]
    fn a_python_command_is_python() {
        let program = Program::resolve("/usr/bin/python3.11");
        let (module, runner) = language_of(&program).expect("python");
        assert_eq!(module.language(), Language::Python);
        assert_eq!(runner, PathBuf::from("/usr/bin/python3.11"));
        assert!(language_of(&Program::resolve("/no/such/tool")).is_none());
    }
}
