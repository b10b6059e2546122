//! Batched upserts of assets and findings, with status history.
//!
//! A batch costs a fixed number of statements whatever its size: one `SELECT` of the
//! stored rows the batch touches, one `UPDATE` (by row id) of the unchanged ones'
//! `last_seen` and score, one `INSERT ... SELECT FROM UNNEST(...) ON CONFLICT DO UPDATE`
//! of the new and changed ones with their scores (computed first, so no row is written
//! twice), and one `INSERT ... UNNEST` of history rows. Outcomes (inserted, updated,
//! unchanged) and history are decided here, record by record in batch order, exactly as
//! the row-at-a-time SQLite backend does — a record repeated within a batch included.
//!
//! The `SELECT` probes the unique index once per external id (a `LATERAL` subquery the
//! planner cannot turn into a join), whatever the planner statistics say. Written as
//! `connector_id = $1 AND external_id = ANY($2)`, it was planned on PostgreSQL's default
//! estimate of a connector's size while a first load filled the table (0.5 % of it) and
//! read every finding of the connector for each batch: 130 ms a batch at 100,000
//! findings, growing with the table. The `UPDATE`s of unchanged rows go by primary key,
//! which the `SELECT` returns, for the same reason.

use super::asset_risk;
use super::read::status_of;
use super::runs;
use crate::Result;
use crate::compare::unchanged;
use crate::open_risks::{Moves, Place};
use crate::types::*;
use chrono::{DateTime, Utc};
use model::Status;
use postgres::GenericClient;
use postgres::types::ToSql;
use std::collections::HashMap;

/// Upserts a batch's assets and findings and records its problems.
pub fn write(tx: &mut impl GenericClient, run: &Run, batch: &Batch) -> Result<BatchCounts> {
    asset_risk::assets_first(tx)?;
    let now = Utc::now();
    let mut counts = BatchCounts::default();
    write_assets(tx, run, &batch.assets, now, &mut counts)?;
    let (risks, touched) = super::risk::batch_risks(tx, run, batch)?;
    let mut moves = Moves::default();
    write_findings(
        tx,
        run,
        &batch.findings,
        now,
        &risks,
        &mut moves,
        &mut counts,
    )?;
    asset_risk::update(tx, run.connector_id, &touched, &moves)?;
    runs::insert_issues(tx, run.id, &batch.issues)?;
    Ok(counts)
}

/// What the store holds for one external id, as the batch proceeds.
struct Current {
    /// The row's id; `None` for a row this batch inserts.
    id: Option<i64>,
    hash: String,
    status: Option<String>,
    active: bool,
    /// This run wrote the id already: the stored row's `last_run_id` is the run's, or an
    /// earlier record of the batch had the id.
    this_run: bool,
}

/// The stored rows of connector `$1` with the external ids `$2`, one index probe per id
/// (see the module's doc): id, external_id, content_hash, active, then `more` (a status
/// first). Public for the test that checks its plan.
pub fn stored_sql(table: &str, more: &str) -> String {
    format!(
        "SELECT s.* FROM UNNEST($2::text[]) AS t(e) CROSS JOIN LATERAL (
             SELECT id, external_id, content_hash, active, {more} FROM {table}
             WHERE connector_id = $1 AND external_id = t.e LIMIT 1
         ) AS s"
    )
}

/// The further columns [`stored_sql`] reads of findings: status, asset, risk, and the
/// run that last wrote the row (a record whose id this run wrote before is a repeat).
pub const STORED_FINDING_COLUMNS: &str = "status, asset_external_id, risk, last_run_id";

/// A row of [`stored_sql`]; `this_run` is whether the current run last wrote it.
fn current(row: &postgres::Row, this_run: bool) -> Result<Current> {
    Ok(Current {
        id: Some(row.try_get(0)?),
        hash: row.try_get(2)?,
        active: row.try_get(3)?,
        status: row.try_get(4)?,
        this_run,
    })
}

