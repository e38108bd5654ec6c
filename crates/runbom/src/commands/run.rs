//! `runbom run -- CMD ARGS...`: runs CMD with the runtime hook first on `PYTHONPATH`, passes its
//! stdio, signals and exit status through untouched, and turns what the hook observed into
//! runtime reports handed to every sink (periodically with `--interval`, and once at exit).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use runbom_ecosystems::python::runtime::{Session, cached_hook_dir, precompile_hook, write_hook};
use runbom_ecosystems::python::{Python, cache_root, query_interpreter, read_inventory};
use runbom_ecosystems::report::ReportContext;
use runbom_ecosystems::{LanguageModule, Program};
use runbom_model::inventory::Inventory;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

use crate::cli::RunArgs;
use crate::commands::ExitStatus;
use crate::commands::report_sink::{
    FileSink, ReportSink, ServerSink, base_context, stamp, write_summary,
};

/// The directory put first on `PYTHONPATH`, and whether it is the cached hook (compiled once)
/// rather than a fresh copy in the session.
fn hook_dir(session: &Session) -> anyhow::Result<(PathBuf, bool)> {
    if let Some(dir) = cache_root().and_then(|cache| cached_hook_dir(&cache).ok()) {
        return Ok((dir, true));
    }
    let dir = session.dir().join("hook");
    write_hook(&dir, "sitecustomize.py")?;
    Ok((dir, false))
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitStatus> {
    let mut session = Session::create(&std::env::temp_dir())?;
    let (hook_dir, hook_is_cached) = hook_dir(&session)?;
    if let Some(python) = &args.python {
        session.force_interpreter(python.clone());
    }
    let assumed = args
        .python
        .clone()
        .or_else(|| Python.runs(&Program::resolve(&args.command[0])))
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ahead = read_inventory_ahead(assumed.clone());
    let mut child = match Command::new(&args.command[0])
        .args(&args.command[1..])
        .env("PYTHONPATH", python_path(&hook_dir))
        .env("RUNBOM_SESSION_DIR", session.dir())
        .env("RUNBOM_RUN", "1")
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            let _ = session.remove();
            eprintln!("runbom: cannot run `{}`: {err}", args.command[0]);
            return Ok(ExitStatus::Child(127));
        }
    };
    let forwarder = SignalForwarder::start(child.id())?;
    let (exited, wait) = mpsc::channel();
    thread::spawn(move || exited.send(child.wait()));

    let mut sinks: Vec<Box<dyn ReportSink>> = Vec::new();
    if let Some(path) = &args.report {
        sinks.push(Box::new(FileSink::new(path.clone())));
    }
    match ServerSink::from_args(&args.sender) {
        Ok(Some(sink)) => sinks.push(Box::new(sink)),
        Ok(None) => {}
        Err(err) => eprintln!("runbom: warning: not sending reports: {err:#}"),
    }
    let base = base_context(
        args.app.clone(),
        args.environment.clone(),
        args.command.clone(),
    );
    let mut reporter = Reporter {
        session,
        python: assumed,
        base,
        sinks,
        sequence: 0,
        ahead: Some(ahead),
    };
    let status = loop {
        let next = match args.interval {
            0 => wait
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            seconds => wait.recv_timeout(Duration::from_secs(seconds)),
        };
        match next {
            Ok(status) => break status.context("waiting for the command")?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(err) = reporter.report(false, None) {
                    eprintln!("runbom: warning: periodic report: {err:#}");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => anyhow::bail!("lost the command"),
        }
    };
    forwarder.stop();
    reporter.session.wait_for_running(Duration::from_secs(3));
    let code = exit_code(status);
    match reporter.report(true, Some(code)) {
        Ok(report) => {
            let _ = write_summary(&mut std::io::stderr().lock(), &report);
            if hook_is_cached {
                precompile_hook(&hook_dir, &report.interpreter);
            }
        }
        Err(err) => eprintln!("runbom: error: {err:#}"),
    }
    for sink in &mut reporter.sinks {
        sink.close();
    }
    let _ = reporter.session.remove();
    Ok(ExitStatus::Child(u8::try_from(code).unwrap_or(u8::MAX)))
}

/// Builds each report of the session and hands it to every sink.
struct Reporter {
    session: Session,
    python: PathBuf,
    base: ReportContext,
    sinks: Vec<Box<dyn ReportSink>>,
    sequence: u64,
    ahead: Option<thread::JoinHandle<Option<Inventory>>>,
}

impl Reporter {
    fn report(
        &mut self,
        complete: bool,
        exit_code: Option<i32>,
    ) -> anyhow::Result<runbom_model::RuntimeReport> {
        if let Some(inventory) = self.ahead.take().and_then(|h| h.join().ok()).flatten() {
            self.session.add_inventory(inventory);
        }
        let context = stamp(&self.base, self.sequence, complete, exit_code);
        let (report, problems) = self.session.report(&self.python, context)?;
        for problem in problems {
            eprintln!(
                "runbom: warning: {}: {}",
                problem.path.display(),
                problem.message
            );
        }
        self.sequence += 1;
        for sink in &mut self.sinks {
            sink.deliver(&report)?;
        }
        Ok(report)
    }
}

/// Reads the installed inventory while the command runs, so the report is ready soon after exit.
fn read_inventory_ahead(python: PathBuf) -> thread::JoinHandle<Option<Inventory>> {
    thread::spawn(move || {
        query_interpreter(&python)
            .ok()
            .map(|i| read_inventory(&i, &[]))
    })
}

/// The hook's directory first, then the user's `PYTHONPATH` as it was.
fn python_path(hook_dir: &Path) -> OsString {
    let mut paths = vec![hook_dir.to_owned()];
    if let Some(existing) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).unwrap_or_else(|_| hook_dir.as_os_str().to_owned())
}

/// The exit status as a shell reports it: the code, or 128 + the signal that killed it.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to runbom by another process to the child.
/// Signals from the terminal (sent by the kernel to the whole foreground group) already reach
/// the child and are not sent twice.
struct SignalForwarder {
    handle: signal_hook::iterator::Handle,
    thread: thread::JoinHandle<()>,
}

impl SignalForwarder {
    fn start(child: u32) -> anyhow::Result<Self> {
        let mut signals = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
            .context("cannot install signal handlers")?;
        let handle = signals.handle();
        let pid = i32::try_from(child)
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        let thread = thread::spawn(move || {
            for origin in signals.forever() {
                if matches!(origin.cause, Cause::Kernel) {
                    continue;
                }
                if let (Some(pid), Some(signal)) =
                    (pid, rustix::process::Signal::from_named_raw(origin.signal))
                {
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
        });
        Ok(Self { handle, thread })
    }

    fn stop(self) {
        self.handle.close();
        let _ = self.thread.join();
    }
}
