//! The enforcement table the Perl hook loads once at start: Perl's variant of `runbom-enforce/1`
//! (`python::enforce` writes Python's, `ruby::enforce` Ruby's). The same head (interpreter, mode,
//! fail policy, config, expected inventory, rules, first-party directories) and `dist` lines,
//! then one `core` line per directory of perl's own module files (always allowed), naming the
//! directory and its files of perl's (a line per file made the table thousands of lines that the
//! hook reads at every start), and one `f` line per
//! module file of each installed distribution (`.pm`, `.pl`, `.pmc`, `.al`, `.ix`, and XS
//! libraries, `.so`), naming its
//! distribution and, for an allowed one with `integrity` on, its size, mtime and inode as they
//! were when the table was written (`-` otherwise).
//!
//! Traps:
//! - A file is named as the hook sees it, `<@INC directory>/<Foo/Bar.pm>`, and `@INC` may name a
//!   directory through a link (Debian's `/usr/share/perl/5.36` → `5.36.0`, the name its package
//!   lists use): a file under such a directory is written under both names.
//! - Installed distributions carry no hash of their files (`.packlist` lists names only), so
//!   integrity on load is a `stat` comparison against the table: a file changed before the table
//!   was written is not told.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use runbom_model::enforce::{EnforceRule, EnforcementPlan, Verdict};
use runbom_model::{Ecosystem, PackageName};

use super::inventory::{PerlDistribution, PerlInventory};
use crate::python::enforce::{
    EnforceError, TableSummary, dist_line, finish, head_lines, mtime_ns, write_text,
};

/// The distributions the plan judges: every installed one (perl's own modules are not
/// distributions and are not in the plan).
pub fn planned(inventory: &PerlInventory) -> impl Iterator<Item = &PerlDistribution> {
    inventory.distributions.iter()
}

/// The name of `dist` in the CPAN ecosystem.
pub fn package_name(dist: &PerlDistribution) -> PackageName {
    PackageName::new(Ecosystem::Cpan, &dist.name)
}

/// Writes the table for `plan` and `inventory` to `path` (mode 0644, renamed into place).
pub fn write_table(
    path: &Path,
    plan: &EnforcementPlan,
    inventory: &PerlInventory,
) -> Result<TableSummary, EnforceError> {
    let (text, summary) = table_text(plan, inventory);
    write_text(path, &text)?;
    Ok(summary)
}

/// The table's text, and what it holds.
pub fn table_text(plan: &EnforcementPlan, inventory: &PerlInventory) -> (String, TableSummary) {
    let perl = &inventory.perl;
    let prefix = perl
        .executable
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new(""));
    let mut lines = head_lines(plan, &perl.executable, &perl.version, prefix);
    let aliases = aliases(&perl.inc);
    let mut core: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in inventory.core_files.iter().filter(|f| is_module_file(f)) {
        for shown in seen_as(file, &aliases) {
            if let Some((dir, name)) = shown.rsplit_once('/') {
                core.entry(dir.to_owned())
                    .or_default()
                    .push(name.to_owned());
            }
        }
    }
    for (dir, names) in core {
        lines.push(format!("core\t{dir}\t{}", names.join("\t")));
    }
    let integrity = plan.is_on(EnforceRule::Integrity);
    let mut summary = TableSummary::default();
    let mut files = Vec::new();
    for (index, (dist, verdict)) in planned(inventory)
        .filter_map(|dist| {
            let verdict = plan.verdict_on(&dist.name, &dist.version, &dist.location)?;
            Some((dist, verdict))
        })
        .enumerate()
    {
        lines.push(dist_line(
            index,
            &dist.name,
            &dist.version,
            &verdict.verdict,
            &mut summary,
        ));
        let checked = integrity && verdict.verdict == Verdict::Allowed;
        for file in dist.files.iter().filter(|f| is_module_file(f)) {
            let Ok(meta) = fs::metadata(file) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let stat = if checked {
                format!("{}\t{}\t{}", meta.size(), mtime_ns(&meta), meta.ino())
            } else {
                "-\t-\t-".to_owned()
            };
            summary.files += 1;
            for shown in seen_as(file, &aliases) {
                files.push(format!("f\t{shown}\t{index}\t{stat}\t-"));
            }
        }
    }
    lines.extend(files);
    (finish(lines), summary)
}

/// Each `@INC` directory that resolves elsewhere: (where it resolves, as `@INC` names it).
fn aliases(inc: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
    inc.iter()
        .filter_map(|named| {
            let real = fs::canonicalize(named).ok()?;
            (real != *named).then(|| (real, named.clone()))
        })
        .collect()
}

/// The paths under which the hook may see `file`: its own, and the same below each directory
/// `@INC` names through a link; none that cannot be written on one line.
fn seen_as(file: &Path, aliases: &[(PathBuf, PathBuf)]) -> Vec<String> {
    let mut names = vec![file.to_owned()];
    for (real, named) in aliases {
        if let Ok(rest) = file.strip_prefix(real) {
            names.push(named.join(rest));
        }
    }
    names
        .iter()
        .map(|p| p.display().to_string())
        .filter(|shown| !shown.contains(['\t', '\n', '\r']))
        .collect()
}

/// What `require` loads (modules, libraries, compiled modules, AutoLoader's pieces and their
/// `autosplit.ix` index) and what DynaLoader loads (XS libraries).
fn is_module_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| {
        e == "pm" || e == "pl" || e == "pmc" || e == "al" || e == "ix" || e == "so"
    })
}

#[cfg(test)]
mod tests;
