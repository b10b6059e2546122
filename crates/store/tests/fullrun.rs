//! Full-run support in the SQLite backend: a run written as one transaction (committed
//! when Processed, rolled back otherwise), inactive assets, and findings grouped by
//! fingerprint across connectors.

mod common;

use chrono::{Duration, Utc};
use common::{asset, connector, finding};
use model::Status;
use store::*;

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open");
    (dir, store)
}

fn end(state: RunState, counters: RunCounters) -> RunEnd {
    RunEnd {
        state,
        connector_state: ConnectorState::Processed,
        reason: Some("why".into()),
        counters,
        cursor: None,
        scope: None,
    }
}

fn batch(ids: &[&str]) -> Batch {
    Batch {
        assets: vec![asset("app")],
        findings: ids.iter().map(|i| finding(i, "app", Status::New)).collect(),
        issues: vec![RecordIssue {
            level: IssueLevel::Warning,
            location: "report.xml".into(),
            message: "a warning".into(),
        }],
    }
}

#[test]
fn an_atomic_run_that_fails_stores_nothing_but_its_end() {
    let (_dir, store) = open();
    let c = connector(&store, "xml");
    let run = store
        .begin_run(c.id, RunMode::Full, "test", Duration::seconds(60))
        .expect("run");
    store.begin_atomic(&run).expect("atomic");
    let counts = store
        .write_batch(&run, &batch(&["a", "b"]), &RunCounters::default())
        .expect("batch");
    assert_eq!(counts.inserted, 3);
    // Not visible to readers before the end.
    assert!(
        store
            .findings(&ListQuery::default())
            .expect("list")
            .is_empty()
    );
    store
        .renew_lock(run.id, Duration::seconds(60))
        .expect("renew");
    let counters = RunCounters {
        fetched: 2,
        inserted: 3,
        failed: 1,
        ..RunCounters::default()
    };
    store
        .finish_run(&run, &batch(&["c"]), &end(RunState::Errored, counters))
        .expect("finish");
    assert!(
        store
            .findings(&ListQuery::default())
            .expect("list")
            .is_empty()
    );
    assert!(
        store
            .assets(&ListQuery::default())
            .expect("list")
            .is_empty()
    );
    let r = store.run(run.id).expect("run").expect("exists");
    assert_eq!(r.state, RunState::Errored);
    assert_eq!((r.counters.inserted, r.counters.fetched), (0, 2));
    assert!(
        r.reason
            .as_deref()
            .unwrap_or("")
            .contains("nothing from this run was stored")
    );
    // The problems of every batch are still recorded.
    assert_eq!(store.run_issues(run.id).expect("issues").len(), 2);
    // The lock is free: another run can start.
    let again = store
        .begin_run(c.id, RunMode::Full, "test", Duration::seconds(60))
        .expect("lock released");
    assert!(!store.rollback_atomic(again.id).expect("none open"));
}

#[test]
fn an_atomic_run_that_succeeds_commits_everything_at_once() {
    let (_dir, store) = open();
    let c = connector(&store, "xml");
    let run = store
        .begin_run(c.id, RunMode::Full, "test", Duration::seconds(60))
        .expect("run");
    store.begin_atomic(&run).expect("atomic");
    store
        .write_batch(&run, &batch(&["a", "b"]), &RunCounters::default())
        .expect("batch");
    assert_eq!(store.close_unseen(&run, &["app".into()]).expect("close"), 0);
    assert_eq!(
        store
            .mark_inactive(&run, Utc::now() - Duration::days(1))
            .expect("inactive"),
        (0, 0)
    );
    store
        .finish_run(
            &run,
            &batch(&["c"]),
            &end(RunState::Processed, RunCounters::default()),
        )
        .expect("finish");
    assert_eq!(
        store.findings(&ListQuery::default()).expect("list").len(),
        3
    );
    let r = store.run(run.id).expect("run").expect("exists");
    assert_eq!(r.state, RunState::Processed);
    assert_eq!(r.counters.inserted, 1, "the last batch's counts are added");

    // An abandoned atomic run is rolled back on request.
    let run2 = store
        .begin_run(c.id, RunMode::Full, "test", Duration::seconds(60))
        .expect("run");
    store.begin_atomic(&run2).expect("atomic");
    store
        .write_batch(&run2, &batch(&["d"]), &RunCounters::default())
        .expect("batch");
    assert!(store.rollback_atomic(run2.id).expect("rollback"));
    assert_eq!(
        store.findings(&ListQuery::default()).expect("list").len(),
        3
    );
}

