//! The first load into an empty SQLite store writes without the unique external-id index
//! and builds it at the end (`src/sqlite/indexes.rs`). These tests hold it to what the
//! index promised: an id seen twice is one finding, however the repeats fall across
//! batches, connectors or concurrent runs; and a store from before the index was
//! separate keeps its findings and their history through the migration.

mod common;

use chrono::Duration;
use model::{Severity, Status};
use store::*;

fn has_external_id_index(path: &std::path::Path) -> bool {
    common::index_names(path)
        .iter()
        .any(|n| n == "findings_by_external_id")
}

fn batch(findings: Vec<FindingRecord>) -> Batch {
    Batch {
        assets: vec![common::asset("app")],
        findings,
        issues: vec![],
    }
}

fn end() -> RunEnd {
    common::end(RunState::Processed, None)
}

/// A store in `dir` with one connector whose first run has begun.
fn first_load(dir: &std::path::Path, name: &str) -> (SqliteStore, std::path::PathBuf, Run) {
    let path = dir.join("store.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    let c = common::connector(&store, name);
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    (store, path, run)
}

fn open_finding(id: &str) -> FindingRecord {
    common::finding(id, "app", Status::Active)
}

fn stored(store: &SqliteStore, connector: &str) -> Vec<(String, Severity)> {
    let q = ListQuery {
        connector: Some(connector.into()),
        ..Default::default()
    };
    let mut all: Vec<_> = store
        .findings(&q)
        .expect("list")
        .into_iter()
        .map(|f| (f.finding.external_id, f.finding.severity))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

#[test]
fn an_id_seen_twice_during_a_first_load_is_one_finding() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, path, run) = first_load(dir.path(), "bulk");
    assert!(!has_external_id_index(&path), "a first load defers it");
    let none = RunCounters::default();

    let first = store
        .write_batch(
            &run,
            &batch(vec![open_finding("a"), open_finding("b")]),
            &none,
        )
        .expect("first batch");
    assert_eq!(first.inserted, 3, "the app and two findings");
    assert_eq!(first.repeated, 0);
    assert!(!has_external_id_index(&path), "no repeat yet");

    // "b" again, changed: the repeat builds the index and updates the stored row.
    let mut b = open_finding("b");
    b.finding.severity = Severity::Critical;
    let second = store
        .write_batch(&run, &batch(vec![b, open_finding("c")]), &none)
        .expect("second batch");
    // (The app is unchanged in every batch after the first.)
    assert_eq!(
        (second.inserted, second.updated, second.unchanged),
        (1, 1, 1)
    );
    // The repeat that ends the bulk load is looked up, and told a repeat by its row.
    assert_eq!(
        (second.repeated, second.first_repeated.as_deref()),
        (1, Some("b"))
    );
    assert!(has_external_id_index(&path), "built at the first repeat");

    // A repeat inside one batch, after the bulk load ended, is an upsert as ever.
    let d = open_finding("d");
    let last = store
        .finish_run(&run, &batch(vec![d.clone(), d]), &end())
        .expect("finish");
    assert_eq!((last.inserted, last.unchanged), (1, 2));
    assert_eq!(
        (last.repeated, last.first_repeated.as_deref()),
        (1, Some("d"))
    );
    assert_eq!(
        stored(&store, "bulk"),
        vec![
            ("a".to_string(), Severity::High),
            ("b".to_string(), Severity::Critical),
            ("c".to_string(), Severity::High),
            ("d".to_string(), Severity::High),
        ]
    );
}

#[test]
fn a_repeat_in_the_same_batch_of_a_first_load_is_one_finding() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, path, run) = first_load(dir.path(), "bulk");
    let x = open_finding("x");
    let counts = store
        .finish_run(&run, &batch(vec![x.clone(), open_finding("y"), x]), &end())
        .expect("finish");
    assert_eq!(
        (counts.inserted, counts.unchanged),
        (3, 1),
        "the app, x, y; x again"
    );
    assert_eq!(
        (counts.repeated, counts.first_repeated.as_deref()),
        (1, Some("x"))
    );
    assert_eq!(stored(&store, "bulk").len(), 2);
    assert!(has_external_id_index(&path));
}

