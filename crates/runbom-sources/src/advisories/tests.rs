#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use runbom_model::advisory::{Event, RangeKind};

use super::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/advisories")
        .join(name)
}

fn one(name: &str) -> Result<Advisory, AdvisoryError> {
    let mut stream = read_paths(&[fixture(name)]);
    assert_eq!(stream.files(), 1);
    stream.next().expect("one item")
}

#[test]
fn each_reader_detects_its_real_record() {
    for (file, reader) in [
        ("single/GO-2022-0345.json", "osv/json"),
        ("single/PYSEC-2019-217.yaml", "osv/yaml"),
        ("single/actionpack/CVE-2008-7248.yml", "rubysec/yaml"),
    ] {
        let contents = std::fs::read(fixture(file)).unwrap();
        assert_eq!(detect(file, &contents).map(|r| r.name()), Some(reader));
    }
}

#[test]
fn pypa_yaml_keeps_timestamps_and_versions_as_written() {
    let advisory = one("single/PYSEC-2019-217.yaml").unwrap();
    assert_eq!(advisory.id, "PYSEC-2019-217");
    assert!(advisory.modified.ends_with('Z'), "{}", advisory.modified);
    let affected = &advisory.affected[0];
    assert_eq!(affected.package.as_ref().unwrap().name, "jinja2");
    assert!(
        affected.versions.iter().any(|v| v == "2.10"),
        "{:?}",
        affected.versions
    );
}

#[test]
fn rubysec_records_become_osv_with_aliases_and_one_range() {
    let advisory = one("single/actionpack/CVE-2008-7248.yml").unwrap();
    assert_eq!(advisory.id, "RUBYSEC-actionpack-CVE-2008-7248");
    assert_eq!(advisory.aliases, ["CVE-2008-7248", "GHSA-8fqx-7pv4-3jwm"]);
    assert_eq!(advisory.modified, "2017-10-24T00:00:00Z");
    let affected = &advisory.affected[0];
    let package = affected.package.as_ref().unwrap();
    assert_eq!(
        (package.ecosystem.as_str(), package.name.as_str()),
        ("RubyGems", "actionpack")
    );
    assert_eq!(affected.ranges[0].kind, RangeKind::Ecosystem);
    assert_eq!(
        affected.ranges[0].events,
        [
            Event::Introduced("2.1.0".into()),
            Event::Fixed("2.1.3".into()),
            Event::Introduced("2.2.A".into()),
            Event::Fixed("2.2.2".into()),
        ]
    );
    let specific = advisory.database_specific.as_ref().unwrap();
    assert_eq!(specific["cvss_v2"], 6.8);
}

#[test]
fn malformed_records_name_the_file_and_place_and_the_rest_still_reads() {
    let mut stream = read_paths(&[fixture("broken"), fixture("single")]);
    assert_eq!(stream.files(), 7);
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for item in stream.by_ref() {
        match item {
            Ok(advisory) => good.push(advisory.id),
            Err(error) => bad.push(error.to_string()),
        }
    }
    assert_eq!(good.len(), 3, "{good:?}");
    let bad = bad.join("\n");
    for expected in [
        "bad-requirement.yml`: patched_versions: `>= 1.0 and then some`",
        "missing-id.yaml`:1:1: missing field `id`",
        "trailing-comma.json`:2:65: trailing comma",
        "two-key-event.yaml`:10:7: affected[0].ranges[0].events[0]: an event has exactly one key",
    ] {
        assert!(bad.contains(expected), "{expected} not in\n{bad}");
    }
}

/// Every record of the three real databases reads; the count per database and per reader.
#[test]
fn every_record_of_the_three_databases_reads() {
    let mut counts = BTreeMap::new();
    for (archive, expected) in [
        ("pypa-advisory-database.zip", 2661),
        ("golang-vulndb.zip", 4291),
        ("ruby-advisory-db.zip", 1234),
    ] {
        let stream = read_paths(&[fixture(archive)]);
        assert_eq!(stream.files(), expected, "{archive}");
        let mut read = 0;
        for item in stream {
            let advisory = item.unwrap_or_else(|e| panic!("{e}"));
            assert!(!advisory.affected.is_empty(), "{}", advisory.id);
            read += 1;
        }
        counts.insert(archive, read);
    }
    assert_eq!(
        counts.values().sum::<usize>(),
        2661 + 4291 + 1234,
        "{counts:?}"
    );
}

#[test]
fn zip_entries_are_named_inside_their_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.zip");
    let file = std::fs::File::create(&path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    use std::io::Write;
    zip.start_file("GOOD-1.json", options).unwrap();
    zip.write_all(br#"{"id":"GOOD-1","modified":"2024-01-01T00:00:00Z"}"#)
        .unwrap();
    zip.start_file("BAD-1.json", options).unwrap();
    zip.write_all(b"{\"id\": 3}").unwrap();
    zip.start_file("README.md", options).unwrap();
    zip.write_all(b"not an advisory").unwrap();
    zip.finish().unwrap();
    let items: Vec<_> = read_paths(&[&path]).collect();
    assert_eq!(items.len(), 2);
    let error = items[0].as_ref().unwrap_err().to_string();
    assert!(error.contains("all.zip!BAD-1.json`:1:"), "{error}");
    assert_eq!(items[1].as_ref().unwrap().id, "GOOD-1");
    let broken = read_paths(&[fixture("single/GO-2022-0345.json")]).collect::<Vec<_>>();
    assert!(broken[0].is_ok());
    let not_zip = dir.path().join("not.zip");
    std::fs::write(&not_zip, b"plain text").unwrap();
    let items: Vec<_> = read_paths(&[&not_zip]).collect();
    assert!(
        matches!(items[0], Err(AdvisoryError::Zip { .. })),
        "{items:?}"
    );
}
