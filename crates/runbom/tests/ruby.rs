//! Ruby end to end, on Debian's real gems (`ruby-sinatra`, `ruby-rack`, `ruby-webrick`, `rake`,
//! which `scripts/test` installs): `runbom inventory --ruby` against `gem list`, and
//! `runbom run` of a Sinatra app, a Rack app served by WEBrick answering a request to itself,
//! and a gem executable (`rake`), each held against an oracle the program itself writes at exit
//! (`Gem.loaded_specs`, `$LOADED_FEATURES`); and a hook that cannot write, or a program under
//! `--enable-frozen-string-literal`, leaves the program's output and exit status as they were.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::Value;

mod common;

use common::runbom;

/// Whether Ruby and Debian's gems are here; the test says why it is skipped when not.
fn ruby_with_gems() -> bool {
    let found = Process::new("ruby")
        .args([
            "-e",
            "require 'sinatra/base'; require 'rack'; require 'webrick'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "skipped: no ruby with ruby-sinatra, ruby-rack and ruby-webrick (scripts/test installs them)"
        );
    }
    found
}

/// An oracle loaded after the hook (`RUBYOPT=-r…`): at exit, before the hook's last write, it
/// dumps `Gem.loaded_specs` (`name version`) and the absolute `$LOADED_FEATURES`.
const ORACLE: &str = r#"
at_exit do
  File.open(ENV.fetch('ORACLE_OUT'), 'w') do |f|
    Gem.loaded_specs.each_value { |s| f.puts "gem #{s.name} #{s.version}" }
    $LOADED_FEATURES.each { |p| f.puts "file #{p}" if p.start_with?('/') }
  end
end
"#;

const SINATRA_APP: &str = r#"
require 'sinatra/base'
require 'rack/mock'

class Hello < Sinatra::Base
  get('/hello/:name') { "hello #{params[:name]}" }
end

puts Rack::MockRequest.new(Hello).get('/hello/ruby').body
"#;

const RACK_APP: &str = r#"
require 'rack'
require 'rack/handler/webrick'
require 'net/http'

app = Rack::Builder.new do
  use Rack::ContentLength
  run ->(_env) { [200, { 'content-type' => 'text/plain' }, ['rack ok']] }
end
server = nil
thread = Thread.new do
  Rack::Handler::WEBrick.run(app, Host: '127.0.0.1', Port: 0,
                             Logger: WEBrick::Log.new(File::NULL), AccessLog: []) { |s| server = s }
end
sleep 0.01 until server && server.status == :Running
port = server.listeners.first.addr[1]
puts Net::HTTP.get(URI("http://127.0.0.1:#{port}/"))
server.shutdown
thread.join
"#;

struct Oracle {
    gems: BTreeSet<String>,
    files: BTreeSet<PathBuf>,
    /// Who owns each loaded file of a gem's directory or of Ruby's `vendor_ruby`, as
    /// `testdata/ruby/loaded_owners.rb` says (`name version`, or `none`).
    owners: BTreeMap<PathBuf, String>,
}

/// The oracle that maps loaded files to gems, independently of runbom.
const LOADED_OWNERS: &str = include_str!("../testdata/ruby/loaded_owners.rb");

fn read_oracle(path: &Path) -> Oracle {
    let text = std::fs::read_to_string(path).expect("the program wrote its oracle");
    let mut oracle = Oracle {
        gems: BTreeSet::new(),
        files: BTreeSet::new(),
        owners: BTreeMap::new(),
    };
    for line in text.lines() {
        if let Some(gem) = line.strip_prefix("gem ") {
            oracle.gems.insert(gem.to_owned());
        } else if let Some(file) = line.strip_prefix("file ") {
            oracle.files.insert(file.into());
        }
    }
    oracle.owners = loaded_owners(&oracle.files);
    oracle
}

