//! Shared by the CLI tests: the binary, a runtime report over the real metadata fixtures of
//! `runbom-analysis`, a package index on 127.0.0.1 serving the recorded responses of
//! `runbom-sources/testdata/index`, and a virtualenv with real wheels from PyPI.
// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

pub mod go;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use runbom_sources::index::testing::{IndexServer, Route};

pub fn runbom() -> Command {
    let mut cmd = Command::cargo_bin("runbom").expect("binary built");
    cmd.env("NO_COLOR", "1").env_remove("RUNBOM_INDEX_URL");
    cmd
}

/// `runbom run ARGS --report DIR/report.json -- COMMAND…` in `dir`, with `unset` taken out of
/// the environment and `env` set, and the report it wrote (`Null` when it wrote none): how the
/// Ruby and Perl enforcement tests run a program.
pub fn run_reported(
    dir: &Path,
    args: &[&str],
    command: &[&str],
    env: &[(&str, &str)],
    unset: &[&str],
) -> (std::process::Output, serde_json::Value) {
    let report = dir.join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut run = runbom();
    run.current_dir(dir)
        .arg("run")
        .args(args)
        .arg("--report")
        .arg(&report)
        .arg("--")
        .args(command);
    for name in unset {
        run.env_remove(name);
    }
    let out = run.envs(env.iter().copied()).output().expect("runbom run");
    let report = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (out, report)
}

/// A program's output as text, for assertions and messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `runbom-analysis/testdata/site`: real METADATA of maturin, llvmlite, mock, sklearn, ….
pub fn site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbom-analysis/testdata/site")
}

/// Writes a runtime report into `dir` listing `(name, version, loaded)`, located in [`site`].
pub fn runtime_report(dir: &Path, distributions: &[(&str, &str, bool)]) -> PathBuf {
    let site = site();
    let distributions: Vec<serde_json::Value> = distributions
        .iter()
        .map(|(name, version, loaded)| {
            let modules = if *loaded {
                serde_json::json!([{"name": name.replace('-', "_"), "pids": [42]}])
            } else {
                serde_json::json!([])
            };
            serde_json::json!({
                "name": name,
                "normalized_name": name.to_lowercase(),
                "version": version,
                "purl": format!("pkg:pypi/{}@{version}", name.to_lowercase()),
                "location": site,
                "size": 1,
                "modules": modules,
            })
        })
        .collect();
    let report = serde_json::json!({
        "schema": "runbom.runtime-report/v1",
        "report_id": "r-1",
        "session_id": "s-1",
        "host": "test",
        "started_at": "2026-11-25T10:00:00Z",
        "reported_at": "2026-11-25T10:00:05Z",
        "command": ["python3", "app.py"],
        "interpreter": {"executable": "/usr/bin/python3", "implementation": "cpython", "version": "3.11.7", "prefix": "/usr"},
        "processes": [],
        "distributions": distributions,
        "stdlib_modules": [],
        "unowned_modules": [],
    });
    let path = dir.join("report.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&report).expect("json")).expect("write report");
    path
}

fn index_testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbom-sources/testdata/index")
}

/// PyPI at `/simple/`, the Go proxy at `/go/`, RubyGems at `/gems/`.
pub fn index_server() -> IndexServer {
    let mut routes = HashMap::new();
    for name in ["pyyaml", "requests", "six", "pycrypto"] {
        let body =
            std::fs::read(index_testdata().join(format!("pypi/{name}.json"))).expect("fixture");
        routes.insert(
            format!("/simple/{name}/"),
            Route {
                content_type: "application/vnd.pypi.simple.v1+json".to_owned(),
                body,
            },
        );
    }
    let go = "go/github.com/!burnt!sushi/toml/@v";
    for file in [
        "list",
        "v1.2.1.info",
        "v1.3.0.info",
        "v1.3.2.info",
        "v1.4.0.info",
    ] {
        let body = std::fs::read(index_testdata().join(format!("{go}/{file}"))).expect("fixture");
        routes.insert(
            format!("/{go}/{file}"),
            Route {
                content_type: "application/json".to_owned(),
                body,
            },
        );
    }
    let gem = "api/v1/versions/rack.json";
    let body = std::fs::read(index_testdata().join(format!("rubygems/{gem}"))).expect("fixture");
    routes.insert(
        format!("/gems/{gem}"),
        Route {
            content_type: "application/json".to_owned(),
            body,
        },
    );
    IndexServer::start(routes).expect("index server")
}

/// Every file under `dir`, recursively (to show nothing was half-written to a cache).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Installs a minimal real distribution into `site`: the module `files` (path, text), a
/// METADATA naming it, and a RECORD with every file's sha256 — what pip would leave behind.
pub fn write_distribution(site: &Path, name: &str, version: &str, files: &[(&str, &str)]) {
    use std::fmt::Write;
    let dist_info = format!("{}-{version}.dist-info", name.replace('-', "_"));
    std::fs::create_dir_all(site.join(&dist_info)).expect("dist-info");
    let mut record = String::new();
    for (path, text) in files {
        let file = site.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("package dir");
        std::fs::write(&file, text).expect("module");
        let digest = sha256_urlsafe(text.as_bytes());
        writeln!(record, "{path},sha256={digest},{}", text.len()).expect("record line");
    }
    std::fs::write(
        site.join(&dist_info).join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
    )
    .expect("METADATA");
    writeln!(record, "{dist_info}/METADATA,,\n{dist_info}/RECORD,,").expect("record line");
    std::fs::write(site.join(&dist_info).join("RECORD"), record).expect("RECORD");
}

