//! `runbom audit`: gathers components (installed environment, runtime reports, expected
//! inventories), matches each against the store's advisories with `runbom_analysis::vulns`,
//! applies `runbom.toml`'s `[advisories]` (severity threshold, ignores with expiry), ranks loaded
//! before not loaded, then by severity, and writes a table, JSON (`runbom.audit/v1`) or SARIF.

mod json;
mod sarif;
mod table;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use runbom_analysis::severity::SeverityLevel;
use runbom_analysis::vulns::{
    self, Candidate, Component, Finding, Ignore, Unchecked, apply_ignores, components,
    merge_components, rank,
};
use runbom_config::Config;
use runbom_config::policy::{Date, Severity as ConfigSeverity};
use runbom_ecosystems::python::{Detail, query_interpreter, read_inventory_with};
use runbom_model::Ecosystem;
use runbom_model::inventory::Interpreter;
use runbom_store::{Connections, StoredAdvisory};

use crate::cli::{AuditArgs, FindingsFormat};
use crate::commands::artefacts::{artefact, linked_code_of_report};
use crate::commands::config::load_project_config;
use crate::commands::{ExitStatus, open_store_with, runtime_reports, today};

/// Everything one audit looked at and found, for the writers.
#[derive(Debug)]
pub struct AuditOutcome {
    /// One line per input (`installed: /usr/bin/python3`, `runtime report: r.json` …).
    pub inputs: Vec<String>,
    /// Components audited (after merging the same version seen by several inputs).
    pub components: usize,
    /// Ranked findings; ignored ones included (marked), those below the threshold left out.
    pub findings: Vec<Finding>,
    /// Components whose version could not be compared.
    pub unchecked: Vec<Unchecked>,
    /// Expected components without an exact pin, by name: they cannot be audited.
    pub unpinned: Vec<String>,
    /// Findings left out for being below `[advisories] severity-threshold`.
    pub below_threshold: usize,
    /// Ignores from `runbom.toml` whose expiry day has passed.
    pub expired_ignores: Vec<Ignore>,
    /// The `--fail-on` level, if any.
    pub fail_on: Option<SeverityLevel>,
    /// Ecosystems no advisory source covers (Tcl), with how many components of each could not
    /// be audited for that reason.
    pub uncovered: Vec<(Ecosystem, usize)>,
}

impl AuditOutcome {
    /// Findings not hidden by a live ignore.
    pub fn open(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.is_ignored())
    }

    /// Whether a finding sets exit status 1: any open finding, or with `--fail-on` those at or
    /// above it (unknown severity counts: it cannot be shown to be below).
    pub fn fails(&self, finding: &Finding) -> bool {
        !finding.is_ignored()
            && match (self.fail_on, &finding.severity) {
                (None, _) | (Some(_), None) => true,
                (Some(level), Some(severity)) => severity.level >= level,
            }
    }
}

