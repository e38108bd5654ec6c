//! RubyGems advisory matching held against RubyGems itself: `testdata/ruby/rubysec_matrix.rb`
//! decides, with `Gem::Requirement` and `Gem::Version` from Ruby's standard library, for every
//! gem of the ruby-advisory-db fixture (1,234 records) and every version its advisories name and
//! the versions at their edges (prereleases, `~>` bounds, trailing zeros), whether each advisory
//! applies; runbom's import (`rubysec/yaml` into an OSV range) and its OSV evaluation with
//! RubyGems versions must say the same of every pair. Skipped, saying so, without `ruby`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use runbom_model::Ecosystem;
use runbom_sources::advisories::read_paths;
use runbom_versions::osv::affects;

fn testdata(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(path)
}

/// Unpacks the fixture's zip into `dir` for the Ruby side, which reads plain files.
fn unpack(zip: &Path, dir: &Path) {
    let file = std::fs::File::open(zip).expect("the fixture is present");
    let mut archive = zip::ZipArchive::new(file).expect("a zip");
    archive.extract(dir).expect("unpacked");
}

/// The oracle's answer: every version it asks about per gem, and the vulnerable
/// `(gem, version, advisory file stem)` triples.
struct Matrix {
    versions: BTreeMap<String, Vec<String>>,
    vulnerable: BTreeSet<(String, String, String)>,
}

fn run_oracle(db: &Path) -> Option<Matrix> {
    let out = Command::new("ruby")
        .arg(testdata("ruby/rubysec_matrix.rb"))
        .arg(db)
        .env_remove("RUBYOPT")
        .output();
    let out = match out {
        Ok(out) => out,
        Err(err) => {
            eprintln!("skipped: no `ruby` ({err})");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut matrix = Matrix {
        versions: BTreeMap::new(),
        vulnerable: BTreeSet::new(),
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        match fields[..] {
            ["version", gem, version] => matrix
                .versions
                .entry(gem.to_owned())
                .or_default()
                .push(version.to_owned()),
            ["vulnerable", gem, version, stem] => {
                matrix
                    .vulnerable
                    .insert((gem.to_owned(), version.to_owned(), stem.to_owned()));
            }
            _ => panic!("an oracle line runbom's test does not know: {line}"),
        }
    }
    Some(matrix)
}

#[test]
fn every_version_at_every_advisory_edge_is_judged_as_rubygems_judges_it() {
    let zip = testdata("advisories/ruby-advisory-db.zip");
    let dir = tempfile::tempdir().expect("a temporary directory");
    unpack(&zip, dir.path());
    let Some(matrix) = run_oracle(dir.path()) else {
        return;
    };
    let advisories: Vec<_> = read_paths(&[&zip])
        .map(|a| a.expect("every fixture record imports"))
        .collect();
    assert_eq!(advisories.len(), 1234);
    let (mut pairs, mut wrong) = (0, Vec::new());
    for advisory in &advisories {
        let affected = &advisory.affected[0];
        let gem = &affected.package.as_ref().expect("a package").name;
        let stem = advisory
            .id
            .strip_prefix(&format!("RUBYSEC-{gem}-"))
            .expect("a rubysec id");
        for version in matrix.versions.get(gem).expect("the oracle saw the gem") {
            let runbom = affects(Ecosystem::RubyGems, affected, version)
                .unwrap_or_else(|err| panic!("{gem} `{version}`: {err}"))
                .is_affected();
            let rubygems =
                matrix
                    .vulnerable
                    .contains(&(gem.clone(), version.clone(), stem.to_owned()));
            if runbom != rubygems {
                wrong.push(format!(
                    "{} `{version}`: runbom {runbom}, RubyGems {rubygems}",
                    advisory.id
                ));
            }
            pairs += 1;
        }
    }
    assert!(pairs > 100_000, "{pairs} pairs");
    assert!(
        wrong.is_empty(),
        "{} of {pairs} pairs disagree: {wrong:#?}",
        wrong.len()
    );
}
