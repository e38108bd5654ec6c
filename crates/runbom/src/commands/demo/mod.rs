//! `runbom demo`: the whole loop on one machine, on the embedded default. A server on a
//! temporary SQLite store, the bundled advisories, a storefront with old releases from PyPI
//! running under the hook in prod and staging, its expected inventory, the dashboard's URL and
//! a three-line summary; then one more advisory and the alert it raises. Serves until Ctrl-C
//! (or `--exit-after-alert`), stops what it started and removes what it made.

mod assets;
mod environments;
mod receiver;
mod services;
mod summary;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use runbom_sources::advisories::AdvisoryStream;
use runbom_store::{ImportSource, Store};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};

use crate::cli::DemoArgs;
use crate::commands::{ExitStatus, db, progress};

use self::assets::{APP, Assets, LATE_ADVISORY, RELEASE};
use self::receiver::Alert;
use self::services::Services;

/// How long the dashboard may take to show both instances' findings, and an alert to arrive.
const PATIENCE: Duration = Duration::from_secs(60);

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitStatus> {
    let interrupt = Interrupt::register()?;
    let workspace = Workspace::create(args.dir.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = demo(args, &runtime, workspace.path(), &interrupt);
    runtime.shutdown_timeout(Duration::from_secs(2));
    outcome
}

fn demo(
    args: &DemoArgs,
    runtime: &Runtime,
    dir: &Path,
    interrupt: &Interrupt,
) -> anyhow::Result<ExitStatus> {
    let assets = Assets::write(dir)?;
    let step = progress::step("starting the server on a temporary SQLite store");
    let store = runtime.block_on(fresh_store(dir))?;
    let (webhook, mut alerts) = runtime.block_on(receiver::start())?;
    let url = runtime.block_on(start_server(runtime, store.clone(), args.port, webhook))?;
    step.done(&format!("serving {url}"));

    let step = progress::step("importing the bundled advisories");
    let imported = import(runtime, &store, &assets.advisories)?;
    step.done(&format!("{imported} advisories"));

    let step = progress::step("building prod and staging with old releases from PyPI");
    let built = environments::build(&args.python, dir, &assets.environments, args.offline)?;
    interrupt.check()?;
    match &built.fallback {
        Some(reason) => step.done(&format!(
            "could not build them ({reason}); running on what `{}` has installed",
            args.python.display()
        )),
        None => step.done("two virtualenvs"),
    }

    let step = progress::step(&format!("pushing release {RELEASE}'s expected inventory"));
    let token = runtime.block_on(runbom_server::create_token(
        &store,
        &runbom_server::TokenGrant::app(APP),
    ))?;
    push_expected(runtime, &url, &token.secret, assets.expected())?;
    step.done(&format!("{APP} {RELEASE}"));

    let step = progress::step("running the storefront under the hook in prod and staging");
    let mut services = Services::start(
        &built.environments,
        &assets.storefront,
        dir,
        &url,
        &token.secret,
    )?;
    wait_for_findings(
        runtime,
        &store,
        built.environments.len(),
        &mut services,
        interrupt,
    )?;
    step.done("both instances reported");

    // The dashboard needs a login, as every runbom server does: a user for this run only.
    let password = runbom_server::random_secret();
    runtime.block_on(runbom_server::create_user(
        &store,
        DEMO_USER,
        &password,
        true,
        &[],
    ))?;
    print_summary(runtime, &store, &url)?;
    println!("log in as: {DEMO_USER} / {password}");
    let received_before = drain(&mut alerts);
    println!("webhook receiver: {received_before} alerts for the first findings");

    interrupt.sleep(Duration::from_secs(args.late_advisory_after))?;
    let step = progress::step(&format!("importing one more advisory ({LATE_ADVISORY})"));
    import(runtime, &store, &assets.late_advisory)?;
    let patience = if built.fallback.is_some() {
        Duration::from_secs(5)
    } else {
        PATIENCE
    };
    let alert = runtime.block_on(await_alert(&mut alerts, LATE_ADVISORY, patience));
    step.done("imported");
    match alert {
        Some(alert) => println!(
            "alert received: {} {} {} — {}",
            alert.severity,
            alert.component,
            alert.advisory.as_deref().unwrap_or_default(),
            alert.summary
        ),
        None if built.fallback.is_some() => println!(
            "no alert: {LATE_ADVISORY} affects no release running here (the storefront runs on \
             the interpreter's own packages)"
        ),
        None => anyhow::bail!(
            "no alert for {LATE_ADVISORY} within {} s, though the storefront runs an affected \
             release",
            patience.as_secs()
        ),
    }

    if !args.exit_after_alert {
        eprintln!("serving {url} until Ctrl-C");
        while !interrupt.requested() {
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!();
    }
    let step = progress::step("stopping the storefront and the server");
    services.stop();
    step.done("stopped");
    Ok(ExitStatus::Success)
}

/// Ctrl-C (SIGINT) or SIGTERM: the demo stops what it started and removes what it made,
/// whichever step it is in.
struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    fn register() -> anyhow::Result<Interrupt> {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, Arc::clone(&flag))
                .context("cannot handle Ctrl-C")?;
        }
        Ok(Interrupt(flag))
    }

    fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.requested() {
            anyhow::bail!("interrupted; stopped what the demo started");
        }
        Ok(())
    }

    fn sleep(&self, duration: Duration) -> anyhow::Result<()> {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            self.check()?;
            std::thread::sleep(Duration::from_millis(100));
        }
        self.check()
    }
}

