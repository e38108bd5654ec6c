//! The server's portfolio on both engines: ingest (idempotent, heartbeats write no
//! observations), tokens, teams, users and sessions, expected inventories, findings opened once, webhook deliveries.

use runbom_model::enforce::{EnforceRule, Refusal};
use runbom_model::runtime::{
    DistributionUse, FileIntegrity, LoadedModule, ProcessInfo, RUNTIME_REPORT_SCHEMA,
    RuntimeInterpreter, RuntimeReport,
};
use runbom_model::{Ecosystem, Language, PackageName};
use runbom_store::testing::each_engine;
use runbom_store::{
    Cutoffs, Forgotten, HeartbeatOutcome, IncomingHeartbeat, IncomingReport, IngestOutcome,
    NewFinding, STATE_DIGEST_LEN, SessionRecord, Store, TokenRecord,
};

fn dist(name: &str, version: &str, modules: &[&str]) -> DistributionUse {
    DistributionUse {
        ecosystem: Ecosystem::PyPi,
        name: name.to_owned(),
        normalized_name: PackageName::pypi(name),
        version: version.to_owned(),
        purl: format!("pkg:pypi/{name}@{version}"),
        location: "/site-packages".into(),
        size: 10,
        requires_dist: Vec::new(),
        sum: None,
        modules: modules
            .iter()
            .map(|m| LoadedModule {
                name: (*m).to_owned(),
                file: Some(format!("/site-packages/{m}.py").into()),
                pids: vec![7],
                integrity: Some(FileIntegrity::Verified {
                    sha256: "ab".into(),
                }),
            })
            .collect(),
    }
}

fn report(report_id: &str, session: &str, distributions: Vec<DistributionUse>) -> IncomingReport {
    report_with(report_id, session, distributions, Vec::new())
}

fn report_with(
    report_id: &str,
    session: &str,
    distributions: Vec<DistributionUse>,
    refusals: Vec<Refusal>,
) -> IncomingReport {
    IncomingReport::new(
        "shop".to_owned(),
        RuntimeReport {
            schema: RUNTIME_REPORT_SCHEMA.to_owned(),
            report_id: report_id.to_owned(),
            session_id: session.to_owned(),
            sequence: 0,
            complete: false,
            app: Some("shop".to_owned()),
            environment: Some("prod".to_owned()),
            host: "web-1".to_owned(),
            started_at: "2026-01-01T00:00:00Z".to_owned(),
            reported_at: "2026-01-01T00:00:01Z".to_owned(),
            command: vec!["python".into(), "app.py".into()],
            exit_code: None,
            interpreter: RuntimeInterpreter {
                language: Language::Python,
                executable: "/usr/bin/python3".into(),
                implementation: "cpython".into(),
                version: "3.11.2".into(),
                prefix: "/usr".into(),
                build: Default::default(),
            },
            processes: vec![ProcessInfo {
                pid: 7,
                parent_pid: 1,
                started_at: "2026-01-01T00:00:00Z".into(),
                argv: vec!["app.py".into()],
                executable: "/usr/bin/python3".into(),
                modules_loaded: 3,
                hook_errors: 0,
                exited: false,
            }],
            distributions,
            stdlib_modules: vec!["os".into()],
            unowned_modules: vec![],
            hook_errors: 0,
            attached: None,
            enforcement: Vec::new(),
            refusals,
        },
        1_000,
    )
}

async fn ingest(store: &Store, reports: &[IncomingReport]) -> Vec<IngestOutcome> {
    store.ingest_reports(reports).await.expect("ingest")
}

#[tokio::test]
async fn reports_are_stored_once_and_heartbeats_change_nothing() {
    each_engine(|store| async move {
        let first = report(
            "r1",
            "s1",
            vec![dist("PyYAML", "6.0", &["yaml"]), dist("idna", "3.7", &[])],
        );
        let outcomes = ingest(&store, &[first.clone(), first.clone()]).await;
        assert!(matches!(
            outcomes[0],
            IngestOutcome::Stored { changed: true, .. }
        ));
        assert_eq!(outcomes[1], IngestOutcome::Duplicate);

        let mut heartbeat = report(
            "r2",
            "s1",
            vec![dist("PyYAML", "6.0", &["yaml"]), dist("idna", "3.7", &[])],
        );
        heartbeat.received_at = 2_000;
        let outcomes = ingest(&store, &[heartbeat]).await;
        assert!(matches!(
            outcomes[0],
            IngestOutcome::Stored { changed: false, .. }
        ));

        let components = store.live_components("shop").await.unwrap();
        let names: Vec<(&str, bool)> = components
            .iter()
            .map(|c| (c.name.as_str(), c.loaded))
            .collect();
        assert_eq!(names, [("idna", false), ("pyyaml", true)]);
        assert_eq!(components[0].instances, [("web-1".to_owned(), 7)]);
        let instances = store.instances("shop").await.unwrap();
        assert_eq!(instances.len(), 1);
        assert_eq!(instances[0].last_seen, 2_000);
        assert_eq!(instances[0].environment, "prod");
    })
    .await;
}

