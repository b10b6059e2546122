//! Open findings over time on PostgreSQL (see [`crate::trend`]; the same sums as SQLite's).

use crate::Result;
use crate::trend;
use crate::types::OpenPoint;
use postgres::GenericClient;
use postgres::types::ToSql;

pub fn open_series(c: &mut impl GenericClient, connector: Option<&str>) -> Result<Vec<OpenPoint>> {
    let sql = trend::sql(
        connector,
        "$1",
        "h.run_id, CASE WHEN h.run_id IS NULL THEN h.at END",
    );
    let params: Vec<&(dyn ToSql + Sync)> = match &connector {
        Some(name) => vec![name],
        None => vec![],
    };
    let rows = c
        .query(&sql, &params)?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(trend::points(rows))
}
