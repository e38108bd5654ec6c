//! `runbom agent --server URL --interval 10s`: a host daemon that scans `/proc` every interval
//! and reports each Python or Go process as an instance, read as `runbom attach` reads it — once
//! when first seen, again when its memory maps change (it loaded or unloaded native code), and a
//! last time, complete, when it is gone — through the same sender (spool, backoff). An unchanged
//! process is reported again every [`HEARTBEAT_EVERY`], which the sender turns into a digest
//! heartbeat of a few hundred bytes, so the server keeps it live. A process it
//! may not read is skipped and said once. Cheap per scan: a process already known is looked at
//! through its `stat` and `maps` only.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use runbom_ecosystems::process::{self, LiveProcess, ProcessError, Stat};
use runbom_ecosystems::report::ReportContext;
use runbom_model::RuntimeReport;

use crate::cli::AgentArgs;
use crate::commands::ExitStatus;
use crate::commands::attach::{Outcome, is_gone, report_of_process};
use crate::commands::config::report_redactor;
use crate::commands::report_sink::{ReportSink, ServerSink, base_context, now_rfc3339, stamp};

/// How often an unchanged process is reported again (as a heartbeat), well within the
/// server's default `--gone-after` of 300 s.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(60);

/// What the agent knows of one process, by `(pid, start time)` (a pid may be reused).
#[derive(Debug)]
enum Known {
    /// Reported: its last report and its maps when it was read.
    Reported {
        report: Box<RuntimeReport>,
        fingerprint: u64,
        sent_at: Instant,
    },
    /// Not a program the agent reports, or one it may not read (said once).
    Ignored,
}

/// One scan's counts, for the agent's log and its benchmark.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanCounts {
    pub processes: usize,
    pub reported: usize,
    /// Unchanged processes reported again (heartbeats).
    pub heartbeats: usize,
    pub gone: usize,
}

/// The agent's state across scans.
#[derive(Debug)]
pub struct Agent {
    base: ReportContext,
    known: HashMap<(u32, u64), Known>,
    only: Vec<std::path::PathBuf>,
}

impl Agent {
    /// An agent reporting in `base`, only processes under `only` when it is not empty.
    pub fn new(base: ReportContext, only: Vec<std::path::PathBuf>) -> Self {
        Self {
            base,
            known: HashMap::new(),
            only,
        }
    }

    fn wanted(&self, process: &LiveProcess) -> bool {
        self.only.is_empty()
            || self.only.iter().any(|dir| {
                process.executable.starts_with(dir)
                    || process
                        .argv
                        .first()
                        .is_some_and(|argv0| std::path::Path::new(argv0).starts_with(dir))
            })
    }