pub fn run(args: &AuditArgs) -> anyhow::Result<ExitStatus> {
    let fail_on = args
        .fail_on
        .as_deref()
        .map(str::parse::<SeverityLevel>)
        .transpose()
        .context("--fail-on")?;
    let config = load_project_config(args.config.as_deref())?;
    let mut gathered = gather(args)?;
    // One query after another: one connection.
    let (runtime, store) = open_store_with(&args.store, Connections::One)?;
    let mut uncovered: BTreeMap<Ecosystem, usize> = BTreeMap::new();
    for component in &gathered.components {
        if !component.ecosystem.has_advisory_source() {
            *uncovered.entry(component.ecosystem).or_default() += 1;
        }
    }
    // Components of ecosystems no advisory source covers need no store to be told so.
    let needs_store = gathered.components.is_empty()
        || gathered
            .components
            .iter()
            .any(|c| c.ecosystem.has_advisory_source());
    if needs_store && !runtime.block_on(store.has_sources())? {
        anyhow::bail!(
            "the advisory store is empty: run `runbom db update` or `runbom db import PATH` first"
        );
    }
    let packages: Vec<(&str, &str)> = gathered
        .components
        .iter()
        .map(|c| (c.ecosystem.as_str(), c.name.as_str()))
        .collect();
    // Only the records whose ranges may hold each component's version are read in full.
    let stored = runtime.block_on(
        store.advisories_for_packages_where(&packages, |i, entries| {
            vulns::may_affect(&gathered.components[i], entries)
        }),
    )?;
    let mut findings = Vec::new();
    let mut unchecked = Vec::new();
    for (component, stored) in gathered.components.iter().zip(&stored) {
        match findings_of(component, stored) {
            Ok(found) => findings.extend(found),
            Err(error) => unchecked.push(error),
        }
    }
    let (ignores, threshold) = advisories_policy(config.as_ref());
    let today = today();
    let today = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let below_threshold = drop_below(&mut findings, threshold);
    apply_ignores(&mut findings, &ignores, &today);
    rank(&mut findings);
    let expired_ignores = ignores
        .into_iter()
        .filter(|i| i.expires.as_deref().is_some_and(|day| day < today.as_str()))
        .collect();
    let outcome = AuditOutcome {
        inputs: std::mem::take(&mut gathered.inputs),
        components: gathered.components.len(),
        findings,
        unchecked,
        unpinned: gathered.unpinned,
        below_threshold,
        expired_ignores,
        fail_on,
        uncovered: uncovered.into_iter().collect(),
    };
    // JSON and SARIF carry no colour: their bytes need no pass that strips escapes.
    let mut out: Box<dyn Write> = match args.format {
        FindingsFormat::Table => Box::new(std::io::BufWriter::new(anstream::stdout().lock())),
        FindingsFormat::Json | FindingsFormat::Sarif => {
            Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
        }
    };
    match args.format {
        FindingsFormat::Table => table::write(&mut out, &outcome)?,
        FindingsFormat::Json => json::write(&mut out, &outcome)?,
        FindingsFormat::Sarif => sarif::write(&mut out, &outcome)?,
    }
    out.flush()?;
    Ok(if outcome.findings.iter().any(|f| outcome.fails(f)) {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

/// The findings of one component against every record the store has for its package (merged
/// vulnerabilities bring their related records and all their ids).
fn findings_of(
    component: &Component,
    stored: &[StoredAdvisory],
) -> Result<Vec<Finding>, Unchecked> {
    let candidates: Vec<Candidate<'_>> = stored
        .iter()
        .flat_map(|s| {
            std::iter::once(&s.advisory)
                .chain(&s.related_records)
                .map(|advisory| Candidate {
                    advisory,
                    ids: &s.ids,
                })
        })
        .collect();
    vulns::match_component(component, &candidates)
}

/// The components of every input, merged.
struct Gathered {
    components: Vec<Component>,
    inputs: Vec<String>,
    unpinned: Vec<String>,
}

fn gather(args: &AuditArgs) -> anyhow::Result<Gathered> {
    let mut components = Vec::new();
    let mut inputs = Vec::new();
    let mut unpinned = Vec::new();
    let nothing_else = args.paths.is_empty()
        && args.runtime.is_empty()
        && args.expected.is_empty()
        && args.binaries.is_empty();
    let python = args
        .python
        .clone()
        .or_else(|| nothing_else.then(|| PathBuf::from("python3")));
    let interpreter = match &python {
        Some(python) => Some(query_interpreter(python)?),
        None if !args.paths.is_empty() => Some(no_interpreter()),
        None => None,
    };
    if let Some(interpreter) = interpreter {
        // Names and versions are all an audit of what is installed needs: no RECORD.
        let inventory = read_inventory_with(&interpreter, &args.paths, Detail::Summary);
        for problem in &inventory.problems {
            eprintln!("warning: {problem}");
        }
        if python.is_some() {
            inputs.push(format!("installed: {}", interpreter.executable.display()));
        }
        inputs.extend(
            args.paths
                .iter()
                .map(|p| format!("installed: {}", p.display())),
        );
        components.extend(components::from_inventory(&inventory));
    }
    for (path, report) in args
        .runtime
        .iter()
        .zip(runtime_reports::read_all(&args.runtime)?)
    {
        inputs.push(format!("runtime report: {}", path.display()));
        let source = format!("runtime:{}", path.display());
        let linked = linked_code_of_report(&report);
        components.extend(components::from_uses(
            &report.distributions,
            &source,
            linked,
        ));
    }
    for path in &args.binaries {
        let artefact = artefact(path)?;
        inputs.push(format!("binary: {}", path.display()));
        let linked = artefact.linked_code().map(Arc::new);
        if linked.is_none() {
            eprintln!(
                "warning: `{}`: no function table: findings cannot say whether vulnerable code is linked in",
                path.display()
            );
        }
        let source = format!("binary:{}", path.display());
        components.extend(components::from_uses(
            &artefact.components(None),
            &source,
            linked,
        ));
    }
    for path in &args.expected {
        let expected = crate::commands::expected::read(path)?;
        inputs.push(format!(
            "expected ({}): {}",
            expected.format,
            path.display()
        ));
        let (pinned, loose) = components::from_expected(&expected);
        components.extend(pinned);
        unpinned.extend(loose);
    }
    Ok(Gathered {
        components: merge_components(components),
        inputs,
        unpinned,
    })
}

/// Site directories read without asking an interpreter: nothing but `--path`.
fn no_interpreter() -> Interpreter {
    Interpreter {
        executable: PathBuf::new(),
        implementation: String::new(),
        version: String::new(),
        prefix: PathBuf::new(),
        base_prefix: PathBuf::new(),
        sys_path: Vec::new(),
        user_site: None,
        is_venv: false,
    }
}

/// `runbom.toml`'s ignores (as the matcher takes them) and severity threshold.
fn advisories_policy(config: Option<&Config>) -> (Vec<Ignore>, Option<SeverityLevel>) {
    let Some(config) = config else {
        return (Vec::new(), None);
    };
    let ignores = config
        .advisories
        .ignore
        .iter()
        .map(|i| Ignore {
            id: i.id.value.clone(),
            reason: i.reason.clone(),
            expires: i.expires.as_ref().map(|d| day(d.value)),
        })
        .collect();
    let threshold = config
        .advisories
        .severity_threshold
        .as_ref()
        .map(|t| match t.value {
            ConfigSeverity::Low => SeverityLevel::Low,
            ConfigSeverity::Medium => SeverityLevel::Medium,
            ConfigSeverity::High => SeverityLevel::High,
            ConfigSeverity::Critical => SeverityLevel::Critical,
        });
    (ignores, threshold)
}

fn day(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

/// Removes findings rated below `threshold` (unrated ones stay); returns how many.
fn drop_below(findings: &mut Vec<Finding>, threshold: Option<SeverityLevel>) -> usize {
    let Some(threshold) = threshold else {
        return 0;
    };
    let before = findings.len();
    findings.retain(|f| f.severity.as_ref().is_none_or(|s| s.level >= threshold));
    before - findings.len()
}

/// `installed:/x/site-packages` → `/x/site-packages`: the file a finding's component came from.
fn source_path(source: &str) -> &Path {
    Path::new(source.split_once(':').map_or(source, |(_, path)| path))
}
