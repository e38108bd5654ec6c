//! What the hook languages (Ruby, Perl, Tcl) observed in a session directory, and one report of
//! a session from Python's observations and theirs; shared by `runbom run` and `runbom hook
//! flush`, so that an installed hook's report is built exactly as a `runbom run`'s.

use std::path::Path;

use runbom_ecosystems::hook::read_observations;
use runbom_ecosystems::python::runtime::Session;
use runbom_ecosystems::report::{Observed, ReportContext};
use runbom_ecosystems::{Hook, LANGUAGES};
use runbom_model::{Language, RuntimeReport};

/// Every language observed by a hook of its own, with it.
pub fn hook_languages() -> impl Iterator<Item = (Language, &'static dyn Hook)> {
    LANGUAGES
        .iter()
        .filter_map(|module| Some((module.language(), module.hook()?)))
}

/// What each of `languages` observed in `dir` so far, for those of which any process ran;
/// unreadable observations and package directories are warnings on stderr.
pub fn observed_by_hooks(
    dir: &Path,
    languages: impl IntoIterator<Item = (Language, &'static dyn Hook)>,
) -> Vec<Observed> {
    let mut observed = Vec::new();
    for (language, hook) in languages {
        let (observations, problems) = read_observations(dir, language);
        for problem in &problems {
            warn(&problem.path, &problem.message);
        }
        if observations.is_empty() {
            continue;
        }
        let (seen, problems) = hook.observe(&observations);
        for problem in &problems {
            warn(&problem.path, &problem.message);
        }
        observed.push(seen);
    }
    observed
}

/// The session's report: Python's when it observed anything (or nothing else did), with what
/// the others observed added to it; else the first other's (a Go program that started Ruby has
/// both in its report).
pub fn merged_report(
    session: &mut Session,
    python: &Path,
    context: ReportContext,
    mut others: Vec<Observed>,
) -> anyhow::Result<RuntimeReport> {
    let mut report = if session.observed_any() || others.is_empty() {
        let (report, problems) = session.report(python, context)?;
        for problem in problems {
            warn(&problem.path, &problem.message);
        }
        report
    } else {
        let mut context = context;
        if context.session_id.is_empty() {
            // Python's report names its session itself; here the session is named for it.
            context.session_id = session.id().to_owned();
        }
        context.report(others.remove(0))
    };
    for observed in others {
        observed.add_to(&mut report);
    }
    Ok(report)
}

pub fn warn(path: &Path, message: &str) {
    eprintln!("runbom: warning: {}: {message}", path.display());
}
