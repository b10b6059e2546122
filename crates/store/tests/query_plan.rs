//! Filters on indexed fields are answered through an index, not a scan of `findings`:
//! SQLite's `EXPLAIN QUERY PLAN` for each, on a store with a few thousand varied rows
//! (the planner has no statistics, as on a store just synced). A plan is a
//! deterministic proof of index use where a timing would be noise on a shared machine;
//! the benchmark (`appscan-bridge bench --scenarios query`) measures the time.

mod common;

use chrono::Duration;
use model::{Severity, Status};
use query::{Entity, Filter, Sort};
use store::*;

const ROWS: usize = 3_000;

fn seeded(dir: &std::path::Path) -> SqliteStore {
    seeded_with(dir, ROWS)
}

/// A store of `rows` findings over 50 applications.
fn seeded_with(dir: &std::path::Path, rows: usize) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("store.sqlite3")).expect("open");
    let c = common::connector(&store, "plan");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let findings = (0..rows)
        .map(|i| {
            let mut f = common::finding(
                &format!("p{i}"),
                &format!("app{}", i % 50),
                Status::ALL[i % 7],
            );
            f.finding.severity = Severity::ALL[i % 5];
            f.finding.cwe = Some(20 + (i % 400) as u32);
            f.finding.name = format!("Issue type {}", i % 300);
            f.finding.issue_type = Some(format!("att{}", i % 300));
            f.finding.cve = (i % 10 == 0).then(|| format!("CVE-2024-{:05}", i));
            f.finding.cvss = Some((i % 100) as f64 / 10.0);
            f.finding.last_found = Some(chrono::Utc::now() - Duration::hours(i as i64));
            f
        })
        .collect();
    let batch = Batch {
        assets: (0..50).map(|i| common::asset(&format!("app{i}"))).collect(),
        findings,
        issues: vec![],
    };
    let end = RunEnd {
        state: RunState::Processed,
        connector_state: ConnectorState::Processed,
        reason: None,
        counters: RunCounters::default(),
        cursor: None,
        scope: None,
    };
    store.finish_run(&run, &batch, &end).expect("write");
    store
}

fn plan(store: &SqliteStore, filter: &str, sort: &str) -> Vec<String> {
    let q = ListQuery {
        filter: Some(Filter::parse(Entity::Findings, filter).expect(filter)),
        sort: if sort.is_empty() {
            Vec::new()
        } else {
            Sort::parse_list(Entity::Findings, sort).expect(sort)
        },
        limit: Some(100),
        ..Default::default()
    };
    store.explain_findings(&q).expect("explain")
}

/// The step that reads `findings f` uses an index (or the rowid), never a full scan.
fn uses_index(steps: &[String], filter: &str) {
    let f_steps: Vec<&String> = steps
        .iter()
        .filter(|s| s.contains(" f ") || s.ends_with(" f") || s.contains(" f USING"))
        .collect();
    assert!(
        !f_steps.is_empty(),
        "{filter}: no step reads findings: {steps:?}"
    );
    for s in &f_steps {
        assert!(
            s.contains("USING INDEX")
                || s.contains("USING COVERING INDEX")
                || s.contains("USING INTEGER PRIMARY KEY"),
            "{filter}: findings read without an index: {steps:#?}"
        );
    }
}

#[test]
fn indexed_fields_are_filtered_and_sorted_through_indexes() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = seeded(dir.path());
    for filter in [
        "severity>=critical",
        "status:NEW",
        "cwe:79",
        "lastFound>-2h",
        "cve:CVE-2024-00010",
        "fingerprint:fp-p17",
        "id:42",
        "risk>=900",
        "cvss>=9.9",
        "name:\"Issue type 7*\"",
        "issueType:att12",
        "severity>=high and status:NEW and cwe:79 and lastFound>-1d",
        "app:\"Shop*\"",
    ] {
        for sort in ["", "risk"] {
            uses_index(&plan(&store, filter, sort), filter);
        }
    }
    // Sorting everything by risk walks the risk index instead of sorting.
    let q = ListQuery {
        sort: Sort::parse_list(Entity::Findings, "risk").expect("sort"),
        limit: Some(100),
        ..Default::default()
    };
    let steps = store.explain_findings(&q).expect("explain");
    assert!(
        steps.iter().any(|s| s.contains("findings_by_risk")),
        "{steps:#?}"
    );
}

/// No step sorts the whole result; `per_group` allows sorting the rows of one index
/// entry's group (one application's findings by id), which stays small.
fn streams_in_index_order(steps: &[String], what: &str, per_group: bool) {
    let sorts = |s: &&String| {
        s.contains("USE TEMP B-TREE FOR ORDER BY") || (!per_group && s.contains("USE TEMP B-TREE"))
    };
    assert!(
        !steps.iter().any(|s| sorts(&s)),
        "{what}: rows are sorted before the first is read: {steps:#?}"
    );
}

