//! Filtered, sorted listings of findings and assets, and the streaming read exports use.
//!
//! The filter ([`query::Filter`]) compiles to a SQLite condition with bound parameters
//! numbered after the connector parameter `?1`; sort keys come from the same registry.
//! Nothing a user typed reaches the SQL text.

use super::data::{ASSET_COLUMNS, FINDING_COLUMNS, FINDING_FROM, asset_from_row, finding_from_row};
use super::time::ts;
use crate::Result;
use crate::types::*;
use query::{Cursor, Dialect, Entity, Param};
use rusqlite::types::{ToSql, Value};
use rusqlite::{Connection, OptionalExtension, params_from_iter};

/// The WHERE, ORDER BY and LIMIT of a listing, with its parameters (`?1` is the connector).
pub(super) struct Clause {
    pub(super) sql: String,
    pub(super) params: Vec<Value>,
}

/// A findings listing's connector and filter as one condition over [`FINDING_FROM`]'s
/// rows, with its parameters (`?1` is the connector): which findings `--dedupe` picks
/// its groups by.
pub(super) fn selected(q: &ListQuery) -> Result<Clause> {
    q.check(Entity::Findings)?;
    let mut sql = String::from("(?1 IS NULL OR c.name = ?1)");
    let mut params = vec![q.connector.clone().map_or(Value::Null, Value::Text)];
    if let Some(f) = &q.filter {
        let compiled = f.compile(Dialect::Sqlite, 2);
        sql.push_str(&format!(" AND ({})", compiled.sql));
        params.extend(compiled.params.into_iter().map(value));
    }
    Ok(Clause { sql, params })
}

fn clause(q: &ListQuery, entity: Entity, default_order: &str, tiebreak: &str) -> Result<Clause> {
    q.check(entity)?;
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
        let compiled = f.compile(Dialect::Sqlite, 2);
        sql.push_str(" AND ");
        sql.push_str(&compiled.sql);
        params.extend(compiled.params.into_iter().map(value));
    }
    if let Some(cursor) = &q.after {
        let after = cursor.after(&q.finding_keys(), "f.id", Dialect::Sqlite, params.len() + 1)?;
        sql.push_str(" AND ");
        sql.push_str(&after.sql);
        params.extend(after.params.into_iter().map(value));
    }
    sql.push_str(" ORDER BY ");
    if q.sort.is_empty() {
        sql.push_str(default_order);
    } else {
        for s in &q.sort {
            sql.push_str(&s.sql(Dialect::Sqlite));
            sql.push_str(", ");
        }
        sql.push_str(tiebreak);
    }
    sql.push_str(&page(q));
    Ok(Clause { sql, params })
}

/// The query's ` LIMIT … OFFSET …` (no limit is `-1`; both clamped to SQLite's integers).
pub(super) fn page(q: &ListQuery) -> String {
    format!(
        " LIMIT {} OFFSET {}",
        q.limit.map(|l| l.min(i64::MAX as u64) as i64).unwrap_or(-1),
        q.offset.unwrap_or(0).min(i64::MAX as u64)
    )
}

fn value(p: Param) -> Value {
    match p {
        Param::Text(t) => Value::Text(t),
        Param::Int(n) => Value::Integer(n),
        Param::Float(x) => Value::Real(x),
        Param::Time(t) => Value::Text(ts(t)),
    }
}

/// A cursor's copy of a sort key's value as SQLite stored it (times are text).
fn param(v: Value) -> Option<Param> {
    match v {
        Value::Integer(n) => Some(Param::Int(n)),
        Value::Real(x) => Some(Param::Float(x)),
        Value::Text(t) => Some(Param::Text(t)),
        Value::Null | Value::Blob(_) => None,
    }
}

