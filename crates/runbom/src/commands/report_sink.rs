//! Where runtime reports go (a file, a runbom server: each a [`ReportSink`]), the context every
//! report of a session shares, and the short summary printed for people.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use runbom_ecosystems::report::{ReportContext, new_id};
use runbom_model::RuntimeReport;
use runbom_model::redact::Redactor;
use runbom_server::sender::{Notice, ReportSender, SenderConfig};

use crate::cli::SenderArgs;

/// Receives each report of a session in order (`sequence` 0, 1, 2 …; `complete` on the last).
pub trait ReportSink {
    fn deliver(&mut self, report: &RuntimeReport) -> anyhow::Result<()>;

    /// The session is over: finish what is under way (bounded in time).
    fn close(&mut self) {}
}

/// Hands each report to a runbom server through the background [`ReportSender`]; never waits
/// for the network except, bounded, at [`ReportSink::close`].
#[derive(Debug)]
pub struct ServerSink {
    sender: Option<ReportSender>,
}

impl ServerSink {
    /// The sink `--server`/`--token` (or `RUNBOM_SERVER`/`RUNBOM_TOKEN`) ask for, if any.
    pub fn from_args(args: &SenderArgs) -> anyhow::Result<Option<ServerSink>> {
        let Some(server) = args.server.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let Some(token) = args.token.as_deref().filter(|t| !t.trim().is_empty()) else {
            anyhow::bail!("`--server {server}` needs `--token` (or `RUNBOM_TOKEN`)");
        };
        let mut config = SenderConfig::new(server, token.trim());
        if let Some(spool) = &args.spool {
            config.spool_root.clone_from(spool);
        }
        let sender = ReportSender::start(
            config,
            Box::new(|notice| match notice {
                Notice::Resent { .. } => eprintln!("runbom: {notice}"),
                _ => eprintln!("runbom: warning: {notice}"),
            }),
        )
        .with_context(|| format!("cannot start sending reports to `{server}`"))?;
        Ok(Some(ServerSink {
            sender: Some(sender),
        }))
    }
}

impl ReportSink for ServerSink {
    fn deliver(&mut self, report: &RuntimeReport) -> anyhow::Result<()> {
        if let Some(sender) = &self.sender {
            sender.send(report);
        }
        Ok(())
    }

    fn close(&mut self) {
        let Some(sender) = self.sender.take() else {
            return;
        };
        let dir = sender.spool_dir().to_owned();
        let summary = sender.close();
        if summary.spooled > 0 {
            eprintln!(
                "runbom: {} report{} wait{} in `{}` for the server; the next run re-sends them",
                summary.spooled,
                if summary.spooled == 1 { "" } else { "s" },
                if summary.spooled == 1 { "s" } else { "" },
                dir.display()
            );
        }
    }
}

/// Writes each report over the same file, atomically (temp file + rename).
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
}

impl FileSink {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl ReportSink for FileSink {
    fn deliver(&mut self, report: &RuntimeReport) -> anyhow::Result<()> {
        write_atomic(&self.path, report)
            .with_context(|| format!("cannot write the report `{}`", self.path.display()))
    }
}

fn write_atomic(path: &Path, report: &RuntimeReport) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".tmp{}", std::process::id()));
    let temp = path.with_file_name(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&temp)?);
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&temp, path)?;
    Ok(())
}

/// The fields every report of one session starts from; `report_id` and `reported_at` are
/// renewed by [`stamp`].
pub fn base_context(
    app: Option<String>,
    environment: Option<String>,
    command: Vec<String>,
    redactor: Redactor,
) -> ReportContext {
    ReportContext {
        app,
        environment,
        host: host_name(),
        command,
        redactor,
        ..ReportContext::default()
    }
}

