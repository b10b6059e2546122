//! `remap`: a connector's stored raw records mapped again, as a run that reports its
//! progress, can be cancelled and frees its lock.

mod common;

use common::*;
use runner::{Progress, SyncOptions};
use std::sync::atomic::{AtomicU64, Ordering};
use store::RunState;

/// Counts the records a run reports, and keeps the total it announced.
#[derive(Default)]
struct Counted(AtomicU64, AtomicU64);

impl Progress for Counted {
    fn records(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    fn records_total(&self, n: u64) {
        self.1.store(n, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn a_remap_announces_and_reports_every_record_it_maps() {
    let rig = rig(config(3, 40, 11), fast_settings()).await;
    rig.sync().await;
    let before = rig.findings();
    let progress = Counted::default();
    let report = rig
        .runner
        .remap("sim", SyncOptions::default(), &progress)
        .await
        .expect("remap");
    assert_eq!(report.run.state, RunState::Processed);
    let stored = (rig.assets().len() + before.len()) as u64;
    assert_eq!(report.run.counters.fetched, stored);
    assert_eq!(progress.0.load(Ordering::Relaxed), stored);
    assert_eq!(
        progress.1.load(Ordering::Relaxed),
        stored,
        "announced up front"
    );
    assert_eq!(rig.findings().len(), before.len());
}

/// Cancelled (Ctrl-C, SIGTERM): the run is recorded Cancelled with why, the records
/// written before stay, and the connector's lock is free for the next run.
#[tokio::test]
async fn a_cancelled_remap_is_recorded_and_frees_the_lock() {
    let rig = rig(config(2, 30, 12), fast_settings()).await;
    rig.sync().await;
    let before = rig.findings();
    let opts = SyncOptions::default();
    opts.cancel.stop("stopped by SIGTERM");
    let report = rig
        .runner
        .remap("sim", opts, &Counted::default())
        .await
        .expect("remap");
    assert_eq!(report.run.state, RunState::Cancelled);
    assert!(
        report
            .run
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("stopped by SIGTERM;")),
        "{:?}",
        report.run.reason
    );
    assert_eq!(rig.findings().len(), before.len());
    let next = rig.sync().await;
    assert_eq!(next.run.state, RunState::Processed, "the lock was freed");
}

/// A connector is not removed while a run of it is under way in another process (a
/// worker, a CLI sync): that run then failed on rows that were gone ("FOREIGN KEY
/// constraint failed").
#[tokio::test]
async fn a_connector_is_not_removed_while_another_process_runs_it() {
    let rig = rig(config(1, 2, 1), fast_settings()).await;
    let id = rig.runner.connector("sim").expect("connector").id;
    let elsewhere = rig
        .runner
        .store
        .begin_run(
            id,
            store::RunMode::Delta,
            "pid 4242 on another-host",
            chrono::Duration::minutes(5),
        )
        .expect("another process's run");
    let err = rig
        .runner
        .remove_connector("sim")
        .expect_err("refused while it runs");
    assert!(
        err.to_string().contains("is running") && err.to_string().contains("pid 4242"),
        "{err}"
    );
    rig.runner
        .store
        .finish_run(
            &elsewhere,
            &store::Batch::default(),
            &store::RunEnd {
                state: RunState::Cancelled,
                connector_state: store::ConnectorState::Registered,
                reason: None,
                counters: store::RunCounters::default(),
                cursor: None,
                scope: None,
            },
        )
        .expect("its end");
    rig.runner
        .remove_connector("sim")
        .expect("removed once it ended");
}

/// A connector that has fetched nothing has nothing to remap: the remap says so and
/// records no run (a Processed remap read as if the connector had synced).
#[tokio::test]
async fn a_remap_of_a_connector_that_never_ran_is_refused_without_a_run() {
    let rig = rig(config(1, 2, 1), fast_settings()).await;
    let err = rig
        .runner
        .remap("sim", SyncOptions::default(), &Counted::default())
        .await
        .expect_err("nothing to remap");
    assert!(
        err.to_string().contains("no records to remap")
            && err.to_string().contains("appscan-bridge sync sim"),
        "{err}"
    );
    let id = rig.runner.connector("sim").expect("connector").id;
    let runs = rig.runner.store.runs(id, 10).expect("runs");
    assert!(runs.is_empty(), "{runs:?}");
}

/// A map's warnings are a remap's as they are a sync's: a map that does not know
/// InProgress warns about each such record (folded into one listing with its count),
/// the run's reason says how many, and the warnings are recorded (`runs --errors`). The
/// remap dropped them: 0 warnings, where a fresh sync with the map said 33.
#[tokio::test]
async fn a_remap_records_the_maps_warnings_as_a_sync_does() {
    let rig = rig(config(3, 40, 7), fast_settings()).await;
    rig.sync_processed().await;
    let in_progress = rig
        .findings()
        .iter()
        .filter(|f| f.finding.source_status.as_deref() == Some("InProgress"))
        .count() as u64;
    assert!(in_progress > 1, "the simulator serves InProgress issues");
    let noip: String = model::map::DEFAULT_MAP_TOML
        .lines()
        .filter(|l| !l.starts_with("InProgress = "))
        .map(|l| l.replacen("name = \"default\"", "name = \"noip\"", 1) + "\n")
        .collect();
    rig.runner.store.save_map("noip", &noip).expect("map");
    rig.runner
        .edit_connector("sim", runner::connectors::EditConnector::default(), |s| {
            s.map = "noip".into()
        })
        .expect("edit");
    let report = rig
        .runner
        .remap("sim", SyncOptions::default(), &Counted::default())
        .await
        .expect("remap");
    assert_eq!(report.run.state, RunState::Processed);
    assert_eq!(report.run.counters.warnings, in_progress);
    assert_eq!(
        report.run.reason.as_deref(),
        Some(format!("processed with 0 failed records and {in_progress} warnings").as_str())
    );
    let recorded = rig.runner.store.run_issues(report.run.id).expect("issues");
    let unknown: Vec<&str> = recorded
        .iter()
        .map(|i| i.message.as_str())
        .filter(|m| m.contains("unknown status 'InProgress', mapped to ACTIVE"))
        .collect();
    assert_eq!(unknown.len(), 2, "listed once, then its count: {unknown:?}");
    assert!(
        unknown[1].ends_with(&format!("(and {} more times)", in_progress - 1)),
        "{unknown:?}"
    );
    assert_eq!(report.issues.len(), recorded.len());
}

/// A remap whose map fails too many records ends Errored, but it is no all-or-nothing
/// run (it writes as it reads): its reason says that what mapped was rewritten with the
/// new map and how to finish, and a remap with the map fixed does.
#[tokio::test]
async fn an_errored_remap_says_what_it_rewrote_and_how_to_finish() {
    let rig = rig(config(3, 40, 7), fast_settings()).await;
    rig.sync_processed().await;
    let critical = rig
        .findings()
        .iter()
        .filter(|f| f.finding.severity == model::Severity::Critical)
        .count();
    assert!(critical > 2, "the simulator serves critical issues");
    let nocrit: String = model::map::DEFAULT_MAP_TOML
        .lines()
        .filter(|l| !l.starts_with("Critical = ") && !l.starts_with("\"4\" = "))
        .map(|l| {
            l.replacen("name = \"default\"", "name = \"nocrit\"", 1)
                .replacen("source = [\"Element\"]", "source = [\"ElementType\"]", 1)
                + "\n"
        })
        .collect();
    rig.runner.store.save_map("nocrit", &nocrit).expect("map");
    let use_map = |map: &str| {
        rig.runner
            .edit_connector("sim", runner::connectors::EditConnector::default(), |s| {
                s.map = map.into()
            })
            .expect("edit")
    };
    use_map("nocrit");
    let report = rig
        .runner
        .remap("sim", SyncOptions::default(), &Counted::default())
        .await
        .expect("remap");
    assert_eq!(report.run.state, RunState::Errored);
    let reason = report.run.reason.clone().unwrap_or_default();
    let mapped = report.run.counters.fetched - report.run.counters.failed;
    assert!(
        reason.contains(&format!("the {mapped} that mapped were rewritten with it"))
            && reason.contains("run `appscan-bridge remap sim` again to finish"),
        "{reason}"
    );
    assert!(report.run.counters.updated > 0, "{:?}", report.run.counters);
    use_map("default");
    let fixed = rig
        .runner
        .remap("sim", SyncOptions::default(), &Counted::default())
        .await
        .expect("remap");
    assert_eq!(
        fixed.run.state,
        RunState::Processed,
        "{:?}",
        fixed.run.reason
    );
}

/// A map whose finding ids come from another field (IssueTypeGuid): the remap reads the
/// records stored when it started, not again those it inserts ("fetched 2041" of 2,010
/// stored), keeps every finding stored before (a remap removes nothing), and warns
/// that the old findings stay and how to get a store with only the new ids.
#[tokio::test]
async fn a_remap_onto_other_ids_reads_each_record_once_and_says_the_old_ones_stay() {
    // More findings than the store reads in one page, written in small batches: the
    // rows the first pages' batches insert are there when the later pages are read.
    let rig = rig(
        config(3, 400, 5),
        runner::Settings {
            page_size: 200,
            ..fast_settings()
        },
    )
    .await;
    rig.sync_processed().await;
    let before = rig.findings().len();
    assert!(before > 1_000, "{before}");
    let stored = (rig.assets().len() + before) as u64;
    let by_type = model::map::DEFAULT_MAP_TOML
        .replacen("name = \"default\"", "name = \"bytype\"", 1)
        .replacen(
            "target = \"externalFindingId\"\nsource = [\"Id\"]",
            "target = \"externalFindingId\"\nsource = [\"IssueTypeGuid\"]",
            1,
        );
    assert_ne!(by_type, model::map::DEFAULT_MAP_TOML);
    rig.runner.store.save_map("bytype", &by_type).expect("map");
    rig.runner
        .edit_connector("sim", runner::connectors::EditConnector::default(), |s| {
            s.map = "bytype".into()
        })
        .expect("edit");
    let opts = SyncOptions {
        batch_size: 100,
        ..SyncOptions::default()
    };
    let report = rig
        .runner
        .remap("sim", opts, &Counted::default())
        .await
        .expect("remap");
    let c = report.run.counters;
    assert_eq!(c.fetched, stored, "each stored record once: {c:?}");
    assert!(c.inserted > 0, "{c:?}");
    assert_eq!(rig.findings().len(), before + c.inserted as usize);
    let warning = report
        .issues
        .iter()
        .find(|i| {
            i.message
                .contains("were stored as new applications or findings")
        })
        .unwrap_or_else(|| panic!("{:?}", report.issues));
    assert!(
        warning
            .message
            .starts_with(&format!("{} records", c.inserted))
            && warning
                .message
                .contains("appscan-bridge connector remove sim"),
        "{}",
        warning.message
    );
}
