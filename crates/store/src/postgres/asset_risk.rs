//! Keeping each asset's risk up to date as its findings open, close and are rescored.
//!
//! An asset's risk is computed from all of its open findings ([`model::risk`]). Reading
//! them all again for every asset a batch touches cost a delta of 1M findings 22 of its
//! 33 s: every application had a changed finding, so the delta read the whole table
//! through 128 MB of buffers. Each asset therefore keeps what its score needs — the sum
//! of its open findings' risks, the highest and how many share it
//! ([`OpenRisks`], columns `open_risk_*`) — and a batch adds and takes away the risks of
//! the findings it writes ([`Moves`], [`update`]). The findings are read only for an
//! asset whose totals are not known yet (NULL: a new asset, one of an earlier version or
//! one copied in by `migrate`) or whose top finding went ([`refresh`]).

use super::read::{risk_of, status_of};
use crate::Result;
use crate::open_risks::{Moves, Totals, stored};
use model::risk::OpenRisks;
use postgres::GenericClient;
use std::collections::{BTreeMap, BTreeSet};

/// Takes the lock every transaction that writes findings and assets takes first, so that
/// they all lock the two tables in one order: assets, then findings. A batch wrote its
/// assets first and a close its findings first, while a rescore locked findings and then
/// updated every asset: each waited for what the other held, and PostgreSQL failed one
/// of them ("deadlock detected"). Row exclusive: writers do not wait for each other here.
pub fn assets_first(tx: &mut impl GenericClient) -> Result<()> {
    tx.batch_execute("LOCK TABLE assets IN ROW EXCLUSIVE MODE")?;
    Ok(())
}

/// The findings of connector `$1`'s assets `$2`: asset, risk and status. Which are open
/// is decided on the rows, not in the condition: as a condition, a table without
/// statistics (a first load, a server whose autovacuum has not analyzed it yet) had the
/// planner intersect the asset index with the status index — all the open findings of
/// every connector, 136 ms a batch at 1M findings, 44 s of a 104 s re-sync.
pub const ASSET_FINDINGS_SQL: &str = "SELECT asset_external_id, risk, status FROM findings
     WHERE connector_id = $1 AND asset_external_id = ANY($2)";

/// Brings the risk of the batch's assets (`assets`: its own and its findings') and of
/// the assets its findings left up to date with the batch's `moves`.
pub fn update(
    c: &mut impl GenericClient,
    connector_id: i64,
    assets: &[&str],
    moves: &Moves,
) -> Result<()> {
    let names: Vec<&str> = assets
        .iter()
        .copied()
        .chain(moves.assets())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let mut known: Vec<(String, OpenRisks)> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for r in c.query(
        // No rescore recounts these totals meanwhile: it holds the findings table, which
        // every caller has written to in this transaction (see `risk::rescore_all`).
        "SELECT external_id, open_risk_sum, open_risk_top, open_risk_top_count FROM assets
         WHERE connector_id = $1 AND external_id = ANY($2)",
        &[&connector_id, &names],
    )? {
        let asset: String = r.try_get(0)?;
        let kept = stored(
            r.try_get(1)?,
            r.try_get::<_, Option<i32>>(2)?.map(i64::from),
            r.try_get::<_, Option<i32>>(3)?.map(i64::from),
        );
        match moves.apply(&asset, kept) {
            Totals::Same => {}
            Totals::Known(open) => known.push((asset, open)),
            Totals::Unknown => unknown.push(asset),
        }
    }
    write(c, connector_id, &known)?;
    let unknown: Vec<&str> = unknown.iter().map(String::as_str).collect();
    refresh(c, connector_id, &unknown)
}

/// Sets each named asset's risk and totals from all of its open findings.
pub fn refresh(c: &mut impl GenericClient, connector_id: i64, assets: &[&str]) -> Result<()> {
    if assets.is_empty() {
        return Ok(());
    }
    let mut open: BTreeMap<String, OpenRisks> = assets
        .iter()
        .map(|a| (a.to_string(), OpenRisks::default()))
        .collect();
    for r in c.query(ASSET_FINDINGS_SQL, &[&connector_id, &assets])? {
        if !status_of("findings.status", r.try_get(2)?)?.is_open() {
            continue;
        }
        open.entry(r.try_get(0)?).or_default().add(risk_of(&r, 1)?);
    }
    let open: Vec<(String, OpenRisks)> = open.into_iter().collect();
    write(c, connector_id, &open)
}

/// Writes assets' risks and totals: (connector, external id, totals) for each.
pub fn write_all(c: &mut impl GenericClient, open: &[(i64, &str, OpenRisks)]) -> Result<()> {
    if open.is_empty() {
        return Ok(());
    }
    let connectors: Vec<i64> = open.iter().map(|o| o.0).collect();
    let names: Vec<&str> = open.iter().map(|o| o.1).collect();
    let risk: Vec<i32> = open.iter().map(|o| i32::from(o.2.score())).collect();
    let sum: Vec<i64> = open
        .iter()
        .map(|o| i64::try_from(o.2.sum).unwrap_or(i64::MAX))
        .collect();
    let top: Vec<i32> = open.iter().map(|o| i32::from(o.2.top)).collect();
    let top_count: Vec<i32> = open
        .iter()
        .map(|o| i32::try_from(o.2.top_count).unwrap_or(i32::MAX))
        .collect();
    c.execute(
        "UPDATE assets a SET risk = t.r, open_risk_sum = t.s, open_risk_top = t.t,
             open_risk_top_count = t.n
         FROM UNNEST($1::int8[], $2::text[], $3::int4[], $4::int8[], $5::int4[], $6::int4[])
             AS t(c, e, r, s, t, n)
         WHERE a.connector_id = t.c AND a.external_id = t.e",
        &[&connectors, &names, &risk, &sum, &top, &top_count],
    )?;
    Ok(())
}

/// [`write_all`] for one connector's assets.
fn write(
    c: &mut impl GenericClient,
    connector_id: i64,
    open: &[(String, OpenRisks)],
) -> Result<()> {
    let rows: Vec<(i64, &str, OpenRisks)> = open
        .iter()
        .map(|(asset, o)| (connector_id, asset.as_str(), *o))
        .collect();
    write_all(c, &rows)
}
