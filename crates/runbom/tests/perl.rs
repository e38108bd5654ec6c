//! `runbom run -- perl APP` on real programs from Debian's packages (a Mojolicious::Lite app
//! answering one request in-process, an LWP script): the report's loaded `pkg:cpan` components
//! equal those of the program's own `%INC`, dumped by the program in `END` and mapped through
//! `runbom inventory --perl`; and the programs runbom must not disturb (dying, `exit 3`, `perl -T`,
//! a child whose hook cannot write) give the output and exit status they give bare.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;

use common::runbom;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/perl")
        .join(name)
}

/// Whether the machine's perl has `module` (Debian's packages, installed by scripts/test).
fn has_module(module: &str) -> bool {
    std::process::Command::new("perl")
        .args(["-e", &format!("require {module}")])
        .env_remove("PERL5OPT")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = runbom();
    cmd.arg("run")
        .args(args)
        .env_remove("PERL5OPT")
        .env_remove("PERL5LIB");
    for (name, value) in envs {
        cmd.env(name, value);
    }
    cmd.output().expect("runbom run")
}

fn bare(args: &[&str]) -> Output {
    std::process::Command::new(args[0])
        .args(&args[1..])
        .env_remove("PERL5OPT")
        .env_remove("PERL5LIB")
        .output()
        .expect("bare run")
}

/// Every installed file of the perl's distributions -> the distribution, from
/// `runbom inventory --perl --format json`.
fn owners() -> BTreeMap<PathBuf, String> {
    let out = runbom()
        .args(["inventory", "--perl", "perl", "--format", "json"])
        .output()
        .expect("inventory");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inventory: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(inventory["schema"], "runbom.perl-inventory/v1");
    let mut owners = BTreeMap::new();
    for dist in inventory["distributions"]
        .as_array()
        .expect("distributions")
    {
        for file in dist["files"].as_array().expect("files") {
            let file = PathBuf::from(file.as_str().expect("path"));
            let name = dist["name"].as_str().expect("name").to_owned();
            owners.entry(file.clone()).or_insert_with(|| name.clone());
            if let Ok(real) = std::fs::canonicalize(&file) {
                owners.entry(real).or_insert(name);
            }
        }
    }
    owners
}

/// The distributions of the files the program's own `%INC` named (`key\tfile` lines).
fn oracle_distributions(oracle: &Path) -> BTreeSet<String> {
    let owners = owners();
    let text = std::fs::read_to_string(oracle).expect("the program wrote its %INC");
    text.lines()
        .filter_map(|line| line.split_once('\t'))
        .filter_map(|(_, file)| {
            let file = Path::new(file);
            owners
                .get(file)
                .or_else(|| owners.get(&std::fs::canonicalize(file).ok()?))
                .cloned()
        })
        .collect()
}

