//! The counts of the dashboard's overview, `/metrics` and the demo: assets, findings, and
//! findings by severity and by status, for the whole store or one connector.
//!
//! Every count is read from an index that holds its column, never from the table: at 1M
//! findings the whole store's counts take ~0.1 s and one connector's ~0.3 s (severity
//! from `findings_by_connector_severity`, status from `findings_by_asset`), where joining
//! every finding to its connector, even to filter on nothing, took ~2 s (long enough to
//! fail a readiness probe) and one pass over a connector's rows ~1 s.

use crate::Result;
use crate::types::Summary;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

/// The queries of the whole store's summary: (what they count, SQL).
const STORE: [(Part, &str); 4] = [
    (Part::Assets, "SELECT COUNT(*) FROM assets"),
    (Part::Findings, "SELECT COUNT(*) FROM findings"),
    (
        Part::BySeverity,
        "SELECT severity, COUNT(*) FROM findings GROUP BY severity",
    ),
    (
        Part::ByStatus,
        "SELECT status, COUNT(*) FROM findings GROUP BY status",
    ),
];

/// The queries of one connector's summary (`?1` its id).
const CONNECTOR: [(Part, &str); 4] = [
    (
        Part::Assets,
        "SELECT COUNT(*) FROM assets WHERE connector_id = ?1",
    ),
    (
        Part::Findings,
        "SELECT COUNT(*) FROM findings WHERE connector_id = ?1",
    ),
    (
        Part::BySeverity,
        "SELECT severity, COUNT(*) FROM findings WHERE connector_id = ?1 GROUP BY severity",
    ),
    (
        Part::ByStatus,
        "SELECT status, COUNT(*) FROM findings WHERE connector_id = ?1 GROUP BY status",
    ),
];

/// What a query's rows count.
#[derive(Clone, Copy)]
enum Part {
    Assets,
    Findings,
    BySeverity,
    ByStatus,
}

/// The summary of the whole store, or of the connector named `connector` (all zeros
/// when there is none of that name).
pub fn summary(conn: &Connection, connector: Option<&str>) -> Result<Summary> {
    let mut out = Summary::default();
    let Some(scope) = scope(conn, connector)? else {
        return Ok(out);
    };
    for (part, sql) in scope.queries {
        let mut st = conn.prepare_cached(sql)?;
        let mut rows = st.query(params_from_iter(scope.id))?;
        while let Some(r) = rows.next()? {
            let n = |i: usize| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
            match part {
                Part::Assets => out.assets = n(0)?,
                Part::Findings => out.findings = n(0)?,
                Part::BySeverity => out.add_severity(r.get(0)?, n(1)?),
                Part::ByStatus => out.add_status(&r.get::<_, String>(0)?, n(1)?),
            }
        }
    }
    Ok(out.sorted())
}

/// SQLite's plan for each query of the summary, one line per step (tests).
pub fn explain(conn: &Connection, connector: Option<&str>) -> Result<Vec<String>> {
    let mut steps = Vec::new();
    let Some(scope) = scope(conn, connector)? else {
        return Ok(steps);
    };
    for (_, sql) in scope.queries {
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let mut rows = st.query(params_from_iter(scope.id))?;
        while let Some(r) = rows.next()? {
            steps.push(r.get::<_, String>(3)?);
        }
    }
    Ok(steps)
}

/// What a summary counts: its queries and the connector id they take (none for the whole
/// store).
struct Scope {
    queries: &'static [(Part, &'static str)],
    id: Option<i64>,
}

/// The scope of `connector`'s summary; `None` for a name no connector has.
fn scope(conn: &Connection, connector: Option<&str>) -> Result<Option<Scope>> {
    let Some(name) = connector else {
        return Ok(Some(Scope {
            queries: &STORE,
            id: None,
        }));
    };
    let id: Option<i64> = conn
        .query_row("SELECT id FROM connectors WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(id.map(|id| Scope {
        queries: &CONNECTOR,
        id: Some(id),
    }))
}
