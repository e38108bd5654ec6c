//! `runbom db update`: downloads OSV's bulk export of each configured ecosystem with a
//! conditional request (the validators of the last download are kept per source in the store),
//! then imports the fresh ones. Every download is made and checked before anything is imported,
//! so an unreachable server or a broken archive leaves the store as it was.

use anyhow::Context;
use runbom_sources::advisories::AdvisoryStream;
use runbom_sources::advisories::download::{
    DEFAULT_ECOSYSTEMS, Download, Downloader, OSV_BULK, Validators, bulk_url,
};
use runbom_store::{ImportSource, ImportStats, SourceStatus};

use super::import::{add, import, report_skipped, summary};
use crate::cli::DbUpdateArgs;
use crate::commands::config::load_project_config;
use crate::commands::{ExitStatus, open_store, progress};

/// One source after its download.
enum Fetched {
    NotModified(ImportSource),
    Fresh(ImportSource, AdvisoryStream),
}

pub fn run(args: &DbUpdateArgs) -> anyhow::Result<ExitStatus> {
    let config = load_project_config(args.config.as_deref())?;
    let base = args
        .osv_url
        .clone()
        .or_else(|| config.and_then(|c| c.advisories.osv_url.map(|u| u.value)))
        .unwrap_or_else(|| OSV_BULK.to_owned());
    let ecosystems: Vec<String> = if args.ecosystems.is_empty() {
        DEFAULT_ECOSYSTEMS.iter().map(|e| (*e).to_owned()).collect()
    } else {
        args.ecosystems.clone()
    };
    let (runtime, store) = open_store(&args.store)?;
    let known = runtime.block_on(store.sources())?;
    let downloader = Downloader::new()?;
    let mut fetched = Vec::new();
    for ecosystem in &ecosystems {
        let source = ImportSource {
            name: format!("osv-{ecosystem}"),
            location: bulk_url(&base, ecosystem),
            etag: None,
            last_modified: None,
        };
        fetched.push(
            fetch(&downloader, source, &known)
                .context("nothing was imported; the store is unchanged")?,
        );
    }
    let mut total = ImportStats::default();
    let mut skipped = Vec::new();
    for fetched in fetched {
        match fetched {
            Fetched::NotModified(source) => {
                runtime.block_on(store.mark_checked(&source))?;
                println!("{}: not modified since the last update", source.name);
            }
            Fetched::Fresh(source, stream) => {
                let bar =
                    progress::bar(stream.files() as u64, &format!("importing {}", source.name));
                let stats = import(&runtime, &store, &source, stream, &bar, &mut skipped)
                    .with_context(|| format!("cannot import `{}`", source.location))?;
                bar.finish_and_clear();
                println!("{}: {}", source.name, summary(&stats));
                add(&mut total, stats);
            }
        }
    }
    report_skipped(&skipped);
    println!("total: {}", summary(&total));
    Ok(ExitStatus::Success)
}

/// Downloads one source, conditional on what the store kept of its last download.
fn fetch(
    downloader: &Downloader,
    mut source: ImportSource,
    known: &[SourceStatus],
) -> anyhow::Result<Fetched> {
    let validators = known
        .iter()
        .find(|s| s.name == source.name && s.location == source.location)
        .map(|s| Validators {
            etag: s.etag.clone(),
            last_modified: s.last_modified.clone(),
        })
        .unwrap_or_default();
    let bar = progress::bytes(0, &format!("downloading {}", source.name));
    let download = downloader.fetch(&source.location, &validators, &|received, total| {
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(received);
    });
    bar.finish_and_clear();
    match download? {
        Download::NotModified => {
            source.etag = validators.etag;
            source.last_modified = validators.last_modified;
            Ok(Fetched::NotModified(source))
        }
        Download::Fresh { body, validators } => {
            let stream = AdvisoryStream::from_zip(&source.location, body)?;
            source.etag = validators.etag;
            source.last_modified = validators.last_modified;
            Ok(Fetched::Fresh(source, stream))
        }
    }
}
