//! Open findings over time, from the status history: the dashboard's chart.
//!
//! Every history row moves one finding into or out of an open status (NEW, ACTIVE,
//! REOPENED); summing those moves per run, in run order, gives the number of open
//! findings after each run.

use super::time::{parse, to_sql_err};
use crate::Result;
use crate::types::OpenPoint;
use rusqlite::Connection;

const OPEN: &str = "('NEW', 'ACTIVE', 'REOPENED')";

pub fn open_series(conn: &Connection, connector: Option<&str>) -> Result<Vec<OpenPoint>> {
    let sql = format!(
        "SELECT MAX(h.at),
                SUM(CASE WHEN h.new_status IN {OPEN} THEN 1 ELSE 0 END)
              - SUM(CASE WHEN h.old_status IN {OPEN} THEN 1 ELSE 0 END)
         FROM finding_history h
         JOIN findings f ON f.id = h.finding_id
         JOIN connectors c ON c.id = f.connector_id
         WHERE (?1 IS NULL OR c.name = ?1)
         GROUP BY COALESCE(h.run_id, h.at)
         ORDER BY MIN(h.id)"
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st
        .query_map([connector], |r| {
            let at = parse("finding_history.at", &r.get::<_, String>(0)?).map_err(to_sql_err)?;
            Ok((at, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut open: i64 = 0;
    Ok(rows
        .into_iter()
        .map(|(at, delta)| {
            open += delta;
            OpenPoint {
                at,
                open: open.max(0) as u64,
            }
        })
        .collect())
}
