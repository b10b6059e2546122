//! Queries of full-run sources (ASE, XML reports): marking assets inactive, and findings
//! grouped by fingerprint across connectors.

use super::data::FINDING_FROM;
use super::time::{parse, to_sql_err, ts};
use crate::fingerprints::FingerprintGroup;
use crate::types::*;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use model::Severity;
use rusqlite::{Connection, params, params_from_iter};

/// Marks the connector's assets not seen since `before` inactive, with their findings.
/// Returns (assets, findings) newly marked.
pub fn mark_inactive(
    conn: &Connection,
    connector_id: i64,
    before: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let before = ts(before);
    let findings = conn.execute(
        "UPDATE findings SET active = 0
         WHERE connector_id = ?1 AND active = 1 AND asset_external_id IN
             (SELECT external_id FROM assets WHERE connector_id = ?1 AND last_seen < ?2)",
        params![connector_id, before],
    )?;
    let assets = conn.execute(
        "UPDATE assets SET active = 0 WHERE connector_id = ?1 AND active = 1 AND last_seen < ?2",
        params![connector_id, before],
    )?;
    Ok((assets as u64, findings as u64))
}

/// One row per fingerprint, most severe first; with a connector or a filter, only the
/// groups with a finding they select (each still counting and listing all its findings
/// and sources).
pub fn dedupe(conn: &Connection, q: &ListQuery) -> Result<Vec<FingerprintGroup>> {
    let selected = super::listing::selected(q)?;
    let sql = format!(
        "SELECT g.fingerprint, g.n, g.sev, g.open, g.sources, g.ids, g.first_seen, g.last_seen,
             f2.name, a2.name, f2.location, f2.element, f2.cwe
         FROM (SELECT f.fingerprint AS fingerprint, COUNT(*) AS n, MAX(f.severity) AS sev,
                   SUM(CASE WHEN f.status IN ('NEW', 'ACTIVE', 'REOPENED') THEN 1 ELSE 0 END) AS open,
                   json_group_array(DISTINCT c.name) AS sources, GROUP_CONCAT(f.id) AS ids,
                   MIN(f.first_seen) AS first_seen, MAX(f.last_seen) AS last_seen, MIN(f.id) AS first_id
               FROM {FINDING_FROM}
               GROUP BY f.fingerprint
               HAVING SUM(CASE WHEN {} THEN 1 ELSE 0 END) > 0) g
         JOIN findings f2 ON f2.id = g.first_id
         LEFT JOIN assets a2 ON a2.connector_id = f2.connector_id AND a2.external_id = f2.asset_external_id
         ORDER BY g.sev DESC, g.first_id{}",
        selected.sql,
        super::listing::page(q)
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st
        .query_map(
            params_from_iter(super::listing::bind(&selected.params)),
            |r| {
                let sev: i64 = r.get(2)?;
                let sources: String = r.get(4)?;
                let ids: String = r.get(5)?;
                let name: String = r.get(8)?;
                let asset: Option<String> = r.get(9)?;
                let location: Option<String> = r.get(10)?;
                let element: Option<String> = r.get(11)?;
                let cwe: Option<u32> = r.get(12)?;
                // A JSON array, not comma-joined text: a connector's name may hold a comma
                // ('x,y' came back as the two sources 'x' and 'y').
                let mut sources: Vec<String> = serde_json::from_str(&sources).map_err(|e| {
                    to_sql_err(StoreError::Corrupt {
                        column: "connectors.name".into(),
                        message: e.to_string(),
                    })
                })?;
                sources.sort();
                sources.dedup();
                let mut finding_ids: Vec<i64> =
                    ids.split(',').filter_map(|i| i.parse().ok()).collect();
                finding_ids.sort_unstable();
                Ok(FingerprintGroup {
                    fingerprint: r.get(0)?,
                    findings: r.get::<_, i64>(1)?.max(0) as u64,
                    severity: Severity::from_score(sev).ok_or_else(|| {
                        to_sql_err(StoreError::Corrupt {
                            column: "findings.severity".into(),
                            message: sev.to_string(),
                        })
                    })?,
                    open: r.get::<_, i64>(3)?.max(0) as u64,
                    sources,
                    finding_ids,
                    name,
                    asset,
                    location,
                    element,
                    cwe,
                    first_seen: parse("findings.first_seen", &r.get::<_, String>(6)?)
                        .map_err(to_sql_err)?,
                    last_seen: parse("findings.last_seen", &r.get::<_, String>(7)?)
                        .map_err(to_sql_err)?,
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
