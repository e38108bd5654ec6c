//! `runbom verify --format json`: `runbom.verify/v1` (see `docs/reference/verify.md`).

use std::io::Write;

use runbom_analysis::verify::FindingCode;
use serde_json::json;

use super::VerifyOutcome;

/// The `schema` value of every verify result this version writes.
pub const VERIFY_SCHEMA: &str = "runbom.verify/v1";

pub fn write(out: &mut impl Write, outcome: &VerifyOutcome) -> anyhow::Result<()> {
    let mut counts = serde_json::Map::new();
    for code in FindingCode::ALL {
        let n = outcome.findings.iter().filter(|f| f.code == code).count();
        counts.insert(code.to_string(), n.into());
    }
    let document = json!({
        "schema": VERIFY_SCHEMA,
        "clean": !outcome.fails(),
        "expected": {
            "source": outcome.expected.source,
            "format": outcome.expected.format,
            "components": outcome.expected.components.len(),
        },
        "observed": {
            "reports": outcome.reports.iter().map(|r| &r.report_id).collect::<Vec<_>>(),
            "python": outcome.inventory.as_ref().map(|i| &i.interpreter.executable),
            "distributions": outcome.distributions_observed(),
            "files_hashed": outcome.scan.as_ref().map(|s| s.files_hashed),
        },
        "counts": counts,
        "findings": outcome.findings,
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)?;
    Ok(())
}
