//! The store contract against a real SQLite file in a temp dir.

mod common;

#[test]
fn sqlite_store_meets_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open");
    common::contract(&store);
    // Re-opening runs no migration twice and keeps the data.
    drop(store);
    let again = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("reopen");
    assert!(
        store::Store::connector(&again, "upserts")
            .expect("get")
            .is_some()
    );
}

/// The store file deleted (or replaced by a restore) under a running process: a readiness
/// probe said ready and scheduled syncs wrote into a file nobody could open again. Now
/// both say the file is gone.
#[test]
fn a_store_file_removed_under_the_process_is_noticed() {
    use chrono::Duration;
    use store::{RunMode, SqliteStore, Store, StoreError};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    let c = common::connector(&store, "gone");
    store.check_reachable().expect("reachable");
    for f in ["store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm"] {
        let _ = std::fs::remove_file(dir.path().join(f));
    }
    assert!(matches!(
        store.check_reachable(),
        Err(StoreError::FileGone { .. })
    ));
    assert!(matches!(
        store.begin_run(c.id, RunMode::Full, "t", Duration::minutes(1)),
        Err(StoreError::FileGone { .. })
    ));
}

/// Commands opening a new store at once (a service starting while a setup script adds a
/// connector) each bring it up to date once: the version was read outside the migrations'
/// transactions, so the second ran the first's migrations again and failed ("table
/// connectors already exists") or left a store no command could open; and the switch to
/// WAL mode, which SQLite fails at once while another connection holds a lock, failed
/// one open in four runs of this test with "database is locked".
#[test]
fn concurrent_first_opens_migrate_once() {
    use store::{NewConnector, SqliteStore, Store};
    for round in 0..10 {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.sqlite3");
        std::thread::scope(|s| {
            let opens: Vec<_> = (0..6)
                .map(|i| {
                    let path = &path;
                    s.spawn(move || {
                        let store = SqliteStore::open(path)
                            .unwrap_or_else(|e| panic!("round {round}, open {i}: {e}"));
                        store
                            .create_connector(&NewConnector {
                                name: format!("c{i}"),
                                kind: "xml".into(),
                                url: None,
                                key_id: None,
                                secret: None,
                                settings: serde_json::json!({}),
                            })
                            .unwrap_or_else(|e| panic!("round {round}, connector {i}: {e}"));
                    })
                })
                .collect();
            for open in opens {
                open.join().expect("thread");
            }
        });
        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            store.connectors().expect("connectors").len(),
            6,
            "none lost"
        );
    }
}

/// A process that dies mid-run leaves its batches stored but not the assets' risk its
/// run's end would have set; the connector's next run sets it as it begins.
/// A newer binary upgrades the store while this process runs (a service left running
/// through an upgrade): the process's next run is refused, where an old service kept
/// syncing and left the assets' kept risk totals stale.
#[test]
fn a_run_after_a_newer_binary_upgraded_the_store_is_refused() {
    use store::{RunMode, SqliteStore, Store, StoreError};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    let c = common::connector(&store, "old");
    let newer = rusqlite::Connection::open(&path).expect("another connection");
    let known: i64 = newer
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    newer
        .pragma_update(None, "user_version", known + 1)
        .expect("a newer binary's migration");
    let err = store
        .begin_run(c.id, RunMode::Delta, "old", chrono::Duration::minutes(5))
        .expect_err("refused");
    assert!(matches!(err, StoreError::UpgradedUnderUs { .. }), "{err}");
    assert!(err.to_string().contains("restart it"), "{err}");
    // And the readiness probe says so (it said ready while every run was refused).
    assert!(matches!(
        store.check_reachable(),
        Err(StoreError::UpgradedUnderUs { .. })
    ));
}

