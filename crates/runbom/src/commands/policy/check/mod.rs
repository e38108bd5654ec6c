//! `runbom policy check`: gathers the components (installed environment, runtime reports,
//! expected inventories), fetches release data when `[freshness]` needs it, runs
//! `runbom_analysis::policy::evaluate`, and prints the findings as rustc-style diagnostics
//! pointing at `runbom.toml` (table), JSON (`runbom.policy-check/v1`) or SARIF 2.1.0.

mod json;
mod sarif;
mod table;

use std::io::Write;

use runbom_analysis::policy::{Component, Context, Finding, Severity, evaluate};
use runbom_config::{Config, ConfigSource};
use runbom_sources::index::IndexSettings;

use crate::cli::{FindingsFormat, PolicyCheckArgs};
use crate::commands::components::{Inputs, fetch_releases, gather};
use crate::commands::{ExitStatus, today};

/// Everything one run looked at and found, for the writers.
#[derive(Debug)]
pub struct CheckOutcome {
    pub config: ConfigSource,
    pub inputs: Vec<String>,
    pub components: Vec<Component>,
    pub findings: Vec<Finding>,
    /// Whether `[freshness]` was checked against the package index.
    pub freshness_checked: bool,
}

impl CheckOutcome {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }
}

pub fn run(args: &PolicyCheckArgs) -> anyhow::Result<ExitStatus> {
    let (config, source) = match runbom_config::load_with_source(&args.config) {
        Ok(loaded) => loaded,
        Err(runbom_config::LoadError::Invalid(e)) => {
            eprint!("{}", e.render());
            eprintln!(
                "error: `{}` is not a valid policy; nothing was checked",
                args.config.display()
            );
            return Ok(ExitStatus::Error);
        }
        Err(e) => return Err(e.into()),
    };
    let gathered = gather(&Inputs {
        python: args.python.as_deref(),
        paths: &args.paths,
        runtime: &args.runtime,
        expected: &args.expected,
    })?;
    let wants_index = needs_index(&config) && !args.offline;
    let releases = if wants_index {
        let settings = IndexSettings {
            pypi: args.index_url.clone(),
            ..IndexSettings::default()
        };
        Some(fetch_releases(&gathered.components, settings)?)
    } else {
        None
    };
    let findings = evaluate(
        &config,
        &gathered.components,
        Context {
            releases: releases.as_ref(),
            today: today(),
        },
    );
    let outcome = CheckOutcome {
        config: source,
        inputs: gathered.inputs,
        components: gathered.components,
        findings,
        freshness_checked: releases.is_some(),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        FindingsFormat::Table => table::write(&mut out, &outcome)?,
        FindingsFormat::Json => json::write(&mut out, &outcome)?,
        FindingsFormat::Sarif => sarif::write(&mut out, &outcome)?,
    }
    out.flush()?;
    if needs_index(&config) && args.offline {
        eprintln!("note: --offline: the [freshness] rules were not checked");
    }
    Ok(if outcome.errors() > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

/// Whether any `[freshness]` rule is set (only those need the package index).
fn needs_index(config: &Config) -> bool {
    let f = &config.freshness;
    f.max_days_behind.is_some() || f.yanked.is_some() || f.max_years_without_release.is_some()
}
