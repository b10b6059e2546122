//! Open findings over time, from the status history: the dashboard's chart (the same
//! sums as the SQLite backend's `trend`).

use crate::Result;
use crate::types::OpenPoint;
use postgres::GenericClient;
use postgres::types::ToSql;

const OPEN: &str = "('NEW', 'ACTIVE', 'REOPENED')";

pub fn open_series(c: &mut impl GenericClient, connector: Option<&str>) -> Result<Vec<OpenPoint>> {
    let sql = format!(
        "SELECT MAX(h.at),
                SUM(CASE WHEN h.new_status IN {OPEN} THEN 1 ELSE 0 END)
              - SUM(CASE WHEN h.old_status IN {OPEN} THEN 1 ELSE 0 END)
         FROM {}
         GROUP BY h.run_id, CASE WHEN h.run_id IS NULL THEN h.at END
         ORDER BY MIN(h.id)",
        history_of(connector)
    );
    let params: Vec<&(dyn ToSql + Sync)> = match &connector {
        Some(name) => vec![name],
        None => vec![],
    };
    let rows = c.query(&sql, &params)?;
    let mut open: i64 = 0;
    rows.iter()
        .map(|r| {
            open += r.try_get::<_, i64>(1)?;
            Ok(OpenPoint {
                at: r.try_get(0)?,
                open: open.max(0) as u64,
            })
        })
        .collect()
}

/// The history rows to sum: all of them, read from the history alone, or those of the
/// findings of connector `$1` (as SQLite's `trend`).
fn history_of(connector: Option<&str>) -> &'static str {
    match connector {
        None => "finding_history h",
        Some(_) => {
            "finding_history h JOIN findings f ON f.id = h.finding_id
             JOIN connectors c ON c.id = f.connector_id WHERE c.name = $1"
        }
    }
}
