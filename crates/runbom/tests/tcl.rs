//! Tcl end to end on Debian's tclsh and tcllib: `runbom run -- tclsh app.tcl a b` reports the
//! packages the script loaded, and the oracle is the script's own dump of `package names` /
//! `package present` just before it exits; the script's stdout, argv, `info script`, stdin and
//! exit status are what they are bare. Hostile scripts (that rename `exit` and `package`) and an
//! unwritable session directory run as bare. `runbom inventory --tclsh` lists what tclsh finds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;

use common::runbom;

/// tclsh and tcllib, or `None` (the test then has nothing to run on: scripts/test installs both).
fn tcllib() -> Option<PathBuf> {
    let tclsh = PathBuf::from("/usr/bin/tclsh");
    let found = std::fs::read_dir("/usr/share/tcltk")
        .ok()?
        .any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("tcllib")));
    (tclsh.exists() && found).then_some(tclsh)
}

const APP: &str = r#"package require json
package require base64
package require md5
package require cmdline
package require struct::list
puts "argv0=$argv0 argv=$argv argc=$argc script=[info script]"
puts [json::dict2json [dict create a 1]]
puts [json::json2dict {{"b": [1, 2]}}]
puts [base64::encode runbom]
puts [md5::md5 -hex abc]
puts [struct::list reverse {1 2 3}]
puts [cmdline::getArgv0]
puts "stdin=[gets stdin]"
set oracle [open [file join [file dirname [info script]] oracle.txt] w]
foreach name [lsort [package names]] {
    if {![catch {package present $name} version]} {
        puts $oracle "$name $version"
    }
}
close $oracle
exit 3
"#;

