//! The store contract against a real SQLite file in a temp dir.

mod common;

#[test]
fn sqlite_store_meets_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open");
    common::contract(&store);
    // Re-opening runs no migration twice and keeps the data.
    drop(store);
    let again = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("reopen");
    assert!(
        store::Store::connector(&again, "upserts")
            .expect("get")
            .is_some()
    );
}

/// A process that dies mid-run leaves its batches stored but not the assets' risk its
/// run's end would have set; the connector's next run sets it as it begins.
#[test]
fn the_run_after_an_interrupted_one_refreshes_asset_risk() {
    use chrono::Duration;
    use model::Status;
    use store::{Batch, ListQuery, RunCounters, RunMode, SqliteStore, Store};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.sqlite3");
    let store = SqliteStore::open(&path).expect("open");
    let c = common::connector(&store, "dies");
    // A lease that has already run out, as a dead process's would have.
    let dead = Duration::seconds(-1);
    let run = store
        .begin_run(c.id, RunMode::Full, "dead", dead)
        .expect("begin");
    let batch = Batch {
        assets: vec![common::asset("app1")],
        findings: vec![common::finding("f1", "app1", Status::New)],
        issues: vec![],
    };
    store
        .write_batch(&run, &batch, &RunCounters::default())
        .expect("write");
    drop(store);

    let store = SqliteStore::open(&path).expect("reopen");
    let risk = |store: &SqliteStore| store.assets(&ListQuery::default()).expect("assets")[0].risk;
    assert_eq!(risk(&store), 0, "the dead run never refreshed it");
    store
        .begin_run(c.id, RunMode::Delta, "next", Duration::minutes(5))
        .expect("the next run takes over");
    let finding = store.findings(&ListQuery::default()).expect("findings")[0].risk;
    assert!(finding > 0);
    assert_eq!(
        risk(&store),
        finding,
        "one open finding: the asset's risk is its own"
    );
}

mod kept_totals {
    use super::common;
    use chrono::Duration;
    use model::Status;
    use rusqlite::{Connection, params};
    use store::Store;
    use store::{Batch, Connector, FindingRecord, RunCounters, RunMode, RunState, SqliteStore};

    /// One run writing `findings` in two batches, assets a and b in the first.
    fn run_with(store: &SqliteStore, connector: &Connector, findings: Vec<FindingRecord>) {
        let run = store
            .begin_run(connector.id, RunMode::Delta, "t", Duration::minutes(5))
            .expect("begin");
        let mut findings = findings;
        let second = findings.split_off(findings.len() / 2);
        let first = Batch {
            assets: vec![common::asset("a"), common::asset("b")],
            findings,
            issues: vec![],
        };
        store
            .write_batch(&run, &first, &RunCounters::default())
            .expect("first batch");
        let last = Batch {
            assets: vec![],
            findings: second,
            issues: vec![],
        };
        let end = common::end(RunState::Processed, None);
        store.finish_run(&run, &last, &end).expect("finish");
    }

    /// An asset's (risk, sum, top, top count).
    type Totals = (i64, Option<i64>, Option<i64>, Option<i64>);

