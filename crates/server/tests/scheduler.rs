//! The scheduler loop with a manual clock: a never-run interval connector runs at once,
//! waits for its next slot, runs a missed slot once after "downtime", shows Scheduled
//! while waiting, reports an invalid schedule, and shutdown cancels a running sync. Every
//! scheduled run goes through the store's due-run queue, and one interrupted by shutdown
//! is given back to it.

mod common;

use chrono::Duration;
use common::{eventually, rig};
use std::sync::Arc;
use store::{ConnectorState, RunState};

fn fast() -> server::SchedulerConfig {
    server::SchedulerConfig {
        tick: std::time::Duration::from_millis(20),
        jitter: false,
        ..server::SchedulerConfig::default()
    }
}

/// Slows AppScan down and waits for the scheduled run to start, so that it is still
/// going when the test interrupts it.
async fn a_slow_scheduled_run_starts(r: &common::Rig) {
    r.handle.inject(sim::Fault::Delay {
        millis: 800,
        times: 1000,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    eventually(30, "the scheduled run to start", || {
        r.runs()
            .first()
            .is_some_and(|run| run.state == RunState::Processing)
    })
    .await;
}

/// Lets the loop tick a few times.
async fn ticks() {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_on_schedule_and_coalesces_missed_slots() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let mut r = rig(2, 5, Some("1h"), Some(fast()), clock.clone()).await;
    let jobs = r.server.as_ref().expect("server").state().jobs.clone();
    let plans = r.server.as_ref().expect("server").state().plans.clone();

    // Never ran, interval schedule: due at once.
    eventually(30, "the first scheduled run", || {
        r.runs()
            .first()
            .is_some_and(|run| run.state == RunState::Processed)
            && !jobs.is_running("sim")
    })
    .await;
    let first = server::Clock::now(clock.as_ref());
    // Then it waits, marked Scheduled, for the slot an hour after it started.
    eventually(10, "the connector to be Scheduled", || {
        r.connector().state == ConnectorState::Scheduled
    })
    .await;
    let c = r.connector();
    assert!(
        c.state_reason
            .as_deref()
            .is_some_and(|x| x.starts_with("next run")),
        "{:?}",
        c.state_reason
    );
    // An hour after the run started (the store's start time, a moment after the clock's).
    let plan = plans.get("sim").expect("plan");
    let wait = plan.due.at - first;
    assert!(
        wait >= Duration::hours(1) && wait < Duration::hours(1) + Duration::seconds(60),
        "{wait}"
    );
    let (s, view) = r.get("/api/connectors/sim").await;
    assert_eq!(s, 200);
    assert_eq!(view["state"], "Scheduled");
    assert!(view["next_run"].is_string());

    // Half an hour later: nothing runs.
    clock.advance(Duration::minutes(30));
    ticks().await;
    assert_eq!(r.runs().len(), 1);

    // Five hours of "downtime": the missed slots run once, not five times.
    clock.advance(Duration::hours(5));
    eventually(30, "the missed slot's run", || {
        r.runs().len() == 2 && !jobs.is_running("sim")
    })
    .await;
    ticks().await;
    ticks().await;
    assert_eq!(r.runs().len(), 2, "missed slots must run once");
    let after = server::Clock::now(clock.as_ref());
    eventually(10, "the next plan", || {
        plans
            .get("sim")
            // The store keeps microseconds.
            .is_some_and(|p| (p.due.at - (after + Duration::hours(1))).num_milliseconds() == 0)
    })
    .await;

    // An hour on: the next run.
    clock.advance(Duration::hours(1));
    eventually(30, "the third run", || {
        r.runs().len() == 3 && !jobs.is_running("sim")
    })
    .await;
    // Each run went through the store's queue of due runs: claimed once, completed with
    // the run it became.
    eventually(10, "the third due run to complete", || {
        r.runner
            .store
            .due_runs(None, 10)
            .is_ok_and(|d| d.iter().all(|d| d.state == store::due::DueState::Done))
    })
    .await;
    let due = r.runner.store.due_runs(None, 10).expect("due runs");
    let runs = r.runs();
    assert_eq!(due.len(), 3, "{due:?}");
    for (d, run) in due.iter().zip(&runs) {
        assert_eq!((d.attempts, d.run_id), (1, Some(run.id)), "{d:?}");
        assert_eq!(d.outcome.as_deref(), Some("Processed"));
    }
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_schedule_marks_the_connector_errored() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let mut r = rig(1, 1, Some("every tuesday"), Some(fast()), clock).await;
    eventually(10, "the connector to be Errored", || {
        r.connector().state == ConnectorState::Errored
    })
    .await;
    let reason = r.connector().state_reason.unwrap_or_default();
    assert!(reason.contains("invalid schedule"), "{reason}");
    assert!(r.runs().is_empty());
    // Its schedule removed, it is no longer Errored for it (it stayed so, restarts
    // included): never run, it is Registered again.
    r.runner
        .edit_connector("sim", runner::connectors::EditConnector::default(), |s| {
            s.schedule = None
        })
        .expect("edit");
    eventually(10, "the connector to leave Errored", || {
        r.connector().state == ConnectorState::Registered
    })
    .await;
    r.shutdown().await;
}

/// A scheduled run that fails before it becomes a run (here, the connector has lost its
/// key secret) was only in the due runs: the connector showed a plain "next run" for
/// ever. Its state says why now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_run_that_cannot_start_says_why() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let mut r = rig(1, 1, None, Some(fast()), clock).await;
    let mut c = r.connector();
    c.secret = None;
    r.runner.store.update_connector(&c).expect("no secret");
    r.runner
        .edit_connector("sim", runner::connectors::EditConnector::default(), |s| {
            s.schedule = Some("1h".into())
        })
        .expect("scheduled");
    eventually(30, "the failure in the connector's state", || {
        let c = r.connector();
        c.state == ConnectorState::Scheduled
            && c.state_reason.as_deref().is_some_and(|why| {
                why.contains("the last scheduled run failed") && why.contains("no key secret")
            })
    })
    .await;
    assert!(r.runs().is_empty());
    r.shutdown().await;
}

/// A due run queued while every worker was busy, whose connector's schedule is then
/// removed, is skipped when claimed (the connector ran once more after the edit). The
/// connector here has no schedule when the queued run is claimed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_run_of_a_removed_schedule_is_skipped() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let mut r = rig(1, 1, None, Some(fast()), clock).await;
    let jobs = r.server.as_ref().expect("server").state().jobs.clone();
    let id = r.connector().id;
    r.runner
        .store
        .enqueue_run(id, chrono::Utc::now() - Duration::minutes(1), None)
        .expect("queued");
    eventually(30, "the queued run to be done", || {
        r.runner
            .store
            .due_runs(Some(id), 5)
            .expect("due runs")
            .iter()
            .any(|d| d.outcome.as_deref() == Some("skipped: its schedule was removed"))
    })
    .await;
    assert!(r.runs().is_empty(), "it did not run");
    assert!(!jobs.is_running("sim"));
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cancels_a_running_sync_which_records_its_state() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let mut r = rig(6, 40, None, Some(fast()), clock).await;
    // Slow AppScan down so the run is still going when shutdown comes.
    r.handle.inject(sim::Fault::Delay {
        millis: 800,
        times: 1000,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    let token = r.token("ci");
    let (s, b) = r.post("/api/connectors/sim/sync", Some(&token)).await;
    assert_eq!(s, 202, "{b}");
    eventually(30, "the run to fetch something", || {
        r.runs()
            .first()
            .is_some_and(|run| run.counters.fetched > 0 || run.state == RunState::Processing)
    })
    .await;
    let started = std::time::Instant::now();
    r.shutdown().await;
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let run = r.runs().into_iter().next().expect("run");
    assert_eq!(run.state, RunState::Cancelled, "{run:?}");
    assert_eq!(
        run.reason.as_deref(),
        Some("the service stopped; records read so far were kept")
    );
    assert!(run.ended_at.is_some());
    assert_eq!(r.connector().state, ConnectorState::Errored);
    // The lock was released: a sync can start at once.
    r.handle.clear_faults();
    let again = r
        .runner
        .sync("sim", runner::SyncOptions::default(), &runner::Quiet)
        .await;
    assert!(again.is_ok(), "{:?}", again.err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_an_interrupted_scheduled_run_back_to_the_queue() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let mut r = rig(6, 40, Some("1h"), Some(fast()), clock).await;
    a_slow_scheduled_run_starts(&r).await;
    let claimed = r.runner.store.due_runs(None, 10).expect("due runs");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].state, store::due::DueState::Claimed);
    r.shutdown().await;
    assert_eq!(r.runs()[0].state, RunState::Cancelled);
    let due = r.runner.store.due_runs(None, 10).expect("due runs");
    assert_eq!(
        (due.len(), due[0].state),
        (1, store::due::DueState::Pending),
        "given back, to run on the next start: {due:?}"
    );
    // The next claim (any worker's) takes it at once.
    r.handle.clear_faults();
    let again = r
        .runner
        .store
        .claim_due_run("next-start", Duration::seconds(60), chrono::Utc::now())
        .expect("claim")
        .expect("the given-back due run");
    assert_eq!(again.due_run_id, claimed[0].id);
}

/// A worker that stalled past its lease (a long GC pause, a suspended VM) finds its due
/// run taken over by another worker: it stops its sync, and the run says why, instead of
/// blaming a user who never cancelled anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_stops_the_sync_and_the_run_says_why() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let lease = std::time::Duration::from_secs(3);
    let config = server::SchedulerConfig { lease, ..fast() };
    let mut r = rig(6, 40, Some("1h"), Some(config), clock.clone()).await;
    a_slow_scheduled_run_starts(&r).await;
    // Past the lease on every worker's clock, another worker claims the due run.
    clock.advance(Duration::minutes(10));
    let other = r
        .runner
        .store
        .claim_due_run(
            "other-worker",
            Duration::minutes(5),
            server::Clock::now(clock.as_ref()),
        )
        .expect("claim")
        .expect("the expired claim is taken over");
    assert_eq!(other.connector, "sim");
    eventually(30, "the stalled worker's sync to stop", || {
        r.runs()
            .first()
            .is_some_and(|run| run.state != RunState::Processing)
    })
    .await;
    let run = r.runs().into_iter().next().expect("run");
    assert_eq!(run.state, RunState::Cancelled, "{run:?}");
    assert_eq!(
        run.reason.as_deref(),
        Some(
            "another worker took this run's due run over (its lease ran out); records read so far were kept"
        )
    );
    r.handle.clear_faults();
    r.shutdown().await;
}

