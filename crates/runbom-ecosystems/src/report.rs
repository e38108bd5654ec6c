//! What every language's runtime report says beyond what it observed — ids, application, host,
//! times, the command — and how one is put together from the two. The ids and times here are the
//! same for every language.

use std::fs;
use std::io::Read;

use runbom_model::enforce::{EnforcementState, Refusal};
use runbom_model::redact::Redactor;
use runbom_model::runtime::{
    DistributionUse, LoadedModule, ProcessInfo, RUNTIME_REPORT_SCHEMA, RuntimeInterpreter,
    RuntimeReport,
};

use crate::python::runtime::{HookEnforcement, HookRefusal};

/// What the report says about the session beyond the observations.
#[derive(Debug, Clone, Default)]
pub struct ReportContext {
    pub report_id: String,
    pub session_id: String,
    pub sequence: u64,
    pub complete: bool,
    pub app: Option<String>,
    pub environment: Option<String>,
    pub host: String,
    /// RFC 3339; the earliest process start when `None`.
    pub started_at: Option<String>,
    pub reported_at: String,
    /// The command as given; the first process's `argv` when empty.
    pub command: Vec<String>,
    pub exit_code: Option<i32>,
    /// What of the command lines is a secret: applied before the report exists, so no report
    /// written or sent carries one.
    pub redactor: Redactor,
}

/// What a language observed, for one report.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The earliest process start, RFC 3339.
    pub started_at: Option<String>,
    /// The first process's argv, used when the context has no command.
    pub command: Vec<String>,
    pub interpreter: RuntimeInterpreter,
    pub processes: Vec<ProcessInfo>,
    pub distributions: Vec<DistributionUse>,
    pub stdlib_modules: Vec<String>,
    pub unowned_modules: Vec<LoadedModule>,
    pub hook_errors: u64,
    /// Each process's enforcement state, when it was given a table.
    pub enforcement: Vec<EnforcementState>,
    /// What the hooks refused (or would have), in the order it happened.
    pub refusals: Vec<Refusal>,
}

impl Observed {
    /// Adds what this language observed to a report another language started: a program of one
    /// language that started another's has both in its report.
    pub fn add_to(self, report: &mut RuntimeReport) {
        report.processes.extend(self.processes);
        report.distributions.extend(self.distributions);
        report.stdlib_modules.extend(self.stdlib_modules);
        report.unowned_modules.extend(self.unowned_modules);
        report.enforcement.extend(self.enforcement);
        report.refusals.extend(self.refusals);
        report
            .refusals
            .sort_by(|a, b| a.at.cmp(&b.at).then(a.pid.cmp(&b.pid)));
        report.hook_errors += self.hook_errors;
    }
}

impl ReportContext {
    /// The report of `observed` in this context, its command lines redacted.
    pub fn report(self, observed: Observed) -> RuntimeReport {
        let redactor = self.redactor.clone();
        let mut report = RuntimeReport {
            schema: RUNTIME_REPORT_SCHEMA.to_owned(),
            report_id: self.report_id,
            session_id: self.session_id,
            sequence: self.sequence,
            complete: self.complete,
            app: self.app,
            environment: self.environment,
            host: self.host,
            started_at: self
                .started_at
                .or(observed.started_at)
                .unwrap_or_else(|| self.reported_at.clone()),
            reported_at: self.reported_at,
            command: if self.command.is_empty() {
                observed.command
            } else {
                self.command
            },
            exit_code: self.exit_code,
            interpreter: observed.interpreter,
            processes: observed.processes,
            distributions: observed.distributions,
            stdlib_modules: observed.stdlib_modules,
            unowned_modules: observed.unowned_modules,
            hook_errors: observed.hook_errors,
            attached: None,
            enforcement: observed.enforcement,
            refusals: observed.refusals,
        };
        redactor.redact_report(&mut report);
        report
    }
}

/// One process's word on enforcement, as its hook wrote it, in the report's terms.
pub fn enforcement_of(
    pid: u32,
    enforcement: Option<&HookEnforcement>,
    refusals: &[HookRefusal],
) -> (Option<EnforcementState>, Vec<Refusal>) {
    let state = enforcement.map(|e| EnforcementState {
        pid,
        mode: e.mode,
        state: e.state.clone(),
        message: e.message.clone(),
    });
    let refusals = refusals
        .iter()
        .map(|r| Refusal {
            pid,
            at: rfc3339(r.at),
            module: r.module.clone(),
            file: r.file.clone(),
            distribution: r.distribution.clone(),
            version: r.version.clone(),
            rule: r.rule,
            why: r.why.clone(),
            config_line: r.config_line,
            importer: r.importer.clone(),
            enforced: r.enforced,
        })
        .collect();
    (state, refusals)
}

/// The enforcement states and refusals the hook of each of `observations` wrote, in order.
pub fn enforcement_in(
    observations: &[crate::hook::HookObservation],
) -> (Vec<EnforcementState>, Vec<Refusal>) {
    let (mut states, mut refusals) = (Vec::new(), Vec::new());
    for o in observations {
        let (state, refused) = enforcement_of(o.pid, o.enforcement.as_ref(), &o.refusals);
        states.extend(state);
        refusals.extend(refused);
    }
    (states, refusals)
}

/// 16 random hex digits, for session and report ids.
pub fn new_id() -> String {
    let mut bytes = [0u8; 8];
    if fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_err()
    {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = ((nanos as u64) ^ u64::from(std::process::id())).to_be_bytes();
    }
    hex::encode(bytes)
}

/// Seconds since the epoch -> RFC 3339 UTC with microseconds.
pub fn rfc3339(seconds: f64) -> String {
    let nanos = (seconds * 1e9) as i128;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}