/// Runs `loaded_owners.rb` over `files`.
fn loaded_owners(files: &BTreeSet<PathBuf>) -> BTreeMap<PathBuf, String> {
    let mut child = Process::new("ruby")
        .args(["-e", LOADED_OWNERS])
        .env_remove("RUBYOPT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("present");
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut stdin = child.stdin.take().expect("present");
    std::io::Write::write_all(&mut stdin, names.join("\n").as_bytes()).expect("present");
    drop(stdin);
    let out = child.wait_with_output().expect("present");
    assert!(out.status.success(), "loaded_owners.rb failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(file, owner)| (PathBuf::from(file), owner.to_owned()))
        .collect()
}

/// Runs `command` under `runbom run --report` in `dir` with the oracle loaded; returns the
/// program's stdout, the report and the oracle.
fn run_observed(dir: &Path, command: &[&str]) -> (String, Value, Oracle) {
    let oracle_rb = dir.join("oracle.rb");
    std::fs::write(&oracle_rb, ORACLE).expect("present");
    let report = dir.join("report.json");
    let oracle_out = dir.join("oracle.txt");
    let out = runbom()
        .current_dir(dir)
        .env("RUBYOPT", format!("-r{}", oracle_rb.display()))
        .env("ORACLE_OUT", &oracle_out)
        .arg("run")
        .arg("--report")
        .arg(&report)
        .arg("--")
        .args(command)
        .output()
        .expect("present");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{command:?}: {stderr}");
    assert!(!stderr.contains("ruby hook disabled"), "{stderr}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("present")).expect("present");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        report,
        read_oracle(&oracle_out),
    )
}

/// `name version` of every gem the report lists as loaded.
fn loaded_gems(report: &Value) -> BTreeSet<String> {
    report["distributions"]
        .as_array()
        .expect("present")
        .iter()
        .filter(|d| !d["modules"].as_array().expect("present").is_empty())
        .map(|d| {
            assert_eq!(d["ecosystem"], "RubyGems");
            assert!(d["purl"].as_str().expect("present").starts_with("pkg:gem/"));
            format!(
                "{} {}",
                d["name"].as_str().expect("present"),
                d["version"].as_str().expect("present")
            )
        })
        .collect()
}

/// Every file of the report: those of gems, and unowned ones.
fn reported_files(report: &Value) -> BTreeSet<PathBuf> {
    let gems = report["distributions"].as_array().expect("present").iter();
    gems.flat_map(|d| d["modules"].as_array().expect("present").iter())
        .chain(report["unowned_modules"].as_array().expect("present"))
        .filter_map(|m| m["file"].as_str().map(PathBuf::from))
        .collect()
}

/// `name version` of the gem the report puts each gem file under.
fn reported_owners(report: &Value) -> BTreeMap<PathBuf, String> {
    let mut owners = BTreeMap::new();
    for dist in report["distributions"].as_array().expect("present") {
        let owner = format!(
            "{} {}",
            dist["name"].as_str().expect("present"),
            dist["version"].as_str().expect("present")
        );
        for module in dist["modules"].as_array().expect("present") {
            if let Some(file) = module["file"].as_str() {
                owners.insert(PathBuf::from(file), owner.clone());
            }
        }
    }
    owners
}

/// RubyGems itself: Debian's `ruby-rubygems` ships `rubygems-update`'s gemspec, so the oracle
/// names that gem; runbom counts RubyGems with Ruby's library, as it is loaded before any program
/// (attributing it would need verify and enforce to take it for part of the interpreter, as
/// they take default gems).
const RUBYGEMS_ITSELF: &str = "rubygems-update ";

fn assert_matches_oracle(report: &Value, oracle: &Oracle, must_load: &[&str]) {
    assert_eq!(report["interpreter"]["language"], "ruby");
    // Gems activated, and gems whose files were required without activating them (Debian's
    // `vendor_ruby` is on `$LOAD_PATH`).
    let owning = oracle.owners.values().filter(|o| is_gem_owner(o)).cloned();
    let expected: BTreeSet<String> = oracle.gems.iter().cloned().chain(owning).collect();
    let loaded = loaded_gems(report);
    assert_eq!(
        loaded, expected,
        "loaded gems: runbom vs Gem.loaded_specs and the files' owners"
    );
    for gem in must_load {
        assert!(
            loaded.iter().any(|g| g.starts_with(&format!("{gem} "))),
            "{gem} in {loaded:?}"
        );
    }
    let files = reported_files(report);
    let reported = reported_owners(report);
    let wrong: Vec<String> = oracle
        .owners
        .iter()
        .filter_map(|(file, owner)| {
            let got = reported.get(file);
            let right = if is_gem_owner(owner) {
                got == Some(owner)
            } else {
                got.is_none() && !files.contains(file)
            };
            (!right).then(|| format!("{}: oracle {owner}, runbom {got:?}", file.display()))
        })
        .collect();
    assert!(wrong.is_empty(), "owners of loaded files: {wrong:#?}");
}

/// An oracle owner that runbom must report as a gem.
fn is_gem_owner(owner: &str) -> bool {
    owner != "none" && !owner.starts_with(RUBYGEMS_ITSELF)
}

#[test]
fn a_sinatra_app_loads_what_its_oracle_says() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(dir.path().join("app.rb"), SINATRA_APP).expect("present");
    let (stdout, report, oracle) = run_observed(dir.path(), &["ruby", "app.rb"]);
    assert_eq!(stdout, "hello ruby\n");
    assert_matches_oracle(
        &report,
        &oracle,
        &["sinatra", "rack", "rack-protection", "mustermann", "tilt"],
    );
    assert_eq!(report["exit_code"], 0);
    let unowned: Vec<&str> = report["unowned_modules"]
        .as_array()
        .expect("present")
        .iter()
        .map(|m| m["name"].as_str().expect("present"))
        .collect();
    assert_eq!(unowned.len(), 2, "the app and the oracle: {unowned:?}");
    assert!(unowned.contains(&"__main__"), "{unowned:?}");
    assert!(
        unowned.iter().any(|m| m.ends_with("/oracle")),
        "{unowned:?}"
    );

    // The app's lockfile, as Bundler wrote it for Debian's gems: clean (notes only), and a
    // drift once it pins another rack.
    let lock = dir.path().join("Gemfile.lock");
    std::fs::copy(lockfile("sinatra.Gemfile.lock"), &lock).expect("present");
    let report_path = dir.path().join("report.json");
    let verify = |lock: &Path| {
        runbom()
            .arg("verify")
            .arg("--expected")
            .arg(lock)
            .arg("--runtime")
            .arg(&report_path)
            .args(["--format", "json"])
            .output()
            .expect("present")
    };
    let clean = verify(&lock);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    let findings: Value = serde_json::from_slice(&clean.stdout).expect("present");
    let failing: Vec<&Value> = findings["findings"]
        .as_array()
        .expect("present")
        .iter()
        .filter(|f| f["level"] != "note")
        .collect();
    assert!(failing.is_empty(), "{failing:?}");
    let text = std::fs::read_to_string(&lock).expect("present");
    let drifted = dir.path().join("drifted.Gemfile.lock");
    std::fs::write(
        &drifted,
        text.replace("    rack (2.2.22)", "    rack (2.2.21)"),
    )
    .expect("present");
    let drift = verify(&drifted);
    assert_eq!(drift.status.code(), Some(1));
    let findings: Value = serde_json::from_slice(&drift.stdout).expect("present");
    let failing: Vec<String> = findings["findings"]
        .as_array()
        .expect("present")
        .iter()
        .filter(|f| f["level"] != "note")
        .map(|f| format!("{} {} {}", f["code"], f["subject"], f["version"]))
        .collect();
    assert_eq!(failing, ["\"drift\" \"rack\" \"2.2.22\""]);
}

/// Debian's `ruby-tilt` and `ruby-xmlrpc` put their code in Ruby's `vendor_ruby`, which is on
/// `$LOAD_PATH`: a plain `require` loads it without activating the gem, and the files are still
/// the gem's, not Ruby's library. See: issue 16 (`vendor_ruby` in the Ruby report).
#[test]
fn files_required_from_vendor_ruby_without_activation_belong_to_their_gem() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    let script = "require 'tilt'\nrequire 'xmlrpc/client'\nputs Tilt::VERSION\n";
    std::fs::write(dir.path().join("plain.rb"), script).expect("present");
    let (stdout, report, oracle) = run_observed(dir.path(), &["ruby", "plain.rb"]);
    assert_eq!(stdout, "2.0.11\n");
    assert!(
        !oracle.gems.iter().any(|g| g.starts_with("tilt ")),
        "tilt was activated: {:?}",
        oracle.gems
    );
    assert_matches_oracle(&report, &oracle, &["tilt", "xmlrpc"]);
    let tilt = report["distributions"]
        .as_array()
        .expect("present")
        .iter()
        .find(|d| d["name"] == "tilt")
        .expect("present");
    assert_eq!(tilt["modules"][0]["name"], "tilt");
    assert_eq!(
        tilt["modules"][0]["file"],
        "/usr/lib/ruby/vendor_ruby/tilt.rb"
    );
}

