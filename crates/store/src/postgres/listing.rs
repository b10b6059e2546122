//! Filtered, sorted listings of findings and assets, and the streaming read exports use.
//!
//! The filter ([`query::Filter`]) compiles to a PostgreSQL condition with typed bound
//! parameters numbered after the connector parameter `$1`; sort keys come from the same
//! registry. Nothing a user typed reaches the SQL text. Default orders sort text
//! bytewise with NULLs first, as the SQLite backend does.

use super::read::{ASSET_COLUMNS, FINDING_COLUMNS, FINDING_FROM, asset_from_row, finding_from_row};
use crate::Result;
use crate::types::*;
use postgres::GenericClient;
use postgres::types::ToSql;
use query::cursor::KeyKind;
use query::{Cursor, Dialect, Entity, Param};

/// How many rows one fetch of a streamed listing reads.
pub const FETCH: i32 = 500;

/// SQL of a listing — its WHERE, ORDER BY and LIMIT, or a whole statement — with its
/// parameters (`$1` is the connector).
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

    /// Appends the query's LIMIT and OFFSET.
    pub(super) fn page(&mut self, q: &ListQuery) {
        let n = self.params.len();
        self.sql
            .push_str(&format!(" LIMIT ${} OFFSET ${}", n + 1, n + 2));
        self.params.push(Box::new(
            q.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX)),
        ));
        self.params.push(Box::new(
            q.offset
                .map(|o| i64::try_from(o).unwrap_or(i64::MAX))
                .unwrap_or(0),
        ));
    }
}

/// The WHERE of a listing (connector and filter; a cursor is [`finding_select`]'s), with
/// its parameters (`$1` is the connector), once the query is checked for the entity.
fn condition(q: &ListQuery, entity: Entity) -> Result<Clause> {
    q.check(entity)?;
    let mut sql = String::from(" WHERE ($1::text IS NULL OR c.name = $1)");
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(q.connector.clone())];
    if let Some(f) = &q.filter {
        let compiled = f.compile(Dialect::Postgres, 2);
        sql.push_str(" AND ");
        sql.push_str(&compiled.sql);
        params.extend(compiled.params.into_iter().map(boxed));
    }
    Ok(Clause { sql, params })
}

/// A findings listing's connector and filter as one condition over [`FINDING_FROM`]'s
/// rows, with its parameters (`$1` is the connector): which findings `--dedupe` picks
/// its groups by.
pub(super) fn selected(q: &ListQuery) -> Result<Clause> {
    let mut cl = condition(q, Entity::Findings)?;
    // The WHERE of a listing, as a condition of its own.
    cl.sql = format!("({})", cl.sql.trim_start().trim_start_matches("WHERE "));
    Ok(cl)
}

/// The WHERE, ORDER BY and LIMIT of a listing, with its parameters.
fn clause(
    q: &ListQuery,
    entity: Entity,
    default_order: &str,
    tiebreak: &str,
    paged: bool,
) -> Result<Clause> {
    let mut cl = condition(q, entity)?;
    let sql = &mut cl.sql;
    sql.push_str(" ORDER BY ");
    if q.sort.is_empty() {
        sql.push_str(default_order);
    } else {
        for s in &q.sort {
            sql.push_str(&s.sql(Dialect::Postgres));
            sql.push_str(", ");
        }
        sql.push_str(tiebreak);
    }
    if paged {
        cl.page(q);
    }
    Ok(cl)
}

fn boxed(p: Param) -> Box<dyn ToSql + Sync + Send> {
    match p {
        Param::Text(t) => Box::new(t),
        Param::Int(n) => Box::new(n),
        Param::Float(x) => Box::new(x),
        Param::Time(t) => Box::new(t),
    }
}

