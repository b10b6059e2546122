//! Moving a seeded SQLite store into PostgreSQL: every table's count, and the rows field
//! by field (connectors with their sealed secrets, runs, problems, assets and findings
//! with their compressed raw records, history, maps).

mod common;
mod pgtest;

use chrono::{Duration, Utc};
use model::Status;
use store::transfer::{CopyOptions, Rows, Table, copy};
use store::*;

fn end(state: RunState) -> RunEnd {
    RunEnd {
        state,
        connector_state: ConnectorState::Processed,
        reason: Some(format!("ended {state}")),
        counters: RunCounters {
            fetched: 7,
            requests: 3,
            ..RunCounters::default()
        },
        cursor: Some(Utc::now() - Duration::minutes(5)),
        scope: None,
    }
}

/// Two connectors, three runs, problems, a closed finding, a map, 250 findings.
fn seed(s: &dyn Store) {
    let a = common::connector(s, "cloud");
    let b = common::connector(s, "other");
    s.save_map("custom", "name = \"custom\"\n").expect("map");
    s.create_token("ci", &"ab".repeat(32), "abcd")
        .expect("token");
    s.import_kev(
        &[model::kev::KevEntry {
            cve: "CVE-2021-44228".into(),
            added: Some("2021-12-10".into()),
            name: Some("Log4Shell".into()),
        }],
        false,
    )
    .expect("kev");
    let run = s
        .begin_run(a.id, RunMode::Full, "seed", Duration::minutes(5))
        .expect("begin");
    let findings: Vec<_> = (0..250)
        .map(|i| {
            common::finding(
                &format!("f{i}"),
                if i % 2 == 0 { "app1" } else { "app2" },
                Status::New,
            )
        })
        .collect();
    s.write_batch(
        &run,
        &Batch {
            assets: vec![common::asset("app1"), common::asset("app2")],
            findings,
            issues: vec![RecordIssue {
                level: IssueLevel::Error,
                location: "GET /api/v4/Issues $skip=50 $.Items[3]".into(),
                message: "bad severity".into(),
            }],
        },
        &RunCounters::default(),
    )
    .expect("write");
    s.finish_run(&run, &Batch::default(), &end(RunState::Processed))
        .expect("finish");
    let run = s
        .begin_run(a.id, RunMode::Full, "seed", Duration::minutes(5))
        .expect("begin 2");
    s.write_batch(
        &run,
        &Batch {
            findings: vec![common::finding("f0", "app1", Status::Fixed)],
            issues: vec![RecordIssue {
                level: IssueLevel::Warning,
                location: "here".into(),
                message: "unknown status".into(),
            }],
            ..Batch::default()
        },
        &RunCounters::default(),
    )
    .expect("write 2");
    assert_eq!(
        s.close_unseen(&run, &["app2".to_string()]).expect("close"),
        125
    );
    s.finish_run(&run, &Batch::default(), &end(RunState::Processed))
        .expect("finish 2");
    let run = s
        .begin_run(b.id, RunMode::Delta, "seed", Duration::minutes(5))
        .expect("begin 3");
    s.finish_run(&run, &Batch::default(), &end(RunState::Errored))
        .expect("finish 3");
}

/// Every row of every table, as comparable text (`Connector`'s `Debug` hides the
/// secret, so it is added explicitly).
fn dump(s: &dyn Store) -> Vec<String> {
    let mut out = Vec::new();
    for table in Table::ALL {
        s.export_table(table, 100, &mut |rows| {
            match rows {
                Rows::Connectors(rows) => {
                    for c in rows {
                        out.push(format!(
                            "{c:?} secret={:?} settings={} cursor={:?} reason={:?} created={} updated={}",
                            c.secret, c.settings, c.cursor, c.state_reason, c.created_at, c.updated_at
                        ));
                    }
                }
                Rows::Maps(rows) => out.extend(rows.iter().map(|r| format!("{r:?}"))),
                Rows::Runs(rows) => out.extend(rows.iter().map(|r| format!("{r:?}"))),
                Rows::RunIssues(rows) => out.extend(rows.iter().map(|r| format!("{r:?}"))),
                Rows::Assets(rows) => out.extend(rows.iter().map(|r| format!("{r:?}"))),
                Rows::Findings(rows) => out.extend(rows.iter().map(|r| format!("{r:?}"))),
                Rows::History(rows) => out.extend(rows.iter().map(|r| format!("{r:?}"))),
                Rows::Kev(rows) => out.extend(rows.iter().map(|r| format!("{r:?}"))),
                Rows::ApiTokens(rows) => out.extend(rows.iter().map(|r| format!("{r:?}"))),
            }
            Ok(())
        })
        .expect("export");
    }
    out
}

