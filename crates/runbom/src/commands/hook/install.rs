//! `runbom hook install --venv DIR`: enable the runtime hook in a virtualenv.

use anyhow::Context;
use runbom_ecosystems::python::venv_hook::{ENFORCE_TABLE, HookSettings, install, site_packages};
use runbom_ecosystems::python::{query_interpreter, read_inventory};

use crate::cli::HookInstallArgs;
use crate::commands::ExitStatus;
use crate::commands::enforce::{PreparedTable, fail_word, prepare};

pub fn run(args: &HookInstallArgs) -> anyhow::Result<ExitStatus> {
    let runbom = std::env::current_exe().context("cannot find the runbom binary's own path")?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let report_dir = cwd.join(
        args.report_dir
            .clone()
            .unwrap_or_else(|| args.venv.join("runbom-reports")),
    );
    let enforce = match &args.enforce.enforce {
        Some(expected) => Some(prepare_enforcement(args, expected)?),
        None => None,
    };
    let settings = HookSettings {
        runbom,
        app: args.app.clone(),
        environment: args.environment.clone(),
        report_dir: report_dir.clone(),
        server: args.server.clone(),
        token: args.token.clone(),
        spool: args.spool.as_ref().map(|spool| cwd.join(spool)),
        enforce_table: enforce.as_ref().map(|table| table.path.clone()),
        enforce_fail: enforce
            .as_ref()
            .map(|table| fail_word(table.fail).to_owned()),
    };
    let written = install(&args.venv, &settings)?;
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    eprintln!("reports will be written to {}", report_dir.display());
    if let Some(server) = &args.server {
        eprintln!("and sent to {server}");
    }
    Ok(ExitStatus::Success)
}

/// The venv's own inventory made into the table beside the hook.
fn prepare_enforcement(
    args: &HookInstallArgs,
    expected: &std::path::Path,
) -> anyhow::Result<PreparedTable> {
    let python = args.venv.join("bin/python");
    let interpreter = query_interpreter(&python)
        .with_context(|| format!("cannot enforce: cannot ask `{}`", python.display()))?;
    let inventory = read_inventory(&interpreter, &[]);
    let path = std::path::absolute(site_packages(&args.venv)?.join(ENFORCE_TABLE))
        .context("cannot make the table's path absolute")?;
    let table = prepare(&args.enforce, expected, &inventory, &path)?;
    eprintln!("{}", table.describe(expected));
    Ok(table)
}
