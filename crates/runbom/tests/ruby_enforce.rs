//! Ruby enforcement end to end, on Debian's real gems (`ruby-sinatra`, `ruby-rack`,
//! `ruby-webrick`, which `scripts/test` installs) and the Sinatra app's real `Gemfile.lock`:
//! enforced against it the app prints what it prints bare; a gem it does not list (`webrick`) is
//! refused with the message and the report's `refusals[]`, or only reported in monitor mode; a
//! file of a listed gem changed after the table was written is refused; a bad table gets the fail
//! policy; and `RUBYOPT` break glass turns it off and says so.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;

use common::{run_reported, runbom, text};

const SINATRA_APP: &str = r#"
require 'sinatra/base'
require 'rack/mock'

class Hello < Sinatra::Base
  get('/hello/:name') { "hello #{params[:name]}" }
end

puts Rack::MockRequest.new(Hello).get('/hello/ruby').body
"#;

/// Requires webrick, which the lockfile does not list, and says what happened.
const EXTRA_GEM: &str = r#"
require 'rack'
begin
  require 'webrick'
  puts 'loaded webrick'
rescue LoadError => e
  puts "LoadError: #{e.message}"
end
"#;

fn ruby_with_gems() -> bool {
    let found = Command::new("ruby")
        .args(["-e", "require 'sinatra/base'; require 'webrick'"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "skipped: no ruby with ruby-sinatra and ruby-webrick (scripts/test installs them)"
        );
    }
    found
}

fn lockfile(dir: &Path) -> PathBuf {
    let lock = dir.join("Gemfile.lock");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../runbom-sources/testdata/gemfile-lock/sinatra.Gemfile.lock"),
        &lock,
    )
    .expect("present");
    lock
}

fn enforced(dir: &Path, script: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, Value) {
    fs::write(dir.join("app.rb"), script).expect("the test can write and run");
    let lock = lockfile(dir);
    let mut args = vec!["--enforce", lock.to_str().expect("a UTF-8 temporary path")];
    args.extend_from_slice(extra);
    run_reported(dir, &args, &["ruby", "app.rb"], env, &[])
}

#[test]
fn a_sinatra_app_enforced_against_its_own_lockfile_behaves_as_bare() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("app.rb"), SINATRA_APP).unwrap();
    let bare = Command::new("ruby")
        .arg("app.rb")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let (out, report) = enforced(dir.path(), SINATRA_APP, &[], &[]);
    assert_eq!(text(&out.stdout), text(&bare.stdout));
    assert_eq!(text(&out.stdout), "hello ruby\n");
    assert_eq!(out.status.code(), bare.status.code());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("runbom: enforcing"), "{stderr}");
    assert!(
        report["refusals"].as_array().is_none_or(Vec::is_empty),
        "{stderr}"
    );
    assert_eq!(report["enforcement"][0]["state"], "active");
    assert_eq!(report["enforcement"][0]["mode"], "enforce");
}

#[test]
fn a_gem_the_lockfile_does_not_list_is_refused_or_in_monitor_reported() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = enforced(dir.path(), EXTRA_GEM, &[], &[]);
    let stdout = text(&out.stdout);
    let lock = dir.path().join("Gemfile.lock");
    assert!(
        stdout.starts_with(&format!(
            "LoadError: runbom: refused require of `webrick` (webrick 1.8.1, \
             /usr/share/rubygems-integration/all/gems/webrick-1.8.1/lib/webrick.rb): not in the \
             expected inventory `{}` [rule `listed`, on by default]",
            lock.display()
        )),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    let refusal = &report["refusals"][0];
    assert_eq!(refusal["module"], "webrick");
    assert_eq!(refusal["distribution"], "webrick");
    assert_eq!(refusal["rule"], "listed");
    assert_eq!(refusal["enforced"], true);
    assert_eq!(
        refusal["importer"],
        dir.path().join("app.rb").display().to_string()
    );

    let (out, report) = enforced(dir.path(), EXTRA_GEM, &["--mode", "monitor"], &[]);
    assert_eq!(text(&out.stdout), "loaded webrick\n");
    assert_eq!(report["refusals"][0]["module"], "webrick");
    assert_eq!(report["refusals"][0]["enforced"], false);
    assert_eq!(report["enforcement"][0]["mode"], "monitor");
}