#[tokio::test]
async fn a_refused_import_is_stored_once_and_is_news_even_in_a_heartbeat() {
    each_engine(|store| async move {
        let dists = || vec![dist("PyYAML", "6.0", &["yaml"])];
        ingest(&store, &[report("r1", "s1", dists())]).await;
        let refusal = Refusal {
            pid: 7,
            at: "2026-01-01T00:00:01Z".into(),
            module: "idna".into(),
            file: Some("/site-packages/idna/__init__.py".into()),
            distribution: Some("idna".into()),
            version: Some("3.7".into()),
            rule: EnforceRule::Listed,
            why: "not in the expected inventory `requirements.txt`".into(),
            config_line: 0,
            importer: Some("__main__".into()),
            enforced: true,
        };
        let mut news = report_with("r2", "s1", dists(), vec![refusal.clone()]);
        news.received_at = 2_000;
        let outcomes = ingest(&store, &[news]).await;
        assert!(matches!(
            outcomes[0],
            IngestOutcome::Stored { changed: true, .. }
        ));
        let mut again = report_with("r3", "s1", dists(), vec![refusal]);
        again.received_at = 3_000;
        let outcomes = ingest(&store, &[again]).await;
        assert!(matches!(
            outcomes[0],
            IngestOutcome::Stored { changed: false, .. }
        ));
        let refusals = store.live_refusals("shop").await.unwrap();
        assert_eq!(refusals.len(), 1);
        assert_eq!((refusals[0].host.as_str(), refusals[0].pid), ("web-1", 7));
        assert_eq!(
            (refusals[0].rule.as_str(), refusals[0].enforced),
            ("listed", true)
        );
        assert_eq!(refusals[0].importer, "__main__");
    })
    .await;
}

