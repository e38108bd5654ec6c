//! CPANSA records from the real database (an extract of CPAN::Audit 20230309.004's), held to
//! CPAN::Audit's own rules, and broken input.

use proptest::prelude::*;
use runbom_versions::{Ecosystem, affects};

use super::*;
use crate::testdata::path;

fn extract() -> Vec<Advisory> {
    let file = path("cpansa/cpansa-extract.json");
    let bytes = std::fs::read(&file).unwrap();
    read("cpansa-extract.json", &bytes)
        .unwrap()
        .into_iter()
        .filter_map(Result::ok)
        .collect()
}

fn affected(advisory: &Advisory, version: &str) -> bool {
    affects(Ecosystem::Cpan, &advisory.affected[0], version).is_ok_and(|v| v.is_affected())
}

fn by_id<'a>(advisories: &'a [Advisory], id: &str) -> &'a Advisory {
    advisories
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn detects_the_dump_and_names_db_pm() {
    assert!(detect(b"{\"dists\":{}}"));
    assert!(detect(b"  {\"dists\" : 1"));
    assert!(detect(b"{\n   \"dists\" : {"));
    assert!(!detect(b"{\"id\": \"GHSA-x\"}"));
    assert!(is_db_pm(Path::new("/usr/share/perl5/CPAN/Audit/DB.pm")));
    assert!(!is_db_pm(Path::new("/usr/share/perl5/CPAN/Audit.pm")));
}

#[test]
fn mojolicious_records_as_cpan_audit_reads_them() {
    let advisories = extract();
    let dom = by_id(&advisories, "CPANSA-Mojolicious-2022-03");
    assert_eq!(dom.affected[0].package.as_ref().unwrap().ecosystem, "CPAN");
    assert_eq!(
        dom.affected[0].package.as_ref().unwrap().purl.as_deref(),
        Some("pkg:cpan/Mojolicious")
    );
    assert_eq!(
        dom.affected[0].ranges[0].events,
        [Event::Introduced("0".into()), Event::Fixed("9.31".into())]
    );
    assert!(affected(dom, "9.30") && !affected(dom, "9.31") && !affected(dom, "9.32"));
    assert_eq!(dom.published.as_deref(), Some("2022-12-10T00:00:00Z"));
    assert_eq!(dom.modified, "2023-03-09T00:00:00Z");
    // `>1.74,<8.65`: an exclusive lower bound OSV cannot say: the released versions it covers.
    let exclusive = advisories
        .iter()
        .find(|a| {
            a.database_specific
                .as_ref()
                .and_then(|d| d.get("affected_versions"))
                == Some(&json!([">1.74,<8.65"]))
        })
        .expect("the >1.74,<8.65 record");
    assert!(exclusive.affected[0].ranges.is_empty());
    assert!(!exclusive.affected[0].versions.contains(&"1.74".to_owned()));
    assert!(
        affected(exclusive, "8.64")
            || exclusive.affected[0]
                .versions
                .iter()
                .any(|v| v.starts_with("8.6"))
    );
    assert!(!affected(exclusive, "8.65"));
}

#[test]
fn a_list_of_ranges_is_each_range_and_a_bare_version_is_a_lower_bound() {
    let advisories = extract();
    let listed = advisories
        .iter()
        .find(|a| a.affected[0].ranges.len() == 3)
        .expect("an MT record with three ranges");
    assert_eq!(listed.affected[0].package.as_ref().unwrap().name, "MT");
    let record = advisories
        .iter()
        .find(|a| {
            a.database_specific
                .as_ref()
                .and_then(|d| d.get("affected_versions"))
                == Some(&json!([">=7,<=7.9.4", ">=6,<=6.8.6", ">=4,<=5"]))
        })
        .expect("the three-range record");
    assert!(affected(record, "7.9.4") && affected(record, "6.0") && affected(record, "4.5"));
    assert!(!affected(record, "7.9.5") && !affected(record, "5.1") && !affected(record, "3.0"));
    let clauses = parse_range("1.2").unwrap();
    assert_eq!(clauses[0].op, ">=");
}

