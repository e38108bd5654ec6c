//! `runbom policy check --format table`: one rustc-style diagnostic per finding, with the
//! `runbom.toml` line its rule was written on, then a one-line summary.

use std::io::Write;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use runbom_analysis::policy::{Finding, Severity};

use super::CheckOutcome;

pub fn write(out: &mut impl Write, outcome: &CheckOutcome) -> anyhow::Result<()> {
    for finding in &outcome.findings {
        write!(
            out,
            "{}",
            outcome.config.render(&diagnostic(finding, outcome))
        )?;
    }
    let loaded = outcome
        .components
        .iter()
        .filter(|c| c.loaded == Some(true))
        .count();
    let runtime = if outcome.components.iter().any(|c| c.loaded.is_some()) {
        format!(" ({loaded} loaded)")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{}: {} error{}, {} warning{} in {} component{}{runtime}; checked against `{}`",
        if outcome.errors() > 0 {
            "policy check failed"
        } else {
            "policy check passed"
        },
        outcome.errors(),
        plural(outcome.errors()),
        outcome.warnings(),
        plural(outcome.warnings()),
        outcome.components.len(),
        plural(outcome.components.len()),
        outcome.config.name(),
    )?;
    for input in &outcome.inputs {
        writeln!(out, "  {input}")?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn diagnostic(finding: &Finding, outcome: &CheckOutcome) -> Diagnostic<()> {
    let base = match finding.severity {
        Severity::Error => Diagnostic::error(),
        Severity::Warning => Diagnostic::warning(),
    };
    let mut diagnostic = base
        .with_code(finding.code.as_str())
        .with_message(&finding.message);
    if let Some(line) = finding.config
        && let Some(span) = outcome.config.span(line.line, line.column)
    {
        diagnostic = diagnostic.with_labels(vec![
            Label::primary((), span).with_message(format!("`[{}]` rule", finding.rule.as_str())),
        ]);
    }
    let mut notes = Vec::new();
    if let Some(c) = &finding.component {
        let loaded = match finding.loaded {
            Some(true) => ", loaded at run time",
            Some(false) => ", installed but never loaded",
            None => "",
        };
        notes.push(format!(
            "component: {} {} ({}){loaded}",
            c.name,
            c.version.as_deref().unwrap_or("(no version)"),
            c.ecosystem
        ));
    }
    if let Some(license) = finding.license.as_ref().filter(|l| l.spdx.is_some()) {
        notes.push(format!(
            "licence: {} ({}, from {}{})",
            license.spdx.as_deref().unwrap_or("unknown"),
            license.confidence,
            license.source,
            license
                .raw
                .as_deref()
                .map(|r| format!(": `{r}`"))
                .unwrap_or_default()
        ));
    }
    notes.push(format!("help: {}", finding.help));
    diagnostic.with_notes(notes)
}
