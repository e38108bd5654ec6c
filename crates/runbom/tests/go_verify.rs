//! `runbom verify` of a Go binary's run: against its `go.mod` and against the previous release's
//! binary, clean when the modules linked in are the expected ones, drift (with the file and line,
//! in Go's version syntax) when one differs, and `modified-build` for a binary built from a
//! checkout with uncommitted changes.

use std::path::Path;

use common::go::{Variant, binary, run_reported};
use serde_json::Value;

mod common;

fn verify(expected: &Path, report: &Path) -> (i32, Value) {
    let out = common::runbom()
        .args(["verify", "--format", "json", "--expected"])
        .arg(expected)
        .arg("--runtime")
        .arg(report)
        .output()
        .expect("runbom verify");
    let findings = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exit code"), findings)
}

fn codes(findings: &Value) -> Vec<(String, String)> {
    findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["level"] != "note")
        .map(|f| {
            (
                f["code"].as_str().expect("code").to_owned(),
                f["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_go_binary_verifies_against_its_go_mod_and_drifts_from_a_changed_one() {
    let Some(escape) = binary("escape", Variant::Plain) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    run_reported(&escape, &report);
    let go_mod = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/go/escape/go.mod");
    let (status, findings) = verify(&go_mod, &report);
    assert_eq!((status, codes(&findings)), (0, vec![]), "{findings:#}");

    let changed = dir.path().join("go.mod");
    let text = std::fs::read_to_string(&go_mod).expect("go.mod");
    std::fs::write(&changed, text.replace("x/net v0.7.0", "x/net v0.8.0")).expect("write");
    let (status, findings) = verify(&changed, &report);
    let line = text
        .lines()
        .position(|l| l.contains("x/net"))
        .expect("require line")
        + 1;
    assert_eq!(
        (status, codes(&findings)),
        (
            1,
            vec![(
                "drift".to_owned(),
                format!(
                    "`golang.org/x/net` is expected at v0.8.0 ({}:{line}) but running at v0.7.0",
                    changed.display()
                )
            )]
        ),
        "{findings:#}"
    );
}

#[test]
fn a_go_binary_verifies_against_the_previous_release_binary() {
    let (Some(release), Some(modified)) = (
        binary("escape", Variant::Trimpath),
        binary("escape", Variant::ModifiedCheckout),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    run_reported(&release, &report);
    let (status, findings) = verify(&release, &report);
    assert_eq!((status, codes(&findings)), (0, vec![]), "{findings:#}");

    // The same modules, but built from a checkout with an uncommitted change.
    let report = dir.path().join("modified.json");
    run_reported(&modified, &report);
    let (status, findings) = verify(&release, &report);
    let got = codes(&findings);
    assert_eq!(status, 1, "{findings:#}");
    assert_eq!(
        got.iter()
            .map(|(code, _)| code.as_str())
            .collect::<Vec<_>>(),
        ["modified-build"],
        "{findings:#}"
    );
}

#[test]
fn a_go_binary_verifies_against_go_sum_and_a_changed_checksum_is_tampering() {
    // npm's esbuild 0.20.2, built by its author in module mode: its build information records
    // the `h1:` checksum of its one dependency, golang.org/x/sys, which go.sum lists.
    let Some(esbuild) = common::go::esbuild("0.20.2") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    let out = common::runbom()
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .arg(&esbuild)
        .arg("--version")
        .output()
        .expect("runbom run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0.20.2\n");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/go/esbuild-0.20.2");
    let (status, findings) = verify(&source.join("go.mod"), &report);
    assert_eq!((status, codes(&findings)), (0, vec![]), "{findings:#}");

    // The same go.mod beside a go.sum whose checksum of that version is another one.
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).expect("tree");
    std::fs::copy(source.join("go.mod"), tree.join("go.mod")).expect("go.mod");
    let real = "h1:0A+M6Uqn+Eje4kHMK80dtF3JCXC4ykBgQG4Fe06QRhQ=";
    let other = "h1:1A+M6Uqn+Eje4kHMK80dtF3JCXC4ykBgQG4Fe06QRhQ=";
    let go_sum = std::fs::read_to_string(source.join("go.sum")).expect("go.sum");
    assert!(go_sum.contains(real), "{go_sum}");
    std::fs::write(tree.join("go.sum"), go_sum.replace(real, other)).expect("go.sum");
    let (status, findings) = verify(&tree.join("go.mod"), &report);
    assert_eq!(
        (status, codes(&findings)),
        (
            1,
            vec![(
                "tampered".to_owned(),
                format!(
                    "`golang.org/x/sys` v0.0.0-20220715151400-c0bba94af5f8 was built from source whose checksum is {real}, but the expected inventory lists {other}"
                )
            )]
        ),
        "{findings:#}"
    );
    assert_eq!(findings["findings"][0]["reason"], "module-sum");

    // A go.sum line runbom cannot read is named with its place.
    std::fs::write(tree.join("go.sum"), "golang.org/x/sys v1\n").expect("go.sum");
    let out = common::runbom()
        .args(["verify", "--expected"])
        .arg(tree.join("go.mod"))
        .arg("--runtime")
        .arg(&report)
        .output()
        .expect("runbom verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("go.sum") && stderr.contains("line 1"),
        "{stderr}"
    );
}

#[test]
fn a_go_sum_may_list_more_but_must_list_every_module_the_binary_was_built_from() {
    let Some(esbuild) = common::go::esbuild("0.20.2") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    let out = common::runbom()
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .arg(&esbuild)
        .arg("--version")
        .output()
        .expect("runbom run");
    assert!(out.status.success());
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/go");
    let source = testdata.join("esbuild-0.20.2");
    let go_sum = std::fs::read_to_string(source.join("go.sum")).expect("go.sum");
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).expect("tree");
    std::fs::copy(source.join("go.mod"), tree.join("go.mod")).expect("go.mod");

    // esbuild's go.sum with a real one of golang.org/x/net appended: checksums of modules and
    // versions the binary does not hold are the module graph's, no finding.
    let more = std::fs::read_to_string(testdata.join("x-net-0.7.0.go.sum")).expect("x/net go.sum");
    std::fs::write(tree.join("go.sum"), format!("{go_sum}{more}")).expect("go.sum");
    let (status, findings) = verify(&tree.join("go.mod"), &report);
    assert_eq!((status, codes(&findings)), (0, vec![]), "{findings:#}");

    // The source checksum of golang.org/x/sys's version left out (its `/go.mod` one kept, as
    // for a module only in the graph): the binary was built from source this go.sum never
    // verified.
    let sys = "golang.org/x/sys v0.0.0-20220715151400-c0bba94af5f8";
    let real = "h1:0A+M6Uqn+Eje4kHMK80dtF3JCXC4ykBgQG4Fe06QRhQ=";
    let without: String = format!("{go_sum}{more}")
        .lines()
        .filter(|l| *l != format!("{sys} {real}"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(without.contains(&format!("{sys}/go.mod")));
    std::fs::write(tree.join("go.sum"), without).expect("go.sum");
    let (status, findings) = verify(&tree.join("go.mod"), &report);
    assert_eq!(
        (status, codes(&findings)),
        (
            1,
            vec![(
                "tampered".to_owned(),
                format!(
                    "`golang.org/x/sys` v0.0.0-20220715151400-c0bba94af5f8 was built from source whose checksum is {real}, but {} lists no checksum of that version: the build it belongs to never verified this source",
                    tree.join("go.sum").display()
                )
            )]
        ),
        "{findings:#}"
    );
    assert_eq!(findings["findings"][0]["reason"], "unlisted-module-sum");
    assert_eq!(findings["findings"][0]["expected"]["location"]["line"], 10);

    // Without a go.sum, nothing vouches for any checksum: nothing to compare.
    std::fs::remove_file(tree.join("go.sum")).expect("rm go.sum");
    let (status, findings) = verify(&tree.join("go.mod"), &report);
    assert_eq!((status, codes(&findings)), (0, vec![]), "{findings:#}");
}

#[test]
fn a_go_mod_require_the_binary_does_not_link_is_a_note_but_an_sbom_component_a_warning() {
    let Some(escape) = binary("escape", Variant::Plain) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    run_reported(&escape, &report);
    let missing = |findings: &Value| -> Vec<(String, String)> {
        findings["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["code"] == "missing")
            .map(|f| {
                (
                    f["level"].as_str().expect("level").to_owned(),
                    f["subject"].to_string(),
                )
            })
            .collect()
    };

    // go.mod lists the module graph's requirements; a build prunes those no linked package
    // imports (here one only a test would need).
    let go_mod = dir.path().join("go.mod");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/go/escape/go.mod"),
    )
    .expect("go.mod");
    std::fs::write(
        &go_mod,
        format!("{text}require github.com/kr/pretty v0.3.1 // indirect\n"),
    )
    .expect("write");
    let (status, findings) = verify(&go_mod, &report);
    assert_eq!(
        (status, missing(&findings)),
        (
            0,
            vec![("note".to_owned(), "\"github.com/kr/pretty\"".to_owned())]
        ),
        "{findings:#}"
    );

    // An SBOM lists what a build contains: the same component missing is a warning.
    let sbom = dir.path().join("sbom.json");
    let out = common::runbom()
        .args(["sbom", "--runtime"])
        .arg(&report)
        .arg("-o")
        .arg(&sbom)
        .output()
        .expect("runbom sbom");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut document: Value =
        serde_json::from_slice(&std::fs::read(&sbom).expect("sbom")).expect("sbom json");
    document["components"]
        .as_array_mut()
        .expect("components")
        .push(serde_json::json!({
            "type": "library",
            "name": "github.com/kr/pretty",
            "version": "v0.3.1",
            "purl": "pkg:golang/github.com/kr/pretty@v0.3.1",
        }));
    std::fs::write(&sbom, document.to_string()).expect("write sbom");
    let (status, findings) = verify(&sbom, &report);
    assert_eq!(
        (status, missing(&findings)),
        (
            1,
            vec![("warning".to_owned(), "\"github.com/kr/pretty\"".to_owned())]
        ),
        "{findings:#}"
    );
}
