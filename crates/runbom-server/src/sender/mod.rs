//! The report sender: hands runtime reports to a runbom server (`POST /api/v1/reports`, gzip)
//! from a background thread, so that the program being observed never waits for the network.
//!
//! While the server cannot be reached or answers 408, 429 or 5xx, reports go to a bounded
//! on-disk [`Spool`] and are retried with exponential backoff and jitter; once the server answers
//! again the spool is re-sent oldest first, by this process or by the next one that uses the same
//! server and token. A report the server refuses for good (any other 4xx) is reported and
//! dropped, never spooled. At [`ReportSender::close`] the sender keeps trying for a short bounded
//! time, then leaves what is left in the spool. Nothing here prints: what a person should know
//! is handed to the caller as a [`Notice`].
//!
//! Digest heartbeats: a report whose state (everything but its id, sequence and time) equals
//! that of the last report of its session the server took goes out as a heartbeat of a few
//! hundred bytes (`POST /api/v1/heartbeats`: the session and the state digest). When the server
//! answers "send the full report" (409: it lost the state, or never had it) the full report
//! follows at once; a server older than heartbeats (404) gets full reports from then on. A
//! heartbeat that cannot be delivered is spooled as its full report, so nothing is lost. The
//! last report of a session (`complete`) always goes out in full.

mod delivery;
pub mod spool;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::blocking::Client;
use runbom_model::RuntimeReport;
use sha2::{Digest, Sha256};

use crate::backoff::{exponential, jittered};
use crate::heartbeat::HEARTBEAT_SCHEMA;
use delivery::{Answer, HeartbeatAnswer, post_heartbeat, post_report};
pub use spool::{Spool, SpoolError, SpoolLimits};

/// Reports kept in memory at most before the oldest go to the spool.
const MEMORY_QUEUE: usize = 64;

/// How long to wait before looking again when another process is draining the spool.
const DRAIN_BUSY_WAIT: Duration = Duration::from_millis(200);

/// How much longer than its exit wait `close` gives a request already on the wire.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// Sessions whose last taken state the sender remembers at most (beyond, it starts over and
/// sends full reports again).
const KNOWN_SESSIONS: usize = 4096;

/// Where and how reports are sent.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// The server's base URL (`http://host:port`).
    pub server: String,
    /// An app token of the application the reports are for.
    pub token: String,
    /// The spool root; each server and token has its own directory under it.
    pub spool_root: PathBuf,
    pub limits: SpoolLimits,
    /// How long [`ReportSender::close`] keeps trying before it leaves reports in the spool.
    pub exit_wait: Duration,
    /// Longest wait for one answer.
    pub request_timeout: Duration,
    /// The first retry delay; it doubles with each failure up to `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
}

impl SenderConfig {
    /// The defaults: the spool under [`default_spool_root`], 2 s at exit, 10 s per request,
    /// retries from 0.5 s up to 30 s.
    pub fn new(server: impl Into<String>, token: impl Into<String>) -> Self {
        SenderConfig {
            server: server.into(),
            token: token.into(),
            spool_root: default_spool_root(),
            limits: SpoolLimits::default(),
            exit_wait: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            first_retry: Duration::from_millis(500),
            max_retry: Duration::from_secs(30),
        }
    }
}

/// `$XDG_STATE_HOME/runbom/spool`, else `~/.local/state/runbom/spool`, else under the temp dir.
pub fn default_spool_root() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| Path::new(&home).join(".local/state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    state.join("runbom/spool")
}

/// Why a sender could not start.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("cannot set up an HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("cannot start the sender thread")]
    Thread(#[source] std::io::Error),
}

/// Something the person running the program should know; the sender goes on either way.
#[derive(Debug)]
pub enum Notice {
    /// The server refused a report for good; it is neither retried nor spooled.
    Refused {
        report_id: String,
        status: u16,
        message: String,
    },
    /// The server stopped answering; reports are kept in the spool and retried.
    Unreachable { reason: String, spool: PathBuf },
    /// The server answers again and the spool was re-sent.
    Resent { count: u64 },
    /// The spool was full: its oldest report was dropped.
    Dropped { path: PathBuf, total: u64 },
    /// A spool problem: a corrupt file skipped, a report that could not be written.
    Spool(SpoolError),
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Refused {
                report_id,
                status,
                message,
            } => write!(
                f,
                "the server refused report `{report_id}` (HTTP {status}: {message}); not retried"
            ),
            Notice::Unreachable { reason, spool } => write!(
                f,
                "cannot deliver reports ({reason}); keeping them in `{}` and retrying",
                spool.display()
            ),
            Notice::Resent { count } => write!(
                f,
                "the server answers again: re-sent {count} spooled report{}",
                if *count == 1 { "" } else { "s" }
            ),
            Notice::Dropped { path, total } => write!(
                f,
                "the spool is full: dropped the oldest report `{}` ({total} dropped so far)",
                path.display()
            ),
            Notice::Spool(err) => {
                write!(f, "{err}")?;
                let mut source = std::error::Error::source(err);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
        }
    }
}

