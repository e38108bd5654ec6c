//! The enforcement table the Python hook loads once at start (`runbom-enforce/1`): the plan of
//! `runbom-analysis` (which distributions may be imported, the rules, the mode, the fail policy)
//! with, for every importable file of every installed distribution (`.py` and native
//! extensions), its owner and — for a distribution that may be imported, with `integrity` on —
//! its size, mtime and inode as they were when its content was checked against RECORD, and the
//! RECORD sha256. The hook compares `stat` at import and hashes only a file whose stat changed.
//!
//! A line format the hook parses with the standard library's `str` methods only, one record per
//! line, fields separated by tabs, ending in `end\t<number of lines before it>` so that a
//! truncated table is told from a whole one. Traps: a file already changed when the table is
//! written gets no stat (`-`), so the hook hashes it and refuses it; a path holding a tab or a
//! line break cannot be written and is left out (the hook then refuses it as owned by nothing);
//! a site directory reached through a symbolic link gets an `alias` line, as a module's file is
//! named by whichever path `sys.path` holds.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use runbom_model::enforce::{EnforceMode, EnforcementPlan, FailPolicy, Verdict};
use runbom_model::inventory::Inventory;

use super::hash_cache::HashCache;
use super::integrity::record_sha256_hex;

/// The first line of every table this version writes.
pub const TABLE_HEADER: &str = "runbom-enforce/1";

/// The environment variable naming the table for a hooked process.
pub const TABLE_ENV: &str = "RUNBOM_ENFORCE_TABLE";

/// The break-glass variable: `off` turns enforcement off for one run (and the report says so).
pub const BREAK_GLASS_ENV: &str = "RUNBOM_ENFORCE";

/// Errors writing a table.
#[derive(Debug, thiserror::Error)]
pub enum EnforceError {
    #[error("cannot write the enforcement table `{path}`")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What writing a table found, for the user.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub distributions: usize,
    pub refused: usize,
    pub files: usize,
    /// Files of allowed distributions whose content already differs from RECORD.
    pub changed: Vec<PathBuf>,
}

/// Writes the table for `plan` and `inventory` to `path` (mode 0644, through a temporary file
/// renamed into place, so a hook never reads half a table).
pub fn write_table(
    path: &Path,
    plan: &EnforcementPlan,
    inventory: &Inventory,
    hashes: &HashCache,
) -> Result<TableSummary, EnforceError> {
    let (text, summary) = table_text(plan, inventory, hashes);
    write_text(path, &text)?;
    Ok(summary)
}

/// Writes a table's `text` to `path` (mode 0644) through a temporary file renamed into place.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<(), EnforceError> {
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&temp)
        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()))
        .and_then(|()| fs::rename(&temp, path));
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(EnforceError::Write {
            path: path.to_owned(),
            source,
        });
    }
    Ok(())
}

/// The table's text, and what it holds.
pub fn table_text(
    plan: &EnforcementPlan,
    inventory: &Inventory,
    hashes: &HashCache,
) -> (String, TableSummary) {
    let interpreter = &inventory.interpreter;
    let mut lines = head_lines(
        plan,
        &interpreter.executable,
        &interpreter.version,
        &interpreter.prefix,
    );
    let integrity = plan.is_on(runbom_model::enforce::EnforceRule::Integrity);
    let mut summary = TableSummary::default();
    let mut aliases: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (index, (dist, verdict)) in inventory
        .active()
        .filter_map(|dist| {
            let verdict = plan.verdict_on(&dist.name, &dist.version, &dist.location)?;
            Some((dist, verdict))
        })
        .enumerate()
    {
        let allowed = verdict.verdict == Verdict::Allowed;
        lines.push(dist_line(
            index,
            &dist.name,
            &dist.version,
            &verdict.verdict,
            &mut summary,
        ));
        if let Ok(real) = fs::canonicalize(&dist.location)
            && real != dist.location
            && !aliases.iter().any(|(r, _)| *r == real)
        {
            aliases.push((real, dist.location.clone()));
        }
        for file in dist.files.iter().filter(|f| is_importable(&f.path)) {
            let shown = file.path.display().to_string();
            if shown.contains(['\t', '\n', '\r']) {
                continue;
            }
            let Ok(meta) = fs::metadata(&file.path) else {
                continue;
            };
            summary.files += 1;
            let recorded = file.hash.as_deref().and_then(record_sha256_hex);
            let mut stat = "-\t-\t-".to_owned();
            if allowed
                && integrity
                && let Some(recorded) = &recorded
            {
                let same = hashes.sha256(&file.path).is_ok_and(|sha| sha == *recorded);
                let unchanged = fs::metadata(&file.path).is_ok_and(|m| {
                    m.ino() == meta.ino()
                        && m.size() == meta.size()
                        && mtime_ns(&m) == mtime_ns(&meta)
                });
                if same && unchanged {
                    stat = format!("{}\t{}\t{}", meta.size(), mtime_ns(&meta), meta.ino());
                } else {
                    summary.changed.push(file.path.clone());
                }
            }
            let mut line = String::with_capacity(shown.len() + 100);
            let _ = write!(
                line,
                "f\t{shown}\t{index}\t{stat}\t{}",
                recorded.as_deref().unwrap_or("-")
            );
            lines.push(line);
        }
    }
    for (real, location) in &aliases {
        let (real, location) = (real.display().to_string(), location.display().to_string());
        if !real.contains(['\t', '\n', '\r']) && !location.contains(['\t', '\n', '\r']) {
            lines.push(format!("alias\t{real}\t{location}"));
        }
    }
    (finish(lines), summary)
}

