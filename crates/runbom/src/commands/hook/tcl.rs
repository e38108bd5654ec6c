//! `runbom hook install --tcl DIR [--tclsh TCLSH]`: Tcl reads no start-up file from the
//! environment, so a service's scripts are observed by starting them with a wrapper of the shell
//! instead: `DIR/<shell name>` (e.g. `DIR/tclsh8.6`), a `/bin/sh` script that runs
//! `runbom run --report … -- /usr/bin/tclsh8.6 "$@"` with the application, environment, server,
//! token and spool given here. The shell is kept as an absolute path, so that `DIR` may go first
//! on a service's `PATH` without the wrapper finding itself. A shell started with no script runs
//! bare, as under `runbom run`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use runbom_ecosystems::Program;
use runbom_ecosystems::tcl::is_tcl_shell;

use crate::cli::HookInstallArgs;
use crate::commands::ExitStatus;

pub fn install(dir: &Path, args: &HookInstallArgs) -> anyhow::Result<ExitStatus> {
    let runbom = std::env::current_exe().context("cannot find the runbom binary's own path")?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let shell = Program::resolve(&args.tclsh.to_string_lossy())
        .path
        .filter(|p| p.is_file())
        .with_context(|| format!("no Tcl shell `{}` on PATH", args.tclsh.display()))?;
    let shell = std::fs::canonicalize(&shell)
        .with_context(|| format!("cannot resolve `{}`", shell.display()))?;
    anyhow::ensure!(
        is_tcl_shell(&args.tclsh) || is_tcl_shell(&shell),
        "`{}` is not a Tcl shell (tclsh, tclsh8.6, wish …)",
        args.tclsh.display()
    );
    let dir = cwd.join(dir);
    let report_dir = cwd.join(
        args.report_dir
            .clone()
            .unwrap_or_else(|| dir.join("runbom-reports")),
    );
    std::fs::create_dir_all(&report_dir)
        .with_context(|| format!("cannot create `{}`", report_dir.display()))?;
    let name = args
        .tclsh
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tclsh"));
    let wrapper = dir.join(name);
    let text = wrapper_script(&runbom, &shell, &report_dir, args);
    write_executable(&wrapper, &text)?;
    eprintln!("wrote {}", wrapper.display());
    eprintln!(
        "start Tcl scripts with {} (or put {} first on PATH); reports will be written to {}",
        wrapper.display(),
        dir.display(),
        report_dir.display()
    );
    if let Some(server) = &args.server {
        eprintln!("and sent to {server}");
    }
    Ok(ExitStatus::Success)
}

/// The wrapper: one `exec` of `runbom run`, every value single-quoted for `/bin/sh`.
pub fn wrapper_script(
    runbom: &Path,
    shell: &Path,
    report_dir: &Path,
    args: &HookInstallArgs,
) -> String {
    let mut command = vec![
        quote(&runbom.to_string_lossy()),
        "run".to_owned(),
        "--report".to_owned(),
        format!(
            "{}/tcl-\"$(date +%Y%m%dT%H%M%S)\"-$$.json",
            quote(&report_dir.to_string_lossy())
        ),
    ];
    let mut option = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            command.push(flag.to_owned());
            command.push(quote(&value));
        }
    };
    option("--app", args.app.clone());
    option("--environment", args.environment.clone());
    option("--server", args.server.clone());
    option("--token", args.token.clone());
    option(
        "--spool",
        args.spool
            .as_ref()
            .map(|s| s.to_string_lossy().into_owned()),
    );
    command.push("--".to_owned());
    command.push(quote(&shell.to_string_lossy()));
    command.push("\"$@\"".to_owned());
    format!(
        "#!/bin/sh\n\
         # runbom's wrapper of {shell} (written by `runbom hook install --tcl`): every Tcl script\n\
         # started with it runs under `runbom run`, which reports the packages it loads.\n\
         exec {}\n",
        command.join(" "),
        shell = shell.display()
    )
}

/// `value` in single quotes, as `/bin/sh` reads it back.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

fn write_executable(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    // Owner only: the wrapper may hold the server token.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make `{}` executable", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_the_shell() {
        assert_eq!(quote("plain"), "'plain'");
        assert_eq!(quote("it's"), "'it'\\''s'");
    }
}
