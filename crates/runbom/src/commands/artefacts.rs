//! Programs whose file is what runs (Go binaries), read through the language seam: one named on
//! the command line, or the one a runtime report says ran, for the functions linked into it.

use std::path::Path;
use std::sync::Arc;

use runbom_ecosystems::{Artefact, ObservedBy, Program, language_of};
use runbom_model::RuntimeReport;
use runbom_model::runtime::LinkedCode;

/// The artefact at `path`, which must be a program whose file is what runs.
pub fn artefact(path: &Path) -> anyhow::Result<Box<dyn Artefact>> {
    let program = Program::resolve(&path.to_string_lossy());
    match language_of(&program) {
        Some((module, file)) if module.observed_by() == ObservedBy::Artefact => {
            module.artefact(&file).map_err(anyhow::Error::from_boxed)
        }
        _ => anyhow::bail!(
            "`{}` is not a binary runbom reads as what runs (a Go executable)",
            path.display()
        ),
    }
}

/// The functions linked into the binary a report's program ran, when the report is of a
/// language whose artefact is what runs and that file is still here and still the same build.
pub fn linked_code_of_report(report: &RuntimeReport) -> Option<Arc<LinkedCode>> {
    let executable = &report.interpreter.executable;
    let program = Program::resolve(&executable.to_string_lossy());
    let (module, file) = language_of(&program)?;
    if module.observed_by() != ObservedBy::Artefact
        || module.language() != report.interpreter.language
    {
        return None;
    }
    let artefact = module.artefact(&file).ok()?;
    let same_build = artefact.interpreter().version == report.interpreter.version
        && artefact.components(None).len()
            == report
                .distributions
                .iter()
                .filter(|d| d.ecosystem == report.interpreter.language.ecosystem())
                .count();
    same_build
        .then(|| artefact.linked_code().map(Arc::new))
        .flatten()
}