    fn stored_totals(conn: &Connection, id: i64, asset: &str) -> Totals {
        conn.query_row(
            "SELECT risk, open_risk_sum, open_risk_top, open_risk_top_count FROM assets
             WHERE connector_id = ?1 AND external_id = ?2",
            params![id, asset],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("asset")
    }

    /// The same, computed from all of the asset's open findings.
    fn totals_from_findings(conn: &Connection, id: i64, asset: &str) -> Totals {
        let risks: Vec<u16> = conn
            .prepare(
                "SELECT risk FROM findings WHERE connector_id = ?1 AND asset_external_id = ?2
                   AND status IN ('NEW', 'ACTIVE', 'REOPENED')",
            )
            .expect("prepare")
            .query_map(params![id, asset], |r| r.get::<_, u16>(0))
            .expect("findings")
            .collect::<rusqlite::Result<_>>()
            .expect("risks");
        let (risk, sum, top, count) = common::totals_of(risks);
        (
            i64::from(risk),
            Some(sum as i64),
            Some(i64::from(top)),
            Some(i64::from(count)),
        )
    }

    fn assert_totals_agree(conn: &Connection, id: i64, when: &str) {
        for asset in ["a", "b"] {
            assert_eq!(
                stored_totals(conn, id, asset),
                totals_from_findings(conn, id, asset),
                "asset {asset}, {when}"
            );
        }
    }

    /// An asset's risk follows its findings run by run from the totals it keeps (sum, top
    /// and how many share it), without reading all of its findings again — except when
    /// its top finding goes, when its totals are not known (NULL), and for a finding
    /// that moved to another asset, whose old asset loses its risk.
    #[test]
    fn asset_risks_follow_their_findings_from_kept_totals() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.sqlite3");
        let store = SqliteStore::open(&path).expect("open");
        let c = common::connector(&store, "totals");
        let conn = Connection::open(&path).expect("second connection");
        let mut a: Vec<FindingRecord> = (0..5)
            .map(|i| common::finding(&format!("a{i}"), "a", Status::New))
            .collect();
        let top = common::changed(&common::finding("a-top", "a", Status::New), |f| {
            f.severity = model::Severity::Critical;
            f.cvss = Some(10.0);
        });
        a.push(top.clone());
        let b: Vec<FindingRecord> = (0..3)
            .map(|i| common::finding(&format!("b{i}"), "b", Status::New))
            .collect();
        run_with(&store, &c, a.iter().chain(&b).cloned().collect());
        assert_totals_agree(&conn, c.id, "after the first load");
        let (_, _, top_risk, top_count) = stored_totals(&conn, c.id, "a");
        assert_eq!(
            top_count,
            Some(1),
            "a-top alone has the top risk {top_risk:?}"
        );

        // Kept totals are used, not read again: an offset planted in a's sum survives a
        // run that closes one of its lesser findings and sees the others unchanged.
        conn.execute(
            "UPDATE assets SET open_risk_sum = open_risk_sum + 100000 WHERE external_id = 'a'",
            [],
        )
        .expect("plant");
        let mut second: Vec<FindingRecord> = a.clone();
        second[1] = common::changed(&a[1], |f| f.status = Status::Fixed);
        run_with(&store, &c, second.clone());
        let (_, kept_sum, _, _) = stored_totals(&conn, c.id, "a");
        let (_, read_sum, _, _) = totals_from_findings(&conn, c.id, "a");
        assert_eq!(
            kept_sum.zip(read_sum).map(|(k, r)| k - r),
            Some(100000),
            "the run added to a's kept sum"
        );

        // Closing the top finding leaves the next one unknown: a's findings are read
        // again, and the planted offset is gone.
        second[5] = common::changed(&top, |f| f.status = Status::Fixed);
        run_with(&store, &c, second);
        assert_totals_agree(&conn, c.id, "after the top finding closed");

        // A finding that moves from b to a is taken from b and added to a.
        run_with(
            &store,
            &c,
            vec![common::changed(&b[0], |f| f.asset_external_id = "a".into())],
        );
        assert_totals_agree(&conn, c.id, "after b0 moved to a");
        let b_risk = stored_totals(&conn, c.id, "b").0;
        assert!(b_risk > 0, "b1 and b2 are still open");

        // Totals not known (an asset of an earlier version) are read once, then kept.
        conn.execute(
            "UPDATE assets SET open_risk_sum = NULL, open_risk_top = NULL,
                 open_risk_top_count = NULL, risk = 0 WHERE external_id = 'b'",
            [],
        )
        .expect("forget");
        run_with(&store, &c, vec![b[1].clone()]);
        assert_totals_agree(&conn, c.id, "after b's totals were read again");
        assert_eq!(stored_totals(&conn, c.id, "b").0, b_risk);

        // A full run takes what it closes out of the kept totals too: a, which lost the open
        // a2 (a1 and a-top, fixed, count for nothing), stays in step with its findings,
        // and b, which lost nothing, is not read again (a planted offset survives).
        conn.execute(
            "UPDATE assets SET open_risk_sum = open_risk_sum + 100000 WHERE external_id = 'b'",
            [],
        )
        .expect("plant in b");
        let moved = common::changed(&b[0], |f| f.asset_external_id = "a".into());
        let seen = vec![
            a[0].clone(),
            a[3].clone(),
            a[4].clone(),
            moved,
            b[1].clone(),
            b[2].clone(),
        ];
        assert_eq!(
            common::full_run_seeing(&store, &c, seen),
            3,
            "a2 closed, and a1 and a-top (fixed)"
        );
        assert_eq!(
            stored_totals(&conn, c.id, "a"),
            totals_from_findings(&conn, c.id, "a")
        );
        let (_, kept_sum, _, _) = stored_totals(&conn, c.id, "b");
        let (_, read_sum, _, _) = totals_from_findings(&conn, c.id, "b");
        assert_eq!(
            kept_sum.zip(read_sum).map(|(k, r)| k - r),
            Some(100000),
            "b was not read"
        );

        // `rescore` sets the totals from the findings too.
        conn.execute(
            "UPDATE assets SET open_risk_sum = open_risk_sum + 100000",
            [],
        )
        .expect("plant again");
        store.rescore().expect("rescore");
        assert_totals_agree(&conn, c.id, "after rescore");
    }
}