/// A lockfile of `runbom-sources/testdata/gemfile-lock`.
fn lockfile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runbom-sources/testdata/gemfile-lock")
        .join(name)
}

#[test]
fn a_rack_app_served_by_webrick_answers_itself_and_loads_what_its_oracle_says() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(dir.path().join("rack_app.rb"), RACK_APP).expect("present");
    let (stdout, report, oracle) = run_observed(dir.path(), &["ruby3.1", "rack_app.rb"]);
    assert_eq!(stdout, "rack ok\n");
    assert_matches_oracle(&report, &oracle, &["rack", "webrick", "net-http"]);
}

#[test]
fn a_gem_executable_is_observed_through_its_shebang() {
    if !ruby_with_gems() || which("rake").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(
        dir.path().join("Rakefile"),
        "require 'set'\ntask(:hello) { puts Set[1, 2].size }\n",
    )
    .expect("present");
    let (stdout, report, oracle) = run_observed(dir.path(), &["rake", "hello"]);
    assert_eq!(stdout, "2\n");
    assert_matches_oracle(&report, &oracle, &["rake", "set"]);
    let argv = report["processes"][0]["argv"].as_array().expect("present");
    assert!(
        argv[0].as_str().expect("present").ends_with("rake"),
        "{argv:?}"
    );
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The program's stdout and exit code, bare and under the hook in `env`.
fn bare_and_hooked(
    dir: &Path,
    script: &str,
    env: &[(&str, &str)],
) -> [(String, Option<i32>, String); 2] {
    let hook_dir = dir.join("hook");
    std::fs::create_dir_all(&hook_dir).expect("present");
    let hook = hook_dir.join(runbom_ecosystems::ruby::HOOK_FILE_NAME);
    std::fs::write(&hook, runbom_ecosystems::ruby::HOOK_SOURCE).expect("present");
    let run = |hooked: bool| {
        let mut command = Process::new("ruby");
        command.current_dir(dir).args(["-e", script]);
        for (name, value) in env {
            command.env(name, value);
        }
        if hooked {
            let user = env
                .iter()
                .find(|(n, _)| *n == "RUBYOPT")
                .map(|(_, v)| *v)
                .unwrap_or("");
            command.env("RUBYOPT", format!("-r{} {user}", hook.display()));
        }
        let out = command.output().expect("present");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    [run(false), run(true)]
}

const BUSY: &str = r#"
require 'set'
s = +"frozen? "
s << 'no'
puts s, Set[3].to_a.inspect
at_exit { puts "bye #{$!.class}" }
exit 3
"#;

#[test]
fn a_hook_that_cannot_write_says_one_line_and_the_program_runs_as_bare() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    let missing = dir.path().join("no/such/session");
    let [bare, hooked] = bare_and_hooked(
        dir.path(),
        BUSY,
        &[("RUNBOM_SESSION_DIR", missing.to_str().expect("present"))],
    );
    assert_eq!(bare.0, "frozen? no\n[3]\nbye SystemExit\n");
    assert_eq!((&hooked.0, hooked.1), (&bare.0, bare.1));
    assert_eq!(bare.1, Some(3));
    let lines: Vec<&str> = hooked.2.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("runbom: ruby hook disabled: Errno::ENOENT"),
        "{lines:?}"
    );
}

