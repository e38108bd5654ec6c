//! `runbom hook install --venv DIR`: enable the runtime hook in a virtualenv; `--ruby DIR`: write
//! the Ruby hook into DIR and say how a service's environment loads it (`RUBYOPT`), and how its
//! report is built when it stops (`runbom hook flush`); `--tcl DIR`: see
//! `hook::tcl`.

use std::fs;
use std::path::Path;

use anyhow::Context;
use runbom_ecosystems::Hook;
use runbom_ecosystems::python::venv_hook::{ENFORCE_TABLE, HookSettings, install, site_packages};
use runbom_ecosystems::python::{query_interpreter, read_inventory};
use runbom_ecosystems::ruby::{HOOK_FILE_NAME, Ruby};

use crate::cli::HookInstallArgs;
use crate::commands::ExitStatus;
use crate::commands::enforce::{PreparedTable, fail_word, prepare};

pub fn run(args: &HookInstallArgs) -> anyhow::Result<ExitStatus> {
    if let Some(dir) = &args.tcl {
        return super::tcl::install(dir, args);
    }
    let runbom = std::env::current_exe().context("cannot find the runbom binary's own path")?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let (Some(venv), None) = (&args.venv, &args.ruby) else {
        let dir = cwd.join(
            args.ruby
                .as_deref()
                .context("`--venv`, `--ruby` or `--tcl` is needed")?,
        );
        return ruby(&runbom, &dir, &cwd, args);
    };
    let report_dir = cwd.join(
        args.report_dir
            .clone()
            .unwrap_or_else(|| venv.join("runbom-reports")),
    );
    let enforce = match &args.enforce.enforce {
        Some(expected) => Some(prepare_enforcement(args, venv, expected)?),
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

/// The venv's own inventory made into the table beside the hook.
fn prepare_enforcement(
    args: &HookInstallArgs,
    venv: &Path,
    expected: &Path,
) -> anyhow::Result<PreparedTable> {
    let python = venv.join("bin/python");
    let interpreter = query_interpreter(&python)
        .with_context(|| format!("cannot enforce: cannot ask `{}`", python.display()))?;
    let inventory = read_inventory(&interpreter, &[]);
    let path = std::path::absolute(site_packages(venv)?.join(ENFORCE_TABLE))
        .context("cannot make the table's path absolute")?;
    let table = prepare(&args.enforce, expected, &inventory, &path)?;
    eprintln!("{}", table.describe(expected));
    Ok(table)
}

/// `--ruby DIR`: the hook, its session directory, an environment file, and on stdout the lines of
/// a systemd unit that use them.
fn ruby(
    runbom: &Path,
    dir: &Path,
    cwd: &Path,
    args: &HookInstallArgs,
) -> anyhow::Result<ExitStatus> {
    let launch = Ruby.install(dir)?;
    let rubyopt = launch
        .env
        .iter()
        .find(|(name, _)| name == "RUBYOPT")
        .map(|(_, value)| value.to_string_lossy().into_owned())
        .context("the Ruby hook sets no `RUBYOPT`")?;
    let session = dir.join("session");
    let report_dir = cwd.join(
        args.report_dir
            .clone()
            .unwrap_or_else(|| dir.join("reports")),
    );
    for made in [&session, &report_dir] {
        fs::create_dir_all(made).with_context(|| format!("cannot create `{}`", made.display()))?;
    }
    let env_file = dir.join("runbom.env");
    let env = format!(
        "RUBYOPT={rubyopt}\nRUNBOM_SESSION_DIR={}\n",
        session.display()
    );
    fs::write(&env_file, env).with_context(|| format!("cannot write `{}`", env_file.display()))?;
    let mut flush = format!(
        "{} hook flush --session {} --report-dir {} --complete",
        runbom.display(),
        session.display(),
        report_dir.display()
    );
    for (flag, value) in [
        ("--app", &args.app),
        ("--environment", &args.environment),
        ("--server", &args.server),
        ("--token", &args.token),
    ] {
        if let Some(value) = value {
            flush.push_str(&format!(" {flag} {value}"));
        }
    }
    eprintln!("wrote {}", dir.join(HOOK_FILE_NAME).display());
    eprintln!("wrote {}", env_file.display());
    println!(
        "# In the service's [Service] section (RUBYOPT: keep your own options after the hook's):"
    );
    println!("EnvironmentFile={}", env_file.display());
    println!("# or");
    println!("Environment=\"RUBYOPT={rubyopt}\"");
    println!("Environment=\"RUNBOM_SESSION_DIR={}\"", session.display());
    println!("# Its report, built when it stops (or from a timer, for a periodic one):");
    println!("ExecStopPost={flush}");
    Ok(ExitStatus::Success)
}