/// A store file others may read (as versions before 0600 stores left them) is made the
/// owner's alone when it is opened, its write-ahead log too.
#[cfg(unix)]
#[test]
fn an_existing_store_readable_by_others_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    drop(store::SqliteStore::open(&path).expect("open"));
    let open = std::fs::Permissions::from_mode(0o644);
    std::fs::set_permissions(&path, open).expect("chmod");
    let store = store::SqliteStore::open(&path).expect("reopen");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let wal = dir.path().join("store.sqlite3-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "SQLite makes it with the store's mode");
    }
    drop(store);
    // A file that is no store is refused as it is, its mode untouched.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello\n").expect("write");
    std::fs::set_permissions(&notes, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    store::SqliteStore::open(&notes).expect_err("not a database");
    assert_eq!(mode(&notes), 0o644);
}

#[test]
fn the_run_after_an_interrupted_one_refreshes_asset_risk() {
    use chrono::Duration;
    use model::Status;
    use store::{Batch, ListQuery, RunCounters, RunMode, SqliteStore, Store};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    let c = common::connector(&store, "dies");
    // A lease that has already run out, as a dead process's would have.
    let dead = Duration::seconds(-1);
    let run = store
        .begin_run(c.id, RunMode::Full, "dead", dead)
        .expect("begin");
    let batch = Batch {
        assets: vec![common::asset("app1")],
        findings: vec![common::finding("f1", "app1", Status::New)],
        issues: vec![],
    };
    store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("write");
    drop(store);

    let store = SqliteStore::open(&path).expect("reopen");
    let risk = |store: &SqliteStore| store.assets(&ListQuery::default()).expect("assets")[0].risk;
    assert_eq!(risk(&store), 0, "the dead run never refreshed it");
    store
        .begin_run(c.id, RunMode::Delta, "next", Duration::minutes(5))
        .expect("the next run takes over");
    let finding = store.findings(&ListQuery::default()).expect("findings")[0].risk;
    assert!(finding > 0);
    assert_eq!(
        risk(&store),
        finding,
        "one open finding: the asset's risk is its own"
    );
}

/// Assets keep their open findings' risk totals run by run (`common::kept_totals`).
#[test]
fn asset_risks_follow_their_findings_from_kept_totals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let store = store::SqliteStore::open(&path).expect("open");
    let mut conn = rusqlite::Connection::open(&path).expect("second connection");
    common::kept_totals::asset_risks_follow_their_findings(&store, &mut conn);
}

/// A remap reads the raw records while it writes them again, so no read may stay open
/// while the caller's callback runs: a reader's snapshot keeps the write-ahead log from
/// starting over after a checkpoint, and a remap of a million findings grew it to 8.5 GB
/// beside a 1.5 GB store. Checked as SQLite sees it: a TRUNCATE checkpoint from another
/// connection, run inside the callback, finds no reader in its way. The pages of the read
/// cover every record once, across page boundaries.
#[test]
fn reading_raw_records_holds_no_read_while_the_caller_works() {
    use chrono::Duration;
    use model::Status;
    use store::{Batch, RunCounters, RunMode, SqliteStore, Store};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    let c = common::connector(&store, "remapped");
    let run = store
        .begin_run(c.id, RunMode::Full, "test", Duration::minutes(5))
        .expect("begin");
    let findings = (0..2_500)
        .map(|i| common::finding(&format!("f{i}"), "app1", Status::New))
        .collect();
    let batch = Batch {
        assets: vec![common::asset("app1")],
        findings,
        issues: vec![],
    };
    store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("write");

    let side = rusqlite::Connection::open(&path).expect("side connection");
    let checkpoint_blocked = || {
        side.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        })
        .expect("checkpoint")
            == 1
    };
    let mut seen = Vec::new();
    store
        .for_each_raw(c.id, &mut |_, _, raw, _| {
            seen.push(raw["Id"].as_str().unwrap_or_default().to_string());
            if [1, 2, 1_500].contains(&seen.len()) {
                // Something to checkpoint, as a remap's own writes would leave.
                side.execute("UPDATE connectors SET settings = settings", [])
                    .expect("write");
                assert!(
                    !checkpoint_blocked(),
                    "a read is open at record {}",
                    seen.len()
                );
            }
            Ok(())
        })
        .expect("read");
    assert_eq!(seen.len(), 2_501);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 2_501, "each record once");
}

