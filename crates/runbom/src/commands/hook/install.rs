//! `runbom hook install --venv DIR`: enable the runtime hook in a virtualenv (`--tcl DIR`: see
//! `hook::tcl`).

use anyhow::Context;
use runbom_ecosystems::python::venv_hook::{HookSettings, install};

use crate::cli::HookInstallArgs;
use crate::commands::ExitStatus;

pub fn run(args: &HookInstallArgs) -> anyhow::Result<ExitStatus> {
    if let Some(dir) = &args.tcl {
        return super::tcl::install(dir, args);
    }
    let venv = args
        .venv
        .as_ref()
        .context("`--venv DIR` or `--tcl DIR` is needed")?;
    let runbom = std::env::current_exe().context("cannot find the runbom binary's own path")?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let report_dir = cwd.join(
        args.report_dir
            .clone()
            .unwrap_or_else(|| venv.join("runbom-reports")),
    );
    let settings = HookSettings {
        runbom,
        app: args.app.clone(),
        environment: args.environment.clone(),
        report_dir: report_dir.clone(),
        server: args.server.clone(),
        token: args.token.clone(),
        spool: args.spool.as_ref().map(|spool| cwd.join(spool)),
    };
    let written = install(venv, &settings)?;
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    eprintln!("reports will be written to {}", report_dir.display());
    if let Some(server) = &args.server {
        eprintln!("and sent to {server}");
    }
    Ok(ExitStatus::Success)
}
