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
