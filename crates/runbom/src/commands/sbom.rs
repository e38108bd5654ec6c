//! `runbom sbom`: reads runtime reports and the installed metadata of what they loaded, builds
//! the SBOM of what ran (`runbom_analysis::sbom`) and writes it with a `runbom_sources` writer.

use std::path::{Path, PathBuf};

use anyhow::Context;
use runbom_analysis::sbom::{DistributionFacts, Facts, runtime_sbom};
use runbom_ecosystems::python::{integrity, query_interpreter, read_inventory};
use runbom_model::inventory::Inventory;
use runbom_model::sbom::{Sbom, Tool};
use runbom_model::{Ecosystem, RuntimeReport};

use crate::cli::SbomArgs;
use crate::commands::components::report_inventory;
use crate::commands::{ExitStatus, runtime_reports};

pub fn run(args: &SbomArgs) -> anyhow::Result<ExitStatus> {
    let reports = runtime_reports::read_all(&args.runtime)?;
    let sbom = build(&reports, args.python.as_deref())?;
    let writer = runbom_sources::write::writer_by_name(args.format.writer())
        .context("no writer for this format")?;
    let text = writer.write(&sbom)?;
    write_output(args.output.as_ref(), &text)?;
    Ok(ExitStatus::Success)
}

/// The SBOM of what `reports` loaded, with licences and archive hashes from `python`'s installed
/// distributions, or else from the site directories the reports name. Also used by `attest`.
pub(crate) fn build(reports: &[RuntimeReport], python: Option<&Path>) -> anyhow::Result<Sbom> {
    let inventories: Vec<Inventory> = match python {
        Some(python) => vec![read_inventory(&query_interpreter(python)?, &[])],
        None => reports.iter().map(report_inventory).collect(),
    };
    let mut facts = facts(&inventories);
    add_gem_facts(reports, &mut facts);
    Ok(runtime_sbom(
        reports,
        &facts,
        Tool::runbom(env!("CARGO_PKG_VERSION")),
    )?)
}

/// Licences and archive hashes of every distribution the inventories hold (the first wins).
fn facts(inventories: &[Inventory]) -> Facts {
    let mut facts = Facts::new();
    for dist in inventories.iter().flat_map(Inventory::active) {
        facts
            .entry((
                Ecosystem::PyPi,
                dist.normalized_name.clone(),
                dist.version.clone(),
            ))
            .or_insert_with(|| DistributionFacts {
                license: dist.license.clone(),
                archive_hashes: integrity::archive_hashes(dist)
                    .map(|a| a.hashes)
                    .unwrap_or_default(),
            });
    }
    facts
}

/// The licences of the reports' gems, from their gemspecs where they are installed (a list in a
/// gemspec means any one of them: `OR`).
fn add_gem_facts(reports: &[RuntimeReport], facts: &mut Facts) {
    let gems = reports
        .iter()
        .flat_map(|r| &r.distributions)
        .filter(|d| d.ecosystem == runbom_model::Ecosystem::RubyGems && d.loaded());
    for gem in gems {
        let Some(licenses) = runbom_ecosystems::ruby::declared_licenses(&gem.location) else {
            continue;
        };
        if licenses.is_empty() {
            continue;
        }
        facts
            .entry((
                Ecosystem::RubyGems,
                gem.normalized_name.clone(),
                gem.version.clone(),
            ))
            .or_insert_with(|| DistributionFacts {
                license: runbom_model::inventory::LicenseSources {
                    expression: Some(licenses.join(" OR ")),
                    ..Default::default()
                },
                archive_hashes: Vec::new(),
            });
    }
}

/// Writes `text` to `path`, or to stdout without one.
pub(crate) fn write_output(path: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}
