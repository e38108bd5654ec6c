//! `runbom db status`: every advisory source in the store with its location, counts per
//! ecosystem, last import and check, and the age of its data; as a table or JSON
//! (`runbom.db-status/v1`).

use std::collections::BTreeMap;
use std::io::Write;

use runbom_store::SourceStatus;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::{DbStatusArgs, Format};
use crate::commands::{ExitStatus, columns, open_store};

pub fn run(args: &DbStatusArgs) -> anyhow::Result<ExitStatus> {
    let (runtime, store) = open_store(&args.store)?;
    let sources = runtime.block_on(store.sources())?;
    let now = OffsetDateTime::now_utc();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Table => table(&mut out, &sources, now)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &document(&sources, now))?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// Seconds since the source was last imported or found unchanged.
fn age_seconds(source: &SourceStatus, now: OffsetDateTime) -> Option<i64> {
    [&source.last_import, &source.last_checked]
        .into_iter()
        .flatten()
        .filter_map(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .max()
        .map(|t| (now - t).whole_seconds().max(0))
}

/// `45s`, `12m`, `5h 3m`, `3d 4h`.
fn age_text(seconds: i64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

fn totals(sources: &[SourceStatus]) -> BTreeMap<&str, u64> {
    let mut totals = BTreeMap::new();
    for source in sources {
        for count in &source.counts {
            *totals.entry(count.ecosystem.as_str()).or_default() += count.advisories;
        }
    }
    totals
}

fn table(
    out: &mut impl Write,
    sources: &[SourceStatus],
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    if sources.is_empty() {
        writeln!(
            out,
            "no advisory sources: run `runbom db update` or `runbom db import PATH`"
        )?;
        return Ok(());
    }
    let mut rows = vec![[
        "SOURCE".to_owned(),
        "ADVISORIES".to_owned(),
        "WITHDRAWN".to_owned(),
        "LAST IMPORT".to_owned(),
        "AGE".to_owned(),
        "LOCATION".to_owned(),
    ]];
    for source in sources {
        let counts: Vec<String> = source
            .counts
            .iter()
            .map(|c| format!("{} {}", c.ecosystem, c.advisories))
            .collect();
        rows.push([
            source.name.clone(),
            if counts.is_empty() {
                "0".to_owned()
            } else {
                counts.join(", ")
            },
            source.withdrawn.to_string(),
            source.last_import.clone().unwrap_or_else(|| "-".to_owned()),
            age_seconds(source, now).map_or_else(|| "-".to_owned(), age_text),
            source.location.clone(),
        ]);
    }
    columns::write_rows(out, &rows)?;
    let totals: Vec<String> = totals(sources)
        .into_iter()
        .map(|(ecosystem, n)| format!("{ecosystem} {n}"))
        .collect();
    writeln!(
        out,
        "{} sources; advisories per ecosystem: {}",
        sources.len(),
        if totals.is_empty() {
            "none".to_owned()
        } else {
            totals.join(", ")
        }
    )?;
    Ok(())
}

fn document(sources: &[SourceStatus], now: OffsetDateTime) -> serde_json::Value {
    let list: Vec<serde_json::Value> = sources
        .iter()
        .map(|s| {
            let counts: BTreeMap<&str, u64> = s
                .counts
                .iter()
                .map(|c| (c.ecosystem.as_str(), c.advisories))
                .collect();
            json!({
                "name": s.name,
                "location": s.location,
                "last_import": s.last_import,
                "last_checked": s.last_checked,
                "age_seconds": age_seconds(s, now),
                "etag": s.etag,
                "last_modified": s.last_modified,
                "advisories": counts,
                "withdrawn": s.withdrawn,
            })
        })
        .collect();
    json!({
        "schema": "runbom.db-status/v1",
        "sources": list,
        "totals": totals(sources),
    })
}

#[cfg(test)]
mod tests {
    use super::age_text;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(age_text(45), "45s");
        assert_eq!(age_text(12 * 60 + 5), "12m");
        assert_eq!(age_text(5 * 3600 + 3 * 60), "5h 3m");
        assert_eq!(age_text(3 * 86_400 + 4 * 3600 + 59), "3d 4h");
    }
}