#[test]
fn sqlite_to_postgres_keeps_every_row_and_field() {
    let Some(db) = pgtest::TestDb::new("migrate") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    seed(&lite);
    let pg = db.open();

    let mut progress = Vec::new();
    let opts = CopyOptions {
        batch_size: 40,
        force: false,
        ..CopyOptions::default()
    };
    let copied = copy(&lite, &pg, &opts, &mut |t, done, total| {
        progress.push((t, done, total))
    })
    .expect("copy");
    let counts = lite.table_counts().expect("counts");
    assert_eq!(copied, counts);
    assert_eq!(pg.table_counts().expect("counts"), counts);
    assert_eq!(
        (
            counts.connectors,
            counts.runs,
            counts.run_issues,
            counts.assets,
            counts.findings,
            counts.maps
        ),
        (2, 3, 2, 2, 250, 1)
    );
    assert_eq!(counts.history, 250 + 1 + 125);
    assert_eq!((counts.kev, counts.api_tokens), (1, 1));
    // Findings went in batches of 40, with progress after each.
    assert!(progress.contains(&(Table::Findings, 40, 250)));
    assert!(progress.contains(&(Table::Findings, 250, 250)));

    // Field by field, table by table.
    let (a, b) = (dump(&lite), dump(&pg));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    // The same through the ordinary API: a sample finding, its history and raw records.
    let f = |s: &dyn Store| {
        let f = s
            .findings(&ListQuery::default())
            .expect("list")
            .into_iter()
            .find(|f| f.finding.external_id == "f0")
            .expect("f0");
        let h = s.finding_history(f.id).expect("history");
        (format!("{f:?}"), h)
    };
    assert_eq!(f(&lite), f(&pg));
    let raws = |s: &dyn Store| {
        let c = s.connector("cloud").expect("get").expect("cloud");
        let mut v = Vec::new();
        s.for_each_raw(c.id, &mut |k, a, raw, _| {
            v.push(format!("{k:?} {a} {raw}"));
            Ok(())
        })
        .expect("raw");
        v
    };
    assert_eq!(raws(&lite), raws(&pg));
    assert_eq!(
        format!("{:?}", lite.summary(None).expect("s")),
        format!("{:?}", pg.summary(None).expect("s"))
    );

    assert!(pg.use_token(&"ab".repeat(32)).expect("token").is_some());
    // New rows continue after the imported ids.
    let c = common::connector(&pg, "after");
    assert!(c.id > 2, "identity not moved past imported ids: {}", c.id);
    let run = pg
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(1))
        .expect("begin after import");
    assert!(run.id > 3);

    // A non-empty target is refused unless forced; forced, it is replaced.
    match copy(&lite, &pg, &opts, &mut |_, _, _| {}) {
        Err(StoreError::TargetNotEmpty { rows }) => assert!(rows > 0),
        other => panic!("expected TargetNotEmpty, got {other:?}"),
    }
    let forced = copy(
        &lite,
        &pg,
        &CopyOptions {
            force: true,
            ..opts.clone()
        },
        &mut |_, _, _| {},
    )
    .expect("forced copy");
    assert_eq!(forced, counts);
    assert!(pg.connector("after").expect("get").is_none());

    // And back again: PostgreSQL into a fresh SQLite file is the same store.
    let back = SqliteStore::open(&dir.path().join("back.sqlite3")).expect("sqlite");
    copy(&pg, &back, &opts, &mut |_, _, _| {}).expect("copy back");
    assert_eq!(dump(&back), a);
}

/// A copy that stops midway (Ctrl-C, a lost connection) left a target that looked whole:
/// its connectors had their cursors, so the next sync was a delta that never fetched what
/// was not copied, and on PostgreSQL every run collided with a copied one's id. Now the
/// connectors say the copy did not finish and have no cursor until it does, ids go on
/// after what landed, and copying again with `force` makes it whole.
#[test]
fn an_interrupted_copy_says_so_and_can_be_written_to() {
    cut_then_written("migrate_cut", Table::Findings);
}

/// Cut while the history was copied: the history's ids went on from 1 while hundreds of
/// rows had landed, so every sync of the target failed on `finding_history_pkey` (and its
/// error took the place of the copy's mark in `status`).
#[test]
fn a_copy_cut_in_the_history_can_be_written_to() {
    cut_then_written("migrate_cut_history", Table::History);
}

