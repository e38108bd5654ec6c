//! Reading `--runtime REPORT` files for the commands that take them (verify, sbom, vex): each
//! bad file is named with its line and column, and a report of another schema is refused.

use std::path::{Path, PathBuf};

use anyhow::Context;
use runbom_model::runtime::{RUNTIME_REPORT_SCHEMAS_READ, RuntimeReport, reads_schema};

/// Every report, in the order given.
pub fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<RuntimeReport>> {
    paths.iter().map(|p| read(p)).collect()
}

fn read(path: &Path) -> anyhow::Result<RuntimeReport> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("`{}`:{}:{}: {e}", path.display(), e.line(), e.column()))?;
    let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if !reads_schema(schema) {
        anyhow::bail!(
            "`{}` at /schema: expected one of `{}`, found `{schema}`",
            path.display(),
            RUNTIME_REPORT_SCHEMAS_READ.join("`, `")
        );
    }
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "`{}`:{}:{}: not a runtime report: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}
