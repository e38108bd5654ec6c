//! Real programs from PyPI, as people run them: each is run bare, under `runbom run`, and with
//! `runbom hook install` in its venv. Under runbom each must print the same stdout and exit with
//! the same status as bare, and the distributions runbom reports loaded must equal an independent
//! oracle's: a `sitecustomize` written for this test (not runbom's code) that dumps the files of
//! `sys.modules` at exit, each mapped to its owner by `importlib.metadata` (RECORD). Servers
//! (gunicorn with 2 workers, uvicorn, a celery worker) answer a request or run a few seconds and
//! stop on SIGTERM. The venv is built once from PyPI and cached under the target directory;
//! without PyPI the test is skipped with the reason.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

mod common;

use common::{get_when_up, normalise, shell_status};

const REQUIREMENTS: &[&str] = &[
    "black==24.10.0",
    "pytest==8.3.3",
    "flake8==7.1.1",
    "sphinx==8.1.3",
    "mypy==1.13.0",
    "httpie==3.2.4",
    "ipython==8.29.0",
    "gunicorn==23.0.0",
    "flask==3.0.3",
    "uvicorn==0.32.0",
    "fastapi==0.115.4",
    "celery==5.4.0",
    "django==5.1.3",
];

/// The oracle: at exit, every `sys.modules` file of this process, one per line.
const ORACLE_SITECUSTOMIZE: &str = r#"
import atexit, os, sys

def _oracle_dump():
    out = os.environ.get("ORACLE_OUT")
    if not out:
        return
    files = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            files.add(os.path.realpath(file))
    with open(os.path.join(out, "o%d.txt" % os.getpid()), "w") as f:
        f.write("\n".join(sorted(files)))

atexit.register(_oracle_dump)

# Programs that end by os._exit (mypy) or by re-raising a fatal signal (uvicorn) skip atexit.
_real_exit = os._exit
def _exit(status):
    _oracle_dump()
    _real_exit(status)
os._exit = _exit

import signal
_real_raise = signal.raise_signal
def _raise(signum):
    if signal.getsignal(signum) == signal.SIG_DFL:
        _oracle_dump()
    _real_raise(signum)
signal.raise_signal = _raise
"#;

/// Maps the oracle's files to distributions through `importlib.metadata` (RECORD).
const ORACLE_OWNERS: &str = r#"
import glob, os, re, sys
from importlib import metadata
owner = {}
for dist in metadata.distributions():
    name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
    for f in dist.files or ():
        owner[os.path.realpath(str(f.locate()))] = name
loaded = set()
for path in glob.glob(os.path.join(sys.argv[1], "o*.txt")):
    for line in open(path).read().splitlines():
        if line in owner:
            loaded.add(owner[line])
print("\n".join(sorted(loaded)))
"#;

/// How a program is run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Bare,
    Run,
    Installed,
}

/// What one run gave.
struct Outcome {
    status: Option<i32>,
    stdout: String,
    loaded: BTreeSet<String>,
    oracle: BTreeSet<String>,
    processes: usize,
}

struct Corpus {
    venv: PathBuf,
    work: tempfile::TempDir,
    oracle_site: PathBuf,
}

/// One program of the corpus: a command line (its first word a script of the venv's `bin`) or
/// a server with the request that proves it serves.
struct Program {
    name: &'static str,
    argv: Vec<String>,
    server: Option<Server>,
    /// Processes the report must hold at least (workers).
    processes: usize,
}

#[derive(Clone, Copy)]
enum Server {
    /// Answers `GET /` on the port; the body must be this.
    Http(&'static str),
    /// Runs until stopped.
    Runs(Duration),
}

impl Corpus {
    fn bin(&self, script: &str) -> String {
        self.venv.join("bin").join(script).display().to_string()
    }

