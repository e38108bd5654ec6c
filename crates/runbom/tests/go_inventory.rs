//! `runbom inventory PATH…` on Go binaries: byte for byte what `go version -m` prints, on test
//! programs built in every variant and on Go programs nobody here built (Debian's toolchain and
//! govulncheck); structured JSON; and bad input named, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

use common::go::{Variant, bin_dir, binary};

mod common;

fn go_version_m(paths: &[&Path]) -> String {
    let out = Command::new("go")
        .args(["version", "-m"])
        .args(paths)
        .output()
        .expect("go version -m");
    String::from_utf8(out.stdout).expect("utf-8")
}

fn runbom_inventory(paths: &[&Path]) -> (String, String, Option<i32>) {
    let out = common::runbom()
        .arg("inventory")
        .args(paths)
        .output()
        .expect("runbom inventory");
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Go programs on this machine that nobody here built.
fn third_party_binaries() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = [
        "/usr/bin/govulncheck",
        "/usr/lib/go/bin/go",
        "/usr/lib/go/bin/gofmt",
    ]
    .iter()
    .map(PathBuf::from)
    .filter(|p| p.is_file())
    .collect();
    found.sort();
    found
}

#[test]
fn every_test_binary_matches_go_version_m_exactly() {
    let mut binaries = Vec::new();
    for program in ["render", "escape"] {
        for variant in Variant::ALL {
            match binary(program, variant) {
                Some(path) => binaries.push(path),
                None => return,
            }
        }
    }
    binaries.extend(third_party_binaries());
    for path in &binaries {
        let (stdout, stderr, code) = runbom_inventory(&[path]);
        assert_eq!(code, Some(0), "{}: {stderr}", path.display());
        assert_eq!(stdout, go_version_m(&[path]), "{}", path.display());
    }
    // A directory of them, walked in the same order.
    let (stdout, _, code) = runbom_inventory(&[&bin_dir()]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, go_version_m(&[&bin_dir()]));
    eprintln!("{} binaries agree with `go version -m`", binaries.len());
}

#[test]
fn json_carries_modules_and_build_settings() {
    let (Some(modified), Some(nocgo), Some(trimmed)) = (
        binary("render", Variant::ModifiedCheckout),
        binary("render", Variant::NoCgo),
        binary("render", Variant::Trimpath),
    ) else {
        return;
    };
    let out = common::runbom()
        .args(["inventory", "--format", "json"])
        .args([&modified, &nocgo, &trimmed])
        .output()
        .expect("runbom inventory");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["schema"], "runbom.go-inventory/v1");
    let setting = |i: usize, key: &str| {
        json["binaries"][i]["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .map(|s| s["value"].as_str().unwrap().to_owned())
    };
    let by_file = |path: &Path| {
        json["binaries"]
            .as_array()
            .unwrap()
            .iter()
            .position(|b| b["file"] == path.to_str().unwrap())
            .unwrap()
    };
    let (m, n, t) = (by_file(&modified), by_file(&nocgo), by_file(&trimmed));
    assert_eq!(setting(m, "vcs"), Some("git".to_owned()));
    assert_eq!(setting(m, "vcs.modified"), Some("true".to_owned()));
    assert_eq!(setting(m, "vcs.revision").map(|r| r.len()), Some(40));
    assert_eq!(setting(n, "CGO_ENABLED"), Some("0".to_owned()));
    assert_eq!(setting(t, "-trimpath"), Some("true".to_owned()));
    let deps = json["binaries"][n]["deps"].as_array().unwrap();
    assert_eq!(deps[0]["path"], "golang.org/x/net");
    assert_eq!(deps[0]["version"], "v0.7.0");
    assert_eq!(json["binaries"][n]["main"]["version"], "(devel)");
}

