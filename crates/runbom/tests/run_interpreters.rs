//! The hook on every CPython the machine has through pyenv: 3.6 to 3.13 from `sys.modules` at
//! each interval and at exit (3.6 also without `os.register_at_fork`), and Python 2.7 refused with a warning that says why, the program
//! itself untouched. A version pyenv does not hold is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;

/// The CPythons the hook observes, each tested when pyenv holds it.
const CPYTHONS: [&str; 8] = ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"];

use common::pyenv_python;

/// A program that imports a distribution of `site` and forks a child that imports another.
const PROGRAM: &str = "\
import os, sys
import alpha
pid = os.fork()
if pid == 0:
    import beta
    sys.stdout.write('child\\n')
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
print('parent', alpha.NAME)
";

/// `runbom run --report` of `python -c program` with `site` on `PYTHONPATH`.
fn run(dir: &Path, python: &Path, site: &Path, program: &str) -> (Output, Value) {
    let report = dir.join("r.json");
    let out = common::runbom()
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("RUNBOM_DISABLE")
        .env("PYTHONPATH", site)
        .current_dir(dir)
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .arg(python)
        .args(["-c", program])
        .output()
        .expect("runbom run");
    let json = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    (out, json)
}

fn site(dir: &Path) -> PathBuf {
    let site = dir.join("site");
    common::write_distribution(&site, "alpha", "1.0", &[("alpha.py", "NAME = 'alpha'\n")]);
    common::write_distribution(&site, "beta", "2.0", &[("beta.py", "")]);
    site
}

/// [`site`] with a `sitecustomize` of the user's own, which sets `MINE=yes`.
fn site_with_users_sitecustomize(dir: &Path) -> PathBuf {
    let site = site(dir);
    std::fs::write(
        site.join("sitecustomize.py"),
        "import os\nos.environ['MINE'] = 'yes'\n",
    )
    .expect("sitecustomize");
    site
}

fn loaded_pids(report: &Value, name: &str) -> Vec<u64> {
    report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .filter(|d| d["normalized_name"] == name)
        .flat_map(|d| d["modules"].as_array().cloned().unwrap_or_default())
        .flat_map(|m| m["pids"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p.as_u64())
        .collect()
}

#[test]
fn the_hook_observes_every_cpython_from_3_6_to_3_13() {
    let mut observed = Vec::new();
    for version in CPYTHONS {
        let Some(python) = pyenv_python(version) else {
            eprintln!("skipped: pyenv holds no CPython {version}");
            continue;
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let site = site(tmp.path());
        let (out, report) = run(tmp.path(), &python, &site, PROGRAM);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stdout, "child\nparent alpha\n",
            "{version}: the program is untouched"
        );
        let processes = report["processes"].as_array().expect("processes");
        assert_eq!(
            processes.len(),
            2,
            "{version}: parent and forked child: {processes:#?}"
        );
        let alpha = loaded_pids(&report, "alpha");
        let beta = loaded_pids(&report, "beta");
        assert_eq!(
            alpha.len(),
            2,
            "{version}: alpha in parent and child: {alpha:?}"
        );
        assert_eq!(beta.len(), 1, "{version}: beta only in the child: {beta:?}");
        assert!(alpha.contains(&beta[0]), "{version}");
        let unowned: Vec<&Value> = report["unowned_modules"]
            .as_array()
            .expect("unowned")
            .iter()
            .filter(|m| m["name"] != "__main__")
            .collect();
        assert!(
            unowned.is_empty(),
            "{version}: `-c` loads nothing but the standard library and site: {unowned:#?}"
        );
        observed.push(version);
    }
    eprintln!("observed under the hook: {observed:?}");
}

/// uvicorn's way to exit: restore the default handler and re-raise the signal on itself, which
/// skips atexit. The hook flushes first, without importing `signal` into programs that don't.
const RERAISE: &str = "\
import sys
print('signal' in sys.modules)
import signal, alpha
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.raise_signal(signal.SIGTERM)
";

#[test]
fn a_program_that_re_raises_a_fatal_signal_is_still_reported() {
    for version in ["3.8", "3.13"] {
        let Some(python) = pyenv_python(version) else {
            eprintln!("skipped: pyenv holds no CPython {version}");
            continue;
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let site = site(tmp.path());
        let report = tmp.path().join("r.json");
        let out = common::runbom()
            .env_remove("RUNBOM_SESSION_DIR")
            .env("PYTHONPATH", &site)
            .args(["run", "--report"])
            .arg(&report)
            .arg("--")
            .arg(&python)
            .args(["-c", RERAISE])
            .output()
            .expect("runbom run");
        assert_eq!(out.status.code(), Some(143), "{version}: killed by SIGTERM");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "False\n", "{version}");
        let report: Value =
            serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
        assert_eq!(report["processes"][0]["exited"], true, "{version}");
        assert_eq!(loaded_pids(&report, "alpha").len(), 1, "{version}");
    }
}

#[test]
fn python_2_is_refused_with_a_warning_and_runs_untouched() {
    let Some(python) = pyenv_python("2.7") else {
        eprintln!("skipped: pyenv holds no Python 2.7");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    // A sitecustomize of the user's own still runs after runbom's, as site.py would run it.
    let site = site_with_users_sitecustomize(tmp.path());
    let (out, _) = run(
        tmp.path(),
        &python,
        &site,
        "import os, alpha; print(alpha.NAME + ' ' + os.environ.get('MINE', 'no'))",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "alpha yes\n");
    assert!(stderr.contains("ran Python 2.7"), "{stderr}");
    assert!(
        stderr.contains("the hook needs CPython 3.6 or newer"),
        "{stderr}"
    );
}

/// Prints the modules the program starts with, but those built into the interpreter (the hook
/// uses `atexit` and `time`), and whether the user's own `sitecustomize` ran.
const MODULES: &str = "\
import os, sys
loaded = set(sys.modules) - set(sys.builtin_module_names)
print(os.environ.get('MINE', 'no'), ' '.join(sorted(loaded)))
";

#[test]
fn the_hook_adds_no_module_to_the_program_and_still_runs_the_users_sitecustomize() {
    for version in CPYTHONS {
        let Some(python) = pyenv_python(version) else {
            eprintln!("skipped: pyenv holds no CPython {version}");
            continue;
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let site = site_with_users_sitecustomize(tmp.path());
        let bare = std::process::Command::new(&python)
            .env("PYTHONPATH", &site)
            .args(["-c", MODULES])
            .output()
            .expect("bare python");
        let (hooked, _) = run(tmp.path(), &python, &site, MODULES);
        assert!(
            hooked.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&hooked.stderr)
        );
        let bare = String::from_utf8_lossy(&bare.stdout);
        assert!(bare.starts_with("yes "), "{version}: {bare}");
        assert_eq!(
            String::from_utf8_lossy(&hooked.stdout),
            bare,
            "{version}: the same modules as bare, and the user's sitecustomize ran"
        );
    }
}