/// The lines before the packages: the interpreter the table is for, the mode, the fail policy,
/// the config, the expected inventory, the rules and the first-party directories.
pub(crate) fn head_lines(
    plan: &EnforcementPlan,
    executable: &Path,
    version: &str,
    prefix: &Path,
) -> Vec<String> {
    let mut lines: Vec<String> = vec![TABLE_HEADER.to_owned()];
    lines.push(format!(
        "interpreter\t{}\t{}\t{}",
        field(&executable.display().to_string()),
        field(version),
        field(&prefix.display().to_string())
    ));
    lines.push(format!(
        "mode\t{}",
        match plan.mode {
            EnforceMode::Monitor => "monitor",
            EnforceMode::Enforce => "enforce",
        }
    ));
    lines.push(format!(
        "fail\t{}",
        match plan.fail {
            FailPolicy::Open => "open",
            FailPolicy::Closed => "closed",
        }
    ));
    lines.push(format!(
        "config\t{}",
        field(plan.config.as_deref().unwrap_or("runbom.toml"))
    ));
    lines.push(format!("expected\t{}", field(&plan.expected)));
    for rule in &plan.rules {
        lines.push(format!(
            "rule\t{}\t{}\t{}",
            rule.rule,
            u8::from(rule.on),
            rule.line
        ));
    }
    for dir in &plan.first_party {
        lines.push(format!(
            "first-party\t{}",
            field(&dir.display().to_string())
        ));
    }
    lines
}

/// Closes a table: the count of the lines before `end`, so that a truncated table is told.
pub(crate) fn finish(lines: Vec<String>) -> String {
    let count = lines.len();
    let mut text = lines.join("\n");
    let _ = write!(text, "\nend\t{count}\n");
    text
}

/// A value on one line: tabs and line breaks become spaces.
/// The `dist` line of one judged distribution (or gem), counted in `summary`.
pub(crate) fn dist_line(
    index: usize,
    name: &str,
    version: &str,
    verdict: &Verdict,
    summary: &mut TableSummary,
) -> String {
    summary.distributions += 1;
    let (state, rule, line, why) = match verdict {
        Verdict::Allowed => ("allowed", "-".to_owned(), 0, "-".to_owned()),
        Verdict::Refused { rule, why, line } => {
            summary.refused += 1;
            ("refused", rule.to_string(), *line, why.clone())
        }
    };
    format!(
        "dist\t{index}\t{}\t{}\t{state}\t{rule}\t{line}\t{}",
        field(name),
        field(version),
        field(&why)
    )
}

pub(crate) fn field(value: &str) -> String {
    value.replace(['\t', '\n', '\r'], " ")
}

/// What Python may load as a module: source and native extensions (bytecode is checked through
/// its source; `__pycache__` is left out).
fn is_importable(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    (name.ends_with(".py") || name.ends_with(".so") || name.ends_with(".pyd"))
        && !path.components().any(|c| c.as_os_str() == "__pycache__")
}

pub(crate) fn mtime_ns(meta: &fs::Metadata) -> i128 {
    i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())
}

#[cfg(test)]
mod tests;
