//! Open findings over time, from the status history: the dashboard's chart, for both
//! backends.
//!
//! Every history row moves one finding into or out of an open status (NEW, ACTIVE,
//! REOPENED); summing those moves per run, in run order, gives the number of open findings
//! after each run ([`points`]). With a connector chosen, a row's connector is its run's —
//! a run belongs to the connector whose findings it wrote — and its finding's when it
//! names no run, or a run no longer kept; so the history is read alone, in its order,
//! where joining every row to its finding read the whole findings table (at 1M rows
//! SQLite 0.85 → 0.45 s, PostgreSQL 2.0 → 0.54 s; left to choose, SQLite also started
//! from the connector and read the history finding by finding, four times slower).

use crate::types::OpenPoint;
use chrono::{DateTime, Utc};

const OPEN: &str = "('NEW', 'ACTIVE', 'REOPENED')";

/// The query of the chart: one row per run (time, opened minus closed), in run order.
/// `param` is the backend's placeholder for the connector's name (bound only when there
/// is one); `group` groups the rows of a run, and those that name none by their time.
pub fn sql(connector: Option<&str>, param: &str, group: &str) -> String {
    let rows = match connector {
        None => "finding_history h".to_string(),
        Some(_) => format!(
            "finding_history h LEFT JOIN runs r ON r.id = h.run_id
             WHERE COALESCE(r.connector_id,
                       (SELECT f.connector_id FROM findings f WHERE f.id = h.finding_id))
                 = (SELECT id FROM connectors WHERE name = {param})"
        ),
    };
    format!(
        "SELECT MAX(h.at),
                SUM(CASE WHEN h.new_status IN {OPEN} THEN 1 ELSE 0 END)
              - SUM(CASE WHEN h.old_status IN {OPEN} THEN 1 ELSE 0 END)
         FROM {rows}
         GROUP BY {group}
         ORDER BY MIN(h.id)"
    )
}

/// The chart's points from each run's time and change in open findings.
pub fn points(changes: impl IntoIterator<Item = (DateTime<Utc>, i64)>) -> Vec<OpenPoint> {
    let mut open: i64 = 0;
    changes
        .into_iter()
        .map(|(at, change)| {
            open += change;
            OpenPoint {
                at,
                open: open.max(0) as u64,
            }
        })
        .collect()
}
