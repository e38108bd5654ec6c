//! SARIF 2.1.0 shared by the commands that report findings (`verify`, `policy check`, `audit`):
//! the log around one run of runbom, and file URIs. Rules and results are each command's own.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Writes a SARIF log of one run: runbom as the tool with `rules`, and `results`.
pub fn write_log(
    out: &mut impl Write,
    information_uri: Option<&str>,
    rules: Vec<Value>,
    results: Vec<Value>,
) -> anyhow::Result<()> {
    let mut driver = json!({
        "name": "runbom",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(uri) = information_uri {
        driver["informationUri"] = json!(uri);
    }
    let document = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)?;
    Ok(())
}

/// An absolute path as a `file://` URI; a relative one as written.
pub fn uri(path: &Path) -> String {
    if path.is_absolute() {
        format!("file://{}", path.display()).replace(' ', "%20")
    } else {
        path.display().to_string()
    }
}
