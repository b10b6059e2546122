//! Assets keep their open findings' risk totals (sum, top, how many share the top) and
//! runs change them by what they write, instead of reading every finding of an asset
//! again: the scenario, once for both backends, through their own SQL connections.

use super::{asset, changed, connector, end, finding, full_run_seeing, totals_of};
use chrono::Duration;
use model::Status;
use store::{Batch, Connector, FindingRecord, RunCounters, RunMode, RunState, Store};

/// An asset's (risk, sum, top, top count).
pub type Totals = (i64, Option<i64>, Option<i64>, Option<i64>);

/// SQL on the store's database beside the store: to plant values the store must not read
/// again, and to read back what it kept.
pub trait Db {
    /// Runs a statement without parameters.
    fn exec(&mut self, sql: &str);
    /// Connector `id`'s asset's totals as stored.
    fn stored(&mut self, id: i64, asset: &str) -> Totals;
    /// The risks of the asset's open findings.
    fn open_risks(&mut self, id: i64, asset: &str) -> Vec<u16>;
}

const STORED_SQL: &str = "SELECT risk, open_risk_sum, open_risk_top, open_risk_top_count \
     FROM assets WHERE connector_id = $1 AND external_id = $2";
const OPEN_RISKS_SQL: &str = "SELECT risk FROM findings \
     WHERE connector_id = $1 AND asset_external_id = $2 AND status IN ('NEW', 'ACTIVE', 'REOPENED')";

