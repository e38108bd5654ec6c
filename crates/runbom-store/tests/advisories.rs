//! The advisory store on every engine: import counts, idempotence, updates by `modified`,
//! alias merging, withdrawn records, sources.

use std::convert::Infallible;

use runbom_model::Advisory;
use runbom_model::advisory::Event;
use runbom_store::testing::each_engine;
use runbom_store::{ImportSource, ImportStats, Store};
use serde_json::json;

fn advisory(id: &str, modified: &str, aliases: &[&str], package: (&str, &str)) -> Advisory {
    serde_json::from_value(json!({
        "id": id,
        "modified": modified,
        "aliases": aliases,
        "summary": format!("summary of {id}"),
        "affected": [{
            "package": {"ecosystem": package.0, "name": package.1},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]
        }]
    }))
    .expect("a valid OSV record")
}

fn source(name: &str) -> ImportSource {
    ImportSource {
        name: name.to_owned(),
        location: format!("/data/{name}"),
        ..ImportSource::default()
    }
}

async fn import(store: &Store, name: &str, records: Vec<Advisory>) -> ImportStats {
    store
        .import_advisories(&source(name), records.into_iter().map(Ok::<_, Infallible>))
        .await
        .expect("import")
}

fn ids(found: &[runbom_store::StoredAdvisory]) -> Vec<Vec<&str>> {
    found
        .iter()
        .map(|f| f.ids.iter().map(String::as_str).collect())
        .collect()
}

