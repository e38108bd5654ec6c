//! `runbom verify --format table`: one line per finding, then a summary line.

use std::io::Write;

use runbom_analysis::verify::FindingCode;

use super::VerifyOutcome;
use crate::commands::columns;

pub fn write(out: &mut impl Write, outcome: &VerifyOutcome) -> anyhow::Result<()> {
    if !outcome.findings.is_empty() {
        let mut rows = vec![[
            "CODE".to_owned(),
            "LEVEL".to_owned(),
            "SUBJECT".to_owned(),
            "VERSION".to_owned(),
            "DETAIL".to_owned(),
        ]];
        for finding in &outcome.findings {
            let mut detail = finding.message.clone();
            if !finding.modules.is_empty() && finding.code != FindingCode::UnknownCode {
                detail.push_str(&format!("; loaded: {}", finding.modules.join(", ")));
            }
            rows.push([
                finding.code.to_string(),
                finding.level.as_str().to_owned(),
                finding.subject.clone(),
                finding.version.clone().unwrap_or_else(|| "-".to_owned()),
                detail,
            ]);
        }
        columns::write_rows(out, &rows)?;
    }
    writeln!(out, "{}", summary(outcome))?;
    Ok(())
}

fn summary(outcome: &VerifyOutcome) -> String {
    let against = format!(
        "{} distributions observed ({} runtime reports{}) against {} expected components of `{}`",
        outcome.distributions_observed(),
        outcome.reports.len(),
        match &outcome.scan {
            Some(scan) => format!(", {} installed files hashed", scan.files_hashed),
            None => String::new(),
        },
        outcome.expected.components.len(),
        outcome.expected.source
    );
    if outcome.findings.is_empty() {
        return format!("clean: {against}");
    }
    let counts: Vec<String> = FindingCode::ALL
        .iter()
        .filter_map(|code| {
            let n = outcome.findings.iter().filter(|f| f.code == *code).count();
            (n > 0).then(|| format!("{n} {code}"))
        })
        .collect();
    format!(
        "{} findings ({}): {against}",
        outcome.findings.len(),
        counts.join(", ")
    )
}
