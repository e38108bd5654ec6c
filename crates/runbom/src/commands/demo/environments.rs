//! The demo's Python environments, prod and staging: virtualenvs holding the pinned old
//! releases of their requirements files, installed from PyPI by the interpreter's own pip (so
//! the venvs hold no installer tooling) and reused while their requirements are unchanged; or,
//! when they cannot be built (no network, no pip), the interpreter itself with what it has.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::Context;

/// Where one environment's storefront runs.
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: &'static str,
    /// The interpreter the storefront runs on.
    pub python: PathBuf,
}

/// The environments, and why they are the interpreter's own when they could not be built.
#[derive(Debug)]
pub struct Environments {
    pub environments: Vec<Environment>,
    pub fallback: Option<String>,
}

/// Builds (or reuses) a venv per `(name, requirements)` under `dir`. `offline` skips PyPI.
pub fn build(
    python: &Path,
    dir: &Path,
    wanted: &[(&'static str, PathBuf)],
    offline: bool,
) -> anyhow::Result<Environments> {
    let base = base_executable(python)?;
    if offline {
        return Ok(fallback(&base, wanted, "--offline was given".to_owned()));
    }
    let mut environments = Vec::new();
    for (name, requirements) in wanted {
        match venv(&base, &dir.join(format!("venv-{name}")), requirements) {
            Ok(python) => environments.push(Environment { name, python }),
            Err(reason) => return Ok(fallback(&base, wanted, reason)),
        }
    }
    Ok(Environments {
        environments,
        fallback: None,
    })
}

/// The interpreter's real path: `--python` may be a bare name found on PATH.
fn base_executable(python: &Path) -> anyhow::Result<PathBuf> {
    let output = Command::new(python)
        .args(["-c", "import sys; print(sys.executable)"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "cannot run `{}` to build the demo's environments; pass --python PATH",
                python.display()
            )
        })?;
    let executable = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || executable.is_empty() {
        anyhow::bail!(
            "`{}` did not answer as a Python interpreter ({}); pass --python PATH",
            python.display(),
            last_line(&output)
        );
    }
    Ok(PathBuf::from(executable))
}

fn fallback(base: &Path, wanted: &[(&'static str, PathBuf)], reason: String) -> Environments {
    Environments {
        environments: wanted
            .iter()
            .map(|(name, _)| Environment {
                name,
                python: base.to_path_buf(),
            })
            .collect(),
        fallback: Some(reason),
    }
}

/// The venv's interpreter, built unless `venv` already holds exactly `requirements`.
fn venv(base: &Path, venv: &Path, requirements: &Path) -> Result<PathBuf, String> {
    let python = venv.join("bin").join("python");
    let wanted = std::fs::read(requirements)
        .map_err(|e| format!("cannot read `{}`: {e}", requirements.display()))?;
    let stamp = venv.join("runbom-demo-requirements.txt");
    if python.exists() && std::fs::read(&stamp).is_ok_and(|built| built == wanted) {
        return Ok(python);
    }
    if venv.exists() {
        std::fs::remove_dir_all(venv)
            .map_err(|e| format!("cannot remove the old `{}`: {e}", venv.display()))?;
    }
    let name = |file: &Path| file.file_name().unwrap_or_default().display().to_string();
    run(
        &format!("python -m venv {}", name(venv)),
        Command::new(base)
            .args(["-m", "venv", "--without-pip"])
            .arg(venv),
    )?;
    run(
        &format!("pip install -r {}", name(requirements)),
        Command::new(base)
            .args(["-m", "pip", "--python"])
            .arg(&python)
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--timeout",
                "15",
                "--retries",
                "1",
                "-r",
            ])
            .arg(requirements),
    )?;
    std::fs::write(&stamp, wanted)
        .map_err(|e| format!("cannot write `{}`: {e}", stamp.display()))?;
    Ok(python)
}

/// Runs `command`, shown as `shown` in what went wrong.
fn run(shown: &str, command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed: {}", last_line(&output)))
    }
}

/// The last non-empty line of a command's stderr (or stdout), where tools say what went wrong.
fn last_line(output: &Output) -> String {
    [&output.stderr, &output.stdout]
        .into_iter()
        .filter_map(|bytes| {
            String::from_utf8_lossy(bytes)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_owned())
        })
        .next()
        .unwrap_or_else(|| format!("exit status {}", output.status))
}