#[test]
fn frozen_string_literals_change_nothing() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    let session = dir.path().join("session");
    std::fs::create_dir_all(&session).expect("present");
    let [bare, hooked] = bare_and_hooked(
        dir.path(),
        BUSY,
        &[
            ("RUBYOPT", "--enable-frozen-string-literal"),
            ("RUNBOM_SESSION_DIR", session.to_str().expect("present")),
        ],
    );
    assert_eq!(hooked, bare);
    let written: Vec<PathBuf> = std::fs::read_dir(&session)
        .expect("present")
        .map(|e| e.expect("present").path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let observation: Value =
        serde_json::from_slice(&std::fs::read(&written[0]).expect("present")).expect("present");
    assert_eq!(observation["exited"], true);
    assert!(
        observation["packages"]
            .as_array()
            .expect("present")
            .iter()
            .any(|p| p["name"] == "set")
    );
}

/// `gem list` is the peer of `runbom inventory --ruby`: the same gems, the same versions.
#[test]
fn the_inventory_is_what_gem_list_says() {
    if !ruby_with_gems() {
        return;
    }
    let Ok(gem_list) = Process::new("gem").args(["list", "--local"]).output() else {
        eprintln!("skipped: no `gem`");
        return;
    };
    let mut expected = BTreeSet::new();
    for line in String::from_utf8_lossy(&gem_list.stdout).lines() {
        let Some((name, versions)) = line.split_once(" (") else {
            continue;
        };
        for version in versions.trim_end_matches(')').split(", ") {
            let version = version.trim_start_matches("default: ");
            let version = version.split(' ').next().unwrap_or(version);
            expected.insert(format!("{name} {version}"));
        }
    }
    let out = runbom()
        .args(["inventory", "--ruby", "--format", "json"])
        .output()
        .expect("present");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inventory: Value = serde_json::from_slice(&out.stdout).expect("present");
    assert_eq!(inventory["schema"], "runbom.ruby-inventory/v1");
    let found: BTreeSet<String> = inventory["gems"]
        .as_array()
        .expect("present")
        .iter()
        .map(|g| {
            format!(
                "{} {}",
                g["name"].as_str().expect("present"),
                g["version"].as_str().expect("present")
            )
        })
        .collect();
    assert_eq!(found, expected);
    let rack = inventory["gems"]
        .as_array()
        .expect("present")
        .iter()
        .find(|g| g["name"] == "rack")
        .expect("present");
    assert_eq!(rack["licenses"], serde_json::json!(["MIT"]));
    let table = runbom()
        .args(["inventory", "--ruby"])
        .output()
        .expect("present");
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.lines().nth(1).expect("present").starts_with("NAME "),
        "{table}"
    );
    let listed = inventory["gems"].as_array().expect("present").len();
    assert!(
        table.contains(&format!("{listed} gems, 0 problems")),
        "{table}"
    );
}

