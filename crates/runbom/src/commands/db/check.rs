//! `runbom db check`: parses OSV JSON advisory files and names every malformed one.

use std::path::PathBuf;

use anyhow::Context;
use runbom_model::Advisory;

use super::super::ExitStatus;

pub fn run(paths: &[PathBuf]) -> anyhow::Result<ExitStatus> {
    let mut bad = 0usize;
    for path in paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        if let Err(err) = serde_json::from_str::<Advisory>(&text) {
            bad += 1;
            eprintln!(
                "{}:{}:{}: malformed OSV advisory: {err}",
                path.display(),
                err.line(),
                err.column()
            );
        }
    }
    println!("{} checked, {} malformed", paths.len(), bad);
    Ok(if bad == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}
