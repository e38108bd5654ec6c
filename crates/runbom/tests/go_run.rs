//! `runbom run -- GO_BINARY`: the binary is what runs, so the report (`runbom.runtime-report/v2`,
//! language `go`) lists its main module, every dependency and the standard library, each loaded,
//! with the Go packages of each linked in; the program's output and exit status are its own.

use std::path::Path;
use std::process::Stdio;

use common::go::{Variant, binary, run_reported};
use serde_json::Value;

mod common;

#[test]
fn a_go_binary_is_reported_as_its_modules_with_their_linked_packages() {
    for variant in [Variant::Plain, Variant::Stripped] {
        let Some(escape) = binary("escape", variant) else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("r.json");
        let out = run_reported(&escape, &report);
        assert!(String::from_utf8_lossy(&out.stdout).ends_with(" &lt;ok&gt;\n"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("3 loaded of 3 installed modules"),
            "{stderr}"
        );
        let report: Value =
            serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
        assert_eq!(report["schema"], "runbom.runtime-report/v2");
        assert_eq!(report["interpreter"]["language"], "go");
        assert_eq!(report["interpreter"]["implementation"], "gc");
        assert!(
            report["interpreter"]["version"]
                .as_str()
                .expect("present")
                .starts_with("go1.")
        );
        let components = report["distributions"].as_array().expect("components");
        let names: Vec<&str> = components
            .iter()
            .map(|c| c["name"].as_str().expect("present"))
            .collect();
        assert_eq!(
            names,
            ["example.com/escape", "golang.org/x/net", "stdlib"],
            "{variant:?}"
        );
        let net = &components[1];
        assert_eq!(net["ecosystem"], "Go");
        assert_eq!(net["version"], "v0.7.0");
        assert_eq!(net["purl"], "pkg:golang/golang.org/x/net@v0.7.0");
        let packages: Vec<&str> = net["modules"]
            .as_array()
            .expect("present")
            .iter()
            .map(|m| m["name"].as_str().expect("present"))
            .collect();
        assert_eq!(packages, ["golang.org/x/net/html"], "{variant:?}");
        let stdlib: Vec<&str> = components[2]["modules"]
            .as_array()
            .expect("present")
            .iter()
            .map(|m| m["name"].as_str().expect("present"))
            .collect();
        assert!(
            stdlib.contains(&"fmt") && stdlib.contains(&"runtime"),
            "{stdlib:?}"
        );
        let process = &report["processes"][0];
        assert_eq!(process["exited"], true);
        assert_eq!(net["modules"][0]["pids"][0], process["pid"]);
    }
}

/// A report's processes that ran `file_name`, as (pid, parent pid).
fn processes_running(report: &Value, file_name: &str) -> Vec<(u64, u64)> {
    report["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| {
            Path::new(p["executable"].as_str().expect("executable"))
                .file_name()
                .is_some_and(|n| n == file_name)
        })
        .map(|p| {
            (
                p["pid"].as_u64().expect("pid"),
                p["parent_pid"].as_u64().expect("parent"),
            )
        })
        .collect()
}

/// The Go components of a report: (module path, version, pids of its first package).
fn go_components(report: &Value) -> Vec<(String, String, Vec<u64>)> {
    report["distributions"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["ecosystem"] == "Go")
        .map(|c| {
            let pids = c["modules"][0]["pids"]
                .as_array()
                .expect("pids")
                .iter()
                .map(|p| p.as_u64().expect("pid"))
                .collect();
            (
                c["name"].as_str().expect("name").to_owned(),
                c["version"].as_str().expect("version").to_owned(),
                pids,
            )
        })
        .collect()
}