/// The demo's directory: a temporary one removed at the end, or `--dir`, kept (its venvs are
/// reused by the next run; its store is started afresh).
enum Workspace {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl Workspace {
    fn create(dir: Option<&Path>) -> anyhow::Result<Workspace> {
        match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create `{}`", dir.display()))?;
                Ok(Workspace::Kept(std::path::absolute(dir)?))
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("runbom-demo-")
                    .tempdir()
                    .with_context(|| {
                        format!(
                            "cannot create the demo's directory under `{}`; set TMPDIR or \
                             pass --dir DIR",
                            std::env::temp_dir().display()
                        )
                    })?;
                Ok(Workspace::Temporary(temp))
            }
        }
    }

    fn path(&self) -> &Path {
        match self {
            Workspace::Temporary(temp) => temp.path(),
            Workspace::Kept(dir) => dir,
        }
    }
}

/// A new store in `dir`: one left by an earlier run with `--dir` is removed first.
async fn fresh_store(dir: &Path) -> anyhow::Result<Store> {
    let file = dir.join("runbom.db");
    for suffix in ["", "-wal", "-shm"] {
        let old = PathBuf::from(format!("{}{suffix}", file.display()));
        if old.exists() {
            std::fs::remove_file(&old)
                .with_context(|| format!("cannot remove `{}`", old.display()))?;
        }
    }
    let location = runbom_store::Location::parse(&file.display().to_string());
    Ok(Store::open_location(&location).await?)
}

/// Starts the server with the webhook registered; returns its URL once it listens.
async fn start_server(
    runtime: &Runtime,
    store: Store,
    port: u16,
    webhook: String,
) -> anyhow::Result<String> {
    let listen = SocketAddr::from(([127, 0, 0, 1], port));
    let config = runbom_server::ServerConfig {
        listen,
        webhooks: vec![(webhook, "json".to_owned())],
        ..runbom_server::ServerConfig::default()
    };
    let (bound, listening) = oneshot::channel();
    let server = runtime.spawn(runbom_server::serve(store, config, move |addr| {
        let _ = bound.send(addr);
    }));
    match listening.await {
        Ok(addr) => Ok(format!("http://{addr}")),
        Err(_) => match server.await {
            Ok(Err(err)) if port != 0 => Err(anyhow::Error::new(err).context(format!(
                "cannot serve the dashboard on 127.0.0.1:{port}; choose another --port, or \
                 --port 0 for any free one"
            ))),
            Ok(Err(err)) => Err(err.into()),
            Ok(Ok(())) => anyhow::bail!("the server stopped before it listened"),
            Err(err) => Err(anyhow::Error::new(err).context("the server failed to start")),
        },
    }
}

/// Imports one advisory file or archive; returns how many records it held.
fn import(runtime: &Runtime, store: &Store, path: &Path) -> anyhow::Result<u64> {
    let source = ImportSource {
        name: "runbom-demo".to_owned(),
        location: path.display().to_string(),
        etag: None,
        last_modified: None,
    };
    let mut skipped = Vec::new();
    let stream = AdvisoryStream::open(&[path]);
    let stats = db::import::import(
        runtime,
        store,
        &source,
        stream,
        &indicatif::ProgressBar::hidden(),
        &mut skipped,
    )
    .with_context(|| format!("cannot import `{}`", path.display()))?;
    if let Some(first) = skipped.first() {
        anyhow::bail!("the bundled advisories do not read: {first}");
    }
    Ok(stats.added + stats.updated + stats.unchanged)
}

fn push_expected(runtime: &Runtime, url: &str, token: &str, expected: &Path) -> anyhow::Result<()> {
    let inventory = crate::commands::expected::read(expected)
        .with_context(|| format!("cannot read `{}`", expected.display()))?;
    runtime.block_on(runbom_server::client::push_expected(
        url, token, APP, RELEASE, &inventory,
    ))?;
    Ok(())
}

/// Waits until every instance has reported and the detector's findings have settled.
fn wait_for_findings(
    runtime: &Runtime,
    store: &Store,
    instances: usize,
    services: &mut Services,
    interrupt: &Interrupt,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last = None;
    let mut settled_since = Instant::now();
    while started.elapsed() < PATIENCE {
        services.check()?;
        interrupt.check()?;
        let live = runtime.block_on(store.instances(APP))?;
        let findings = runtime.block_on(store.findings(Some(APP), false))?.len();
        let now = (live.iter().filter(|i| !i.gone).count(), findings);
        if last != Some(now) {
            last = Some(now);
            settled_since = Instant::now();
        } else if now.0 >= instances && settled_since.elapsed() >= Duration::from_secs(1) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    anyhow::bail!(
        "the storefront's reports did not reach the server within {} s; its logs are in {}",
        PATIENCE.as_secs(),
        services.logs().display()
    )
}

/// The dashboard user the demo makes, with a random password printed once.
const DEMO_USER: &str = "demo";

fn print_summary(runtime: &Runtime, store: &Store, url: &str) -> anyhow::Result<()> {
    let instances = runtime.block_on(store.instances(APP))?;
    let components = runtime.block_on(store.live_components(APP))?;
    let findings = runtime.block_on(store.findings(Some(APP), false))?;
    println!("dashboard: {url}/");
    for line in summary::lines(&instances, &components, &findings) {
        println!("{line}");
    }
    Ok(())
}

fn drain(alerts: &mut mpsc::UnboundedReceiver<Alert>) -> usize {
    std::iter::from_fn(|| alerts.try_recv().ok()).count()
}

/// The alert about `advisory`, or `None` when none came within `patience`.
async fn await_alert(
    alerts: &mut mpsc::UnboundedReceiver<Alert>,
    advisory: &str,
    patience: Duration,
) -> Option<Alert> {
    let wanted = async {
        while let Some(alert) = alerts.recv().await {
            if alert.advisory.as_deref() == Some(advisory) {
                return Some(alert);
            }
        }
        None
    };
    tokio::time::timeout(patience, wanted).await.ok().flatten()
}
