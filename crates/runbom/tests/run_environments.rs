//! `runbom run` maps each process to the environment it really ran in (from the `sys.prefix` and
//! `sys.path` its hook observed), not to whatever `python3` is first on `PATH`: a venv's console
//! script, pip's `#!/bin/sh` trampoline for long paths, a shell script starting two venvs,
//! launchers that drop `PYTHONPATH` (pipx from PyPI), and `--python` overriding it all.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;

/// `PATH` whose `python3` is the system interpreter, not the one the venvs were made with.
const SYSTEM_PATH: &str = "/usr/bin:/bin";
/// The interpreter the venvs are made with (pyenv's, or whatever `python3` is for the tests).
const VENV_PYTHON: &str = "python3";

/// `PATH` whose `python3` is the base interpreter of `venv`: the file its `bin/python` links
/// to, so that comparing executables cannot tell the two environments apart.
fn base_path(venv: &Path) -> String {
    let base = std::fs::canonicalize(venv.join("bin/python")).expect("venv python");
    let dir = base.parent().expect("bin dir");
    assert!(
        dir.join("python3").exists(),
        "{} has no python3",
        dir.display()
    );
    format!("{}:{SYSTEM_PATH}", dir.display())
}

fn run(dir: &Path, extra: &[&str], command: &[&str]) -> (Output, Value) {
    run_with_path(dir, SYSTEM_PATH, extra, command)
}

fn run_with_path(dir: &Path, path: &str, extra: &[&str], command: &[&str]) -> (Output, Value) {
    let report = dir.join("r.json");
    let out = common::runbom()
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("RUNBOM_DISABLE")
        .env_remove("PYTHONPATH")
        .env("PATH", path)
        .current_dir(dir)
        .args(["run", "--report"])
        .arg(&report)
        .args(extra)
        .arg("--")
        .args(command)
        .output()
        .expect("runbom run");
    let json = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    (out, json)
}

fn site_packages(venv: &Path) -> PathBuf {
    let lib = venv.join("lib");
    let version = std::fs::read_dir(&lib)
        .expect("venv lib")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("python"))
        .expect("lib/pythonX.Y");
    version.path().join("site-packages")
}

fn distributions(report: &Value) -> &Vec<Value> {
    report["distributions"].as_array().expect("distributions")
}

fn distribution<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    distributions(report)
        .iter()
        .filter(|d| d["normalized_name"] == name)
        .collect()
}

fn unowned(report: &Value) -> Vec<String> {
    report["unowned_modules"]
        .as_array()
        .expect("unowned_modules")
        .iter()
        .filter_map(|m| m["name"].as_str().map(str::to_owned))
        .collect()
}

/// A name long enough that pip writes its `#!/bin/sh` + `exec` trampoline (a shebang holds 127).
const LONG: &str = "a-venv-whose-path-is-longer-than-a-shebang-line-may-be-so-pip-writes-the-sh-trampoline-instead-of-a-plain-python-shebang";

#[test]
fn a_console_script_is_mapped_to_its_own_venv_not_to_python3_on_path() {
    let Some(venv) = common::cached_venv(LONG, VENV_PYTHON, &["pyflakes==3.2.0"]) else {
        return;
    };
    let script = venv.join("bin/pyflakes");
    let first_line = std::fs::read_to_string(&script).expect("console script");
    assert!(
        first_line.starts_with("#!/bin/sh\n'''exec' "),
        "pip wrote a plain shebang; the path is too short to test the trampoline"
    );
    for path in [base_path(&venv), SYSTEM_PATH.to_owned()] {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("mod.py"), "import os\n").expect("mod.py");
        let (out, report) = run_with_path(
            tmp.path(),
            &path,
            &[],
            &[script.to_str().expect("utf-8 path"), "mod.py"],
        );
        assert_maps_pyflakes_to(&venv, &out, &report);
    }
}

