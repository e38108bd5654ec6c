//! `runbom db import PATH...`: reads advisory files, trees and zip archives with the readers of
//! `runbom_sources::advisories` and imports them into the store, one source per path, behind a
//! progress bar. Malformed records are named on stderr and counted as skipped.

use std::path::Path;

use anyhow::Context;
use runbom_sources::advisories::AdvisoryStream;
use runbom_store::{ImportSource, ImportStats, Store};

use crate::cli::DbImportArgs;
use crate::commands::{ExitStatus, open_store, progress};

pub fn run(args: &DbImportArgs) -> anyhow::Result<ExitStatus> {
    for path in &args.paths {
        if !path.exists() {
            anyhow::bail!("`{}` does not exist", path.display());
        }
    }
    let (runtime, store) = open_store(&args.store)?;
    let streams: Vec<AdvisoryStream> = args
        .paths
        .iter()
        .map(|p| AdvisoryStream::open(std::slice::from_ref(p)))
        .collect();
    let files: usize = streams.iter().map(AdvisoryStream::files).sum();
    let bar = progress::bar(files as u64, "importing advisories");
    let mut total = ImportStats::default();
    let mut skipped = Vec::new();
    for (path, stream) in args.paths.iter().zip(streams) {
        let source = ImportSource {
            name: args.source.clone().unwrap_or_else(|| source_name(path)),
            location: std::path::absolute(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
            etag: None,
            last_modified: None,
        };
        let stats = import(&runtime, &store, &source, stream, &bar, &mut skipped)
            .with_context(|| format!("cannot import `{}`", path.display()))?;
        add(&mut total, stats);
    }
    bar.finish_and_clear();
    report_skipped(&skipped);
    println!("{}", summary(&total));
    Ok(ExitStatus::Success)
}

/// Imports one stream, ticking `bar` per file and collecting the reasons of skipped records.
pub(crate) fn import(
    runtime: &tokio::runtime::Runtime,
    store: &Store,
    source: &ImportSource,
    stream: AdvisoryStream,
    bar: &indicatif::ProgressBar,
    skipped: &mut Vec<String>,
) -> anyhow::Result<ImportStats> {
    let records = stream.map(|item| {
        bar.inc(1);
        item.inspect_err(|e| skipped.push(e.to_string()))
    });
    Ok(runtime.block_on(store.import_advisories(source, records))?)
}

/// `pypa-advisory-database.zip` → `pypa-advisory-database`; a directory keeps its name.
fn source_name(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let name = if absolute.is_dir() {
        absolute.file_name()
    } else {
        absolute.file_stem()
    };
    name.map_or_else(|| "import".to_owned(), |n| n.to_string_lossy().into_owned())
}

pub(crate) fn add(total: &mut ImportStats, stats: ImportStats) {
    total.added += stats.added;
    total.updated += stats.updated;
    total.unchanged += stats.unchanged;
    total.withdrawn += stats.withdrawn;
    total.skipped += stats.skipped;
}

/// Names each skipped record and why, on stderr.
pub(crate) fn report_skipped(skipped: &[String]) {
    for error in skipped {
        eprintln!("skipped: {error}");
    }
}

/// `8186 records: 8186 new, 0 updated, 0 unchanged, 0 withdrawn, 0 skipped`.
pub(crate) fn summary(stats: &ImportStats) -> String {
    format!(
        "{} records: {} new, {} updated, {} unchanged, {} withdrawn, {} skipped",
        stats.total(),
        stats.added,
        stats.updated,
        stats.unchanged,
        stats.withdrawn,
        stats.skipped
    )
}