/// A schedule taken away (`connector edit --schedule ''`, a config file) leaves nothing
/// waiting: the connector shows how its last run ended again, not a "next run" that never
/// comes — when edited, and when the scheduler finds it so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_schedule_leaves_scheduled() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let mut r = rig(2, 5, Some("1h"), Some(fast()), clock).await;
    let jobs = r.server.as_ref().expect("server").state().jobs.clone();
    let waiting = || {
        let c = r.connector();
        c.state == ConnectorState::Scheduled && !jobs.is_running("sim")
    };
    eventually(30, "the connector to wait Scheduled", waiting).await;
    r.runner
        .edit_connector("sim", runner::connectors::EditConnector::default(), |s| {
            s.schedule = None
        })
        .expect("edit");
    let c = r.connector();
    assert_eq!(c.state, ConnectorState::Processed, "{:?}", c.state_reason);
    ticks().await;
    assert_eq!(r.connector().state, ConnectorState::Processed);

    // Scheduled with no schedule (a store written by an earlier version): the scheduler
    // puts it right.
    let id = r.connector().id;
    r.runner
        .store
        .set_connector_state(id, ConnectorState::Scheduled, Some("next run soon"))
        .expect("state");
    eventually(10, "the scheduler to take it out of Scheduled", || {
        r.connector().state == ConnectorState::Processed
    })
    .await;
    r.shutdown().await;
}

