//! Filtered, sorted listings of findings and assets, and the streaming read exports use.
//!
//! The filter ([`query::Filter`]) compiles to a PostgreSQL condition with typed bound
//! parameters numbered after the connector parameter `$1`; sort keys come from the same
//! registry. Nothing a user typed reaches the SQL text. Default orders sort text
//! bytewise with NULLs first, as the SQLite backend does.

use super::read::{ASSET_COLUMNS, FINDING_COLUMNS, FINDING_FROM, asset_from_row, finding_from_row};
use crate::types::*;
use crate::{Result, StoreError};
use postgres::GenericClient;
use postgres::types::ToSql;
use query::cursor::KeyKind;
use query::{Cursor, CursorError, Dialect, Entity, Param};

/// How many rows one fetch of a streamed listing reads.
pub const FETCH: i32 = 500;

/// The WHERE, ORDER BY and LIMIT of a listing, with its parameters (`$1` is the connector).
pub struct Clause {
    pub sql: String,
    pub params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Clause {
    pub fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

fn clause(
    q: &ListQuery,
    entity: Entity,
    default_order: &str,
    tiebreak: &str,
    paged: bool,
) -> Result<Clause> {
    let mut sql = String::from(" WHERE ($1::text IS NULL OR c.name = $1)");
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(q.connector.clone())];
    if let Some(f) = &q.filter {
        if f.entity != entity {
            return Err(StoreError::FilterEntity {
                expected: entity.as_str(),
                found: f.entity.as_str(),
            });
        }
        let compiled = f.compile(Dialect::Postgres, 2);
        sql.push_str(" AND ");
        sql.push_str(&compiled.sql);
        params.extend(compiled.params.into_iter().map(boxed));
    }
    if let Some(cursor) = &q.after {
        if entity != Entity::Findings {
            return Err(CursorError::NotFindings.into());
        }
        let after = cursor.after(
            &q.finding_keys(),
            "f.id",
            Dialect::Postgres,
            params.len() + 1,
        )?;
        sql.push_str(" AND ");
        sql.push_str(&after.sql);
        params.extend(after.params.into_iter().map(boxed));
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
            sql.push_str(&s.sql(Dialect::Postgres));
            sql.push_str(", ");
        }
        sql.push_str(tiebreak);
    }
    if paged {
        let n = params.len();
        sql.push_str(&format!(" LIMIT ${} OFFSET ${}", n + 1, n + 2));
        params.push(Box::new(
            q.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX)),
        ));
        params.push(Box::new(
            q.offset
                .map(|o| i64::try_from(o).unwrap_or(i64::MAX))
                .unwrap_or(0),
        ));
    }
    Ok(Clause { sql, params })
}

fn boxed(p: Param) -> Box<dyn ToSql + Sync + Send> {
    match p {
        Param::Text(t) => Box::new(t),
        Param::Int(n) => Box::new(n),
        Param::Float(x) => Box::new(x),
        Param::Time(t) => Box::new(t),
    }
}

/// The clause of a findings listing: its sort keys, or the default ones, then the id.
fn finding_clause(q: &ListQuery, paged: bool) -> Result<Clause> {
    clause(
        q,
        Entity::Findings,
        &q.finding_order(Dialect::Postgres),
        "f.id",
        paged,
    )
}

/// A sort key's value, selected as [`query::cursor::key_select`] casts it.
fn key_value(row: &postgres::Row, i: usize, kind: KeyKind) -> Result<Option<Param>> {
    Ok(match kind {
        KeyKind::Text => row.try_get::<_, Option<String>>(i)?.map(Param::Text),
        KeyKind::Int => row.try_get::<_, Option<i64>>(i)?.map(Param::Int),
        KeyKind::Float => row.try_get::<_, Option<f64>>(i)?.map(Param::Float),
        KeyKind::Time => row
            .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)?
            .map(Param::Time),
    })
}

const ASSET_FROM: &str = "assets a JOIN connectors c ON c.id = a.connector_id";
const ASSET_ORDER: &str =
    "c.name COLLATE \"C\", a.name COLLATE \"C\" NULLS FIRST, a.external_id COLLATE \"C\"";

