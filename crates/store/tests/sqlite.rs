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

/// A process that dies mid-run leaves its batches stored but not the assets' risk its
/// run's end would have set; the connector's next run sets it as it begins.
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
