//! `runbom unused --runtime REPORT...`: installed distributions that no report loaded, as a
//! table, as JSON (`runbom.unused/v1`), or as the pruned requirements file a team installs from.

use std::io::Write;

use anyhow::Context;
use runbom_analysis::unused::{Pruned, UnusedReport, prune, unused};
use runbom_model::RuntimeReport;

use crate::cli::{UnusedArgs, UnusedFormat};
use crate::commands::ExitStatus;

pub fn run(args: &UnusedArgs) -> anyhow::Result<ExitStatus> {
    let mut reports = Vec::new();
    for path in &args.reports {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
        let report: RuntimeReport = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "`{}` is not a runtime report (runbom.runtime-report/v2)",
                path.display()
            )
        })?;
        reports.push(report);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        UnusedFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &unused(&reports))?;
            writeln!(out)?;
        }
        UnusedFormat::Table => write_table(&mut out, &unused(&reports))?,
        UnusedFormat::Requirements => write_requirements(&mut out, &prune(&reports), args)?,
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// Pinned requirements `pip install -r` accepts, each removed distribution a comment.
fn write_requirements(
    out: &mut impl Write,
    pruned: &Pruned,
    args: &UnusedArgs,
) -> std::io::Result<()> {
    let sources: Vec<String> = args
        .reports
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    writeln!(
        out,
        "# Pruned by `runbom unused --format requirements` from {} runtime report{}: what was\n\
         # loaded, plus what that needs by Requires-Dist. Reports: {}",
        sources.len(),
        if sources.len() == 1 { "" } else { "s" },
        sources.join(", ").replace('\n', " ")
    )?;
    for (name, version) in &pruned.keep {
        writeln!(out, "{name}=={version}")?;
    }
    for (name, version, why) in &pruned.removed {
        writeln!(out, "# removed {name}=={version}: {why}")?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, merged: &UnusedReport) -> std::io::Result<()> {
    let mut rows = vec![[
        "NAME".to_owned(),
        "VERSION".to_owned(),
        "SIZE".to_owned(),
        "WHY INSTALLED".to_owned(),
    ]];
    for dist in &merged.unused {
        rows.push([
            dist.name.clone(),
            dist.versions.join(", "),
            human_size(dist.size),
            why(dist),
        ]);
    }
    let widths: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:>w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )?;
    }
    writeln!(
        out,
        "{} of {} installed distributions never loaded in {} report{}, {} on disk",
        merged.unused.len(),
        merged.installed,
        merged.reports,
        if merged.reports == 1 { "" } else { "s" },
        human_size(merged.unused_size)
    )
}

fn why(dist: &runbom_analysis::unused::UnusedDistribution) -> String {
    if dist.top_level() {
        return "top-level install (nothing requires it)".to_owned();
    }
    let names = |list: &[runbom_model::PackageName]| {
        list.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if dist.pulled_in_by.is_empty() {
        format!(
            "required by {} (none of them loaded)",
            names(&dist.required_by)
        )
    } else if dist.pulled_in_by == dist.required_by {
        format!("required by {}", names(&dist.required_by))
    } else {
        format!(
            "required by {}; pulled in by loaded {}",
            names(&dist.required_by),
            names(&dist.pulled_in_by)
        )
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