pub fn assets(c: &mut impl GenericClient, q: &ListQuery) -> Result<Vec<StoredAsset>> {
    let cl = clause(q, Entity::Assets, ASSET_ORDER, "a.id", true)?;
    c.query(
        &format!("SELECT {ASSET_COLUMNS} FROM {ASSET_FROM}{}", cl.sql),
        &cl.refs(),
    )?
    .iter()
    .map(asset_from_row)
    .collect()
}

pub fn asset_ids(c: &mut impl GenericClient, connector: &str) -> Result<Vec<String>> {
    c.query(
        "SELECT a.external_id FROM assets a JOIN connectors c ON c.id = a.connector_id
         WHERE c.name = $1 ORDER BY a.external_id",
        &[&connector],
    )?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

pub fn findings(c: &mut impl GenericClient, q: &ListQuery) -> Result<Vec<StoredFinding>> {
    let cl = finding_clause(q, true)?;
    c.query(
        &format!("SELECT {FINDING_COLUMNS} FROM {FINDING_FROM}{}", cl.sql),
        &cl.refs(),
    )?
    .iter()
    .map(finding_from_row)
    .collect()
}

/// One page of findings, with the cursor of the next when it is full: the sort keys'
/// values are selected after the row's columns, and the last row's make the cursor.
pub fn finding_page(c: &mut impl GenericClient, q: &ListQuery) -> Result<FindingPage> {
    let keys = q.finding_keys();
    let cl = finding_clause(q, true)?;
    let key_columns: String = keys
        .iter()
        .map(|k| {
            format!(
                ", {}",
                query::cursor::key_select(k.field, Dialect::Postgres)
            )
        })
        .collect();
    let rows = c.query(
        &format!(
            "SELECT {FINDING_COLUMNS}{key_columns} FROM {FINDING_FROM}{}",
            cl.sql
        ),
        &cl.refs(),
    )?;
    let items = rows
        .iter()
        .map(finding_from_row)
        .collect::<Result<Vec<_>>>()?;
    let next = match (q.limit, rows.last(), items.last()) {
        (Some(limit), Some(row), Some(f)) if items.len() as u64 >= limit => {
            let first_key = row.len() - keys.len();
            let values = keys
                .iter()
                .enumerate()
                .map(|(i, k)| key_value(row, first_key + i, KeyKind::of(k.field)))
                .collect::<Result<Vec<_>>>()?;
            Some(Cursor::new(&keys, values, f.id))
        }
        _ => None,
    };
    Ok(FindingPage { items, next })
}

/// Streams matching findings in order through a server-side cursor, [`FETCH`] rows at a
/// time; `page` returns `false` to stop early.
pub fn for_each_finding(
    c: &mut impl GenericClient,
    q: &ListQuery,
    page: &mut dyn FnMut(Vec<StoredFinding>) -> bool,
) -> Result<()> {
    let cl = finding_clause(q, true)?;
    let mut tx = c.transaction()?;
    let portal = tx.bind(
        &format!("SELECT {FINDING_COLUMNS} FROM {FINDING_FROM}{}", cl.sql),
        &cl.refs(),
    )?;
    loop {
        let rows = tx.query_portal(&portal, FETCH)?;
        let full = rows.len() as i32 >= FETCH;
        let batch = rows
            .iter()
            .map(finding_from_row)
            .collect::<Result<Vec<_>>>()?;
        if (!batch.is_empty() && !page(batch)) || !full {
            break;
        }
    }
    tx.commit()?;
    Ok(())
}

/// How many findings match (limit, offset and sort ignored).
pub fn count_findings(c: &mut impl GenericClient, q: &ListQuery) -> Result<u64> {
    let unpaged = ListQuery {
        limit: None,
        offset: None,
        sort: Vec::new(),
        after: None,
        ..q.clone()
    };
    let cl = clause(&unpaged, Entity::Findings, "f.id", "f.id", false)?;
    // The ORDER BY is useless for a count: cut it off.
    let cond = cl.sql.split(" ORDER BY ").next().unwrap_or_default();
    let n: i64 = c
        .query_one(
            &format!("SELECT COUNT(*) FROM {FINDING_FROM}{cond}"),
            &cl.refs(),
        )?
        .try_get(0)?;
    Ok(n.max(0) as u64)
}