    /// Scans every process once; each report to send is handed to `deliver`.
    pub fn scan(&mut self, deliver: &mut dyn FnMut(&RuntimeReport)) -> ScanCounts {
        let me = std::process::id();
        let mut counts = ScanCounts::default();
        let mut alive = std::collections::HashSet::new();
        for pid in process::pids() {
            if pid == me {
                continue;
            }
            counts.processes += 1;
            let Some(started) = Stat::of(pid).map(|stat| stat.start_ticks) else {
                continue;
            };
            let key = (pid, started);
            alive.insert(key);
            match self.known.get_mut(&key) {
                Some(Known::Ignored) => continue,
                // Seen and reported: read again only when what it maps changed.
                Some(Known::Reported {
                    fingerprint,
                    report,
                    sent_at,
                }) if process::read_maps(pid)
                    .is_ok_and(|maps| process::fingerprint(&maps) == *fingerprint) =>
                {
                    if sent_at.elapsed() >= HEARTBEAT_EVERY {
                        report.sequence += 1;
                        report.report_id = runbom_ecosystems::report::new_id();
                        report.reported_at = now_rfc3339();
                        deliver(report);
                        *sent_at = Instant::now();
                        counts.heartbeats += 1;
                    }
                    continue;
                }
                _ => {}
            }
            let process = match LiveProcess::read(pid) {
                Ok(process) => process,
                // A reported process that exited meanwhile is reported complete next scan.
                Err(ProcessError::Gone { .. }) if self.known.contains_key(&key) => continue,
                Err(ProcessError::Gone { .. } | ProcessError::KernelThread { .. }) => {
                    self.known.insert(key, Known::Ignored);
                    continue;
                }
                Err(err) => {
                    eprintln!("runbom agent: skipping process {pid}: {err}");
                    self.known.insert(key, Known::Ignored);
                    continue;
                }
            };
            if !self.wanted(&process) {
                self.known.insert(key, Known::Ignored);
                continue;
            }
            let fingerprint = process.maps_fingerprint();
            let sequence = match self.known.get(&key) {
                Some(Known::Reported {
                    fingerprint: known, ..
                }) if *known == fingerprint => continue,
                Some(Known::Reported { report, .. }) => report.sequence + 1,
                _ => 0,
            };
            match report_of_process(&process, "agent", stamp(&self.base, sequence, false, None)) {
                Outcome::Report(_, Some(hooked)) => {
                    // The hook reports this process itself, with fuller evidence.
                    eprintln!("runbom agent: not reporting process {pid}: {hooked}");
                    self.known.insert(key, Known::Ignored);
                }
                Outcome::Report(report, None) => {
                    deliver(&report);
                    counts.reported += 1;
                    self.known.insert(
                        key,
                        Known::Reported {
                            report,
                            fingerprint,
                            sent_at: Instant::now(),
                        },
                    );
                }
                Outcome::Foreign { .. } => {
                    self.known.insert(key, Known::Ignored);
                }
                Outcome::Failed(err) => {
                    // Said once: the process is not looked at again.
                    if !is_gone(&err) {
                        eprintln!("runbom agent: skipping process {pid}: {err:#}");
                    }
                    self.known.insert(key, Known::Ignored);
                }
            }
        }
        // Processes gone since the last scan: their last report again, complete.
        let gone: Vec<(u32, u64)> = self
            .known
            .keys()
            .filter(|k| !alive.contains(k))
            .copied()
            .collect();
        for key in gone {
            if let Some(Known::Reported { mut report, .. }) = self.known.remove(&key) {
                report.sequence += 1;
                report.complete = true;
                report.report_id = runbom_ecosystems::report::new_id();
                report.reported_at = now_rfc3339();
                for process in &mut report.processes {
                    process.exited = true;
                }
                deliver(&report);
                counts.gone += 1;
            }
        }
        counts
    }
}

pub fn run(args: &AgentArgs) -> anyhow::Result<ExitStatus> {
    let Some(mut sink) = ServerSink::from_args(&args.sender)? else {
        anyhow::bail!("`runbom agent` needs `--server URL` and `--token TOKEN` to report to");
    };
    let mut agent = Agent::new(
        base_context(
            args.app.clone(),
            args.environment.clone(),
            Vec::new(),
            report_redactor(args.config.as_deref()),
        ),
        args.only.clone(),
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    eprintln!(
        "runbom agent: scanning every {:?}, reporting to {}",
        args.interval,
        args.sender.server.as_deref().unwrap_or_default()
    );
    let mut scans = 0u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let started = Instant::now();
        let counts = agent.scan(&mut |report| {
            if let Err(err) = sink.deliver(report) {
                eprintln!("runbom agent: warning: {err:#}");
            }
        });
        if counts.reported + counts.gone > 0 {
            eprintln!(
                "runbom agent: scanned {} processes in {:.0?}: {} reported, {} gone",
                counts.processes,
                started.elapsed(),
                counts.reported,
                counts.gone
            );
        }
        scans += 1;
        if args.scans > 0 && scans >= args.scans {
            break;
        }
        let deadline = started + args.interval;
        while Instant::now() < deadline && !stop.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50).min(args.interval));
        }
    }
    sink.close();
    Ok(ExitStatus::Success)
}