    fn programs(&self, port: u16) -> Vec<Program> {
        let cli = |name, argv: &[&str]| Program {
            name,
            argv: std::iter::once(self.bin(argv[0]))
                .chain(argv[1..].iter().map(|a| (*a).to_owned()))
                .collect(),
            server: None,
            processes: 1,
        };
        let bind = format!("127.0.0.1:{port}");
        let port_text = port.to_string();
        vec![
            cli("black", &["black", "--check", "mod.py"]),
            cli(
                "pytest",
                &["pytest", "-q", "-p", "no:cacheprovider", "test_mod.py"],
            ),
            cli("flake8", &["flake8", "mod.py"]),
            cli(
                "sphinx-build",
                &["sphinx-build", "-q", "-b", "text", "docs", "docs-out"],
            ),
            cli("mypy", &["mypy", "--no-incremental", "mod.py"]),
            cli(
                "httpie",
                &[
                    "http",
                    "--offline",
                    "--ignore-stdin",
                    "GET",
                    "example.org/x",
                ],
            ),
            cli(
                "ipython",
                &[
                    "ipython",
                    "--no-banner",
                    "-c",
                    "import json; print(json.dumps([1, 2]))",
                ],
            ),
            cli(
                "django-admin",
                &[
                    "django-admin",
                    "check",
                    "--settings=proj.settings",
                    "--pythonpath=.",
                ],
            ),
            cli(
                "pip-list",
                &[
                    "pip",
                    "list",
                    "--disable-pip-version-check",
                    "--format=freeze",
                ],
            ),
            Program {
                processes: 3,
                server: Some(Server::Http("hello from flask")),
                ..cli(
                    "gunicorn",
                    &["gunicorn", "-w", "2", "-b", &bind, "flask_app:app"],
                )
            },
            Program {
                server: Some(Server::Http("{\"hello\":\"fastapi\"}")),
                ..cli(
                    "uvicorn",
                    &[
                        "uvicorn",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        &port_text,
                        "--log-level",
                        "warning",
                        "fastapi_app:app",
                    ],
                )
            },
            Program {
                server: Some(Server::Runs(Duration::from_secs(4))),
                ..cli(
                    "celery",
                    &[
                        "celery",
                        "-A",
                        "tasks",
                        "worker",
                        "--pool=solo",
                        "--loglevel=WARNING",
                        "--without-mingle",
                        "--without-gossip",
                        "--without-heartbeat",
                    ],
                )
            },
        ]
    }

