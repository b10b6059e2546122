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
fn postgres_runs_follow_their_connector() {
    let Some(db) = pgtest::TestDb::new("follow") else {
        return;
    };
    common::runs_follow_their_connector(&db.open());
}

#[test]
fn postgres_scores_follow_their_asset_url() {
    let Some(db) = pgtest::TestDb::new("asset_url") else {
        return;
    };
    common::scores_follow_their_asset_url(&db.open());
}

/// A rescore locks assets before findings, as every writer of both does: it locked
/// findings first, and a batch that held its assets' rows and then wrote findings waited
/// for it while it waited for those rows — "deadlock detected", failing one of them.
#[test]
fn a_rescore_waits_for_a_batch_holding_assets_instead_of_deadlocking() {
    let Some(db) = pgtest::TestDb::new("rescore_order") else {
        return;
    };
    let store = db.open();
    let c = common::connector(&store, "order");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let mut batch = Batch::default();
    batch.assets.push(common::asset("app-1"));
    batch
        .findings
        .push(common::finding("f-1", "app-1", Status::New));
    store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("write");
    store
        .finish_run(
            &run,
            &Batch::default(),
            &common::end(RunState::Processed, None),
        )
        .expect("finish");

    // A batch's order, by hand: its asset's row, then (once the rescore waits) findings.
    let mut batch_session = db.client();
    let mut tx = batch_session.transaction().expect("begin");
    tx.batch_execute("UPDATE assets SET last_seen = now() WHERE external_id = 'app-1'")
        .expect("asset row");
    let rescore = std::thread::spawn(move || store.rescore().map(|r| r.findings));
    // The rescore is now waiting on the assets table (or, as before, holds findings).
    std::thread::sleep(std::time::Duration::from_millis(500));
    tx.batch_execute("UPDATE findings SET last_seen = now() WHERE external_id = 'f-1'")
        .expect("the batch's findings are written, not refused as a deadlock");
    tx.commit().expect("commit");
    let rescored = rescore.join().expect("thread").expect("the rescore ends");
    assert_eq!(rescored, 1);
}

/// The server's clock, which workers compare theirs with (leases depend on it): here the
/// server runs on this machine. A SQLite store has none of its own.
#[test]
fn the_server_clock_is_read() {
    let Some(db) = pgtest::TestDb::new("clock") else {
        return;
    };
    let server = db
        .open()
        .server_time()
        .expect("read")
        .expect("a server clock");
    let apart = (chrono::Utc::now() - server).abs();
    assert!(apart < Duration::seconds(5), "{apart}");
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("open");
    assert_eq!(sqlite.server_time().expect("read"), None);
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

/// A newer binary migrates the schema while this worker runs: its next run is refused
/// (its writes would miss what the newer schema keeps).
#[test]
fn a_run_after_a_newer_binary_upgraded_the_schema_is_refused() {
    let Some(db) = pgtest::TestDb::new("upgraded") else {
        return;
    };
    let store = db.open();
    let c = common::connector(&store, "old");
    db.client()
        .batch_execute("INSERT INTO schema_migrations(version, name) VALUES (1000, 'future')")
        .expect("a newer binary's migration");
    let err = store
        .begin_run(c.id, RunMode::Delta, "old", Duration::minutes(5))
        .expect_err("refused");
    assert!(matches!(err, StoreError::UpgradedUnderUs { .. }), "{err}");
    assert!(matches!(
        store.check_reachable(),
        Err(StoreError::UpgradedUnderUs { .. })
    ));
}

/// An import (an atomic run, one transaction) renews its lease where other workers see
/// it: renewed inside its open transaction, the lease looked expired to everyone else
/// two minutes in, and a second import took the live one over and both committed. A
/// second run meanwhile is refused at once.
#[test]
fn an_atomic_runs_lease_renewal_is_seen_by_other_workers() {
    let Some(db) = pgtest::TestDb::new("atomic_lease") else {
        return;
    };
    let (store, other) = (db.open(), db.open());
    let c = common::connector(&store, "rep");
    let run = store
        .begin_run(c.id, RunMode::Full, "importer", Duration::seconds(2))
        .expect("begin");
    store.begin_atomic(&run).expect("atomic");
    let batch = Batch {
        assets: vec![common::asset("a")],
        findings: vec![common::finding("f", "a", Status::New)],
        issues: vec![],
    };
    store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("write");
    store
        .renew_lock(run.id, Duration::minutes(10))
        .expect("renew");
    let seen = other.run_lock(c.id).expect("read").expect("held");
    assert!(
        seen.expires > chrono::Utc::now() + Duration::minutes(9),
        "{seen:?}"
    );
    let started = std::time::Instant::now();
    let err = other
        .begin_run(c.id, RunMode::Full, "second", Duration::minutes(1))
        .expect_err("the live import keeps its connector");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    store
        .finish_run(
            &run,
            &Batch::default(),
            &common::end(RunState::Processed, None),
        )
        .expect("commit");
    assert_eq!(other.counts(c.id).expect("counts"), (1, 1));
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
            unchanged: 1,
            // f twice after its first record (assets are not counted).
            repeated: 2,
            first_repeated: Some("f".into()),
        }
    );
    // The second write repeats every finding the run wrote.
    assert_eq!(
        (seen[0].1.repeated, seen[0].1.first_repeated.as_deref()),
        (4, Some("f"))
    );
    // The second write moves f open again — REOPENED, as it was fixed — and back to
    // Fixed: two more history rows.
    assert_eq!(
        seen[0].3,
        vec![
            (None, Status::New),
            (Some(Status::New), Status::Fixed),
            (Some(Status::Fixed), Status::Reopened),
            (Some(Status::Reopened), Status::Fixed)
        ]
    );
}