pub(super) fn bind(params: &[Value]) -> impl Iterator<Item = &dyn ToSql> {
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

pub fn asset_locators(conn: &Connection, connector: &str) -> Result<Vec<(String, String)>> {
    let mut st = conn.prepare_cached(
        "SELECT a.external_id, COALESCE(a.url, a.name, '') FROM assets a
         JOIN connectors c ON c.id = a.connector_id WHERE c.name = ?1",
    )?;
    let rows = st
        .query_map([connector], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
    Ok(rows)
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
    let c = finding_select(q, false)?;
    let mut st = conn.prepare(&c.sql)?;
    let mut rows = st.query(params_from_iter(bind(&c.params)))?;
    while let Some(row) = rows.next()? {
        f(finding_from_row(row)?)?;
    }
    Ok(())
}

/// The statement of a findings listing: the row's columns and, `with_keys`, its sort
/// keys' values after them (the next page's cursor is made of the last row's).
fn finding_select(q: &ListQuery, with_keys: bool) -> Result<Clause> {
    let c = clause(
        q,
        Entity::Findings,
        &q.finding_order(Dialect::Sqlite),
        "f.id",
    )?;
    let keys = if with_keys {
        q.finding_keys()
    } else {
        Vec::new()
    };
    let key_columns: String = keys
        .iter()
        .map(|k| format!(", {}", query::cursor::key_select(k.field, Dialect::Sqlite)))
        .collect();
    Ok(Clause {
        sql: format!(
            "SELECT {FINDING_COLUMNS}{key_columns} FROM {FINDING_FROM}{}",
            c.sql
        ),
        params: c.params,
    })
}

/// One page of findings, with the cursor of the next when it is full: the sort keys'
/// values are selected after the row's columns, and the last row's make the cursor.
pub fn finding_page(conn: &Connection, q: &ListQuery) -> Result<FindingPage> {
    let resolved = by_reference(conn, q)?;
    let q = resolved.as_ref().unwrap_or(q);
    let keys = q.finding_keys();
    let c = finding_select(q, true)?;
    let mut st = conn.prepare(&c.sql)?;
    let first_key = st.column_count() - keys.len();
    let mut rows = st.query(params_from_iter(bind(&c.params)))?;
    let (mut items, mut last) = (Vec::new(), Vec::new());
    while let Some(row) = rows.next()? {
        items.push(finding_from_row(row)?);
        last = (first_key..first_key + keys.len())
            .map(|i| row.get::<_, Value>(i).map(param))
            .collect::<rusqlite::Result<_>>()?;
    }
    let next = match (q.limit, items.last()) {
        (Some(limit), Some(f)) if items.len() as u64 >= limit => {
            Some(Cursor::new(&keys, last, f.id))
        }
        _ => None,
    };
    Ok(FindingPage { items, next })
}

/// `q` with its cursor by reference ([`Cursor::by_reference`]) given the sort-key values
/// of the row it names, read back from the store; `None` when it has no such cursor.
fn by_reference(conn: &Connection, q: &ListQuery) -> Result<Option<ListQuery>> {
    let Some(cursor) = q.after.as_ref().filter(|c| c.by_reference) else {
        return Ok(None);
    };
    let keys = q.finding_keys();
    let columns: Vec<String> = keys
        .iter()
        .map(|k| query::cursor::key_select(k.field, Dialect::Sqlite))
        .collect();
    let sql = format!(
        "SELECT {} FROM {FINDING_FROM} WHERE f.id = ?1",
        columns.join(", ")
    );
    let values = conn
        .query_row(&sql, [cursor.id], |row| {
            (0..keys.len())
                .map(|i| row.get::<_, Value>(i).map(param))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .optional()?;
    Ok(Some(ListQuery {
        after: Some(cursor.with_values(values)?),
        ..q.clone()
    }))
}

/// How many findings match (limit and offset ignored).
pub fn count_findings(conn: &Connection, q: &ListQuery) -> Result<u64> {
    let unpaged = ListQuery {
        limit: None,
        offset: None,
        sort: Vec::new(),
        after: None,
        ..q.clone()
    };
    let c = clause(&unpaged, Entity::Findings, "f.id", "f.id")?;
    let sql = format!("SELECT COUNT(*) FROM {FINDING_FROM}{}", c.sql);
    let n: i64 = conn.query_row(&sql, params_from_iter(bind(&c.params)), |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// The query plan SQLite picks for a page of a findings listing (benchmarks, tests).
pub fn explain_findings(conn: &Connection, q: &ListQuery) -> Result<Vec<String>> {
    let c = finding_select(q, true)?;
    let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", c.sql))?;
    let rows = st
        .query_map(params_from_iter(bind(&c.params)), |r| r.get::<_, String>(3))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