/// The statement of a findings listing: the row's columns, then its sort keys' values
/// (`cursor_key_0`, ...: the next page's cursor is made of the last row's).
///
/// After a cursor it is a `UNION ALL` of the cursor's [levels](query::Cursor::levels),
/// each sorted and cut to the page on its own, then merged in the listing's order. The
/// one condition "after the cursor" as a disjunction has PostgreSQL read every row that
/// shares the cursor's leading value (a severity: a third of the store) before the page;
/// each level on its own is a range an index seeks to. (A single level, or a leading key
/// no index reads in order, keeps the one condition.)
fn finding_select(q: &ListQuery, paged: bool) -> Result<Clause> {
    let keys = q.finding_keys();
    let key_columns: String = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let e = query::cursor::key_select(k.field, Dialect::Postgres);
            format!(", {e} AS cursor_key_{i}")
        })
        .collect();
    let order = q.finding_order(Dialect::Postgres);
    let select = format!("SELECT {FINDING_COLUMNS}{key_columns} FROM {FINDING_FROM}");
    let Some(cursor) = &q.after else {
        let cl = clause(q, Entity::Findings, &order, "f.id", paged)?;
        return Ok(Clause {
            sql: format!("{select}{}", cl.sql),
            params: cl.params,
        });
    };
    let mut cl = condition(q, Entity::Findings)?;
    let first = cl.params.len() + 1;
    let levels = cursor.levels(&keys, "f.id", Dialect::Postgres, first)?;
    // An index on a nullable key holds its empty values last going up and first going
    // down, so none reads "largest first, empty last": such rows are sorted whatever the
    // form, and once in one query costs less than once per stretch.
    let unserved = keys
        .first()
        .is_some_and(|k| k.field.nullable && k.descending);
    if levels.sql.len() == 1 || unserved {
        let after = cursor.after(&keys, "f.id", Dialect::Postgres, first)?;
        cl.params.extend(after.params.into_iter().map(boxed));
        cl.sql = format!("{select}{} AND {} ORDER BY {order}", cl.sql, after.sql);
        if paged {
            cl.page(q);
        }
        return Ok(cl);
    }
    cl.params.extend(levels.params.into_iter().map(boxed));
    let branch_limit = match (paged, q.limit) {
        (true, Some(limit)) => {
            let rows = limit.saturating_add(q.offset.unwrap_or(0));
            cl.params
                .push(Box::new(i64::try_from(rows).unwrap_or(i64::MAX)));
            format!(" LIMIT ${}", cl.params.len())
        }
        _ => String::new(),
    };
    let branches: Vec<String> = levels
        .sql
        .iter()
        .map(|level| {
            format!(
                "({select}{} AND {level} ORDER BY {order}{branch_limit})",
                cl.sql
            )
        })
        .collect();
    let merged: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| k.term(&format!("cursor_key_{i}")))
        .chain(["id".to_string()])
        .collect();
    let mut out = Clause {
        sql: format!(
            "{} ORDER BY {}",
            branches.join(" UNION ALL "),
            merged.join(", ")
        ),
        params: cl.params,
    };
    if paged {
        out.page(q);
    }
    Ok(out)
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

pub fn asset_locators(
    c: &mut impl GenericClient,
    connector: &str,
) -> Result<Vec<(String, String)>> {
    c.query(
        "SELECT a.external_id, COALESCE(a.url, a.name, '') FROM assets a
         JOIN connectors c ON c.id = a.connector_id WHERE c.name = $1",
        &[&connector],
    )?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
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
    let cl = finding_select(q, true)?;
    c.query(&cl.sql, &cl.refs())?
        .iter()
        .map(finding_from_row)
        .collect()
}

/// One page of findings, with the cursor of the next when it is full: the sort keys'
/// values are selected after the row's columns, and the last row's make the cursor.
pub fn finding_page(c: &mut impl GenericClient, q: &ListQuery) -> Result<FindingPage> {
    let resolved = by_reference(c, q)?;
    let q = resolved.as_ref().unwrap_or(q);
    let keys = q.finding_keys();
    let cl = finding_select(q, true)?;
    let rows = c.query(&cl.sql, &cl.refs())?;
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

/// `q` with its cursor by reference ([`Cursor::by_reference`]) given the sort-key values
/// of the row it names, read back from the store; `None` when it has no such cursor.
fn by_reference(c: &mut impl GenericClient, q: &ListQuery) -> Result<Option<ListQuery>> {
    let Some(cursor) = q.after.as_ref().filter(|c| c.by_reference) else {
        return Ok(None);
    };
    let keys = q.finding_keys();
    let columns: Vec<String> = keys
        .iter()
        .map(|k| query::cursor::key_select(k.field, Dialect::Postgres))
        .collect();
    let sql = format!(
        "SELECT {} FROM {FINDING_FROM} WHERE f.id = $1",
        columns.join(", ")
    );
    let values = match c.query_opt(&sql, &[&cursor.id])? {
        Some(row) => Some(
            keys.iter()
                .enumerate()
                .map(|(i, k)| key_value(&row, i, KeyKind::of(k.field)))
                .collect::<Result<Vec<_>>>()?,
        ),
        None => None,
    };
    Ok(Some(ListQuery {
        after: Some(cursor.with_values(values)?),
        ..q.clone()
    }))
}

/// Streams matching findings in order through a server-side cursor, [`FETCH`] rows at a
/// time; `page` returns `false` to stop early.
pub fn for_each_finding(
    c: &mut impl GenericClient,
    q: &ListQuery,
    page: &mut dyn FnMut(Vec<StoredFinding>) -> bool,
) -> Result<()> {
    let cl = finding_select(q, true)?;
    let mut tx = c.transaction()?;
    let portal = tx.bind(&cl.sql, &cl.refs())?;
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

/// PostgreSQL's plan for a findings listing, parameters bound as the listing binds them.
pub fn explain_findings(c: &mut impl GenericClient, q: &ListQuery) -> Result<Vec<String>> {
    let cl = finding_select(q, true)?;
    c.query(&format!("EXPLAIN {}", cl.sql), &cl.refs())?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
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
    let cl = condition(&unpaged, Entity::Findings)?;
    let n: i64 = c
        .query_one(
            &format!("SELECT COUNT(*) FROM {FINDING_FROM}{}", cl.sql),
            &cl.refs(),
        )?
        .try_get(0)?;
    Ok(n.max(0) as u64)
}
