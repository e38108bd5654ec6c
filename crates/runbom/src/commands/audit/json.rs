//! `runbom audit --format json`: `runbom.audit/v1`, the ranked findings as `runbom-analysis`
//! defines them, plus what could not be checked (`not_covered`: ecosystems no advisory source covers, such as
//! Tcl) and the summary counts.

use std::io::Write;

use serde_json::json;

use super::AuditOutcome;

pub const SCHEMA: &str = "runbom.audit/v1";

pub fn write(out: &mut impl Write, outcome: &AuditOutcome) -> anyhow::Result<()> {
    let expired: Vec<_> = outcome
        .expired_ignores
        .iter()
        .map(|i| json!({"id": i.id, "reason": i.reason, "expires": i.expires}))
        .collect();
    let uncovered: Vec<_> = outcome
        .uncovered
        .iter()
        .map(|(ecosystem, components)| {
            json!({
                "ecosystem": ecosystem,
                "components": components,
                "reason": format!("no advisory source covers {ecosystem}"),
            })
        })
        .collect();
    let document = json!({
        "schema": SCHEMA,
        "inputs": outcome.inputs,
        "summary": {
            "components": outcome.components,
            "findings": outcome.open().count(),
            "ignored": outcome.findings.iter().filter(|f| f.is_ignored()).count(),
            "below_threshold": outcome.below_threshold,
            "failing": outcome.findings.iter().filter(|f| outcome.fails(f)).count(),
            "fail_on": outcome.fail_on,
        },
        "findings": outcome.findings,
        "unchecked": outcome.unchecked,
        "unpinned": outcome.unpinned,
        "expired_ignores": expired,
        "not_covered": uncovered,
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)?;
    Ok(())
}