    fn command(&self, mode: Mode, program: &Program, run_dir: &Path) -> Command {
        let mut cmd = match mode {
            Mode::Run => {
                let mut cmd = Command::cargo_bin("runbom").expect("runbom binary");
                cmd.args(["run", "--report"])
                    .arg(run_dir.join("report.json"))
                    .arg("--")
                    .args(&program.argv);
                cmd
            }
            Mode::Bare | Mode::Installed => {
                let mut cmd = Command::new(&program.argv[0]);
                cmd.args(&program.argv[1..]);
                cmd
            }
        };
        cmd.current_dir(self.work.path())
            .env("HOME", self.work.path())
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.venv.join("bin").display()),
            )
            .env_remove("RUNBOM_SESSION_DIR")
            .env_remove("RUNBOM_RUN")
            .env_remove("RUNBOM_DISABLE")
            .env_remove("PYTHONPATH")
            .env("RUNBOM_REPORT_DIR", run_dir.join("reports"))
            .stdin(Stdio::null());
        if mode != Mode::Bare {
            cmd.env("PYTHONPATH", &self.oracle_site)
                .env("ORACLE_OUT", run_dir.join("oracle"));
        }
        cmd
    }

    fn run(&self, mode: Mode, program: &Program) -> Outcome {
        let run_dir = self.work.path().join(format!("{}-{mode:?}", program.name));
        let _ = std::fs::remove_dir_all(&run_dir);
        std::fs::create_dir_all(run_dir.join("oracle")).expect("oracle dir");
        std::fs::create_dir_all(run_dir.join("reports")).expect("reports dir");
        let mut cmd = self.command(mode, program, &run_dir);
        let (status, stdout) = match program.server {
            None => {
                let out: Output = cmd.output().expect("program");
                (
                    out.status.code(),
                    normalise(&String::from_utf8_lossy(&out.stdout)),
                )
            }
            Some(server) => serve(cmd, server, program),
        };
        let report = match mode {
            Mode::Bare => Value::Null,
            Mode::Run => read_json(&run_dir.join("report.json")),
            Mode::Installed => complete_report_in(&run_dir.join("reports")),
        };
        Outcome {
            status,
            stdout,
            loaded: loaded(&report),
            oracle: if mode == Mode::Bare {
                BTreeSet::new()
            } else {
                self.oracle_owners(&run_dir.join("oracle"))
            },
            processes: report["processes"].as_array().map_or(0, Vec::len),
        }
    }

    fn oracle_owners(&self, dir: &Path) -> BTreeSet<String> {
        let out = Command::new(self.venv.join("bin/python"))
            .args(["-c", ORACLE_OWNERS])
            .arg(dir)
            .env_remove("PYTHONPATH")
            .env("RUNBOM_DISABLE", "1")
            .output()
            .expect("oracle mapping");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Starts a server, proves it serves (or lets it run), stops it with SIGTERM; its status and
/// the body it answered.
fn serve(mut cmd: Command, server: Server, program: &Program) -> (Option<i32>, String) {
    let mut child: Child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server");
    let body = match server {
        Server::Http(_) => {
            let port = program
                .argv
                .iter()
                .find_map(|a| {
                    a.rsplit(':')
                        .next()
                        .and_then(|p| p.parse::<u16>().ok())
                        .filter(|p| *p > 1024)
                })
                .expect("port");
            get_when_up(port, &mut child)
        }
        Server::Runs(duration) => {
            std::thread::sleep(duration);
            String::new()
        }
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break shell_status(status);
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, body)
}

fn read_json(path: &Path) -> Value {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// The complete report an installed hook leaves (its `runbom hook flush` runs detached).
fn complete_report_in(dir: &Path) -> Value {
    for _ in 0..300 {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "json") {
                let report = read_json(&entry.path());
                if report["complete"] == true {
                    return report;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Value::Null
}

fn loaded(report: &Value) -> BTreeSet<String> {
    report["distributions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["modules"].as_array().is_some_and(|m| !m.is_empty()))
        .filter_map(|d| d["normalized_name"].as_str().map(str::to_owned))
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The files the programs work on.
fn write_inputs(corpus: &Corpus) {
    let dir = corpus.work.path();
    let files: &[(&str, &str)] = &[
        ("mod.py", "def double(x: int) -> int:\n    return x * 2\n"),
        (
            "test_mod.py",
            "from mod import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
        ),
        ("docs/conf.py", "project = 'corpus'\n"),
        ("docs/index.rst", "Corpus\n======\n\nA page.\n"),
        (
            "flask_app.py",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'hello from flask'\n",
        ),
        (
            "fastapi_app.py",
            "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef index():\n    return {'hello': 'fastapi'}\n",
        ),
        (
            "tasks.py",
            "from celery import Celery\napp = Celery('tasks', broker='memory://', backend='cache+memory://')\n\n@app.task\ndef add(x, y):\n    return x + y\n",
        ),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("input");
    }
    std::fs::create_dir_all(&corpus.oracle_site).expect("oracle site");
    std::fs::write(
        corpus.oracle_site.join("sitecustomize.py"),
        ORACLE_SITECUSTOMIZE,
    )
    .expect("oracle");
    let made = Command::new(corpus.bin("django-admin"))
        .args(["startproject", "proj", "."])
        .current_dir(dir)
        .output()
        .expect("django-admin startproject");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
}

/// Installs the hook into the venv for the guard's life.
struct InstalledHook<'a>(&'a Path);

impl<'a> InstalledHook<'a> {
    fn install(venv: &'a Path, reports: &Path) -> Self {
        let out = common::runbom()
            .args(["hook", "install", "--venv"])
            .arg(venv)
            .arg("--report-dir")
            .arg(reports)
            .output()
            .expect("hook install");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(venv)
    }
}

impl Drop for InstalledHook<'_> {
    fn drop(&mut self) {
        let _ = common::runbom()
            .args(["hook", "uninstall", "--venv"])
            .arg(self.0)
            .output();
    }
}

#[test]
fn real_programs_run_as_bare_and_report_what_an_independent_oracle_sees() {
    let Some(venv) = common::cached_venv("corpus", "python3", REQUIREMENTS) else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let corpus = Corpus {
        oracle_site: work.path().join("oracle-site"),
        venv,
        work,
    };
    write_inputs(&corpus);
    let mut failures = Vec::new();
    let programs = corpus.programs(free_port());
    let bare: Vec<Outcome> = programs.iter().map(|p| corpus.run(Mode::Bare, p)).collect();
    let mut check = |mode: Mode, program: &Program, bare: &Outcome, seen: Outcome| {
        let name = program.name;
        if seen.status != bare.status {
            failures.push(format!(
                "{name} {mode:?}: exit {:?}, bare {:?}",
                seen.status, bare.status
            ));
        }
        if let Some(Server::Http(body)) = program.server
            && bare.stdout != body
        {
            failures.push(format!(
                "{name}: bare answered {:?}, not {body:?}",
                bare.stdout
            ));
        }
        if seen.stdout != bare.stdout {
            failures.push(format!(
                "{name} {mode:?}: stdout differs:\n{}\nbare:\n{}",
                seen.stdout, bare.stdout
            ));
        }
        if seen.loaded != seen.oracle || seen.loaded.is_empty() {
            let extra: Vec<_> = seen.loaded.difference(&seen.oracle).collect();
            let missed: Vec<_> = seen.oracle.difference(&seen.loaded).collect();
            failures.push(format!("{name} {mode:?}: runbom reported {extra:?} the oracle did not see, missed {missed:?}"));
        }
        if seen.processes < program.processes {
            failures.push(format!(
                "{name} {mode:?}: {} processes reported, expected at least {}",
                seen.processes, program.processes
            ));
        }
        eprintln!(
            "{name} {mode:?}: exit {:?}, {} distributions loaded, {} processes",
            seen.status,
            seen.loaded.len(),
            seen.processes
        );
    };
    for (program, bare) in programs.iter().zip(&bare) {
        check(Mode::Run, program, bare, corpus.run(Mode::Run, program));
    }
    {
        let _hook =
            InstalledHook::install(&corpus.venv, &corpus.work.path().join("unused-reports"));
        for (program, bare) in programs.iter().zip(&bare) {
            check(
                Mode::Installed,
                program,
                bare,
                corpus.run(Mode::Installed, program),
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
