//! `runbom hook flush --session DIR`: started (detached) by an installed hook at its periodic
//! flush and at exit; builds the session's report, writes it to `<report dir>/<session>.json` and,
//! with `--server` (`RUNBOM_SERVER`), sends it there (spooled while the server is unreachable).
//! Flushes of one session run one at a time (a lock file), numbering reports 0, 1, 2 …. What the
//! hook languages' processes observed in the same directory (`ruby-<pid>.json` of a hook installed
//! with `runbom hook install --ruby`) is in the same report.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use runbom_ecosystems::python::runtime::Session;

use crate::cli::HookFlushArgs;
use crate::commands::ExitStatus;
use crate::commands::config::report_redactor;
use crate::commands::hook_languages::{hook_languages, merged_report, observed_by_hooks};
use crate::commands::report_sink::{FileSink, ReportSink, ServerSink, base_context, stamp};

pub fn run(args: &HookFlushArgs) -> anyhow::Result<ExitStatus> {
    let _lock = SessionLock::acquire(&args.session)?;
    let sequence_file = args.session.join("sequence");
    let sequence: u64 = fs::read_to_string(&sequence_file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let mut session = Session::open(&args.session);
    let base = base_context(
        args.app.clone(),
        args.environment.clone(),
        Vec::new(),
        report_redactor(args.config.as_deref()),
    );
    let context = stamp(&base, sequence, args.complete, None);
    let others = observed_by_hooks(&args.session, hook_languages());
    let report = merged_report(&mut session, Path::new("python3"), context, others)?;
    let path = args.report_dir.join(format!("{}.json", session.id()));
    FileSink::new(path).deliver(&report)?;
    match ServerSink::from_args(&args.sender) {
        Ok(Some(mut sink)) => {
            sink.deliver(&report)?;
            sink.close();
        }
        Ok(None) => {}
        Err(err) => eprintln!("runbom: warning: not sending the report: {err:#}"),
    }
    fs::write(&sequence_file, (sequence + 1).to_string())
        .with_context(|| format!("cannot write `{}`", sequence_file.display()))?;
    if args.complete && report.processes.iter().all(|p| p.exited) {
        session.remove().ok();
    }
    Ok(ExitStatus::Success)
}

/// `flush.lock` in the session directory, created exclusively; one older than a minute is left
/// over from a crashed flush and taken over.
struct SessionLock {
    path: PathBuf,
}

impl SessionLock {
    fn acquire(session: &Path) -> anyhow::Result<Self> {
        let path = session.join("flush.lock");
        for _ in 0..400 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(Self { path }),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|m| SystemTime::now().duration_since(m).ok())
                        .is_some_and(|age| age > Duration::from_secs(60));
                    if stale {
                        let _ = fs::remove_file(&path);
                    } else {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
                Err(err) => {
                    return Err(err).with_context(|| format!("cannot create `{}`", path.display()));
                }
            }
        }
        anyhow::bail!("`{}` stayed locked for 20 s", path.display())
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