/// Per external id: which occurrence is written in full (the last that changed the row),
/// and the ids only touched (seen unchanged).
struct Plan<'a> {
    /// Index into the batch of the occurrence to write, per external id, in first-seen order.
    write: Vec<usize>,
    /// (External id, row id) of the rows seen only unchanged.
    touch: Vec<(&'a str, i64)>,
    /// (external id, old status, new status) in batch order.
    history: Vec<(&'a str, Option<String>, Status)>,
}

/// Decides each record's outcome in batch order (see [`Plan`]). With `count_repeats`
/// (findings), a record whose id the run wrote before — in an earlier batch or earlier in
/// this one — is counted in `counts.repeated` too.
fn plan<'a>(
    ids: &[&'a str],
    hashes: &[&str],
    statuses: Option<&[Status]>,
    mut stored: HashMap<String, Current>,
    count_repeats: bool,
    counts: &mut BatchCounts,
) -> Plan<'a> {
    let mut write_at: HashMap<&str, usize> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut touched: Vec<(&str, i64)> = Vec::new();
    let mut seen_touched: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut history = Vec::new();
    for (k, &id) in ids.iter().enumerate() {
        let status = statuses.map(|s| s[k]);
        let written_before = stored
            .get_mut(id)
            .is_some_and(|cur| std::mem::replace(&mut cur.this_run, true));
        if count_repeats && written_before {
            counts.repeat(id);
        }
        match stored.get_mut(id) {
            Some(cur) if unchanged(cur.active, &cur.hash, hashes[k]) => {
                counts.unchanged += 1;
                // A row written earlier in the batch is in `write_at` (new rows too).
                if let Some(row) = cur.id
                    && !write_at.contains_key(id)
                    && seen_touched.insert(id)
                {
                    touched.push((id, row));
                }
            }
            Some(cur) => {
                counts.updated += 1;
                if let Some(new) = status
                    && cur.status.as_deref() != Some(new.as_str())
                {
                    history.push((id, cur.status.clone(), new));
                }
                cur.hash = hashes[k].to_string();
                cur.status = status.map(|s| s.as_str().to_string());
                cur.active = true;
                if write_at.insert(id, k).is_none() {
                    order.push(id);
                }
            }
            None => {
                counts.inserted += 1;
                if let Some(new) = status {
                    history.push((id, None, new));
                }
                stored.insert(
                    id.to_string(),
                    Current {
                        id: None,
                        hash: hashes[k].to_string(),
                        status: status.map(|s| s.as_str().to_string()),
                        active: true,
                        this_run: true,
                    },
                );
                write_at.insert(id, k);
                order.push(id);
            }
        }
    }
    touched.retain(|(id, _)| !write_at.contains_key(id));
    Plan {
        write: order
            .iter()
            .filter_map(|id| write_at.get(id).copied())
            .collect(),
        touch: touched,
        history,
    }
}

/// `INSERT INTO table(connector_id, cols..., active, first_seen, last_seen, last_run_id)
/// SELECT FROM UNNEST(...) ON CONFLICT DO UPDATE ... RETURNING external_id, id`. A stored
/// row keeps its `last_seen` and `active` when the seen time (the last parameter) is
/// NULL: a remap (see [`Run::seen_at`]).
fn upsert_sql(table: &str, cols: &[(&str, &str)]) -> String {
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let arrays: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| format!("${}::{ty}[]", i + 2))
        .collect();
    let sets: Vec<String> = names
        .iter()
        .filter(|n| **n != "external_id")
        .map(|n| format!("{n} = EXCLUDED.{n}"))
        .collect();
    let n = cols.len();
    format!(
        "INSERT INTO {table}(connector_id, {cols}, active, first_seen, last_seen, last_run_id)
         SELECT $1, {cols}, TRUE, ${now}, ${now}, ${run} FROM UNNEST({arrays}) AS t({cols})
         ON CONFLICT (connector_id, external_id) DO UPDATE SET {sets},
             active = CASE WHEN ${seen}::timestamptz IS NULL THEN {table}.active ELSE TRUE END,
             last_seen = COALESCE(${seen}::timestamptz, {table}.last_seen),
             last_run_id = EXCLUDED.last_run_id
         RETURNING external_id, id",
        cols = names.join(", "),
        arrays = arrays.join(", "),
        sets = sets.join(", "),
        now = n + 2,
        run = n + 3,
        seen = n + 4,
    )
}