/// bundler-audit's rule over the same ruby-advisory-db files, in Ruby itself: a gem's version is
/// vulnerable unless a `patched_versions` or `unaffected_versions` requirement holds for it
/// (`Gem::Requirement`). Reads `name version` lines on stdin, prints `name version file-stem`.
const RUBYSEC_ORACLE: &str = r##"
require 'yaml'
require 'date'
installed = Hash.new { |h, k| h[k] = [] }
STDIN.each_line { |line| name, version = line.split; installed[name] << version }
Dir[File.join(ARGV[0], 'gems', '*', '*.yml')].sort.each do |file|
  advisory = YAML.safe_load(File.read(file), permitted_classes: [Date])
  safe = Array(advisory['patched_versions']) + Array(advisory['unaffected_versions'])
  installed.fetch(advisory['gem'], []).each do |version|
    next if safe.any? { |r| Gem::Requirement.new(*r.split(/,\s*/)).satisfied_by?(Gem::Version.new(version)) }
    puts "#{advisory['gem']} #{version} #{File.basename(file, '.yml')}"
  end
end
"##;

#[test]
fn audit_of_a_sinatra_app_is_what_gem_requirement_says_of_the_same_rubysec_files() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(dir.path().join("app.rb"), SINATRA_APP).expect("present");
    let (_, report, _) = run_observed(dir.path(), &["ruby", "app.rb"]);
    let loaded = loaded_gems(&report);
    assert!(
        loaded.contains("rack 2.2.22"),
        "Debian's ruby-rack: {loaded:?}"
    );

    let zip_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runbom-sources/testdata/advisories/ruby-advisory-db.zip");
    let db = dir.path().join("advisories.db");
    let import = runbom()
        .args(["db", "import"])
        .arg(&zip_path)
        .arg("--db")
        .arg(&db)
        .output()
        .expect("present");
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let audit = runbom()
        .arg("audit")
        .arg("--runtime")
        .arg(dir.path().join("report.json"))
        .arg("--db")
        .arg(&db)
        .args(["--format", "json"])
        .output()
        .expect("present");
    assert_eq!(
        audit.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let audit: Value = serde_json::from_slice(&audit.stdout).expect("present");
    let mut found = BTreeSet::new();
    for finding in audit["findings"].as_array().expect("present") {
        let package = &finding["package"];
        assert_eq!(package["ecosystem"], "RubyGems");
        let name = package["name"].as_str().expect("present");
        let version = package["version"].as_str().expect("present");
        let used = finding["runtime"]["use"].as_str().expect("present");
        let is_loaded = loaded.contains(&format!("{name} {version}"));
        assert_eq!(used == "loaded", is_loaded, "{name} {version}: {used}");
        let prefix = format!("RUBYSEC-{name}-");
        let ids =
            std::iter::once(&finding["id"]).chain(finding["aliases"].as_array().expect("present"));
        for id in ids.filter_map(Value::as_str) {
            if let Some(stem) = id.strip_prefix(&prefix) {
                found.insert(format!("{name} {version} {stem}"));
            }
        }
    }

    // The oracle reads the same files, unpacked.
    let unpacked = dir.path().join("ruby-advisory-db");
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&zip_path).expect("present")).expect("present");
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).expect("present");
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let target = unpacked.join(name);
        std::fs::create_dir_all(target.parent().expect("present")).expect("present");
        let mut out = std::fs::File::create(&target).expect("present");
        std::io::copy(&mut entry, &mut out).expect("present");
    }
    let mut oracle = Process::new("ruby")
        .args(["-e", RUBYSEC_ORACLE])
        .arg(&unpacked)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("present");
    {
        use std::io::Write;
        let mut stdin = oracle.stdin.take().expect("present");
        for gem in report["distributions"].as_array().expect("present") {
            let (name, version) = (&gem["name"], &gem["version"]);
            let (name, version) = (
                name.as_str().expect("present"),
                version.as_str().expect("present"),
            );
            writeln!(stdin, "{name} {version}").expect("present");
        }
    }
    let oracle = oracle.wait_with_output().expect("present");
    assert!(oracle.status.success());
    let expected: BTreeSet<String> = String::from_utf8_lossy(&oracle.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(
        expected.iter().any(|a| a.starts_with("rack 2.2.22 ")),
        "{expected:?}"
    );
    assert_eq!(
        found, expected,
        "runbom audit vs Gem::Requirement over the same files"
    );
}