/// Receives the sender's notices (on the sender's thread or the caller's).
pub type NoticeFn = Box<dyn Fn(Notice) + Send + Sync>;

/// What is left when a sender closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseSummary {
    /// Reports in the spool, to be sent by a later process.
    pub spooled: usize,
    /// Reports dropped because the spool was full, over the spool's whole life.
    pub dropped: u64,
}

/// A report on its way: its id, its gzip body, and what a heartbeat of it would say.
#[derive(Debug, Clone)]
struct Outgoing {
    report_id: String,
    gzip_body: Arc<[u8]>,
    state: ReportState,
}

/// A report's session and state, to send it as a heartbeat when the server has that state.
#[derive(Debug, Clone)]
struct ReportState {
    session_id: String,
    /// A digest of everything in the report but its id, sequence and time.
    fingerprint: String,
    /// The state digest the server keeps of it (what a heartbeat carries).
    state_digest: String,
    /// The session's last report: always sent in full, and its session forgotten once taken.
    last: bool,
}

impl ReportState {
    fn of(report: &RuntimeReport) -> Self {
        let mut stable = report.clone();
        stable.report_id.clear();
        stable.reported_at.clear();
        stable.sequence = 0;
        let mut hasher = Sha256::new();
        // Serialising a report to memory cannot fail: every field is plain data.
        hasher.update(serde_json::to_vec(&stable).unwrap_or_default());
        ReportState {
            session_id: report.session_id.clone(),
            fingerprint: hex::encode(hasher.finalize()),
            state_digest: runbom_store::state_digest(report),
            last: report.complete,
        }
    }

    fn heartbeat_body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "schema": HEARTBEAT_SCHEMA,
            "session_id": self.session_id,
            "state_digest": self.state_digest,
        }))
        .unwrap_or_default()
    }
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Outgoing>,
    /// Set by `close`: finish by then.
    closing: Option<Instant>,
    finished: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    notify: NoticeFn,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Spools reports; a report that cannot be written is reported as lost.
    fn spool_all(&self, spool: &Spool, items: impl IntoIterator<Item = Outgoing>) {
        for item in items {
            match spool.push(&item.gzip_body) {
                Ok(dropped) => {
                    let total = spool.dropped();
                    for path in dropped {
                        (self.notify)(Notice::Dropped { path, total });
                    }
                }
                Err(err) => (self.notify)(Notice::Spool(err)),
            }
        }
    }
}

/// Sends reports from a background thread; see the module documentation.
#[derive(Debug)]
pub struct ReportSender {
    shared: Arc<Shared>,
    spool: Spool,
    exit_wait: Duration,
    thread: Option<JoinHandle<()>>,
}

