//! The SBOM of what ran: every distribution some runtime report saw loaded, with the evidence of
//! it (the modules imported, the files they came from and how those files compare with RECORD),
//! licences resolved from METADATA, and the archive hashes the installer kept.
//!
//! Traps: distributions installed but never loaded are not in it (they did not run). The same
//! distribution seen by many reports is one component whose evidence is the union. Timestamp and
//! serial number come from the reports, not the clock, so the same reports give the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use runbom_model::expected::ComponentHash;
use runbom_model::inventory::LicenseSources;
use runbom_model::runtime::{DistributionUse, FileIntegrity};
use runbom_model::sbom::{
    BomRefs, Evidence, IdentityMethod, Occurrence, Sbom, SbomComponent, Subject, Technique, Tool,
};
use runbom_model::{Ecosystem, PackageName, RuntimeReport};

use crate::licenses::resolve;
use crate::observation::{ObservationError, ObservationWindow, utc_seconds};

/// What the installed metadata says of one distribution (name and version as keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistributionFacts {
    pub license: LicenseSources,
    /// The archive hashes `direct_url.json` kept, if any.
    pub archive_hashes: Vec<ComponentHash>,
}

/// Facts by (ecosystem, normalised name, version): a gem and a PyPI distribution of the same
/// name are two components.
pub type Facts = BTreeMap<(Ecosystem, PackageName, String), DistributionFacts>;

/// Why no SBOM could be built.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("no runtime report given: an SBOM of what ran needs at least one")]
    NoReports,
    #[error(transparent)]
    Time(#[from] ObservationError),
}

/// One distribution as every report saw it.
#[derive(Default)]
struct Seen<'a> {
    uses: Vec<&'a DistributionUse>,
    reports: BTreeSet<&'a str>,
}

/// The SBOM of the distributions `reports` saw loaded, sorted by ecosystem, name, version.
pub fn runtime_sbom(
    reports: &[RuntimeReport],
    facts: &Facts,
    tool: Tool,
) -> Result<Sbom, SbomError> {
    let window = ObservationWindow::of(reports)?.ok_or(SbomError::NoReports)?;
    let mut seen: BTreeMap<(Ecosystem, PackageName, String), Seen<'_>> = BTreeMap::new();
    for report in reports {
        for dist in report.loaded() {
            let entry = seen
                .entry((
                    dist.ecosystem,
                    dist.normalized_name.clone(),
                    dist.version.clone(),
                ))
                .or_default();
            entry.uses.push(dist);
            entry.reports.insert(&report.report_id);
        }
    }
    let mut refs = BomRefs::default();
    let components = seen
        .iter()
        .map(|(key, seen)| component(seen, facts.get(key), &mut refs))
        .collect();
    Ok(Sbom {
        serial_number: window.serial_number("runbom sbom"),
        timestamp: utc_seconds(window.to),
        tool,
        subject: Subject::of_reports(reports),
        components,
    })
}

fn component(
    seen: &Seen<'_>,
    facts: Option<&DistributionFacts>,
    refs: &mut BomRefs,
) -> SbomComponent {
    let first = seen.uses[0];
    let license = facts.map(|f| resolve(&f.license));
    let licenses = license
        .as_ref()
        .and_then(|l| l.spdx().or(l.raw()).map(str::to_owned))
        .into_iter()
        .collect();
    SbomComponent {
        bom_ref: refs.unique(first.purl.clone()),
        name: first.name.clone(),
        version: Some(first.version.clone()),
        purl: Some(first.purl.clone()),
        hashes: facts.map(|f| f.archive_hashes.clone()).unwrap_or_default(),
        licenses,
        evidence: Some(evidence(seen)),
    }
}

fn evidence(seen: &Seen<'_>) -> Evidence {
    let mut modules = BTreeSet::new();
    let mut pids = BTreeSet::new();
    let mut occurrences: BTreeMap<(String, String), Occurrence> = BTreeMap::new();
    for dist in &seen.uses {
        for module in &dist.modules {
            modules.insert(module.name.as_str());
            pids.extend(module.pids.iter().copied());
            let Some(file) = &module.file else { continue };
            let location = file.display().to_string();
            let (sha256, integrity) = integrity(module.integrity.as_ref());
            occurrences
                .entry((location.clone(), module.name.clone()))
                .or_insert(Occurrence {
                    location,
                    module: module.name.clone(),
                    sha256,
                    integrity,
                });
        }
    }
    let first = seen.uses[0];
    let mut methods = vec![
        IdentityMethod {
            technique: Technique::Instrumentation,
            confidence: 1.0,
            value: format!(
                "imported by {} process(es) in {} runtime report(s) ({}): {}",
                pids.len(),
                seen.reports.len(),
                seen.reports.iter().copied().collect::<Vec<_>>().join(", "),
                modules.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        },
        IdentityMethod {
            technique: Technique::ManifestAnalysis,
            confidence: 1.0,
            value: format!(
                "installed metadata of {} {} in {}",
                first.name,
                first.version,
                first.location.display()
            ),
        },
    ];
    let checked: Vec<&Occurrence> = occurrences
        .values()
        .filter(|o| o.integrity.is_some())
        .collect();
    if !checked.is_empty() {
        let verified = checked
            .iter()
            .filter(|o| o.integrity.as_deref() == Some("verified"))
            .count();
        methods.push(IdentityMethod {
            technique: Technique::HashComparison,
            confidence: verified as f64 / checked.len() as f64,
            value: format!(
                "{verified} of {} loaded file(s) match the sha256 in RECORD",
                checked.len()
            ),
        });
    }
    Evidence {
        confidence: 1.0,
        methods,
        occurrences: occurrences.into_values().collect(),
    }
}

fn integrity(state: Option<&FileIntegrity>) -> (Option<String>, Option<String>) {
    match state {
        Some(FileIntegrity::Verified { sha256 }) => {
            (Some(sha256.clone()), Some("verified".to_owned()))
        }
        Some(FileIntegrity::Mismatch { sha256, recorded }) => (
            Some(sha256.clone()),
            Some(format!("mismatch (RECORD has {recorded})")),
        ),
        Some(FileIntegrity::Unrecorded { sha256 }) => {
            (Some(sha256.clone()), Some("unrecorded".to_owned()))
        }
        Some(FileIntegrity::Unreadable { error }) => (None, Some(format!("unreadable: {error}"))),
        None => (None, None),
    }
}

#[cfg(test)]
pub(crate) mod tests;