#[test]
fn an_sbom_of_a_ruby_run_lists_its_loaded_gems_as_pkg_gem() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(dir.path().join("app.rb"), SINATRA_APP).expect("present");
    let (_, report, _) = run_observed(dir.path(), &["ruby", "app.rb"]);
    let sbom = runbom()
        .arg("sbom")
        .arg("--runtime")
        .arg(dir.path().join("report.json"))
        .args(["--format", "cyclonedx-json"])
        .output()
        .expect("present");
    assert!(
        sbom.status.success(),
        "{}",
        String::from_utf8_lossy(&sbom.stderr)
    );
    let sbom: Value = serde_json::from_slice(&sbom.stdout).expect("present");
    let purls: BTreeSet<String> = sbom["components"]
        .as_array()
        .expect("present")
        .iter()
        .filter_map(|c| c["purl"].as_str().map(str::to_owned))
        .collect();
    let loaded: BTreeSet<String> = report["distributions"]
        .as_array()
        .expect("present")
        .iter()
        .filter(|d| !d["modules"].as_array().expect("present").is_empty())
        .map(|d| d["purl"].as_str().expect("present").to_owned())
        .collect();
    assert_eq!(purls, loaded);
    assert!(purls.contains("pkg:gem/rack@2.2.22"), "{purls:?}");
    let rack = sbom["components"]
        .as_array()
        .expect("present")
        .iter()
        .find(|c| c["purl"] == "pkg:gem/rack@2.2.22")
        .expect("rack");
    assert!(rack["licenses"].to_string().contains("MIT"), "{rack}");
}

#[test]
fn an_installed_ruby_hook_is_flushed_into_a_report_of_its_gems() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    let hook_dir = dir.path().join("hook");
    let install = runbom()
        .args(["hook", "install", "--app", "shop", "--ruby"])
        .arg(&hook_dir)
        .env_remove("RUBYOPT")
        .output()
        .expect("present");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let unit = String::from_utf8_lossy(&install.stdout).into_owned();
    assert!(
        unit.contains(&format!(
            "EnvironmentFile={}",
            hook_dir.join("runbom.env").display()
        )),
        "{unit}"
    );
    let flush_line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStopPost="))
        .expect("a flush line");
    // The service, started with the environment file's variables, as systemd would.
    let env = std::fs::read_to_string(hook_dir.join("runbom.env")).expect("present");
    let mut service = Process::new("ruby");
    service.current_dir(dir.path()).arg("app.rb");
    for line in env.lines() {
        let (name, value) = line.split_once('=').expect("NAME=value");
        service.env(name, value);
    }
    std::fs::write(dir.path().join("app.rb"), SINATRA_APP).expect("present");
    let out = service.output().expect("present");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello ruby\n");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Then ExecStopPost.
    let words: Vec<&str> = flush_line.split_whitespace().collect();
    let flush = runbom().args(&words[1..]).output().expect("present");
    assert!(
        flush.status.success(),
        "{}",
        String::from_utf8_lossy(&flush.stderr)
    );
    let reports: Vec<PathBuf> = std::fs::read_dir(hook_dir.join("reports"))
        .expect("present")
        .map(|e| e.expect("present").path())
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&reports[0]).expect("present")).expect("present");
    assert_eq!(report["app"], "shop");
    assert_eq!(report["complete"], true);
    assert_eq!(report["interpreter"]["language"], "ruby");
    let loaded = loaded_gems(&report);
    assert!(
        loaded.contains("sinatra 3.0.5") && loaded.contains("rack 2.2.22"),
        "{loaded:?}"
    );
}

