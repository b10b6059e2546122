//! Due runs and leases: the contract on SQLite and PostgreSQL, then several workers on
//! one PostgreSQL database.

mod common;
mod pgtest;

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::*;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0)
        .single()
        .expect("time")
}

/// Enqueue, claim, renew, complete and take over, with a controlled clock.
fn due_contract(store: &dyn Store) {
    let a = common::connector(store, "due-a");
    let b = common::connector(store, "due-b");
    let lease = Duration::seconds(60);

    // Nothing due yet.
    let first = store
        .enqueue_run(a.id, t(100), None)
        .expect("enqueue")
        .expect("added");
    assert_eq!(first.state, due::DueState::Pending);
    assert_eq!(first.connector, "due-a");
    assert!(
        store
            .claim_due_run("w1", lease, t(99))
            .expect("claim")
            .is_none()
    );

    // The same due time again, or a later one while one is open: nothing changes.
    assert!(
        store
            .enqueue_run(a.id, t(100), None)
            .expect("again")
            .is_none()
    );
    assert!(
        store
            .enqueue_run(a.id, t(200), None)
            .expect("later")
            .is_none()
    );
    // An earlier one (a manual trigger) pulls the pending run forward.
    let moved = store
        .enqueue_run(a.id, t(50), Some(RunMode::Full))
        .expect("earlier")
        .expect("moved");
    assert_eq!(
        (moved.id, moved.due_at, moved.mode),
        (first.id, t(50), Some(RunMode::Full))
    );
    store
        .enqueue_run(b.id, t(60), None)
        .expect("b")
        .expect("added");

    // Oldest due first; a second worker gets the next one, then nothing.
    let c1 = store
        .claim_due_run("w1", lease, t(100))
        .expect("claim")
        .expect("a");
    assert_eq!(
        (c1.connector_id, c1.attempt, c1.worker.as_str()),
        (a.id, 1, "w1")
    );
    assert_eq!(c1.lease_expires_at, t(160));
    assert!(!c1.taken_over());
    let c2 = store
        .claim_due_run("w2", lease, t(100))
        .expect("claim")
        .expect("b");
    assert_eq!(c2.connector_id, b.id);
    assert!(
        store
            .claim_due_run("w3", lease, t(100))
            .expect("claim")
            .is_none()
    );
    // While a's due run is claimed no other can be enqueued for a.
    assert!(
        store
            .enqueue_run(a.id, t(120), None)
            .expect("open")
            .is_none()
    );

    // w1 renews; w2 goes silent (dies).
    assert!(store.renew_claim(&c1, lease, t(150)).expect("renew"));
    assert!(
        store
            .claim_due_run("w3", lease, t(155))
            .expect("claim")
            .is_none(),
        "a renewed, b not yet expired"
    );
    let taken = store
        .claim_due_run("w3", lease, t(200))
        .expect("claim")
        .expect("b taken over");
    assert_eq!((taken.due_run_id, taken.attempt), (c2.due_run_id, 2));
    assert!(taken.taken_over());
    // The dead worker's claim is fenced off.
    assert!(!store.renew_claim(&c2, lease, t(201)).expect("renew"));
    assert!(
        !store
            .complete_claim(&c2, None, "late", t(201))
            .expect("complete")
    );
    assert!(
        store
            .complete_claim(&taken, Some(7), "Processed", t(202))
            .expect("complete")
    );
    assert!(
        !store
            .complete_claim(&taken, Some(7), "twice", t(203))
            .expect("again")
    );

    // Release gives a claim back; the next claim takes it at once, and is no takeover
    // of a lease let lapse (a cleanly stopped worker's run was logged as one).
    assert!(store.release_claim(&c1).expect("release"));
    let again = store
        .claim_due_run("w2", lease, t(204))
        .expect("claim")
        .expect("a again");
    assert_eq!(
        (again.due_run_id, again.attempt),
        (c1.due_run_id, c1.attempt)
    );
    assert!(!again.taken_over());
    assert!(
        !store
            .complete_claim(&c1, None, "the released claim", t(204))
            .expect("fenced"),
        "the worker that gave it back no longer holds it"
    );
    assert!(
        store
            .complete_claim(&again, None, "skipped", t(205))
            .expect("done")
    );

    // A done due time is not enqueued again; a new one is.
    assert!(
        store
            .enqueue_run(b.id, t(60), None)
            .expect("done one")
            .is_none()
    );
    assert!(
        store
            .enqueue_run(b.id, t(400), None)
            .expect("next")
            .is_some()
    );

    let listed = store.due_runs(Some(b.id), 10).expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].due_at, t(400));
    let done = &listed[1];
    assert_eq!(done.state, due::DueState::Done);
    assert_eq!(
        (
            done.worker.as_deref(),
            done.attempts,
            done.run_id,
            done.outcome.as_deref()
        ),
        (Some("w3"), 2, Some(7), Some("Processed"))
    );
    assert_eq!(done.finished_at, Some(t(202)));
    assert_eq!(store.due_runs(None, 10).expect("all").len(), 3);

    // Done due runs are kept for a while after they finish: completing one a month later
    // prunes the connector's older ones, and only that connector's.
    let later = due::DONE_KEPT + Duration::days(1);
    let late = store
        .claim_due_run("w1", lease, t(400) + later)
        .expect("claim")
        .expect("b at 400");
    assert!(
        store
            .complete_claim(&late, None, "Processed", t(401) + later)
            .expect("done")
    );
    let listed = store.due_runs(Some(b.id), 10).expect("list");
    assert_eq!(
        listed.iter().map(|d| d.due_at).collect::<Vec<_>>(),
        vec![t(400)]
    );
    assert_eq!(store.due_runs(None, 10).expect("all").len(), 2);
    // Deleting a connector deletes its due runs.
    assert!(store.delete_connector("due-b").expect("delete"));
    assert_eq!(store.due_runs(None, 10).expect("all").len(), 1);
}