/// Copies the seeded store into PostgreSQL until `table` has 80 rows in (two batches
/// committed, the table's sequence not yet moved by the end of the table), then writes
/// new findings, a status change and their history there; copying again with `force`
/// makes it whole.
fn cut_then_written(test: &str, table: Table) {
    let Some(db) = pgtest::TestDb::new(test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    seed(&lite);
    let pg = db.open();
    let opts = CopyOptions {
        batch_size: 40,
        force: false,
        ..CopyOptions::default()
    };
    let cut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        copy(&lite, &pg, &opts, &mut |t, done, _| {
            assert!(!(t == table && done >= 80), "the copy stops here");
        })
    }));
    assert!(cut.is_err(), "the copy was cut");
    let copied = pg.table_counts().expect("counts");
    assert_eq!(copied.get(table), 80, "{copied:?}");
    assert!(
        copied.get(table) < lite.table_counts().expect("counts").get(table),
        "{copied:?}"
    );
    for c in pg.connectors().expect("connectors") {
        assert!(c.cursor.is_none(), "{c:?}");
        assert_eq!(c.state, ConnectorState::Errored);
        assert_eq!(c.state_reason.as_deref(), Some(transfer::COPY_IN_PROGRESS));
    }
    // Runs can begin: ids go on after the copied ones.
    let cloud = pg.connector("cloud").expect("get").expect("cloud");
    let run = pg
        .begin_run(
            cloud.id,
            RunMode::Full,
            "after the cut",
            Duration::minutes(5),
        )
        .expect("a run begins on the cut copy");
    let last_copied = lite
        .runs(cloud.id, 10)
        .expect("runs")
        .iter()
        .map(|r| r.id)
        .max()
        .expect("runs");
    assert!(run.id > last_copied, "{} after {last_copied}", run.id);
    // New findings and a changed status: rows of the findings and of their history, after
    // the copied ones.
    let mut findings: Vec<_> = (0..10)
        .map(|i| common::finding(&format!("new{i}"), "app3", Status::New))
        .collect();
    findings.push(common::finding("f2", "app1", Status::Fixed));
    let written = pg
        .write_batch(
            &run,
            &Batch {
                assets: vec![common::asset("app3")],
                findings,
                ..Batch::default()
            },
            &RunCounters::default(),
        )
        .expect("new findings and history are written on the cut copy");
    // Ten findings and their asset; f2's status changed.
    assert_eq!((written.inserted, written.updated), (11, 1), "{written:?}");
    pg.finish_run(
        &run,
        &Batch::default(),
        &common::end(RunState::Cancelled, None),
    )
    .expect("finish");
    let after = pg.table_counts().expect("counts");
    assert_eq!(after.findings, copied.findings + 10, "{after:?}");
    assert!(after.history > copied.history, "{after:?}");
    // The connector nothing was written to still says what the copy left.
    let other = pg.connector("other").expect("get").expect("other");
    assert_eq!(
        other.state_reason.as_deref(),
        Some(transfer::COPY_IN_PROGRESS)
    );
    assert!(other.cursor.is_none(), "{other:?}");
    // Again, with force: whole, connectors as in the source.
    let again = CopyOptions {
        batch_size: 40,
        force: true,
        ..CopyOptions::default()
    };
    copy(&lite, &pg, &again, &mut |_, _, _| {}).expect("copy again");
    assert_eq!(dump(&lite), dump(&pg));
}

/// A copy refuses a source with a run under way, before it begins (the target is left
/// as it was) and when a run began during the copy (the target stays marked
/// incomplete): read table by table, the copy mixed what the run wrote meanwhile with
/// what it had read, and findings disagreed with their history.
#[test]
fn a_copy_refuses_a_source_with_a_run_under_way() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    seed(&lite);
    let target = SqliteStore::open(&dir.path().join("t.sqlite3")).expect("target");
    let cloud = lite.connector("cloud").expect("get").expect("cloud");
    let opts = CopyOptions {
        batch_size: 40,
        force: false,
        ..CopyOptions::default()
    };
    let run = lite
        .begin_run(
            cloud.id,
            RunMode::Delta,
            "pid 7 on worker-1",
            Duration::minutes(5),
        )
        .expect("a run under way");
    let err = copy(&lite, &target, &opts, &mut |_, _, _| {}).expect_err("refused");
    assert!(matches!(err, StoreError::SourceBusy { .. }), "{err}");
    assert!(
        err.to_string().contains("'cloud'") && err.to_string().contains("pid 7"),
        "{err}"
    );
    assert_eq!(target.table_counts().expect("counts").total(), 0);
    lite.finish_run(
        &run,
        &Batch::default(),
        &common::end(RunState::Processed, None),
    )
    .expect("finish");

    // A run that begins while the findings are copied.
    let mut began = None;
    let err = copy(&lite, &target, &opts, &mut |t, done, _| {
        if t == Table::Findings && done > 0 && began.is_none() {
            began = Some(
                lite.begin_run(cloud.id, RunMode::Delta, "pid 8", Duration::minutes(5))
                    .expect("a run begins meanwhile"),
            );
        }
    })
    .expect_err("refused at the end");
    assert!(err.to_string().contains("since the copy began"), "{err}");
    for c in target.connectors().expect("connectors") {
        assert_eq!(c.state_reason.as_deref(), Some(transfer::COPY_IN_PROGRESS));
    }
    if let Some(run) = began {
        lite.finish_run(
            &run,
            &Batch::default(),
            &common::end(RunState::Processed, None),
        )
        .expect("finish");
    }

    // A run that begins and ends while the findings are copied: none is running at the
    // end, but what was copied is not the source; the target stays marked (it looked
    // whole, with findings disagreeing with their history).
    let mut ran = false;
    let force = CopyOptions {
        batch_size: 40,
        force: true,
        ..CopyOptions::default()
    };
    let err = copy(&lite, &target, &force, &mut |t, done, _| {
        if t == Table::Findings && done > 0 && !ran {
            ran = true;
            let run = lite
                .begin_run(cloud.id, RunMode::Delta, "pid 9", Duration::minutes(5))
                .expect("a run begins meanwhile");
            lite.finish_run(
                &run,
                &Batch::default(),
                &common::end(RunState::Processed, None),
            )
            .expect("and ends");
        }
    })
    .expect_err("refused at the end");
    assert!(matches!(err, StoreError::CopyMismatch { .. }), "{err}");
    for c in target.connectors().expect("connectors") {
        assert!(c.cursor.is_none(), "{c:?}");
        assert_eq!(c.state_reason.as_deref(), Some(transfer::COPY_IN_PROGRESS));
    }
}