#[test]
fn bundle_exec_of_a_sinatra_app_is_its_oracle_and_verifies_clean_against_its_lockfile() {
    if !ruby_with_gems() || which("bundle").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(dir.path().join("app.rb"), SINATRA_APP).expect("present");
    std::fs::write(
        dir.path().join("Gemfile"),
        "source 'https://rubygems.org'\ngem 'sinatra'\n",
    )
    .expect("present");
    let lock = dir.path().join("Gemfile.lock");
    std::fs::copy(lockfile("sinatra.Gemfile.lock"), &lock).expect("present");
    let (stdout, report, oracle) = run_observed(dir.path(), &["bundle", "exec", "ruby", "app.rb"]);
    assert_eq!(stdout, "hello ruby\n");
    // Under Bundler, `Gem.loaded_specs` is the bundle: default gems whose files load from Ruby's
    // own library (`set`, `uri` …) are not activated, but their code ran, so runbom lists them
    // loaded. Everything else is exactly the oracle's.
    let loaded = loaded_gems(&report);
    let default_gems: BTreeSet<String> = report["distributions"]
        .as_array()
        .expect("present")
        .iter()
        .filter(|d| {
            d["location"]
                .as_str()
                .is_some_and(|l| l.contains("/specifications/default/"))
        })
        .map(|d| {
            format!(
                "{} {}",
                d["name"].as_str().expect("present"),
                d["version"].as_str().expect("present")
            )
        })
        .collect();
    let activated_or_default: BTreeSet<String> = loaded
        .iter()
        .filter(|g| oracle.gems.contains(*g) || default_gems.contains(*g))
        .cloned()
        .collect();
    assert_eq!(
        activated_or_default, loaded,
        "only default gems beyond the bundle"
    );
    assert!(
        oracle.gems.is_subset(&loaded),
        "{:?} within {loaded:?}",
        oracle.gems
    );
    assert!(loaded.contains("bundler 2.3.15") && loaded.contains("sinatra 3.0.5"));
    let verify = runbom()
        .arg("verify")
        .arg("--expected")
        .arg(&lock)
        .arg("--runtime")
        .arg(dir.path().join("report.json"))
        .args(["--format", "json"])
        .output()
        .expect("present");
    let findings: Value = serde_json::from_slice(&verify.stdout).expect("present");
    let failing: Vec<&Value> = findings["findings"]
        .as_array()
        .expect("present")
        .iter()
        .filter(|f| f["level"] != "note")
        .collect();
    assert!(failing.is_empty(), "{failing:?}");
    assert_eq!(verify.status.code(), Some(0));
}

#[test]
fn policy_check_of_a_ruby_run_reads_each_gems_licences_from_its_gemspec() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(dir.path().join("app.rb"), SINATRA_APP).expect("present");
    run_observed(dir.path(), &["ruby", "app.rb"]);
    std::fs::write(
        dir.path().join("runbom.toml"),
        "[licenses]\nallow = [\"MIT\", \"BSD-2-Clause\", \"Ruby\", \"BSD-3-Clause\", \"Apache-2.0\"]\n\
         unknown = \"allow\"\n[bans]\ndeny = [\"tilt\"]\n",
    )
    .expect("present");
    let out = runbom()
        .current_dir(dir.path())
        .args([
            "policy",
            "check",
            "--runtime",
            "report.json",
            "--format",
            "json",
        ])
        .output()
        .expect("present");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check: Value = serde_json::from_slice(&out.stdout).expect("present");
    let findings: Vec<String> = check["findings"]
        .as_array()
        .expect("present")
        .iter()
        .map(|f| {
            let c = &f["component"];
            format!(
                "{} {} {}",
                f["code"].as_str().expect("present"),
                c["ecosystem"].as_str().expect("present"),
                c["name"].as_str().expect("present")
            )
        })
        .collect();
    assert_eq!(findings, ["package-banned RubyGems tilt"]);
    let licence_of = |name: &str| {
        check["components"]
            .as_array()
            .expect("present")
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["license"]["spdx"].clone())
    };
    assert_eq!(licence_of("rack"), Some(Value::from("MIT")));
    assert_eq!(
        licence_of("uri"),
        Some(Value::from("(Ruby OR BSD-2-Clause)"))
    );
}