/// Assets seen unchanged: when and by which run.
fn touch_assets(
    tx: &mut impl GenericClient,
    run: &Run,
    touched: &[(&str, i64)],
    now: DateTime<Utc>,
) -> Result<()> {
    if touched.is_empty() {
        return Ok(());
    }
    let rows: Vec<i64> = touched.iter().map(|t| t.1).collect();
    tx.execute(
        "UPDATE assets SET last_seen = COALESCE($2, last_seen), last_run_id = $3 WHERE id = ANY($1)",
        &[&rows, &run.seen_at(now), &run.id],
    )?;
    Ok(())
}

/// Findings seen unchanged: when and by which run, and their score (which changes with
/// age; an equal score leaves the indexes alone).
fn touch_findings(
    tx: &mut impl GenericClient,
    run: &Run,
    touched: &[(&str, i64)],
    risks: &HashMap<&str, i32>,
    now: DateTime<Utc>,
) -> Result<()> {
    if touched.is_empty() {
        return Ok(());
    }
    let rows: Vec<i64> = touched.iter().map(|t| t.1).collect();
    let risk: Vec<i32> = touched.iter().map(|t| risk_of(risks, t.0)).collect();
    tx.execute(
        "UPDATE findings f SET last_seen = COALESCE($2, f.last_seen), last_run_id = $3, risk = t.r
         FROM UNNEST($1::int8[], $4::int4[]) AS t(id, r)
         WHERE f.id = t.id",
        &[&rows, &run.seen_at(now), &run.id, &risk],
    )?;
    Ok(())
}

/// A finding's score from [`super::risk::batch_risks`], which scores every external id
/// of the batch.
fn risk_of(risks: &HashMap<&str, i32>, external_id: &str) -> i32 {
    risks.get(external_id).copied().unwrap_or_default()
}

/// Each finding of the batch, from where its stored row had it (`was`: asset, and risk
/// while open) to where the batch leaves it, for its assets' risks.
fn record_moves(
    recs: &[FindingRecord],
    plan: &Plan,
    was: &HashMap<String, (String, Option<u16>)>,
    risks: &HashMap<&str, i32>,
    moves: &mut Moves,
) {
    let place = |ext: &str| {
        was.get(ext).map(|(asset, open_risk)| Place {
            asset,
            open_risk: *open_risk,
        })
    };
    let risk = |ext: &str| risk_of(risks, ext).clamp(0, i32::from(model::risk::MAX)) as u16;
    for &k in &plan.write {
        let f = &recs[k].finding;
        let now = Place {
            asset: &f.asset_external_id,
            open_risk: f.status.is_open().then(|| risk(&f.external_id)),
        };
        moves.finding(place(&f.external_id), now);
    }
    for (ext, _) in &plan.touch {
        if let Some(w) = place(ext) {
            let now = Place {
                open_risk: w.open_risk.map(|_| risk(ext)),
                ..w
            };
            moves.finding(Some(w), now);
        }
    }
}

const ASSET_COLS: &[(&str, &str)] = &[
    ("external_id", "text"),
    ("name", "text"),
    ("url", "text"),
    ("description", "text"),
    ("business_unit", "text"),
    ("risk_rating", "text"),
    ("last_updated", "timestamptz"),
    ("tags", "jsonb"),
    ("raw", "bytea"),
    ("content_hash", "text"),
];

