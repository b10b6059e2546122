//! Open findings over time, from the status history: the dashboard's chart.
//!
//! Every history row moves one finding into or out of an open status (NEW, ACTIVE,
//! REOPENED); summing those moves per run, in run order, gives the number of open
//! findings after each run.

use super::time::{parse, to_sql_err};
use crate::Result;
use crate::types::OpenPoint;
use rusqlite::{Connection, params_from_iter};

const OPEN: &str = "('NEW', 'ACTIVE', 'REOPENED')";

pub fn open_series(conn: &Connection, connector: Option<&str>) -> Result<Vec<OpenPoint>> {
    let sql = format!(
        "SELECT MAX(h.at),
                SUM(CASE WHEN h.new_status IN {OPEN} THEN 1 ELSE 0 END)
              - SUM(CASE WHEN h.old_status IN {OPEN} THEN 1 ELSE 0 END)
         FROM {}
         GROUP BY COALESCE(h.run_id, h.at)
         ORDER BY MIN(h.id)",
        history_of(connector)
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st
        .query_map(params_from_iter(connector), |r| {
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

/// The history rows to sum: all of them, or those of connector `?1`'s findings. Both read
/// the history alone, in its order: a row names the run that wrote it, and a run belongs
/// to the connector whose findings it wrote, so a row's connector is its run's (its
/// finding's when it names none, or a run no longer kept). Joining every row to its
/// finding instead took 0.85 s against 0.51 s at 1M rows; left to choose, SQLite started
/// from the connector and read the history finding by finding, four times slower.
fn history_of(connector: Option<&str>) -> &'static str {
    match connector {
        None => "finding_history h",
        Some(_) => {
            "finding_history h LEFT JOIN runs r ON r.id = h.run_id
             WHERE COALESCE(r.connector_id,
                       (SELECT f.connector_id FROM findings f WHERE f.id = h.finding_id))
                 = (SELECT id FROM connectors WHERE name = ?1)"
        }
    }
}
