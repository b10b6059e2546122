//! Assets, findings and finding history: idempotent upserts and listings.

use super::finding_update;
use super::indexes::{self, LoadedIds};
use super::runs;
use super::time::{parse, parse_opt, to_sql_err, ts};
use crate::compare::unchanged;
use crate::open_risks::{Moves, Place};
use crate::raw::decompress;
use crate::types::*;
use crate::{Result, StoreError};
use chrono::Utc;
use model::{Asset, Finding, Severity, Status};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::BTreeSet;

/// What the store keeps of an open run between its batches.
#[derive(Default)]
pub struct RunMemory {
    /// The assets the run wrote, whose risk its end brings up to date (once, not per
    /// batch: an asset whose totals are not known reads all of its open findings, and
    /// one report of a million findings is one asset).
    pub touched: BTreeSet<String>,
    /// What the run's findings did to their assets' open-risk totals.
    pub moves: Moves,
    /// While the run bulk-loads an empty store without the external-id index: the ids
    /// it wrote (see `indexes`).
    loading: Option<LoadedIds>,
    /// The run began on a store without findings: every finding of its connector is one
    /// it wrote, so a full run's end has none left unseen to close.
    pub began_empty: bool,
}

impl RunMemory {
    pub fn bulk_load() -> RunMemory {
        RunMemory {
            touched: BTreeSet::new(),
            moves: Moves::default(),
            loading: Some(LoadedIds::default()),
            began_empty: true,
        }
    }

    /// Whether `external_id` is certainly not stored yet. During a bulk load that is
    /// known without a lookup; the first repeat builds the external-id index and ends
    /// the bulk load, so from then on the finding is looked up.
    fn certainly_new(&mut self, tx: &Connection, external_id: &str) -> Result<bool> {
        let Some(ids) = &mut self.loading else {
            return Ok(false);
        };
        if ids.first_sight(external_id) {
            return Ok(true);
        }
        indexes::build_external_id(tx)?;
        self.loading = None;
        Ok(false)
    }
}

/// Upserts a batch's assets and findings and records its problems, and notes the assets
/// it touched in the run's memory.
pub fn write(
    tx: &Connection,
    run: &Run,
    batch: &Batch,
    memory: &mut RunMemory,
) -> Result<BatchCounts> {
    let now = ts(Utc::now());
    let mut counts = BatchCounts::default();
    let mut moved = Vec::new();
    for rec in &batch.assets {
        let (outcome, url_changed) = upsert_asset(tx, run, rec, &now)?;
        tally(&mut counts, outcome);
        memory.touched.insert(rec.asset.external_id.clone());
        if url_changed {
            moved.push(rec.asset.external_id.clone());
        }
    }
    super::risk::rescore_assets(tx, run.connector_id, &moved)?;
    // Scores are written with the row (one write per finding, not an insert and then
    // an update).
    let mut scorer = super::risk::Scorer::new(tx, run.connector_id);
    for rec in &batch.findings {
        let risk = scorer.score(&rec.finding)?;
        let id = &rec.finding.external_id;
        // A bulk load's first repeat ends it (see `certainly_new`), so every repeat is
        // looked up and told by the run that last wrote the row.
        let existing = if memory.certainly_new(tx, id)? {
            None
        } else {
            finding_update::stored(tx, run.connector_id, id)?
        };
        if existing.as_ref().and_then(|s| s.last_run_id) == Some(run.id) {
            counts.repeat(id);
        }
        let outcome = upsert_finding(tx, run, rec, &now, risk, existing, &mut memory.moves)?;
        tally(&mut counts, outcome);
        if !memory.touched.contains(&rec.finding.asset_external_id) {
            memory.touched.insert(rec.finding.asset_external_id.clone());
        }
    }
    runs::insert_issues(tx, run.id, &batch.issues)?;
    Ok(counts)
}

#[derive(Clone, Copy)]
enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

fn tally(c: &mut BatchCounts, o: Outcome) {
    match o {
        Outcome::Inserted => c.inserted += 1,
        Outcome::Updated => c.updated += 1,
        Outcome::Unchanged => c.unchanged += 1,
    }
}