/// An xml connector runs when a report is imported: one stored with a schedule (before
/// they were refused) is not scheduled, and says why, instead of failing every slot while
/// it showed Scheduled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xml_connector_is_never_scheduled() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let mut r = rig(2, 5, None, Some(fast()), clock).await;
    r.runner
        .store
        .create_connector(&store::NewConnector {
            name: "reports".into(),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: serde_json::json!({"schedule": "1m"}),
        })
        .expect("connector");
    eventually(10, "the xml connector to be marked", || {
        r.runner
            .store
            .connector("reports")
            .ok()
            .flatten()
            .is_some_and(|c| c.state == ConnectorState::Errored)
    })
    .await;
    let c = r
        .runner
        .store
        .connector("reports")
        .expect("get")
        .expect("c");
    assert!(
        c.state_reason
            .as_deref()
            .is_some_and(|w| w.contains("reads AppScan XML reports")),
        "{:?}",
        c.state_reason
    );
    ticks().await;
    let due = r.runner.store.due_runs(Some(c.id), 10).expect("due runs");
    assert!(due.is_empty(), "{due:?}");
    // Nor can one be given a schedule now.
    let refused = r
        .runner
        .edit_connector(
            "reports",
            runner::connectors::EditConnector::default(),
            |s| s.schedule = Some("6h".into()),
        )
        .expect_err("refused");
    assert!(
        refused
            .to_string()
            .contains("an xml connector has no schedule"),
        "{refused}"
    );
    // And a sync asked through the API is refused at once, not accepted and dropped.
    let token = r.token("ci");
    let (s, b) = r.post("/api/connectors/reports/sync", Some(&token)).await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error"]
            .as_str()
            .is_some_and(|e| e.contains("import FILE")),
        "{b}"
    );
    r.shutdown().await;
}

