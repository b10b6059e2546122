//! Open findings over time on SQLite (see [`crate::trend`]).

use super::time::{parse, to_sql_err};
use crate::Result;
use crate::trend;
use crate::types::OpenPoint;
use rusqlite::{Connection, params_from_iter};

pub fn open_series(conn: &Connection, connector: Option<&str>) -> Result<Vec<OpenPoint>> {
    let sql = trend::sql(connector, "?1", "COALESCE(h.run_id, h.at)");
    let mut st = conn.prepare(&sql)?;
    let rows = st
        .query_map(params_from_iter(connector), |r| {
            let at = parse("finding_history.at", &r.get::<_, String>(0)?).map_err(to_sql_err)?;
            Ok((at, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(trend::points(rows))
}
