//! The store contract against a real PostgreSQL server, each test in its own schema.

mod common;
mod pgtest;

use chrono::Duration;
use model::Status;
use store::*;

#[test]
fn postgres_store_meets_the_contract() {
    let Some(db) = pgtest::TestDb::new("contract") else {
        return;
    };
    let store = db.open();
    common::contract(&store);
    // Re-opening runs no migration twice and keeps the data.
    let version = store.schema_version().expect("version");
    drop(store);
    let again = db.open();
    assert_eq!(again.schema_version().expect("version"), version);
    assert!(again.connector("upserts").expect("get").is_some());
}

#[test]
fn debug_and_errors_hide_the_password() {
    let Some(db) = pgtest::TestDb::new("password") else {
        return;
    };
    // Trust authentication accepts any password, so the URL can carry one.
    let url = db
        .url()
        .replacen("postgres://postgres@", "postgres://postgres:hunter2@", 1);
    assert!(url.contains("hunter2"), "{url}");
    let store = PgStore::open(&url).expect("open");
    let shown = format!("{store:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("postgres:***@"), "{shown}");
    let err = PgStore::open("postgres://u:hunter2@127.0.0.1:1/none?connect_timeout=1")
        .expect_err("nothing listens on port 1");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

/// Two pools on one schema: the second open finds the schema migrated and changes nothing.
#[test]
fn concurrent_opens_migrate_once() {
    let Some(db) = pgtest::TestDb::new("opens") else {
        return;
    };
    let url = db.url();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStore::open(&url).map(|s| s.schema_version()))
        })
        .collect();
    for h in handles {
        let v = h.join().expect("thread").expect("open").expect("version");
        assert!(v >= 2);
    }
}

/// A record repeated within one batch counts and keeps history as if written one by one.
#[test]
fn repeated_records_in_one_batch_match_sqlite() {
    let Some(db) = pgtest::TestDb::new("repeat") else {
        return;
    };
    let pg = db.open();
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    let mut seen = Vec::new();
    for s in [&pg as &dyn Store, &lite as &dyn Store] {
        let c = common::connector(s, "rep");
        let run = s
            .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
            .expect("begin");
        let batch = Batch {
            assets: vec![common::asset("a"), common::asset("a")],
            findings: vec![
                common::finding("f", "a", Status::New),
                common::finding("f", "a", Status::Fixed),
                common::finding("f", "a", Status::Fixed),
                common::finding("g", "a", Status::New),
            ],
            issues: vec![],
        };
        let first = s
            .write_batch(&run, &batch, &RunCounters::default())
            .expect("write");
        let second = s
            .write_batch(&run, &batch, &RunCounters::default())
            .expect("write again");
        let f = s
            .findings(&ListQuery::default())
            .expect("list")
            .into_iter()
            .find(|f| f.finding.external_id == "f")
            .expect("f");
        let history: Vec<_> = s
            .finding_history(f.id)
            .expect("history")
            .into_iter()
            .map(|h| (h.old_status, h.new_status))
            .collect();
        seen.push((first, second, f.finding.status, history));
    }
    assert_eq!(seen[0], seen[1]);
    // Asset a: inserted, then unchanged. Finding f: inserted New, updated to Fixed, then
    // updated again (each record has its own first_found). Finding g: inserted.
    assert_eq!(
        seen[0].0,
        BatchCounts {
            inserted: 3,
            updated: 2,
            unchanged: 1
        }
    );
    // The second write moves f New again and back to Fixed: two more history rows.
    assert_eq!(
        seen[0].3,
        vec![
            (None, Status::New),
            (Some(Status::New), Status::Fixed),
            (Some(Status::Fixed), Status::New),
            (Some(Status::New), Status::Fixed)
        ]
    );
}