/// A copy of `base` for the next report.
pub fn stamp(
    base: &ReportContext,
    sequence: u64,
    complete: bool,
    exit_code: Option<i32>,
) -> ReportContext {
    ReportContext {
        report_id: new_id(),
        sequence,
        complete,
        exit_code,
        reported_at: now_rfc3339(),
        ..base.clone()
    }
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Loaded distributions with module counts, then never-loaded and unowned code.
pub fn write_summary(out: &mut impl Write, report: &RuntimeReport) -> std::io::Result<()> {
    let loaded: Vec<_> = report.loaded().collect();
    let processes = report.processes.len();
    let component = report.interpreter.language.component_noun();
    let unit = report.interpreter.language.unit_noun();
    writeln!(
        out,
        "runbom: {} process{}, {} loaded of {} installed {component}s",
        processes,
        if processes == 1 { "" } else { "es" },
        loaded.len(),
        report.distributions.len()
    )?;
    if !loaded.is_empty() {
        let name_width = loaded
            .iter()
            .map(|d| d.name.len())
            .chain([12])
            .max()
            .unwrap_or(12);
        let version_width = loaded
            .iter()
            .map(|d| d.version.len())
            .chain([7])
            .max()
            .unwrap_or(7);
        writeln!(
            out,
            "  {:<name_width$}  {:<version_width$}  {}S",
            component.to_uppercase(),
            "VERSION",
            unit.to_uppercase()
        )?;
        for dist in &loaded {
            writeln!(
                out,
                "  {:<name_width$}  {:<version_width$}  {}",
                dist.name,
                dist.version,
                dist.modules.len()
            )?;
        }
    }
    let never: Vec<&str> = report.not_loaded().map(|d| d.name.as_str()).collect();
    writeln!(
        out,
        "never loaded: {} installed {component}{}{}",
        never.len(),
        if never.len() == 1 { "" } else { "s" },
        preview(&never)
    )?;
    if !report.stdlib_modules.is_empty() {
        writeln!(
            out,
            "standard library: {} {unit}s",
            report.stdlib_modules.len()
        )?;
    }
    let mut unowned: Vec<&str> = report
        .unowned_modules
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    unowned.dedup();
    writeln!(
        out,
        "unowned (first-party or unknown): {} {unit}{}{}",
        unowned.len(),
        if unowned.len() == 1 { "" } else { "s" },
        preview(&unowned)
    )?;
    if report.hook_errors > 0 {
        writeln!(out, "hook errors (swallowed): {}", report.hook_errors)?;
    }
    write_enforcement(out, report)
}

/// Enforcement that was off or failed, and the imports refused (or that would have been).
fn write_enforcement(out: &mut impl Write, report: &RuntimeReport) -> std::io::Result<()> {
    let mut said = std::collections::BTreeSet::new();
    for state in report.enforcement.iter().filter(|s| s.state != "active") {
        let line = format!(
            "enforcement {}: {}",
            state.state,
            state.message.as_deref().unwrap_or("")
        );
        if said.insert(line.clone()) {
            writeln!(out, "{line}")?;
        }
    }
    for (enforced, word) in [(true, "refused"), (false, "would refuse")] {
        let mut names: Vec<String> = report
            .refusals
            .iter()
            .filter(|r| r.enforced == enforced)
            .map(|r| match &r.distribution {
                Some(dist) => format!("{} ({dist}, {})", r.module, r.rule),
                None => format!("{} ({})", r.module, r.rule),
            })
            .collect();
        names.dedup();
        if !names.is_empty() {
            let shown: Vec<&str> = names.iter().map(String::as_str).collect();
            writeln!(
                out,
                "{word}: {} import{}{}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                preview(&shown)
            )?;
        }
    }
    Ok(())
}

/// ` (a, b, c, … and N more)` or nothing.
fn preview(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    if names.is_empty() {
        return String::new();
    }
    let head = names[..names.len().min(SHOWN)].join(", ");
    if names.len() > SHOWN {
        format!(" ({head}, … and {} more)", names.len() - SHOWN)
    } else {
        format!(" ({head})")
    }
}
