//! The done-when of issue 4, end to end against PyPI: a venv installed from a hash-pinned
//! lockfile runs a program under `runbom run`; `runbom verify` is then clean (exit 0), and exits 1
//! naming the right finding after each change: (b) an extra package installed and imported is
//! `unexpected`, (c) one byte edited in an imported module is `tampered`, (d) an upgraded package
//! is `drift`. The SBOM of the clean run validates against the CycloneDX 1.6 schema.
//!
//! Skipped, with the reason printed, when PyPI cannot be reached or the host has no pip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

mod common;

/// Small pure-Python wheels, pinned with their PyPI sha256.
const REQUIREMENTS: &str = "\
certifi==2024.8.30 \\
    --hash=sha256:922820b53db7a7257ffbda3f597266d435245903d80737e34f8a45ff3e3230d8
idna==3.10 \\
    --hash=sha256:946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3
six==1.16.0 \\
    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254
";

const APP: &str = "import certifi, idna, six\nprint(idna.encode('example.com'), six.PY3, bool(certifi.where()))\n";

fn runbom() -> Command {
    let mut cmd = Command::cargo_bin("runbom").expect("runbom binary");
    cmd.env_remove("RUNBOM_APP")
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("RUNBOM_DISABLE")
        .env_remove("RUNBOM_SERVER");
    cmd
}

/// The host's pip, installing into the venv's interpreter (the venv has no pip of its own, so
/// that nothing but the lockfile's packages is installed in it).
fn pip(venv_python: &Path, args: &[&str]) -> Output {
    Command::new("python3")
        .args(["-m", "pip", "--python"])
        .arg(venv_python)
        .args(["--disable-pip-version-check", "--quiet", "--timeout", "30"])
        .args(args)
        .output()
        .expect("python3 -m pip")
}

fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Why the test cannot run here, if it cannot: no venv, no pip, or no PyPI.
fn unavailable(dir: &Path) -> Option<String> {
    let probe = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--quiet",
            "--no-deps",
            "--timeout",
            "15",
            "--retries",
            "1",
            "-d",
        ])
        .arg(dir.join("probe"))
        .arg("six==1.16.0")
        .output();
    match probe {
        Err(e) => Some(format!("cannot run `python3 -m pip`: {e}")),
        Ok(out) if !out.status.success() => Some(format!(
            "PyPI unreachable (`pip download six==1.16.0` failed): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(_) => None,
    }
}

struct Project {
    dir: PathBuf,
    python: PathBuf,
    site: PathBuf,
}

impl Project {
    fn create(dir: &Path) -> Project {
        let venv = dir.join("venv");
        let status = Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(status.success());
        let python = venv.join("bin/python");
        std::fs::write(dir.join("requirements.txt"), REQUIREMENTS).expect("write");
        std::fs::write(dir.join("app.py"), APP).expect("write");
        let requirements = dir.join("requirements.txt");
        let install = pip(
            &python,
            &[
                "install",
                "--require-hashes",
                "--no-deps",
                "-r",
                requirements.to_str().expect("utf-8"),
            ],
        );
        check(&install, "install from the lockfile");
        let site = Command::new(&python)
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ])
            .output()
            .expect("purelib");
        let site = PathBuf::from(String::from_utf8_lossy(&site.stdout).trim());
        Project {
            dir: dir.to_owned(),
            python,
            site,
        }
    }

    /// `runbom run --report NAME -- python SCRIPT`.
    fn run(&self, script: &str, report: &str) -> PathBuf {
        let path = self.dir.join(report);
        let output = runbom()
            .current_dir(&self.dir)
            .args(["run", "--report"])
            .arg(&path)
            .arg("--")
            .arg(&self.python)
            .arg(script)
            .output()
            .expect("runbom run");
        check(&output, "runbom run");
        path
    }

    /// `runbom verify --format json`: the exit code and the JSON.
    fn verify(&self, report: &Path) -> (Option<i32>, Value) {
        let output = runbom()
            .current_dir(&self.dir)
            .args([
                "verify",
                "--expected",
                "requirements.txt",
                "--format",
                "json",
                "--runtime",
            ])
            .arg(report)
            .output()
            .expect("runbom verify");
        let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "verify JSON ({e}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code(), json)
    }
}

