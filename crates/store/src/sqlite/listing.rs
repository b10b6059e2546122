//! Filtered, sorted listings of findings and assets, and the streaming read exports use.
//!
//! The filter ([`query::Filter`]) compiles to a SQLite condition with bound parameters
//! numbered after the connector parameter `?1`; sort keys come from the same registry.
//! Nothing a user typed reaches the SQL text.

use super::data::{ASSET_COLUMNS, FINDING_COLUMNS, FINDING_FROM, asset_from_row, finding_from_row};
use super::time::ts;
use crate::types::*;
use crate::{Result, StoreError};
use query::{Dialect, Entity, Param};
use rusqlite::types::{ToSql, Value};
use rusqlite::{Connection, params_from_iter};

/// The WHERE, ORDER BY and LIMIT of a listing, with its parameters (`?1` is the connector).
struct Clause {
    sql: String,
    params: Vec<Value>,
}

fn clause(q: &ListQuery, entity: Entity, default_order: &str, tiebreak: &str) -> Result<Clause> {
    // With a connector named, its id is given to the table's own column too: the planner
    // then reads the connector's rows through an index that starts with it (and in its
    // order), instead of every row filtered by the joined name.
    let table = match entity {
        Entity::Findings => "f",
        Entity::Assets => "a",
    };
    let mut sql = match &q.connector {
        None => String::from(" WHERE ?1 IS NULL"),
        Some(_) => format!(
            " WHERE c.name = ?1 AND {table}.connector_id = (SELECT id FROM connectors WHERE name = ?1)"
        ),
    };
    let mut params = vec![match &q.connector {
        Some(c) => Value::Text(c.clone()),
        None => Value::Null,
    }];
    if let Some(f) = &q.filter {
        if f.entity != entity {
            return Err(StoreError::FilterEntity {
                expected: entity.as_str(),
                found: f.entity.as_str(),
            });
        }
        let compiled = f.compile(Dialect::Sqlite, 2);
        sql.push_str(" AND ");
        sql.push_str(&compiled.sql);
        params.extend(compiled.params.into_iter().map(|p| match p {
            Param::Text(t) => Value::Text(t),
            Param::Int(n) => Value::Integer(n),
            Param::Float(x) => Value::Real(x),
            Param::Time(t) => Value::Text(ts(t)),
        }));
    }
    sql.push_str(" ORDER BY ");
    if q.sort.is_empty() {
        sql.push_str(default_order);
    } else {
        for s in &q.sort {
            if !entity.fields().iter().any(|f| std::ptr::eq(f, s.field)) {
                return Err(StoreError::FilterEntity {
                    expected: entity.as_str(),
                    found: "another entity (a sort key)",
                });
            }
            sql.push_str(&s.sql(Dialect::Sqlite));
            sql.push_str(", ");
        }
        sql.push_str(tiebreak);
    }
    sql.push_str(&format!(
        " LIMIT {} OFFSET {}",
        q.limit.map(|l| l.min(i64::MAX as u64) as i64).unwrap_or(-1),
        q.offset.unwrap_or(0).min(i64::MAX as u64)
    ));
    Ok(Clause { sql, params })
}

fn bind(params: &[Value]) -> impl Iterator<Item = &dyn ToSql> {
    params.iter().map(|v| v as &dyn ToSql)
}

const ASSET_FROM: &str = "assets a JOIN connectors c ON c.id = a.connector_id";

pub fn assets(conn: &Connection, q: &ListQuery) -> Result<Vec<StoredAsset>> {
    let c = clause(q, Entity::Assets, "c.name, a.name, a.external_id", "a.id")?;
    let sql = format!("SELECT {ASSET_COLUMNS} FROM {ASSET_FROM}{}", c.sql);
    let mut st = conn.prepare(&sql)?;
    let rows = st
        .query_map(params_from_iter(bind(&c.params)), asset_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn asset_ids(conn: &Connection, connector: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(
        "SELECT a.external_id FROM assets a JOIN connectors c ON c.id = a.connector_id
         WHERE c.name = ?1 ORDER BY a.external_id",
    )?;
    let ids = st
        .query_map([connector], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(ids)
}

pub fn findings(conn: &Connection, q: &ListQuery) -> Result<Vec<StoredFinding>> {
    let mut out = Vec::new();
    for_each_finding(conn, q, &mut |f| {
        out.push(f);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `f` with each matching finding in order, one row in memory at a time.
pub fn for_each_finding(
    conn: &Connection,
    q: &ListQuery,
    f: &mut dyn FnMut(StoredFinding) -> Result<()>,
) -> Result<()> {
    let c = clause(q, Entity::Findings, "f.severity DESC, f.id", "f.id")?;
    let sql = format!("SELECT {FINDING_COLUMNS} FROM {FINDING_FROM}{}", c.sql);
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(bind(&c.params)))?;
    while let Some(row) = rows.next()? {
        f(finding_from_row(row)?)?;
    }
    Ok(())
}

/// How many findings match (limit and offset ignored).
pub fn count_findings(conn: &Connection, q: &ListQuery) -> Result<u64> {
    let unpaged = ListQuery {
        limit: None,
        offset: None,
        sort: Vec::new(),
        ..q.clone()
    };
    let c = clause(&unpaged, Entity::Findings, "f.id", "f.id")?;
    let sql = format!("SELECT COUNT(*) FROM {FINDING_FROM}{}", c.sql);
    let n: i64 = conn.query_row(&sql, params_from_iter(bind(&c.params)), |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// The query plan SQLite picks for a findings listing (for benchmarks and tests).
pub fn explain_findings(conn: &Connection, q: &ListQuery) -> Result<Vec<String>> {
    let c = clause(q, Entity::Findings, "f.severity DESC, f.id", "f.id")?;
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT {FINDING_COLUMNS} FROM {FINDING_FROM}{}",
        c.sql
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st
        .query_map(params_from_iter(bind(&c.params)), |r| r.get::<_, String>(3))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