fn write_assets(
    tx: &mut impl GenericClient,
    run: &Run,
    recs: &[AssetRecord],
    now: DateTime<Utc>,
    counts: &mut BatchCounts,
) -> Result<()> {
    if recs.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = recs.iter().map(|r| r.asset.external_id.as_str()).collect();
    let hashes: Vec<&str> = recs.iter().map(|r| r.encoded().hash.as_str()).collect();
    let mut stored = HashMap::new();
    for row in tx.query(
        &stored_sql("assets", "NULL::text AS status"),
        &[&run.connector_id, &ids],
    )? {
        stored.insert(row.try_get(1)?, current(&row, false)?);
    }
    let plan = plan(&ids, &hashes, None, stored, false, counts);
    touch_assets(tx, run, &plan.touch, now)?;
    if plan.write.is_empty() {
        return Ok(());
    }
    let w: Vec<&AssetRecord> = plan.write.iter().map(|&k| &recs[k]).collect();
    let ext: Vec<&str> = w.iter().map(|r| r.asset.external_id.as_str()).collect();
    let name: Vec<Option<&str>> = w.iter().map(|r| r.asset.name.as_deref()).collect();
    let url: Vec<Option<&str>> = w.iter().map(|r| r.asset.url.as_deref()).collect();
    let moved = moved_assets(tx, run.connector_id, &ext, &url)?;
    let desc: Vec<Option<&str>> = w.iter().map(|r| r.asset.description.as_deref()).collect();
    let bu: Vec<Option<&str>> = w.iter().map(|r| r.asset.business_unit.as_deref()).collect();
    let risk: Vec<Option<&str>> = w.iter().map(|r| r.asset.risk_rating.as_deref()).collect();
    let updated: Vec<Option<DateTime<Utc>>> = w.iter().map(|r| r.asset.last_updated).collect();
    let tags: Vec<serde_json::Value> = w.iter().map(|r| serde_json::json!(r.asset.tags)).collect();
    let raw: Vec<&[u8]> = w
        .iter()
        .map(|r| r.encoded().compressed.as_slice())
        .collect();
    let hash: Vec<&str> = plan.write.iter().map(|&k| hashes[k]).collect();
    let seen = run.seen_at(now);
    let params: [&(dyn ToSql + Sync); 14] = [
        &run.connector_id,
        &ext,
        &name,
        &url,
        &desc,
        &bu,
        &risk,
        &updated,
        &tags,
        &raw,
        &hash,
        &now,
        &run.id,
        &seen,
    ];
    tx.query(&upsert_sql("assets", ASSET_COLS), &params)?;
    let moved: Vec<&str> = moved.iter().map(String::as_str).collect();
    super::risk::rescore_assets(tx, run.connector_id, &moved)
}

/// Which of the stored assets `ext` had another URL than `url` says now (their findings'
/// scores follow it: [`super::risk::rescore_assets`]).
fn moved_assets(
    tx: &mut impl GenericClient,
    connector_id: i64,
    ext: &[&str],
    url: &[Option<&str>],
) -> Result<Vec<String>> {
    let now: HashMap<&str, Option<&str>> = ext.iter().copied().zip(url.iter().copied()).collect();
    let mut moved = Vec::new();
    for row in tx.query(
        "SELECT external_id, url FROM assets WHERE connector_id = $1 AND external_id = ANY($2)",
        &[&connector_id, &ext],
    )? {
        let id: String = row.try_get(0)?;
        let stored: Option<String> = row.try_get(1)?;
        if now
            .get(id.as_str())
            .is_some_and(|u| *u != stored.as_deref())
        {
            moved.push(id);
        }
    }
    Ok(moved)
}

const FINDING_COLS: &[(&str, &str)] = &[
    ("external_id", "text"),
    ("asset_external_id", "text"),
    ("name", "text"),
    ("severity", "int2"),
    ("source_severity", "text"),
    ("status", "text"),
    ("source_status", "text"),
    ("cve", "text"),
    ("cvss", "float8"),
    ("cwe", "int8"),
    ("first_found", "timestamptz"),
    ("last_found", "timestamptz"),
    ("last_updated", "timestamptz"),
    ("port", "int4"),
    ("protocol", "text"),
    ("issue_type", "text"),
    ("location", "text"),
    ("element", "text"),
    ("detection", "text"),
    ("description", "text"),
    ("solution", "text"),
    ("tags", "jsonb"),
    ("fingerprint", "text"),
    ("raw", "bytea"),
    ("content_hash", "text"),
    ("risk", "int4"),
];

