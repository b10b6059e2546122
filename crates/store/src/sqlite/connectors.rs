//! The connectors table.

use super::time::{parse, parse_opt, to_sql_err, ts};
use crate::types::*;
use crate::{Result, StoreError};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, params};

pub(super) const COLUMNS: &str = "id, name, kind, url, key_id, secret, settings, state, state_reason, cursor, created_at, updated_at";

pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<Connector> {
    let settings: String = r.get(6)?;
    let state: String = r.get(7)?;
    let corrupt = |column: &str, message: String| {
        to_sql_err(StoreError::Corrupt {
            column: column.into(),
            message,
        })
    };
    Ok(Connector {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        url: r.get(3)?,
        key_id: r.get(4)?,
        secret: r.get(5)?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| corrupt("connectors.settings", e.to_string()))?,
        state: ConnectorState::parse(&state)
            .ok_or_else(|| corrupt("connectors.state", state.clone()))?,
        state_reason: r.get(8)?,
        cursor: parse_opt("connectors.cursor", r.get(9)?).map_err(to_sql_err)?,
        created_at: parse("connectors.created_at", &r.get::<_, String>(10)?).map_err(to_sql_err)?,
        updated_at: parse("connectors.updated_at", &r.get::<_, String>(11)?).map_err(to_sql_err)?,
    })
}

pub fn create(conn: &Connection, new: &NewConnector) -> Result<Connector> {
    let now = ts(Utc::now());
    let res = conn.execute(
        "INSERT INTO connectors(name, kind, url, key_id, secret, settings, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'Registered', ?7, ?7)",
        params![new.name, new.kind, new.url, new.key_id, new.secret, new.settings.to_string(), now],
    );
    match res {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(StoreError::ConnectorExists(new.name.clone()));
        }
        other => other?,
    };
    by_name(conn, &new.name)?.ok_or_else(|| StoreError::NoSuchConnector(new.name.clone()))
}

pub fn update(conn: &Connection, c: &Connector) -> Result<()> {
    let n = conn.execute(
        "UPDATE connectors SET url = ?2, key_id = ?3, secret = ?4, settings = ?5, updated_at = ?6 WHERE id = ?1",
        params![c.id, c.url, c.key_id, c.secret, c.settings.to_string(), ts(Utc::now())],
    )?;
    if n == 0 {
        return Err(StoreError::NoSuchConnector(c.name.clone()));
    }
    Ok(())
}

pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM connectors WHERE name = ?1", [name])? > 0)
}

pub fn by_name(conn: &Connection, name: &str) -> Result<Option<Connector>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM connectors WHERE name = ?1"),
            [name],
            from_row,
        )
        .optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<Connector>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM connectors WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

pub fn all(conn: &Connection) -> Result<Vec<Connector>> {
    let mut st = conn.prepare(&format!("SELECT {COLUMNS} FROM connectors ORDER BY name"))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn clear_cursor(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE connectors SET cursor = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, ts(Utc::now())],
    )?;
    Ok(())
}

/// Sets the reason of a connector that is in `state`; whether it was.
pub fn set_reason_while(
    conn: &Connection,
    id: i64,
    state: ConnectorState,
    reason: &str,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE connectors SET state_reason = ?3, updated_at = ?4 WHERE id = ?1 AND state = ?2",
        params![id, state.as_str(), reason, ts(Utc::now())],
    )?;
    Ok(n > 0)
}

pub fn set_state(
    conn: &Connection,
    id: i64,
    state: ConnectorState,
    reason: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE connectors SET state = ?2, state_reason = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, state.as_str(), reason, ts(Utc::now())],
    )?;
    Ok(())
}