/// A scheduled sync that ends frees its slot for the next due run at once: slots were
/// refilled once a tick, so with one slot a worker ran one sync per tick however short
/// each was (30 connectors due every minute started a second apart, the last 30 s late).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_slot_is_filled_before_the_next_tick() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let names = ["a", "b", "c", "d", "e"];
    let config = server::SchedulerConfig {
        // Only the first tick comes within the test.
        tick: std::time::Duration::from_secs(3600),
        max_running: 1,
        jitter: false,
        ..server::SchedulerConfig::default()
    };
    let r = common::rig_with(&names, 1, 5, Some("1h"), Some(config), clock).await;
    let processed = |name: &str| {
        let store = &r.runner.store;
        store
            .connector(name)
            .ok()
            .flatten()
            .and_then(|c| store.runs(c.id, 5).ok())
            .is_some_and(|runs| runs.iter().any(|run| run.state == RunState::Processed))
    };
    eventually(60, "every due run to have run", || {
        names.iter().all(|name| processed(name))
    })
    .await;
}

/// A due run waiting for a free slot says so: its connector showed "next run" at a time
/// long past, and only `/api/due-runs` told that it waited. Its state reason says it
/// waits, and `/metrics` counts the waiting runs and the longest wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_run_waiting_for_a_slot_says_so() {
    let clock = Arc::new(server::ManualClock::new(chrono::Utc::now()));
    let config = server::SchedulerConfig {
        max_running: 1,
        ..fast()
    };
    // The first run holds the one slot: slowed from its start (a delay injected once
    // the scheduler ran missed a first run that had begun, and nothing waited long).
    let slow = sim::Fault::Delay {
        millis: 800,
        times: 1000,
        endpoint: sim::asoc::Endpoint::Issues,
    };
    let r = common::rig_with_faults(
        &["a", "b"],
        1,
        5,
        Some("1h"),
        Some(config),
        clock,
        vec![slow],
    )
    .await;
    let waits = |name: &str| {
        r.runner
            .store
            .connector(name)
            .ok()
            .flatten()
            .and_then(|c| c.state_reason)
            .is_some_and(|why| {
                why.starts_with("due since") && why.contains("waiting for a free slot")
            })
    };
    eventually(30, "the other connector to say it waits", || {
        waits("a") || waits("b")
    })
    .await;
    let metrics = r.metrics().await;
    assert!(
        metrics.contains("appscan_bridge_due_runs_waiting 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("appscan_bridge_due_run_wait_seconds"),
        "{metrics}"
    );
}
