//! `runbom attach PID…` / `--all`: a runtime report of each live process, read from outside
//! through the language seam (`runbom_ecosystems::attach`), marked as attached, and handed to
//! the same sinks as `runbom run` (a file, a server through the sender's spool).

use anyhow::Context;
use runbom_ecosystems::attach::{attach, attached};
use runbom_ecosystems::process::{self, LiveProcess, MemoryError, ProcessError};
use runbom_ecosystems::python::attach::AttachError as PythonAttachError;
use runbom_ecosystems::report::ReportContext;
use runbom_model::RuntimeReport;

use crate::cli::AttachArgs;
use crate::commands::ExitStatus;
use crate::commands::config::report_redactor;
use crate::commands::report_sink::{
    FileSink, ReportSink, ServerSink, base_context, stamp, write_summary,
};

/// What reading one process gave.
#[derive(Debug)]
pub enum Outcome {
    /// Its report, and how runbom's hook observes it too, if it does.
    Report(Box<RuntimeReport>, Option<String>),
    /// The process runs no program of a language runbom reads.
    Foreign { executable: std::path::PathBuf },
    /// It could not be read: gone, another user's, a kernel thread, or its language's error.
    Failed(anyhow::Error),
}

/// The report of the live process `pid`, read as `by` (`attach`, `agent`) in `context`.
pub fn report_of(pid: u32, by: &str, context: ReportContext) -> Outcome {
    let process = match LiveProcess::read(pid) {
        Ok(process) => process,
        Err(err) => return Outcome::Failed(err.into()),
    };
    report_of_process(&process, by, context)
}

pub fn report_of_process(process: &LiveProcess, by: &str, mut context: ReportContext) -> Outcome {
    let Some((module, result)) = attach(process) else {
        return Outcome::Foreign {
            executable: process.executable.clone(),
        };
    };
    let attachment = match result {
        Ok(attachment) => attachment,
        Err(err) => {
            return Outcome::Failed(anyhow::Error::from_boxed(err).context(format!(
                "cannot read {} process {}",
                module.language(),
                process.pid
            )));
        }
    };
    context.session_id = format!("{}-{}-{}", context.host, process.pid, process.started_at);
    context.complete = false;
    let mut notes = attachment.notes;
    if let Some(hooked) = &attachment.hooked {
        notes.push(format!(
            "also observed by runbom's hook ({hooked}): its reports are the fuller evidence and \
             win where both exist"
        ));
    }
    let mut report = context.report(attachment.observed);
    report.attached = Some(attached(process, by, notes));
    Outcome::Report(Box::new(report), attachment.hooked)
}

pub fn run(args: &AttachArgs) -> anyhow::Result<ExitStatus> {
    let pids = if args.all {
        process::pids()
            .into_iter()
            .filter(|&p| p != std::process::id())
            .collect()
    } else {
        args.pids.clone()
    };
    let several = args.all || pids.len() > 1;
    let mut sinks: Vec<(Option<u32>, Box<dyn ReportSink>)> = Vec::new();
    if let Some(server) = ServerSink::from_args(&args.sender)? {
        sinks.push((None, Box::new(server)));
    }
    let base = base_context(
        args.app.clone(),
        args.environment.clone(),
        Vec::new(),
        report_redactor(args.config.as_deref()),
    );
    let mut status = ExitStatus::Success;
    let mut skipped = 0usize;
    let mut out = std::io::stdout().lock();
    for pid in pids {
        match report_of(pid, "attach", stamp(&base, 0, false, None)) {
            Outcome::Report(report, _) => {
                if let Some(path) = &args.report {
                    let path = if several {
                        std::fs::create_dir_all(path).with_context(|| {
                            format!("cannot create the report directory `{}`", path.display())
                        })?;
                        path.join(format!("{pid}.json"))
                    } else {
                        path.clone()
                    };
                    FileSink::new(path).deliver(&report)?;
                }
                for (_, sink) in &mut sinks {
                    sink.deliver(&report)?;
                }
                print_report(&mut out, pid, &report)?;
            }
            Outcome::Foreign { executable } if !args.all => {
                eprintln!(
                    "runbom: error: process {pid} runs `{}`, which is no program of a language \
                     runbom reads (Python, Go{})",
                    executable.display(),
                    hook_languages()
                );
                status = ExitStatus::Error;
            }
            Outcome::Foreign { .. } => {}
            Outcome::Failed(err) if args.all => {
                if !is_skippable(&err) {
                    eprintln!("runbom: warning: {err:#}");
                }
                skipped += 1;
            }
            Outcome::Failed(err) => {
                eprintln!("runbom: error: {err:#}");
                status = ExitStatus::Error;
            }
        }
    }
    if skipped > 0 {
        eprintln!(
            "runbom: {skipped} process(es) skipped: kernel threads, gone, or not this user's to read"
        );
    }
    for (_, sink) in &mut sinks {
        sink.close();
    }
    Ok(status)
}

/// Processes `--all` passes over without a word: gone meanwhile, not this user's, or kernel
/// threads.
pub fn is_skippable(err: &anyhow::Error) -> bool {
    is_gone(err)
        || denied(err)
        || err.chain().any(|cause| {
            matches!(
                cause.downcast_ref::<ProcessError>(),
                Some(ProcessError::KernelThread { .. })
            )
        })
}

/// The process exited while it was read.
pub fn is_gone(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ProcessError>(),
            Some(ProcessError::Gone { .. })
        ) || matches!(cause.downcast_ref::<MemoryError>(), Some(MemoryError::Gone))
            || matches!(
                cause.downcast_ref::<PythonAttachError>(),
                Some(PythonAttachError::Memory(MemoryError::Gone))
            )
    })
}

fn denied(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ProcessError>(),
            Some(ProcessError::Denied { .. })
        ) || matches!(
            cause.downcast_ref::<MemoryError>(),
            Some(MemoryError::Denied { .. })
        ) || matches!(
            cause.downcast_ref::<PythonAttachError>(),
            Some(PythonAttachError::Memory(MemoryError::Denied { .. }))
        )
    })
}

fn hook_languages() -> String {
    runbom_ecosystems::LANGUAGES
        .iter()
        .map(|m| m.language())
        .filter(|l| {
            !matches!(
                l,
                runbom_model::Language::Python | runbom_model::Language::Go
            )
        })
        .map(|l| format!(", {l}"))
        .collect()
}

fn print_report(
    out: &mut impl std::io::Write,
    pid: u32,
    report: &RuntimeReport,
) -> anyhow::Result<()> {
    let interpreter = &report.interpreter;
    writeln!(
        out,
        "process {pid}: {} {} `{}`",
        interpreter.language,
        interpreter.version,
        interpreter.executable.display()
    )?;
    write_summary(out, report)?;
    if let Some(attached) = &report.attached {
        writeln!(
            out,
            "working directory: {}\nshared objects mapped: {}",
            attached.cwd.display(),
            attached.shared_objects.len()
        )?;
        for note in &attached.notes {
            writeln!(out, "note: {note}")?;
        }
    }
    Ok(())
}
