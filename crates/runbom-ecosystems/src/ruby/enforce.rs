//! The enforcement table the Ruby hook loads once at start: Ruby's variant of
//! `runbom-enforce/1` (`python::enforce` writes Python's). The same head (interpreter, mode,
//! fail policy, config, expected inventory, rules, first-party directories) and `dist` lines,
//! then what Ruby needs instead of RECORD: `stdlib` lines (Ruby's library directories, always
//! allowed), `gemdir` lines (each gem's code directories, so that a file in a gem's directory is
//! that gem's whether or not its gemspec lists it) and one `f` line per `.rb`/`.so` file of an
//! allowed gem (those its gemspec lists and those in its code directories), with its size, mtime
//! and inode as they were when the table was written.
//! Traps: installed gems carry no hash of their files, so integrity on load is a `stat`
//! comparison against the table (a file changed before the table was written is not told);
//! default gems are part of Ruby's standard library and are not in the plan; a Debian gem whose
//! gem directory does not exist has its code in Ruby's `vendor_ruby` (`ruby-tilt`), and those
//! files get `f` lines of that gem so that they are not taken for Ruby's library.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use runbom_model::enforce::{EnforceRule, EnforcementPlan, Verdict};
use runbom_model::{Ecosystem, PackageName};

use super::inventory::{GemInventory, InstalledGem};
use crate::python::enforce::{
    EnforceError, TableSummary, dist_line, finish, head_lines, mtime_ns, write_text,
};

/// The gems the plan judges: every installed gem but Ruby's default gems.
pub fn planned(inventory: &GemInventory) -> impl Iterator<Item = &InstalledGem> {
    inventory.gems.iter().filter(|gem| !gem.default)
}

/// The name of `gem` in the RubyGems ecosystem.
pub fn package_name(gem: &InstalledGem) -> PackageName {
    PackageName::new(Ecosystem::RubyGems, &gem.name)
}

/// Writes the table for `plan` and `inventory` to `path` (mode 0644, renamed into place).
pub fn write_table(
    path: &Path,
    plan: &EnforcementPlan,
    inventory: &GemInventory,
) -> Result<TableSummary, EnforceError> {
    let (text, summary) = table_text(plan, inventory);
    write_text(path, &text)?;
    Ok(summary)
}

/// The table's text, and what it holds.
pub fn table_text(plan: &EnforcementPlan, inventory: &GemInventory) -> (String, TableSummary) {
    let interpreter = &inventory.interpreter;
    let mut lines = head_lines(
        plan,
        &interpreter.executable,
        &interpreter.version,
        &interpreter.prefix,
    );
    for dir in &interpreter.library_dirs {
        push_path_line(&mut lines, "stdlib", "", dir);
    }
    let integrity = plan.is_on(EnforceRule::Integrity);
    let mut summary = TableSummary::default();
    let mut files = Vec::new();
    for (index, (gem, verdict)) in planned(inventory)
        .filter_map(|gem| {
            let verdict = plan.verdict_on(&gem.name, &gem.version, &gem.gem_dir)?;
            Some((gem, verdict))
        })
        .enumerate()
    {
        lines.push(dist_line(
            index,
            &gem.name,
            &gem.version,
            &verdict.verdict,
            &mut summary,
        ));
        let dirs = gem.code_dirs();
        for dir in &dirs {
            push_path_line(&mut lines, "gemdir", &format!("{index}\t"), dir);
        }
        if verdict.verdict != Verdict::Allowed || !integrity {
            // The gem's own files in Ruby's vendor directory: its, not Ruby's library.
            let vendored = gem.files.iter().filter(|_| gem.vendored);
            for file in vendored.filter(|f| is_loadable(f)) {
                let shown = file.display().to_string();
                if !shown.contains(['\t', '\n', '\r']) {
                    files.push(format!("f\t{shown}\t{index}\t-\t-\t-\t-"));
                }
            }
            continue;
        }
        let mut loadable = gem.files.clone();
        for dir in &dirs {
            walk(dir, MAX_DEPTH, &mut loadable);
        }
        loadable.sort();
        loadable.dedup();
        for file in loadable.iter().filter(|f| is_loadable(f)) {
            let shown = file.display().to_string();
            let Ok(meta) = fs::metadata(file) else {
                continue;
            };
            if shown.contains(['\t', '\n', '\r']) || !meta.is_file() {
                continue;
            }
            summary.files += 1;
            files.push(format!(
                "f\t{shown}\t{index}\t{}\t{}\t{}\t-",
                meta.size(),
                mtime_ns(&meta),
                meta.ino()
            ));
        }
    }
    lines.extend(files);
    (finish(lines), summary)
}

/// `kind\t<prefix><dir>/`, unless the path cannot be written on one line.
fn push_path_line(lines: &mut Vec<String>, kind: &str, prefix: &str, dir: &Path) {
    let shown = dir.display().to_string();
    if !shown.contains(['\t', '\n', '\r']) {
        lines.push(format!("{kind}\t{prefix}{}/", shown.trim_end_matches('/')));
    }
}

/// How deep below a gem's directory its files are looked for.
const MAX_DEPTH: usize = 12;

/// Every file below `dir` (not following links to directories), up to `depth` levels.
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth > 0 {
            walk(&entry.path(), depth - 1, out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
}

/// What `require` may load from a gem: Ruby source and native extensions.
fn is_loadable(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "rb" || e == "so" || e == "bundle")
}

#[cfg(test)]
mod tests;
