//! PostgreSQL side of a dry run's preview: stored findings read as the writers read
//! them, a batch's ids in one query.

use crate::compare::{StoredRow, StoredState};
use crate::{FindingRecord, Result};
use postgres::GenericClient;
use std::collections::HashMap;

/// See [`crate::Store::compare_findings`].
pub fn findings(
    c: &mut impl GenericClient,
    connector_id: i64,
    records: &[FindingRecord],
) -> Result<Vec<Option<StoredState>>> {
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r.finding.external_id.as_str())
        .collect();
    let rows = c.query(
        "SELECT external_id, id, asset_external_id, content_hash, active, status FROM findings
         WHERE connector_id = $1 AND external_id = ANY($2)",
        &[&connector_id, &ids],
    )?;
    let mut stored: HashMap<String, postgres::Row> = HashMap::with_capacity(rows.len());
    for row in rows {
        stored.insert(row.try_get(0)?, row);
    }
    records
        .iter()
        .map(|rec| {
            let Some(row) = stored.get(&rec.finding.external_id) else {
                return Ok(None);
            };
            let stored = StoredRow {
                id: row.try_get(1)?,
                asset_external_id: row.try_get(2)?,
                content_hash: row.try_get(3)?,
                active: row.try_get(4)?,
                status: row.try_get(5)?,
            };
            Ok(Some(stored.state(rec)))
        })
        .collect()
}

/// See [`crate::Store::open_findings`].
pub fn open_findings(
    c: &mut impl GenericClient,
    connector_id: i64,
    assets: &[String],
) -> Result<u64> {
    let row = c.query_one(
        "SELECT COUNT(*) FROM findings
         WHERE connector_id = $1 AND asset_external_id = ANY($2) AND status <> 'CLOSED'",
        &[&connector_id, &assets],
    )?;
    Ok(row.try_get::<_, i64>(0)?.max(0) as u64)
}