#[test]
fn bad_input_is_named_and_never_a_panic() {
    let Some(good) = binary("escape", Variant::Plain) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let truncated = dir.path().join("truncated");
    let bytes = std::fs::read(&good).expect("binary");
    std::fs::write(&truncated, &bytes[..4096]).expect("truncated");
    let huge = dir.path().join("huge");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(2 << 30))
        .expect("sparse 2 GiB file");
    let c_program = PathBuf::from("/bin/ls");
    for (path, says) in [
        (&truncated, "not an executable runbom reads"),
        (&c_program, "no Go build information"),
        (&huge, "more than the 1073741824 runbom reads"),
        (&dir.path().join("missing"), "cannot read"),
    ] {
        let (stdout, stderr, code) = runbom_inventory(&[path]);
        assert_eq!(code, Some(2), "{}: {stderr}", path.display());
        assert!(stdout.is_empty());
        assert!(
            stderr.contains(&format!("`{}`", path.display())),
            "{stderr}"
        );
        assert!(stderr.contains(says), "{stderr}");
    }
    // Under a directory: the good one listed, the truncated one a warning, the rest skipped,
    // and a symbolic link loop followed no further than once.
    std::fs::remove_file(&huge).expect("rm");
    std::fs::copy(&good, dir.path().join("good")).expect("copy");
    std::fs::copy(&c_program, dir.path().join("ls")).expect("copy");
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).expect("symlink");
    // Two links naming each other: a loop no file is at the end of.
    std::os::unix::fs::symlink("round-b", dir.path().join("round-a")).expect("symlink");
    std::os::unix::fs::symlink("round-a", dir.path().join("round-b")).expect("symlink");
    let (stdout, stderr, code) = runbom_inventory(&[dir.path()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.matches(": go1").count(), 1, "{stdout}");
    assert!(
        stderr.contains("warning: `") && stderr.contains("truncated`"),
        "{stderr}"
    );
    let round_a = dir.path().join("round-a");
    assert!(
        stderr.contains(&format!(
            "warning: `{}`: a loop of symbolic links, skipped",
            round_a.display()
        )),
        "{stderr}"
    );
    // Named, the loop is an error naming it.
    let (_, stderr, code) = runbom_inventory(&[&round_a]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("`{}`", round_a.display())) && stderr.contains("symbolic links"),
        "{stderr}"
    );
}

/// esbuild 0.28.2's release binary carries no build information blob: `go version -m` and
/// govulncheck cannot read it, runbom recovers it from the runtime's module text. The expected
/// modules are esbuild's `go.mod` at v0.28.2 (its one dependency, golang.org/x/sys).
#[test]
fn a_release_binary_without_a_buildinfo_blob_is_still_read() {
    let Some(esbuild) = common::go::esbuild("0.28.2") else {
        return;
    };
    let out = Command::new("go")
        .args(["version", "-m"])
        .arg(&esbuild)
        .output()
        .expect("go version -m");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a Go executable"),
        "go version -m reads it now: the test's premise is gone"
    );
    let (stdout, stderr, code) = runbom_inventory(&[&esbuild]);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().take(4).collect();
    assert_eq!(
        lines,
        [
            format!("{}: go1.26.5", esbuild.display()).as_str(),
            "\tpath\tgithub.com/evanw/esbuild/cmd/esbuild",
            "\tmod\tgithub.com/evanw/esbuild\t(devel)\t",
            "\tdep\tgolang.org/x/sys\tv0.0.0-20220715151400-c0bba94af5f8\th1:0A+M6Uqn+Eje4kHMK80dtF3JCXC4ykBgQG4Fe06QRhQ=",
        ]
    );
    assert!(stdout.contains("\tbuild\tGOOS=linux\n"), "{stdout}");
    assert!(
        stderr.contains("has no Go build information blob"),
        "{stderr}"
    );
    let json = common::runbom()
        .args(["inventory", "--format", "json"])
        .arg(&esbuild)
        .output()
        .expect("runbom inventory");
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(json["binaries"][0]["recovered"], true, "{json:#}");
}