impl ReportSender {
    /// Opens the spool of this server and token and starts the sender thread, which first
    /// re-sends what earlier processes left in the spool.
    pub fn start(config: SenderConfig, notify: NoticeFn) -> Result<Self, SenderError> {
        let spool = Spool::for_server(
            &config.spool_root,
            &config.server,
            &config.token,
            config.limits,
        )?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client::builder()
            .connect_timeout(config.request_timeout.min(Duration::from_secs(3)))
            .build()
            .map_err(SenderError::Client)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            notify,
        });
        let worker = Worker {
            spool_pending: !spool.is_empty(),
            shared: shared.clone(),
            spool: spool.clone(),
            client,
            url: format!("{}/api/v1/reports", config.server.trim_end_matches('/')),
            heartbeat_url: format!("{}/api/v1/heartbeats", config.server.trim_end_matches('/')),
            known: HashMap::new(),
            heartbeats_served: true,
            failures: 0,
            next_try: Instant::now(),
            down: false,
            close_seen: false,
            config: config.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("runbom-sender".to_owned())
            .spawn(move || worker.run())
            .map_err(SenderError::Thread)?;
        Ok(ReportSender {
            shared,
            spool,
            exit_wait: config.exit_wait,
            thread: Some(thread),
        })
    }

    /// Queues a report; returns at once.
    pub fn send(&self, report: &RuntimeReport) {
        let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
        let encoded = serde_json::to_writer(&mut gzip, report)
            .map_err(std::io::Error::from)
            .and_then(|()| gzip.finish());
        let gzip_body = match encoded {
            Ok(bytes) => Arc::from(bytes),
            Err(source) => {
                (self.shared.notify)(Notice::Spool(SpoolError::Write {
                    path: self.spool.dir().to_owned(),
                    source,
                }));
                return;
            }
        };
        let item = Outgoing {
            report_id: report.report_id.clone(),
            gzip_body,
            state: ReportState::of(report),
        };
        let overflow = {
            let mut state = self.shared.lock();
            state.queue.push_back(item);
            let extra = state.queue.len().saturating_sub(MEMORY_QUEUE);
            state.queue.drain(..extra).collect::<Vec<_>>()
        };
        self.shared.changed.notify_all();
        self.shared.spool_all(&self.spool, overflow);
    }

    /// The spool directory of this server and token.
    pub fn spool_dir(&self) -> &Path {
        self.spool.dir()
    }

    /// Delivers what is queued, trying for at most the configured exit wait, then spools the
    /// rest.
    pub fn close(mut self) -> CloseSummary {
        self.shutdown()
    }

    fn shutdown(&mut self) -> CloseSummary {
        let deadline = Instant::now() + self.exit_wait;
        self.shared.lock().closing = Some(deadline);
        self.shared.changed.notify_all();
        let mut state = self.shared.lock();
        while !state.finished {
            let now = Instant::now();
            let give_up = deadline + CLOSE_GRACE;
            if now >= give_up {
                break;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, give_up - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        let finished = state.finished;
        // A request still on the wire: keep its report (a duplicate is harmless).
        let left: Vec<Outgoing> = state.queue.drain(..).collect();
        drop(state);
        self.shared.spool_all(&self.spool, left);
        if let Some(thread) = self.thread.take()
            && finished
        {
            let _ = thread.join();
        }
        CloseSummary {
            spooled: self.spool.entries().map_or(0, |e| e.len()),
            dropped: self.spool.dropped(),
        }
    }
}

impl Drop for ReportSender {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
        }
    }
}

/// What the sender thread does next.
enum Step {
    Send(Outgoing),
    Spool(Vec<Outgoing>),
    Drain,
    Finish(Vec<Outgoing>),
}

/// The sender thread's state.
struct Worker {
    shared: Arc<Shared>,
    spool: Spool,
    client: Client,
    url: String,
    heartbeat_url: String,
    /// Per session, the fingerprint of the last report the server took.
    known: HashMap<String, String>,
    /// False once the server answered a heartbeat with 404: it takes full reports only.
    heartbeats_served: bool,
    config: SenderConfig,
    /// Reports wait in the spool: new ones join them there, to keep the order.
    spool_pending: bool,
    /// Failed attempts in a row.
    failures: u32,
    next_try: Instant,
    /// The last attempt failed (a notice was given).
    down: bool,
    /// `close` was called and seen.
    close_seen: bool,
}

impl Worker {
    fn run(mut self) {
        loop {
            match self.next_step() {
                Step::Send(item) => self.send_direct(item),
                Step::Spool(items) => {
                    self.shared.spool_all(&self.spool, items);
                    self.spool_pending = true;
                }
                Step::Drain => self.drain(),
                Step::Finish(items) => {
                    self.shared.spool_all(&self.spool, items);
                    self.shared.lock().finished = true;
                    self.shared.changed.notify_all();
                    return;
                }
            }
        }
    }