/// A run that began during the copy and wrote history for a finding the copy had passed:
/// the target refuses the row, and the copy says the run is the cause. It said only the
/// foreign key violation (seen with `serve` running scheduled syncs during a migrate).
#[test]
fn a_copy_broken_by_a_run_that_began_meanwhile_names_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    seed(&lite);
    let target = SqliteStore::open(&dir.path().join("t.sqlite3")).expect("target");
    let cloud = lite.connector("cloud").expect("get").expect("cloud");
    let opts = CopyOptions {
        batch_size: 40,
        ..CopyOptions::default()
    };
    let mut began = None;
    let err = copy(&lite, &target, &opts, &mut |t, done, _| {
        if t == Table::History && done > 0 && began.is_none() {
            let run = lite
                .begin_run(cloud.id, RunMode::Delta, "pid 10", Duration::minutes(5))
                .expect("a run begins meanwhile");
            let late = Batch {
                findings: vec![common::finding("late", "app1", Status::New)],
                ..Batch::default()
            };
            lite.write_batch(&run, &late, &RunCounters::default())
                .expect("a new finding, with its history");
            began = Some(run);
        }
    })
    .expect_err("refused");
    assert!(matches!(err, StoreError::SourceBusy { .. }), "{err}");
    assert!(
        err.to_string().contains("since the copy began") && err.to_string().contains("pid 10"),
        "{err}"
    );
    if let Some(run) = began {
        lite.finish_run(
            &run,
            &Batch::default(),
            &common::end(RunState::Processed, None),
        )
        .expect("finish");
    }

    // One that began and ended meanwhile: no run is going when the target refuses, and
    // the counts tell that the source changed.
    let force = CopyOptions {
        batch_size: 40,
        force: true,
        ..CopyOptions::default()
    };
    let mut ran = false;
    let err = copy(&lite, &target, &force, &mut |t, done, _| {
        if t == Table::History && done > 0 && !ran {
            ran = true;
            let run = lite
                .begin_run(cloud.id, RunMode::Delta, "pid 11", Duration::minutes(5))
                .expect("a run begins meanwhile");
            let late = Batch {
                findings: vec![common::finding("later", "app1", Status::New)],
                ..Batch::default()
            };
            lite.finish_run(&run, &late, &common::end(RunState::Processed, None))
                .expect("and ends, with a new finding and its history");
        }
    })
    .expect_err("refused");
    assert!(matches!(err, StoreError::SourceChanged { .. }), "{err}");
    assert!(
        err.to_string().contains("changed while it was copied"),
        "{err}"
    );
}

/// A copy asked to stop (Ctrl-C during `migrate`) stops before its next batch, says so,
/// and leaves the target marked as an unfinished copy, as a copy cut any other way does.
#[test]
fn a_copy_asked_to_stop_ends_before_its_next_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    seed(&lite);
    let target = SqliteStore::open(&dir.path().join("t.sqlite3")).expect("target");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = CopyOptions {
        batch_size: 40,
        stop: Some(stop.clone()),
        ..CopyOptions::default()
    };
    let err = copy(&lite, &target, &opts, &mut |t, done, _| {
        if t == Table::Findings && done >= 80 {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    })
    .expect_err("stopped");
    assert!(matches!(err, StoreError::Stopped), "{err}");
    assert_eq!(target.table_counts().expect("counts").findings, 80);
    for c in target.connectors().expect("connectors") {
        assert!(c.cursor.is_none(), "{c:?}");
        assert_eq!(c.state_reason.as_deref(), Some(transfer::COPY_IN_PROGRESS));
    }
}
