//! The store contract, written once against `&dyn Store` so every backend runs it.

#![allow(dead_code)]

pub mod kept_totals;

use chrono::{Duration, Utc};
use model::{Asset, Finding, Severity, Status};
use serde_json::json;
use store::*;

/// `base` changed by `change`, to be encoded afresh.
pub fn changed(base: &FindingRecord, change: impl FnOnce(&mut Finding)) -> FindingRecord {
    let mut rec = base.clone();
    rec.prepared = Default::default();
    change(&mut rec.finding);
    rec
}

/// An asset's (risk, sum, top, top count) as its open findings' `risks` give them.
pub fn totals_of(risks: impl IntoIterator<Item = u16>) -> (u16, u64, u16, u32) {
    let open = model::risk::OpenRisks::of(risks);
    let count = if open.top > 0 { open.top_count } else { 0 };
    (open.score(), open.sum, open.top, count)
}

/// A full run of `connector` over assets a and b that sees `seen` and closes the other
/// findings of both; how many it closed.
pub fn full_run_seeing(store: &dyn Store, connector: &Connector, seen: Vec<FindingRecord>) -> u64 {
    let run = store
        .begin_run(connector.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let batch = Batch {
        assets: vec![asset("a"), asset("b")],
        findings: seen,
        issues: vec![],
    };
    store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("write");
    let closed = store
        .close_unseen(&run, &["a".to_string(), "b".to_string()])
        .expect("close");
    store
        .finish_run(&run, &Batch::default(), &end(RunState::Processed, None))
        .expect("finish");
    closed
}

/// The names of the indexes of the SQLite database at `path`, sorted.
pub fn index_names(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).expect("open");
    let mut st = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .expect("prepare");
    st.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

pub fn connector(store: &dyn Store, name: &str) -> Connector {
    store
        .create_connector(&NewConnector {
            name: name.into(),
            kind: "asoc".into(),
            url: Some("http://127.0.0.1:1".into()),
            key_id: Some("kid".into()),
            secret: Some(vec![1, 2, 3]),
            settings: json!({"page_size": 50}),
        })
        .expect("create connector")
}

pub fn finding(id: &str, app: &str, status: Status) -> FindingRecord {
    FindingRecord {
        finding: Finding {
            external_id: id.into(),
            asset_external_id: app.into(),
            name: "Cross-Site Scripting".into(),
            severity: Severity::High,
            source_severity: "High".into(),
            status,
            source_status: Some("Open".into()),
            cve: None,
            cvss: Some(7.5),
            cwe: Some(79),
            first_found: Some(Utc::now()),
            last_found: None,
            last_updated: None,
            port: Some(443),
            protocol: Some("https".into()),
            issue_type: Some("attCrossSiteScripting".into()),
            location: Some(format!("https://shop.example.com/{id}")),
            element: Some("q".into()),
            detection: None,
            description: Some("a, \"quoted\"\nmultiline".into()),
            solution: None,
            tags: vec!["t1".into()],
        },
        raw: json!({"Id": id, "ApplicationId": app}),
        fingerprint: format!("fp-{id}"),
        prepared: Default::default(),
    }
}

pub fn asset(id: &str) -> AssetRecord {
    AssetRecord {
        asset: Asset {
            external_id: id.into(),
            name: Some(format!("Shop {id}")),
            url: Some(format!("https://{id}.example.com")),
            description: None,
            business_unit: None,
            risk_rating: None,
            last_updated: None,
            tags: vec![],
        },
        raw: json!({"Id": id}),
        prepared: Default::default(),
    }
}

pub fn end(state: RunState, cursor: Option<chrono::DateTime<Utc>>) -> RunEnd {
    RunEnd {
        state,
        connector_state: if state == RunState::Processed {
            ConnectorState::Processed
        } else {
            ConnectorState::Errored
        },
        reason: None,
        counters: RunCounters::default(),
        cursor,
        scope: None,
    }
}

/// Runs the whole contract.
pub fn contract(store: &dyn Store) {
    connectors_crud(store);
    upserts_are_idempotent_and_keep_history(store);
    cursor_moves_only_on_success(store);
    lock_refuses_a_second_run_and_expires(store);
    full_run_closes_unseen(store);
    maps_are_kept(store);
    query_risk_and_kev(store);
    several_cves_are_kev_when_any_is_listed(store);
    a_moved_finding_leaves_its_old_assets_risk(store);
    an_update_stores_each_changed_field(store);
    a_preview_compares_without_writing(store);
    the_summary_counts_what_is_stored(store);
    paging_by_cursor_is_one_listing(store);
    text_beyond_ascii_ignores_case(store);
    a_run_that_reopens_one_and_closes_the_top_keeps_the_asset_right(store);
    a_list_of_a_thousand_values_runs(store);
    a_remap_keeps_when_things_were_seen(store);
    a_runs_saved_progress_counts_every_batch_it_wrote(store);
    an_id_the_run_wrote_before_is_counted_as_repeated(store);
}

/// A finding whose id the run already wrote — earlier in the batch, in an earlier batch,
/// or in its last batch — is counted as repeated, with the batch's first such id; the
/// last record is the one stored. Ids written by an earlier run, and assets, are not
/// repeats. (The stores keep no set of ids for this: they read the row's last run.)
fn an_id_the_run_wrote_before_is_counted_as_repeated(store: &dyn Store) {
    let c = connector(store, "repeats");
    let none = RunCounters::default();
    let run = store
        .begin_run(c.id, RunMode::Full, "test", Duration::minutes(5))
        .expect("begin");
    let x = finding("x", "a", Status::New);
    let critical = changed(&x, |f| f.severity = Severity::Critical);
    let batch = |findings: Vec<FindingRecord>| Batch {
        assets: vec![asset("a")],
        findings,
        issues: vec![],
    };
    let repeats = |c: &BatchCounts| (c.repeated, c.first_repeated.clone());
    let first = store
        .write_batch(
            &run,
            &batch(vec![x.clone(), finding("y", "a", Status::New), critical]),
            &none,
        )
        .expect("first batch");
    assert_eq!(
        (first.inserted, first.updated),
        (3, 1),
        "a, x, y; x again, changed"
    );
    assert_eq!(repeats(&first), (1, Some("x".into())));
    let second = store
        .write_batch(
            &run,
            &batch(vec![
                finding("z", "a", Status::New),
                finding("y", "a", Status::New),
                x,
            ]),
            &none,
        )
        .expect("second batch");
    assert_eq!(repeats(&second), (2, Some("y".into())), "{second:?}");
    let last = store
        .finish_run(
            &run,
            &batch(vec![finding("z", "a", Status::New)]),
            &end(RunState::Processed, None),
        )
        .expect("finish");
    assert_eq!(repeats(&last), (1, Some("z".into())));
    let stored = store
        .findings(&ListQuery {
            connector: Some("repeats".into()),
            ..Default::default()
        })
        .expect("list");
    assert_eq!(stored.len(), 3);
    let x = stored
        .iter()
        .find(|f| f.finding.external_id == "x")
        .expect("x");
    assert_eq!(x.finding.severity, Severity::High, "the last record of x");

    let next = store
        .begin_run(c.id, RunMode::Full, "test", Duration::minutes(5))
        .expect("begin 2");
    let again = store
        .write_batch(
            &next,
            &batch(vec![
                finding("y", "a", Status::New),
                finding("x", "a", Status::New),
                finding("x", "a", Status::New),
            ]),
            &none,
        )
        .expect("next run");
    assert_eq!(
        repeats(&again),
        (1, Some("x".into())),
        "y and x were written by the run before; x twice by this one"
    );
    store
        .finish_run(&next, &Batch::default(), &end(RunState::Processed, None))
        .expect("finish 2");
}

/// A run killed or taken over before its end keeps the counters its batches saved; they
/// count every batch written, the last included. The runner's counters, saved with each
/// batch, lagged one or two batches behind (a killed run showed 28,416 inserted of the
/// 32,658 findings it wrote).
fn a_runs_saved_progress_counts_every_batch_it_wrote(store: &dyn Store) {
    let c = connector(store, "progress");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let batch = |ids: &[&str]| Batch {
        assets: vec![asset("app")],
        findings: ids
            .iter()
            .map(|id| finding(id, "app", Status::New))
            .collect(),
        issues: vec![],
    };
    // The runner's counters as it queued each batch: nothing written yet.
    let lagging = RunCounters {
        fetched: 3,
        requests: 2,
        ..RunCounters::default()
    };
    let mut wrote = RunCounters::default();
    for ids in [&["p1", "p2", "p3"][..], &["p1", "p4"]] {
        let counts = store
            .write_batch(&run, &batch(ids), &lagging)
            .expect("a batch");
        wrote.add(&counts);
    }
    let saved = store.run(run.id).expect("run").expect("its row").counters;
    // Records: the application and four findings new, p1 seen again.
    assert_eq!((wrote.inserted, wrote.unchanged), (5, 1), "{wrote:?}");
    assert_eq!(
        (saved.inserted, saved.updated, saved.unchanged),
        (wrote.inserted, wrote.updated, wrote.unchanged),
        "{saved:?}"
    );
    assert_eq!((saved.fetched, saved.requests), (3, 2), "{saved:?}");
}

/// A remap fetches nothing: what it writes keeps when each record was last seen, and
/// whether it is active. It set every finding and asset seen that moment.
fn a_remap_keeps_when_things_were_seen(store: &dyn Store) {
    let c = connector(store, "seen");
    let run_with = |mode: RunMode, batch: Batch| {
        let run = store
            .begin_run(c.id, mode, "t", Duration::minutes(5))
            .expect("begin");
        store
            .finish_run(&run, &batch, &end(RunState::Processed, None))
            .expect("finish");
    };
    let x = finding("x", "a", Status::New);
    let z = finding("z", "a", Status::New);
    run_with(
        RunMode::Full,
        Batch {
            assets: vec![asset("a")],
            findings: vec![x.clone(), z.clone()],
            ..Batch::default()
        },
    );
    let q = ListQuery {
        connector: Some("seen".into()),
        ..Default::default()
    };
    let seen = |store: &dyn Store| {
        let mut findings: Vec<_> = store
            .findings(&q)
            .expect("findings")
            .into_iter()
            .map(|f| (f.finding.external_id.clone(), f.last_seen))
            .collect();
        findings.sort();
        let assets: Vec<_> = store
            .assets(&q)
            .expect("assets")
            .into_iter()
            .map(|a| a.last_seen)
            .collect();
        (findings, assets)
    };
    let before = seen(store);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // x changed by the new map, z the same.
    run_with(
        RunMode::Remap,
        Batch {
            assets: vec![asset("a")],
            findings: vec![changed(&x, |f| f.name = "Renamed by a map".into()), z],
            ..Batch::default()
        },
    );
    assert_eq!(seen(store), before, "a remap saw nothing");
    let renamed = store.findings(&q).expect("findings");
    assert!(renamed.iter().any(|f| f.finding.name == "Renamed by a map"));
}

/// The parser allows 1,000 values in one list; as a flat chain of `OR`s SQLite refused
/// the statement from about 995 ("Expression tree is too large"), and the API said 500.
fn a_list_of_a_thousand_values_runs(store: &dyn Store) {
    let mut ids: Vec<String> = (0..999).map(|i| format!("nobody-{i}")).collect();
    ids.push("u1".into());
    for (field, entity) in [
        ("externalId", query::Entity::Findings),
        ("app", query::Entity::Findings),
    ] {
        let text = format!("{field}:{}", ids.join(","));
        let q = ListQuery {
            filter: Some(query::Filter::parse(entity, &text).expect("filter")),
            ..Default::default()
        };
        let found = store
            .findings(&q)
            .unwrap_or_else(|e| panic!("{field}: {e}"));
        if field == "externalId" {
            assert_eq!(found.len(), 1, "u1");
        }
    }
    let names: Vec<String> = (0..1000).map(|i| format!("app-{i}")).collect();
    let q = ListQuery {
        filter: Some(
            query::Filter::parse(query::Entity::Assets, &format!("name:{}", names.join(",")))
                .expect("f"),
        ),
        ..Default::default()
    };
    store.assets(&q).expect("assets with a long list");
}

/// One full run reopens a finding and closes the asset's top one. Closing the top made the
/// asset read its open findings again — the reopened one included — and the run's end then
/// added the reopened one a second time (SQLite: 379 where the formula gives 344).
fn a_run_that_reopens_one_and_closes_the_top_keeps_the_asset_right(store: &dyn Store) {
    let c = connector(store, "reopen-top");
    let medium = |id: &str| {
        changed(&finding(id, "a", Status::New), |f| {
            f.severity = Severity::Medium
        })
    };
    let top = changed(&finding("t", "a", Status::New), |f| {
        f.severity = Severity::Critical;
        f.cvss = Some(10.0);
    });
    full_run_seeing(store, &c, vec![medium("f10"), medium("f20")]);
    assert_eq!(
        full_run_seeing(store, &c, vec![medium("f10"), top]),
        1,
        "f20 closed"
    );
    assert_eq!(
        full_run_seeing(store, &c, vec![medium("f10"), medium("f20")]),
        1,
        "t closed"
    );
    let scope = |q: ListQuery| ListQuery {
        connector: Some("reopen-top".into()),
        ..q
    };
    let open: Vec<u16> = store
        .findings(&scope(ListQuery::default()))
        .expect("findings")
        .into_iter()
        .filter(|f| f.finding.status.is_open())
        .map(|f| f.risk)
        .collect();
    assert_eq!(open.len(), 2, "f10, and f20 reopened");
    let asset = store
        .assets(&scope(ListQuery::default()))
        .expect("assets")
        .into_iter()
        .find(|a| a.asset.external_id == "a")
        .expect("asset a");
    assert_eq!(asset.risk, model::risk::asset_risk(open));
}

/// "Text is case-insensitive" also beyond ASCII: an application named Übersicht is found
/// by `app:übersicht` (SQLite's LIKE folds ASCII only), and tags and wildcards alike.
fn text_beyond_ascii_ignores_case(store: &dyn Store) {
    let c = connector(store, "unicode");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let mut app = asset("ü1");
    app.asset.name = Some("Übersicht Ärzte".into());
    let mut f = finding("u1", "ü1", Status::New);
    f.finding.tags = vec!["Größe".into()];
    f.finding.name = "Schwäche im Login".into();
    let batch = Batch {
        assets: vec![app],
        findings: vec![f],
        issues: vec![],
    };
    store
        .finish_run(&run, &batch, &end(RunState::Processed, None))
        .expect("finish");
    let count = |text: &str| {
        store
            .findings(&ListQuery {
                connector: Some("unicode".into()),
                filter: Some(query::Filter::parse(query::Entity::Findings, text).expect("filter")),
                ..Default::default()
            })
            .expect("findings")
            .len()
    };
    for text in [
        "app:\"übersicht ärzte\"",
        "app:\"ÜBERSICHT ÄRZTE\"",
        "app:über*",
        "tag:GRÖSSE",
        "tag:größe",
        "name:*SCHWÄCHE*",
    ] {
        let want = usize::from(text != "tag:GRÖSSE");
        assert_eq!(count(text), want, "{text}");
    }
    assert_eq!(count("app:\"Übersicht Ärzte\""), 1, "as written");
    assert_eq!(count("app:zürich"), 0);

    // Greek and Turkish capitals: SQLite lowercased with context rules (Σ at the end of
    // a pattern word became ς, İ became i + U+0307) and PostgreSQL letter by letter, so
    // the two backends gave different rows. Both now compare one fold.
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let mut greek = asset("gr");
    greek.asset.name = Some("ΟΔΟΣΤΕΣ Shop".into());
    let mut turkish = asset("tr");
    turkish.asset.name = Some("İstanbul Portal".into());
    let mut plain = asset("in");
    plain.asset.name = Some("Inventory".into());
    let batch = Batch {
        assets: vec![app_again(), greek, turkish, plain],
        findings: vec![
            changed(&finding("u1", "ü1", Status::New), |f| {
                f.tags = vec!["Größe".into()];
                f.name = "Schwäche im Login".into();
            }),
            finding("g1", "gr", Status::New),
            finding("t1", "tr", Status::New),
            finding("i1", "in", Status::New),
        ],
        issues: vec![],
    };
    store
        .finish_run(&run, &batch, &end(RunState::Processed, None))
        .expect("finish");
    for (text, want) in [
        ("app:ΟΔΟΣ*", 1),
        ("app:οδοστες*", 1),
        ("app:οδοστεσ*", 1),
        ("app:\"ΟΔΟΣΤΕΣ SHOP\"", 1),
        ("app:*Σ*", 1),
        ("app:İstanbul*", 1),
        ("app:İSTANBUL*", 1),
        // İ folds to i, so it also finds names that start with a plain I.
        ("app:İ*", 2),
        // An ASCII pattern folds ASCII only, on both backends.
        ("app:istanbul*", 0),
        ("app:*stanbul*", 1),
        ("app:ıstanbul*", 0),
    ] {
        assert_eq!(count(text), want, "{text}");
    }
}

fn app_again() -> AssetRecord {
    let mut app = asset("ü1");
    app.asset.name = Some("Übersicht Ärzte".into());
    app
}

fn connectors_crud(store: &dyn Store) {
    let c = connector(store, "crud");
    assert_eq!(c.state, ConnectorState::Registered);
    assert!(matches!(
        store.create_connector(&NewConnector {
            name: "crud".into(),
            kind: "asoc".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: json!({})
        }),
        Err(StoreError::ConnectorExists(_))
    ));
    let mut c2 = c.clone();
    c2.settings = json!({"page_size": 100});
    store.update_connector(&c2).expect("update");
    let back = store.connector("crud").expect("get").expect("exists");
    assert_eq!(back.settings["page_size"], 100);
    assert_eq!(back.secret.as_deref(), Some(&[1u8, 2, 3][..]));
    assert!(!format!("{back:?}").contains("[1, 2, 3]"));
    assert!(store.delete_connector("crud").expect("delete"));
    assert!(store.connector("crud").expect("get").is_none());
}

fn upserts_are_idempotent_and_keep_history(store: &dyn Store) {
    let c = connector(store, "upserts");
    let run = store
        .begin_run(c.id, RunMode::Full, "test", Duration::minutes(5))
        .expect("begin");
    let batch = Batch {
        assets: vec![asset("app1")],
        findings: vec![
            finding("f1", "app1", Status::New),
            finding("f2", "app1", Status::New),
        ],
        issues: vec![],
    };
    let counts = store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("write");
    assert_eq!(
        counts,
        BatchCounts {
            inserted: 3,
            ..BatchCounts::default()
        }
    );
    let counts = store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("rewrite");
    assert_eq!(
        counts,
        BatchCounts {
            unchanged: 3,
            // The run wrote both findings before (the asset is not counted).
            repeated: 2,
            first_repeated: Some("f1".into()),
            ..BatchCounts::default()
        }
    );
    store
        .finish_run(&run, &Batch::default(), &end(RunState::Processed, None))
        .expect("finish");

    let run2 = store
        .begin_run(c.id, RunMode::Delta, "test", Duration::minutes(5))
        .expect("begin 2");
    let fixed = Batch {
        findings: vec![finding("f1", "app1", Status::Fixed)],
        ..Batch::default()
    };
    let counts = store
        .finish_run(&run2, &fixed, &end(RunState::Processed, None))
        .expect("finish 2");
    assert_eq!(counts.updated, 1);

    let all = store
        .findings(&ListQuery {
            connector: Some("upserts".into()),
            ..Default::default()
        })
        .expect("list");
    assert_eq!(all.len(), 2);
    let f1 = all
        .iter()
        .find(|f| f.finding.external_id == "f1")
        .expect("f1");
    assert_eq!(f1.finding.status, Status::Fixed);
    assert_eq!(f1.asset_name.as_deref(), Some("Shop app1"));
    assert_eq!(
        f1.finding.description.as_deref(),
        Some("a, \"quoted\"\nmultiline")
    );
    let h = store.finding_history(f1.id).expect("history");
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[0].old_status, h[0].new_status, h[0].run_id),
        (None, Status::New, Some(run.id))
    );
    assert_eq!(
        (h[1].old_status, h[1].new_status, h[1].run_id),
        (Some(Status::New), Status::Fixed, Some(run2.id))
    );

    let mut raws = 0;
    store
        .for_each_raw(c.id, &mut |_, _, raw, _| {
            assert!(raw.get("Id").is_some());
            raws += 1;
            Ok(())
        })
        .expect("raw");
    assert_eq!(raws, 3);
    let s = store.summary(Some("upserts")).expect("summary");
    assert_eq!((s.assets, s.findings), (1, 2));
}

