//! `runbom outdated`: for each component, the newest release on its package index, both release
//! dates and whether the installed release was yanked; as a table or JSON
//! (`runbom.outdated/v1`, see `docs/reference/outdated.md`).

use std::io::Write;

use runbom_analysis::policy::{Component, Releases, newest, published};
use runbom_model::release::ProjectReleases;
use runbom_versions::Version;
use serde::Serialize;

use crate::cli::{Format, OutdatedArgs};
use crate::commands::ExitStatus;
use crate::commands::components::{Inputs, fetch_releases, gather};

/// The `schema` value of every outdated report this version writes.
pub const OUTDATED_SCHEMA: &str = "runbom.outdated/v1";

/// Where one component stands against its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Status {
    UpToDate,
    Outdated,
    Yanked,
    /// The installed version is newer than any release (a local or pre-release build).
    Ahead,
    NotOnIndex,
    /// No version to compare (an unpinned SBOM entry).
    Unknown,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::UpToDate => "up to date",
            Status::Outdated => "outdated",
            Status::Yanked => "yanked",
            Status::Ahead => "ahead of index",
            Status::NotOnIndex => "not on index",
            Status::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Serialize)]
struct Row {
    ecosystem: runbom_model::Ecosystem,
    name: String,
    installed: Option<String>,
    installed_published: Option<String>,
    newest: Option<String>,
    newest_published: Option<String>,
    /// Days between the installed release and the newest one.
    days_behind: Option<i64>,
    yanked: bool,
    yanked_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loaded: Option<bool>,
    status: Status,
}

pub fn run(args: &OutdatedArgs) -> anyhow::Result<ExitStatus> {
    let gathered = gather(&Inputs {
        python: args.python.as_deref(),
        paths: &args.paths,
        runtime: &args.runtime,
        expected: &args.expected,
    })?;
    let releases = fetch_releases(&gathered.components, args.index.settings())?;
    let rows: Vec<Row> = gathered
        .components
        .iter()
        .map(|c| row(c, &releases))
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => {
            let document = serde_json::json!({
                "schema": OUTDATED_SCHEMA,
                "inputs": gathered.inputs,
                "components": rows,
            });
            serde_json::to_writer_pretty(&mut out, &document)?;
            writeln!(out)?;
        }
        Format::Table => write_table(&mut out, &rows)?,
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

fn row(component: &Component, releases: &Releases) -> Row {
    let project = releases.get(&(component.ecosystem, component.normalized.clone()));
    let mut row = Row {
        ecosystem: component.ecosystem,
        name: component.name.clone(),
        installed: component.version.clone(),
        installed_published: None,
        newest: None,
        newest_published: None,
        days_behind: None,
        yanked: false,
        yanked_reason: None,
        loaded: component.loaded,
        status: Status::NotOnIndex,
    };
    let Some(project) = project else {
        return row;
    };
    let installed = component
        .version
        .as_deref()
        .and_then(|v| installed_release(project, v));
    let prerelease = component
        .version
        .as_deref()
        .and_then(|v| Version::parse(project.ecosystem, v).ok())
        .is_some_and(|v| v.is_prerelease());
    let newest = newest(project, prerelease);
    if let Some(release) = installed {
        row.installed_published = release.published.clone();
        row.yanked = release.yanked;
        row.yanked_reason = release.yanked_reason.as_ref().map(|r| r.trim().to_owned());
    }
    if let Some((release, _)) = &newest {
        row.newest = Some(release.version.clone());
        row.newest_published = release.published.clone();
        if let (Some(mine), Some(theirs)) = (installed.and_then(published), published(release)) {
            row.days_behind = Some((theirs - mine).whole_days().max(0));
        }
    }
    let order = component
        .version
        .as_deref()
        .and_then(|v| Version::parse(project.ecosystem, v).ok())
        .zip(newest.as_ref())
        .and_then(|(mine, (_, theirs))| mine.compare(theirs));
    row.status = match (row.yanked, order) {
        (true, _) => Status::Yanked,
        (false, Some(std::cmp::Ordering::Less)) => Status::Outdated,
        (false, Some(std::cmp::Ordering::Greater)) => Status::Ahead,
        (false, Some(std::cmp::Ordering::Equal)) => Status::UpToDate,
        (false, None) => Status::Unknown,
    };
    if row.status == Status::UpToDate {
        row.days_behind = Some(0);
    }
    row
}

/// The release of `version`, by spelling or else by version equality (`1.0` is `1.0.0`).
fn installed_release<'a>(
    project: &'a ProjectReleases,
    version: &str,
) -> Option<&'a runbom_model::release::Release> {
    project.release(version).or_else(|| {
        let wanted = Version::parse(project.ecosystem, version).ok()?;
        project
            .releases
            .iter()
            .find(|r| Version::parse(project.ecosystem, &r.version).is_ok_and(|v| v == wanted))
    })
}

fn date(rfc3339: Option<&String>) -> String {
    rfc3339.map_or_else(|| "-".to_owned(), |d| d.chars().take(10).collect())
}

fn write_table(out: &mut impl Write, rows: &[Row]) -> anyhow::Result<()> {
    let mut table = vec![[
        "NAME".to_owned(),
        "INSTALLED".to_owned(),
        "RELEASED".to_owned(),
        "NEWEST".to_owned(),
        "RELEASED".to_owned(),
        "BEHIND".to_owned(),
        "STATUS".to_owned(),
    ]];
    for row in rows {
        let status = match (&row.yanked_reason, row.status) {
            (Some(reason), Status::Yanked) => format!("yanked: {reason}"),
            (_, status) => status.as_str().to_owned(),
        };
        table.push([
            row.name.clone(),
            row.installed.clone().unwrap_or_else(|| "-".to_owned()),
            date(row.installed_published.as_ref()),
            row.newest.clone().unwrap_or_else(|| "-".to_owned()),
            date(row.newest_published.as_ref()),
            row.days_behind
                .map_or_else(|| "-".to_owned(), |d| format!("{d}d")),
            status,
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in &table {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    let outdated = rows.iter().filter(|r| r.status == Status::Outdated).count();
    let yanked = rows.iter().filter(|r| r.status == Status::Yanked).count();
    writeln!(
        out,
        "{} components: {outdated} outdated, {yanked} yanked",
        rows.len()
    )?;
    Ok(())
}
