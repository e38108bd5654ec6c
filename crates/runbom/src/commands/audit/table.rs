//! `runbom audit --format table`: one row per finding (loaded first), a detail line under each
//! (aliases, affected range, runtime use, the vulnerable code), ignored findings apart, then a
//! summary. Severity and use are coloured; `anstream` drops the colour when stdout is not a
//! terminal or `NO_COLOR` is set.

use std::io::Write;

use owo_colors::OwoColorize;
use runbom_analysis::severity::{Severity, SeverityLevel};
use runbom_analysis::vulns::{Finding, Usage, VulnerableCode};

use super::AuditOutcome;
use crate::commands::columns;

pub fn write(out: &mut impl Write, outcome: &AuditOutcome) -> anyhow::Result<()> {
    let open: Vec<&Finding> = outcome.open().collect();
    if !open.is_empty() {
        let mut rows = vec![[
            "USE".to_owned(),
            "SEVERITY".to_owned(),
            "PACKAGE".to_owned(),
            "VERSION".to_owned(),
            "FIXED".to_owned(),
            "ID".to_owned(),
            "SUMMARY".to_owned(),
        ]];
        for finding in &open {
            rows.push([
                use_text(finding).to_owned(),
                severity_text(finding.severity.as_ref()),
                finding.package.name.to_string(),
                finding.package.version.clone(),
                finding.fixed.clone().unwrap_or_else(|| "-".to_owned()),
                finding.id.clone(),
                finding.summary.clone().unwrap_or_default(),
            ]);
        }
        let widths = columns::widths(&rows);
        for (i, row) in rows.iter().enumerate() {
            let cells = columns::padded(row, &widths);
            let line = match i.checked_sub(1).map(|i| open[i]) {
                None => cells.join("  ").bold().to_string(),
                Some(finding) => format!(
                    "{}  {}  {}",
                    paint_use(finding, &cells[0]),
                    paint_severity(finding.severity.as_ref(), &cells[1]),
                    cells[2..].join("  "),
                ),
            };
            writeln!(out, "{}", line.trim_end())?;
            if let Some(finding) = i.checked_sub(1).map(|i| open[i]) {
                writeln!(out, "    {}", detail(finding))?;
            }
        }
    }
    let ignored: Vec<&Finding> = outcome.findings.iter().filter(|f| f.is_ignored()).collect();
    for finding in &ignored {
        if let Some(ignore) = &finding.ignore {
            writeln!(
                out,
                "ignored: {} in {} {} ({}{})",
                finding.id,
                finding.package.name,
                finding.package.version,
                ignore.reason,
                ignore
                    .expires
                    .as_deref()
                    .map(|d| format!("; until {d}"))
                    .unwrap_or_default()
            )?;
        }
    }
    for ignore in &outcome.expired_ignores {
        let line = format!(
            "expired ignore: `{}` expired on {} (reason given: {}); it no longer hides findings",
            ignore.id,
            ignore.expires.as_deref().unwrap_or("?"),
            ignore.reason
        );
        writeln!(out, "{}", line.yellow())?;
    }
    for unchecked in &outcome.unchecked {
        writeln!(
            out,
            "not checked: {} {}: {}",
            unchecked.package.name, unchecked.package.version, unchecked.error
        )?;
    }
    if !outcome.unpinned.is_empty() {
        writeln!(
            out,
            "not checked (no exact version): {}",
            outcome.unpinned.join(", ")
        )?;
    }
    for (ecosystem, components) in &outcome.uncovered {
        let noun = if *components == 1 {
            "component"
        } else {
            "components"
        };
        writeln!(
            out,
            "not audited: no advisory source covers {ecosystem} ({components} {noun}); \
             no vulnerability can be known of them"
        )?;
    }
    writeln!(out, "{}", summary(outcome, &open, ignored.len()))?;
    Ok(())
}

fn use_text(finding: &Finding) -> &'static str {
    let linked = finding
        .vulnerable_code
        .as_ref()
        .and_then(|c| c.linked.as_ref());
    match (finding.runtime_rank(), linked) {
        (0, Some(_)) => "linked",
        (1, Some(linked)) if linked.is_empty() => "not linked",
        (0, _) => "loaded",
        (1, _) => "loaded (not the vulnerable code)",
        (2, _) => "not loaded",
        _ => "unknown",
    }
}

fn paint_use(finding: &Finding, cell: &str) -> String {
    match finding.runtime_rank() {
        0 => cell.red().bold().to_string(),
        1 => cell.yellow().to_string(),
        _ => cell.dimmed().to_string(),
    }
}

