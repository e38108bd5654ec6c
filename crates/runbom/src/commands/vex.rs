//! `runbom vex`: matches the advisories in the store against what the runtime reports saw
//! installed (and the components of `--expected`), turns each match into a VEX statement backed
//! by the runtime evidence (`runbom_analysis::vex`), and writes CycloneDX VEX or OpenVEX; or,
//! with `--server`, fetches the VEX document a server makes of one application's live instances
//! and triage analyses.

use std::collections::BTreeSet;

use anyhow::Context;
use runbom_analysis::vex::vex_document;
use runbom_analysis::vulns::{self, Candidate, Component, Finding, components};
use runbom_model::sbom::Tool;
use runbom_model::vex::VexStatus;
use runbom_model::{Advisory, Ecosystem};
use runbom_store::Store;

use crate::cli::{VexArgs, VexFormat};
use crate::commands::artefacts::linked_code_of_report;
use crate::commands::sbom::write_output;
use crate::commands::{ExitStatus, open_store, runtime_reports};

pub fn run(args: &VexArgs) -> anyhow::Result<ExitStatus> {
    if let (Some(server), Some(app)) = (&args.server, &args.application) {
        return from_server(args, server, app);
    }
    let min_observation = args
        .min_observation
        .context("`--min-observation` is needed with `--runtime`")?;
    let reports = runtime_reports::read_all(&args.runtime)?;
    let observed_ecosystems: BTreeSet<Ecosystem> = reports
        .iter()
        .flat_map(|r| r.distributions.iter().map(|d| d.ecosystem))
        .collect();
    let mut found = Vec::new();
    for (path, report) in args.runtime.iter().zip(&reports) {
        let source = format!("runtime:{}", path.display());
        let linked = linked_code_of_report(report);
        found.extend(components::from_uses(
            &report.distributions,
            &source,
            linked,
        ));
    }
    if let Some(path) = &args.expected {
        let expected = super::expected::read(path)?;
        let (pinned, unpinned) = components::from_expected(&expected);
        for name in unpinned {
            eprintln!(
                "note: `{name}` in `{}` is not pinned to one version; no statement is made about it",
                path.display()
            );
        }
        found.extend(pinned);
    }
    let (observed, other): (Vec<Component>, Vec<Component>) = vulns::merge_components(found)
        .into_iter()
        .partition(|c| observed_ecosystems.contains(&c.ecosystem));
    for c in &other {
        eprintln!(
            "note: {} `{}` has no runtime evidence (no runtime report is of that ecosystem); no statement is made about it",
            c.ecosystem, c.name
        );
    }
    let (runtime, store) = open_store(&args.store)?;
    let findings = runtime.block_on(findings(&store, &observed))?;
    let document = vex_document(
        &reports,
        &findings,
        min_observation,
        Tool::runbom(env!("CARGO_PKG_VERSION")),
    )?;
    let count = |status| {
        document
            .statements
            .iter()
            .filter(|s| s.status == status)
            .count()
    };
    eprintln!(
        "{} statement(s): {} affected, {} not_affected, {} under_investigation",
        document.statements.len(),
        count(VexStatus::Affected),
        count(VexStatus::NotAffected),
        count(VexStatus::UnderInvestigation)
    );
    if document.statements.is_empty() && args.format == VexFormat::Openvex {
        eprintln!("note: no advisory matches; an OpenVEX document needs a statement, none written");
        return Ok(ExitStatus::Success);
    }
    let writer = runbom_sources::write::vex::vex_writer_by_name(args.format.writer())
        .context("no writer for this format")?;
    write_output(args.output.as_ref(), &writer.write(&document)?)?;
    Ok(ExitStatus::Success)
}

/// `--server URL --application APP`: the server's VEX document of the application, as it wrote
/// it (the analysis of every triaged finding in place of the computed state).
fn from_server(args: &VexArgs, server: &str, app: &str) -> anyhow::Result<ExitStatus> {
    let token = args
        .token
        .as_deref()
        .context("`--server` needs a token: `--token` or `RUNBOM_TOKEN`")?;
    let format = match args.format {
        VexFormat::Cyclonedx => "cyclonedx",
        VexFormat::Openvex => "openvex",
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let document = runtime
        .block_on(runbom_server::client::fetch_vex(server, token, app, format))
        .with_context(|| format!("cannot fetch the VEX document of `{app}`"))?;
    write_output(args.output.as_ref(), &document)?;
    Ok(ExitStatus::Success)
}

/// Every advisory finding of `components`, from the advisories the store holds for each.
async fn findings(store: &Store, components: &[Component]) -> anyhow::Result<Vec<Finding>> {
    let mut all = Vec::new();
    for component in components {
        let stored = store
            .advisories_for(component.ecosystem.as_str(), component.name.as_str())
            .await
            .context("cannot read advisories from the store")?;
        let records: Vec<(&Advisory, &[String])> = stored
            .iter()
            .flat_map(|s| {
                std::iter::once(&s.advisory)
                    .chain(&s.related_records)
                    .map(move |a| (a, s.ids.as_slice()))
            })
            .collect();
        let candidates: Vec<Candidate<'_>> = records
            .iter()
            .map(|(advisory, ids)| Candidate { advisory, ids })
            .collect();
        match vulns::match_component(component, &candidates) {
            Ok(found) => all.extend(found),
            Err(unchecked) => eprintln!(
                "note: {} {} not checked: {}",
                unchecked.package.name, unchecked.package.version, unchecked.error
            ),
        }
    }
    Ok(all)
}