#[test]
fn two_connectors_loading_an_empty_store_at_once_may_share_ids() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    let (a, b) = (
        common::connector(&store, "one"),
        common::connector(&store, "two"),
    );
    let ra = store
        .begin_run(a.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin a");
    let rb = store
        .begin_run(b.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin b");
    let none = RunCounters::default();
    for run in [&ra, &rb] {
        let counts = store
            .write_batch(run, &batch(vec![open_finding("same")]), &none)
            .expect("write");
        assert_eq!(
            counts.repeated, 0,
            "an id of another connector is no repeat"
        );
    }
    assert!(!has_external_id_index(&path), "both are bulk loads");
    for run in [&ra, &rb] {
        store
            .finish_run(run, &batch(vec![open_finding("other")]), &end())
            .expect("finish");
    }
    assert_eq!(stored(&store, "one").len(), 2);
    assert_eq!(stored(&store, "two").len(), 2);
    assert!(has_external_id_index(&path));
}

#[test]
fn a_run_that_starts_during_a_first_load_builds_the_indexes_before_it_writes() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    let all = common::index_names(&path);
    let (a, b) = (
        common::connector(&store, "first"),
        common::connector(&store, "second"),
    );
    let none = RunCounters::default();
    let (f1, g1) = (open_finding("f1"), open_finding("g1"));
    let ra = store
        .begin_run(a.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin a");
    store
        .write_batch(&ra, &batch(vec![f1.clone()]), &none)
        .expect("write a");
    assert!(!has_external_id_index(&path));

    // The store is no longer empty: the second run looks findings up, so it needs them.
    let rb = store
        .begin_run(b.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin b");
    assert_eq!(common::index_names(&path), all);
    store
        .write_batch(&rb, &batch(vec![g1.clone()]), &none)
        .expect("write b");
    let again = store
        .finish_run(&rb, &batch(vec![g1]), &end())
        .expect("finish b");
    assert_eq!((again.inserted, again.unchanged), (0, 2), "the app and g1");

    // The first run goes on as it began.
    store
        .write_batch(&ra, &batch(vec![open_finding("f2")]), &none)
        .expect("write a again");
    let last = store
        .finish_run(&ra, &batch(vec![f1]), &end())
        .expect("finish a");
    assert_eq!((last.inserted, last.unchanged), (0, 2), "the app and f1");
    assert_eq!(stored(&store, "first").len(), 2);
    assert_eq!(stored(&store, "second").len(), 1);
    assert_eq!(common::index_names(&path), all);
}

/// The SQLite migrations up to `version`, as a store of that version was created.
const MIGRATIONS_1_TO_6: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_api_tokens.sql"),
    include_str!("../migrations/sqlite/0003_query_risk_kev.sql"),
    include_str!("../migrations/sqlite/0004_due_runs.sql"),
    include_str!("../migrations/sqlite/0005_asset_risk_covering.sql"),
    include_str!("../migrations/sqlite/0006_severity_desc.sql"),
];

#[test]
fn a_store_from_before_the_separate_index_keeps_its_findings_and_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.pragma_update(None, "foreign_keys", "ON").expect("fk");
        for sql in MIGRATIONS_1_TO_6 {
            conn.execute_batch(sql).expect("old migration");
        }
        conn.pragma_update(None, "user_version", 6)
            .expect("version");
        conn.execute_batch(
            "INSERT INTO connectors(id, name, kind, created_at, updated_at)
                 VALUES (1, 'old', 'asoc', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             INSERT INTO findings(id, connector_id, external_id, asset_external_id, name, severity,
                 source_severity, status, fingerprint, content_hash, first_seen, last_seen, risk)
                 VALUES (7, 1, 'kept', 'app', 'XSS', 4, 'High', 'OPEN', 'fp', 'h',
                         '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 42);
             INSERT INTO finding_history(finding_id, run_id, at, old_status, new_status)
                 VALUES (7, NULL, '2026-01-01T00:00:00Z', NULL, 'OPEN'),
                        (7, NULL, '2026-01-02T00:00:00Z', 'OPEN', 'FIXED');",
        )
        .expect("old rows");
    }
    assert_eq!(
        SqliteStore::pending_upgrade(&path).expect("read version"),
        Some((6, 11)),
        "a caller can tell an upgrade is coming"
    );
    let store = SqliteStore::open(&path).expect("migrate");
    assert_eq!(
        SqliteStore::pending_upgrade(&path).expect("read version"),
        None
    );
    assert_eq!(
        SqliteStore::pending_upgrade(&dir.path().join("new.sqlite3")).expect("no file"),
        None
    );
    let conn = rusqlite::Connection::open(&path).expect("open");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(version, 11);
    let (id, risk): (i64, i64) = conn
        .query_row(
            "SELECT id, risk FROM findings WHERE external_id = 'kept'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("finding kept");
    assert_eq!((id, risk), (7, 42));
    let history: i64 = conn
        .query_row(
            "SELECT count(*) FROM finding_history WHERE finding_id = 7",
            [],
            |r| r.get(0),
        )
        .expect("history");
    assert_eq!(
        history, 2,
        "the table rebuild must not cascade into history"
    );
    // The key is still unique...
    let dup = conn.execute(
        "INSERT INTO findings(connector_id, external_id, asset_external_id, name, severity,
             source_severity, status, fingerprint, content_hash, first_seen, last_seen)
         VALUES (1, 'kept', 'app', 'XSS', 4, 'High', 'OPEN', 'fp', 'h', 'x', 'x')",
        [],
    );
    assert!(dup.is_err(), "{dup:?}");
    // ...and deleting the connector still cascades through the store's connection.
    assert!(store.delete_connector("old").expect("delete"));
    let left: i64 = conn
        .query_row("SELECT count(*) FROM finding_history", [], |r| r.get(0))
        .expect("history");
    assert_eq!(left, 0);
}