#[test]
fn exports_stream_in_index_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = seeded(dir.path());
    // CSV, JSON Lines, OCSF, SARIF: the default order, most severe first.
    let steps = store
        .explain_findings(&ListQuery::default())
        .expect("explain");
    streams_in_index_order(&steps, "default order", false);
    // KDI: one connector at a time, grouped by application.
    let q = ListQuery {
        connector: Some("plan".into()),
        sort: Sort::parse_list(Entity::Findings, "appId:asc").expect("sort"),
        ..Default::default()
    };
    let steps = store.explain_findings(&q).expect("explain");
    streams_in_index_order(&steps, "one connector by application", true);
    assert!(
        steps.iter().any(|s| s.contains("findings_by_asset")),
        "{steps:#?}"
    );
    // The dashboard and `findings --connector`: one connector, most severe first, a page.
    let q = ListQuery {
        connector: Some("plan".into()),
        limit: Some(50),
        ..Default::default()
    };
    let steps = store.explain_findings(&q).expect("explain");
    streams_in_index_order(&steps, "one connector, most severe first", false);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("findings_by_connector_severity")),
        "{steps:#?}"
    );
}

#[test]
fn a_first_load_that_never_finished_gets_its_indexes_back_on_open() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.sqlite3");
    let all = {
        let store = SqliteStore::open(&path).expect("open");
        let all = common::index_names(&path);
        let c = common::connector(&store, "crash");
        // The first run into an empty store writes without the secondary indexes...
        let _run = store
            .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
            .expect("begin");
        let during = common::index_names(&path);
        assert!(during.len() < all.len(), "{during:?}");
        assert!(
            during.iter().any(|n| n == "findings_by_asset"),
            "{during:?}"
        );
        all
        // ...and the process dies before the run ends.
    };
    let _store = SqliteStore::open(&path).expect("reopen");
    assert_eq!(common::index_names(&path), all);
}

/// The summary (the overview, `/metrics`), of the whole store or of one connector, reads
/// indexes alone, never the findings table or a join with the connectors.
#[test]
fn the_summary_reads_indexes_not_the_findings_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = seeded(dir.path());
    for connector in [None, Some("plan")] {
        let steps = store.explain_summary(connector).expect("explain");
        let reads: Vec<&String> = steps
            .iter()
            .filter(|s| !s.contains("TEMP B-TREE"))
            .collect();
        assert_eq!(reads.len(), 4, "{connector:?}: {steps:#?}");
        for s in reads {
            assert!(
                s.contains("USING COVERING INDEX") && !s.contains("connectors"),
                "{connector:?}: {steps:#?}"
            );
        }
    }
    assert!(
        store
            .explain_summary(Some("none"))
            .expect("explain")
            .is_empty()
    );
}

/// A page after a cursor starts in the sort key's index at the cursor (a range search,
/// not a scan from the first row) and reads it in order: as cheap deep in the listing as
/// on its first page, where an offset reads every row it skips.
#[test]
fn a_cursor_page_seeks_to_the_cursor_in_the_index() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = seeded(dir.path());
    // The risk index is ascending: walked backwards, equal risks come in descending ids
    // and SQLite sorts each such group (small), as it does for an offset page.
    for (sort, index, per_group) in [
        ("", "findings_by_severity", false),
        ("risk", "findings_by_risk", true),
    ] {
        let q = ListQuery {
            sort: Sort::parse_list(Entity::Findings, sort).unwrap_or_default(),
            limit: Some(100),
            ..Default::default()
        };
        let next = store.finding_page(&q).expect("page").next;
        assert!(next.is_some(), "a full page has a cursor");
        let steps = store
            .explain_findings(&ListQuery { after: next, ..q })
            .expect("explain");
        streams_in_index_order(&steps, sort, per_group);
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("SEARCH f USING INDEX") && s.contains(index)),
            "{sort:?}: {steps:#?}"
        );
    }
}

/// Once a store is large, a run's end gives the planner statistics: one application's
/// severe findings are then read through the application's index, not by walking every
/// severe finding of its connector (which the index on connector and severity offers a
/// planner that takes all indexes for equally selective). A store opened before the run
/// (another process's `serve`, say) plans with them too.
#[test]
fn a_large_store_has_statistics_that_pick_the_application_index() {
    let dir = tempfile::tempdir().expect("tmp");
    let filter = "app:\"Shop app7\" and severity>=high";
    let reader = SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open");
    assert!(
        !plan(&reader, "severity>=high", "").is_empty(),
        "the reader has read the schema, without statistics"
    );
    let store = seeded_with(dir.path(), 12_000);
    for (who, s) in [
        ("the writing store", &store),
        ("a store opened before", &reader),
    ] {
        let steps = plan(s, filter, "");
        let f_step = steps
            .iter()
            .find(|s| s.contains(" f USING"))
            .expect("a step reads findings");
        assert!(f_step.contains("findings_by_asset"), "{who}: {steps:#?}");
    }
}