/// One run of `count` findings spread over ten assets, in batches of 2,000, like a sync's.
fn run_of(store: &PgStore, connector: &Connector, count: usize) {
    let run = store
        .begin_run(connector.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let ids: Vec<String> = (0..count).map(|i| format!("finding-{i:06}")).collect();
    let mut counters = RunCounters::default();
    let mut batches = ids.chunks(2_000).peekable();
    while let Some(chunk) = batches.next() {
        let batch = Batch {
            assets: (0..10)
                .map(|a| common::asset(&format!("app-{a}")))
                .collect(),
            findings: chunk
                .iter()
                .enumerate()
                .map(|(i, id)| common::finding(id, &format!("app-{}", i % 10), Status::New))
                .collect(),
            issues: vec![],
        };
        let counts = if batches.peek().is_some() {
            store.write_batch(&run, &batch, &counters).expect("write")
        } else {
            let mut end = common::end(RunState::Processed, None);
            end.counters = counters;
            store.finish_run(&run, &batch, &end).expect("finish")
        };
        counters.add(&counts);
    }
}

/// A store holding 50,000 findings of connector "stats" (ten assets, `app-0`..`app-9`)
/// whose table has no planner statistics, as during a first load or on a server whose
/// autovacuum has not analyzed it yet. (The plans these tests guard against appear from
/// some 50,000 findings of a real size on; the store writes 5,000, copies of one of them
/// with a real finding's length of description make up the rest.)
fn findings_without_statistics(db: &pgtest::TestDb) -> (PgStore, Connector, ::postgres::Client) {
    let store = db.open();
    let c = common::connector(&store, "stats");
    let mut client = db.client();
    client
        .batch_execute("ALTER TABLE findings SET (autovacuum_enabled = false)")
        .expect("no autovacuum");
    run_of(&store, &c, 5_000);
    client
        .batch_execute(
            "INSERT INTO findings
             SELECT r.* FROM findings f
             CROSS JOIN generate_series(1, 45000) AS g
             CROSS JOIN LATERAL jsonb_populate_record(NULL::findings, to_jsonb(f)
                 || jsonb_build_object('id', 100000 + g, 'external_id', 'copy-' || g,
                                       'description', repeat('d', 1200))) AS r
             WHERE f.external_id = 'finding-000000';
             DELETE FROM pg_statistic WHERE starelid = 'findings'::regclass;
             UPDATE pg_class SET reltuples = -1 WHERE oid = 'findings'::regclass",
        )
        .expect("copies, then no statistics");
    (store, c, client)
}

/// The plan of `sql` (parameters `$1 int8, $2 text[]`) for connector `id` and the
/// quoted literals `values`: `EXPLAIN` takes no parameters.
fn plan_of(client: &mut ::postgres::Client, sql: &str, id: i64, values: &[String]) -> String {
    client
        .batch_execute(&format!("DEALLOCATE ALL; PREPARE q(int8, text[]) AS {sql}"))
        .expect("prepare");
    let lines: Vec<String> = client
        .query(
            &format!("EXPLAIN EXECUTE q({id}, ARRAY[{}])", values.join(",")),
            &[],
        )
        .expect("explain")
        .iter()
        .map(|r| {
            // A batch's literal makes a line of 34 KB: the start says enough.
            let line: String = r.get(0);
            line.chars().take(160).collect()
        })
        .collect();
    lines.join("\n")
}

/// A batch looks its findings up one unique-index probe per external id, whatever the
/// planner statistics say. Written as `connector_id = $1 AND external_id = ANY($2)`, the
/// lookup was planned on PostgreSQL's default estimate of a connector's size while a
/// first load filled the table, and each batch of a re-sync of 100,000 findings read all
/// of the connector's findings.
#[test]
fn batch_lookups_probe_the_unique_index_without_statistics() {
    let Some(db) = pgtest::TestDb::new("lookup_plan") else {
        return;
    };
    let (_store, c, mut client) = findings_without_statistics(&db);
    let ids: Vec<String> = (0..2_000).map(|i| format!("'finding-{i:06}'")).collect();
    let sql = store::postgres::data::stored_sql(
        "findings",
        store::postgres::data::STORED_FINDING_COLUMNS,
    );
    let plan = plan_of(&mut client, &sql, c.id, &ids);
    assert!(plan.contains("Nested Loop"), "{plan}");
    assert!(
        plan.contains("Index Scan using findings_connector_id_external_id_key"),
        "{plan}"
    );
    assert!(!plan.contains("Seq Scan on findings"), "{plan}");
}

/// A batch's assets get their risk from their findings, read through the asset index
/// alone: with the open statuses as a condition, a table without statistics had the
/// planner also read the status index — every open finding of every connector, per batch.
#[test]
fn asset_risks_read_only_the_assets_findings_without_statistics() {
    let Some(db) = pgtest::TestDb::new("asset_risk_plan") else {
        return;
    };
    let (_store, c, mut client) = findings_without_statistics(&db);
    let assets: Vec<String> = (0..3).map(|a| format!("'app-{a}'")).collect();
    let plan = plan_of(
        &mut client,
        store::postgres::asset_risk::ASSET_FINDINGS_SQL,
        c.id,
        &assets,
    );
    assert!(plan.contains("findings_by_asset"), "{plan}");
    assert!(!plan.contains("findings_by_status"), "{plan}");
    assert!(!plan.contains("Seq Scan on findings"), "{plan}");
}

/// Findings pages keep room for a new version of each row, so a run that sees a finding
/// again rewrites it on its own page (a heap-only update, no index entries) instead of
/// moving it and adding an entry to each of the eleven indexes.
#[test]
fn findings_seen_again_stay_on_their_pages() {
    let Some(db) = pgtest::TestDb::new("fillfactor") else {
        return;
    };
    let store = db.open();
    let c = common::connector(&store, "hot");
    let mut client = db.client();
    let pages = |client: &mut ::postgres::Client| -> Vec<(String, String)> {
        client
            .query(
                "SELECT external_id, split_part(ctid::text, ',', 1) FROM findings
                 ORDER BY external_id",
                &[],
            )
            .expect("ctids")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    run_of(&store, &c, 3_000);
    let before = pages(&mut client);
    run_of(&store, &c, 3_000);
    let after = pages(&mut client);
    assert_eq!(before.len(), 3_000);
    let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
    assert_eq!(moved, 0, "{moved} of 3000 findings moved to another page");
}

/// Assets keep their open findings' risk totals run by run (`common::kept_totals`).
#[test]
fn asset_risks_follow_their_findings_from_kept_totals() {
    let Some(db) = pgtest::TestDb::new("asset_totals") else {
        return;
    };
    let store = db.open();
    let mut client = db.client();
    common::kept_totals::asset_risks_follow_their_findings(&store, &mut client);
}

/// A page after a cursor starts at the cursor in an index, also when every finding shares
/// the cursor's severity: written as one condition ("past the cursor's severity, or
/// level with it and a greater id"), PostgreSQL read and sorted all of them first.
#[test]
fn a_cursor_page_seeks_instead_of_sorting_the_cursors_severity() {
    let Some(db) = pgtest::TestDb::new("cursor_plan") else {
        return;
    };
    let store = db.open();
    let c = common::connector(&store, "pages");
    run_of(&store, &c, 20_000);
    db.client()
        .batch_execute("ANALYZE findings")
        .expect("analyze");
    let q = ListQuery {
        limit: Some(100),
        offset: Some(9_900),
        ..Default::default()
    };
    let next = store.finding_page(&q).expect("page").next;
    let plan = store
        .explain_findings(&ListQuery {
            offset: None,
            after: next,
            ..q
        })
        .expect("explain")
        .join("\n");
    // Only the merged page's few rows may be sorted (their estimate says how many).
    let sorted_rows = plan
        .lines()
        .filter(|l| l.contains("Sort  ("))
        .filter_map(|l| {
            l.split("rows=")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<u64>()
                .ok()
        });
    for rows in sorted_rows {
        assert!(rows <= 300, "a sort of {rows} rows:\n{plan}");
    }
    assert!(
        !plan.contains("Seq Scan on findings") && !plan.contains("Incremental Sort"),
        "{plan}"
    );
    assert!(plan.contains("Index Cond: (id > "), "{plan}");
}

/// Connections the server closed while they sat idle in the pool (an idle timeout, a
/// pooler, a failover, `pg_terminate_backend`) are noticed before use: the next call
/// failed with "connection closed", a scheduled run with it, and `/readyz` said 503
/// once per dead connection.
#[test]
fn connections_closed_while_idle_are_replaced_before_use() {
    let Some(db) = pgtest::TestDb::new("idle_closed") else {
        return;
    };
    let app = format!("ab_{}", db.schema);
    let store = PgStore::open(&format!("{}&application_name={app}", db.url())).expect("open");
    common::connector(&store, "before");
    let killed = db.terminate(&app);
    assert!(killed >= 1, "the store's idle connections were closed");
    // Idle past the check's threshold.
    std::thread::sleep(std::time::Duration::from_millis(2_200));
    let names: Vec<String> = store
        .connectors()
        .expect("a fresh connection answers")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["before"]);
    common::connector(&store, "after");
}

/// Text sorts by its bytes, as on SQLite, whatever the database's collation: under a
/// managed server's `en_US.UTF-8` (here the column's, as ICU's English) `--sort name`
/// put `_z` and `a` before `B` and `Z`, and cursor pages compared by that order too.
#[test]
fn text_sorts_bytewise_under_any_collation() {
    let Some(db) = pgtest::TestDb::new("collation") else {
        return;
    };
    let store = db.open();
    let c = common::connector(&store, "names");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let names = ["a", "Z", "_z", "B"];
    let batch = Batch {
        assets: vec![common::asset("app")],
        findings: names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                common::changed(
                    &common::finding(&format!("f{i}"), "app", Status::New),
                    |f| f.name = (*n).into(),
                )
            })
            .collect(),
        issues: vec![],
    };
    store
        .finish_run(&run, &batch, &common::end(RunState::Processed, None))
        .expect("write");
    db.client()
        .batch_execute("ALTER TABLE findings ALTER COLUMN name TYPE text COLLATE \"en-x-icu\"")
        .expect("an English collation");
    let sorted = |after: Option<query::Cursor>| {
        store
            .finding_page(&ListQuery {
                sort: query::Sort::parse_list(query::Entity::Findings, "name").expect("sort"),
                limit: Some(2),
                after,
                ..Default::default()
            })
            .expect("page")
    };
    let first = sorted(None);
    let second = sorted(first.next.clone());
    let order: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|f| f.finding.name.clone())
        .collect();
    assert_eq!(order, ["B", "Z", "_z", "a"]);
}