fn severity_text(severity: Option<&Severity>) -> String {
    match severity {
        None => "-".to_owned(),
        Some(s) => match s.score {
            Some(score) => format!("{} {score:.1}", s.level),
            None => s.level.to_string(),
        },
    }
}

fn paint_severity(severity: Option<&Severity>, cell: &str) -> String {
    match severity.map(|s| s.level) {
        Some(SeverityLevel::Critical) => cell.red().bold().to_string(),
        Some(SeverityLevel::High) => cell.red().to_string(),
        Some(SeverityLevel::Medium) => cell.yellow().to_string(),
        Some(SeverityLevel::Low) => cell.blue().to_string(),
        _ => cell.to_owned(),
    }
}

/// `aliases …; affected …; loaded modules …; vulnerable code …`.
fn detail(finding: &Finding) -> String {
    let mut parts = Vec::new();
    if !finding.aliases.is_empty() {
        parts.push(format!("aliases: {}", finding.aliases.join(", ")));
    }
    parts.push(format!("affected: {}", finding.affected.join(" | ")));
    match &finding.runtime {
        Usage::Loaded { modules } if !modules.is_empty() => {
            parts.push(format!("loaded modules: {}", modules.join(", ")));
        }
        Usage::Loaded { .. } => parts.push("loaded".to_owned()),
        Usage::InstalledNotLoaded => parts.push("installed, never loaded".to_owned()),
        Usage::Unknown => parts.push("no runtime evidence".to_owned()),
    }
    if let Some(code) = &finding.vulnerable_code {
        parts.push(code_text(code));
    }
    if let Some(ignore) = finding.ignore.as_ref().filter(|i| i.expired) {
        parts.push(format!(
            "ignore expired on {}",
            ignore.expires.as_deref().unwrap_or("?")
        ));
    }
    parts.join("; ")
}

fn code_text(code: &VulnerableCode) -> String {
    const SHOWN: usize = 6;
    let mut named = code.named[..code.named.len().min(SHOWN)].join(", ");
    if code.named.len() > SHOWN {
        named.push_str(&format!(" … and {} more", code.named.len() - SHOWN));
    }
    if let Some(linked) = &code.linked {
        return match linked.as_slice() {
            [] => format!("vulnerable code: {named} (not linked into the binary)"),
            linked => format!("vulnerable code: {named} (linked: {})", linked.join(", ")),
        };
    }
    match &code.loaded {
        None => format!("vulnerable code: {named}"),
        Some(loaded) if loaded.is_empty() => format!("vulnerable code: {named} (not loaded)"),
        Some(loaded) => format!("vulnerable code: {named} (loaded: {})", loaded.join(", ")),
    }
}

fn summary(outcome: &AuditOutcome, open: &[&Finding], ignored: usize) -> String {
    let mut extras = Vec::new();
    if ignored > 0 {
        extras.push(format!("{ignored} ignored"));
    }
    if outcome.below_threshold > 0 {
        extras.push(format!(
            "{} below the severity threshold",
            outcome.below_threshold
        ));
    }
    if !outcome.expired_ignores.is_empty() {
        extras.push(format!("{} expired ignores", outcome.expired_ignores.len()));
    }
    let extras = if extras.is_empty() {
        String::new()
    } else {
        format!("; {}", extras.join(", "))
    };
    let not_covered: usize = outcome.uncovered.iter().map(|(_, n)| n).sum();
    if open.is_empty() && not_covered > 0 && not_covered == outcome.components {
        return format!(
            "not audited: none of the {} components is covered by an advisory source{extras}",
            outcome.components
        );
    }
    if open.is_empty() {
        let audited = outcome.components - not_covered;
        let uncovered = if not_covered > 0 {
            format!(" ({not_covered} more not covered by any advisory source)")
        } else {
            String::new()
        };
        return format!("clean: no known vulnerability in {audited} components{uncovered}{extras}");
    }
    let count = |rank: u8| open.iter().filter(|f| f.runtime_rank() == rank).count();
    let mut levels: Vec<String> = SeverityLevel::ALL
        .iter()
        .rev()
        .filter_map(|level| {
            let n = open
                .iter()
                .filter(|f| f.severity.as_ref().map(|s| s.level) == Some(*level))
                .count();
            (n > 0).then(|| format!("{n} {level}"))
        })
        .collect();
    let unrated = open.iter().filter(|f| f.severity.is_none()).count();
    if unrated > 0 {
        levels.push(format!("{unrated} unrated"));
    }
    format!(
        "{} findings in {} components ({} loaded, {} not loaded, {} unknown use; {}){extras}",
        open.len(),
        outcome.components,
        count(0) + count(1),
        count(2),
        count(3),
        levels.join(", ")
    )
}
