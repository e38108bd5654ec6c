//! `runbom policy check --format json`: `runbom.policy-check/v1` (see
//! `docs/reference/policy-check.md`): the findings, and every component with its licence.

use std::io::Write;

use runbom_analysis::policy::{Code, LicenseInfo};
use serde_json::json;

use super::CheckOutcome;

/// The `schema` value of every policy-check result this version writes.
pub const POLICY_CHECK_SCHEMA: &str = "runbom.policy-check/v1";

pub fn write(out: &mut impl Write, outcome: &CheckOutcome) -> anyhow::Result<()> {
    let mut counts = serde_json::Map::new();
    for code in Code::ALL {
        let n = outcome.findings.iter().filter(|f| f.code == code).count();
        counts.insert(code.as_str().to_owned(), n.into());
    }
    let components: Vec<_> = outcome
        .components
        .iter()
        .map(|c| {
            json!({
                "ecosystem": c.ecosystem,
                "name": c.name,
                "version": c.version,
                "loaded": c.loaded,
                "license": LicenseInfo::of(&c.license),
            })
        })
        .collect();
    let document = json!({
        "schema": POLICY_CHECK_SCHEMA,
        "clean": outcome.errors() == 0,
        "config": outcome.config.name(),
        "inputs": outcome.inputs,
        "freshness_checked": outcome.freshness_checked,
        "errors": outcome.errors(),
        "warnings": outcome.warnings(),
        "counts": counts,
        "findings": outcome.findings,
        "components": components,
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)?;
    Ok(())
}
