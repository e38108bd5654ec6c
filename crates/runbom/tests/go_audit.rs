//! Go advisories against Go binaries, with symbol reachability: on the pair of test programs
//! that use the same `golang.org/x/net` v0.7.0, once calling `html.Render` (GO-2023-1988) and
//! once not, runbom's `linked` findings equal what Debian's `govulncheck` finds in binary mode
//! with the same advisories; a stripped binary (`-s -w`) answers the same (the Feb 2023
//! govulncheck Debian ships cannot read one); a vulnerable function the compiler inlined at its
//! only call, so that it has no code of its own, is still linked in; and a runtime report of the
//! binary's run is audited with the same evidence.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::go::{Variant, binary, inlined_calls, own_code, run_reported};

mod common;

fn vulndb() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/go/vulndb")
}

fn store(dir: &Path) -> PathBuf {
    let db = dir.join("store.db");
    let out = common::runbom()
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(vulndb())
        .output()
        .expect("db import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// The advisories whose vulnerable symbols runbom finds linked into `args`' binary.
fn linked_by_runbom(db: &Path, args: &[&str], input: &Path) -> BTreeSet<String> {
    let out = common::runbom()
        .args(["audit", "--format", "json", "--db"])
        .arg(db)
        .args(args)
        .arg(input)
        .output()
        .expect("runbom audit");
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .inspect(|f| assert!(f["vulnerable_code"]["linked"].is_array(), "{f:#}"))
        .filter(|f| {
            !f["vulnerable_code"]["linked"]
                .as_array()
                .expect("present")
                .is_empty()
        })
        .map(|f| f["id"].as_str().expect("present").to_owned())
        .collect()
}

/// The same advisories as a `GOVULNDB` directory in the layout Debian's govulncheck reads.
fn govulndb(dir: &Path) -> PathBuf {
    let root = dir.join("govulndb");
    std::fs::create_dir_all(root.join("ID")).expect("db dir");
    std::fs::create_dir_all(root.join("golang.org/x")).expect("db dir");
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(vulndb()).expect("vulndb") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("advisory");
            std::fs::write(
                root.join("ID").join(path.file_name().expect("present")),
                &text,
            )
            .expect("id");
            entries.push(serde_json::from_str::<serde_json::Value>(&text).expect("json"));
        }
    }
    let ids: Vec<&serde_json::Value> = entries.iter().map(|e| &e["id"]).collect();
    let write = |name: &str, value: serde_json::Value| {
        std::fs::write(root.join(name), value.to_string()).expect("index");
    };
    let mut index = serde_json::Map::new();
    for module in ["golang.org/x/net", "stdlib"] {
        let of_module: Vec<serde_json::Value> = entries
            .iter()
            .filter(|e| {
                e["affected"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|a| a["package"]["name"] == module))
            })
            .cloned()
            .collect();
        write(
            &format!("{module}.json"),
            serde_json::Value::Array(of_module),
        );
        index.insert(module.to_owned(), "2026-08-21T00:00:00Z".into());
    }
    write("index.json", serde_json::Value::Object(index));
    write("ID/index.json", serde_json::json!(ids));
    write("aliases.json", serde_json::json!({}));
    root
}

/// The advisories govulncheck reports for `binary`, or why it could not.
fn linked_by_govulncheck(db: &Path, binary: &Path) -> Result<BTreeSet<String>, String> {
    let out = Command::new("govulncheck")
        .env("GOVULNDB", format!("file://{}", db.display()))
        .env("GOFLAGS", "")
        .arg(binary)
        .output()
        .map_err(|e| format!("cannot run govulncheck: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if text.contains("govulncheck:") {
        return Err(text);
    }
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("Vulnerability #"))
        .filter_map(|l| l.split_once(": ").map(|(_, id)| id.trim().to_owned()))
        .collect())
}