/// Writes an asset; with whether it was stored with another URL before.
fn upsert_asset(
    tx: &Connection,
    run: &Run,
    rec: &AssetRecord,
    now: &str,
) -> Result<(Outcome, bool)> {
    let a = &rec.asset;
    let existing: Option<(i64, String, i64, Option<String>)> = tx
        .prepare_cached("SELECT id, content_hash, active, url FROM assets WHERE connector_id = ?1 AND external_id = ?2")?
        .query_row(params![run.connector_id, a.external_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let url_changed = existing.as_ref().is_some_and(|e| e.3 != a.url);
    let existing = existing.map(|(id, hash, active, _)| (id, hash, active));
    Ok((upsert_asset_row(tx, run, rec, now, existing)?, url_changed))
}

/// Inserts or updates the asset's row, or only marks it seen when unchanged.
fn upsert_asset_row(
    tx: &Connection,
    run: &Run,
    rec: &AssetRecord,
    now: &str,
    existing: Option<(i64, String, i64)>,
) -> Result<Outcome> {
    let seen = run.seen_at(now);
    let a = &rec.asset;
    let encoded = rec.encoded();
    let hash = &encoded.hash;
    let tags = serde_json::to_string(&a.tags).unwrap_or_else(|_| "[]".into());
    let last_updated = a.last_updated.map(ts);
    match existing {
        Some((id, old_hash, active)) if unchanged(active == 1, &old_hash, hash) => {
            tx.prepare_cached(
                "UPDATE assets SET last_seen = COALESCE(?2, last_seen), last_run_id = ?3 WHERE id = ?1",
            )?
            .execute(params![id, seen, run.id])?;
            Ok(Outcome::Unchanged)
        }
        Some((id, _, _)) => {
            tx.prepare_cached(
                "UPDATE assets SET name = ?2, url = ?3, description = ?4, business_unit = ?5, risk_rating = ?6,
                     last_updated = ?7, tags = ?8, raw = ?9, content_hash = ?10,
                     active = CASE WHEN ?11 IS NULL THEN active ELSE 1 END,
                     last_seen = COALESCE(?11, last_seen), last_run_id = ?12
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                a.name,
                a.url,
                a.description,
                a.business_unit,
                a.risk_rating,
                last_updated,
                tags,
                encoded.compressed,
                hash,
                seen,
                run.id
            ])?;
            Ok(Outcome::Updated)
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO assets(connector_id, external_id, name, url, description, business_unit, risk_rating,
                     last_updated, tags, raw, content_hash, active, first_seen, last_seen, last_run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?12, ?13)",
            )?
            .execute(params![
                run.connector_id,
                a.external_id,
                a.name,
                a.url,
                a.description,
                a.business_unit,
                a.risk_rating,
                last_updated,
                tags,
                encoded.compressed,
                hash,
                now,
                run.id
            ])?;
            Ok(Outcome::Inserted)
        }
    }
}

fn upsert_finding(
    tx: &Connection,
    run: &Run,
    rec: &FindingRecord,
    now: &str,
    risk: u16,
    existing: Option<finding_update::Stored>,
    moves: &mut Moves,
) -> Result<Outcome> {
    let f = &rec.finding;
    let encoded = rec.encoded();
    let hash = &encoded.hash;
    let tags = || serde_json::to_string(&f.tags).unwrap_or_else(|_| "[]".into());
    let now_place = Place {
        asset: &f.asset_external_id,
        open_risk: f.status.is_open().then_some(risk),
    };
    match existing {
        Some(stored) if unchanged(stored.active, &stored.content_hash, hash) => {
            finding_update::touch(tx, &stored, run.seen_at(now), run.id, risk)?;
            // Same asset and status as stored; only the score may have moved (with age).
            if let Some(was) = stored.place() {
                let rescored = Place {
                    open_risk: was.open_risk.map(|_| risk),
                    ..was
                };
                moves.finding(Some(was), rescored);
            }
            Ok(Outcome::Unchanged)
        }
        Some(stored) => {
            let was = stored
                .status
                .parse::<Status>()
                .map_err(|e| StoreError::Corrupt {
                    column: "findings.status".into(),
                    message: e,
                })?;
            let reopened;
            let f = match was.written_over(f.status, run.mode == RunMode::Remap) {
                same if same == f.status => f,
                status => {
                    reopened = Finding {
                        status,
                        ..f.clone()
                    };
                    &reopened
                }
            };
            // A finding that moved to another asset takes its risk from the old one.
            moves.finding(stored.place(), now_place);
            let written = finding_update::Written {
                tags: tags(),
                fingerprint: &rec.fingerprint,
                raw: &encoded.compressed,
                content_hash: hash,
                seen: run.seen_at(now),
                run_id: run.id,
                risk,
            };
            finding_update::update(tx, &stored, f, written)?;
            if stored.status != f.status.as_str() {
                add_history(tx, stored.id, run.id, now, Some(&stored.status), f.status)?;
            }
            Ok(Outcome::Updated)
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO findings(connector_id, external_id, asset_external_id, name, severity, source_severity,
                     status, source_status, cve, cvss, cwe, first_found, last_found, last_updated, port, protocol,
                     issue_type, location, element, detection, description, solution, tags, fingerprint, raw,
                     content_hash, active, first_seen, last_seen, last_run_id, risk)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
                     ?20, ?21, ?22, ?23, ?24, ?25, ?26, 1, ?27, ?27, ?28, ?29)",
            )?
            .execute(params![
                run.connector_id,
                f.external_id,
                f.asset_external_id,
                f.name,
                i64::from(f.severity.score()),
                f.source_severity,
                f.status.as_str(),
                f.source_status,
                f.cve,
                f.cvss,
                f.cwe,
                f.first_found.map(ts),
                f.last_found.map(ts),
                f.last_updated.map(ts),
                f.port,
                f.protocol,
                f.issue_type,
                f.location,
                f.element,
                f.detection,
                f.description,
                f.solution,
                tags(),
                rec.fingerprint,
                encoded.compressed,
                hash,
                now,
                run.id,
                risk
            ])?;
            let id = tx.last_insert_rowid();
            add_history(tx, id, run.id, now, None, f.status)?;
            moves.finding(None, now_place);
            Ok(Outcome::Inserted)
        }
    }
}