fn assert_maps_pyflakes_to(venv: &Path, out: &Output, report: &Value) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "pyflakes finds the unused import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("'os' imported but unused"));
    let site = site_packages(venv);
    let pyflakes = distribution(report, "pyflakes");
    assert_eq!(pyflakes.len(), 1, "{:#}", report["distributions"]);
    assert_eq!(pyflakes[0]["location"], site.to_str().expect("utf-8 path"));
    let modules = pyflakes[0]["modules"].as_array().expect("modules");
    assert!(
        modules.iter().any(|m| m["name"] == "pyflakes.checker"),
        "{modules:?}"
    );
    assert!(
        unowned(report).iter().all(|m| !m.starts_with("pyflakes")),
        "{:?}",
        unowned(report)
    );
    assert!(
        distributions(report)
            .iter()
            .all(|d| d["location"] == site.to_str().expect("utf-8 path")),
        "only the venv's distributions: {:#}",
        report["distributions"]
    );
}

#[test]
fn a_shell_script_starting_two_venvs_gets_each_process_mapped_to_its_own() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut venvs = Vec::new();
    for (name, version) in [("alpha", "1.0"), ("beta", "2.0")] {
        let venv = tmp.path().join(format!("venv-{name}"));
        let status = std::process::Command::new(VENV_PYTHON)
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(status.success());
        // The same distribution in both, at another version: only the right venv can own it.
        common::write_distribution(
            &site_packages(&venv),
            "shared-lib",
            version,
            &[(
                "shared_lib/__init__.py",
                &format!("VERSION = '{version}'\n"),
            )],
        );
        venvs.push(venv);
    }
    let script = tmp.path().join("both.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{}/bin/python -c 'import shared_lib; print(shared_lib.VERSION)'\n\
             exec {}/bin/python -c 'import shared_lib; print(shared_lib.VERSION)'\n",
            venvs[0].display(),
            venvs[1].display()
        ),
    )
    .expect("script");
    let path = base_path(&venvs[0]);
    let (out, report) = run_with_path(
        tmp.path(),
        &path,
        &[],
        &["sh", script.to_str().expect("utf-8 path")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1.0\n2.0\n");
    let processes = report["processes"].as_array().expect("processes");
    assert_eq!(processes.len(), 2, "{processes:#?}");
    let shared = distribution(&report, "shared-lib");
    assert_eq!(
        shared.len(),
        2,
        "one per venv: {:#}",
        report["distributions"]
    );
    for (venv, version) in venvs.iter().zip(["1.0", "2.0"]) {
        let dist = shared
            .iter()
            .find(|d| d["version"] == version)
            .expect("version");
        assert_eq!(
            dist["location"],
            site_packages(venv).to_str().expect("utf-8 path")
        );
        let modules = dist["modules"].as_array().expect("modules");
        assert_eq!(modules.len(), 1, "{dist:#}");
        assert_eq!(modules[0]["integrity"]["status"], "verified");
        let pids = modules[0]["pids"].as_array().expect("pids");
        assert_eq!(pids.len(), 1, "loaded by one process only: {dist:#}");
    }
    assert_eq!(unowned(&report), ["__main__"], "`-c` has no file");
}

#[test]
fn python_overrides_the_observed_environment() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let venv = tmp.path().join("venv");
    let status = std::process::Command::new(VENV_PYTHON)
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .expect("python3 -m venv");
    assert!(status.success());
    common::write_distribution(
        &site_packages(&venv),
        "only-here",
        "1.0",
        &[("only_here.py", "")],
    );
    let python = venv.join("bin/python");
    let (out, report) = run(
        tmp.path(),
        &["--python", "/usr/bin/python3"],
        &[
            python.to_str().expect("utf-8 path"),
            "-c",
            "import only_here",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(distribution(&report, "only-here").is_empty());
    assert!(unowned(&report).contains(&"only_here".to_owned()));
}

/// What pipx, tox and other launchers do: drop `PYTHONPATH` from the environment they copy for
/// the program, then replace themselves with it (`os.execvpe`: the launcher's atexit never runs)
/// or start it (`subprocess`).
const LAUNCHERS: [(&str, &str); 2] = [
    (
        "exec",
        "import os, sys\nenv = dict(os.environ)\nenv.pop('PYTHONPATH', None)\n\
         os.execvpe(sys.argv[1], sys.argv[1:], env)\n",
    ),
    (
        "subprocess",
        "import os, subprocess, sys\nenv = dict(os.environ)\nenv.pop('PYTHONPATH', None)\n\
         sys.exit(subprocess.call(sys.argv[1:], env=env))\n",
    ),
];

/// On the machine's `python3` and on 3.8: `os.exec*` and `subprocess` are wrapped to keep the
/// hook in the child.
#[test]
fn a_launcher_that_drops_pythonpath_leaves_both_programs_observed() {
    let Some(venv) = common::cached_venv("pyflakes-3.2.0", VENV_PYTHON, &["pyflakes==3.2.0"])
    else {
        return;
    };
    launchers_leave_both_programs_observed(&venv);
    let Some(python_3_8) = common::pyenv_python("3.8") else {
        eprintln!("skipped on 3.8: pyenv holds no CPython 3.8");
        return;
    };
    let python_3_8 = python_3_8.to_str().expect("utf-8 path");
    if let Some(venv) =
        common::cached_venv("pyflakes-3.2.0-py3.8", python_3_8, &["pyflakes==3.2.0"])
    {
        launchers_leave_both_programs_observed(&venv);
    }
}

fn launchers_leave_both_programs_observed(venv: &Path) {
    for (how, launcher) in LAUNCHERS {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("mod.py"), "import os\n").expect("mod.py");
        std::fs::write(tmp.path().join("launch.py"), launcher).expect("launcher");
        let pyflakes = venv.join("bin/pyflakes");
        let (out, report) = run(
            tmp.path(),
            &[],
            &[
                venv.join("bin/python").to_str().expect("utf-8 path"),
                "launch.py",
                pyflakes.to_str().expect("utf-8 path"),
                "mod.py",
            ],
        );
        assert_maps_pyflakes_to(venv, &out, &report);
        let processes = report["processes"].as_array().expect("processes");
        let pids: BTreeSet<_> = processes.iter().map(|p| p["pid"].to_string()).collect();
        assert_eq!(processes.len(), 2, "{how}: the launcher and pyflakes");
        assert_eq!(pids.len(), if how == "exec" { 1 } else { 2 }, "{how}");
    }
}

/// pipx itself, from PyPI: `pipx run` builds a venv for the app and execs it without our
/// `PYTHONPATH`. The app must be observed in that venv.
#[test]
fn pipx_run_is_observed_in_the_venv_pipx_made() {
    let Some(tools) = common::cached_venv("pipx-1.18.4", VENV_PYTHON, &["pipx==1.18.4"]) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("mod.py"), "import os\n").expect("mod.py");
    let pipx_home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pipx-home");
    let pipx = tools.join("bin/pipx");
    let report = tmp.path().join("r.json");
    let out = common::runbom()
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("PYTHONPATH")
        .env(
            "PATH",
            format!("{}:{SYSTEM_PATH}", tools.join("bin").display()),
        )
        .env("PIPX_HOME", &pipx_home)
        .current_dir(tmp.path())
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .arg(&pipx)
        .args(["run", "pyflakes==3.2.0", "mod.py"])
        .output()
        .expect("runbom run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("Could not find a version") || stderr.contains("Max retries") {
        eprintln!("skipped: pipx could not reach PyPI: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("report json");
    let pyflakes = distribution(&report, "pyflakes");
    assert_eq!(pyflakes.len(), 1, "{stderr}\n{:#}", report["distributions"]);
    let location = pyflakes[0]["location"].as_str().expect("location");
    assert!(
        location.starts_with(pipx_home.to_str().expect("utf-8 path")),
        "in pipx's own venv: {location}"
    );
    let modules = pyflakes[0]["modules"].as_array().expect("modules");
    assert!(
        modules.iter().any(|m| m["name"] == "pyflakes.checker"),
        "{modules:?}"
    );
    let pipx_dist = distribution(&report, "pipx");
    assert_eq!(pipx_dist.len(), 1, "the launcher was observed too");
    assert!(unowned(&report).iter().all(|m| !m.starts_with("pyflakes")));
}

/// `uv run` (uv from PyPI) in a project: uv makes the project's `.venv`, syncs it from PyPI and
/// starts the console script there; the report maps it to that `.venv`.
#[test]
fn uv_run_is_observed_in_the_projects_venv() {
    let Some(tools) = common::cached_venv("uv-0.13.9", VENV_PYTHON, &["uv==0.13.9"]) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("pyproject.toml"),
        "[project]\nname = \"checked\"\nversion = \"0.1\"\nrequires-python = \">=3.8\"\n\
         dependencies = [\"pyflakes==3.2.0\"]\n",
    )
    .expect("pyproject.toml");
    std::fs::write(tmp.path().join("mod.py"), "import os\n").expect("mod.py");
    let report = tmp.path().join("r.json");
    let out = common::runbom()
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("PYTHONPATH")
        .env("PATH", base_path(&tools))
        .env(
            "UV_CACHE_DIR",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("uv-cache"),
        )
        .env("UV_PYTHON", tools.join("bin/python"))
        .current_dir(tmp.path())
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .arg(tools.join("bin/uv"))
        .args(["run", "--no-config", "pyflakes", "mod.py"])
        .output()
        .expect("runbom run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !tmp.path().join(".venv/bin/pyflakes").exists() {
        eprintln!("skipped: uv could not install pyflakes from PyPI: {stderr}");
        return;
    }
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("report json");
    assert_maps_pyflakes_to(&tmp.path().join(".venv"), &out, &report);
}

/// `poetry run` (poetry from PyPI) in a project whose `.venv` poetry made with virtualenv and
/// filled from PyPI: pyflakes is mapped to that `.venv`, poetry itself to its own venv, and
/// poetry's `poetry` namespace package (filled by poetry and poetry-core) is not unknown code.
#[test]
fn poetry_run_is_observed_in_the_projects_venv() {
    let Some(tools) = common::cached_venv("poetry-2.1.3", VENV_PYTHON, &["poetry==2.1.3"]) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("pyproject.toml"),
        "[project]\nname = \"checked\"\nversion = \"0.1\"\nrequires-python = \">=3.8\"\n\
         dependencies = [\"pyflakes==3.2.0\"]\n\n[tool.poetry]\npackage-mode = false\n",
    )
    .expect("pyproject.toml");
    std::fs::write(tmp.path().join("mod.py"), "import os\n").expect("mod.py");
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("poetry-cache");
    let install = std::process::Command::new(tools.join("bin/poetry"))
        .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
        .env("POETRY_CACHE_DIR", &cache)
        .env_remove("PYTHONPATH")
        .current_dir(tmp.path())
        .args(["install", "--no-interaction"])
        .output()
        .expect("poetry install");
    if !tmp.path().join(".venv/bin/pyflakes").exists() {
        eprintln!(
            "skipped: poetry could not install pyflakes from PyPI: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        return;
    }
    let report = tmp.path().join("r.json");
    let out = common::runbom()
        .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
        .env("POETRY_CACHE_DIR", &cache)
        .env_remove("PYTHONPATH")
        .env_remove("RUNBOM_SESSION_DIR")
        .current_dir(tmp.path())
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .arg(tools.join("bin/poetry"))
        .args(["run", "pyflakes", "mod.py"])
        .output()
        .expect("runbom run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("report json");
    let pyflakes = distribution(&report, "pyflakes");
    assert_eq!(pyflakes.len(), 1, "{:#}", report["distributions"]);
    let project_site = site_packages(&tmp.path().join(".venv"));
    assert_eq!(
        pyflakes[0]["location"],
        project_site.to_str().expect("utf-8")
    );
    assert!(
        pyflakes[0]["modules"]
            .as_array()
            .expect("modules")
            .iter()
            .any(|m| m["name"] == "pyflakes.checker")
    );
    let poetry_dist = distribution(&report, "poetry");
    assert_eq!(poetry_dist.len(), 1, "the launcher was observed too");
    assert_eq!(
        poetry_dist[0]["location"],
        site_packages(&tools).to_str().expect("utf-8")
    );
    let unowned = unowned(&report);
    assert!(
        unowned
            .iter()
            .all(|m| !m.starts_with("pyflakes") && !m.starts_with("poetry")),
        "{unowned:?}"
    );
    // The project's own lock verifies the program clean: pip and virtualenv's `_virtualenv`
    // shim, which poetry's virtualenv put in `.venv`, are tooling notes.
    let pyflakes_only = tmp.path().join("pyflakes.json");
    let run = common::runbom()
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("PYTHONPATH")
        .current_dir(tmp.path())
        .args(["run", "--report"])
        .arg(&pyflakes_only)
        .arg("--")
        .arg(tmp.path().join(".venv/bin/pyflakes"))
        .arg("mod.py")
        .output()
        .expect("runbom run");
    assert_eq!(
        run.status.code(),
        Some(1),
        "pyflakes finds the unused import"
    );
    let verify = common::runbom()
        .current_dir(tmp.path())
        .args(["verify", "--expected", "poetry.lock", "--runtime"])
        .arg(&pyflakes_only)
        .output()
        .expect("runbom verify");
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("tooling  note   _virtualenv"), "{stdout}");
}

/// A zipapp as Python's docs build one: `pip install --target app`, then `python -m zipapp app`.
/// zipimport names each module's file `app.pyz/pkg/mod.py`; the distributions come from the
/// `*.dist-info` inside the archive, and each loaded file is hashed from the archive.
#[test]
fn a_zipapp_s_bundled_distributions_own_its_modules() {
    let Some(venv) = common::cached_venv("pyflakes-3.2.0", VENV_PYTHON, &["pyflakes==3.2.0"])
    else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let build = tmp.path().join("app");
    let python = venv.join("bin/python");
    let target = build.to_str().expect("utf-8 path");
    if !common::pip_install(&python, ["--target", target, "pyflakes==3.2.0"]) {
        return;
    }
    std::fs::write(
        build.join("__main__.py"),
        "from pyflakes.api import main\nmain()\n",
    )
    .expect("__main__.py");
    let app = tmp.path().join("app.pyz");
    let zipapp = std::process::Command::new(&python)
        .args([
            "-m",
            "zipapp",
            "app",
            "-o",
            "app.pyz",
            "-p",
            "/usr/bin/env python3",
        ])
        .current_dir(tmp.path())
        .status()
        .expect("python -m zipapp");
    assert!(zipapp.success());
    std::fs::remove_dir_all(&build).expect("only the archive is left");
    std::fs::write(tmp.path().join("mod.py"), "import os\n").expect("mod.py");
    let (out, report) = run(
        tmp.path(),
        &[],
        &[python.to_str().expect("utf-8 path"), "app.pyz", "mod.py"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pyflakes = distribution(&report, "pyflakes");
    assert_eq!(pyflakes.len(), 1, "{:#}", report["distributions"]);
    assert_eq!(pyflakes[0]["location"], app.to_str().expect("utf-8 path"));
    let modules = pyflakes[0]["modules"].as_array().expect("modules");
    let checker = modules
        .iter()
        .find(|m| m["name"] == "pyflakes.checker")
        .expect("pyflakes.checker loaded");
    assert_eq!(checker["integrity"]["status"], "verified", "{checker:#}");
    assert_eq!(
        unowned(&report),
        ["__main__"],
        "the zipapp's own __main__ only"
    );
}