fn cursor_moves_only_on_success(store: &dyn Store) {
    let c = connector(store, "cursor");
    let t1 = Utc::now() - Duration::hours(1);
    let run = store
        .begin_run(c.id, RunMode::Full, "test", Duration::minutes(5))
        .expect("begin");
    store
        .finish_run(&run, &Batch::default(), &end(RunState::Processed, Some(t1)))
        .expect("finish");
    let run = store
        .begin_run(c.id, RunMode::Delta, "test", Duration::minutes(5))
        .expect("begin");
    assert!(run.cursor_from.is_some());
    store
        .finish_run(
            &run,
            &Batch::default(),
            &end(RunState::Errored, Some(Utc::now())),
        )
        .expect("finish");
    let back = store.connector("cursor").expect("get").expect("exists");
    let stored = back.cursor.expect("cursor");
    assert!(
        (stored - t1).num_milliseconds().abs() < 1,
        "cursor moved on an errored run"
    );
    assert_eq!(back.state, ConnectorState::Errored);
    let runs = store.runs(c.id, 10).expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].state, RunState::Errored);
}

fn lock_refuses_a_second_run_and_expires(store: &dyn Store) {
    let c = connector(store, "lock");
    let run = store
        .begin_run(c.id, RunMode::Full, "first", Duration::minutes(5))
        .expect("begin");
    match store.begin_run(c.id, RunMode::Full, "second", Duration::minutes(5)) {
        Err(StoreError::Locked { run_id, holder, .. }) => {
            assert_eq!(run_id, run.id);
            assert_eq!(holder, "first");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    let lock = store.run_lock(c.id).expect("lock").expect("held");
    assert_eq!((lock.run_id, lock.holder.as_str()), (run.id, "first"));
    assert!(lock.expires > Utc::now() && lock.since <= Utc::now());
    // What the run did before it stalled is kept in its record, as its batches saved it.
    store
        .write_batch(
            &run,
            &Batch::default(),
            &RunCounters {
                fetched: 7,
                ..RunCounters::default()
            },
        )
        .expect("a batch while it holds the lock");
    // A crashed holder: its lock expires and the next run takes over, ending the old run.
    store
        .renew_lock(run.id, Duration::seconds(-1))
        .expect("expire");
    let expired = store.run_lock(c.id).expect("lock").expect("still there");
    assert!(
        expired.expires < Utc::now(),
        "an expired lock is still told"
    );
    let next = store
        .begin_run(c.id, RunMode::Full, "second", Duration::minutes(5))
        .expect("take over");
    let old = store.run(run.id).expect("run").expect("exists");
    assert_eq!(old.state, RunState::Errored);
    assert!(old.reason.unwrap_or_default().contains("interrupted"));
    // The old holder was only stalled (a worker paused past its lease): it resumes. Its
    // writes are refused (they went on beside the new run's, and its end overwrote the
    // record of the takeover with Processed), its lease is not renewed, and its end is
    // recorded as a lost lock. The connector is the new run's: its state and cursor stay.
    store
        .set_connector_state(c.id, ConnectorState::Processing, None)
        .expect("the new run's state");
    let lost = |r: Result<BatchCounts>| match r {
        Err(StoreError::LockLost { run_id, taken_by }) => (run_id, taken_by),
        other => panic!("expected LockLost, got {other:?}"),
    };
    let stale = Batch {
        assets: vec![asset("a")],
        findings: vec![finding("stale", "a", Status::New)],
        issues: vec![],
    };
    assert_eq!(
        lost(store.write_batch(&run, &stale, &RunCounters::default())),
        (run.id, Some(next.id))
    );
    assert!(matches!(
        store.renew_lock(run.id, Duration::minutes(5)),
        Err(StoreError::LockLost { .. })
    ));
    assert!(matches!(
        store.close_unseen(&run, &["a".to_string()]),
        Err(StoreError::LockLost { .. })
    ));
    let stale_cursor = Utc::now() - Duration::days(3);
    assert_eq!(
        lost(store.finish_run(&run, &stale, &end(RunState::Processed, Some(stale_cursor)),)),
        (run.id, Some(next.id))
    );
    let old = store.run(run.id).expect("run").expect("exists");
    assert_eq!(old.state, RunState::Errored);
    assert_eq!(old.counters.fetched, 7, "its counters were zeroed");
    assert!(
        old.reason
            .unwrap_or_default()
            .contains(&format!("run {} took the connector over", next.id)),
        "the stalled run's end says why"
    );
    assert!(
        store
            .findings(&ListQuery::default())
            .expect("findings")
            .iter()
            .all(|f| f.finding.external_id != "stale"),
        "nothing of the stalled run was written"
    );
    let now_c = store.connector("lock").expect("get").expect("exists");
    assert_eq!(now_c.state, ConnectorState::Processing, "the new run's");
    assert_eq!(
        now_c.cursor, None,
        "no cursor from a run that lost its lock"
    );
    assert_eq!(
        store.run_lock(c.id).expect("lock").map(|l| l.run_id),
        Some(next.id),
        "the new run keeps its lock"
    );
    store
        .finish_run(&next, &Batch::default(), &end(RunState::Processed, None))
        .expect("finish");
    assert_eq!(store.run_lock(c.id).expect("lock"), None, "released");
    let now_c = store.connector("lock").expect("get").expect("exists");
    assert_eq!(now_c.state, ConnectorState::Processed);
    // Released since: still no writing for the stalled run.
    assert_eq!(
        lost(store.write_batch(&run, &stale, &RunCounters::default())),
        (run.id, None)
    );
}

fn full_run_closes_unseen(store: &dyn Store) {
    let c = connector(store, "autoclose");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let batch = Batch {
        assets: vec![asset("a")],
        findings: vec![
            finding("x", "a", Status::New),
            finding("y", "a", Status::New),
        ],
        issues: vec![],
    };
    store
        .finish_run(&run, &batch, &end(RunState::Processed, None))
        .expect("finish");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let batch = Batch {
        findings: vec![finding("x", "a", Status::New)],
        ..Batch::default()
    };
    store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("write");
    assert_eq!(
        store.close_unseen(&run, &["a".to_string()]).expect("close"),
        1
    );
    store
        .finish_run(&run, &Batch::default(), &end(RunState::Processed, None))
        .expect("finish");
    let all = store
        .findings(&ListQuery {
            connector: Some("autoclose".into()),
            ..Default::default()
        })
        .expect("list");
    let y = all
        .iter()
        .find(|f| f.finding.external_id == "y")
        .expect("y");
    assert_eq!(y.finding.status, Status::Closed);
    let h = store.finding_history(y.id).expect("history");
    assert_eq!(
        h.last().map(|e| (e.new_status, e.run_id)),
        Some((Status::Closed, Some(run.id)))
    );

    // y comes back, reported open as a full-run source reports everything open: it is
    // REOPENED, not a first sighting, and stays so while it stays open, also through a
    // change of its content; fixed, it is FIXED.
    let run_writing_y = |mode: RunMode, records: Vec<FindingRecord>| {
        let run = store
            .begin_run(c.id, mode, "t", Duration::minutes(5))
            .expect("begin");
        let batch = Batch {
            findings: records,
            ..Batch::default()
        };
        store
            .finish_run(&run, &batch, &end(RunState::Processed, None))
            .expect("finish");
        let y = store
            .findings(&ListQuery {
                connector: Some("autoclose".into()),
                ..Default::default()
            })
            .expect("list")
            .into_iter()
            .find(|f| f.finding.external_id == "y")
            .expect("y");
        (
            y.finding.status,
            store.finding_history(y.id).expect("history"),
        )
    };
    let status_of_y = |records| run_writing_y(RunMode::Full, records);
    // A remap maps y's stored record — the source's last word, "open" — again, and
    // settles its status against the stored one: what the full run found (y gone)
    // stands, and the store writes it as given.
    let remapped = Status::Closed.remapped(Status::New, true);
    assert_eq!(remapped, Status::Closed, "a remap does not reopen");
    let (status, _) = run_writing_y(
        RunMode::Remap,
        vec![changed(&finding("y", "a", remapped), |f| {
            f.name = "Renamed by a map".into()
        })],
    );
    assert_eq!(status, Status::Closed);
    // The next run that reports y open reopens it: the remap's row is not "unchanged"
    // beside the open record (it was, when the remap hashed the record as open).
    let back = finding("y", "a", Status::New);
    let (status, _) = status_of_y(vec![changed(&back, |f| f.name = "Renamed by a map".into())]);
    assert_eq!(status, Status::Reopened, "reported again after a remap");
    let (status, h) = status_of_y(vec![back.clone()]);
    assert_eq!(status, Status::Reopened);
    assert_eq!(
        h.last().map(|e| (e.old_status, e.new_status)),
        Some((Some(Status::Closed), Status::Reopened))
    );
    let (status, _) = status_of_y(vec![back.clone()]);
    assert_eq!(status, Status::Reopened, "unchanged");
    let (status, _) = status_of_y(vec![changed(&back, |f| f.severity = Severity::Low)]);
    assert_eq!(status, Status::Reopened, "changed, still open");
    let (status, _) = status_of_y(vec![finding("y", "a", Status::Fixed)]);
    assert_eq!(status, Status::Fixed);
    let (status, _) = status_of_y(vec![finding("y", "a", Status::New)]);
    assert_eq!(status, Status::Reopened, "fixed, then back");
    // Fixed for good (later parts of the contract count asset a's open findings).
    let (status, _) = status_of_y(vec![finding("y", "a", Status::Fixed)]);
    assert_eq!(status, Status::Fixed);
}

fn maps_are_kept(store: &dyn Store) {
    store.save_map("mine", "name = \"mine\"").expect("save");
    store
        .save_map("mine", "name = \"mine2\"")
        .expect("save again");
    assert_eq!(
        store.map_text("mine").expect("get").as_deref(),
        Some("name = \"mine2\"")
    );
    assert!(
        store
            .map_names()
            .expect("names")
            .contains(&"mine".to_string())
    );
    assert!(store.delete_map("mine").expect("delete"));
}

/// Filters, sorts, streaming, risk scores and the KEV list (issue 7).
pub fn query_risk_and_kev(store: &dyn Store) {
    use query::{Entity, Filter, Sort};
    let c = connector(store, "query");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let old = Utc::now() - Duration::days(400);
    let mut internal = asset("int");
    internal.asset.url = Some("http://10.0.0.5/app".into());
    internal.asset.name = Some("Payroll".into());
    let mut a = finding("q1", "shop", Status::New);
    a.finding.severity = Severity::Critical;
    a.finding.cvss = Some(9.8);
    a.finding.cve = Some("CVE-2021-44228".into());
    a.finding.last_found = Some(Utc::now());
    a.finding.tags = vec!["pci".into(), "prod".into()];
    let mut b = finding("q2", "shop", Status::Fixed);
    b.finding.severity = Severity::Critical;
    b.finding.cvss = Some(9.8);
    b.finding.last_found = Some(old);
    let mut d = finding("q3", "shop", Status::New);
    d.finding.severity = Severity::Low;
    d.finding.cwe = Some(89);
    d.finding.name = "SQL Injection".into();
    d.finding.cvss = None;
    d.finding.port = None;
    d.finding.last_found = Some(old);
    let mut e = finding("q4", "int", Status::Reopened);
    e.finding.severity = Severity::Critical;
    e.finding.cvss = Some(9.8);
    e.finding.location = Some("http://10.0.0.5/app/login".into());
    e.finding.name = "O'Brien; DROP TABLE findings".into();
    let batch = Batch {
        assets: vec![asset("shop"), internal],
        findings: vec![a, b, d, e],
        issues: vec![],
    };
    store
        .finish_run(&run, &batch, &end(RunState::Processed, None))
        .expect("write");

    let ids = |filter: &str| -> Vec<String> {
        let q = ListQuery {
            connector: Some("query".into()),
            filter: Some(Filter::parse(Entity::Findings, filter).expect(filter)),
            sort: Sort::parse_list(Entity::Findings, "externalId:asc").expect("sort"),
            ..Default::default()
        };
        let rows = store.findings(&q).expect(filter);
        assert_eq!(
            store.count_findings(&q).expect("count"),
            rows.len() as u64,
            "{filter}"
        );
        rows.into_iter().map(|f| f.finding.external_id).collect()
    };
    assert_eq!(ids("severity>=high"), ["q1", "q2", "q4"]);
    assert_eq!(ids("severity>=high and status:open"), ["q1", "q4"]);
    assert_eq!(ids("severity<medium or status:FIXED"), ["q2", "q3"]);
    assert_eq!(ids(r#"app:"Shop*" and cwe:79"#), ["q1", "q2"]);
    assert_eq!(
        ids("app:shop*"),
        ["q1", "q2", "q3"],
        "text matches ignore case"
    );
    assert_eq!(ids("cwe:CWE-89"), ["q3"]);
    assert_eq!(ids("not cwe:79"), ["q3"]);
    assert_eq!(ids("cve:*"), ["q1"]);
    assert_eq!(ids("not cve:*"), ["q2", "q3", "q4"]);
    assert_eq!(
        ids("cve!=CVE-2021-44228"),
        ["q2", "q3", "q4"],
        "!= keeps empty values"
    );
    assert_eq!(ids("cvss>=9 and port:443"), ["q1", "q2", "q4"]);
    assert_eq!(ids("lastFound>-30d"), ["q1"]);
    // After the last day there is: nothing (SQLite found everything, comparing its
    // times as text with "+10000-01-01").
    assert!(ids("lastFound>9999-12-31").is_empty());
    assert!(ids("firstFound>9999-12-31").is_empty());
    assert_eq!(
        ids("lastFound<2026-01-01 and lastFound>2000-01-01"),
        ["q2", "q3"]
    );
    assert_eq!(ids("tag:PCI"), ["q1"]);
    assert_eq!(ids("name:*injection*"), ["q3"]);
    assert_eq!(ids(r#"name:"O'Brien; DROP TABLE findings""#), ["q4"]);
    assert_eq!(ids(r#"name:"x' OR '1'='1""#), Vec::<String>::new());
    assert_eq!(
        ids("open:true and (appUrl:http://10.* or location:http://10.*)"),
        ["q4"]
    );

    // Risk: stored on write, ordered as documented.
    let by_id = |id: &str| {
        store
            .findings(&ListQuery {
                connector: Some("query".into()),
                filter: Some(
                    Filter::parse(Entity::Findings, &format!("externalId:{id}")).expect("f"),
                ),
                ..Default::default()
            })
            .expect("get")
            .into_iter()
            .next()
            .expect(id)
    };
    let (q1, q2, q3, q4) = (by_id("q1"), by_id("q2"), by_id("q3"), by_id("q4"));
    assert!(
        q1.risk > q4.risk,
        "internet-facing above internal: {} vs {}",
        q1.risk,
        q4.risk
    );
    assert!(
        q4.risk > q3.risk && q3.risk > q2.risk,
        "{} {} {}",
        q4.risk,
        q3.risk,
        q2.risk
    );
    let sorted: Vec<String> = store
        .findings(&ListQuery {
            connector: Some("query".into()),
            sort: Sort::parse_list(Entity::Findings, "risk").expect("sort"),
            ..Default::default()
        })
        .expect("sorted")
        .into_iter()
        .map(|f| f.finding.external_id)
        .collect();
    assert_eq!(sorted, ["q1", "q4", "q3", "q2"]);
    assert_eq!(ids(&format!("risk>={}", q4.risk)), ["q1", "q4"]);

    // KEV: import, rescore, the exploited CVE rises and kev:true finds it.
    let kev = model::kev::parse("CVE-2021-44228\n").expect("kev");
    let (imported, counts) = store
        .import_kev_and_rescore(&kev, false)
        .expect("import and rescore");
    assert_eq!((imported.total, imported.matching_findings), (1, 1));
    assert_eq!(store.kev_count().expect("count"), 1);
    assert!(counts.findings >= 4 && counts.changed >= 1, "{counts:?}");
    assert!(by_id("q1").risk > q1.risk);
    assert_eq!(ids("kev:true"), ["q1"]);

    // Assets carry the risk of their open findings; filters and sorts apply to them too.
    let assets = store
        .assets(&ListQuery {
            connector: Some("query".into()),
            sort: Sort::parse_list(Entity::Assets, "risk").expect("sort"),
            ..Default::default()
        })
        .expect("assets");
    let names: Vec<_> = assets
        .iter()
        .map(|a| a.asset.external_id.as_str())
        .collect();
    assert_eq!(names, ["shop", "int"]);
    let q1 = by_id("q1");
    let q3 = by_id("q3");
    assert_eq!(assets[0].risk, model::risk::asset_risk([q1.risk, q3.risk]));
    let shops = store
        .assets(&ListQuery {
            filter: Some(
                Filter::parse(Entity::Assets, "name:Shop* and openFindings>=2").expect("f"),
            ),
            ..Default::default()
        })
        .expect("assets");
    assert_eq!(shops.len(), 1);
    assert!(matches!(
        store.assets(&ListQuery {
            filter: Some(Filter::parse(Entity::Findings, "cwe:79").expect("f")),
            ..Default::default()
        }),
        Err(StoreError::FilterEntity { .. })
    ));

    // Streaming gives the listing's rows in its order; limit and offset apply.
    let q = ListQuery {
        connector: Some("query".into()),
        sort: Sort::parse_list(Entity::Findings, "risk").expect("sort"),
        limit: Some(2),
        offset: Some(1),
        ..Default::default()
    };
    let mut streamed = Vec::new();
    store
        .for_each_finding(&q, &mut |f| {
            streamed.push(f.finding.external_id);
            Ok(())
        })
        .expect("stream");
    assert_eq!(streamed, ["q4", "q3"]);
    // A callback's error comes back out.
    let err = store
        .for_each_finding(&q, &mut |_| Err(StoreError::Callback("disk full".into())))
        .expect_err("callback error");
    assert_eq!(err.to_string(), "disk full");
}

/// A finding with several CVEs (`CVE-A,CVE-B`, as the map stores them) is known exploited
/// when any of them is listed: as it is written, in listings and `kev:true`, in the count
/// `kev import` reports and on `rescore`. It was matched as one token and never was.
fn several_cves_are_kev_when_any_is_listed(store: &dyn Store) {
    use query::{Entity, Filter};
    let kev = model::kev::parse("CVE-2022-22965\n").expect("kev");
    store.import_kev(&kev, true).expect("import");
    let c = connector(store, "cves");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let with = |id: &str, cve: Option<&str>| {
        let mut f = finding(id, "shop", Status::New);
        f.finding.cve = cve.map(Into::into);
        f
    };
    let batch = Batch {
        assets: vec![asset("shop")],
        findings: vec![
            with("one", Some("CVE-2022-22965")),
            with("two", Some("CVE-2021-44228,CVE-2022-22965")),
            // Stored before CVEs were normalized.
            with("spaced", Some("CVE-2021-44228, cve-2022-22965")),
            with("other", Some("CVE-2021-44228,CVE-2020-0001")),
            with("prefix", Some("CVE-2022-229650")),
            with("none", None),
        ],
        issues: vec![],
    };
    store
        .finish_run(&run, &batch, &end(RunState::Processed, None))
        .expect("write");
    let listed = || -> Vec<(String, bool, u16)> {
        let mut rows: Vec<_> = store
            .findings(&ListQuery {
                connector: Some("cves".into()),
                ..Default::default()
            })
            .expect("findings")
            .into_iter()
            .map(|f| (f.finding.external_id, f.kev, f.risk))
            .collect();
        rows.sort();
        rows
    };
    let kev_ids = || -> Vec<String> {
        let mut ids: Vec<String> = store
            .findings(&ListQuery {
                connector: Some("cves".into()),
                filter: Some(Filter::parse(Entity::Findings, "kev:true").expect("f")),
                ..Default::default()
            })
            .expect("kev:true")
            .into_iter()
            .map(|f| f.finding.external_id)
            .collect();
        ids.sort();
        ids
    };
    let check = |when: &str| {
        let rows = listed();
        let risk = |id: &str| rows.iter().find(|r| r.0 == id).map(|r| r.2).expect(id);
        let kev: Vec<&str> = rows.iter().filter(|r| r.1).map(|r| r.0.as_str()).collect();
        assert_eq!(kev, ["one", "spaced", "two"], "{when}: {rows:?}");
        assert_eq!(kev_ids(), ["one", "spaced", "two"], "{when}");
        for id in ["two", "spaced"] {
            assert_eq!(risk(id), risk("one"), "{when}: {id} scored as exploited");
        }
        assert!(risk("one") > risk("other"), "{when}: {rows:?}");
        assert_eq!(risk("other"), risk("none"), "{when}");
        assert_eq!(risk("prefix"), risk("none"), "{when}");
    };
    check("as written");
    let imported = store.import_kev(&kev, false).expect("import again");
    assert_eq!(imported.matching_findings, 3, "{imported:?}");
    store.rescore().expect("rescore");
    check("rescored");
    // The list the contract's other steps had.
    let before = model::kev::parse("CVE-2021-44228\n").expect("kev");
    store.import_kev(&before, true).expect("restore the list");
}

/// A finding that moves to another asset takes its risk from the asset it left.
fn a_moved_finding_leaves_its_old_assets_risk(store: &dyn Store) {
    let c = connector(store, "moves");
    // The batch holds the finding's asset of the moment, as an application's page would.
    let write = |finding: FindingRecord| {
        let run = store
            .begin_run(c.id, RunMode::Delta, "t", chrono::Duration::minutes(5))
            .expect("begin");
        let batch = Batch {
            assets: vec![asset(&finding.finding.asset_external_id)],
            findings: vec![finding],
            issues: vec![],
        };
        store
            .finish_run(&run, &batch, &end(RunState::Processed, None))
            .expect("finish");
    };
    let risk_of = |name: &str| {
        store
            .assets(&ListQuery {
                connector: Some("moves".into()),
                ..Default::default()
            })
            .expect("assets")
            .into_iter()
            .find(|a| a.asset.external_id == name)
            .map(|a| a.risk)
            .expect("asset")
    };
    let mut moving = finding("m1", "from", Status::New);
    write(moving.clone());
    assert!(risk_of("from") > 0);
    moving.prepared = Default::default();
    moving.finding.asset_external_id = "to".into();
    write(moving);
    assert_eq!(
        (risk_of("from") > 0, risk_of("to") > 0),
        (false, true),
        "m1 moved from asset `from` to `to`"
    );
}

/// Each field of a finding changed on its own, in turn, reaches the store (an update
/// names only the indexed columns that changed, so each must be noticed).
fn an_update_stores_each_changed_field(store: &dyn Store) {
    use chrono::TimeZone;
    let c = connector(store, "each-field");
    let at = |d: u32| Utc.with_ymd_and_hms(2026, 3, d, 12, 0, 0).single();
    let mut rec = finding("e1", "app1", Status::New);
    rec.finding.first_found = at(1);
    type Change = Box<dyn Fn(&mut FindingRecord)>;
    let changes: Vec<(&str, Change)> = vec![
        (
            "asset",
            Box::new(|r| r.finding.asset_external_id = "app2".into()),
        ),
        (
            "name",
            Box::new(|r| r.finding.name = "SQL Injection".into()),
        ),
        (
            "severity",
            Box::new(|r| r.finding.severity = Severity::Critical),
        ),
        (
            "source severity",
            Box::new(|r| r.finding.source_severity = "Critical".into()),
        ),
        ("status", Box::new(|r| r.finding.status = Status::Fixed)),
        (
            "source status",
            Box::new(|r| r.finding.source_status = Some("Fixed".into())),
        ),
        (
            "cve",
            Box::new(|r| r.finding.cve = Some("CVE-2024-1234".into())),
        ),
        ("cvss", Box::new(|r| r.finding.cvss = Some(9.1))),
        ("cwe", Box::new(|r| r.finding.cwe = Some(89))),
        (
            "first found",
            Box::new(move |r| r.finding.first_found = at(2)),
        ),
        (
            "last found",
            Box::new(move |r| r.finding.last_found = at(3)),
        ),
        (
            "last updated",
            Box::new(move |r| r.finding.last_updated = at(4)),
        ),
        ("port", Box::new(|r| r.finding.port = Some(8443))),
        (
            "protocol",
            Box::new(|r| r.finding.protocol = Some("http".into())),
        ),
        (
            "issue type",
            Box::new(|r| r.finding.issue_type = Some("attSqlInjection".into())),
        ),
        (
            "location",
            Box::new(|r| r.finding.location = Some("https://x.example/".into())),
        ),
        ("element", Box::new(|r| r.finding.element = None)),
        (
            "detection",
            Box::new(|r| r.finding.detection = Some("dast".into())),
        ),
        (
            "description",
            Box::new(|r| r.finding.description = Some("new text".into())),
        ),
        (
            "solution",
            Box::new(|r| r.finding.solution = Some("escape".into())),
        ),
        ("tags", Box::new(|r| r.finding.tags = vec!["pci".into()])),
        (
            "back to an earlier value",
            Box::new(|r| r.finding.severity = Severity::Low),
        ),
    ];
    let write = |rec: &FindingRecord| {
        let run = store
            .begin_run(c.id, RunMode::Delta, "test", Duration::minutes(5))
            .expect("begin");
        let batch = Batch {
            assets: vec![asset("app1"), asset("app2")],
            findings: vec![rec.clone()],
            issues: vec![],
        };
        store
            .finish_run(&run, &batch, &end(RunState::Processed, None))
            .expect("finish")
    };
    write(&rec);
    assert_eq!(
        store.asset_ids("each-field").expect("ids"),
        vec!["app1".to_string(), "app2".to_string()]
    );
    assert!(store.asset_ids("no-such").expect("ids").is_empty());
    // What places findings without a URL: the asset's URL, else its name.
    let mut locators = store.asset_locators("each-field").expect("locators");
    locators.sort();
    assert_eq!(
        locators,
        vec![
            ("app1".to_string(), "https://app1.example.com".to_string()),
            ("app2".to_string(), "https://app2.example.com".to_string()),
        ]
    );
    let q = ListQuery {
        connector: Some("each-field".into()),
        ..ListQuery::default()
    };
    for (what, change) in changes {
        change(&mut rec);
        rec.prepared = Default::default();
        let counts = write(&rec);
        assert_eq!(counts.updated, 1, "{what}");
        let stored = store.findings(&q).expect("list");
        assert_eq!(stored.len(), 1, "{what}");
        assert_eq!(stored[0].finding, rec.finding, "{what}");
    }
}

fn a_preview_compares_without_writing(store: &dyn Store) {
    let c = connector(store, "preview");
    let x = finding("x", "a", Status::New);
    let y = finding("y", "a", Status::New);
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let batch = Batch {
        assets: vec![asset("a")],
        findings: vec![x.clone(), y],
        issues: vec![],
    };
    store
        .finish_run(&run, &batch, &end(RunState::Processed, None))
        .expect("finish");

    let y_changed = finding("y", "a", Status::Active);
    let new = finding("n", "a", Status::New);
    let states = store
        .compare_findings(c.id, &[x, y_changed, new])
        .expect("compare");
    let x_state = states[0].as_ref().expect("x is stored");
    assert!(x_state.same && x_state.open, "{x_state:?}");
    assert_eq!(x_state.asset_external_id, "a");
    let y_state = states[1].as_ref().expect("y is stored");
    assert!(!y_state.same && y_state.open, "{y_state:?}");
    assert_ne!(x_state.id, y_state.id);
    assert!(states[2].is_none(), "n is not stored");
    assert_eq!(store.open_findings(c.id, &["a".into()]).expect("open"), 2);
    assert_eq!(store.open_findings(c.id, &["b".into()]).expect("open"), 0);
    // Nothing was written.
    assert_eq!(store.counts(c.id).expect("counts"), (1, 2));
}

/// The summary as a recount of the stored records gives it, in the order both stores
/// give it: most severe first, statuses most frequent first, then by name.
fn summary_recounted(store: &dyn Store, connector: Option<&str>) -> Summary {
    let q = ListQuery {
        connector: connector.map(str::to_string),
        ..Default::default()
    };
    let findings = store.findings(&q).expect("findings");
    let mut s = Summary {
        assets: store.assets(&q).expect("assets").len() as u64,
        findings: findings.len() as u64,
        ..Default::default()
    };
    for f in &findings {
        s.add_severity(i64::from(f.finding.severity.score()), 1);
        s.add_status(f.finding.status.as_str(), 1);
    }
    s.sorted()
}

/// The summary of the whole store and of each connector counts what is stored; a name no
/// connector has counts nothing.
fn the_summary_counts_what_is_stored(store: &dyn Store) {
    let mk = |id: &str, app: &str, status: Status, sev: Severity| {
        changed(&finding(id, app, status), |f| f.severity = sev)
    };
    for (name, statuses) in [
        ("sum-one", [Status::New, Status::Fixed, Status::New]),
        ("sum-two", [Status::Active, Status::Active, Status::Ignored]),
    ] {
        let c = connector(store, name);
        let run = store
            .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
            .expect("begin");
        let batch = Batch {
            assets: vec![asset("s1"), asset("s2")],
            findings: statuses
                .iter()
                .enumerate()
                .map(|(i, st)| mk(&format!("{name}-{i}"), "s1", *st, Severity::ALL[i / 2]))
                .collect(),
            issues: vec![],
        };
        store
            .finish_run(&run, &batch, &end(RunState::Processed, None))
            .expect("finish");
    }
    for connector in [None, Some("sum-one"), Some("sum-two")] {
        let s = store.summary(connector).expect("summary");
        assert_eq!(
            format!("{s:?}"),
            format!("{:?}", summary_recounted(store, connector)),
            "{connector:?}"
        );
    }
    let two = store.summary(Some("sum-two")).expect("summary");
    assert_eq!((two.assets, two.findings), (2, 3));
    assert_eq!(two.by_status[0], (Status::Active, 2));
    assert_eq!(
        format!("{:?}", store.summary(Some("no-such")).expect("summary")),
        format!("{:?}", Summary::default())
    );
}

/// Paging by cursor gives the rows of one unpaged listing, in its order, each once, for
/// every kind of sort key: ties, empty values first and last in either direction, text,
/// numbers, dates, booleans and a joined column; a cursor continues only its own sort.
/// Cursors travel as the tokens clients hand back: a CVSS value of 17 significant digits
/// came back from one a unit in the last place off, and `-cvss` repeated a page forever.
fn paging_by_cursor_is_one_listing(store: &dyn Store) {
    use query::{Entity, Filter, Sort};
    let c = connector(store, "pages");
    let run = store
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    let day = Utc::now() - Duration::days(30);
    // One name too long for a cursor to carry: its pages' cursors name the row instead.
    let long = format!("Open Redirect {}", "r".repeat(600));
    let names = ["XSS", "xss", "SQL Injection", long.as_str()];
    let statuses = [Status::New, Status::Fixed, Status::Reopened, Status::Active];
    let findings = (0..61)
        .map(|i: i64| {
            let app = if i % 2 == 0 { "pa" } else { "pb" };
            changed(&finding(&format!("p{i:02}"), app, Status::New), |f| {
                f.severity = Severity::ALL[(i % 3) as usize * 2];
                f.status = statuses[(i % 4) as usize];
                f.name = names[(i % 4) as usize].into();
                f.cvss = (i % 4 != 0).then_some(match i % 7 {
                    3 => 0.21856597618876086,
                    n => n as f64 + 0.5,
                });
                f.last_found = (i % 3 != 0).then(|| day + Duration::days(i % 5));
                f.port = (i % 5 != 0).then_some(443);
            })
        })
        .collect();
    let mut unnamed = asset("pb");
    unnamed.asset.name = None;
    let batch = Batch {
        assets: vec![asset("pa"), unnamed],
        findings,
        issues: vec![],
    };
    store
        .finish_run(&run, &batch, &end(RunState::Processed, None))
        .expect("write");

    for (sort, filter) in [
        ("", None),
        ("name", None),
        ("-cvss", None),
        ("cvss:asc", None),
        ("lastFound:asc", None),
        ("-lastFound,name", None),
        ("open,-port", None),
        ("app,-risk", None),
        ("status,externalId", None),
        ("", Some("severity>=medium")),
        ("-cvss", Some("not status:FIXED")),
    ] {
        let q = ListQuery {
            connector: Some("pages".into()),
            filter: filter.map(|f| Filter::parse(Entity::Findings, f).expect(f)),
            sort: Sort::parse_list(Entity::Findings, sort).unwrap_or_default(),
            ..Default::default()
        };
        let whole: Vec<i64> = store
            .findings(&q)
            .expect("listing")
            .iter()
            .map(|f| f.id)
            .collect();
        let (mut paged, mut after, mut pages) = (Vec::new(), None, 0);
        let mut by_reference = 0;
        loop {
            let page = store
                .finding_page(&ListQuery {
                    limit: Some(7),
                    after: after.take(),
                    ..q.clone()
                })
                .expect("page");
            pages += 1;
            assert!(pages < 20, "{sort:?} {filter:?}: paging does not end");
            assert_eq!(page.next.is_some(), page.items.len() == 7, "{sort:?}");
            paged.extend(page.items.iter().map(|f| f.id));
            match page.next {
                Some(next) => {
                    by_reference += usize::from(next.by_reference);
                    after = Some(query::Cursor::decode(&next.encode()).expect("token"));
                }
                None => break,
            }
        }
        assert_eq!(paged, whole, "sort {sort:?}, filter {filter:?}");
        if sort == "name" {
            assert!(by_reference > 0, "no page ended on the long name");
        }
    }

    let by_risk = ListQuery {
        connector: Some("pages".into()),
        limit: Some(5),
        sort: Sort::parse_list(Entity::Findings, "risk").expect("sort"),
        ..Default::default()
    };
    let next = store
        .finding_page(&by_risk)
        .expect("page")
        .next
        .expect("a full page has a cursor");
    let by_name = ListQuery {
        sort: Sort::parse_list(Entity::Findings, "name").expect("sort"),
        after: Some(next),
        ..by_risk
    };
    assert!(
        matches!(
            store.finding_page(&by_name),
            Err(StoreError::Cursor(query::CursorError::OtherSort { .. }))
        ),
        "a cursor of another sort is refused"
    );
}

/// A run begins only for the connector it was prepared from, and moves the cursor only
/// while the connector still fetches from where the run began.
pub fn runs_follow_their_connector(store: &dyn Store) {
    let minutes = chrono::Duration::minutes(5);
    // Removed and another added: SQLite gives the new one the old id. The run prepared
    // from the old one began under the new one and wrote its server's findings there.
    let old = connector(store, "follow-old");
    assert!(store.delete_connector("follow-old").expect("delete"));
    let new = connector(store, "follow-new");
    let err = store
        .begin_run_of(&old, RunMode::Full, "t", minutes)
        .expect_err("the prepared connector is gone");
    assert!(
        matches!(&err, StoreError::ConnectorChanged(n) if n == "follow-old"),
        "{err}"
    );
    assert!(store.runs(new.id, 10).expect("runs").is_empty());
    assert!(store.run_lock(new.id).expect("lock").is_none());

    // Edited after it was read: refused, nothing written; as read now: it begins.
    let mut edited = new.clone();
    edited.url = Some("http://127.0.0.1:2".into());
    store.update_connector(&edited).expect("edit");
    let err = store
        .begin_run_of(&new, RunMode::Full, "t", minutes)
        .expect_err("edited since it was read");
    assert!(matches!(err, StoreError::ConnectorChanged(_)), "{err}");
    assert!(store.runs(new.id, 10).expect("runs").is_empty());
    let now = store.connector("follow-new").expect("read").expect("there");
    let run = store
        .begin_run_of(&now, RunMode::Full, "t", minutes)
        .expect("begins");

    // Its URL edited during the run (the cursor cleared): the run's end leaves it
    // cleared, and the next sync is a full one of the new server.
    let mut moved = now.clone();
    moved.url = Some("http://127.0.0.1:3".into());
    store.update_connector(&moved).expect("edit during the run");
    store.clear_cursor(now.id).expect("clear");
    let mut end = end(RunState::Processed, Some(Utc::now()));
    end.scope = Some(RunScope::of(&now));
    store
        .finish_run(&run, &Batch::default(), &end)
        .expect("finish");
    let after = store.connector("follow-new").expect("read").expect("there");
    assert_eq!(after.cursor, None, "{after:?}");
    assert_eq!(after.state, ConnectorState::Processed);

    // Not edited: the cursor moves.
    let run = store
        .begin_run_of(&after, RunMode::Full, "t", minutes)
        .expect("begins");
    let mut end = end.clone();
    end.scope = Some(RunScope::of(&after));
    store
        .finish_run(&run, &Batch::default(), &end)
        .expect("finish");
    let last = store.connector("follow-new").expect("read").expect("there");
    assert!(last.cursor.is_some(), "{last:?}");
}

/// An asset whose URL changes takes its findings' scores with it: a finding without a
/// host of its own (a SAST issue's `file:line`) is exposed as its asset's URL says, and a
/// delta that changed only the asset left the old URL's score on it until a `rescore`.
pub fn scores_follow_their_asset_url(store: &dyn Store) {
    let c = connector(store, "moving-url");
    let with_url = |url: &str| {
        let mut a = asset("moving");
        a.asset.url = Some(url.into());
        a
    };
    let mut sast = finding("sast-1", "moving", Status::New);
    sast.finding.location = Some("src/Login.java:42".into());
    let run_with = |batch: Batch| {
        let run = store
            .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
            .expect("begin");
        store
            .finish_run(&run, &batch, &end(RunState::Processed, None))
            .expect("finish");
    };
    let risks = || {
        let q = ListQuery {
            connector: Some("moving-url".into()),
            ..ListQuery::default()
        };
        let finding = store.findings(&q).expect("findings")[0].risk;
        let asset = store.assets(&q).expect("assets")[0].risk;
        (finding, asset)
    };
    run_with(Batch {
        assets: vec![with_url("https://public.example.com")],
        findings: vec![sast],
        ..Batch::default()
    });
    let public = risks();
    // The application alone, now on an internal address.
    run_with(Batch {
        assets: vec![with_url("http://10.0.0.5")],
        ..Batch::default()
    });
    let internal = risks();
    assert!(internal.0 < public.0, "{public:?} -> {internal:?}");
    assert!(internal.1 < public.1, "{public:?} -> {internal:?}");
    store.rescore().expect("rescore");
    assert_eq!(risks(), internal, "a rescore finds what the sync stored");
    // And back.
    run_with(Batch {
        assets: vec![with_url("https://public.example.com")],
        ..Batch::default()
    });
    assert_eq!(risks(), public);
}