    fn next_step(&mut self) -> Step {
        let mut state = self.shared.lock();
        loop {
            let now = Instant::now();
            if state.closing.is_some() && !self.close_seen {
                // At exit, one attempt right away: the server may be back before the backoff ends.
                self.close_seen = true;
                self.next_try = now;
            }
            if state.closing.is_some_and(|deadline| now >= deadline) {
                return Step::Finish(state.queue.drain(..).collect());
            }
            let ready = now >= self.next_try;
            if !state.queue.is_empty() && (!ready || self.spool_pending) {
                return Step::Spool(state.queue.drain(..).collect());
            }
            if ready && self.spool_pending {
                return Step::Drain;
            }
            if let Some(item) = state.queue.front().filter(|_| ready) {
                return Step::Send(item.clone());
            }
            if state.closing.is_some() && ready {
                return Step::Finish(Vec::new());
            }
            let wake = [(!ready).then_some(self.next_try), state.closing]
                .into_iter()
                .flatten()
                .min();
            state = match wake {
                Some(at) => {
                    self.shared
                        .changed
                        .wait_timeout(state, at.saturating_duration_since(now))
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
                None => self
                    .shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            };
        }
    }

    /// Sends a queued report straight away (the spool is empty).
    fn send_direct(&mut self, item: Outgoing) {
        let answer = self.deliver(&item);
        {
            let mut state = self.shared.lock();
            if state
                .queue
                .front()
                .is_some_and(|front| front.report_id == item.report_id)
            {
                state.queue.pop_front();
            }
        }
        match answer {
            Answer::Taken => self.succeeded(),
            Answer::Refused { status, message } => self.refused(item.report_id, status, message),
            Answer::Retry { reason, after } => {
                self.shared.spool_all(&self.spool, [item]);
                self.spool_pending = true;
                self.failed(reason, after);
            }
        }
    }

    /// Re-sends the spool oldest first while the server takes reports, holding the spool's lock.
    fn drain(&mut self) {
        let _lock = match self.spool.try_lock() {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                self.next_try = Instant::now() + DRAIN_BUSY_WAIT;
                return;
            }
            Err(err) => {
                (self.shared.notify)(Notice::Spool(err));
                self.spool_pending = false;
                return;
            }
        };
        let mut resent = 0;
        loop {
            let entries = match self.spool.entries() {
                Ok(entries) => entries,
                Err(err) => {
                    (self.shared.notify)(Notice::Spool(err));
                    self.spool_pending = false;
                    return;
                }
            };
            if entries.is_empty() {
                self.spool_pending = false;
                if resent > 0 {
                    (self.shared.notify)(Notice::Resent { count: resent });
                }
                return;
            }
            for entry in entries {
                if self.past_deadline() {
                    return;
                }
                let report = match self.spool.load(&entry) {
                    Ok(Some(report)) => report,
                    Ok(None) => continue,
                    Err(err) => {
                        (self.shared.notify)(Notice::Spool(err));
                        continue;
                    }
                };
                match self.post(&report.gzip_body) {
                    Answer::Taken => {
                        self.spool.remove(&entry);
                        resent += 1;
                        self.succeeded();
                    }
                    Answer::Refused { status, message } => {
                        self.spool.remove(&entry);
                        self.refused(report.report_id, status, message);
                    }
                    Answer::Retry { reason, after } => {
                        self.failed(reason, after);
                        return;
                    }
                }
            }
        }
    }

    /// Sends `item` as a heartbeat when the server took its state last, else (or when the
    /// server asks for it) in full; remembers the state of a full report the server took.
    fn deliver(&mut self, item: &Outgoing) -> Answer {
        let state = &item.state;
        let same = self.known.get(&state.session_id) == Some(&state.fingerprint);
        if same && !state.last && self.heartbeats_served {
            let timeout = self.timeout();
            match post_heartbeat(
                &self.client,
                &self.heartbeat_url,
                &self.config.token,
                &state.heartbeat_body(),
                timeout,
            ) {
                HeartbeatAnswer::Known => return Answer::Taken,
                HeartbeatAnswer::FullReportNeeded => {}
                HeartbeatAnswer::NotServed => self.heartbeats_served = false,
                HeartbeatAnswer::Retry { reason, after } => {
                    return Answer::Retry { reason, after };
                }
            }
        }
        let answer = self.post(&item.gzip_body);
        if answer == Answer::Taken {
            if state.last {
                self.known.remove(&state.session_id);
            } else {
                if self.known.len() >= KNOWN_SESSIONS {
                    self.known.clear();
                }
                self.known
                    .insert(state.session_id.clone(), state.fingerprint.clone());
            }
        }
        answer
    }

    fn post(&self, gzip_body: &[u8]) -> Answer {
        post_report(
            &self.client,
            &self.url,
            &self.config.token,
            gzip_body,
            self.timeout(),
        )
    }

    /// The wait for one answer: shorter once `close` set a deadline.
    fn timeout(&self) -> Duration {
        match self.shared.lock().closing {
            Some(deadline) => self
                .config
                .request_timeout
                .min(deadline.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(50)),
            None => self.config.request_timeout,
        }
    }

    fn past_deadline(&self) -> bool {
        self.shared
            .lock()
            .closing
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    fn succeeded(&mut self) {
        self.failures = 0;
        self.down = false;
        self.next_try = Instant::now();
    }

    fn refused(&mut self, report_id: String, status: u16, message: String) {
        // The server answered: it is up.
        self.succeeded();
        (self.shared.notify)(Notice::Refused {
            report_id,
            status,
            message,
        });
    }

    fn failed(&mut self, reason: String, after: Option<Duration>) {
        let delay = jittered(exponential(
            self.config.first_retry,
            self.failures,
            self.config.max_retry,
        ));
        let delay = after.map_or(delay, |after| delay.max(after.min(self.config.max_retry)));
        self.failures = self.failures.saturating_add(1);
        self.next_try = Instant::now() + delay;
        if !self.down {
            self.down = true;
            (self.shared.notify)(Notice::Unreachable {
                reason,
                spool: self.spool.dir().to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests;