fn loaded_in_report(report: &Path) -> (Value, BTreeSet<String>) {
    let report: Value =
        serde_json::from_slice(&std::fs::read(report).expect("report")).expect("json");
    let loaded = report["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .filter(|d| !d["modules"].as_array().expect("modules").is_empty())
        .map(|d| {
            assert_eq!(d["ecosystem"], "CPAN");
            let purl = d["purl"].as_str().expect("purl");
            assert!(purl.starts_with("pkg:cpan/"), "{purl}");
            d["name"].as_str().expect("name").to_owned()
        })
        .collect();
    (report, loaded)
}

/// Runs `program` under `runbom run`, holds its report against its own `%INC`, and gives the
/// directory holding the report (`report.json`) and the report.
fn assert_same_as_oracle(
    program: &str,
    args: &[&str],
    needs: &str,
    expect_loaded: &[&str],
) -> Option<(tempfile::TempDir, Value)> {
    if !has_module(needs) {
        eprintln!("skipped: {needs} is not installed");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let oracle = dir.path().join("oracle.txt");
    let script = fixture(program);
    let mut command = vec!["--report", report.to_str().expect("utf-8"), "--", "perl"];
    command.push(script.to_str().expect("utf-8"));
    command.extend(args);
    let out = run(&command, &[("ORACLE", &oracle)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut plain = vec!["perl", script.to_str().expect("utf-8")];
    plain.extend(args);
    assert_eq!(out.stdout, bare(&plain).stdout, "output as bare");
    let (report, loaded) = loaded_in_report(&report);
    assert_eq!(report["interpreter"]["language"], "perl");
    assert_eq!(report["processes"][0]["exited"], true);
    assert_eq!(report["exit_code"], 0);
    assert_eq!(loaded, oracle_distributions(&oracle));
    for name in expect_loaded {
        assert!(loaded.contains(*name), "{name} not in {loaded:?}");
    }
    let stdlib: Vec<&str> = report["stdlib_modules"]
        .as_array()
        .expect("stdlib")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        stdlib.contains(&"strict") && stdlib.contains(&"warnings"),
        "{stdlib:?}"
    );
    Some((dir, report))
}

/// A `cpanfile.snapshot` (Carton) of what is installed (the report lists every installed
/// distribution, loaded or not): `verify` is clean against it; one pin changed is a drift naming
/// the snapshot's line.
#[test]
fn a_mojolicious_app_loads_what_its_own_inc_says_and_verifies_against_its_snapshot() {
    let Some((dir, report)) =
        assert_same_as_oracle("mojo_app.pl", &[], "Mojolicious::Lite", &["Mojolicious"])
    else {
        return;
    };
    let mut snapshot = String::from("# carton snapshot format: version 1.0\nDISTRIBUTIONS\n");
    for dist in report["distributions"].as_array().expect("distributions") {
        let (name, version) = (
            dist["name"].as_str().unwrap(),
            dist["version"].as_str().unwrap(),
        );
        snapshot.push_str(&format!(
            "  {name}-{version}\n    pathname: X/XX/XXX/{name}-{version}.tar.gz\n    provides:\n      {} {version}\n",
            name.replace('-', "::")
        ));
    }
    let verify = |snapshot_text: &str| {
        let path = dir.path().join("cpanfile.snapshot");
        std::fs::write(&path, snapshot_text).expect("snapshot");
        runbom()
            .args(["verify", "--expected"])
            .arg(&path)
            .arg("--runtime")
            .arg(dir.path().join("report.json"))
            .output()
            .expect("verify")
    };
    let clean = verify(&snapshot);
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert_eq!(clean.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains(" error "), "{stdout}");
    let mojo = report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Mojolicious")
        .expect("Mojolicious");
    let pinned = format!("  Mojolicious-{}\n", mojo["version"].as_str().unwrap());
    let drifted = verify(&snapshot.replace(&pinned, "  Mojolicious-1.0\n"));
    let stdout = String::from_utf8_lossy(&drifted.stdout);
    assert_eq!(drifted.status.code(), Some(1), "{stdout}");
    let drift: Vec<&str> = stdout.lines().filter(|l| l.starts_with("drift ")).collect();
    assert_eq!(drift.len(), 1, "{stdout}");
    assert!(
        drift[0].contains("Mojolicious")
            && drift[0].contains("expected at 1.0 (")
            && drift[0].contains("cpanfile.snapshot:"),
        "{stdout}"
    );
}

#[test]
fn an_lwp_script_loads_what_its_own_inc_says() {
    let page = fixture("page.html");
    let Some((dir, _)) = assert_same_as_oracle(
        "lwp_app.pl",
        &[page.to_str().expect("utf-8")],
        "HTML::TreeBuilder",
        &["libwww-perl", "HTML-Tree", "URI", "HTTP-Message"],
    ) else {
        return;
    };
    // The SBOM of the run lists its loaded CPAN distributions as `pkg:cpan` components.
    let sbom = runbom()
        .args(["sbom", "--runtime"])
        .arg(dir.path().join("report.json"))
        .output()
        .expect("sbom");
    assert!(
        sbom.status.success(),
        "{}",
        String::from_utf8_lossy(&sbom.stderr)
    );
    let text = String::from_utf8_lossy(&sbom.stdout);
    for purl in [
        "pkg:cpan/libwww-perl@",
        "pkg:cpan/HTML-Tree@",
        "pkg:cpan/URI@",
    ] {
        assert!(text.contains(purl), "{purl} not in the SBOM");
    }
}

/// Each program gives under `runbom run` the stdout, stderr and status it gives bare (runbom's
/// own summary, after the program's output on stderr, aside).
#[test]
fn programs_that_die_exit_or_run_tainted_are_undisturbed() {
    if !has_module("strict") {
        eprintln!("skipped: no perl");
        return;
    }
    let child = "local $ENV{RUNBOM_SESSION_DIR} = '/proc/no/such/dir'; \
                 system($^X, '-e', 'print qq{child\\n}; exit 2'); print qq{parent\\n}; exit($? >> 8)";
    let cases: [&[&str]; 4] = [
        &[
            "perl",
            "-e",
            "print qq{out\\n}; print STDERR qq{err\\n}; exit 3",
        ],
        &["perl", "-e", "print qq{before\\n}; die qq{boom\\n}"],
        &["perl", "-T", "-e", "print qq{tainted ${^TAINT}\\n}; exit 4"],
        &["perl", "-e", child],
    ];
    for args in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("report.json");
        let mut command = vec!["--report", report.to_str().expect("utf-8"), "--"];
        command.extend(args);
        let hooked = run(&command, &[]);
        let bare = bare(args);
        assert_eq!(hooked.status.code(), bare.status.code(), "{args:?}");
        assert_eq!(hooked.stdout, bare.stdout, "{args:?}");
        let stderr = String::from_utf8_lossy(&hooked.stderr);
        let program_stderr: String = stderr
            .lines()
            .take_while(|l| !l.starts_with("runbom: "))
            .map(|l| format!("{l}\n"))
            .collect();
        let hook_lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("runbom: perl hook: "))
            .collect();
        let bare_stderr = String::from_utf8_lossy(&bare.stderr);
        if args[2].contains("RUNBOM_SESSION_DIR") {
            // The child's hook cannot write: one line, then the child runs as bare.
            assert_eq!(hook_lines.len(), 1, "{stderr}");
            assert!(hook_lines[0].contains("/proc/no/such/dir"), "{stderr}");
            let (report, _) = loaded_in_report(&report);
            assert_eq!(report["processes"].as_array().expect("processes").len(), 1);
        } else {
            assert!(hook_lines.is_empty(), "{stderr}");
            assert_eq!(program_stderr, bare_stderr, "{args:?}");
        }
        if args[1] == "-T" {
            assert!(
                stderr.contains("started no program runbom observes"),
                "a tainted perl ignores PERL5OPT and runs bare: {stderr}"
            );
        }
    }
}

/// The app's report with Mojolicious at 9.30, audited against CPANSA (an extract of CPAN::Audit's
/// database): the same advisories `cpan-audit dist Mojolicious 9.30` finds, when it is installed.
#[test]
fn an_old_mojolicious_is_audited_against_cpansa_as_cpan_audit_finds() {
    let Some((dir, mut report)) =
        assert_same_as_oracle("mojo_app.pl", &[], "Mojolicious::Lite", &["Mojolicious"])
    else {
        return;
    };
    for dist in report["distributions"]
        .as_array_mut()
        .expect("distributions")
    {
        if dist["name"] == "Mojolicious" {
            dist["version"] = Value::from("9.30");
        }
    }
    let old = dir.path().join("old.json");
    std::fs::write(&old, serde_json::to_vec(&report).expect("json")).expect("write");
    let db = dir.path().join("advisories.db");
    let extract = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runbom-sources/testdata/cpansa/cpansa-extract.json");
    let import = runbom()
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(&extract)
        .output()
        .expect("import");
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let audit = runbom()
        .args(["audit", "--format", "json", "--db"])
        .arg(&db)
        .arg("--runtime")
        .arg(&old)
        .output()
        .expect("audit");
    assert_eq!(
        audit.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let text = String::from_utf8_lossy(&audit.stdout);
    let found: BTreeSet<String> = text
        .match_indices("CPANSA-")
        .map(|(at, _)| {
            text[at..]
                .split(|c: char| c == '"' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        found,
        BTreeSet::from(["CPANSA-Mojolicious-2022-03".to_owned()]),
        "{text}"
    );
    let peer = std::process::Command::new("cpan-audit")
        .args(["--json", "dist", "Mojolicious", "9.30"])
        .output();
    if let Ok(peer) = peer.map_err(drop).and_then(|o| {
        let answered = o.status.success() || !o.stdout.is_empty();
        answered.then_some(o).ok_or(())
    }) {
        let peer: Value = serde_json::from_slice(&peer.stdout).expect("cpan-audit json");
        let ids: BTreeSet<String> = peer["dists"]["Mojolicious"]["advisories"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(found, ids, "runbom and cpan-audit");
    }
}
