//! API tokens and the open-findings series of the SQLite store.

mod common;

use chrono::Duration;
use common::{asset, connector, finding};
use model::Status;
use store::*;

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open");
    (dir, store)
}

#[test]
fn tokens_are_created_used_and_revoked() {
    let (_dir, store) = open();
    let t = store.create_token("ci", "h1", "abt_1234").expect("create");
    assert_eq!((t.name.as_str(), t.hint.as_str()), ("ci", "abt_1234"));
    assert!(t.last_used_at.is_none() && t.revoked_at.is_none());
    assert!(matches!(
        store.create_token("ci", "h2", "abt_5678"),
        Err(StoreError::TokenExists(_))
    ));
    let used = store.use_token("h1").expect("use").expect("live");
    assert!(used.last_used_at.is_some());
    assert!(store.use_token("nope").expect("use").is_none());
    // Another process writing (a CLI import holds SQLite's lock for its whole length):
    // a token is still checked, at once, without recording its use (every authorized
    // request waited 30 s and answered 500).
    {
        store
            .create_token("fresh", "h3", "abt_9999")
            .expect("create");
        let other = rusqlite::Connection::open(_dir.path().join("store.sqlite3")).expect("open");
        other.execute_batch("BEGIN IMMEDIATE").expect("lock");
        assert!(store.use_token("h1").expect("checked").is_some());
        let fresh = store.use_token("h3").expect("checked").expect("live");
        assert_eq!(
            fresh.last_used_at, None,
            "not recorded while the store is locked"
        );
        assert!(store.use_token("nope").expect("checked").is_none());
        other.execute_batch("ROLLBACK").expect("unlock");
        assert!(store.revoke_token("fresh").expect("revoke"));
    }

    let second = store.create_token("ops", "h2", "abt_5678").expect("create");
    assert!(store.revoke_token(&second.id.to_string()).expect("revoke"));
    assert!(
        !store.revoke_token("ops").expect("again"),
        "already revoked"
    );
    assert!(store.use_token("h2").expect("use").is_none());
    assert!(store.revoke_token("ci").expect("by name"));
    let all = store.tokens().expect("list");
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|t| t.revoked_at.is_some()));
}

#[test]
fn open_series_follows_status_changes_per_run() {
    let (_dir, store) = open();
    let c = connector(&store, "trend");
    let run = |findings: Vec<FindingRecord>| {
        let r = store
            .begin_run(c.id, RunMode::Full, "test", Duration::seconds(60))
            .expect("begin");
        let batch = Batch {
            assets: vec![asset("app1")],
            findings,
            issues: vec![],
        };
        store
            .finish_run(
                &r,
                &batch,
                &RunEnd {
                    state: RunState::Processed,
                    connector_state: ConnectorState::Processed,
                    reason: None,
                    counters: RunCounters::default(),
                    cursor: None,
                    scope: None,
                },
            )
            .expect("finish");
    };
    assert!(store.open_findings_series(None).expect("empty").is_empty());
    run(vec![
        finding("f1", "app1", Status::New),
        finding("f2", "app1", Status::Active),
        finding("f3", "app1", Status::Fixed),
    ]);
    run(vec![
        finding("f1", "app1", Status::Fixed),
        finding("f4", "app1", Status::New),
    ]);
    run(vec![finding("f3", "app1", Status::Reopened)]);
    let open = |connector: &str| -> Vec<u64> {
        store
            .open_findings_series(Some(connector))
            .expect("series")
            .iter()
            .map(|p| p.open)
            .collect()
    };
    assert_eq!(open("trend"), vec![2, 2, 3]);
    // A history row that names no run (or a run no longer kept) counts for its finding's
    // connector: here the third run's row, then every row, whose runs are gone.
    let conn = rusqlite::Connection::open(store.path()).expect("second connection");
    conn.execute(
        "UPDATE finding_history SET run_id = NULL WHERE run_id = (SELECT MAX(run_id) FROM finding_history)",
        [],
    )
    .expect("forget the run");
    assert_eq!(open("trend"), vec![2, 2, 3]);
    conn.execute("DELETE FROM runs", [])
        .expect("forget every run");
    assert_eq!(open("trend").last(), Some(&3));
    assert!(open("other").is_empty());
}