#[test]
fn a_file_of_a_listed_gem_changed_after_the_table_was_written_is_refused() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A gem of its own, in a `GEM_PATH` directory of the test's, that the lockfile lists.
    let gems = dir.path().join("gems");
    let lib = gems.join("gems/tiny-1.0/lib");
    fs::create_dir_all(&lib).unwrap();
    fs::create_dir_all(gems.join("specifications")).unwrap();
    fs::write(
        lib.join("tiny.rb"),
        "module Tiny; def self.hi = 'hi'; end\n",
    )
    .unwrap();
    fs::write(
        gems.join("specifications/tiny-1.0.gemspec"),
        "Gem::Specification.new do |s|\n  s.name = 'tiny'\n  s.version = '1.0'\n  \
         s.summary = 'tiny'\n  s.authors = ['t']\n  s.files = ['lib/tiny.rb']\n  \
         s.require_paths = ['lib']\nend\n",
    )
    .unwrap();
    let script = format!(
        "File.open('{}', 'a') {{ |f| f.write(' ') }}\n\
         begin\n  require 'tiny'\n  puts Tiny.hi\nrescue LoadError => e\n  puts \"LoadError: #{{e.message}}\"\nend\n",
        lib.join("tiny.rb").display()
    );
    let gem_path = gems.display().to_string();
    fs::write(dir.path().join("app.rb"), &script).unwrap();
    let lock_text = fs::read_to_string(lockfile(dir.path()))
        .unwrap()
        .replace("    tilt (2.0.11)\n", "    tilt (2.0.11)\n    tiny (1.0)\n");
    fs::write(dir.path().join("Gemfile.lock"), lock_text).unwrap();
    let report = dir.path().join("report.json");
    let out = runbom()
        .current_dir(dir.path())
        .args(["run", "--enforce", "Gemfile.lock", "--report"])
        .arg(&report)
        .args(["--", "ruby", "app.rb"])
        .env("GEM_PATH", &gem_path)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("LoadError: runbom: refused require of `tiny` (tiny 1.0, ")
            && stdout.contains(
                "it changed since the table was written (size, mtime or inode differ) \
                 [rule `integrity`, on by default]"
            ),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let report: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["refusals"][0]["rule"], "integrity");
}

#[test]
fn a_bad_table_gets_the_fail_policy_and_break_glass_turns_enforcement_off() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = enforced(dir.path(), EXTRA_GEM, &[], &[("RUNBOM_ENFORCE", "off")]);
    assert_eq!(text(&out.stdout), "loaded webrick\n");
    assert!(
        text(&out.stderr).contains("runbom: enforcement is off for this run (RUNBOM_ENFORCE=off)")
    );
    assert_eq!(report["enforcement"][0]["state"], "off");

    // The hook itself, given a truncated table, under each fail policy.
    let hook = dir.path().join(runbom_ecosystems::ruby::HOOK_FILE_NAME);
    fs::write(&hook, runbom_ecosystems::ruby::HOOK_SOURCE).unwrap();
    fs::write(
        dir.path().join(runbom_ecosystems::ruby::ENFORCE_FILE_NAME),
        runbom_ecosystems::ruby::ENFORCE_SOURCE,
    )
    .unwrap();
    let table = dir.path().join("enforce.tsv");
    fs::write(&table, "runbom-enforce/1\nmode\tenforce\n").unwrap();
    let hooked = |fail: &str| {
        Command::new("ruby")
            .arg(format!("-r{}", hook.display()))
            .args(["-e", "puts 'ran'"])
            .env("RUNBOM_ENFORCE_TABLE", &table)
            .env("RUNBOM_ENFORCE_FAIL", fail)
            .env("RUNBOM_SESSION_DIR", dir.path())
            .output()
            .unwrap()
    };
    let open = hooked("open");
    assert_eq!(text(&open.stdout), "ran\n");
    assert!(
        text(&open.stderr).starts_with(&format!(
            "runbom: warning: enforcement is off: `{}` is truncated",
            table.display()
        )),
        "{}",
        text(&open.stderr)
    );
    let closed = hooked("closed");
    assert_eq!(text(&closed.stdout), "");
    assert_eq!(closed.status.code(), Some(78));
    assert!(
        text(&closed.stderr).starts_with("runbom: error: the program was not started: "),
        "{}",
        text(&closed.stderr)
    );

    // The enforcing half missing beside the hook is a table that cannot be loaded.
    fs::write(&table, "runbom-enforce/1\nend\t1\n").unwrap();
    fs::remove_file(dir.path().join(runbom_ecosystems::ruby::ENFORCE_FILE_NAME)).unwrap();
    let closed = hooked("closed");
    assert_eq!(closed.status.code(), Some(78));
    assert!(
        text(&closed.stderr)
            .starts_with("runbom: error: the program was not started: cannot load `")
            && text(&closed.stderr).contains("runbom_enforce.rb`: LoadError"),
        "{}",
        text(&closed.stderr)
    );
}

