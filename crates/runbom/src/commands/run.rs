//! `runbom run -- CMD ARGS...`: runs CMD with the runtime hook first on `PYTHONPATH`, passes its
//! stdio, signals and exit status through untouched, and turns what was observed into runtime
//! reports handed to every sink (periodically with `--interval`, and once at exit). The language
//! of CMD is asked of the seam: a program whose artefact is what runs (a Go binary) is read
//! before it starts and reported as its own components; hook languages report what they loaded.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use runbom_ecosystems::cache::cache_root;
use runbom_ecosystems::descendants::{Descendants, become_subreaper};
use runbom_ecosystems::perl::inventory::{self as perl_inventory, DpkgDatabase};
use runbom_ecosystems::python::hash_cache::HashCache;
use runbom_ecosystems::python::runtime::{Session, cached_hook_dir, precompile_hook, write_hook};
use runbom_ecosystems::python::{query_interpreter, read_inventory};
use runbom_ecosystems::report::{Observed, ReportContext};
use runbom_ecosystems::{Hook, LANGUAGES, Launch, ObservedBy, Program, language_of};
use runbom_model::Language;
use runbom_model::inventory::Inventory;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

use crate::cli::{EnforceArgs, RunArgs};
use crate::commands::ExitStatus;
use crate::commands::config::report_redactor;
use crate::commands::enforce::{PreparedTable, prepare, prepare_perl, prepare_ruby};
use crate::commands::hook_languages::{merged_report, observed_by_hooks};
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
    let enforced = match &args.enforce.enforce {
        Some(expected) => {
            let hooked = chosen
                .as_ref()
                .map(|(module, path)| (module.language(), path.as_path()));
            match prepare_enforcement(&args.enforce, expected, hooked, &assumed, &mut session) {
                Ok(prepared) => Some(prepared),
                Err(err) => {
                    let _ = session.remove();
                    return Err(err);
                }
            }
        }
        None => None,
    };
    let read_ahead_inventory = enforced.is_none() && (artefact.is_none() || args.python.is_some());
    let hooks = install_hooks(session.dir());
    let command = chosen
        .as_ref()
        .and_then(|(module, _)| hooks.iter().find(|h| h.language == module.language()))
        .and_then(|h| h.hook.wrap(&h.dir, &args.command))
        .unwrap_or_else(|| args.command.clone());
    // Orphans of the command's tree (a daemon whose parent exits) stay in it, to be observed.
    if let Err(err) = become_subreaper() {
        eprintln!("runbom: warning: descendants whose parent exits are not observed: {err}");
    }
    let mut child = match Command::new(&command[0])
        .args(&command[1..])
        .envs(hooks.iter().flat_map(|h| h.launch.env.iter().cloned()))
        .env("PYTHONPATH", python_path(&hook_dir))
        .env("RUNBOM_SESSION_DIR", session.dir())
        .env("RUNBOM_RUN", "1")
        .envs(enforced.iter().flat_map(|table| table.env()))
        .spawn()
    {
        Ok(child) => {
            crate::small_pages_from_here();
            child
        }
        Err(err) => {
            let _ = session.remove();
            eprintln!("runbom: cannot run `{}`: {err}", args.command[0]);
            return Ok(ExitStatus::Child(127));
        }
    };
    // Started only now, so that runbom's threads do not delay the program's start.
    let ahead = Ahead::start(read_ahead_inventory.then(|| assumed.clone()));
    let mut descendants = Descendants::new(child.id());
    if let (Some(artefact), Some((_, path))) = (artefact, &chosen) {
        descendants.add_command(artefact, path, &args.command);
    }
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
        report_redactor(args.enforce.config.as_deref()),
    );
    let mut reporter = Reporter {
        session,
        python: assumed,
        base,
        sinks,
        sequence: 0,
        ahead,
        descendants,
        hooks,
    };
    let mut watch = Watch::new();
    // With enforcement, a refusal is reported as soon as its process says so (`n<pid>`).
    let news_tick = enforced.as_ref().map(|_| Duration::from_millis(100));
    let interval = (args.interval > 0).then(|| Duration::from_secs(args.interval));
    let mut next_periodic = interval.map(|i| Instant::now() + i);
    let status = loop {
        let until_periodic = next_periodic.map(|p| p.saturating_duration_since(Instant::now()));
        let timeout = [news_tick, until_periodic, Some(watch.left())]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(Duration::ZERO);
        match wait.recv_timeout(timeout) {
            Ok(status) => break status.context("waiting for the command")?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if watch.due() {
                    watch.after(reporter.watch());
                }
                let periodic = next_periodic.is_some_and(|p| Instant::now() >= p);
                if periodic {
                    next_periodic = interval.map(|i| Instant::now() + i);
                }
                if (periodic || reporter.session.take_news())
                    && let Err(err) = reporter.report(false, None)
                {
                    eprintln!("runbom: warning: periodic report: {err:#}");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => anyhow::bail!("lost the command"),
        }
    };
    forwarder.stop();
    reporter.session.wait_for_running(Duration::from_secs(3));
    reporter.watch();
    let code = exit_code(status);
    match reporter.report(true, Some(code)) {
        Ok(report) => {
            // One write, not one per line: stderr is unbuffered.
            let mut summary = std::io::BufWriter::new(std::io::stderr().lock());
            let _ = write_summary(&mut summary, &report).and_then(|()| summary.flush());
            reporter.say_unseen();
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
    // The inventories (~30,000 RECORD rows here) are freed by the process's exit, which follows:
    // dropping them one by one would only delay the exit status the caller waits for.
    std::mem::forget(reporter);
    Ok(ExitStatus::Child(u8::try_from(code).unwrap_or(u8::MAX)))
}

/// Writes the enforcement table into the session for the language of the program (`program`:
/// its language and interpreter; Python's `python` otherwise), from its interpreter's installed
/// inventory read now (the table needs it before the program starts; Python's report reuses it).
fn prepare_enforcement(
    args: &EnforceArgs,
    expected: &Path,
    program: Option<(Language, &Path)>,
    python: &Path,
    session: &mut Session,
) -> anyhow::Result<PreparedTable> {
    let table = session.dir().join("enforce.tsv");
    let cannot_ask = |path: &Path| format!("cannot enforce: cannot ask `{}`", path.display());
    let prepared = match program {
        Some((Language::Ruby, ruby)) => {
            let interpreter = runbom_ecosystems::ruby::query_interpreter(ruby)
                .with_context(|| cannot_ask(ruby))?;
            let inventory = runbom_ecosystems::ruby::read_inventory(&interpreter, &[]);
            prepare_ruby(args, expected, &inventory, &table)?
        }
        Some((Language::Perl, perl)) => {
            let info = perl_inventory::query_perl(perl).with_context(|| cannot_ask(perl))?;
            let inventory = perl_inventory::read_inventory(info, &DpkgDatabase::default());
            prepare_perl(args, expected, &inventory, &table)?
        }
        _ => {
            let interpreter = query_interpreter(python).with_context(|| cannot_ask(python))?;
            let inventory = read_inventory(&interpreter, &[]);
            let prepared = prepare(args, expected, &inventory, &table)?;
            session.add_inventory(inventory);
            prepared
        }
    };
    eprintln!("{}", prepared.describe(expected));
    Ok(prepared)
}

/// Builds each report of the session and hands it to every sink.
struct Reporter {
    session: Session,
    python: PathBuf,
    base: ReportContext,
    sinks: Vec<Box<dyn ReportSink>>,
    sequence: u64,
    ahead: Ahead,
    /// The command's tree, watched for programs whose artefact is what runs.
    descendants: Descendants,
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

impl Reporter {
    fn report(
        &mut self,
        complete: bool,
        exit_code: Option<i32>,
    ) -> anyhow::Result<runbom_model::RuntimeReport> {
        self.ahead.hand_to(&mut self.session);
        let mut context = stamp(&self.base, self.sequence, complete, exit_code);
        // A report no Python process is in (a Tcl script, a Go binary) still has the session's
        // id: a server refuses a report without one.
        if context.session_id.is_empty() {
            context.session_id = self.session.id().to_owned();
        }
        // What the artefact and the hook languages observed; Python's session comes first when
        // it observed anything (a Go program that started Python has both in its report).
        let hooks = self.hooks.iter().map(|h| (h.language, h.hook));
        let others: Vec<Observed> = self
            .descendants
            .observed()
            .into_iter()
            .chain(observed_by_hooks(self.session.dir(), hooks))
            .collect();
        let report = merged_report(&mut self.session, &self.python, context, others)?;
        self.sequence += 1;
        for sink in &mut self.sinks {
            sink.deliver(&report)?;
        }
        Ok(report)
    }
}

impl Reporter {
    /// Looks at the command's tree once, and at the programs its hooked processes said they
    /// started; says on stderr what it found. Whether the tree changed.
    fn watch(&mut self) -> bool {
        let (found, changed) = self.descendants.poll();
        let started = self.session.take_started();
        for program in &started {
            self.descendants
                .add_started(program.parent, &program.path, program.replaced);
        }
        for process in found {
            eprintln!(
                "runbom: observing {} program `{}` (pid {}, started by pid {})",
                process.language,
                process.executable.display(),
                process.pid,
                process.parent_pid
            );
        }
        for why in self.descendants.take_unreadable() {
            eprintln!("runbom: warning: not observed: {why}");
        }
        changed || !started.is_empty()
    }

    /// Names the programs known only from a hook's word: they exited before the tree showed them.
    fn say_unseen(&self) {
        for process in self.descendants.processes().iter().filter(|p| !p.seen) {
            let how = match process.pid {
                0 => format!("started by pid {}", process.parent_pid),
                pid => format!("exec'd by pid {pid}"),
            };
            eprintln!(
                "runbom: note: {} program `{}`, {how}, exited before runbom saw it run: it is \
                 reported from its file{}",
                process.language,
                process.executable.display(),
                if process.pid == 0 {
                    ", without a pid"
                } else {
                    ""
                },
            );
        }
    }
}

/// When to look at the command's tree next: soon after start and after each change (a child
/// that lives a few milliseconds is still seen), then less often while nothing changes (a
/// long-running server costs a look every half second).
struct Watch {
    every: Duration,
    next: Instant,
}

impl Watch {
    const FIRST: Duration = Duration::from_millis(2);
    const SLOWEST: Duration = Duration::from_millis(500);

    fn new() -> Self {
        Watch {
            every: Self::FIRST,
            next: Instant::now(),
        }
    }

    fn left(&self) -> Duration {
        self.next.saturating_duration_since(Instant::now())
    }

    fn due(&self) -> bool {
        Instant::now() >= self.next
    }

    fn after(&mut self, changed: bool) {
        self.every = if changed {
            Self::FIRST
        } else {
            (self.every * 2).min(Self::SLOWEST)
        };
        self.next = Instant::now() + self.every;
    }
}

/// What is read while the command runs, so the report is ready soon after it exits: the
/// installed inventory the command's Python is expected to use, and the hashes of files
/// remembered from earlier runs.
struct Ahead {
    inventory: Option<thread::JoinHandle<Option<Inventory>>>,
    hashes: Option<thread::JoinHandle<HashCache>>,
}

impl Ahead {
    /// Starts reading `python`'s inventory (when given) and the hash cache, each on a thread
    /// that yields to the program: on a machine whose cores the program keeps busy, reading
    /// ahead must not slow it down; what is not read by its exit is read then.
    fn start(python: Option<PathBuf>) -> Self {
        Ahead {
            inventory: python.map(|python| {
                in_background(move || {
                    query_interpreter(&python)
                        .ok()
                        .map(|i| read_inventory(&i, &[]))
                })
            }),
            hashes: Some(in_background(|| HashCache::open(cache_root().as_deref()))),
        }
    }

    /// Gives the session what was read (once; a thread that failed gave nothing).
    fn hand_to(&mut self, session: &mut Session) {
        if let Some(inventory) = self.inventory.take().and_then(|h| h.join().ok()).flatten() {
            session.add_inventory(inventory);
        }
        if let Some(hashes) = self.hashes.take().and_then(|h| h.join().ok()) {
            session.add_hashes(hashes);
        }
    }
}

/// Runs `work` on a thread of the lowest priority (`nice` 19; the threads it starts inherit it).
fn in_background<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    thread::spawn(move || {
        let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
        work()
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