/// RECORD's hash encoding (urlsafe base64 of the sha256, unpadded), computed by Python itself.
fn sha256_urlsafe(bytes: &[u8]) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import base64, hashlib, sys; \
             d = hashlib.sha256(sys.stdin.buffer.read()).digest(); \
             print(base64.urlsafe_b64encode(d).rstrip(b'=').decode())",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    let out = child.wait_with_output().expect("python3 sha256");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// A virtualenv under `dir` with `requirement` installed from PyPI; `None` (with the reason
/// printed) when PyPI is unreachable. Returns its `bin/python`.
pub fn venv_with(dir: &Path, requirement: &str) -> Option<PathBuf> {
    let venv = dir.join("venv");
    let status = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 -m venv");
    assert!(status.success(), "python3 -m venv failed");
    let python = venv.join("bin/python");
    pip_install(&python, [requirement]).then_some(python)
}

/// `python -m pip install --quiet ARGS…` from PyPI; `false`, with pip's reason printed as the
/// test's reason to skip, when it fails (PyPI unreachable).
pub fn pip_install<S: AsRef<std::ffi::OsStr>>(
    python: &Path,
    args: impl IntoIterator<Item = S>,
) -> bool {
    let args: Vec<S> = args.into_iter().collect();
    let install = std::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(&args)
        .output()
        .expect("pip install");
    if !install.status.success() {
        let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
        eprintln!(
            "skipped: pip could not install {shown:?} from PyPI (unreachable?): {}",
            String::from_utf8_lossy(&install.stderr)
        );
    }
    install.status.success()
}

/// A virtualenv made by `python` with `requirements` installed from PyPI, built once and kept
/// under the target directory (`CARGO_TARGET_TMPDIR/venvs/<name>`) so later runs reuse it;
/// `None` (with the reason printed) when PyPI is unreachable. Returns the venv's directory.
/// Test processes building the same venv at once wait for each other (a lock directory).
pub fn cached_venv(name: &str, python: &str, requirements: &[&str]) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("venvs");
    std::fs::create_dir_all(&root).expect("venv cache dir");
    let venv = root.join(name);
    let ready = root.join(format!("{name}.ready"));
    let lock = root.join(format!("{name}.lock"));
    let started = std::time::Instant::now();
    while std::fs::create_dir(&lock).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(600),
            "{} is held",
            lock.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // A venv is tied to its path (shebangs, pyvenv.cfg): one copied with the target directory
    // from elsewhere, or built for other requirements, is built again.
    let stamp = format!("{}\n{python}\n{}", venv.display(), requirements.join("\n"));
    let fresh = std::fs::read_to_string(&ready).is_ok_and(|s| s == stamp);
    let built = fresh || build_venv(&venv, python, requirements);
    if built && !fresh {
        std::fs::write(&ready, &stamp).expect("venv marker");
    }
    std::fs::remove_dir(&lock).expect("venv lock");
    built.then_some(venv)
}

fn build_venv(venv: &Path, python: &str, requirements: &[&str]) -> bool {
    let _ = std::fs::remove_dir_all(venv);
    let status = std::process::Command::new(python)
        .args(["-m", "venv"])
        .arg(venv)
        .status()
        .expect("python -m venv");
    assert!(status.success(), "{python} -m venv failed");
    if requirements.is_empty() {
        return true;
    }
    pip_install(&venv.join("bin/python"), requirements)
}

/// `bin/python` of pyenv's `version`, when pyenv holds it.
pub fn pyenv_python(version: &str) -> Option<PathBuf> {
    let out = std::process::Command::new("pyenv")
        .args(["prefix", version])
        .output()
        .ok()?;
    let prefix = String::from_utf8(out.stdout).ok()?;
    let python = Path::new(prefix.trim()).join("bin/python");
    (out.status.success() && python.is_file()).then_some(python)
}

/// The status as a shell reports it: a death by signal N is 128 + N (what `runbom run` exits).
pub fn shell_status(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|n| 128 + n))
}

/// `GET /` once the server listens (at most 60 s): the response body.
pub fn get_when_up(port: u16, child: &mut std::process::Child) -> String {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().ok().flatten().is_some() {
            return "server exited before serving".to_owned();
        }
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            if let Some((_, body)) = response.split_once("\r\n\r\n") {
                return body.to_owned();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    "server never answered".to_owned()
}

/// Run times differ from run to run (`1 passed in 0.01s`).
pub fn normalise(stdout: &str) -> String {
    stdout
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_end();
            let is_duration = bare.ends_with('s') && bare[..bare.len() - 1].parse::<f64>().is_ok();
            if is_duration {
                word.replace(bare, "<time>")
            } else {
                word.to_owned()
            }
        })
        .collect()
}