/// `runbom hook install --ruby DIR --enforce Gemfile.lock`: a service started with the
/// environment file's variables, as systemd would, is enforced.
#[test]
fn an_installed_ruby_hook_enforces_its_lockfile() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lock = lockfile(dir.path());
    let hook_dir = dir.path().join("hook");
    let install = runbom()
        .args(["hook", "install", "--ruby"])
        .arg(&hook_dir)
        .arg("--enforce")
        .arg(&lock)
        .env_remove("RUBYOPT")
        .output()
        .unwrap();
    assert!(install.status.success(), "{}", text(&install.stderr));
    let env = fs::read_to_string(hook_dir.join("runbom.env")).unwrap();
    assert!(
        env.contains(&format!(
            "RUNBOM_ENFORCE_TABLE={}\n",
            hook_dir.join("enforce.tsv").display()
        )),
        "{env}"
    );
    fs::write(dir.path().join("app.rb"), EXTRA_GEM).unwrap();
    let mut service = Command::new("ruby");
    service.current_dir(dir.path()).arg("app.rb");
    for line in env.lines() {
        let (name, value) = line.split_once('=').unwrap();
        service.env(name, value);
    }
    let out = service.output().unwrap();
    assert!(
        text(&out.stdout).starts_with("LoadError: runbom: refused require of `webrick`"),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A gem that is only a native extension (Debian's `ruby-sdbm`: `sdbm.so`, no Ruby file) compiles
/// no Ruby, so the TracePoint never sees it: the `require` the hook prepends to Kernel refuses it.
#[test]
fn a_native_extension_of_a_gem_the_lockfile_does_not_list_is_refused() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = "begin\n  require 'sdbm'\n  puts 'loaded sdbm'\nrescue LoadError => e\n  \
                  puts \"LoadError: #{e.message}\"\nend\n";
    let (out, report) = enforced(dir.path(), script, &[], &[]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("LoadError: runbom: refused require of `sdbm` (sdbm ")
            && stdout.contains("/sdbm.so): not in the expected inventory"),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let refusal = &report["refusals"][0];
    assert_eq!(refusal["distribution"], "sdbm");
    assert!(
        refusal["file"].as_str().unwrap().ends_with("/sdbm.so"),
        "{refusal}"
    );
    let (out, report) = enforced(dir.path(), script, &["--mode", "monitor"], &[]);
    assert_eq!(text(&out.stdout), "loaded sdbm\n");
    assert_eq!(report["refusals"][0]["enforced"], false);
}

/// Debian's `ruby-tilt` has a gemspec but its code in Ruby's `vendor_ruby`, not a gem directory:
/// its files are the gem's, held to the rules, not Ruby's library.
#[test]
fn a_debian_gem_in_vendor_ruby_the_lockfile_does_not_list_is_refused() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = "begin\n  require 'tilt'\n  puts 'loaded tilt'\nrescue LoadError => e\n  \
                  puts \"LoadError: #{e.message}\"\nend\n";
    fs::write(dir.path().join("app.rb"), script).unwrap();
    let lock = lockfile(dir.path());
    let unlisted = fs::read_to_string(&lock)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("tilt"))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let other = dir.path().join("without-tilt.lock");
    fs::write(&other, unlisted).unwrap();
    let run = |lock: &Path| {
        runbom()
            .current_dir(dir.path())
            .arg("run")
            .arg("--enforce")
            .arg(lock)
            .args(["--", "ruby", "app.rb"])
            .output()
            .unwrap()
    };
    let out = run(&other);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("LoadError: runbom: refused require of `tilt` (tilt ")
            && stdout.contains("/vendor_ruby/tilt.rb): not in the expected inventory"),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(text(&run(&lock).stdout), "loaded tilt\n");
}