#[test]
fn sqlite_due_runs_meet_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("open");
    due_contract(&store);
}

#[test]
fn postgres_due_runs_meet_the_contract() {
    let Some(db) = pgtest::TestDb::new("due_contract") else {
        return;
    };
    due_contract(&db.open());
}

/// Three workers, each with its own pool (as separate processes would have), drain
/// twenty due runs: each is executed exactly once, and no connector ever runs twice
/// at once.
#[test]
fn three_workers_execute_twenty_due_runs_exactly_once() {
    let Some(db) = pgtest::TestDb::new("three_workers") else {
        return;
    };
    let setup = db.open();
    let now = Utc::now();
    for i in 0..20 {
        let c = common::connector(&setup, &format!("c{i:02}"));
        setup
            .enqueue_run(c.id, now - Duration::seconds(20 - i), None)
            .expect("enqueue")
            .expect("added");
    }
    let running: Arc<Mutex<HashMap<i64, String>>> = Arc::default();
    let executed: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let url = db.url();
            let running = running.clone();
            let executed = executed.clone();
            std::thread::spawn(move || {
                let store = PgStore::open(&url).expect("open");
                let me = format!("worker-{w}");
                let lease = Duration::seconds(30);
                while let Some(claim) = store.claim_due_run(&me, lease, Utc::now()).expect("claim")
                {
                    if let Some(other) = running
                        .lock()
                        .expect("lock")
                        .insert(claim.connector_id, me.clone())
                    {
                        panic!(
                            "connector {} run by {me} and {other} at once",
                            claim.connector
                        );
                    }
                    let run = store
                        .begin_run(claim.connector_id, RunMode::Full, &me, lease)
                        .expect("begin");
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    assert!(store.renew_claim(&claim, lease, Utc::now()).expect("renew"));
                    store
                        .finish_run(
                            &run,
                            &Batch::default(),
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
                    running.lock().expect("lock").remove(&claim.connector_id);
                    executed
                        .lock()
                        .expect("lock")
                        .push((claim.due_run_id, me.clone()));
                    assert!(
                        store
                            .complete_claim(&claim, Some(run.id), "Processed", Utc::now())
                            .expect("complete")
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let executed = executed.lock().expect("lock").clone();
    assert_eq!(executed.len(), 20, "{executed:?}");
    let mut ids: Vec<i64> = executed.iter().map(|e| e.0).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "a due run ran twice: {executed:?}");
    let by_worker = |w: &str| executed.iter().filter(|e| e.1 == w).count();
    eprintln!(
        "runs per worker: {} / {} / {}",
        by_worker("worker-0"),
        by_worker("worker-1"),
        by_worker("worker-2")
    );
    for due in setup.due_runs(None, 100).expect("list") {
        assert_eq!(due.state, due::DueState::Done);
        assert_eq!(due.attempts, 1);
        let runs = setup.runs(due.connector_id, 10).expect("runs");
        assert_eq!(
            runs.len(),
            1,
            "connector {} ran {} times",
            due.connector,
            runs.len()
        );
        assert_eq!(due.run_id, Some(runs[0].id));
    }
}

/// A worker claims, starts the run and dies (its thread ends without renewing the
/// lease or the run lock). After the lease expires another worker takes the due run
/// over, begins a run (the dead run is marked interrupted) and completes it; the dead
/// worker's late completion is refused.
#[test]
fn a_dead_workers_lease_is_taken_over_after_expiry() {
    let Some(db) = pgtest::TestDb::new("takeover") else {
        return;
    };
    let setup = db.open();
    let c = common::connector(&setup, "victim");
    setup
        .enqueue_run(c.id, Utc::now() - Duration::seconds(1), None)
        .expect("enqueue");
    let ttl = Duration::milliseconds(1500);
    let url = db.url();
    let (dead_claim, dead_run) = std::thread::spawn(move || {
        let store = PgStore::open(&url).expect("open");
        let claim = store
            .claim_due_run("doomed", ttl, Utc::now())
            .expect("claim")
            .expect("due");
        let run = store
            .begin_run(claim.connector_id, RunMode::Full, "doomed", ttl)
            .expect("begin");
        (claim, run)
        // The store (and its connections) die with the thread: no renewal ever comes.
    })
    .join()
    .expect("doomed worker");

    let survivor = db.open();
    assert!(
        survivor
            .claim_due_run("survivor", ttl, Utc::now())
            .expect("claim")
            .is_none(),
        "the lease has not expired yet"
    );
    std::thread::sleep(std::time::Duration::from_millis(1700));
    let claim = survivor
        .claim_due_run("survivor", ttl, Utc::now())
        .expect("claim")
        .expect("taken over");
    assert_eq!(claim.due_run_id, dead_claim.due_run_id);
    assert_eq!(claim.attempt, 2);
    let run = survivor
        .begin_run(claim.connector_id, RunMode::Full, "survivor", ttl)
        .expect("the dead run's lock expired too");
    let old = survivor.run(dead_run.id).expect("run").expect("exists");
    assert_eq!(old.state, RunState::Errored);
    assert!(old.reason.unwrap_or_default().contains("interrupted"));
    survivor
        .finish_run(
            &run,
            &Batch::default(),
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
    assert!(
        !survivor
            .complete_claim(&dead_claim, Some(dead_run.id), "late", Utc::now())
            .expect("late")
    );
    assert!(
        survivor
            .complete_claim(&claim, Some(run.id), "Processed", Utc::now())
            .expect("done")
    );
    let due = survivor.due_runs(Some(c.id), 1).expect("list");
    assert_eq!(due[0].worker.as_deref(), Some("survivor"));
    assert_eq!(due[0].run_id, Some(run.id));
}