#[tokio::test]
async fn a_changed_report_updates_only_what_changed() {
    each_engine(|store| async move {
        ingest(
            &store,
            &[report(
                "r1",
                "s1",
                vec![dist("PyYAML", "6.0", &[]), dist("idna", "3.7", &[])],
            )],
        )
        .await;
        let changed = report("r2", "s1", vec![dist("PyYAML", "6.0", &["yaml"])]);
        let outcomes = ingest(&store, &[changed]).await;
        assert!(matches!(
            outcomes[0],
            IngestOutcome::Stored { changed: true, .. }
        ));
        let components = store.live_components("shop").await.unwrap();
        assert_eq!(components.len(), 1, "idna is no longer installed");
        assert!(components[0].loaded);
        let overview = store.overview().await.unwrap();
        assert_eq!(overview.components_in_use, 1);
        assert_eq!(overview.live_instances, 1);
        let shop = store.overview_of(Some(&["shop".to_owned()])).await.unwrap();
        assert_eq!(shop, overview, "shop is the whole portfolio");
        let other = store
            .overview_of(Some(&["billing".to_owned()]))
            .await
            .unwrap();
        assert_eq!((other.applications, other.live_instances), (0, 0));
        assert_eq!(store.overview_of(Some(&[])).await.unwrap().applications, 0);
        assert!(store.change_watermark().await.unwrap() >= 2);
        let changes = store.changes_since(0).await.unwrap();
        assert!(
            changes
                .iter()
                .all(|(_, kind, app)| kind == "report" && app == "shop")
        );
        let uses = store.component_uses(None, Some("pyyaml")).await.unwrap();
        assert_eq!(
            (
                uses[0].app.as_str(),
                uses[0].loaded_by,
                uses[0].modules.as_str()
            ),
            ("shop", 1, "yaml")
        );
        assert_eq!(
            store
                .component_uses(Some("shop"), None)
                .await
                .unwrap()
                .len(),
            1
        );
        let apps = store.application_summaries().await.unwrap();
        assert_eq!(
            (apps[0].live_instances, apps[0].instances, apps[0].last_seen),
            (1, 1, Some(1_000))
        );
        assert_eq!(store.advisory_watermark().await.unwrap(), "0||");
        assert_eq!(store.advisory_record("GHSA-none").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn one_batch_holds_new_instances_resends_heartbeats_and_changes() {
    each_engine(|store| async move {
        let steady = || vec![dist("PyYAML", "6.0", &["yaml"]), dist("idna", "3.7", &[])];
        let mut changed = report("r3", "s1", vec![dist("PyYAML", "6.0", &["yaml"])]);
        changed.received_at = 3_000;
        let batch = [
            report("r1", "s1", steady()),
            report("r1", "s1", steady()),
            report("r2", "s1", steady()),
            changed,
            report("r4", "s2", steady()),
        ];
        let outcomes = ingest(&store, &batch).await;
        let kinds: Vec<Option<bool>> = outcomes
            .iter()
            .map(|outcome| match outcome {
                IngestOutcome::Stored { changed, .. } => Some(*changed),
                IngestOutcome::Duplicate => None,
            })
            .collect();
        assert_eq!(
            kinds,
            [Some(true), None, Some(false), Some(true), Some(true)]
        );
        let ids: Vec<i64> = outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                IngestOutcome::Stored { instance_id, .. } => Some(*instance_id),
                IngestOutcome::Duplicate => None,
            })
            .collect();
        assert_eq!(ids[0], ids[1]);
        assert_eq!(ids[1], ids[2]);
        assert_ne!(ids[2], ids[3]);

        let instances = store.instances("shop").await.unwrap();
        let last_seen: Vec<(i64, i64)> = instances.iter().map(|i| (i.id, i.last_seen)).collect();
        assert!(last_seen.contains(&(ids[0], 3_000)), "{last_seen:?}");
        assert!(last_seen.contains(&(ids[3], 1_000)), "{last_seen:?}");
        let components = store.live_components("shop").await.unwrap();
        let idna = components.iter().find(|c| c.name == "idna").unwrap();
        assert_eq!(idna.instances.len(), 1, "only s2 still has idna");

        // The same batch again: every report is a resend, nothing moves.
        let again = ingest(&store, &batch).await;
        assert!(again.iter().all(|o| *o == IngestOutcome::Duplicate));
        // A heartbeat of s1 after the change is not a change.
        let after = ingest(
            &store,
            &[report("r5", "s1", vec![dist("PyYAML", "6.0", &["yaml"])])],
        )
        .await;
        assert!(matches!(
            after[0],
            IngestOutcome::Stored { changed: false, .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn old_report_ids_are_forgotten_and_a_late_resend_is_taken_as_new() {
    each_engine(|store| async move {
        let dists = || vec![dist("idna", "3.7", &[])];
        let old = report("r1", "s1", dists());
        let mut recent = report("r2", "s1", dists());
        recent.received_at = 5_000;
        ingest(&store, &[old.clone(), recent.clone()]).await;
        assert_eq!(store.forget_report_ids(2_000).await.unwrap(), 1);
        assert_eq!(store.forget_report_ids(2_000).await.unwrap(), 0);
        let again = ingest(&store, &[old, recent]).await;
        assert!(matches!(
            again[0],
            IngestOutcome::Stored { changed: false, .. }
        ));
        assert_eq!(again[1], IngestOutcome::Duplicate);
    })
    .await;
}

#[tokio::test]
async fn silent_instances_are_marked_gone() {
    each_engine(|store| async move {
        ingest(
            &store,
            &[report("r1", "s1", vec![dist("idna", "3.7", &[])])],
        )
        .await;
        assert_eq!(
            store.mark_gone(500, 5_000).await.unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(store.mark_gone(1_500, 5_000).await.unwrap(), ["shop"]);
        assert!(store.live_components("shop").await.unwrap().is_empty());
        assert!(store.instances("shop").await.unwrap()[0].gone);
    })
    .await;
}

#[tokio::test]
async fn tokens_are_found_by_hash_until_revoked() {
    each_engine(|store| async move {
        let token = |id: &str, app: Option<&str>, team: Option<&str>, scopes: &str| TokenRecord {
            id: id.to_owned(),
            app: app.map(str::to_owned),
            team: team.map(str::to_owned),
            scopes: scopes.to_owned(),
            created_at: 0,
            revoked_at: None,
        };
        assert!(!store.has_credentials().await.unwrap());
        let shop = token("t1", Some("shop"), None, "report,upload");
        store.create_token(&shop, "h1", 1).await.unwrap();
        assert!(store.has_credentials().await.unwrap());
        let admin = token("t2", None, None, "read,admin");
        store.create_token(&admin, "h2", 2).await.unwrap();
        let team = token("t3", None, Some("payments"), "read");
        store.create_token(&team, "h3", 3).await.unwrap();
        let found = store.token_by_hash("h3").await.unwrap().unwrap();
        assert_eq!(
            (
                found.team.as_deref(),
                found.scopes.as_str(),
                found.created_at
            ),
            (Some("payments"), "read", 3)
        );
        assert_eq!(
            store
                .token_by_hash("h1")
                .await
                .unwrap()
                .unwrap()
                .app
                .as_deref(),
            Some("shop")
        );
        assert!(store.revoke_token("t1", 3).await.unwrap());
        assert!(!store.revoke_token("t1", 4).await.unwrap());
        assert!(store.token_by_hash("h1").await.unwrap().is_none());
        let tokens = store.tokens().await.unwrap();
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[0].revoked_at, Some(3));
        assert_eq!(tokens[1].app, None);
    })
    .await;
}

fn finding(key: &str) -> NewFinding {
    NewFinding {
        key: key.to_owned(),
        kind: "vulnerable".to_owned(),
        severity: "high".to_owned(),
        ecosystem: "PyPI".to_owned(),
        name: "pyyaml".to_owned(),
        version: "5.3".to_owned(),
        advisory_id: "GHSA-x".to_owned(),
        in_use: true,
        summary: "bad".to_owned(),
        detail: "{}".to_owned(),
        published_at: Some(0),
        detectable_at: Some(0),
        detectable_from: "published".to_owned(),
    }
}

#[tokio::test]
async fn findings_open_once_resolve_and_reopen() {
    each_engine(|store| async move {
        let opened = store
            .sync_findings("shop", &[finding("k1")], 10)
            .await
            .unwrap();
        assert_eq!(opened.len(), 1);
        assert!(
            store
                .sync_findings("shop", &[finding("k1")], 20)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.findings(Some("shop"), false).await.unwrap().len(), 1);
        let overview = store.overview().await.unwrap();
        assert_eq!(overview.vulnerable_in_use, [("high".to_owned(), 1)]);
        assert_eq!(overview.mean_seconds_to_detect, Some(0));

        assert!(
            store
                .sync_findings("shop", &[], 30)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .findings(Some("shop"), false)
                .await
                .unwrap()
                .is_empty()
        );
        let all = store.findings(Some("shop"), true).await.unwrap();
        assert_eq!(all[0].resolved_at, Some(30));

        let reopened = store
            .sync_findings("shop", &[finding("k1")], 40)
            .await
            .unwrap();
        assert_eq!(reopened[0].finding.opened_at, 40);
        assert_eq!(
            store
                .findings_for_advisory(&["CVE-y".to_owned(), "GHSA-x".to_owned()])
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn findings_come_most_urgent_first_by_severity_times_runtime_use() {
    each_engine(|store| async move {
        let of = |key: &str, severity: &str, in_use: bool| NewFinding {
            severity: severity.to_owned(),
            in_use,
            ..finding(key)
        };
        let current = [
            of("low-in-use", "low", true),
            of("critical-installed", "critical", false),
            of("high-in-use", "high", true),
            of("unknown-installed", "unknown", false),
            of("medium-installed", "medium", false),
        ];
        store.sync_findings("shop", &current, 10).await.unwrap();
        let keys: Vec<String> = store
            .findings(Some("shop"), false)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.finding.key)
            .collect();
        assert_eq!(
            keys,
            [
                "high-in-use",        // 4 × 2
                "critical-installed", // 5
                "low-in-use",         // 2 × 2
                "medium-installed",   // 3
                "unknown-installed",  // 1
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn expected_inventories_are_per_release_and_newest_wins() {
    each_engine(|store| async move {
        let inventory: runbom_model::expected::ExpectedInventory = serde_json::from_value(serde_json::json!({
            "format": "python/requirements", "source": "requirements.txt",
            "components": [{
                "ecosystem": "PyPI", "raw_name": "Flask", "name": "flask",
                "version": {"kind": "exact", "value": "3.0.0"}, "purl": null, "hashes": [],
                "licenses": [], "marker": null, "location": {"file": "requirements.txt", "line": 1}
            }]
        }))
        .unwrap();
        store.put_expected("shop", "1.0", &inventory, 1).await.unwrap();
        store.put_expected("shop", "1.1", &inventory, 2).await.unwrap();
        let (release, components) = store.expected_for("shop").await.unwrap().unwrap();
        assert_eq!(release, "1.1");
        assert_eq!(components, [("flask".to_owned(), "3.0.0".to_owned())]);
        assert_eq!(store.application_names().await.unwrap(), ["shop"]);
    })
    .await;
}

#[tokio::test]
async fn deliveries_are_unique_per_event_claimed_once_and_logged() {
    each_engine(|store| async move {
        let id = store
            .add_webhook("w1", "http://127.0.0.1:9/hook", "json", 1)
            .await
            .unwrap();
        assert_eq!(
            store
                .add_webhook("w2", "http://127.0.0.1:9/hook", "slack", 2)
                .await
                .unwrap(),
            "w1"
        );
        assert!(store.enqueue_delivery(&id, "e1", "{}", 10).await.unwrap());
        assert!(!store.enqueue_delivery(&id, "e1", "{}", 11).await.unwrap());
        let due = store.due_deliveries(10, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert!(store.claim_delivery(&due[0], 100).await.unwrap());
        assert!(
            !store.claim_delivery(&due[0], 100).await.unwrap(),
            "claimed once"
        );
        assert!(store.due_deliveries(50, 10).await.unwrap().is_empty());
        store
            .record_attempt(due[0].id, Err("HTTP 500"), Some(60), 50)
            .await
            .unwrap();
        let retry = store.due_deliveries(60, 10).await.unwrap();
        assert_eq!(retry[0].attempts, 1);
        assert_eq!(retry[0].last_error, "HTTP 500");
        store
            .record_attempt(retry[0].id, Ok(()), None, 70)
            .await
            .unwrap();
        let log = store.deliveries(10).await.unwrap();
        assert_eq!(log[0].status, "delivered");
        assert_eq!(log[0].delivered_at, Some(70));
    })
    .await;
}

#[tokio::test]
async fn search_finds_applications_and_components_with_wildcards_escaped() {
    each_engine(|store| async move {
        ingest(
            &store,
            &[report("r1", "s1", vec![dist("PyYAML", "6.0", &["yaml"])])],
        )
        .await;
        let hits = store.search("YAM", 10).await.unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(
            (hits[0].kind.as_str(), hits[0].name.as_str()),
            ("component", "pyyaml")
        );
        assert_eq!(store.search("sh", 10).await.unwrap()[0].kind, "application");
        assert!(store.search("%", 10).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn trend_snapshots_round_trip() {
    each_engine(|store| async move {
        let overview = store.overview().await.unwrap();
        store.save_snapshot(60_000, &overview).await.unwrap();
        store.save_snapshot(60_000, &overview).await.unwrap();
        let snapshots = store.snapshots(0).await.unwrap();
        assert_eq!(snapshots.len(), 1);
        assert_eq!(snapshots[0].overview, overview);
    })
    .await;
}

#[tokio::test]
async fn components_of_two_ecosystems_with_one_name_are_two() {
    each_engine(|store| async move {
        let mut go = dist("yaml", "v1.0.0", &["yaml/parser"]);
        go.ecosystem = Ecosystem::Go;
        go.normalized_name = PackageName::new(Ecosystem::Go, "yaml");
        go.purl = "pkg:golang/yaml@v1.0.0".into();
        let mut incoming = report("g1", "s-go", vec![dist("yaml", "v1.0.0", &[]), go]);
        let outcomes = ingest(&store, std::slice::from_mut(&mut incoming)).await;
        assert!(matches!(
            outcomes[0],
            IngestOutcome::Stored { changed: true, .. }
        ));
        let components = store.live_components("shop").await.expect("components");
        let seen: Vec<(&str, &str, bool)> = components
            .iter()
            .map(|c| (c.ecosystem.as_str(), c.name.as_str(), c.loaded))
            .collect();
        assert_eq!(seen, [("Go", "yaml", true), ("PyPI", "yaml", false)]);
    })
    .await;
}

#[tokio::test]
async fn teams_own_applications_and_users_belong_to_teams() {
    each_engine(|store| async move {
        assert!(store.create_team("payments", 1).await.unwrap());
        assert!(!store.create_team("payments", 2).await.unwrap());
        assert!(store.create_team("web", 1).await.unwrap());
        assert!(store.team_exists("web").await.unwrap());
        assert!(!store.team_exists("nobody").await.unwrap());
        store
            .assign_application("billing", "payments")
            .await
            .unwrap();
        store.assign_application("shop", "payments").await.unwrap();
        store.assign_application("shop", "web").await.unwrap();
        let payments = ["payments".to_owned()];
        assert_eq!(
            store.team_applications(&payments).await.unwrap(),
            ["billing"]
        );
        let both = ["payments".to_owned(), "web".to_owned()];
        assert_eq!(
            store.team_applications(&both).await.unwrap(),
            ["billing", "shop"]
        );
        assert!(store.team_applications(&[]).await.unwrap().is_empty());

        assert!(
            store
                .create_user("ana", "$argon2id$x", false, 5)
                .await
                .unwrap()
        );
        assert!(
            !store
                .create_user("ana", "$argon2id$y", true, 6)
                .await
                .unwrap()
        );
        store.add_team_member("web", "ana").await.unwrap();
        store.add_team_member("web", "ana").await.unwrap();
        let ana = store.user("ana").await.unwrap().unwrap();
        assert_eq!(
            (ana.password_hash.as_str(), ana.admin, ana.teams.as_slice()),
            ("$argon2id$x", false, &["web".to_owned()][..])
        );
        assert_eq!(store.user("bob").await.unwrap(), None);
        assert_eq!(store.user_names().await.unwrap(), ["ana"]);
        let teams = store.teams().await.unwrap();
        assert_eq!(teams[1].members, ["ana"]);
        assert_eq!(teams[1].applications, ["shop"]);
    })
    .await;
}

#[tokio::test]
async fn sessions_live_until_they_expire_or_end() {
    each_engine(|store| async move {
        let session = SessionRecord {
            user: "ana".to_owned(),
            csrf: "c1".to_owned(),
            expires_at: 100,
        };
        store.create_session("s1", &session, 10).await.unwrap();
        assert_eq!(
            store.session("s1", 50).await.unwrap(),
            Some(session.clone())
        );
        assert_eq!(store.session("s1", 100).await.unwrap(), None, "expired");
        assert_eq!(store.session("forged", 50).await.unwrap(), None);
        // A new session drops the expired ones.
        let later = SessionRecord {
            expires_at: 300,
            ..session
        };
        store.create_session("s2", &later, 200).await.unwrap();
        assert!(!store.delete_session("s1").await.unwrap());
        assert!(store.delete_session("s2").await.unwrap());
        assert_eq!(store.session("s2", 250).await.unwrap(), None);
    })
    .await;
}

fn heartbeat(session: &str, state_digest: &str, received_at: i64) -> IncomingHeartbeat {
    IncomingHeartbeat {
        app: "shop".to_owned(),
        session_id: session.to_owned(),
        state_digest: state_digest.to_owned(),
        received_at,
    }
}

#[tokio::test]
async fn a_heartbeat_of_the_stored_state_moves_last_seen_and_writes_no_row() {
    each_engine(|store| async move {
        let full = report("r1", "s1", vec![dist("idna", "3.7", &["idna"])]);
        let digest = full.state_digest().to_owned();
        assert_eq!(digest.len(), STATE_DIGEST_LEN);
        assert_eq!(
            store
                .ingest_heartbeats(&[heartbeat("s1", &digest, 1_500)])
                .await
                .unwrap(),
            [HeartbeatOutcome::UnknownInstance],
            "before its full report the instance is unknown"
        );
        ingest(&store, &[full]).await;
        // A flood of one instance in one batch costs one row's update.
        let flood: Vec<IncomingHeartbeat> = (0..500)
            .map(|i| heartbeat("s1", &digest, 2_000 + i))
            .collect();
        let outcomes = store.ingest_heartbeats(&flood).await.unwrap();
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, HeartbeatOutcome::Known { .. })),
            "{outcomes:?}"
        );
        assert_eq!(store.instances("shop").await.unwrap()[0].last_seen, 2_499);

        let other = "0".repeat(STATE_DIGEST_LEN);
        assert_eq!(
            store
                .ingest_heartbeats(&[
                    heartbeat("s1", &other, 9_000),
                    heartbeat("s2", &other, 9_000)
                ])
                .await
                .unwrap(),
            [
                HeartbeatOutcome::OtherState,
                HeartbeatOutcome::UnknownInstance
            ]
        );
        assert_eq!(
            store.instances("shop").await.unwrap()[0].last_seen,
            2_499,
            "a heartbeat of another state is no sign of life"
        );
        assert_eq!(
            store.forget_report_ids(i64::MAX).await.unwrap(),
            1,
            "only the full report left an id"
        );
    })
    .await;
}

#[tokio::test]
async fn a_heartbeat_revives_a_gone_instance() {
    each_engine(|store| async move {
        let full = report("r1", "s1", vec![dist("idna", "3.7", &["idna"])]);
        let digest = full.state_digest().to_owned();
        ingest(&store, &[full]).await;
        store.mark_gone(1_500, 1_500).await.unwrap();
        store
            .ingest_heartbeats(&[heartbeat("s1", &digest, 2_000)])
            .await
            .unwrap();
        assert!(!store.instances("shop").await.unwrap()[0].gone);
        assert_eq!(store.live_components("shop").await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn retention_forgets_gone_instances_old_snapshots_deliveries_and_changes() {
    each_engine(|store| async move {
        ingest(
            &store,
            &[
                report("r1", "old", vec![dist("idna", "3.7", &["idna"])]),
                report("r2", "live", vec![dist("idna", "3.7", &["idna"])]),
            ],
        )
        .await;
        let mut recent = report("r3", "live", vec![dist("idna", "3.7", &["idna"])]);
        recent.received_at = 50_000;
        ingest(&store, &[recent]).await;
        store.mark_gone(10_000, 10_000).await.unwrap();
        let overview = store.overview().await.unwrap();
        store.save_snapshot(60_000, &overview).await.unwrap();
        store.save_snapshot(120_000, &overview).await.unwrap();
        let hook = store
            .add_webhook("w1", "http://127.0.0.1:9/hook", "json", 1)
            .await
            .unwrap();
        store.enqueue_delivery(&hook, "e1", "{}", 10).await.unwrap();
        store.enqueue_delivery(&hook, "e2", "{}", 10).await.unwrap();
        let due = store.due_deliveries(10, 10).await.unwrap();
        store
            .record_attempt(due[0].id, Ok(()), None, 20)
            .await
            .unwrap();

        let cutoffs = Cutoffs {
            gone_instances: 20_000,
            snapshots: 100_000,
            deliveries: 100,
            changes: 20_000,
        };
        let forgotten = store.forget_old(&cutoffs).await.unwrap();
        assert_eq!(forgotten.instances, 1);
        assert_eq!(forgotten.snapshots, 1);
        assert_eq!(forgotten.deliveries, 1, "the pending delivery is kept");
        assert!(forgotten.changes >= 1, "{forgotten:?}");
        let instances = store.instances("shop").await.unwrap();
        assert_eq!(instances.len(), 1);
        assert!(!instances[0].gone);
        assert_eq!(store.snapshots(0).await.unwrap().len(), 1);
        let log = store.deliveries(10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].status, "pending");
        assert_eq!(
            store.forget_report_ids(i64::MAX).await.unwrap(),
            2,
            "the gone instance's report id went with it"
        );
        assert_eq!(
            store.forget_old(&cutoffs).await.unwrap(),
            Forgotten::default()
        );
    })
    .await;
}

#[tokio::test]
async fn a_finding_triaged_not_affected_stops_counting_and_reopens_when_its_evidence_changes() {
    each_engine(|store| async move {
        let mut installed = finding("k9");
        installed.in_use = false;
        assert_eq!(
            store
                .sync_findings("shop", &[installed.clone()], 10)
                .await
                .unwrap()
                .len(),
            1
        );
        let analysis = runbom_store::Analysis {
            state: "not_affected".to_owned(),
            justification: "code_not_reachable".to_owned(),
            response: vec!["will_not_fix".to_owned()],
            detail: "never loaded".to_owned(),
            evidence: runbom_store::evidence_of(&installed).to_owned(),
            updated_by: "user alice".to_owned(),
            updated_at: 11,
        };
        assert_eq!(
            store.set_analysis("k9", "shop", &analysis).await.unwrap(),
            None
        );
        assert!(
            store
                .overview()
                .await
                .unwrap()
                .vulnerable_installed
                .is_empty()
        );
        assert_eq!(
            store.findings(Some("shop"), false).await.unwrap().len(),
            1,
            "still visible"
        );

        // Resolved and opened again on the same evidence: no alert.
        store.sync_findings("shop", &[], 20).await.unwrap();
        assert!(
            store
                .sync_findings("shop", &[installed.clone()], 30)
                .await
                .unwrap()
                .is_empty()
        );

        // The component becomes loaded: one alert, the analysis back in triage.
        let loaded = finding("k9");
        let alerts = store
            .sync_findings("shop", std::slice::from_ref(&loaded), 40)
            .await
            .unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].reason, runbom_store::AlertReason::EvidenceChanged);
        assert!(
            store
                .sync_findings("shop", &[loaded], 50)
                .await
                .unwrap()
                .is_empty()
        );
        let record = store.finding("k9").await.unwrap().unwrap();
        assert_eq!(record.analysis.unwrap().state, "in_triage");
        assert_eq!(store.overview().await.unwrap().vulnerable_in_use.len(), 1);
        let trail = store.audit_trail("k9").await.unwrap();
        assert_eq!(trail.len(), 2);
        assert_eq!(trail[0].actor, "user alice");
        assert_eq!(trail[0].before, None);
        assert_eq!(trail[1].actor, runbom_store::DETECTOR);
        assert_eq!(trail[1].before.as_ref().unwrap().state, "not_affected");
    })
    .await;
}

#[tokio::test]
async fn index_releases_are_kept_per_project_and_a_change_is_news_for_who_runs_it() {
    each_engine(|store| async move {
        ingest(
            &store,
            &[report("r1", "s1", vec![dist("PyYAML", "5.3", &["yaml"])])],
        )
        .await;
        assert_eq!(
            store.running_projects().await.unwrap(),
            [("PyPI".to_owned(), "pyyaml".to_owned())]
        );
        let watermark = store.change_watermark().await.unwrap();
        let releases = r#"[{"version":"5.3","yanked":false}]"#;
        assert!(
            store
                .save_releases("PyPI", "pyyaml", releases, 10)
                .await
                .unwrap()
        );
        let changes = store.changes_since(watermark).await.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            (changes[0].1.as_str(), changes[0].2.as_str()),
            ("releases", "shop")
        );

        // The same answer again is no news, and an error keeps what was known.
        assert!(
            !store
                .save_releases("PyPI", "pyyaml", releases, 20)
                .await
                .unwrap()
        );
        store
            .record_index_error("PyPI", "pyyaml", "`http://x` answered HTTP 503", 30)
            .await
            .unwrap();
        let kept = store.index_releases_for("shop").await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (
                kept[0].releases.as_str(),
                kept[0].checked_at,
                kept[0].changed_at
            ),
            (releases, 30, Some(10))
        );
        assert_eq!(kept[0].error, "`http://x` answered HTTP 503");
        assert_eq!(store.changes_since(watermark).await.unwrap().len(), 1);

        // A project never answered is listed with its error but gives no releases.
        store
            .record_index_error("PyPI", "evil", "not found", 40)
            .await
            .unwrap();
        assert_eq!(store.index_projects().await.unwrap().len(), 2);
        assert_eq!(store.index_releases_for("shop").await.unwrap().len(), 1);
        assert!(store.index_releases_for("other").await.unwrap().is_empty());

        let newer = r#"[{"version":"5.3","yanked":true},{"version":"6.0","yanked":false}]"#;
        assert!(
            store
                .save_releases("PyPI", "pyyaml", newer, 50)
                .await
                .unwrap()
        );
        let kept = store.index_releases_for("shop").await.unwrap();
        assert_eq!((kept[0].changed_at, kept[0].error.as_str()), (Some(50), ""));
        assert_eq!(store.changes_since(watermark).await.unwrap().len(), 2);
    })
    .await;
}