fn add_history(
    tx: &Connection,
    finding_id: i64,
    run_id: i64,
    at: &str,
    old: Option<&str>,
    new: Status,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO finding_history(finding_id, run_id, at, old_status, new_status) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![finding_id, run_id, at, old, new.as_str()])?;
    Ok(())
}

/// Closes open findings of the given assets that this run did not see, and notes their
/// risks leaving their assets in the run's `moves`, which its end applies with what its
/// batches brought: applied here, an asset whose top finding closed read its findings
/// again — those this run reopened included — and the run's end then added the reopened
/// ones a second time. A finding already CLOSED by its record's own status is only
/// marked closed unseen (no history, not counted): a remap keeps it CLOSED as a fresh
/// run with any map would, instead of taking its record's word for a finding gone.
pub fn close_unseen(
    tx: &Connection,
    run: &Run,
    asset_ids: &[String],
    moves: &mut Moves,
) -> Result<u64> {
    let now = ts(Utc::now());
    let mut closed = 0u64;
    let mut mark = tx.prepare_cached(
        "UPDATE findings SET content_hash = ?4 || content_hash
         WHERE connector_id = ?1 AND asset_external_id = ?2 AND status = 'CLOSED'
           AND substr(content_hash, 1, length(?4)) <> ?4
           AND (last_run_id IS NULL OR last_run_id <> ?3)",
    )?;
    let mut pick = tx.prepare_cached(
        "SELECT id, status, risk FROM findings
         WHERE connector_id = ?1 AND asset_external_id = ?2 AND status <> 'CLOSED'
           AND (last_run_id IS NULL OR last_run_id <> ?3)",
    )?;
    for asset in asset_ids {
        mark.execute(params![
            run.connector_id,
            asset,
            run.id,
            crate::raw::CLOSED_UNSEEN_MARK
        ])?;
        let rows: Vec<(i64, String, i64)> = pick
            .query_map(params![run.connector_id, asset, run.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (id, old, risk) in rows {
            tx.prepare_cached(
                "UPDATE findings SET status = 'CLOSED', content_hash = ?2 || content_hash
                 WHERE id = ?1",
            )?
            .execute(params![id, crate::raw::CLOSED_UNSEEN_MARK])?;
            add_history(tx, id, run.id, &now, Some(&old), Status::Closed)?;
            super::risk::rescore_finding(tx, id)?;
            let was_open = old
                .parse::<Status>()
                .map_err(|e: String| corrupt("findings.status", e))?
                .is_open();
            moves.closed(asset, was_open.then(|| super::risk::clamp_risk(risk)));
            closed += 1;
        }
    }
    Ok(closed)
}

pub(super) const ASSET_COLUMNS: &str = "a.id, c.name, a.external_id, a.name, a.url, a.description, a.business_unit, \
     a.risk_rating, a.last_updated, a.tags, a.active, a.first_seen, a.last_seen, \
     (SELECT COUNT(*) FROM findings f WHERE f.connector_id = a.connector_id AND f.asset_external_id = a.external_id), \
     (SELECT COUNT(*) FROM findings f WHERE f.connector_id = a.connector_id AND f.asset_external_id = a.external_id \
        AND f.status IN ('NEW', 'ACTIVE', 'REOPENED')), a.risk";

fn corrupt(column: &str, message: impl Into<String>) -> rusqlite::Error {
    to_sql_err(StoreError::Corrupt {
        column: column.into(),
        message: message.into(),
    })
}

fn tags_of(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

pub(super) fn asset_from_row(r: &Row<'_>) -> rusqlite::Result<StoredAsset> {
    Ok(StoredAsset {
        id: r.get(0)?,
        connector: r.get(1)?,
        asset: Asset {
            external_id: r.get(2)?,
            name: r.get(3)?,
            url: r.get(4)?,
            description: r.get(5)?,
            business_unit: r.get(6)?,
            risk_rating: r.get(7)?,
            last_updated: parse_opt("assets.last_updated", r.get(8)?).map_err(to_sql_err)?,
            tags: tags_of(r.get(9)?),
        },
        active: r.get::<_, i64>(10)? == 1,
        first_seen: parse("assets.first_seen", &r.get::<_, String>(11)?).map_err(to_sql_err)?,
        last_seen: parse("assets.last_seen", &r.get::<_, String>(12)?).map_err(to_sql_err)?,
        findings: r.get::<_, i64>(13)?.max(0) as u64,
        open_findings: r.get::<_, i64>(14)?.max(0) as u64,
        risk: r.get::<_, i64>(15)?.clamp(0, 1000) as u16,
    })
}

pub(super) const FINDING_COLUMNS: &str = "f.id, c.name, a.name, a.url, f.external_id, f.asset_external_id, f.name, f.severity, \
     f.source_severity, f.status, f.source_status, f.cve, f.cvss, f.cwe, f.first_found, f.last_found, \
     f.last_updated, f.port, f.protocol, f.issue_type, f.location, f.element, f.detection, f.description, \
     f.solution, f.tags, f.fingerprint, f.active, f.first_seen, f.last_seen, f.risk, \
     (f.cve IS NOT NULL AND (EXISTS (SELECT 1 FROM kev k WHERE k.cve = UPPER(f.cve)) \
     OR (f.cve LIKE '%,%' AND EXISTS (SELECT 1 FROM kev k \
     WHERE ',' || REPLACE(UPPER(f.cve), ' ', '') || ',' LIKE '%,' || k.cve || ',%'))))";

pub(super) const FINDING_FROM: &str = "findings f JOIN connectors c ON c.id = f.connector_id \
     LEFT JOIN assets a ON a.connector_id = f.connector_id AND a.external_id = f.asset_external_id";

pub(super) fn finding_from_row(r: &Row<'_>) -> rusqlite::Result<StoredFinding> {
    let sev: i64 = r.get(7)?;
    let status: String = r.get(9)?;
    let date = |i: usize, col: &str| -> rusqlite::Result<_> {
        parse_opt(col, r.get(i)?).map_err(to_sql_err)
    };
    Ok(StoredFinding {
        id: r.get(0)?,
        connector: r.get(1)?,
        asset_name: r.get(2)?,
        asset_url: r.get(3)?,
        finding: Finding {
            external_id: r.get(4)?,
            asset_external_id: r.get(5)?,
            name: r.get(6)?,
            severity: Severity::from_score(sev)
                .ok_or_else(|| corrupt("findings.severity", sev.to_string()))?,
            source_severity: r.get(8)?,
            status: status
                .parse()
                .map_err(|e: String| corrupt("findings.status", e))?,
            source_status: r.get(10)?,
            cve: r.get(11)?,
            cvss: r.get(12)?,
            cwe: r.get(13)?,
            first_found: date(14, "findings.first_found")?,
            last_found: date(15, "findings.last_found")?,
            last_updated: date(16, "findings.last_updated")?,
            port: r.get(17)?,
            protocol: r.get(18)?,
            issue_type: r.get(19)?,
            location: r.get(20)?,
            element: r.get(21)?,
            detection: r.get(22)?,
            description: r.get(23)?,
            solution: r.get(24)?,
            tags: tags_of(r.get(25)?),
        },
        fingerprint: r.get(26)?,
        active: r.get::<_, i64>(27)? == 1,
        first_seen: parse("findings.first_seen", &r.get::<_, String>(28)?).map_err(to_sql_err)?,
        last_seen: parse("findings.last_seen", &r.get::<_, String>(29)?).map_err(to_sql_err)?,
        risk: r.get::<_, i64>(30)?.clamp(0, 1000) as u16,
        kev: r.get(31)?,
    })
}

pub fn finding(conn: &Connection, id: i64) -> Result<Option<StoredFinding>> {
    Ok(conn
        .query_row(
            &format!("SELECT {FINDING_COLUMNS} FROM {FINDING_FROM} WHERE f.id = ?1"),
            [id],
            finding_from_row,
        )
        .optional()?)
}

pub fn history(conn: &Connection, finding_id: i64) -> Result<Vec<HistoryEntry>> {
    let mut st = conn.prepare_cached(
        "SELECT run_id, at, old_status, new_status FROM finding_history WHERE finding_id = ?1 ORDER BY id",
    )?;
    let rows = st
        .query_map([finding_id], |r| {
            let old: Option<String> = r.get(2)?;
            let new: String = r.get(3)?;
            Ok(HistoryEntry {
                run_id: r.get(0)?,
                at: parse("finding_history.at", &r.get::<_, String>(1)?).map_err(to_sql_err)?,
                old_status: old
                    .map(|o| {
                        o.parse()
                            .map_err(|e: String| corrupt("finding_history.old_status", e))
                    })
                    .transpose()?,
                new_status: new
                    .parse()
                    .map_err(|e: String| corrupt("finding_history.new_status", e))?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Rows [`for_each_raw`] reads per statement.
const RAW_PAGE: i64 = 1_000;

/// Every stored raw record of a connector, assets first, each table in id order.
///
/// Pages of [`RAW_PAGE`] rows are read whole before `f` sees them, so no read is open
/// while `f` writes: a remap writes every record it reads, and a reader that held one
/// snapshot (or kept taking new ones) kept the write-ahead log from starting over after
/// its checkpoints; remapping a million findings grew the log to 8.5–8.7 GB beside a 1.5 GB
/// store.
pub fn for_each_raw(conn: &Connection, connector_id: i64, f: &mut RawVisitor<'_>) -> Result<()> {
    for (kind, table, asset_column, status, hash) in [
        (RawKind::Asset, "assets", "external_id", "NULL", "NULL"),
        (
            RawKind::Finding,
            "findings",
            "asset_external_id",
            "status",
            "content_hash",
        ),
    ] {
        // NOT INDEXED: the rows in id order, read in place. With planner statistics,
        // SQLite took the (connector, severity) index instead and sorted every row of the
        // connector, raw records and all, before the first.
        // The rows there are now: a remap that inserts rows (a map whose ids differ)
        // read them again after those it was mapping ("fetched 2041" of 2,010 stored).
        let last: i64 = conn.query_row(
            &format!("SELECT COALESCE(MAX(id), 0) FROM {table}"),
            [],
            |r| r.get(0),
        )?;
        let mut st = conn.prepare(&format!(
            "SELECT id, {asset_column}, raw, {status}, {hash} FROM {table} NOT INDEXED
             WHERE connector_id = ?1 AND id > ?2 AND id <= ?4 ORDER BY id LIMIT ?3"
        ))?;
        let mut after = 0i64;
        loop {
            let page = st
                .query_map(params![connector_id, after, RAW_PAGE, last], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<Vec<u8>>>(2)?,
                        row.get::<_, Option<String>>(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (_, asset, bytes, status, hash) in &page {
                let Some(bytes) = bytes else { continue };
                let status = status
                    .as_deref()
                    .map(str::parse::<Status>)
                    .transpose()
                    .map_err(|e: String| corrupt("findings.status", e))?
                    .map(|s| StoredStatus::from_row(s, hash.as_deref().unwrap_or_default()));
                let raw = decompress(bytes).map_err(|message| StoreError::Corrupt {
                    column: "raw".into(),
                    message,
                })?;
                f(kind, asset, raw, status)?;
            }
            match page.last() {
                Some((id, ..)) if page.len() as i64 == RAW_PAGE => after = *id,
                _ => break,
            }
        }
    }
    Ok(())
}

pub fn counts(conn: &Connection, connector_id: i64) -> Result<(u64, u64)> {
    let n = |sql: &str| -> Result<u64> {
        Ok(conn
            .query_row(sql, [connector_id], |r| r.get::<_, i64>(0))?
            .max(0) as u64)
    };
    Ok((
        n("SELECT COUNT(*) FROM assets WHERE connector_id = ?1")?,
        n("SELECT COUNT(*) FROM findings WHERE connector_id = ?1")?,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn listings_select_kev_as_the_filter_reads_it() {
        assert!(super::FINDING_COLUMNS.ends_with(query::fields::KEV_SQL));
        assert!(crate::postgres::read::FINDING_COLUMNS.ends_with(query::fields::KEV_SQL));
        assert!(crate::postgres::risk::SCORE_SELECT.contains(query::fields::KEV_SQL));
    }
}
