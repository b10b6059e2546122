//! SQLite side of a dry run's preview: stored findings read as the writers read them.

use crate::compare::{StoredRow, StoredState};
use crate::{FindingRecord, Result};
use rusqlite::{Connection, OptionalExtension, params};

/// See [`crate::Store::compare_findings`].
pub fn findings(
    conn: &Connection,
    connector_id: i64,
    records: &[FindingRecord],
) -> Result<Vec<Option<StoredState>>> {
    let mut st = conn.prepare_cached(
        "SELECT id, asset_external_id, content_hash, active, status FROM findings
         WHERE connector_id = ?1 AND external_id = ?2",
    )?;
    let mut out = Vec::with_capacity(records.len());
    for rec in records {
        let state = st
            .query_row(params![connector_id, rec.finding.external_id], |r| {
                let hash: String = r.get(2)?;
                let status: String = r.get(4)?;
                let row = StoredRow {
                    id: r.get(0)?,
                    asset_external_id: r.get(1)?,
                    content_hash: &hash,
                    active: r.get::<_, i64>(3)? == 1,
                    status: &status,
                };
                Ok(row.state(rec))
            })
            .optional()?;
        out.push(state);
    }
    Ok(out)
}

/// See [`crate::Store::open_findings`].
pub fn open_findings(conn: &Connection, connector_id: i64, assets: &[String]) -> Result<u64> {
    let mut st = conn.prepare_cached(
        "SELECT COUNT(*) FROM findings
         WHERE connector_id = ?1 AND asset_external_id = ?2 AND status <> 'CLOSED'",
    )?;
    let mut open = 0u64;
    for asset in assets {
        let n: i64 = st.query_row(params![connector_id, asset], |r| r.get(0))?;
        open += n.max(0) as u64;
    }
    Ok(open)
}
