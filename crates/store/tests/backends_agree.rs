//! The same scenarios on SQLite and PostgreSQL give the same answers: filtered and sorted
//! listings, streaming and counting, risk scores with the KEV list, runs written as one
//! transaction, inactivity, fingerprint groups, API tokens, and the open-findings series
//! and the summary counts, of the whole store and of each connector; findings closed
//! because a full run did not see them, through remaps and sightings.

mod common;
mod pgtest;

use chrono::{Duration, Utc};
use model::Status;
use query::{Entity, Filter, Sort};
use store::*;

fn end(state: RunState) -> RunEnd {
    RunEnd {
        state,
        connector_state: ConnectorState::Processed,
        reason: None,
        counters: RunCounters::default(),
        cursor: None,
        scope: None,
    }
}

fn finding(
    id: &str,
    app: &str,
    status: Status,
    sev: model::Severity,
    cve: Option<&str>,
) -> FindingRecord {
    let mut f = common::finding(id, app, status);
    f.finding.severity = sev;
    f.finding.cve = cve.map(str::to_string);
    f.finding.cvss = Some(f64::from(id.len() as u32 % 10));
    f.fingerprint = format!("fp-{}", &id[..id.len().min(2)]);
    f
}

/// Runs the scenario and returns everything observed, as text.
fn scenario(s: &dyn Store) -> Vec<String> {
    use model::Severity::*;
    let mut seen = Vec::new();
    let a = common::connector(s, "alpha");
    let b = common::connector(s, "beta");
    s.import_kev(
        &[model::kev::KevEntry {
            cve: "CVE-2021-44228".into(),
            added: None,
            name: None,
        }],
        false,
    )
    .expect("kev");
    let run = s
        .begin_run(a.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    s.write_batch(
        &run,
        &Batch {
            assets: vec![common::asset("app1"), common::asset("app2")],
            findings: vec![
                finding("x1", "app1", Status::New, High, Some("cve-2021-44228")),
                finding("x22", "app1", Status::Active, Medium, None),
                finding("y333", "app2", Status::Fixed, Critical, None),
                finding("y4444", "app2", Status::New, Low, Some("CVE-2020-0001")),
            ],
            issues: vec![],
        },
        &RunCounters::default(),
    )
    .expect("write");
    s.finish_run(&run, &Batch::default(), &end(RunState::Processed))
        .expect("finish");
    // beta: one run written as one transaction that fails (nothing stays), then one that
    // succeeds.
    let run = s
        .begin_run(b.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin b");
    s.begin_atomic(&run).expect("atomic");
    s.write_batch(
        &run,
        &Batch {
            assets: vec![common::asset("app1")],
            findings: vec![finding("x1", "app1", Status::New, High, None)],
            issues: vec![RecordIssue {
                level: IssueLevel::Error,
                location: "r.xml".into(),
                message: "broken".into(),
            }],
        },
        &RunCounters::default(),
    )
    .expect("atomic write");
    seen.push(format!(
        "inside atomic: {:?}",
        s.counts(b.id).expect("counts")
    ));
    let ended = s
        .finish_run(&run, &Batch::default(), &end(RunState::Errored))
        .expect("fail");
    seen.push(format!(
        "rolled back: {ended:?} {:?}",
        s.counts(b.id).expect("counts")
    ));
    let r = s.run(run.id).expect("run").expect("exists");
    seen.push(format!(
        "{:?} {:?} {:?}",
        r.state,
        r.reason,
        s.run_issues(run.id).expect("issues")
    ));
    let run = s
        .begin_run(b.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin b2");
    s.begin_atomic(&run).expect("atomic");
    s.write_batch(
        &run,
        &Batch {
            assets: vec![common::asset("app1")],
            findings: vec![finding("x1", "app1", Status::New, High, None)],
            issues: vec![],
        },
        &RunCounters::default(),
    )
    .expect("atomic write");
    seen.push(format!(
        "inactive: {:?}",
        s.mark_inactive(&run, Utc::now() + Duration::hours(1))
            .expect("inactive")
    ));
    s.finish_run(&run, &Batch::default(), &end(RunState::Processed))
        .expect("commit");
    seen.push(format!("committed: {:?}", s.counts(b.id).expect("counts")));

    let key = |f: &StoredFinding| {
        format!(
            "{}/{} {:?} {:?} risk={} active={}",
            f.connector,
            f.finding.external_id,
            f.finding.severity,
            f.finding.status,
            f.risk,
            f.active
        )
    };
    for (filter, sort) in [
        ("", ""),
        ("severity>=high", ""),
        ("status:new or status:active", "-severity"),
        ("app:shop* and not cve:*", "name, -externalId"),
        ("risk>=1", "risk"),
        ("cvss>2 and connector:alpha", "cvss"),
    ] {
        let q = ListQuery {
            filter: (!filter.is_empty())
                .then(|| Filter::parse(Entity::Findings, filter).expect("filter")),
            sort: if sort.is_empty() {
                Vec::new()
            } else {
                Sort::parse_list(Entity::Findings, sort).expect("sort")
            },
            ..ListQuery::default()
        };
        let listed: Vec<String> = s.findings(&q).expect("findings").iter().map(key).collect();
        let mut streamed = Vec::new();
        s.for_each_finding(&q, &mut |f| {
            streamed.push(key(&f));
            Ok(())
        })
        .expect("stream");
        assert_eq!(listed, streamed, "{filter} / {sort}");
        let n = s.count_findings(&q).expect("count");
        seen.push(format!("[{filter}] [{sort}] {n}: {listed:?}"));
    }
    let q = ListQuery {
        filter: Some(Filter::parse(Entity::Assets, "findings>=2").expect("asset filter")),
        ..ListQuery::default()
    };
    for a in s.assets(&q).expect("assets") {
        seen.push(format!(
            "asset {} {} {} {} {}",
            a.connector, a.asset.external_id, a.findings, a.open_findings, a.risk
        ));
    }
    // Stopping a stream early stops it.
    let mut n = 0;
    let stopped = s.for_each_finding(&ListQuery::default(), &mut |_| {
        n += 1;
        Err(StoreError::NoSuchRun(n))
    });
    seen.push(format!("stopped after {n}: {}", stopped.is_err()));

    // Ids are not compared: PostgreSQL's sequences do not give back the ids of a rolled
    // back transaction, SQLite's rowids do.
    let open_only = ListQuery {
        filter: Some(Filter::parse(Entity::Findings, "status:open").expect("filter")),
        ..ListQuery::default()
    };
    for g in [ListQuery::default(), open_only]
        .iter()
        .flat_map(|q| s.dedupe(q).expect("dedupe"))
    {
        seen.push(format!(
            "group {} {} {:?} {} {:?} {}",
            g.fingerprint,
            g.findings,
            g.severity,
            g.open,
            g.sources,
            g.finding_ids.len()
        ));
    }
    let rescored = s.rescore().expect("rescore");
    seen.push(format!(
        "rescore {} {} kev {}",
        rescored.findings,
        rescored.assets,
        s.kev_count().expect("kev")
    ));

    let ci = s.create_token("ci", "h1", "abcd").expect("token");
    // A token named like another's id.
    s.create_token(&ci.id.to_string(), "h3", "efgh")
        .expect("token");
    assert!(matches!(
        s.create_token("ci", "h2", "x"),
        Err(StoreError::TokenExists(_))
    ));
    seen.push(format!(
        "use {:?}",
        s.use_token("h1").expect("use").map(|t| t.name)
    ));
    seen.push(format!(
        "revoke {} {}",
        s.revoke_token("ci").expect("revoke"),
        s.revoke_token("ci").expect("again")
    ));
    seen.push(format!(
        "use revoked {:?}",
        s.use_token("h1").expect("use").map(|t| t.name)
    ));
    // An id names that token only: "1" revoked token 1 and the token named "1" too.
    let by_id = s.revoke_token(&ci.id.to_string()).expect("revoke by id");
    let named_like_id = s.use_token("h3").expect("use").map(|t| t.name);
    assert_eq!(
        named_like_id.as_deref(),
        Some(ci.id.to_string().as_str()),
        "a token named like a revoked one's id was revoked with it"
    );
    seen.push(format!("revoke by id {by_id} {named_like_id:?}"));
    let series: Vec<u64> = s
        .open_findings_series(None)
        .expect("series")
        .iter()
        .map(|p| p.open)
        .collect();
    seen.push(format!("series {series:?}"));
    for c in s.connectors().expect("connectors") {
        let series: Vec<u64> = s
            .open_findings_series(Some(&c.name))
            .expect("series")
            .iter()
            .map(|p| p.open)
            .collect();
        seen.push(format!("series of {} {series:?}", c.name));
        let summary = s.summary(Some(&c.name)).expect("summary");
        seen.push(format!("summary of {} {summary:?}", c.name));
    }
    seen.push(format!("summary {:?}", s.summary(None).expect("summary")));
    seen
}

#[test]
fn sqlite_and_postgres_agree() {
    let Some(db) = pgtest::TestDb::new("agree") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    let a = scenario(&lite);
    let b = scenario(&db.open());
    if std::env::var_os("SHOW_SCENARIO").is_some() {
        eprintln!("{a:#?}");
    }
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    assert_eq!(a.len(), b.len());
}

/// A store opened inside an async runtime (the CLI's commands run there) works: calls hop
/// to a plain thread instead of panicking, and streamed rows reach the caller's thread.
#[test]
fn postgres_store_works_inside_an_async_runtime() {
    let Some(db) = pgtest::TestDb::new("async") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let url = db.url();
    rt.block_on(async move {
        let s = store::open(&url).expect("open inside a runtime");
        let c = common::connector(s.as_ref(), "in-async");
        let run = s
            .begin_run(c.id, RunMode::Full, "t", Duration::minutes(1))
            .expect("begin");
        s.finish_run(
            &run,
            &Batch {
                findings: vec![common::finding("f", "a", Status::New)],
                ..Batch::default()
            },
            &end(RunState::Processed),
        )
        .expect("finish");
        let mut n = 0;
        s.for_each_finding(&ListQuery::default(), &mut |_| {
            n += 1;
            Ok(())
        })
        .expect("stream");
        assert_eq!(n, 1);
        s.begin_atomic(&run).expect("atomic");
        assert!(s.rollback_atomic(run.id).expect("rollback"));
        drop(s); // closing pooled connections inside the runtime must not panic either
    });
}

/// Fingerprint groups list each connector once by its whole name, commas and all: SQLite
/// joined the names with commas and split them again, so 'x,y' became 'x' and 'y'.
fn sources_of_a_shared_fingerprint(s: &dyn Store) -> Vec<String> {
    for name in ["cloud", "x,y", "a \"quoted\", name"] {
        let c = common::connector(s, name);
        let run = s
            .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
            .expect("begin");
        let mut f = common::finding("f1", "app1", Status::New);
        f.fingerprint = "shared".into();
        s.finish_run(
            &run,
            &Batch {
                assets: vec![common::asset("app1")],
                findings: vec![f],
                issues: vec![],
            },
            &end(RunState::Processed),
        )
        .expect("run");
    }
    let groups = s.dedupe(&ListQuery::default()).expect("dedupe");
    assert_eq!(groups.len(), 1);
    groups[0].sources.clone()
}

#[test]
fn connector_names_with_commas_stay_whole_in_fingerprint_groups() {
    let whole = ["a \"quoted\", name", "cloud", "x,y"];
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    assert_eq!(sources_of_a_shared_fingerprint(&lite), whole);
    let Some(db) = pgtest::TestDb::new("commas") else {
        return;
    };
    assert_eq!(sources_of_a_shared_fingerprint(&db.open()), whole);
}

/// A full run that does not see a finding closes it; a remap that keeps it CLOSED (its
/// record maps to an open status) finds it unchanged, and a run that reports the same
/// record again reopens it. The remap counted such findings updated: the close had
/// emptied their content hash, so nothing a remap wrote could match it.
fn closing_unseen_then_remapping(s: &dyn Store) -> Vec<String> {
    let c = common::connector(s, "gamma");
    let kept = common::finding("k1", "app", Status::New);
    let gone = common::finding("g1", "app", Status::New);
    let run = |mode: RunMode, findings: Vec<FindingRecord>, close: bool| {
        let run = s
            .begin_run(c.id, mode, "t", Duration::minutes(5))
            .expect("begin");
        let batch = Batch {
            assets: vec![common::asset("app")],
            findings,
            issues: vec![],
        };
        let counts = s
            .write_batch(&run, &batch, &RunCounters::default())
            .expect("write");
        if close {
            s.close_unseen(&run, &["app".to_string()]).expect("close");
        }
        s.finish_run(&run, &Batch::default(), &end(RunState::Processed))
            .expect("finish");
        let status = |id: &str| {
            s.findings(&ListQuery::default())
                .expect("findings")
                .into_iter()
                .find(|f| f.finding.external_id == id)
                .map(|f| f.finding.status)
        };
        format!(
            "{mode:?}: updated {} unchanged {}; k1 {:?} g1 {:?}",
            counts.updated,
            counts.unchanged,
            status("k1"),
            status("g1")
        )
    };
    let remapped_gone = || {
        let closed = model::Finding {
            status: Status::Closed,
            ..gone.finding.clone()
        };
        FindingRecord::kept_closed(
            closed,
            gone.raw.clone(),
            gone.fingerprint.clone(),
            Status::New,
        )
    };
    vec![
        run(RunMode::Full, vec![kept.clone(), gone.clone()], true),
        run(RunMode::Full, vec![kept.clone()], true),
        run(RunMode::Remap, vec![kept.clone(), remapped_gone()], false),
        run(RunMode::Remap, vec![kept.clone(), remapped_gone()], false),
        run(RunMode::Full, vec![kept.clone(), gone.clone()], true),
    ]
}

#[test]
fn a_remap_finds_unchanged_what_a_full_run_closed_unseen() {
    let expected = [
        // The asset is counted too.
        "Full: updated 0 unchanged 0; k1 Some(New) g1 Some(New)",
        "Full: updated 0 unchanged 2; k1 Some(New) g1 Some(Closed)",
        "Remap: updated 0 unchanged 3; k1 Some(New) g1 Some(Closed)",
        "Remap: updated 0 unchanged 3; k1 Some(New) g1 Some(Closed)",
        "Full: updated 1 unchanged 2; k1 Some(New) g1 Some(Reopened)",
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    assert_eq!(closing_unseen_then_remapping(&lite), expected);
    let Some(db) = pgtest::TestDb::new("closed_unseen") else {
        return;
    };
    assert_eq!(closing_unseen_then_remapping(&db.open()), expected);
}

/// A run that began by a clock later than the one that ended it (the clock stepped back
/// meanwhile, an NTP correction) ends when it began, not before: its duration was
/// negative, and `status` showed the Processed run as "running".
fn ended_by_a_clock_stepped_back(s: &dyn Store, shift_start: &dyn Fn(i64)) -> chrono::Duration {
    let c = common::connector(s, "stepped");
    let run = s
        .begin_run(c.id, RunMode::Full, "t", Duration::minutes(5))
        .expect("begin");
    shift_start(run.id);
    s.finish_run(&run, &Batch::default(), &end(RunState::Processed))
        .expect("finish");
    let run = s.run(run.id).expect("run").expect("exists");
    run.duration().expect("ended")
}

#[test]
fn a_run_ended_by_a_clock_stepped_back_takes_no_negative_time() {
    let later =
        (Utc::now() + Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s.sqlite3");
    let lite = SqliteStore::open(&file).expect("sqlite");
    let raw = rusqlite::Connection::open(&file).expect("raw");
    let took = ended_by_a_clock_stepped_back(&lite, &|id| {
        raw.execute(
            "UPDATE runs SET started_at = ?1 WHERE id = ?2",
            rusqlite::params![later, id],
        )
        .expect("shift");
    });
    assert_eq!(took, Duration::zero());
    let Some(db) = pgtest::TestDb::new("stepped_back") else {
        return;
    };
    let client = std::cell::RefCell::new(db.client());
    let took = ended_by_a_clock_stepped_back(&db.open(), &|id| {
        client
            .borrow_mut()
            .execute(
                "UPDATE runs SET started_at = now() + interval '1 hour' WHERE id = $1",
                &[&id],
            )
            .expect("shift");
    });
    assert_eq!(took, Duration::zero());
}

/// A reason set only while the connector is in a state: not on one in another state.
fn reason_while(s: &dyn Store) -> (bool, bool, Option<String>) {
    let c = common::connector(s, "waits");
    let on_registered = s
        .set_reason_while(c.id, ConnectorState::Scheduled, "waiting")
        .expect("set");
    s.set_connector_state(c.id, ConnectorState::Scheduled, Some("next run"))
        .expect("state");
    let on_scheduled = s
        .set_reason_while(c.id, ConnectorState::Scheduled, "waiting")
        .expect("set");
    let reason = s.connector("waits").expect("get").expect("c").state_reason;
    (on_registered, on_scheduled, reason)
}

#[test]
fn a_reason_is_set_only_while_its_state_holds() {
    let want = (false, true, Some("waiting".to_string()));
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(&dir.path().join("s.sqlite3")).expect("sqlite");
    assert_eq!(reason_while(&lite), want);
    let Some(db) = pgtest::TestDb::new("reason_while") else {
        return;
    };
    assert_eq!(reason_while(&db.open()), want);
}
