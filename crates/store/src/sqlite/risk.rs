//! Keeping risk scores stored: per batch, after auto-close, and on `rescore`.
//!
//! The score itself is [`model::risk`]; this module gathers its inputs (the asset's URL for
//! exposure, the KEV table for known exploitation) and writes `findings.risk` and
//! `assets.risk` (from the asset's open findings, through the totals each asset keeps:
//! [`crate::open_risks`]).

use super::time::{parse_opt, ts};
use crate::open_risks::{self, Moves, Totals};
use crate::types::*;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use model::kev::{KevEntry, cve_ids};
use model::risk::{Exposure, OpenRisks, RiskInput, finding_risk};
use model::{Severity, Status};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeSet, HashMap};

/// Rows scored per read on `rescore`.
const CHUNK: i64 = 10_000;

/// Whether one of the finding's CVEs (one, or several comma-separated) is listed.
fn known_exploited(conn: &Connection, cve: Option<&str>) -> Result<bool> {
    let Some(cve) = cve else { return Ok(false) };
    let mut st = conn.prepare_cached("SELECT 1 FROM kev WHERE cve = ?1")?;
    for id in cve_ids(cve) {
        if st.query_row([id], |_| Ok(())).optional()?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Scores findings as a batch writes them, remembering each asset's URL (exposure).
pub struct Scorer<'c> {
    conn: &'c Connection,
    connector_id: i64,
    now: DateTime<Utc>,
    urls: HashMap<String, Option<String>>,
}

impl<'c> Scorer<'c> {
    pub fn new(conn: &'c Connection, connector_id: i64) -> Scorer<'c> {
        Scorer {
            conn,
            connector_id,
            now: Utc::now(),
            urls: HashMap::new(),
        }
    }

    /// The score of `f` as of now. Its asset, when in the same batch, is already
    /// written (assets go first).
    pub fn score(&mut self, f: &model::Finding) -> Result<u16> {
        let asset = f.asset_external_id.as_str();
        if !self.urls.contains_key(asset) {
            let url: Option<String> = self
                .conn
                .prepare_cached(
                    "SELECT url FROM assets WHERE connector_id = ?1 AND external_id = ?2",
                )?
                .query_row(params![self.connector_id, asset], |r| r.get(0))
                .optional()?
                .flatten();
            self.urls.insert(asset.to_string(), url);
        }
        let asset_url = self.urls.get(asset).and_then(|u| u.as_deref());
        let input = RiskInput {
            severity: f.severity,
            cvss: f.cvss,
            status: f.status,
            first_found: f.first_found,
            exposure: Exposure::of_urls([f.location.as_deref(), asset_url]),
            known_exploited: known_exploited(self.conn, f.cve.as_deref())?,
        };
        Ok(finding_risk(&input, self.now))
    }
}

/// Recomputes one finding's score from its stored row (after a status change).
pub fn rescore_finding(conn: &Connection, id: i64) -> Result<()> {
    let now = Utc::now();
    let row = conn
        .prepare_cached(&format!("{SCORE_SELECT} WHERE f.id = ?1"))?
        .query_row([id], read_row)
        .optional()?;
    if let Some(r) = row {
        let risk = score(conn, &r, now)?;
        conn.prepare_cached("UPDATE findings SET risk = ?2 WHERE id = ?1")?
            .execute(params![id, risk])?;
    }
    Ok(())
}

/// Rescores every finding of the connector's `assets` from its stored row, and leaves
/// those assets' kept totals unknown, for the run's end to read them from their findings
/// (it adds the moves of all the run's batches, earlier ones included, to known totals).
/// For assets whose URL changed: a finding without a host of its own (a SAST issue's
/// `file:line`) is exposed as its asset's URL says, and a delta rewrote only the findings
/// that changed, so the others kept the old URL's score until a `rescore`.
pub fn rescore_assets(conn: &Connection, connector_id: i64, assets: &[String]) -> Result<()> {
    let now = Utc::now();
    let mut read = conn.prepare_cached(&format!(
        "{SCORE_SELECT} WHERE f.connector_id = ?1 AND f.asset_external_id = ?2"
    ))?;
    let mut update = conn.prepare_cached("UPDATE findings SET risk = ?2 WHERE id = ?1")?;
    let mut unknown = conn.prepare_cached(
        "UPDATE assets SET open_risk_sum = NULL, open_risk_top = NULL, open_risk_top_count = NULL
         WHERE connector_id = ?1 AND external_id = ?2",
    )?;
    for asset in assets {
        let rows = read
            .query_map(params![connector_id, asset], read_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for r in &rows {
            let risk = score(conn, r, now)?;
            if i64::from(risk) != r.risk {
                update.execute(params![r.id, risk])?;
            }
        }
        unknown.execute(params![connector_id, asset])?;
    }
    Ok(())
}

/// Brings the risk of a run's assets (`touched`: its own and its findings') and of the
/// assets its findings left up to date with what its findings did (`moves`): from the
/// totals an asset keeps where they are known, else from all of its open findings.
pub fn update_assets(
    conn: &Connection,
    connector_id: i64,
    touched: &BTreeSet<String>,
    moves: &Moves,
) -> Result<()> {
    let assets: BTreeSet<&str> = touched
        .iter()
        .map(String::as_str)
        .chain(moves.assets())
        .collect();
    let mut read = conn.prepare_cached(
        "SELECT open_risk_sum, open_risk_top, open_risk_top_count FROM assets
         WHERE connector_id = ?1 AND external_id = ?2",
    )?;
    let mut unknown: Vec<&str> = Vec::new();
    for asset in assets {
        let kept = read
            .query_row(params![connector_id, asset], |r| {
                Ok(open_risks::stored(r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        match kept.map(|kept| moves.apply(asset, kept)) {
            None | Some(Totals::Same) => {}
            Some(Totals::Known(open)) => write_asset(conn, connector_id, asset, &open)?,
            Some(Totals::Unknown) => unknown.push(asset),
        }
    }
    refresh_assets(conn, connector_id, unknown)
}

/// Sets each named asset's risk and totals from all of its open findings.
pub fn refresh_assets<'a>(
    conn: &Connection,
    connector_id: i64,
    asset_ids: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let mut read = conn.prepare_cached(
        "SELECT risk FROM findings WHERE connector_id = ?1 AND asset_external_id = ?2
           AND status IN ('NEW', 'ACTIVE', 'REOPENED')",
    )?;
    for asset in asset_ids {
        let risks = read
            .query_map(params![connector_id, asset], |r| r.get::<_, i64>(0))?
            .map(|r| r.map(clamp_risk))
            .collect::<rusqlite::Result<Vec<u16>>>()?;
        write_asset(conn, connector_id, asset, &OpenRisks::of(risks))?;
    }
    Ok(())
}

/// Writes an asset's risk and the totals it came from.
fn write_asset(conn: &Connection, connector_id: i64, asset: &str, open: &OpenRisks) -> Result<()> {
    let (sum, top, top_count) = open_risks::columns(open);
    conn.prepare_cached(
        "UPDATE assets SET risk = ?3, open_risk_sum = ?4, open_risk_top = ?5, open_risk_top_count = ?6
         WHERE connector_id = ?1 AND external_id = ?2",
    )?
    .execute(params![connector_id, asset, open.score(), sum, top, top_count])?;
    Ok(())
}

/// A stored risk as a score (0 to [`model::risk::MAX`]).
pub(super) fn clamp_risk(risk: i64) -> u16 {
    risk.clamp(0, i64::from(model::risk::MAX)) as u16
}

const SCORE_SELECT: &str = "SELECT f.id, f.severity, f.cvss, f.status, f.first_found, f.location, f.cve, a.url, f.risk
     FROM findings f LEFT JOIN assets a ON a.connector_id = f.connector_id AND a.external_id = f.asset_external_id";

struct ScoreRow {
    id: i64,
    severity: i64,
    cvss: Option<f64>,
    status: String,
    first_found: Option<String>,
    location: Option<String>,
    cve: Option<String>,
    asset_url: Option<String>,
    risk: i64,
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScoreRow> {
    Ok(ScoreRow {
        id: r.get(0)?,
        severity: r.get(1)?,
        cvss: r.get(2)?,
        status: r.get(3)?,
        first_found: r.get(4)?,
        location: r.get(5)?,
        cve: r.get(6)?,
        asset_url: r.get(7)?,
        risk: r.get(8)?,
    })
}

fn score(conn: &Connection, r: &ScoreRow, now: DateTime<Utc>) -> Result<u16> {
    let corrupt = |column: &str, message: String| StoreError::Corrupt {
        column: column.into(),
        message,
    };
    let input = RiskInput {
        severity: Severity::from_score(r.severity)
            .ok_or_else(|| corrupt("findings.severity", r.severity.to_string()))?,
        cvss: r.cvss,
        status: r
            .status
            .parse::<Status>()
            .map_err(|e| corrupt("findings.status", e))?,
        first_found: parse_opt("findings.first_found", r.first_found.clone())?,
        exposure: Exposure::of_urls([r.location.as_deref(), r.asset_url.as_deref()]),
        known_exploited: known_exploited(conn, r.cve.as_deref())?,
    };
    Ok(finding_risk(&input, now))
}

/// Recomputes every finding's and asset's score as of `now`, in chunks; one transaction.
pub fn rescore_all(conn: &Connection, now: DateTime<Utc>) -> Result<RescoreCounts> {
    let mut counts = RescoreCounts::default();
    let mut last_id = 0i64;
    loop {
        let rows = conn
            .prepare_cached(&format!(
                "{SCORE_SELECT} WHERE f.id > ?1 ORDER BY f.id LIMIT ?2"
            ))?
            .query_map(params![last_id, CHUNK], read_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(last) = rows.last() else { break };
        last_id = last.id;
        let mut update = conn.prepare_cached("UPDATE findings SET risk = ?2 WHERE id = ?1")?;
        for r in &rows {
            let risk = score(conn, r, now)?;
            counts.findings += 1;
            if i64::from(risk) != r.risk {
                update.execute(params![r.id, risk])?;
                counts.changed += 1;
            }
        }
    }
    // Assets: stream open findings grouped by asset.
    conn.execute(
        "UPDATE assets SET risk = 0, open_risk_sum = 0, open_risk_top = 0, open_risk_top_count = 0",
        [],
    )?;
    let mut st = conn.prepare(
        "SELECT connector_id, asset_external_id, risk FROM findings
         WHERE status IN ('NEW', 'ACTIVE', 'REOPENED') ORDER BY connector_id, asset_external_id",
    )?;
    let mut rows = st.query([])?;
    let mut current: Option<(i64, String)> = None;
    let mut open = OpenRisks::default();
    let flush = |key: &Option<(i64, String)>, open: &mut OpenRisks, counts: &mut RescoreCounts| {
        let Some((c, a)) = key else { return Ok(()) };
        counts.assets += 1;
        write_asset(conn, *c, a, &std::mem::take(open))
    };
    while let Some(row) = rows.next()? {
        let key = (row.get::<_, i64>(0)?, row.get::<_, String>(1)?);
        if current.as_ref() != Some(&key) {
            flush(&current, &mut open, &mut counts)?;
            current = Some(key);
        }
        open.add(clamp_risk(row.get(2)?));
    }
    flush(&current, &mut open, &mut counts)?;
    // A run under way keeps what its committed batches did to its assets' totals for its
    // end to add (`RunMemory::moves`), and the totals just set count those batches
    // already: its assets' totals are left unknown, for its end to read them from their
    // findings instead of adding the same changes twice.
    conn.execute(
        "UPDATE assets SET open_risk_sum = NULL, open_risk_top = NULL, open_risk_top_count = NULL
         WHERE connector_id IN (SELECT connector_id FROM connector_locks)",
        [],
    )?;
    Ok(counts)
}

/// Whether some open finding has no score yet (rows from before scores existed).
pub fn needs_rescore(conn: &Connection) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM findings WHERE risk = 0 AND status IN ('NEW', 'ACTIVE', 'REOPENED') LIMIT 1",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Adds (or, with `replace`, replaces the list with) known-exploited CVEs.
pub fn import_kev(conn: &Connection, entries: &[KevEntry], replace: bool) -> Result<KevImport> {
    let before: i64 = conn.query_row("SELECT COUNT(*) FROM kev", [], |r| r.get(0))?;
    if replace {
        conn.execute("DELETE FROM kev", [])?;
    }
    let now = ts(Utc::now());
    let mut st = conn.prepare_cached(
        "INSERT INTO kev(cve, added, name, imported_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(cve) DO UPDATE SET added = COALESCE(excluded.added, kev.added),
             name = COALESCE(excluded.name, kev.name), imported_at = excluded.imported_at",
    )?;
    for e in entries {
        st.execute(params![e.cve, e.added, e.name, now])?;
    }
    let total: i64 = conn.query_row("SELECT COUNT(*) FROM kev", [], |r| r.get(0))?;
    let matching: i64 = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM findings f WHERE {}",
            query::fields::KEV_SQL
        ),
        [],
        |r| r.get(0),
    )?;
    Ok(KevImport {
        read: entries.len() as u64,
        before: before.max(0) as u64,
        total: total.max(0) as u64,
        matching_findings: matching.max(0) as u64,
    })
}

pub fn kev_count(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM kev", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}