fn write_findings(
    tx: &mut impl GenericClient,
    run: &Run,
    recs: &[FindingRecord],
    now: DateTime<Utc>,
    risks: &HashMap<&str, i32>,
    moves: &mut Moves,
    counts: &mut BatchCounts,
) -> Result<()> {
    if recs.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = recs
        .iter()
        .map(|r| r.finding.external_id.as_str())
        .collect();
    let hashes: Vec<&str> = recs.iter().map(|r| r.encoded().hash.as_str()).collect();
    let mut stored = HashMap::new();
    let mut was: HashMap<String, (String, Option<u16>)> = HashMap::new();
    let mut stored_status: HashMap<String, Status> = HashMap::new();
    for row in tx.query(
        &stored_sql("findings", STORED_FINDING_COLUMNS),
        &[&run.connector_id, &ids],
    )? {
        let last_run: Option<i64> = row.try_get(7)?;
        let cur = current(&row, last_run == Some(run.id))?;
        let status = status_of("findings.status", row.try_get(4)?)?;
        let risk = super::read::risk_of(&row, 6)?;
        was.insert(
            row.try_get(1)?,
            (row.try_get(5)?, status.is_open().then_some(risk)),
        );
        stored_status.insert(row.try_get(1)?, status);
        stored.insert(row.try_get(1)?, cur);
    }
    // What each record's status becomes, given the stored one (a finding that came back
    // is REOPENED; a remap keeps what full runs closed).
    let statuses: Vec<Status> = recs
        .iter()
        .map(|r| match stored_status.get(&r.finding.external_id) {
            Some(was) => was.written_over(r.finding.status, run.mode == RunMode::Remap),
            None => r.finding.status,
        })
        .collect();
    let plan = plan(&ids, &hashes, Some(&statuses), stored, true, counts);
    touch_findings(tx, run, &plan.touch, risks, now)?;
    record_moves(recs, &plan, &was, risks, moves);
    if plan.write.is_empty() {
        return Ok(());
    }
    let w: Vec<&FindingRecord> = plan.write.iter().map(|&k| &recs[k]).collect();
    let f = |g: fn(&FindingRecord) -> Option<&str>| -> Vec<Option<&str>> {
        w.iter().map(|r| g(r)).collect()
    };
    let ext: Vec<&str> = w.iter().map(|r| r.finding.external_id.as_str()).collect();
    let asset: Vec<&str> = w
        .iter()
        .map(|r| r.finding.asset_external_id.as_str())
        .collect();
    let name: Vec<&str> = w.iter().map(|r| r.finding.name.as_str()).collect();
    let severity: Vec<i16> = w
        .iter()
        .map(|r| i16::from(r.finding.severity.score()))
        .collect();
    let source_severity: Vec<&str> = w
        .iter()
        .map(|r| r.finding.source_severity.as_str())
        .collect();
    let status: Vec<&str> = plan.write.iter().map(|&k| statuses[k].as_str()).collect();
    let source_status = f(|r| r.finding.source_status.as_deref());
    let cve = f(|r| r.finding.cve.as_deref());
    let cvss: Vec<Option<f64>> = w.iter().map(|r| r.finding.cvss).collect();
    let cwe: Vec<Option<i64>> = w.iter().map(|r| r.finding.cwe.map(i64::from)).collect();
    let first_found: Vec<Option<DateTime<Utc>>> = w.iter().map(|r| r.finding.first_found).collect();
    let last_found: Vec<Option<DateTime<Utc>>> = w.iter().map(|r| r.finding.last_found).collect();
    let last_updated: Vec<Option<DateTime<Utc>>> =
        w.iter().map(|r| r.finding.last_updated).collect();
    let port: Vec<Option<i32>> = w.iter().map(|r| r.finding.port.map(i32::from)).collect();
    let protocol = f(|r| r.finding.protocol.as_deref());
    let issue_type = f(|r| r.finding.issue_type.as_deref());
    let location = f(|r| r.finding.location.as_deref());
    let element = f(|r| r.finding.element.as_deref());
    let detection = f(|r| r.finding.detection.as_deref());
    let description = f(|r| r.finding.description.as_deref());
    let solution = f(|r| r.finding.solution.as_deref());
    let tags: Vec<serde_json::Value> = w
        .iter()
        .map(|r| serde_json::json!(r.finding.tags))
        .collect();
    let fingerprint: Vec<&str> = w.iter().map(|r| r.fingerprint.as_str()).collect();
    let raw: Vec<&[u8]> = w
        .iter()
        .map(|r| r.encoded().compressed.as_slice())
        .collect();
    let hash: Vec<&str> = plan.write.iter().map(|&k| hashes[k]).collect();
    let risk: Vec<i32> = ext.iter().map(|e| risk_of(risks, e)).collect();
    let seen = run.seen_at(now);
    let params: [&(dyn ToSql + Sync); 30] = [
        &run.connector_id,
        &ext,
        &asset,
        &name,
        &severity,
        &source_severity,
        &status,
        &source_status,
        &cve,
        &cvss,
        &cwe,
        &first_found,
        &last_found,
        &last_updated,
        &port,
        &protocol,
        &issue_type,
        &location,
        &element,
        &detection,
        &description,
        &solution,
        &tags,
        &fingerprint,
        &raw,
        &hash,
        &risk,
        &now,
        &run.id,
        &seen,
    ];
    let mut finding_ids: HashMap<String, i64> = HashMap::new();
    for row in tx.query(&upsert_sql("findings", FINDING_COLS), &params)? {
        finding_ids.insert(row.try_get(0)?, row.try_get(1)?);
    }
    if plan.history.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(plan.history.len());
    let mut olds = Vec::with_capacity(plan.history.len());
    let mut news = Vec::with_capacity(plan.history.len());
    for (ext, old, new) in &plan.history {
        if let Some(id) = finding_ids.get(*ext) {
            ids.push(*id);
            olds.push(old.as_deref());
            news.push(new.as_str());
        }
    }
    add_history(tx, &ids, run.id, now, &olds, &news)
}