#[test]
fn linked_and_not_linked_agree_with_govulncheck() {
    let (Some(render), Some(escape), Some(render_stripped), Some(escape_stripped)) = (
        binary("render", Variant::Plain),
        binary("escape", Variant::Plain),
        binary("render", Variant::Stripped),
        binary("escape", Variant::Stripped),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = store(dir.path());
    // GO-2023-1840 (the runtime) is in every Go 1.19.8 binary; GO-2025-3750's symbols are
    // vulnerable on Windows only, and these are Linux binaries.
    let stdlib = "GO-2023-1840".to_owned();
    let expected_linked = BTreeSet::from(["GO-2023-1988".to_owned(), stdlib.clone()]);
    let without_render = BTreeSet::from([stdlib]);
    assert_eq!(
        linked_by_runbom(&db, &["--binary"], &render),
        expected_linked
    );
    assert_eq!(
        linked_by_runbom(&db, &["--binary"], &escape),
        without_render
    );
    // The function table survives `-s -w`: the same answer.
    assert_eq!(
        linked_by_runbom(&db, &["--binary"], &render_stripped),
        expected_linked
    );
    assert_eq!(
        linked_by_runbom(&db, &["--binary"], &escape_stripped),
        without_render
    );

    if Command::new("govulncheck").arg("-h").output().is_err() {
        eprintln!("skipped the oracle: no govulncheck (scripts/test installs Debian's)");
        return;
    }
    let govulndb = govulndb(dir.path());
    for path in [&render, &escape] {
        let oracle = linked_by_govulncheck(&govulndb, path).expect("govulncheck");
        assert_eq!(
            linked_by_runbom(&db, &["--binary"], path),
            oracle,
            "{}",
            path.display()
        );
    }
    match linked_by_govulncheck(&govulndb, &render_stripped) {
        Ok(found) => assert_eq!(found, expected_linked),
        Err(why) => eprintln!(
            "govulncheck cannot read the stripped binary: {}",
            why.trim()
        ),
    }
}

/// The vulnerable symbols runbom names linked into `binary`, by advisory.
fn linked_symbols(db: &Path, binary: &Path) -> BTreeSet<(String, String)> {
    let out = common::runbom()
        .args(["audit", "--format", "json", "--db"])
        .arg(db)
        .arg("--binary")
        .arg(binary)
        .output()
        .expect("runbom audit");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut linked = BTreeSet::new();
    for finding in json["findings"].as_array().expect("findings") {
        for symbol in finding["vulnerable_code"]["linked"]
            .as_array()
            .expect("linked")
        {
            linked.insert((
                finding["id"].as_str().expect("id").to_owned(),
                symbol.as_str().expect("symbol").to_owned(),
            ));
        }
    }
    linked
}

#[test]
fn a_vulnerable_function_inlined_at_every_call_is_linked() {
    let (Some(plain), Some(stripped)) = (
        binary("inline", Variant::Plain),
        binary("inline", Variant::Stripped),
    ) else {
        return;
    };
    // The compiler's own evidence: both calls were inlined, and neither function has code of
    // its own in the binary, so the function table has no entry for them.
    let inlined = inlined_calls("inline");
    for function in ["netip.Addr.IsLoopback", "dnsmessage.(*Parser).Answer"] {
        assert!(inlined.iter().any(|f| f == function), "{inlined:?}");
    }
    assert_eq!(
        own_code(
            &plain,
            r"netip\.Addr\.IsLoopback$|dnsmessage\.\(\*Parser\)\.Answer$"
        ),
        Vec::<String>::new()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let db = store(dir.path());
    let expected = BTreeSet::from([
        "GO-2023-1840".to_owned(),
        "GO-2024-2887".to_owned(),
        "GO-2026-5942".to_owned(),
    ]);
    for path in [&plain, &stripped] {
        assert_eq!(linked_by_runbom(&db, &["--binary"], path), expected);
        let linked = linked_symbols(&db, path);
        for (id, symbol) in [
            ("GO-2024-2887", "net/netip.Addr.IsLoopback"),
            (
                "GO-2026-5942",
                "golang.org/x/net/dns/dnsmessage.Parser.Answer",
            ),
        ] {
            assert!(
                linked.contains(&(id.to_owned(), symbol.to_owned())),
                "{id} {symbol} in {linked:?}"
            );
        }
    }

    if Command::new("govulncheck").arg("-h").output().is_err() {
        eprintln!("skipped the oracle: no govulncheck (scripts/test installs Debian's)");
        return;
    }
    let oracle = linked_by_govulncheck(&govulndb(dir.path()), &plain).expect("govulncheck");
    assert_eq!(oracle, expected);
}

#[test]
fn a_runtime_report_of_the_binary_is_audited_with_its_symbols() {
    let Some(render) = binary("render", Variant::Plain) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = store(dir.path());
    let report = dir.path().join("report.json");
    let out = run_reported(&render, &report);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "&lt;hi&gt;\n",
        "the program's own output"
    );
    assert_eq!(
        linked_by_runbom(&db, &["--runtime"], &report),
        BTreeSet::from(["GO-2023-1840".to_owned(), "GO-2023-1988".to_owned()])
    );
    // VEX from the same evidence: what is linked in is exploitable; what is not, not reachable.
    let out = common::runbom()
        .args(["vex", "--min-observation", "0s", "--db"])
        .arg(&db)
        .arg("--runtime")
        .arg(&report)
        .output()
        .expect("runbom vex");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vex: serde_json::Value = serde_json::from_slice(&out.stdout).expect("CycloneDX VEX");
    let state = |id: &str| {
        let statement = vex["vulnerabilities"]
            .as_array()
            .expect("vulnerabilities")
            .iter()
            .find(|v| {
                v["id"] == id && v["affects"][0]["ref"] == "pkg:golang/golang.org/x/net@v0.7.0"
            })
            .expect("statement");
        (
            statement["analysis"]["state"]
                .as_str()
                .expect("state")
                .to_owned(),
            statement["analysis"]["justification"]
                .as_str()
                .map(str::to_owned),
        )
    };
    assert_eq!(state("GO-2023-1988"), ("exploitable".to_owned(), None));
    assert_eq!(
        state("GO-2024-3333"),
        (
            "not_affected".to_owned(),
            Some("code_not_reachable".to_owned())
        )
    );
}

#[test]
fn a_file_that_is_not_a_go_binary_is_named() {
    let out = common::runbom()
        .args(["audit", "--db", "sqlite::memory:", "--binary", "/bin/ls"])
        .output()
        .expect("runbom audit");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`/bin/ls`"), "{stderr}");
}