/// `=1.49` is not a CPAN::Audit operator: `version.pm` cannot parse `=1.49`, so the record is
/// an error naming it, and the others of the file are still read.
#[test]
fn an_unparsable_range_names_its_record_and_the_rest_is_read() {
    let bytes = std::fs::read(path("cpansa/cpansa-extract.json")).unwrap();
    let results = read("cpansa-extract.json", &bytes).unwrap();
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("CPANSA-DBD-Pg") && e.contains("`=1.49`")),
        "{errors:?}"
    );
    assert!(results.iter().filter(|r| r.is_ok()).count() > 60);

    let bytes = std::fs::read(path("cpansa/broken.json")).unwrap();
    let results = read("broken.json", &bytes).unwrap();
    assert_eq!(results.len(), 2);
    let good = results[0].as_ref().unwrap();
    assert_eq!(good.aliases, ["CVE-2020-0001"]);
    assert_eq!(good.summary.as_deref(), Some("A good record."));
    assert_eq!(good.database_specific.as_ref().unwrap()["severity"], "HIGH");
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(
        err.starts_with(
            "`broken.json`: record `CPANSA-Foo-Bar-2020-02` (affected_versions): `<1.x`"
        ),
        "{err}"
    );
    let whole = read("x.json", b"{\"dists\": 3}").unwrap_err().to_string();
    assert!(whole.starts_with("`x.json`:1:"), "{whole}");
}

/// A bad range in `DB.pm` itself names the file and the line of the range (the JSON dump has
/// none to give). See: issue 16 (a CPANSA record with an unparsable range).
#[test]
fn a_bad_range_in_db_pm_names_its_line() {
    let db = path("cpansa/broken-db/CPAN/Audit/DB.pm");
    let results: Vec<_> = crate::advisories::read_paths(&[&db]).collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap().id, "CPANSA-Foo-Bar-2020-01");
    let err = results[1].as_ref().unwrap_err().to_string();
    let expected = format!(
        "`{}`:30: record `CPANSA-Foo-Bar-2020-02` (affected_versions): `<1.x`",
        db.display()
    );
    assert!(err.starts_with(&expected), "{err}");
}

#[test]
fn a_records_line_is_its_fields_else_its_ids() {
    let source = "{\n  'affected_versions' => '<1',\n  'id' => 'A-1',\n},\n{\n  'id' => 'B-2'\n}\n";
    assert_eq!(line_of(source, "A-1", "affected_versions"), Some(2));
    assert_eq!(line_of(source, "B-2", "fixed_versions"), Some(6));
    assert_eq!(line_of(source, "C-3", "id"), None);
}

/// The machine's own CPAN::Audit database, dumped by its perl: every record is read but those
/// whose ranges `version.pm` cannot parse.
#[test]
fn the_installed_database_dumps_and_reads() {
    let db = Path::new("/usr/share/perl5/CPAN/Audit/DB.pm");
    if !db.exists() {
        eprintln!("skipped: libcpan-audit-perl is not installed");
        return;
    }
    let json = dump_db_pm(Path::new("perl"), db).unwrap();
    let results = read("DB.pm", &json).unwrap();
    let read_ok = results.iter().filter(|r| r.is_ok()).count();
    let errors = results.len() - read_ok;
    assert!(
        read_ok > 400 && errors < 10,
        "{read_ok} read, {errors} errors"
    );
    let missing = dump_db_pm(Path::new("perl"), Path::new("/no/CPAN/Audit/DB.pm")).unwrap_err();
    assert!(
        missing.to_string().contains("could not dump it"),
        "{missing}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_ranges_and_records_never_panic(
        range in "[<>=!, 0-9._v]{0,24}",
        junk in "\\PC{0,200}",
    ) {
        let _ = parse_range(&range);
        let record = json!({"dists": {"X": {"advisories": [
            {"id": "CPANSA-X-1", "affected_versions": range, "fixed_versions": range}
        ], "versions": [{"version": "1.0"}, {"version": range}]}}});
        let _ = read("x", record.to_string().as_bytes());
        let _ = read("x", junk.as_bytes());
    }
}
