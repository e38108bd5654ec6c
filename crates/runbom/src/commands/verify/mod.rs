//! `runbom verify`: reads the expected inventory, the runtime reports and (with `--python`) the
//! installed inventory and its files, runs `runbom_analysis::verify`, and prints the findings as
//! a table, JSON (`runbom.verify/v1`) or SARIF 2.1.0.

mod json;
mod sarif;
mod table;

use std::io::Write;
use std::path::PathBuf;

use runbom_analysis::verify::{Finding, Observations, VerifyOptions, marker_environment, verify};
use runbom_ecosystems::python::{integrity, query_interpreter, read_inventory};
use runbom_model::PackageName;
use runbom_model::expected::ExpectedInventory;
use runbom_model::integrity::IntegrityScan;
use runbom_model::inventory::Inventory;
use runbom_model::runtime::RuntimeReport;

use crate::cli::{FindingsFormat, VerifyArgs};
use crate::commands::config::load_project_config;
use crate::commands::{ExitStatus, runtime_reports};

/// Everything one run of `verify` looked at and found, for the writers.
#[derive(Debug)]
pub struct VerifyOutcome {
    pub expected: ExpectedInventory,
    pub reports: Vec<RuntimeReport>,
    pub inventory: Option<Inventory>,
    pub scan: Option<IntegrityScan>,
    pub findings: Vec<Finding>,
}

pub fn run(args: &VerifyArgs) -> anyhow::Result<ExitStatus> {
    let expected =
        crate::commands::expected::read_as(&args.expected, args.expected_format.as_deref())?;
    let reports = runtime_reports::read_all(&args.runtime)?;
    let python = args
        .python
        .clone()
        .or_else(|| reports.is_empty().then(|| PathBuf::from("python3")));
    let (inventory, scan) = match &python {
        Some(python) => {
            let interpreter = query_interpreter(python)?;
            let inventory = read_inventory(&interpreter, &[]);
            let scan = integrity::scan(&inventory);
            (Some(inventory), Some(scan))
        }
        None => (None, None),
    };
    let environment = match (&inventory, reports.first()) {
        (Some(i), _) => marker_environment(&i.interpreter.implementation, &i.interpreter.version),
        (None, Some(r)) => {
            marker_environment(&r.interpreter.implementation, &r.interpreter.version)
        }
        (None, None) => None,
    };
    let ignore: Vec<PackageName> = args.ignore.iter().map(|n| PackageName::pypi(n)).collect();
    let observed = Observations {
        reports: &reports,
        installed: inventory.as_ref(),
        integrity: scan.as_ref(),
    };
    let options = VerifyOptions {
        environment: environment.as_ref(),
        first_party: &args.first_party,
        ignore: &ignore,
        strict_tooling: args.strict_tooling || strict_tooling_configured(args)?,
    };
    let findings = verify(&expected, &observed, &options);
    let outcome = VerifyOutcome {
        expected,
        reports,
        inventory,
        scan,
        findings,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        FindingsFormat::Table => table::write(&mut out, &outcome)?,
        FindingsFormat::Json => json::write(&mut out, &outcome)?,
        FindingsFormat::Sarif => sarif::write(&mut out, &outcome)?,
    }
    out.flush()?;
    Ok(if outcome.fails() {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

/// `[verify] tooling = "strict"` of the project's runbom.toml.
fn strict_tooling_configured(args: &VerifyArgs) -> anyhow::Result<bool> {
    let config = load_project_config(args.config.as_deref())?;
    Ok(config
        .and_then(|c| c.verify.strict_tooling)
        .is_some_and(|strict| strict.value))
}

impl VerifyOutcome {
    /// Whether a finding fails the run (notes do not).
    pub fn fails(&self) -> bool {
        self.findings.iter().any(|f| f.level.fails())
    }

    /// Distinct (name, version) pairs seen in the reports and the inventory.
    pub fn distributions_observed(&self) -> usize {
        let mut seen = std::collections::BTreeSet::new();
        for report in &self.reports {
            for dist in &report.distributions {
                seen.insert((dist.normalized_name.clone(), dist.version.clone()));
            }
        }
        for dist in self.inventory.iter().flat_map(Inventory::active) {
            seen.insert((dist.normalized_name.clone(), dist.version.clone()));
        }
        seen.len()
    }
}