/// A session that may only read (`default_transaction_read_only`, a standby) could not
/// even list: opening ran `CREATE SCHEMA IF NOT EXISTS` and `CREATE TABLE IF NOT EXISTS`,
/// which such a session is refused even when both exist. A current store is now only
/// read on open, and a write says which store and that the session may only read.
#[test]
fn a_read_only_session_lists_and_a_write_says_so() {
    let Some(db) = pgtest::TestDb::new("read_only") else {
        return;
    };
    let writer = db.open();
    let c = common::connector(&writer, "cloud");
    let run = writer
        .begin_run(c.id, RunMode::Full, "seed", Duration::minutes(5))
        .expect("begin");
    writer
        .write_batch(
            &run,
            &Batch {
                assets: vec![common::asset("app1")],
                findings: vec![common::finding("f1", "app1", Status::New)],
                ..Batch::default()
            },
            &RunCounters::default(),
        )
        .expect("write");
    writer
        .finish_run(
            &run,
            &Batch::default(),
            &common::end(RunState::Processed, None),
        )
        .expect("finish");
    let url = format!(
        "{}&options=-c%20default_transaction_read_only%3Don",
        db.url()
    );
    let reader = PgStore::open(&url).expect("a read-only session opens a current store");
    assert_eq!(reader.connectors().expect("connectors").len(), 1);
    assert_eq!(reader.runs(c.id, 10).expect("runs").len(), 1);
    let found = reader.findings(&ListQuery::default()).expect("findings");
    assert_eq!(found.len(), 1);
    assert_eq!(
        reader.assets(&ListQuery::default()).expect("assets").len(),
        1
    );
    let err = reader
        .create_connector(&NewConnector {
            name: "second".into(),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: serde_json::json!({}),
        })
        .expect_err("a read-only session");
    assert!(
        matches!(
            err,
            StoreError::Refused {
                read_only: true,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    for said in [
        db.schema.as_str(),
        "is read-only in this session",
        "cannot execute INSERT in a read-only transaction",
        "nothing was changed",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    assert_eq!(writer.connectors().expect("connectors").len(), 1);
    // A role that may only read (PostgreSQL 14's pg_read_all_data) was refused CREATE
    // SCHEMA on the database: it lists too, and a write says the role is refused.
    let roles = db
        .client()
        .query_opt(
            "SELECT 1 FROM pg_roles WHERE rolname = 'pg_read_all_data'",
            &[],
        )
        .expect("roles");
    if roles.is_some() {
        let url = format!("{}&options=-c%20role%3Dpg_read_all_data", db.url());
        let reader = PgStore::open(&url).expect("a reading role opens a current store");
        assert_eq!(
            reader
                .findings(&ListQuery::default())
                .expect("findings")
                .len(),
            1
        );
        let err = reader
            .delete_connector("cloud")
            .expect_err("a reading role");
        assert!(
            matches!(
                err,
                StoreError::Refused {
                    read_only: false,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("refuses this role"), "{err}");
    }
    // A schema with no store yet must be created, which the session is refused: said so.
    let elsewhere = url.replace(&db.schema, &format!("{}_none", db.schema));
    let err = PgStore::open(&elsewhere).expect_err("nothing can be created");
    assert!(
        matches!(
            err,
            StoreError::Refused {
                read_only: true,
                ..
            }
        ),
        "{err:?}"
    );
}

/// A server that takes the connection and never answers (hung, or a proxy without its
/// backend) hung every command for good, `connect_timeout` or not: the driver's timeout
/// covers only the TCP connection. Opening gives up after the URL's `connect_timeout`,
/// the whole attempt, and names the server. Needs no PostgreSQL.
#[test]
fn a_server_that_never_answers_is_given_up_after_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    // Takes every connection and holds it, silent, until the test ends.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    for extra in ["", "&sslmode=disable"] {
        let url =
            format!("postgres://postgres@127.0.0.1:{port}/test?schema=x&connect_timeout=1{extra}");
        // On a thread, so that a hang fails the test instead of hanging it.
        let (sender, answer) = std::sync::mpsc::channel();
        let opening = url.clone();
        std::thread::spawn(move || {
            let opened = PgStore::open(&opening).map(|_| ());
            let exists = PgStore::exists(&opening).map(|_| ());
            let _ = sender.send((opened, exists));
        });
        let (opened, exists) = answer
            .recv_timeout(std::time::Duration::from_secs(6))
            .expect("given up within the timeout, not hung");
        let text = opened.expect_err("no answer").to_string();
        assert!(
            text.contains(&format!(
                "no answer from the PostgreSQL server at 127.0.0.1:{port} within 1 s"
            )),
            "{text}"
        );
        // What a command that only reads asks first.
        let text = exists.expect_err("no answer").to_string();
        assert!(text.contains("no answer"), "{text}");
    }
}

/// Connections the server dropped all at once (a restart, a failover, a blip): the first
/// caller's statement fails on one and gives it back closed; the other idle ones were
/// handed out unchecked (idle under two seconds) and failed too — a run's failure could
/// then not be recorded, leaving it Processing. After a closed one comes back, the idle
/// ones are checked before use.
#[test]
fn idle_connections_are_checked_after_one_came_back_closed() {
    let Some(db) = pgtest::TestDb::new("closed_together") else {
        return;
    };
    let app = format!("ab_{}", db.schema);
    let mut config = db.server();
    config.application_name(&app);
    let pool = store::postgres::pool::Pool::new(
        config,
        store::postgres::tls::Tls::Off,
        Some(db.schema.clone()),
        3,
        "test".into(),
    );
    // Three clients, idle together.
    let held: Vec<_> = (0..3).map(|_| pool.get().expect("a client")).collect();
    drop(held);
    assert_eq!(db.terminate(&app), 3);
    // The first caller meets a dead one (nothing told the pool yet), and says so, as the
    // store does.
    let mut first = pool.get().expect("a client");
    let e = first
        .simple_query("SELECT 1")
        .expect_err("its server closed it");
    first.failed(&e);
    drop(first);
    // The next gets a live one at once.
    let mut next = pool.get().expect("a client");
    next.simple_query("SELECT 1")
        .expect("a connection checked before use");
}
