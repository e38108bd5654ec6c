//! The `runbom` binary: parses the command line, runs one command, and turns its outcome into
//! an exit status (0 clean, 1 findings, 2 usage or input error).

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::commands::ExitStatus;

/// mimalloc instead of glibc's malloc, a C dependency for a measured reason: under ingest load
/// (`bench/ingest`) a quarter of the server's CPU went to glibc's malloc, free and
/// `malloc_consolidate` (each report is ~100 KB of JSON parsed into a few thousand small
/// strings), contended across the runtime's threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// From here on this process's heap grows in 4 KiB pages, not transparent huge pages. mimalloc
/// asks for huge pages on its arenas (`MADV_HUGEPAGE`), and a short-lived command that touches a
/// few MB then pays for zeroing whole 2 MiB pages: after `runbom run`'s program exits, `perf`
/// put two thirds of runbom's own CPU in the kernel's `clear_page` (bench/hook-overhead). The
/// setting is inherited by processes started later, so call it only after starting what is not
/// runbom's (the user's program keeps the machine's setting).
pub(crate) fn small_pages_from_here() {
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitStatus::Error.into()
        }
    }
}