/// An export streams every finding it selects, for minutes on a large store: on the
/// shared read connection it kept `serve`'s listings, summaries and readiness probe
/// waiting until it ended. Long reads have a connection of their own; while one is in
/// the middle of its rows, the others answer.
#[test]
fn a_long_read_does_not_hold_the_other_reads() {
    use std::sync::mpsc;
    use store::{ListQuery, SqliteStore, Store};
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        std::sync::Arc::new(SqliteStore::open(&dir.path().join("s.sqlite3")).expect("open"));
    let c = common::connector(store.as_ref(), "long");
    common::full_run_seeing(
        store.as_ref(),
        &c,
        (0..20)
            .map(|i| common::finding(&format!("f{i}"), "a", model::Status::New))
            .collect(),
    );
    let (started, in_the_middle) = mpsc::channel();
    let (go_on, release) = mpsc::channel::<()>();
    let streaming = {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut first = true;
            store.for_each_finding(&ListQuery::default(), &mut |_| {
                if std::mem::take(&mut first) {
                    let _ = started.send(());
                    let _ = release.recv();
                }
                Ok(())
            })
        })
    };
    in_the_middle.recv().expect("the export started");
    let (done, answered) = mpsc::channel();
    {
        let store = store.clone();
        std::thread::spawn(move || {
            let listed = store.findings(&ListQuery::default()).map(|f| f.len());
            let ready = store.check_reachable();
            let summary = store.summary(None).map(|s| s.findings);
            let _ = done.send((listed, ready.is_ok(), summary));
        });
    }
    // A deadlock detector, not a timing: before, these waited for the export forever.
    let (listed, ready, summary) = answered
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the other reads answered while the export was in the middle of its rows");
    assert_eq!(listed.expect("listing"), 20);
    assert!(ready);
    assert_eq!(summary.expect("summary"), 20);
    go_on.send(()).expect("release");
    streaming.join().expect("join").expect("export");
}

/// The summary's counts are one snapshot: while a sync wrote, its separate statements
/// saw different rows (statuses summing to more findings than there were).
#[test]
fn the_summary_is_one_snapshot_while_a_run_writes() {
    use chrono::Duration;
    use store::{Batch, RunCounters, RunMode, RunState, SqliteStore, Store};
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        std::sync::Arc::new(SqliteStore::open(&dir.path().join("s.sqlite3")).expect("open"));
    let c = common::connector(store.as_ref(), "busy");
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            let run = store
                .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
                .expect("begin");
            for b in 0..150 {
                let batch = Batch {
                    assets: vec![common::asset("a")],
                    findings: (0..20)
                        .map(|i| common::finding(&format!("f{b}-{i}"), "a", model::Status::New))
                        .collect(),
                    issues: vec![],
                };
                store
                    .write_batch(&run, &batch, &RunCounters::default())
                    .expect("write");
            }
            store
                .finish_run(
                    &run,
                    &Batch::default(),
                    &common::end(RunState::Processed, None),
                )
                .expect("finish");
        })
    };
    while !writer.is_finished() {
        let s = store.summary(None).expect("summary");
        let by_status: u64 = s.by_status.iter().map(|(_, n)| n).sum();
        let by_severity: u64 = s.by_severity.iter().map(|(_, n)| n).sum();
        assert_eq!(by_status, s.findings, "{s:?}");
        assert_eq!(by_severity, s.findings, "{s:?}");
    }
    writer.join().expect("writer");
}

#[test]
fn sqlite_runs_follow_their_connector() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open");
    common::runs_follow_their_connector(&store);
}

#[test]
fn sqlite_scores_follow_their_asset_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open");
    common::scores_follow_their_asset_url(&store);
}
