//! `runbom versions sort`: versions on stdin, sorted by the ecosystem's order on stdout.

use std::io::{BufRead, Write};

use anyhow::Context;

use crate::cli::{PlumbingFormat, VersionsSortArgs};
use crate::commands::ExitStatus;

pub fn run(args: &VersionsSortArgs) -> anyhow::Result<ExitStatus> {
    let ecosystem = super::ecosystem(&args.ecosystem)?;
    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        lines.push(line.context("reading stdin")?);
    }
    // Blank lines (a trailing newline, a gap) carry no version; skip them but keep numbering.
    let numbered: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| (index + 1, line.as_str()))
        .collect();
    let sorted = runbom_versions::sort_versions(ecosystem, numbered.iter().map(|(_, l)| *l))
        .map_err(|err| {
            let line = numbered.get(err.line - 1).map_or(err.line, |(n, _)| *n);
            anyhow::anyhow!("stdin line {line}: {}", err.source)
        })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        PlumbingFormat::Text => {
            for line in sorted {
                writeln!(out, "{}", line.trim()).context("writing stdout")?;
            }
        }
        PlumbingFormat::Json => {
            let trimmed: Vec<&str> = sorted.iter().map(|l| l.trim()).collect();
            writeln!(out, "{}", serde_json::to_string(&trimmed)?).context("writing stdout")?;
        }
    }
    Ok(ExitStatus::Success)
}