/// Inserts history rows, one per finding id, in the given order.
pub fn add_history(
    tx: &mut impl GenericClient,
    finding_ids: &[i64],
    run_id: i64,
    at: DateTime<Utc>,
    olds: &[Option<&str>],
    news: &[&str],
) -> Result<()> {
    if finding_ids.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO finding_history(finding_id, run_id, at, old_status, new_status)
         SELECT f, $2, $3, o, n FROM UNNEST($1::int8[], $4::text[], $5::text[]) WITH ORDINALITY AS t(f, o, n, k)
         ORDER BY k",
        &[&finding_ids, &run_id, &at, &olds, &news],
    )?;
    Ok(())
}

/// Closes open findings of the given assets that this run did not see, and takes their
/// risks out of their assets' kept totals: only the assets that lost a finding are
/// written, and only those whose top finding closed read their findings again. A
/// finding already CLOSED by its record's own status is only marked closed unseen (no
/// history, not counted): a remap keeps it CLOSED as a fresh run with any map would,
/// instead of taking its record's word for a finding gone.
pub fn close_unseen(tx: &mut impl GenericClient, run: &Run, asset_ids: &[String]) -> Result<u64> {
    if asset_ids.is_empty() {
        return Ok(0);
    }
    asset_risk::assets_first(tx)?;
    let now = Utc::now();
    tx.execute(
        "UPDATE findings SET content_hash = $4 || content_hash
         WHERE connector_id = $1 AND asset_external_id = ANY($2) AND status = 'CLOSED'
           AND NOT starts_with(content_hash, $4)
           AND (last_run_id IS NULL OR last_run_id <> $3)",
        &[
            &run.connector_id,
            &asset_ids,
            &run.id,
            &crate::raw::CLOSED_UNSEEN_MARK,
        ],
    )?;
    let rows = tx.query(
        "WITH closed AS (
             SELECT id, status, asset_external_id, risk FROM findings
             WHERE connector_id = $1 AND asset_external_id = ANY($2) AND status <> 'CLOSED'
               AND (last_run_id IS NULL OR last_run_id <> $3)
             ORDER BY id
             FOR UPDATE)
         UPDATE findings f SET status = 'CLOSED', content_hash = $4 || f.content_hash
         FROM closed WHERE f.id = closed.id
         RETURNING f.id, closed.status, closed.asset_external_id, closed.risk",
        &[
            &run.connector_id,
            &asset_ids,
            &run.id,
            &crate::raw::CLOSED_UNSEEN_MARK,
        ],
    )?;
    let mut closed: Vec<(i64, String, String, u16)> = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                super::read::risk_of(r, 3)?,
            ))
        })
        .collect::<Result<_>>()?;
    closed.sort_by_key(|c| c.0);
    let mut moves = Moves::default();
    for (_, old, asset, risk) in &closed {
        let was_open = status_of("findings.status", old.clone())?.is_open();
        moves.closed(asset, was_open.then_some(*risk));
    }
    let ids: Vec<i64> = closed.iter().map(|c| c.0).collect();
    let olds: Vec<Option<&str>> = closed.iter().map(|c| Some(c.1.as_str())).collect();
    let news = vec![Status::Closed.as_str(); ids.len()];
    add_history(tx, &ids, run.id, now, &olds, &news)?;
    super::risk::rescore_findings(tx, &ids)?;
    asset_risk::update(tx, run.connector_id, &[], &moves)?;
    Ok(ids.len() as u64)
}