/// `(code, subject)` of every finding.
fn findings(json: &Value) -> Vec<(String, String)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_owned(),
                f["subject"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pair(code: &str, subject: &str) -> (String, String) {
    (code.to_owned(), subject.to_owned())
}

#[test]
fn a_venv_from_a_lockfile_verifies_clean_then_unexpected_tampered_and_drift() {
    let tmp = tempfile::tempdir().expect("tempdir");
    if let Some(reason) = unavailable(tmp.path()) {
        println!("skipped: {reason}");
        return;
    }
    let project = Project::create(tmp.path());

    // (a) Clean: what runs is what the lockfile pins.
    let clean = project.run("app.py", "clean.json");
    let (code, json) = project.verify(&clean);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["clean"], true);
    let sbom = runbom()
        .args(["sbom", "--runtime"])
        .arg(&clean)
        .output()
        .expect("runbom sbom");
    check(&sbom, "runbom sbom");
    let sbom: Value = serde_json::from_slice(&sbom.stdout).expect("sbom json");
    let errors = runbom_sources::write::schemas::cyclonedx_json_errors(&sbom);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(sbom["components"].as_array().map(Vec::len), Some(3));

    // (b) An extra package, installed and imported: unexpected.
    check(
        &pip(&project.python, &["install", "--no-deps", "toml==0.10.2"]),
        "install toml",
    );
    std::fs::write(
        project.dir.join("extra.py"),
        format!("{APP}import toml\nprint(toml.dumps({{'a': 1}}))\n"),
    )
    .expect("write");
    let extra = project.run("extra.py", "extra.json");
    let (code, json) = project.verify(&extra);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(findings(&json), [pair("unexpected", "toml")], "{json:#}");
    assert_eq!(json["findings"][0]["state"], "running");
    check(
        &pip(&project.python, &["uninstall", "--yes", "toml"]),
        "uninstall toml",
    );

    // (c) One byte of an imported module edited: tampered.
    let six = project.site.join("six.py");
    let mut bytes = std::fs::read(&six).expect("six.py");
    let at = bytes
        .windows(9)
        .position(|w| w == b"Copyright")
        .expect("six.py names its copyright");
    bytes[at] = b'c';
    std::fs::write(&six, bytes).expect("write six.py");
    let tampered = project.run("app.py", "tampered.json");
    let (code, json) = project.verify(&tampered);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(findings(&json), [pair("tampered", "six")], "{json:#}");
    assert_eq!(json["findings"][0]["file"], six.to_str().expect("utf-8"));

    // (d) One package upgraded (which also replaces the edited file): drift.
    check(
        &pip(&project.python, &["install", "--no-deps", "six==1.17.0"]),
        "upgrade six",
    );
    let upgraded = project.run("app.py", "upgraded.json");
    let (code, json) = project.verify(&upgraded);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(findings(&json), [pair("drift", "six")], "{json:#}");
    assert_eq!(json["findings"][0]["version"], "1.17.0");
    assert_eq!(json["findings"][0]["expected"]["version"], "==1.16.0");
}

