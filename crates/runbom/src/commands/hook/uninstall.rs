//! `runbom hook uninstall --venv DIR`: remove exactly what `runbom hook install` wrote.

use runbom_ecosystems::python::venv_hook::uninstall;

use crate::cli::HookUninstallArgs;
use crate::commands::ExitStatus;

pub fn run(args: &HookUninstallArgs) -> anyhow::Result<ExitStatus> {
    let removed = uninstall(&args.venv)?;
    if removed.is_empty() {
        eprintln!("no runbom hook in {}", args.venv.display());
    }
    for path in removed {
        eprintln!("removed {}", path.display());
    }
    Ok(ExitStatus::Success)
}
