//! `runbom run -- CMD ARGS...`: runs CMD with the runtime hook first on `PYTHONPATH`, passes its
//! stdio, signals and exit status through untouched, and turns what was observed into runtime
//! reports handed to every sink (periodically with `--interval`, and once at exit). The language
//! of CMD is asked of the seam: a program whose artefact is what runs (a Go binary) is read
//! before it starts and reported as its own components; hook languages report what they loaded.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use runbom_ecosystems::hook::read_observations;
use runbom_ecosystems::python::runtime::{Session, cached_hook_dir, precompile_hook, write_hook};
use runbom_ecosystems::python::{cache_root, query_interpreter, read_inventory};
use runbom_ecosystems::report::{Observed, ReportContext};
use runbom_ecosystems::{Artefact, Hook, LANGUAGES, Launch, ObservedBy, Program, language_of};
use runbom_model::Language;
use runbom_model::inventory::Inventory;
use runbom_model::runtime::ProcessInfo;
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
    let chosen = language_of(&Program::resolve(&args.command[0]));
    let artefact = match &chosen {
        Some((module, path)) if module.observed_by() == ObservedBy::Artefact => {
            match module.artefact(path) {
                Ok(artefact) => Some(artefact),
                Err(why) => {
                    let why = anyhow::Error::from_boxed(why);
                    eprintln!("runbom: warning: not observed: {why:#}");
                    None
                }
            }
        }
        _ => None,
    };
    let assumed = args
        .python
        .clone()
        .or_else(|| {
            let (module, path) = chosen.as_ref()?;
            (module.language() == Language::Python).then(|| path.clone())
        })
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ahead = (artefact.is_none() || args.python.is_some())
        .then(|| read_inventory_ahead(assumed.clone()));
    let hooks = install_hooks(session.dir());
    let command = chosen
        .as_ref()
        .and_then(|(module, _)| hooks.iter().find(|h| h.language == module.language()))
        .and_then(|h| h.hook.wrap(&h.dir, &args.command))
        .unwrap_or_else(|| args.command.clone());
    let started_at = crate::commands::report_sink::now_rfc3339();
    let mut child = match Command::new(&command[0])
        .args(&command[1..])
        .envs(hooks.iter().flat_map(|h| h.launch.env.iter().cloned()))
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
    let artefact = artefact.map(|artefact| ArtefactRun {
        artefact,
        pid: child.id(),
        started_at,
        argv: args.command.clone(),
    });
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
        ahead,
        artefact,
        hooks,
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
            if report.processes.is_empty() {
                let languages: Vec<String> =
                    LANGUAGES.iter().map(|m| m.language().to_string()).collect();
                eprintln!(
                    "runbom: note: `{}` started no program runbom observes (one of {})",
                    args.command[0],
                    languages.join(", ")
                );
            }
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
    artefact: Option<ArtefactRun>,
    hooks: Vec<InstalledHook>,
}

/// A hook language's hook, written into the session.
struct InstalledHook {
    language: Language,
    hook: &'static dyn Hook,
    dir: PathBuf,
    launch: Launch,
}

/// Writes every hook language's hook into `session`; a hook that cannot be written is said on
/// stderr and its language runs unobserved.
fn install_hooks(session: &Path) -> Vec<InstalledHook> {
    LANGUAGES
        .iter()
        .filter_map(|module| {
            let hook = module.hook()?;
            let language = module.language();
            let dir = session.join(format!("hook-{language}"));
            match hook.install(&dir) {
                Ok(launch) => Some(InstalledHook {
                    language,
                    hook,
                    dir,
                    launch,
                }),
                Err(err) => {
                    let err = anyhow::Error::from(err);
                    eprintln!("runbom: warning: {language} programs not observed: {err:#}");
                    None
                }
            }
        })
        .collect()
}

/// The command, when its artefact is what runs: read before it started.
struct ArtefactRun {
    artefact: Box<dyn Artefact>,
    pid: u32,
    started_at: String,
    argv: Vec<String>,
}

impl ArtefactRun {
    fn observed(&self, exited: bool) -> Observed {
        let interpreter = self.artefact.interpreter();
        let distributions = self.artefact.components(Some(self.pid));
        let process = ProcessInfo {
            pid: self.pid,
            parent_pid: std::process::id(),
            started_at: self.started_at.clone(),
            argv: self.argv.clone(),
            executable: interpreter.executable.clone(),
            modules_loaded: distributions.iter().map(|d| d.modules.len()).sum(),
            hook_errors: 0,
            exited,
        };
        Observed {
            started_at: Some(self.started_at.clone()),
            command: self.argv.clone(),
            interpreter,
            processes: vec![process],
            distributions,
            stdlib_modules: Vec::new(),
            unowned_modules: Vec::new(),
            hook_errors: 0,
        }
    }
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
        let mut context = stamp(&self.base, self.sequence, complete, exit_code);
        // A report no Python process is in (a Tcl script, a Go binary) still has the session's
        // id: a server refuses a report without one.
        if context.session_id.is_empty() {
            context.session_id = self.session.id().to_owned();
        }
        // What the artefact and the hook languages observed; Python's session comes first when
        // it observed anything (a Go program that started Python has both in its report).
        let mut others: Vec<Observed> = self
            .artefact
            .iter()
            .map(|run| run.observed(complete))
            .chain(self.observed_by_hooks())
            .collect();
        let mut report = if self.session.observed_any() || others.is_empty() {
            let (report, problems) = self.session.report(&self.python, context)?;
            for problem in problems {
                warn(&problem.path, &problem.message);
            }
            report
        } else {
            context.report(others.remove(0))
        };
        for observed in others {
            observed.add_to(&mut report);
        }
        self.sequence += 1;
        for sink in &mut self.sinks {
            sink.deliver(&report)?;
        }
        Ok(report)
    }
}

impl Reporter {
    /// What each hook language's processes loaded so far, for those of which any ran.
    fn observed_by_hooks(&self) -> Vec<Observed> {
        let mut observed = Vec::new();
        for installed in &self.hooks {
            let (observations, problems) =
                read_observations(self.session.dir(), installed.language);
            for problem in &problems {
                warn(&problem.path, &problem.message);
            }
            if observations.is_empty() {
                continue;
            }
            let (seen, problems) = installed.hook.observe(&observations);
            for problem in &problems {
                warn(&problem.path, &problem.message);
            }
            observed.push(seen);
        }
        observed
    }
}

fn warn(path: &Path, message: &str) {
    eprintln!("runbom: warning: {}: {message}", path.display());
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