/// A stock venv (`python -m venv`, so pip and, before 3.12, setuptools with its
/// `distutils-precedence.pth`) installed from its own `pip freeze` verifies clean: the installer
/// tooling `pip freeze` leaves out is a `tooling` note; `--strict-tooling` makes it unexpected.
#[test]
fn a_stock_venv_built_from_its_own_freeze_verifies_clean() {
    let Some(venv) = common::cached_venv("stock-freeze", "python3", &["idna==3.10"]) else {
        return;
    };
    let python = venv.join("bin/python");
    let tmp = tempfile::tempdir().expect("tempdir");
    let freeze = Command::new(&python)
        .args(["-m", "pip", "freeze", "--disable-pip-version-check"])
        .output()
        .expect("pip freeze");
    check(&freeze, "pip freeze");
    let lock = tmp.path().join("requirements.lock");
    std::fs::write(&lock, &freeze.stdout).expect("freeze file");
    std::fs::write(
        tmp.path().join("app.py"),
        "import idna\nprint(idna.encode('a.b'))\n",
    )
    .expect("app");
    let report = tmp.path().join("r.json");
    let run = runbom()
        .current_dir(tmp.path())
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .arg(&python)
        .arg("app.py")
        .output()
        .expect("runbom run");
    check(&run, "runbom run");
    let verify = |extra: &[&str]| {
        runbom()
            .args(["verify", "--format", "json", "--expected"])
            .arg(&lock)
            .arg("--runtime")
            .arg(&report)
            .arg("--python")
            .arg(&python)
            .args(extra)
            .output()
            .expect("runbom verify")
    };
    let clean = verify(&[]);
    let json: Value = serde_json::from_slice(&clean.stdout).expect("verify json");
    assert_eq!(clean.status.code(), Some(0), "{json:#}");
    assert_eq!(json["clean"], true);
    let found = findings(&json);
    assert!(found.contains(&pair("tooling", "pip")), "{found:?}");
    assert!(found.iter().all(|(code, _)| code == "tooling"), "{found:?}");
    let config = tmp.path().join("runbom.toml");
    std::fs::write(&config, "[verify]\ntooling = \"strict\"\n").expect("runbom.toml");
    for strict in [
        verify(&["--strict-tooling"]),
        verify(&["--config", config.to_str().expect("utf-8 path")]),
    ] {
        let json: Value = serde_json::from_slice(&strict.stdout).expect("verify json");
        assert_eq!(strict.status.code(), Some(1), "{json:#}");
        assert!(findings(&json).contains(&pair("unexpected", "pip")));
    }
    std::fs::write(&config, "[verify]\ntooling = \"loose\"\n").expect("runbom.toml");
    let bad = verify(&["--config", config.to_str().expect("utf-8 path")]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("`loose` is not a tooling mode"), "{stderr}");
}

/// "Shrink the attack surface" ends in a smaller lockfile: `runbom unused --format requirements`
/// of a run keeps what was loaded (and what that needs), comments out the rest with why; `pip
/// install -r` accepts it, and the program run in the new venv verifies clean against it.
#[test]
fn the_pruned_requirements_install_and_verify_clean() {
    let Some(source) =
        common::cached_venv("prune-source", "python3", &["idna==3.10", "six==1.16.0"])
    else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("app.py"),
        "import idna\nprint(idna.encode('a.b'))\n",
    )
    .expect("app");
    let run_app = |python: &Path, report: &Path| {
        let out = runbom()
            .current_dir(tmp.path())
            .args(["run", "--report"])
            .arg(report)
            .arg("--")
            .arg(python)
            .arg("app.py")
            .output()
            .expect("runbom run");
        check(&out, "runbom run");
    };
    let first = tmp.path().join("first.json");
    run_app(&source.join("bin/python"), &first);
    let unused = runbom()
        .args(["unused", "--format", "requirements", "--runtime"])
        .arg(&first)
        .output()
        .expect("runbom unused");
    check(&unused, "runbom unused");
    let pruned = String::from_utf8(unused.stdout).expect("utf-8");
    assert!(pruned.lines().any(|l| l == "idna==3.10"), "{pruned}");
    assert!(
        pruned.contains("# removed six==1.16.0: never loaded"),
        "{pruned}"
    );
    assert!(!pruned.lines().any(|l| l.starts_with("pip==")), "{pruned}");
    let lock = tmp.path().join("requirements.pruned.txt");
    std::fs::write(&lock, &pruned).expect("pruned file");

    let target = tmp.path().join("pruned-venv");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&target)
        .output()
        .expect("venv");
    check(&made, "python3 -m venv");
    let python = target.join("bin/python");
    if !common::pip_install(&python, [std::ffi::OsStr::new("-r"), lock.as_os_str()]) {
        return;
    }
    let second = tmp.path().join("second.json");
    run_app(&python, &second);
    let verify = runbom()
        .args(["verify", "--expected"])
        .arg(&lock)
        .arg("--runtime")
        .arg(&second)
        .arg("--python")
        .arg(&python)
        .output()
        .expect("runbom verify");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