/// `runbom run --report REPORT -- COMMAND` in `dir`, its standard input held open until runbom
/// says it observes a Go program (the test programs run until their input closes); the report
/// and runbom's standard error.
fn run_until_observed(dir: &Path, command: &[&str]) -> (Value, String) {
    use std::io::BufRead as _;
    let report = dir.join("report.json");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbom"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .args(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runbom run");
    let mut stdin = child.stdin.take();
    let mut stderr = String::new();
    for line in std::io::BufReader::new(child.stderr.take().expect("stderr")).lines() {
        let line = line.expect("stderr line");
        if line.starts_with("runbom: observing go program") {
            stdin = None;
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    drop(stdin);
    let status = child.wait().expect("wait");
    assert!(status.success(), "{command:?}: {stderr}");
    let report = serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    (report, stderr)
}

#[test]
fn a_go_server_started_by_a_shell_a_script_or_python_is_observed() {
    let Some(wait) = binary("wait", Variant::Plain) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&wait, dir.path().join("server")).expect("copy");
    let script = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("script");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    };
    script("exec.sh", "#!/bin/sh\nexec ./server \"$@\"\n");
    script("fork.sh", "#!/bin/sh\n./server\necho served\n");
    std::fs::write(
        dir.path().join("launcher.py"),
        "import subprocess, sys\nsys.exit(subprocess.Popen(['./server']).wait())\n",
    )
    .expect("launcher");
    for command in [
        &["sh", "-c", "./server"][..],
        &["sh", "-c", "./server; true"],
        &["./exec.sh"],
        &["./fork.sh"],
        &["python3", "launcher.py"],
    ] {
        let (report, stderr) = run_until_observed(dir.path(), command);
        let servers = processes_running(&report, "server");
        assert_eq!(servers.len(), 1, "{command:?}: {report:#}");
        let (pid, _) = servers[0];
        assert_ne!(pid, 0, "{command:?}: {stderr}");
        let components = go_components(&report);
        let names: Vec<(&str, &str)> = components
            .iter()
            .map(|(n, v, _)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(names.len(), 3, "{command:?}: {names:?}");
        assert_eq!(names[0], ("example.com/wait", "(devel)"), "{command:?}");
        assert_eq!(names[1], ("golang.org/x/net", "v0.7.0"), "{command:?}");
        assert!(
            names[2].0 == "stdlib" && names[2].1.starts_with("go1."),
            "{names:?}"
        );
        assert!(
            components.iter().all(|(_, _, pids)| pids == &[pid]),
            "{components:?}"
        );
        if command[0] == "python3" {
            assert_eq!(report["interpreter"]["language"], "python", "{report:#}");
            let python = processes_running(&report, "server")[0].1;
            assert!(
                report["processes"]
                    .as_array()
                    .expect("processes")
                    .iter()
                    .any(|p| p["pid"] == python && p["executable"] != servers_exe(&report)),
                "{report:#}"
            );
        } else {
            assert_eq!(report["interpreter"]["language"], "go", "{report:#}");
        }
    }
}

fn servers_exe(report: &Value) -> Value {
    report["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .find(|p| {
            p["executable"]
                .as_str()
                .is_some_and(|e| e.ends_with("/server"))
        })
        .map(|p| p["executable"].clone())
        .unwrap_or_default()
}

#[test]
fn a_short_lived_go_program_started_by_python_is_reported_from_its_file() {
    let Some(render) = binary("render", Variant::Plain) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&render, dir.path().join("render")).expect("copy");
    std::fs::write(
        dir.path().join("spawn.py"),
        "import subprocess\nsubprocess.run(['./render'], check=True)\n",
    )
    .expect("spawn.py");
    std::fs::write(
        dir.path().join("exec.py"),
        "import os\nos.execv('./render', ['./render'])\n",
    )
    .expect("exec.py");
    for (script, replaced) in [("spawn.py", false), ("exec.py", true)] {
        let report = dir.path().join(format!("{script}.json"));
        let out = common::runbom()
            .current_dir(dir.path())
            .args(["run", "--report"])
            .arg(&report)
            .args(["--", "python3", script])
            .output()
            .expect("runbom run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "&lt;hi&gt;\n");
        let report: Value =
            serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
        assert_eq!(report["interpreter"]["language"], "python", "{report:#}");
        let python = report["processes"][0]["pid"].as_u64().expect("python pid");
        let renders = processes_running(&report, "render");
        assert_eq!(renders.len(), 1, "{script}: {report:#}");
        // Seen in the tree it has its pid; known from the hook's word, the pid it ran as (an
        // exec keeps it) or none (0), started by the Python process.
        let (pid, parent) = renders[0];
        match (replaced, pid) {
            (true, _) => assert_eq!(pid, python, "{report:#}"),
            (false, 0) => {
                assert_eq!(parent, python, "{report:#}");
                assert!(
                    stderr.contains("exited before runbom saw it run"),
                    "{stderr}"
                );
            }
            (false, _) => assert_eq!(parent, python, "{report:#}"),
        }
        let names: Vec<String> = go_components(&report).into_iter().map(|c| c.0).collect();
        assert_eq!(
            names,
            ["example.com/render", "golang.org/x/net", "stdlib"],
            "{script}"
        );
    }
}

#[test]
fn npm_s_esbuild_started_through_sh_c_is_observed() {
    let Some(esbuild) = common::go::esbuild("0.20.2") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // With no entry point esbuild reads its input until it closes: a running Go process.
    let line = format!("'{}' --loader=js; true", esbuild.display());
    let (report, _) = run_until_observed(dir.path(), &["sh", "-c", &line]);
    assert_eq!(processes_running(&report, "esbuild").len(), 1, "{report:#}");
    let components: Vec<(String, String)> = go_components(&report)
        .into_iter()
        .map(|(n, v, _)| (n, v))
        .collect();
    assert_eq!(
        components,
        [
            ("github.com/evanw/esbuild".to_owned(), "(devel)".to_owned()),
            (
                "golang.org/x/sys".to_owned(),
                "v0.0.0-20220715151400-c0bba94af5f8".to_owned()
            ),
            ("stdlib".to_owned(), "go1.20.12".to_owned()),
        ],
        "{report:#}"
    );
}