#[test]
fn assets_not_seen_for_long_become_inactive_with_their_findings() {
    let (_dir, store) = open();
    let c = connector(&store, "ase");
    let run = store
        .begin_run(c.id, RunMode::Full, "test", Duration::seconds(60))
        .expect("run");
    store
        .write_batch(&run, &batch(&["a"]), &RunCounters::default())
        .expect("batch");
    // Seen just now: not inactive for a cut-off in the past.
    assert_eq!(
        store
            .mark_inactive(&run, Utc::now() - Duration::days(30))
            .expect("mark"),
        (0, 0)
    );
    // A cut-off in the future makes everything inactive.
    assert_eq!(
        store
            .mark_inactive(&run, Utc::now() + Duration::seconds(5))
            .expect("mark"),
        (1, 1)
    );
    assert!(!store.assets(&ListQuery::default()).expect("assets")[0].active);
    assert!(!store.findings(&ListQuery::default()).expect("findings")[0].active);
    // Seen again: active again.
    store
        .write_batch(&run, &batch(&["a"]), &RunCounters::default())
        .expect("batch");
    assert!(store.assets(&ListQuery::default()).expect("assets")[0].active);
    assert!(store.findings(&ListQuery::default()).expect("findings")[0].active);
}

#[test]
fn dedupe_groups_findings_by_fingerprint_across_connectors() {
    let (_dir, store) = open();
    for (name, ids) in [("cloud", ["x1", "x2"]), ("report", ["y1", "y2"])] {
        let c = connector(&store, name);
        let run = store
            .begin_run(c.id, RunMode::Full, "test", Duration::seconds(60))
            .expect("run");
        let mut b = batch(&[]);
        for (i, id) in ids.iter().enumerate() {
            let mut f = finding(id, "app", Status::New);
            // The first finding of each connector is the same weakness.
            f.fingerprint = if i == 0 {
                "shared".into()
            } else {
                format!("own-{id}")
            };
            if name == "report" && i == 0 {
                f.finding.severity = model::Severity::Critical;
                f.finding.status = Status::Closed;
            }
            b.findings.push(f);
        }
        store
            .write_batch(&run, &b, &RunCounters::default())
            .expect("batch");
    }
    let all = store.dedupe(&ListQuery::default()).expect("dedupe");
    assert_eq!(all.len(), 3);
    let shared = &all[0];
    assert_eq!(shared.fingerprint, "shared");
    assert_eq!(
        shared.sources,
        vec!["cloud".to_string(), "report".to_string()]
    );
    assert_eq!((shared.findings, shared.open), (2, 1));
    assert_eq!(shared.severity, model::Severity::Critical);
    assert_eq!(shared.name, "Cross-Site Scripting");
    assert_eq!(shared.asset.as_deref(), Some("Shop app"));
    assert_eq!(
        shared.location.as_deref(),
        Some("https://shop.example.com/x1")
    );
    assert_eq!(shared.cwe, Some(79));
    assert_eq!(shared.finding_ids.len(), 2);
    let only_cloud = store
        .dedupe(&ListQuery {
            connector: Some("cloud".into()),
            ..ListQuery::default()
        })
        .expect("dedupe");
    assert_eq!(only_cloud.len(), 2);
    assert!(only_cloud.iter().any(|g| g.sources.len() == 2));
    let limited = store
        .dedupe(&ListQuery {
            limit: Some(1),
            offset: Some(1),
            ..ListQuery::default()
        })
        .expect("dedupe");
    assert_eq!(limited.len(), 1);
    // A filter picks the groups with a finding it selects, each still counting all of
    // its findings (it was ignored: every group came back).
    let filtered = |connector: Option<&str>, filter: &str| -> Vec<String> {
        store
            .dedupe(&ListQuery {
                connector: connector.map(str::to_string),
                filter: Some(query::Filter::parse(query::Entity::Findings, filter).expect(filter)),
                ..ListQuery::default()
            })
            .expect("dedupe")
            .iter()
            .map(|g| format!("{} {} {:?}", g.fingerprint, g.findings, g.sources))
            .collect()
    };
    assert_eq!(
        filtered(None, "severity:critical"),
        ["shared 2 [\"cloud\", \"report\"]"]
    );
    assert_eq!(
        filtered(Some("report"), "status:open"),
        ["own-y2 1 [\"report\"]"]
    );
    assert!(filtered(None, "app:\"no such app\"").is_empty());
}
