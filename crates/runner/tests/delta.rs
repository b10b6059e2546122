//! Delta syncs, failure thresholds, no-data aborts and the run lock.

mod common;

use common::*;
use runner::{Quiet, SyncOptions};
use store::{ConnectorState, RunMode, RunState, StoreError};

/// Everything about a finding that a sync decides, to compare two stores.
fn snapshot(rig: &Rig) -> Vec<(String, String, String, Option<String>)> {
    let mut v: Vec<_> = rig
        .findings()
        .into_iter()
        .map(|f| {
            (
                f.finding.external_id.clone(),
                f.finding.status.to_string(),
                f.finding.severity.to_string(),
                f.finding.last_found.map(|d| d.to_rfc3339()),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_delta_sync_fetches_only_what_changed_and_converges_to_a_full_sync() {
    let rig = rig(config(10, 100, 11), fast_settings()).await;
    let full = rig.sync().await;
    assert_eq!(full.run.mode, RunMode::Full);
    assert_eq!(full.run.state, RunState::Processed);

    let changed = rig.handle.mutate(0.01, 99);
    assert!(!changed.changed_issue_ids.is_empty());
    rig.handle.reset_stats();
    let delta = rig.sync().await;
    assert_eq!(delta.run.mode, RunMode::Delta);
    assert_eq!(
        delta.run.state,
        RunState::Processed,
        "{:?}",
        delta.run.reason
    );

    // Records: exactly the changed issues and apps.
    let expected = changed.changed_issue_ids.len() + changed.changed_app_ids.len();
    assert_eq!(delta.run.counters.fetched as usize, expected, "{changed:?}");
    // Requests: login, one page of changed apps, one of every app's id, one issue page
    // per app still listed (known or new; a removed one is not asked), logout.
    let apps_listed = rig.handle.app_ids().len();
    let stats = rig.handle.stats();
    use sim::asoc::Endpoint;
    let reqs: u64 = [
        Endpoint::Login,
        Endpoint::Apps,
        Endpoint::Issues,
        Endpoint::Other,
    ]
    .into_iter()
    .map(|e| stats.total(e))
    .sum();
    assert_eq!(
        stats.total(Endpoint::Apps),
        2,
        "one page of changed apps, one of ids"
    );
    assert!(
        reqs as usize <= 4 + apps_listed,
        "delta made {reqs} requests for {apps_listed} apps: {stats:?}"
    );

    // The store equals a fresh full sync of the mutated data.
    let fresh = rig_from(&rig);
    fresh.sync().await;
    let mine = snapshot(&rig);
    let theirs = snapshot(&fresh);
    let removed: std::collections::HashSet<_> = changed.removed_app_ids.iter().collect();
    let mine_live: Vec<_> = rig
        .findings()
        .into_iter()
        .filter(|f| !removed.contains(&f.finding.asset_external_id))
        .map(|f| f.finding.external_id)
        .collect();
    assert_eq!(mine_live.len(), theirs.len());
    let theirs_ids: std::collections::HashSet<_> = theirs.iter().map(|t| t.0.clone()).collect();
    for m in &mine {
        if theirs_ids.contains(&m.0) {
            assert!(theirs.contains(m), "{m:?} differs from a fresh full sync");
        }
    }

    // Status changes became history rows tagged with the delta run.
    let f = rig
        .findings()
        .into_iter()
        .find(|f| {
            changed.changed_issue_ids.contains(&f.finding.external_id)
                && !changed.added_issue_ids.contains(&f.finding.external_id)
        })
        .expect("a changed finding");
    let h = rig.runner.store.finding_history(f.id).expect("history");
    assert_eq!(h.first().and_then(|e| e.run_id), Some(full.run.id));
    if h.len() > 1 {
        assert_eq!(h.last().and_then(|e| e.run_id), Some(delta.run.id));
    }
}

/// A second rig on the same simulator (a fresh store).
fn rig_from(other: &Rig) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("s.sqlite3")).expect("store");
    let key = runner::MasterKey::from_hex(&"cd".repeat(32), "t").expect("key");
    let runner = runner::Runner::new(std::sync::Arc::new(store), key);
    let c = other.runner.connector("sim").expect("connector");
    let secret = other.runner.open_secret(&c).expect("secret");
    runner
        .add_connector(runner::AddConnector {
            name: "sim".into(),
            kind: "asoc".into(),
            url: c.url.clone(),
            key_id: c.key_id.clone(),
            secret,
            settings: runner::Settings::from_json(&c.settings).expect("settings"),
        })
        .expect("add");
    Rig {
        handle: other.handle.clone(),
        sim: None,
        runner,
        dir,
    }
}

#[tokio::test]
async fn two_percent_malformed_records_error_the_run_and_keep_the_cursor() {
    let rig = rig(config(5, 200, 4), fast_settings()).await;
    rig.handle.inject(sim::Fault::Malformed {
        fraction: 0.02,
        seed: 3,
    });
    let report = rig.sync().await;
    assert_eq!(
        report.run.state,
        RunState::Errored,
        "{:?}",
        report.run.counters
    );
    assert!(
        report
            .run
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("records failed")
    );
    let c = rig.runner.connector("sim").expect("connector");
    assert!(
        c.cursor.is_none(),
        "an errored run must not move the cursor"
    );
    assert_eq!(c.state, ConnectorState::Errored);
    // Every broken record failed, and the good records are kept.
    let broken = rig
        .sim_issues()
        .iter()
        .filter(|(app, raw)| model::Map::default_map().apply_finding(raw, app).is_err())
        .count() as u64;
    assert_eq!(report.run.counters.failed, broken);
    let stored = rig.findings().len() as u64;
    assert_eq!(
        stored + report.run.counters.failed,
        rig.handle.total_issues() as u64
    );
    // Each failure names where it was.
    let errors = rig.runner.store.run_issues(report.run.id).expect("issues");
    assert_eq!(errors.len() as u64, report.run.counters.failed);
    assert!(
        errors.iter().all(|e| e.location.contains("$.Items[")),
        "{:?}",
        errors.first()
    );
    // A `Cwe` served as a name is refused like the other breakages, and no record is
    // refused for a missing `Id` (which the spec guarantees, so the simulator keeps it).
    assert!(
        errors
            .iter()
            .any(|e| e.location.ends_with(".Cwe") && e.message.contains("integer")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .all(|e| !e.message.contains("externalFindingId")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn half_a_percent_malformed_is_processed_with_warnings() {
    let rig = rig(config(5, 400, 4), fast_settings()).await;
    rig.handle.inject(sim::Fault::Malformed {
        fraction: 0.005,
        seed: 8,
    });
    let report = rig.sync().await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert!(report.run.counters.failed > 0);
    assert!(
        report
            .run
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("failed records")
    );
    // The hint is a command that runs (`runs --errors` alone needs --run).
    let hint = format!(
        "see `appscan-bridge runs sim --run {} --errors`",
        report.run.id
    );
    assert!(
        report.run.reason.as_deref().unwrap_or("").ends_with(&hint),
        "{:?}",
        report.run.reason
    );
    assert!(rig.runner.connector("sim").expect("c").cursor.is_some());
}

#[tokio::test]
async fn no_apps_where_the_store_has_some_aborts_without_touching_data() {
    let rig = rig(config(4, 20, 6), fast_settings()).await;
    rig.sync().await;
    let before = rig.findings().len();
    rig.handle.set_apps_hidden(true);
    let report = rig.sync_full().await;
    assert_eq!(report.run.state, RunState::Aborted);
    assert!(
        report
            .run
            .reason
            .as_deref()
            .unwrap_or("")
            .starts_with("aborted: no data")
    );
    assert_eq!(rig.findings().len(), before);
    let c = rig.runner.connector("sim").expect("c");
    assert_eq!(c.state, ConnectorState::Processed);
}

/// A delta over a server that lists no application while the store has some aborts as
/// a full run does, and keeps its cursor: it ended Processed, warned of every stored
/// application and moved the cursor past the changes made meanwhile, which no later
/// delta asked for again (74 changed records lost until a full sync).
#[tokio::test]
async fn a_delta_with_no_apps_listed_aborts_and_keeps_its_cursor() {
    let rig = rig(config(4, 20, 6), fast_settings()).await;
    rig.sync_processed().await;
    let cursor = rig.runner.connector("sim").expect("c").cursor;
    let changed = rig.handle.mutate(0.3, 7);
    rig.handle.set_apps_hidden(true);
    let report = rig.sync().await;
    assert_eq!(report.run.mode, RunMode::Delta);
    assert_eq!(
        report.run.state,
        RunState::Aborted,
        "{:?}",
        report.run.reason
    );
    assert!(
        report
            .run
            .reason
            .as_deref()
            .unwrap_or("")
            .starts_with("aborted: no data"),
        "{:?}",
        report.run.reason
    );
    // It says what a delta asked for: "returned no applications" read as wrong to a
    // user whose server listed hundreds, none of them the stored ones.
    assert!(
        report
            .run
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("listed none of the store's 4 applications"),
        "{:?}",
        report.run.reason
    );
    let c = rig.runner.connector("sim").expect("c");
    assert_eq!(c.cursor, cursor, "the cursor stays");
    // The next delta, with the applications back, fetches what changed meanwhile.
    rig.handle.set_apps_hidden(false);
    let next = rig.sync_processed().await;
    assert_eq!(next.run.mode, RunMode::Delta);
    let expected = changed.changed_issue_ids.len() + changed.changed_app_ids.len();
    assert!(
        next.run.counters.fetched as usize >= expected,
        "{} fetched, {expected} changed",
        next.run.counters.fetched
    );
}

#[tokio::test]
async fn a_second_sync_of_the_same_connector_is_refused_while_one_runs() {
    let rig = rig(config(6, 100, 12), fast_settings()).await;
    rig.handle.inject(sim::Fault::Delay {
        millis: 400,
        times: 3,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    let first = rig.runner.sync("sim", SyncOptions::default(), &Quiet);
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        rig.runner.sync("sim", SyncOptions::default(), &Quiet).await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.expect("first runs").run.state, RunState::Processed);
    match second {
        Err(runner::RunnerError::Store(StoreError::Locked { run_id, .. })) => assert!(run_id > 0),
        Err(e) => panic!("wrong error: {e}"),
        Ok(r) => panic!("second sync ran: {:?}", r.run),
    }
}

#[tokio::test]
async fn cancelling_keeps_what_was_read_and_the_next_run_converges() {
    let rig = rig(config(6, 100, 13), fast_settings()).await;
    let opts = SyncOptions::default();
    let cancel = opts.cancel.clone();
    rig.handle.inject(sim::Fault::Delay {
        millis: 300,
        times: 2,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        cancel.stop("interrupted (Ctrl-C)");
    });
    let report = rig.runner.sync("sim", opts, &Quiet).await.expect("runs");
    assert_eq!(report.run.state, RunState::Cancelled);
    assert_eq!(
        report.run.reason.as_deref(),
        Some("interrupted (Ctrl-C); records read so far were kept"),
        "the run says what stopped it"
    );
    assert!(rig.runner.connector("sim").expect("c").cursor.is_none());
    let again = rig.sync().await;
    assert_eq!(again.run.mode, RunMode::Full);
    assert_eq!(rig.findings().len(), rig.handle.total_issues());
}

/// Whether `rig` holds every finding of a fresh full sync of its simulator, with the same
/// status (it may hold more: the findings of applications the simulator removed stay).
async fn holds_what_a_full_sync_finds(rig: &Rig) {
    let fresh = rig_from(rig);
    fresh.sync_full().await;
    let statuses = |r: &Rig| -> std::collections::HashMap<String, String> {
        r.findings()
            .into_iter()
            .map(|f| (f.finding.external_id.clone(), f.finding.status.to_string()))
            .collect()
    };
    let mine = statuses(rig);
    let wrong: Vec<_> = statuses(&fresh)
        .into_iter()
        .filter(|(id, status)| mine.get(id) != Some(status))
        .collect();
    assert!(wrong.is_empty(), "missed or stale: {wrong:?}");
}

/// A server whose clock runs behind this host's by more than the overlap: the cursor, the
/// run's start in this host's time, was later than the server's stamps on what changed
/// next, and the delta missed it for good. The cursor is kept in the server's time (its
/// answers' `Date`), and the run warns of the difference.
#[tokio::test]
async fn a_server_clock_behind_by_more_than_the_overlap_loses_no_change() {
    let rig = rig(config(4, 30, 21), fast_settings()).await;
    rig.handle.advance_time(chrono::Duration::minutes(-20));
    let full = rig.sync_processed().await;
    assert!(
        full.issues
            .iter()
            .any(|i| i.message.contains("the server's clock is") && i.message.contains("behind")),
        "{:?}",
        full.issues
    );
    let changed = rig.handle.mutate(0.3, 5);
    assert!(!changed.changed_issue_ids.is_empty());
    let delta = rig.sync_processed().await;
    assert_eq!(delta.run.mode, RunMode::Delta);
    assert!(delta.run.counters.fetched > 0, "{:?}", delta.run.counters);
    holds_what_a_full_sync_finds(&rig).await;
}

/// A cursor later than the server's clock (saved while this host's clock ran ahead, or
/// by a version that kept cursors in this host's time) made every delta ask for nothing
/// and move on, past every change. Such a delta asks for every issue, and says why.
#[tokio::test]
async fn a_cursor_in_the_servers_future_makes_the_delta_ask_for_everything() {
    let rig = rig(config(3, 20, 8), fast_settings()).await;
    rig.sync_processed().await;
    // The cursor a run saves when this host's clock is a day ahead.
    let connector = rig
        .runner
        .store
        .connector("sim")
        .expect("get")
        .expect("sim");
    let ahead = rig
        .runner
        .store
        .begin_run(
            connector.id,
            RunMode::Delta,
            "t",
            chrono::Duration::minutes(5),
        )
        .expect("begin");
    rig.runner
        .store
        .finish_run(
            &ahead,
            &store::Batch::default(),
            &store::RunEnd {
                state: RunState::Processed,
                connector_state: ConnectorState::Processed,
                reason: None,
                counters: store::RunCounters::default(),
                cursor: Some(chrono::Utc::now() + chrono::Duration::days(1)),
                scope: None,
            },
        )
        .expect("finish");
    rig.handle.mutate(0.3, 6);
    let delta = rig.sync_processed().await;
    assert_eq!(delta.run.mode, RunMode::Delta);
    assert!(
        delta
            .issues
            .iter()
            .any(|i| i.message.contains("is later than the server's clock")),
        "{:?}",
        delta.issues
    );
    assert_eq!(
        delta.run.counters.fetched as usize,
        rig.sim_issues().len() + rig.handle.app_ids().len(),
        "every issue and application"
    );
    holds_what_a_full_sync_finds(&rig).await;
    // Its own cursor is the server's now again: the next delta asks for changes only.
    let next = rig.sync_processed().await;
    assert!(
        next.run.counters.fetched < delta.run.counters.fetched,
        "{:?}",
        next.run.counters
    );
}