impl Db for rusqlite::Connection {
    fn exec(&mut self, sql: &str) {
        self.execute(sql, []).expect(sql);
    }
    fn stored(&mut self, id: i64, asset: &str) -> Totals {
        self.query_row(
            &STORED_SQL.replace('$', "?"),
            rusqlite::params![id, asset],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("asset")
    }
    fn open_risks(&mut self, id: i64, asset: &str) -> Vec<u16> {
        self.prepare(&OPEN_RISKS_SQL.replace('$', "?"))
            .expect("prepare")
            .query_map(rusqlite::params![id, asset], |r| r.get::<_, u16>(0))
            .expect("findings")
            .collect::<rusqlite::Result<_>>()
            .expect("risks")
    }
}

impl Db for postgres::Client {
    fn exec(&mut self, sql: &str) {
        self.execute(sql, &[]).expect(sql);
    }
    fn stored(&mut self, id: i64, asset: &str) -> Totals {
        let r = self.query_one(STORED_SQL, &[&id, &asset]).expect("asset");
        let wide = |i: usize| r.get::<_, Option<i32>>(i).map(i64::from);
        (i64::from(r.get::<_, i32>(0)), r.get(1), wide(2), wide(3))
    }
    fn open_risks(&mut self, id: i64, asset: &str) -> Vec<u16> {
        self.query(OPEN_RISKS_SQL, &[&id, &asset])
            .expect("findings")
            .iter()
            .map(|r| u16::try_from(r.get::<_, i32>(0)).expect("risk"))
            .collect()
    }
}

/// The same totals, computed from all of the asset's open findings.
fn from_findings(db: &mut dyn Db, id: i64, asset: &str) -> Totals {
    let (risk, sum, top, count) = totals_of(db.open_risks(id, asset));
    (
        i64::from(risk),
        Some(i64::try_from(sum).expect("sum")),
        Some(i64::from(top)),
        Some(i64::from(count)),
    )
}

fn assert_agree(db: &mut dyn Db, id: i64, when: &str) {
    for asset in ["a", "b"] {
        assert_eq!(
            db.stored(id, asset),
            from_findings(db, id, asset),
            "asset {asset}, {when}"
        );
    }
}

/// One run writing `findings` in two batches, assets a and b in the first.
fn run_with(store: &dyn Store, connector: &Connector, findings: Vec<FindingRecord>) {
    let run = store
        .begin_run(connector.id, RunMode::Delta, "t", Duration::minutes(5))
        .expect("begin");
    let mut findings = findings;
    let second = findings.split_off(findings.len() / 2);
    let first = Batch {
        assets: vec![asset("a"), asset("b")],
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
    store
        .finish_run(&run, &last, &end(RunState::Processed, None))
        .expect("finish");
}

/// An asset's risk follows its findings run by run from the totals it keeps (sum, top
/// and how many share it), without reading all of its findings again — except when its
/// top finding goes, when its totals are not known (NULL), and for a finding that moved
/// to another asset, whose old asset loses its risk.
pub fn asset_risks_follow_their_findings(store: &dyn Store, db: &mut dyn Db) {
    let c = connector(store, "totals");
    let mut a: Vec<FindingRecord> = (0..5)
        .map(|i| finding(&format!("a{i}"), "a", Status::New))
        .collect();
    let top = changed(&finding("a-top", "a", Status::New), |f| {
        f.severity = model::Severity::Critical;
        f.cvss = Some(10.0);
    });
    a.push(top.clone());
    let b: Vec<FindingRecord> = (0..3)
        .map(|i| finding(&format!("b{i}"), "b", Status::New))
        .collect();
    run_with(store, &c, a.iter().chain(&b).cloned().collect());
    assert_agree(db, c.id, "after the first load");
    let (_, _, top_risk, top_count) = db.stored(c.id, "a");
    assert_eq!(
        top_count,
        Some(1),
        "a-top alone has the top risk {top_risk:?}"
    );

    // Kept totals are used, not read again: an offset planted in a's sum survives a run
    // that closes one of its lesser findings and sees the others unchanged.
    db.exec("UPDATE assets SET open_risk_sum = open_risk_sum + 100000 WHERE external_id = 'a'");
    let mut second: Vec<FindingRecord> = a.clone();
    second[1] = changed(&a[1], |f| f.status = Status::Fixed);
    run_with(store, &c, second.clone());
    let (_, kept_sum, _, _) = db.stored(c.id, "a");
    let (_, read_sum, _, _) = from_findings(db, c.id, "a");
    assert_eq!(
        kept_sum.zip(read_sum).map(|(k, r)| k - r),
        Some(100000),
        "the run added to a's kept sum"
    );

    // Closing the top finding leaves the next one unknown: a's findings are read again,
    // and the planted offset is gone.
    second[5] = changed(&top, |f| f.status = Status::Fixed);
    run_with(store, &c, second);
    assert_agree(db, c.id, "after the top finding closed");

    // A finding that moves from b to a is taken from b and added to a.
    run_with(
        store,
        &c,
        vec![changed(&b[0], |f| f.asset_external_id = "a".into())],
    );
    assert_agree(db, c.id, "after b0 moved to a");
    let b_risk = db.stored(c.id, "b").0;
    assert!(b_risk > 0, "b1 and b2 are still open");

    // Totals not known (an asset of an earlier version) are read once, then kept.
    db.exec(
        "UPDATE assets SET open_risk_sum = NULL, open_risk_top = NULL,
             open_risk_top_count = NULL, risk = 0 WHERE external_id = 'b'",
    );
    run_with(store, &c, vec![b[1].clone()]);
    assert_agree(db, c.id, "after b's totals were read again");
    assert_eq!(db.stored(c.id, "b").0, b_risk);

    // A full run takes what it closes out of the kept totals too: a, which lost the open
    // a2 (a1 and a-top, fixed, count for nothing), stays in step with its findings, and
    // b, which lost nothing, is not read again (a planted offset survives).
    db.exec("UPDATE assets SET open_risk_sum = open_risk_sum + 100000 WHERE external_id = 'b'");
    let moved = changed(&b[0], |f| f.asset_external_id = "a".into());
    let seen = vec![
        a[0].clone(),
        a[3].clone(),
        a[4].clone(),
        moved,
        b[1].clone(),
        b[2].clone(),
    ];
    assert_eq!(
        full_run_seeing(store, &c, seen),
        3,
        "a2 closed, and a1 and a-top (fixed)"
    );
    assert_eq!(db.stored(c.id, "a"), from_findings(db, c.id, "a"));
    let (_, kept_sum, _, _) = db.stored(c.id, "b");
    let (_, read_sum, _, _) = from_findings(db, c.id, "b");
    assert_eq!(
        kept_sum.zip(read_sum).map(|(k, r)| k - r),
        Some(100000),
        "b was not read"
    );

    // `rescore` sets the totals from the findings too.
    db.exec("UPDATE assets SET open_risk_sum = open_risk_sum + 100000");
    store.rescore().expect("rescore");
    assert_agree(db, c.id, "after rescore");

    // A rescore (or `kev import`) while a run is under way: on SQLite the run's end
    // added what its committed batches did to totals the rescore had already counted
    // them in.
    let run = store
        .begin_run(c.id, RunMode::Delta, "t", Duration::minutes(5))
        .expect("begin");
    let new_ones: Vec<FindingRecord> = (0..4)
        .map(|i| finding(&format!("a-late{i}"), "a", Status::New))
        .collect();
    let first = Batch {
        assets: vec![asset("a")],
        findings: new_ones[..2]
            .iter()
            .cloned()
            .chain([changed(&a[0], |f| f.status = Status::Fixed)])
            .collect(),
        issues: vec![],
    };
    store
        .write_batch(&run, &first, &RunCounters::default())
        .expect("first batch");
    store.rescore().expect("rescore during the run");
    let last = Batch {
        assets: vec![],
        findings: new_ones[2..].to_vec(),
        issues: vec![],
    };
    store
        .finish_run(&run, &last, &end(RunState::Processed, None))
        .expect("finish");
    // The run's asset is in step; the other may be left unknown until a run reads it
    // (its risk stands).
    assert_eq!(db.stored(c.id, "a"), from_findings(db, c.id, "a"));
    let (risk, sum, ..) = db.stored(c.id, "b");
    let counted = from_findings(db, c.id, "b");
    assert_eq!(risk, counted.0);
    assert!(sum.is_none() || db.stored(c.id, "b") == counted);
}