#[tokio::test]
async fn import_indexes_by_normalised_name_and_reimport_is_idempotent() {
    each_engine(|store| async move {
        let records = vec![
            advisory(
                "PYSEC-2024-1",
                "2024-01-01T00:00:00Z",
                &[],
                ("PyPI", "Foo_Bar"),
            ),
            advisory(
                "GO-2024-1",
                "2024-01-01T00:00:00Z",
                &[],
                ("Go", "github.com/A/b"),
            ),
        ];
        let first = import(&store, "mixed", records.clone()).await;
        assert_eq!((first.added, first.updated, first.unchanged), (2, 0, 0));
        let found = store.advisories_for("PyPI", "foo-bar").await.unwrap();
        assert_eq!(ids(&found), [["PYSEC-2024-1"]]);
        assert_eq!(found[0].advisory, records[0]);
        assert!(
            store
                .advisories_for("Go", "github.com/a/b")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .advisories_for("Go", "github.com/A/b")
                .await
                .unwrap()
                .len(),
            1
        );

        let second = import(&store, "mixed", records).await;
        assert_eq!(
            second,
            ImportStats {
                unchanged: 2,
                ..ImportStats::default()
            }
        );
        assert_eq!(
            store.advisories_for("PyPI", "foo-bar").await.unwrap().len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn updates_only_when_modified_is_newer() {
    each_engine(|store| async move {
        let v1 = advisory("PYSEC-1", "2024-01-01T00:00:00Z", &[], ("PyPI", "old-name"));
        import(&store, "pypa", vec![v1]).await;
        // Same instant written differently, then an older record: neither changes anything.
        let same = advisory(
            "PYSEC-1",
            "2024-01-01T00:00:00.000Z",
            &[],
            ("PyPI", "other"),
        );
        let older = advisory("PYSEC-1", "2023-06-01T00:00:00Z", &[], ("PyPI", "other"));
        let stats = import(&store, "pypa", vec![same, older]).await;
        assert_eq!(stats.unchanged, 2);
        assert!(
            store
                .advisories_for("PyPI", "other")
                .await
                .unwrap()
                .is_empty()
        );

        let newer = advisory("PYSEC-1", "2024-02-01T00:00:00Z", &[], ("PyPI", "new-name"));
        let stats = import(&store, "pypa", vec![newer]).await;
        assert_eq!(stats.updated, 1);
        assert!(
            store
                .advisories_for("PyPI", "old-name")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .advisories_for("PyPI", "new-name")
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn aliases_merge_into_one_vulnerability_with_every_id() {
    each_engine(|store| async move {
        let pysec = advisory(
            "PYSEC-2021-9",
            "2024-01-01T00:00:00Z",
            &["CVE-2021-1"],
            ("PyPI", "pkg"),
        );
        let ghsa = advisory(
            "GHSA-aaaa-bbbb-cccc",
            "2024-01-01T00:00:00Z",
            &["CVE-2021-1"],
            ("PyPI", "pkg"),
        );
        let unrelated = advisory(
            "PYSEC-2021-10",
            "2024-01-01T00:00:00Z",
            &["CVE-2021-2"],
            ("PyPI", "pkg"),
        );
        import(&store, "pypa", vec![pysec]).await;
        // The GHSA record arrives from another source and links through the shared CVE.
        import(&store, "ghsa", vec![ghsa, unrelated]).await;

        let found = store.advisories_for("PyPI", "pkg").await.unwrap();
        assert_eq!(
            ids(&found),
            [
                vec!["PYSEC-2021-10", "CVE-2021-2"],
                vec!["PYSEC-2021-9", "CVE-2021-1", "GHSA-aaaa-bbbb-cccc"],
            ]
        );
        assert_eq!(found[1].related_records.len(), 1);
        assert_eq!(found[1].related_records[0].id, "GHSA-aaaa-bbbb-cccc");

        let by_cve = store.advisory("CVE-2021-1").await.unwrap().unwrap();
        assert_eq!(by_cve.advisory.id, "PYSEC-2021-9");
        assert_eq!(by_cve.ids.len(), 3);
        let by_ghsa = store
            .advisory("GHSA-aaaa-bbbb-cccc")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_ghsa.advisory.id, "GHSA-aaaa-bbbb-cccc");
        assert!(store.advisory("CVE-1999-0").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn withdrawn_records_stop_matching_and_link_nothing() {
    each_engine(|store| async move {
        let live = advisory(
            "PYSEC-1",
            "2024-01-01T00:00:00Z",
            &["CVE-1"],
            ("PyPI", "pkg"),
        );
        let other = advisory(
            "PYSEC-2",
            "2024-01-01T00:00:00Z",
            &["CVE-2"],
            ("PyPI", "pkg"),
        );
        import(&store, "pypa", vec![live.clone(), other]).await;
        assert_eq!(store.advisories_for("PyPI", "pkg").await.unwrap().len(), 2);

        // A withdrawn record aliasing both CVEs must not merge the two vulnerabilities.
        let mut glue = advisory(
            "GHSA-x",
            "2024-01-01T00:00:00Z",
            &["CVE-1", "CVE-2"],
            ("PyPI", "pkg"),
        );
        glue.withdrawn = Some("2024-01-02T00:00:00Z".into());
        // PYSEC-1 is withdrawn by a newer version of itself.
        let mut gone = live;
        gone.modified = "2024-03-01T00:00:00Z".into();
        gone.withdrawn = Some("2024-03-01T00:00:00Z".into());
        let stats = import(&store, "pypa", vec![glue, gone]).await;
        assert_eq!((stats.withdrawn, stats.added, stats.updated), (2, 0, 0));

        let found = store.advisories_for("PyPI", "pkg").await.unwrap();
        assert_eq!(ids(&found), [["PYSEC-2", "CVE-2"]]);
        let withdrawn = store.advisory("PYSEC-1").await.unwrap().unwrap();
        assert!(withdrawn.advisory.is_withdrawn());
        let sources = store.sources().await.unwrap();
        assert_eq!(sources[0].withdrawn, 2);
    })
    .await;
}

#[tokio::test]
async fn reader_errors_are_counted_as_skipped() {
    each_engine(|store| async move {
        let items = vec![
            Ok(advisory("GO-1", "2024-01-01T00:00:00Z", &[], ("Go", "m"))),
            Err("truncated file"),
        ];
        let stats = store.import_advisories(&source("go"), items).await.unwrap();
        assert_eq!((stats.added, stats.skipped, stats.total()), (1, 1, 2));
    })
    .await;
}

#[tokio::test]
async fn large_imports_span_several_batches() {
    each_engine(|store| async move {
        let records: Vec<Advisory> = (0..1500)
            .map(|i| {
                advisory(
                    &format!("PYSEC-2024-{i}"),
                    "2024-01-01T00:00:00Z",
                    &[&format!("CVE-2024-{}", i / 2)],
                    ("PyPI", &format!("pkg{}", (i / 2) % 10)),
                )
            })
            .collect();
        let stats = import(&store, "pypa", records).await;
        assert_eq!(stats.added, 1500);
        // Pairs share a CVE: 150 records per package, 75 vulnerabilities.
        let found = store.advisories_for("PyPI", "pkg3").await.unwrap();
        assert_eq!(found.len(), 75);
        assert!(found.iter().all(|f| f.ids.len() == 3));
        let status = store.sources().await.unwrap();
        assert_eq!(status[0].counts[0].advisories, 1500);
    })
    .await;
}

#[tokio::test]
async fn sources_keep_validators_and_counts_per_ecosystem() {
    each_engine(|store| async move {
        let source = ImportSource {
            name: "osv-PyPI".into(),
            location: "https://example.invalid/PyPI/all.zip".into(),
            etag: Some("\"abc\"".into()),
            last_modified: Some("Wed, 25 Nov 2026 10:00:00 GMT".into()),
        };
        let records = vec![
            advisory("PYSEC-1", "2024-01-01T00:00:00Z", &[], ("PyPI", "a")),
            advisory("PYSEC-2", "2024-01-01T00:00:00Z", &[], ("PyPI", "b")),
            advisory("GO-1", "2024-01-01T00:00:00Z", &[], ("Go", "m")),
        ];
        assert!(!store.has_sources().await.unwrap());
        store
            .import_advisories(&source, records.into_iter().map(Ok::<_, Infallible>))
            .await
            .unwrap();
        assert!(store.has_sources().await.unwrap());
        let checked = ImportSource {
            etag: None,
            last_modified: None,
            ..source.clone()
        };
        store.mark_checked(&checked).await.unwrap();

        let sources = store.sources().await.unwrap();
        assert_eq!(sources.len(), 1);
        let status = &sources[0];
        assert_eq!(status.etag.as_deref(), Some("\"abc\""));
        assert!(status.last_import.is_some() && status.last_checked.is_some());
        let counts: Vec<(&str, u64)> = status
            .counts
            .iter()
            .map(|c| (c.ecosystem.as_str(), c.advisories))
            .collect();
        assert_eq!(counts, [("Go", 1), ("PyPI", 2)]);
    })
    .await;
}

/// Many packages in one query give what one query per package gives, in the order asked, with
/// repeated and unknown packages.
#[tokio::test]
async fn advisories_for_many_packages_agree_with_one_at_a_time() {
    each_engine(|store| async move {
        let record = |id: &str, names: &[&str], aliases: &[&str]| {
            serde_json::json!({
                "id": id, "modified": "2024-01-01T00:00:00Z", "aliases": aliases,
                "affected": names.iter().map(|n| serde_json::json!({
                    "package": {"ecosystem": "PyPI", "name": n},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]
                })).collect::<Vec<_>>()
            })
        };
        let records: Vec<Advisory> = [
            record("PYSEC-1", &["a"], &["CVE-1"]),
            record("GHSA-1", &["a", "b"], &["CVE-1"]),
            record("PYSEC-2", &["b"], &[]),
            record("PYSEC-3", &["c"], &[]),
        ]
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
        import(&store, "test", records).await;
        let wanted = [
            ("PyPI", "b"),
            ("PyPI", "a"),
            ("PyPI", "none"),
            ("Go", "a"),
            ("PyPI", "b"),
        ];
        let many = store.advisories_for_packages(&wanted).await.unwrap();
        assert_eq!(many.len(), wanted.len());
        for ((ecosystem, name), found) in wanted.iter().zip(&many) {
            let one = store.advisories_for(ecosystem, name).await.unwrap();
            assert_eq!(found, &one, "{ecosystem}/{name}");
        }
        let ids = |list: &[runbom_store::StoredAdvisory]| -> Vec<String> {
            list.iter().map(|s| s.advisory.id.clone()).collect()
        };
        assert_eq!(ids(&many[0]), ["GHSA-1", "PYSEC-2"]);
        assert_eq!(ids(&many[1]), ["PYSEC-1"]);
        assert!(many[2].is_empty() && many[3].is_empty());
        assert_eq!(many[1][0].ids, ["PYSEC-1", "CVE-1", "GHSA-1"]);
    })
    .await;
}

#[tokio::test]
async fn a_filtered_lookup_reads_only_the_vulnerabilities_whose_entries_are_kept() {
    each_engine(|store| async move {
        let ranged = |id: &str, aliases: &[&str], fixed: &str| -> Advisory {
            serde_json::from_value(json!({
                "id": id, "modified": "2024-01-01T00:00:00Z", "aliases": aliases,
                "details": "long text the index does not keep",
                "affected": [
                    {"package": {"ecosystem": "Go", "name": "stdlib"},
                     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                     "ecosystem_specific": {"imports": [{"path": "net/http", "symbols": ["Serve"]}]}},
                    {"package": {"ecosystem": "Go", "name": "golang.org/x/net"},
                     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.1.0"}]}]}
                ]
            }))
            .unwrap()
        };
        import(
            &store,
            "test",
            vec![
                ranged("GO-1", &["CVE-1"], "1.19.0"),
                ranged("GO-2", &[], "1.21.0"),
                // The same vulnerability as GO-1 under another id, with other ranges.
                ranged("GHSA-1", &["CVE-1"], "1.22.0"),
            ],
        )
        .await;
        let seen = std::sync::Mutex::new(Vec::new());
        let wanted = [("Go", "stdlib"), ("Go", "golang.org/x/net")];
        let found = store
            .advisories_for_packages_where(&wanted, |i, entries| {
                seen.lock().unwrap().push((i, entries.to_vec()));
                // Keep what a fix at 1.22.0 or 0.1.0 says, as a range check would.
                let fix = ["1.22.0", "0.1.0"][i];
                entries.iter().any(|e| {
                    e.ranges[0]
                        .events
                        .iter()
                        .any(|event| matches!(event, Event::Fixed(v) if v == fix))
                })
            })
            .await
            .unwrap();
        let ids = |list: &[runbom_store::StoredAdvisory]| -> Vec<Vec<String>> {
            list.iter().map(|s| s.ids.clone()).collect()
        };
        // GHSA-1's entry is kept: its vulnerability comes whole, GO-1 as its representative.
        assert_eq!(ids(&found[0]), [["GO-1", "CVE-1", "GHSA-1"]]);
        assert_eq!(found[0][0].related_records[0].id, "GHSA-1");
        assert_eq!(
            ids(&found[1]),
            [vec!["GO-1", "CVE-1", "GHSA-1"], vec!["GO-2"]]
        );
        let seen = seen.into_inner().unwrap();
        let (_, entries) = seen.iter().find(|(i, _)| *i == 0).unwrap();
        assert_eq!(entries.len(), 1, "only the entries about the package: {entries:?}");
        assert_eq!(entries[0].package.as_ref().unwrap().name, "stdlib");
        assert!(
            entries[0].ecosystem_specific.is_none(),
            "the index keeps ranges, not symbols"
        );
        // Unfiltered, the same lookup reads every vulnerability.
        let all = store.advisories_for_packages(&wanted).await.unwrap();
        assert_eq!(all[0].len(), 2);
    })
    .await;
}
