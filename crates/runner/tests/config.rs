//! Applying a config file to a real store (SQLite, and PostgreSQL where it answers):
//! everything that can fail is checked before anything is written, and processes that
//! apply the same file at once all succeed.

use runner::{AddConnector, MasterKey, Runner, Settings, config};
use std::path::Path;
use std::sync::Arc;

#[path = "../../store/tests/pgtest/mod.rs"]
mod pgtest;

/// The key every runner of these tests shares.
fn key() -> MasterKey {
    MasterKey::from_hex(&"cd".repeat(32), "test").expect("key")
}

/// A runner on the SQLite store in `dir`.
fn sqlite_runner(dir: &Path) -> Runner {
    let store = store::SqliteStore::open(&dir.join("store.sqlite3")).expect("store opens");
    Runner::new(Arc::new(store), key())
}

/// `text` written to `dir/c.toml` and loaded.
fn load(dir: &Path, text: &str) -> config::Config {
    let file = dir.join("c.toml");
    std::fs::write(&file, text).expect("write");
    config::load(&file).expect("a valid file")
}

/// An xml connector stored with `description`.
fn add_xml(runner: &Runner, name: &str, description: &str) {
    runner
        .add_connector(AddConnector {
            name: name.into(),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: Settings {
                description: Some(description.into()),
                ..Settings::default()
            },
        })
        .expect("added");
}

/// The stored description of connector `name`.
fn description(runner: &Runner, name: &str) -> Option<String> {
    let c = runner.connector(name).expect("stored");
    Settings::from_json(&c.settings)
        .expect("settings")
        .description
}

/// A problem found while applying (a map that does not exist, a kind the stored
/// connector does not have) on a later connector left the earlier ones changed or
/// created: the file is checked against the store first, and nothing is written.
#[test]
fn a_file_that_cannot_be_applied_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runner = sqlite_runner(dir.path());
    add_xml(&runner, "kept", "old");
    add_xml(&runner, "reports", "stored");
    let first = "[[connector]]\nname = \"kept\"\nkind = \"xml\"\ndescription = \"new\"\n\n\
                 [[connector]]\nname = \"added\"\nkind = \"xml\"\n\n";
    let no_map = load(
        dir.path(),
        &format!("{first}[[connector]]\nname = \"mapped\"\nkind = \"xml\"\nmap = \"nosuch\"\n"),
    );
    let err = runner
        .apply_config(&no_map)
        .expect_err("no such map")
        .to_string();
    assert!(
        err.contains("c.toml:10: connector 'mapped': map 'nosuch' does not exist")
            && err.contains("map clone default nosuch"),
        "{err}"
    );
    let other_kind = load(
        dir.path(),
        &format!(
            "{first}[[connector]]\nname = \"reports\"\nkind = \"asoc\"\nurl = \"https://x\"\n\
             key_id = \"k\"\nkey_secret_env = \"APPSCAN_BRIDGE_TEST_UNSET_SECRET\"\n"
        ),
    );
    let err = runner
        .apply_config(&other_kind)
        .expect_err("another kind")
        .to_string();
    assert!(
        err.contains("c.toml:10: connector 'reports': it is an xml connector in the store"),
        "{err}"
    );
    assert_eq!(description(&runner, "kept").as_deref(), Some("old"));
    assert!(runner.store.connector("added").expect("store").is_none());
    // The same file, once it can be applied, is.
    let fine = load(dir.path(), first);
    runner.apply_config(&fine).expect("applied");
    assert_eq!(description(&runner, "kept").as_deref(), Some("new"));
    assert!(runner.store.connector("added").expect("store").is_some());
}

/// Processes applying the same file at once, which adds a connector (`serve` workers
/// starting together, two listings): one failed with "a connector named 'new1' already
/// exists". Each round adds a new connector from several runners of their own.
fn concurrent_adds_all_succeed(open: impl Fn() -> Runner + Sync, dir: &Path) {
    for round in 0..12 {
        let file = load(
            dir,
            &format!("[[connector]]\nname = \"new{round}\"\nkind = \"xml\"\ndescription = \"d\"\n"),
        );
        let runners: Vec<Runner> = (0..4).map(|_| open()).collect();
        let barrier = std::sync::Barrier::new(runners.len());
        std::thread::scope(|s| {
            let applied: Vec<_> = runners
                .iter()
                .map(|r| {
                    s.spawn(|| {
                        barrier.wait();
                        r.apply_config(&file).map_err(|e| e.to_string())
                    })
                })
                .collect();
            for a in applied {
                a.join().expect("no panic").expect("applied");
            }
        });
        assert_eq!(
            description(&runners[0], &format!("new{round}")).as_deref(),
            Some("d")
        );
    }
}

#[test]
fn concurrent_adds_of_the_same_connector_succeed_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    concurrent_adds_all_succeed(|| sqlite_runner(dir.path()), dir.path());
}

#[test]
fn concurrent_adds_of_the_same_connector_succeed_on_postgres() {
    let Some(db) = pgtest::TestDb::new("config_concurrent_adds") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // The schema made once, before the runners race.
    drop(db.open());
    concurrent_adds_all_succeed(|| Runner::new(Arc::new(db.open()), key()), dir.path());
}