/// Runs `command` without runbom. A script this test has just written can be
/// briefly "busy" (ETXTBSY): another test thread's fork may still hold the
/// write descriptor until its child execs, so the spawn is retried a while.
fn bare(dir: &Path, command: &[&str]) -> std::process::Output {
    let spawn = || {
        Command::new(command[0])
            .args(&command[1..])
            .current_dir(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
    };
    let mut attempts = 0;
    let mut child = loop {
        match spawn() {
            Err(error)
                if error.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 100 =>
            {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => break result.expect("tclsh runs"),
        }
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"hello\n")
        .expect("stdin written");
    child.wait_with_output().expect("waited")
}

fn hooked(dir: &Path, command: &[&str]) -> (std::process::Output, Value) {
    let report = dir.join("report.json");
    let out = runbom()
        .current_dir(dir)
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .args(command)
        .write_stdin("hello\n")
        .output()
        .expect("runbom runs");
    let report = std::fs::read(&report).unwrap_or_else(|_| {
        panic!("no report: {}", String::from_utf8_lossy(&out.stderr));
    });
    (
        out,
        serde_json::from_slice(&report).expect("report is JSON"),
    )
}

fn loaded(report: &Value) -> BTreeSet<String> {
    report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .filter(|d| !d["modules"].as_array().expect("modules").is_empty())
        .map(|d| format!("{} {}", d["name"].as_str().expect("name"), d["version"]))
        .map(|s| s.replace('"', ""))
        .collect()
}

/// The oracle's packages, but Tcl's own (the interpreter and its library), which the report
/// lists as the standard library.
fn oracle(dir: &Path, report: &Value) -> BTreeSet<String> {
    let stdlib: BTreeSet<&str> = report["stdlib_modules"]
        .as_array()
        .expect("stdlib")
        .iter()
        .map(|m| m.as_str().expect("name"))
        .collect();
    std::fs::read_to_string(dir.join("oracle.txt"))
        .expect("the script wrote its oracle")
        .lines()
        .filter(|line| {
            let name = line.split(' ').next().unwrap_or_default();
            !stdlib.contains(name)
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_tcllib_script_loads_what_its_own_dump_says_and_runs_as_bare() {
    let Some(tclsh) = tcllib() else { return };
    let tclsh = tclsh.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.tcl"), APP).expect("written");
    let command = [tclsh, "app.tcl", "a", "b"];
    let plain = bare(dir.path(), &command);
    let (out, report) = hooked(dir.path(), &command);
    assert_eq!(plain.status.code(), Some(3));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&plain.stdout)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("argv0=app.tcl argv=a b argc=2 script=app.tcl\n"),
        "{stdout}"
    );
    assert!(stdout.contains("stdin=hello\n"), "{stdout}");
    assert_eq!(report["interpreter"]["language"], "tcl");
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["hook_errors"], 0);
    let expected = oracle(dir.path(), &report);
    assert!(expected.iter().any(|p| p.starts_with("struct::list ")));
    assert_eq!(loaded(&report), expected);
    let json = report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .find(|d| d["name"] == "json")
        .expect("json is installed");
    assert_eq!(json["ecosystem"], "Tcl");
    assert_eq!(
        json["purl"],
        format!(
            "pkg:generic/tcl/json@{}",
            json["version"].as_str().expect("v")
        )
    );
    let files: Vec<&str> = json["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    assert!(files.contains(&"json.tcl"), "{files:?}");
    let unowned = report["unowned_modules"].as_array().expect("unowned");
    assert!(
        unowned.iter().any(|m| m["name"] == "__main__"
            && m["file"].as_str().is_some_and(|f| f.ends_with("/app.tcl"))),
        "{unowned:?}"
    );
    let process = &report["processes"][0];
    assert_eq!(process["exited"], true);
    assert_eq!(process["argv"], serde_json::json!(["app.tcl", "a", "b"]));
}

#[test]
fn a_script_run_by_its_shebang_or_sh_trampoline_is_observed() {
    let Some(_) = tcllib() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let body = "package require base64\nputs \"$argv0 $argv [base64::encode x]\"\nexit 0\n";
    for (name, head) in [
        ("direct.tcl", "#!/usr/bin/env tclsh\n"),
        (
            "trampoline",
            "#!/bin/sh\n# the next line restarts using tclsh \\\nexec tclsh \"$0\" ${1+\"$@\"}\n",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{head}{body}")).expect("written");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let script = format!("./{name}");
        let plain = bare(dir.path(), &[&script, "q"]);
        let (out, report) = hooked(dir.path(), &[&script, "q"]);
        assert_eq!(out.stdout, plain.stdout, "{name}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("./{name} q eA==\n")
        );
        assert!(
            loaded(&report).iter().any(|p| p.starts_with("base64 ")),
            "{name}"
        );
    }
}

#[test]
fn a_script_that_renames_exit_and_package_still_runs_as_bare_and_is_observed() {
    let Some(tclsh) = tcllib() else { return };
    let tclsh = tclsh.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("tempdir");
    let script = "rename package ::real_package\n\
        proc package {args} {uplevel 1 [list ::real_package {*}$args]}\n\
        rename exit ::real_exit\n\
        proc exit {{code 0}} {puts bye; ::real_exit $code}\n\
        package require base64\n\
        puts [base64::encode x]\n\
        proc fail {} {error boom}\n\
        if {$argv eq {fail}} {fail}\n\
        exit 5\n";
    std::fs::write(dir.path().join("hostile.tcl"), script).expect("written");
    for (args, code) in [(&[][..], 5), (&["fail"][..], 1)] {
        let mut command = vec![tclsh, "hostile.tcl"];
        command.extend(args);
        let plain = bare(dir.path(), &command);
        let (out, report) = hooked(dir.path(), &command);
        assert_eq!(plain.status.code(), Some(code));
        assert_eq!(out.status.code(), Some(code));
        assert_eq!(out.stdout, plain.stdout);
        // The error's stack is the script's, as tclsh prints it, without the hook's frames
        // (but for the frame of a top-level `if`, which only tclsh's own evaluation logs).
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.split("runbom: ").next().unwrap_or_default();
        let bare_stderr = String::from_utf8_lossy(&plain.stderr);
        let first = |text: &str| text.lines().take(6).collect::<Vec<_>>().join("\n");
        assert_eq!(first(stderr), first(&bare_stderr));
        assert!(!stderr.contains("runbom_hook"), "{stderr}");
        if code == 1 {
            assert!(
                stderr.contains("(file \"hostile.tcl\" line 8)\n"),
                "{stderr}"
            );
        }
        assert!(loaded(&report).iter().any(|p| p.starts_with("base64 ")));
    }
}

/// The hook does not trace `source` while Tcl's package search runs (it sources every
/// pkgIndex.tcl along auto_path for each package not yet known, thousands of times for tcllib);
/// the files a package's `ifneeded` script sources and the program's own are still seen, with
/// the program's own `package unknown` handler around the hook's and `source` renamed.
#[test]
fn files_sourced_around_the_package_search_are_seen_with_source_renamed() {
    let Some(tclsh) = tcllib() else { return };
    let tclsh = tclsh.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("tempdir");
    let greet = dir.path().join("lib/greet");
    std::fs::create_dir_all(&greet).expect("created");
    std::fs::write(
        greet.join("pkgIndex.tcl"),
        "package ifneeded greet 1.0 [list source [file join $dir greet.tcl]]\n",
    )
    .expect("written");
    std::fs::write(
        greet.join("greet.tcl"),
        "namespace eval greet { proc hello {} { return hello } }\npackage provide greet 1.0\n",
    )
    .expect("written");
    std::fs::write(
        dir.path().join("helpers.tcl"),
        "proc helper {} { return [base64::encode helper] }\n",
    )
    .expect("written");
    let script = "lappend auto_path [file join [file dirname [info script]] lib]\n\
        package unknown [list apply {{original args} {uplevel #0 [concat $original $args]}} [package unknown]]\n\
        rename source ::real_source\n\
        proc source {args} { uplevel 1 [list ::real_source {*}$args] }\n\
        package require greet\n\
        package require base64\n\
        source helpers.tcl\n\
        puts \"[greet::hello] [helper]\"\n";
    std::fs::write(dir.path().join("app.tcl"), script).expect("written");
    let command = [tclsh, "app.tcl"];
    let plain = bare(dir.path(), &command);
    let (out, report) = hooked(dir.path(), &command);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, plain.stdout);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello aGVscGVy\n");
    assert_eq!(report["hook_errors"], 0);
    let modules = |name: &str| -> Vec<String> {
        report["distributions"]
            .as_array()
            .expect("distributions")
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name} is installed"))["modules"]
            .as_array()
            .expect("modules")
            .iter()
            .map(|m| m["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(modules("greet"), ["greet.tcl"]);
    assert_eq!(modules("base64"), ["base64.tcl"]);
    let unowned: BTreeSet<&str> = report["unowned_modules"]
        .as_array()
        .expect("unowned")
        .iter()
        .map(|m| m["file"].as_str().expect("file"))
        .collect();
    let helpers = dir.path().join("helpers.tcl");
    assert!(
        unowned
            .iter()
            .any(|f| Path::new(f).ends_with("helpers.tcl")),
        "{unowned:?} lacks {}",
        helpers.display()
    );
    assert!(
        !unowned.iter().any(|f| f.ends_with("pkgIndex.tcl")),
        "{unowned:?}"
    );
}

#[test]
fn an_unwritable_session_directory_is_one_line_and_the_script_runs_bare() {
    let Some(tclsh) = tcllib() else { return };
    let hook =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbom-ecosystems/src/tcl/runbom_hook.tcl");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("app.tcl"),
        "package require md5\nputs \"[info script] $argv [gets stdin]\"\nexit 4\n",
    )
    .expect("written");
    let not_a_dir = dir.path().join("app.tcl");
    let plain = bare(
        dir.path(),
        &[tclsh.to_str().expect("utf-8"), "app.tcl", "z"],
    );
    for session in [not_a_dir.as_path(), Path::new("/proc")] {
        let mut child = Command::new(&tclsh)
            .arg(&hook)
            .args(["app.tcl", "z"])
            .current_dir(dir.path())
            .env("RUNBOM_SESSION_DIR", session)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"hello\n")
            .expect("written");
        let out = child.wait_with_output().expect("waited");
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(out.stdout, plain.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("runbom: tcl hook: ") && stderr.contains("runs unobserved"),
            "{stderr}"
        );
    }
}

#[test]
fn inventory_lists_what_tclsh_finds_and_names_a_broken_index() {
    let Some(_) = tcllib() else { return };
    let out = runbom()
        .args(["inventory", "--tclsh", "--format", "json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inventory: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(inventory["schema"], "runbom.tcl-inventory/v1");
    let packages = inventory["packages"].as_array().expect("packages");
    let find = |name: &str| packages.iter().find(|p| p["name"] == name);
    assert_eq!(find("json").expect("tcllib's json")["stdlib"], false);
    assert_eq!(find("msgcat").expect("Tcl's msgcat")["stdlib"], true);
    assert_eq!(find("msgcat").expect("msgcat")["source"], "module");

    // A broken index on TCLLIBPATH: a warning naming its file and line; the rest still listed.
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = dir.path().join("mine");
    std::fs::create_dir_all(&lib).expect("dir");
    std::fs::write(
        lib.join("pkgIndex.tcl"),
        "package ifneeded good 1.0 [list source [file join $dir good.tcl]]\n\
         package ifneeded bad 2.0 {source [file join $dir bad.tcl]\n",
    )
    .expect("written");
    let out = runbom()
        .env("TCLLIBPATH", dir.path())
        .args(["inventory", "--tclsh"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("good ")), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("json ")));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mine/pkgIndex.tcl:2: missing close-brace"),
        "{stderr}"
    );
    let out = runbom()
        .args(["inventory", "--tclsh", "/bin/true"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a Tcl shell"));
}

/// There is no Tcl lockfile: the expected inventory is an SBOM, here runbom's own of the run,
/// then the same with `json` at another version.
#[test]
fn verify_holds_a_tcl_run_against_its_sbom_clean_and_drifted() {
    let Some(tclsh) = tcllib() else { return };
    let tclsh = tclsh.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.tcl"), APP).expect("written");
    let (_, report) = hooked(dir.path(), &[tclsh, "app.tcl", "a", "b"]);
    let json_version = report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .find(|d| d["name"] == "json")
        .and_then(|d| d["version"].as_str())
        .expect("json")
        .to_owned();
    let report_path = dir.path().join("report.json");
    for format in ["cyclonedx-json", "spdx-json"] {
        let sbom = dir.path().join(format!("{format}.json"));
        let out = runbom()
            .args(["sbom", "--format", format, "--runtime"])
            .arg(&report_path)
            .arg("-o")
            .arg(&sbom)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&sbom).expect("sbom");
        assert!(text.contains(&format!("pkg:generic/tcl/json@{json_version}")));
        let verify = |expected: &Path| {
            runbom()
                .args(["verify", "--format", "json", "--expected"])
                .arg(expected)
                .arg("--runtime")
                .arg(&report_path)
                .output()
                .expect("runs")
        };
        let out = verify(&sbom);
        let findings: Value = serde_json::from_slice(&out.stdout).expect("json");
        let codes = |findings: &Value, level: &str| -> Vec<String> {
            findings["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|f| f["level"] == level)
                .map(|f| format!("{} {}", f["code"], f["subject"]).replace('"', ""))
                .collect()
        };
        assert_eq!(out.status.code(), Some(0), "{format}: {findings}");
        assert!(codes(&findings, "error").is_empty(), "{format}");
        // The rest of tcllib is installed but not in the SBOM of what ran: a note each.
        assert!(codes(&findings, "warning").is_empty(), "{format}");
        let notes = codes(&findings, "note");
        assert!(
            notes.iter().all(|c| c.starts_with("unexpected ")),
            "{notes:?}"
        );
        assert!(notes.iter().any(|c| c == "unexpected aes"), "{notes:?}");

        let drifted = dir.path().join(format!("drifted-{format}.json"));
        std::fs::write(
            &drifted,
            text.replace(&format!("json@{json_version}"), "json@0.9")
                .replace(&format!("\"{json_version}\""), "\"0.9\""),
        )
        .expect("written");
        let out = verify(&drifted);
        let findings: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert_eq!(codes(&findings, "error"), ["drift json"], "{format}");
    }
}

/// No advisory database covers Tcl packages: audit says so, in text and JSON, even with an empty
/// advisory store, rather than "0 vulnerabilities".
#[test]
fn audit_of_a_tcl_run_says_no_advisory_source_covers_tcl() {
    let Some(tclsh) = tcllib() else { return };
    let tclsh = tclsh.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.tcl"), APP).expect("written");
    let (_, report) = hooked(dir.path(), &[tclsh, "app.tcl"]);
    let installed = report["distributions"].as_array().expect("d").len();
    let db = dir.path().join("advisories.db");
    let audit = |format: &str| {
        runbom()
            .args(["audit", "--format", format, "--db"])
            .arg(&db)
            .arg("--runtime")
            .arg(dir.path().join("report.json"))
            .output()
            .expect("runs")
    };
    let out = audit("table");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "not audited: no advisory source covers Tcl ({installed} components)"
        )),
        "{text}"
    );
    assert!(!text.contains("clean"), "{text}");
    let out = audit("json");
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["not_covered"],
        serde_json::json!([{"ecosystem": "Tcl", "components": installed,
            "reason": "no advisory source covers Tcl"}])
    );
}

/// `runbom unused` and `runbom policy check` work on a Tcl report through the seam: the packages
/// never loaded are listed, and a ban and a minimum version hold Tcl components (each in the `Tcl`
/// ecosystem, compared by Tcl's version rules).
#[test]
fn unused_and_policy_on_a_tcl_report() {
    let Some(tclsh) = tcllib() else { return };
    let tclsh = tclsh.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("app.tcl"), APP).expect("written");
    let (_, report) = hooked(dir.path(), &[tclsh, "app.tcl"]);
    let report_path = dir.path().join("report.json");
    let out = runbom()
        .args(["unused", "--format", "json", "--runtime"])
        .arg(&report_path)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unused = String::from_utf8_lossy(&out.stdout);
    let loaded = loaded(&report);
    assert!(
        unused.contains("\"aes\""),
        "aes is installed, never loaded: {unused}"
    );
    assert!(
        !unused.contains("\"struct::list\""),
        "struct::list was loaded"
    );
    assert!(loaded.iter().any(|p| p.starts_with("struct::list ")));

    let config = dir.path().join("runbom.toml");
    std::fs::write(
        &config,
        "[bans]\ndeny = [{ name = \"base64\", reason = \"use binary encode\" }]\n\
         [versions]\nminimum = [{ name = \"json\", version = \"1.10\" }]\n",
    )
    .expect("written");
    let out = runbom()
        .args([
            "policy",
            "check",
            "--offline",
            "--format",
            "json",
            "--config",
        ])
        .arg(&config)
        .arg("--runtime")
        .arg(&report_path)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checked: Value = serde_json::from_slice(&out.stdout).expect("json");
    let codes: BTreeSet<String> = checked["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_owned())
        .collect();
    // `license-unknown` too: tcllib's indexes carry no licence.
    for code in ["package-banned", "version-below-minimum", "license-unknown"] {
        assert!(codes.contains(code), "{codes:?}");
    }
    let json = checked["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == "json")
        .expect("json");
    assert_eq!(json["ecosystem"], "Tcl");
    assert_eq!(json["loaded"], true);
}

/// `runbom hook install --tcl DIR`: a wrapper of tclsh that a service starts its scripts with;
/// each run leaves a report in the report directory, and the script runs as bare.
#[test]
fn hook_install_writes_a_tclsh_wrapper_that_reports_each_run() {
    let Some(_) = tcllib() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let wrappers = dir.path().join("bin");
    let reports = dir.path().join("reports");
    let out = runbom()
        .args(["hook", "install", "--tcl"])
        .arg(&wrappers)
        .args(["--tclsh", "tclsh8.6", "--app", "it's-tcl", "--report-dir"])
        .arg(&reports)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wrapper = wrappers.join("tclsh8.6");
    std::fs::write(
        dir.path().join("app.tcl"),
        "package require json\nputs \"$argv0 $argv [info script]\"\nexit 6\n",
    )
    .expect("written");
    let wrapper = wrapper.to_str().expect("utf-8");
    let plain = bare(dir.path(), &["tclsh8.6", "app.tcl", "x"]);
    let out = bare(dir.path(), &[wrapper, "app.tcl", "x"]);
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(out.stdout, plain.stdout);
    let written: Vec<_> = std::fs::read_dir(&reports)
        .expect("report dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&written[0]).expect("report")).expect("json");
    assert_eq!(report["app"], "it's-tcl");
    assert_eq!(report["exit_code"], 6);
    assert!(loaded(&report).iter().any(|p| p.starts_with("json ")));

    let out = runbom()
        .args(["hook", "install", "--tcl"])
        .arg(&wrappers)
        .args(["--tclsh", "python3"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a Tcl shell"));
}