/// `rackup` (Debian's, a gem executable) serving a Rack app under `runbom run`: it answers a
/// request, then stops on a SIGTERM sent to runbom (forwarded to it), and its report is its
/// oracle's.
#[test]
fn rackup_serves_a_request_stops_on_sigterm_and_loads_what_its_oracle_says() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    if !ruby_with_gems() || which("rackup").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("present");
    std::fs::write(
        dir.path().join("config.ru"),
        "run ->(_env) { [200, { 'content-type' => 'text/plain' }, ['from rackup']] }\n",
    )
    .expect("present");
    let oracle_rb = dir.path().join("oracle.rb");
    std::fs::write(&oracle_rb, ORACLE).expect("present");
    let report = dir.path().join("report.json");
    let oracle_out = dir.path().join("oracle.txt");
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("runbom"))
        .current_dir(dir.path())
        .env("RUBYOPT", format!("-r{}", oracle_rb.display()))
        .env("ORACLE_OUT", &oracle_out)
        .arg("run")
        .arg("--report")
        .arg(&report)
        .args(["--", "rackup", "-p", "0", "-o", "127.0.0.1", "config.ru"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("present");
    let mut stderr = BufReader::new(child.stderr.take().expect("present"));
    let mut port = None;
    let mut line = String::new();
    while port.is_none() && stderr.read_line(&mut line).expect("present") > 0 {
        port = line
            .split("port=")
            .nth(1)
            .and_then(|p| p.trim().parse::<u16>().ok());
        line.clear();
    }
    let port = port.expect("WEBrick says its port");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("present");
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .expect("present");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("present");
    assert!(answer.ends_with("from rackup"), "{answer}");
    let killed = Process::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("present");
    assert!(killed.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("present");
    child.wait().expect("present");
    assert!(!rest.contains("ruby hook disabled"), "{rest}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("present")).expect("present");
    let oracle = read_oracle(&oracle_out);
    assert_matches_oracle(&report, &oracle, &["rack", "webrick"]);
    let argv = report["processes"][0]["argv"].as_array().expect("present");
    assert!(
        argv[0].as_str().expect("present").ends_with("rackup"),
        "{argv:?}"
    );
}

/// `runbom` asks a Ruby for its `Gem.path` once: a second inventory takes the cached answer,
/// a different RubyGems environment asks again (a wrapper of `ruby` counts the questions).
#[test]
fn the_interpreters_answer_is_cached_until_its_environment_changes() {
    if !ruby_with_gems() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let calls = dir.path().join("calls");
    let wrapper = dir.path().join("ruby");
    let script = format!(
        "#!/bin/sh\necho asked >> '{}'\nexec ruby \"$@\"\n",
        calls.display()
    );
    // Written by another process, so no descriptor of this one can keep it busy (ETXTBSY).
    let written = Process::new("sh")
        .args(["-c", "printf '%s' \"$1\" > \"$2\" && chmod +x \"$2\"", "sh"])
        .arg(&script)
        .arg(&wrapper)
        .status()
        .expect("sh runs");
    assert!(written.success());
    let inventory = |gem_path: Option<&str>| {
        let mut cmd = runbom();
        cmd.env("RUNBOM_CACHE_DIR", dir.path().join("cache"))
            .env_remove("RUNBOM_NO_CACHE")
            .args(["inventory", "--format", "json", "--ruby"])
            .arg(&wrapper);
        match gem_path {
            Some(path) => cmd.env("GEM_PATH", path),
            None => cmd.env_remove("GEM_PATH"),
        };
        let out = cmd.output().expect("runbom runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let asked = || {
        std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let first = inventory(None);
    assert_eq!(asked(), 1);
    assert_eq!(
        inventory(None),
        first,
        "the cached answer reads the same gems"
    );
    assert_eq!(asked(), 1, "the second inventory did not start Ruby");
    inventory(Some(dir.path().to_str().expect("utf-8")));
    assert_eq!(asked(), 2, "another GEM_PATH is asked again");
}
