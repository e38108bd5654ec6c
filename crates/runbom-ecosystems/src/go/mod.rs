//! Go: a Go binary carries the list of modules it was built from (its buildinfo) and the names of
//! every function linked into it (its pclntab), so the artefact is what runs. This module reads
//! both, names the binary's components (the main module, every dependency, the standard library
//! as `stdlib`) and says which of their packages are linked in.

pub mod binary;
pub mod buildinfo;
pub mod expected;
pub mod inventory;
pub mod symbols;

use std::path::{Path, PathBuf};

use runbom_model::Language;

use crate::attach::{AttachFailure, Attachment};
use crate::language::{Artefact, ArtefactError, LanguageModule, ObservedBy};
use crate::process::LiveProcess;
use crate::program::Program;

pub use binary::GoBinary;

/// Go behind the language seam: observed through the binary itself.
#[derive(Debug)]
pub struct Go;

impl LanguageModule for Go {
    fn language(&self) -> Language {
        Language::Go
    }

    fn observed_by(&self) -> ObservedBy {
        ObservedBy::Artefact
    }

    /// The program's own file, when it is an executable with Go build information.
    fn runs(&self, program: &Program) -> Option<PathBuf> {
        let path = program.path.as_ref()?;
        if program.interpreter.is_some() || !binary::looks_native(path) {
            return None;
        }
        buildinfo::read_file(path).ok().map(|_| path.clone())
    }

    /// A process whose executable carries Go build information: the binary is what runs. One
    /// stripped of its build information but with a Go function table (esbuild's releases since
    /// 0.2x) is still a Go process: its packages are named, its modules are not known.
    fn attach(&self, process: &LiveProcess) -> Option<Result<Attachment, AttachFailure>> {
        let exe = crate::attach::executable_of(process);
        if !binary::looks_native(&exe) {
            return None;
        }
        if buildinfo::read_file(&exe).is_err() {
            return without_build_information(&exe, process).map(Ok);
        }
        Some(
            GoBinary::open(&exe)
                .map(|binary| crate::attach::from_artefact(&binary, process))
                .map_err(Into::into),
        )
    }

    fn artefact(&self, path: &Path) -> Result<Box<dyn Artefact>, ArtefactError> {
        Ok(Box::new(GoBinary::open(path)?))
    }
}

/// A Go binary without build information, known by its function table: the process, and a note
/// of the packages linked in; no components (their modules and versions are not recorded).
fn without_build_information(exe: &Path, process: &LiveProcess) -> Option<Attachment> {
    let file = buildinfo::open_bounded(exe).ok()?;
    let functions = symbols::function_names(&file).ok()?;
    let packages = symbols::packages(&functions);
    let mut attachment = crate::attach::maps_only(Language::Go, String::new(), process);
    attachment.notes = vec![format!(
        "a Go binary without build information: the modules it was built from and their \
         versions are not recorded in it; its function table names {} packages (e.g. {})",
        packages.len(),
        packages
            .iter()
            .filter(|p| p.split('/').next().is_some_and(|host| host.contains('.')))
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )];
    attachment.observed.interpreter.implementation = "gc".to_owned();
    Some(attachment)
}

#[cfg(test)]
mod fuzz;
