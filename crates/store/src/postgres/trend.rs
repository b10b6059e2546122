//! Open findings over time, from the status history: the dashboard's chart (the same
//! sums as the SQLite backend's `trend`).

use crate::Result;
use crate::types::OpenPoint;
use postgres::GenericClient;

const OPEN: &str = "('NEW', 'ACTIVE', 'REOPENED')";

pub fn open_series(c: &mut impl GenericClient, connector: Option<&str>) -> Result<Vec<OpenPoint>> {
    let rows = c.query(
        &format!(
            "SELECT MAX(h.at),
                    SUM(CASE WHEN h.new_status IN {OPEN} THEN 1 ELSE 0 END)
                  - SUM(CASE WHEN h.old_status IN {OPEN} THEN 1 ELSE 0 END)
             FROM finding_history h
             JOIN findings f ON f.id = h.finding_id
             JOIN connectors c ON c.id = f.connector_id
             WHERE ($1::text IS NULL OR c.name = $1)
             GROUP BY h.run_id, CASE WHEN h.run_id IS NULL THEN h.at END
             ORDER BY MIN(h.id)"
        ),
        &[&connector],
    )?;
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
