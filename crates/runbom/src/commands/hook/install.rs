//! `runbom hook install --venv DIR`: enable the runtime hook in a virtualenv; `--ruby DIR` or
//! `--perl DIR`: write that language's hook (and with `--enforce`, its enforcement table) into DIR
//! and say how a service's environment loads it (`RUBYOPT`; `PERL5LIB` and `PERL5OPT`), and how
//! its report is built when it stops (`runbom hook flush`); `--tcl DIR`: see `hook::tcl`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use runbom_ecosystems::Hook;
use runbom_ecosystems::perl::Perl;
use runbom_ecosystems::perl::inventory::{self as perl_inventory, DpkgDatabase};
use runbom_ecosystems::python::venv_hook::{ENFORCE_TABLE, HookSettings, install, site_packages};
use runbom_ecosystems::python::{query_interpreter, read_inventory};
use runbom_ecosystems::ruby::{HOOK_FILE_NAME, Ruby};

use crate::cli::HookInstallArgs;
use crate::commands::ExitStatus;
use runbom_model::Language;

use crate::commands::enforce::{PreparedTable, fail_word, prepare, prepare_perl, prepare_ruby};

pub fn run(args: &HookInstallArgs) -> anyhow::Result<ExitStatus> {
    if let Some(dir) = &args.tcl {
        return super::tcl::install(dir, args);
    }
    let runbom = std::env::current_exe().context("cannot find the runbom binary's own path")?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let Some(venv) = &args.venv else {
        let (language, dir) = match (&args.ruby, &args.perl) {
            (Some(dir), _) => (Language::Ruby, dir),
            (None, Some(dir)) => (Language::Perl, dir),
            (None, None) => anyhow::bail!("`--venv`, `--ruby`, `--perl` or `--tcl` is needed"),
        };
        return service(language, &runbom, &cwd.join(dir), &cwd, args);
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

/// `--ruby DIR` or `--perl DIR`: the hook, its session directory, with `--enforce` the table, an
/// environment file, and on stdout the lines of a systemd unit that use them.
fn service(
    language: Language,
    runbom: &Path,
    dir: &Path,
    cwd: &Path,
    args: &HookInstallArgs,
) -> anyhow::Result<ExitStatus> {
    let (hook, written): (&dyn Hook, PathBuf) = match language {
        Language::Perl => (&Perl, dir.join("Runbom/Hook.pm")),
        _ => (&Ruby, dir.join(HOOK_FILE_NAME)),
    };
    let mut env: Vec<(String, String)> = hook
        .install(dir)?
        .env
        .iter()
        .map(|(name, value)| {
            (
                name.to_string_lossy().into_owned(),
                value.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let session = dir.join("session");
    let report_dir = cwd.join(
        args.report_dir
            .clone()
            .unwrap_or_else(|| dir.join("reports")),
    );
    for made in [&session, &report_dir] {
        fs::create_dir_all(made).with_context(|| format!("cannot create `{}`", made.display()))?;
    }
    env.push((
        "RUNBOM_SESSION_DIR".to_owned(),
        session.display().to_string(),
    ));
    if let Some(expected) = &args.enforce.enforce {
        let table = service_table(language, args, expected, &dir.join("enforce.tsv"))?;
        eprintln!("{}", table.describe(expected));
        env.extend(
            table
                .env()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value)),
        );
    }
    let env_file = dir.join("runbom.env");
    let text: String = env.iter().map(|(n, v)| format!("{n}={v}\n")).collect();
    fs::write(&env_file, text).with_context(|| format!("cannot write `{}`", env_file.display()))?;
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
    eprintln!("wrote {}", written.display());
    eprintln!("wrote {}", env_file.display());
    let own = env
        .iter()
        .filter(|(n, _)| n.starts_with("RUBY") || n.starts_with("PERL"))
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "# In the service's [Service] section ({own}: keep your own options after the hook's):"
    );
    println!("EnvironmentFile={}", env_file.display());
    println!("# or");
    for (name, value) in &env {
        println!("Environment=\"{name}={value}\"");
    }
    println!("# Its report, built when it stops (or from a timer, for a periodic one):");
    println!("ExecStopPost={flush}");
    Ok(ExitStatus::Success)
}

/// The enforcement table of the `ruby` or `perl` on `PATH`, written to `path`.
fn service_table(
    language: Language,
    args: &HookInstallArgs,
    expected: &Path,
    path: &Path,
) -> anyhow::Result<PreparedTable> {
    let cannot_ask = |what: &str| format!("cannot enforce: cannot ask `{what}`");
    match language {
        Language::Perl => {
            let info = perl_inventory::query_perl(Path::new("perl"))
                .with_context(|| cannot_ask("perl"))?;
            let inventory = perl_inventory::read_inventory(info, &DpkgDatabase::default());
            prepare_perl(&args.enforce, expected, &inventory, path)
        }
        _ => {
            let interpreter = runbom_ecosystems::ruby::query_interpreter(Path::new("ruby"))
                .with_context(|| cannot_ask("ruby"))?;
            let inventory = runbom_ecosystems::ruby::read_inventory(&interpreter, &[]);
            prepare_ruby(&args.enforce, expected, &inventory, path)
        }
    }
}
