//! `runbom policy lint` end to end: a valid template, an invalid file with carets, a missing file.

use assert_cmd::Command;

fn runbom() -> Command {
    let mut cmd = Command::cargo_bin("runbom").expect("binary built");
    cmd.env("NO_COLOR", "1");
    cmd
}

#[test]
fn template_passes_lint() {
    let template = concat!(env!("CARGO_MANIFEST_DIR"), "/../../runbom.template.toml");
    runbom()
        .args(["policy", "lint", "--config", template])
        .assert()
        .success();
}

#[test]
fn invalid_config_exits_2_with_every_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("runbom.toml");
    std::fs::write(
        &path,
        "[licenses]\nallow = [\"MTI\"]\n[versions]\nminimum = [{ name = \"a\", version = \"x\" }]\nfoo = 1\n",
    )
    .expect("write");
    let out = runbom()
        .current_dir(dir.path())
        .args(["policy", "lint"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("runbom.toml:2:11"), "{stderr}");
    assert!(stderr.contains("unknown key `foo`"), "{stderr}");
    assert!(stderr.contains("`x` is not a PEP 440 version"), "{stderr}");
    assert!(stderr.contains("has 3 problems"), "{stderr}");
}

#[test]
fn missing_config_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = runbom()
        .current_dir(dir.path())
        .args(["policy", "lint", "--config", "nope.toml"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config `nope.toml`"));
}
