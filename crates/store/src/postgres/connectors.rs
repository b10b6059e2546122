//! The connectors table.

use super::corrupt;
use crate::types::*;
use crate::{Result, StoreError};
use chrono::Utc;
use postgres::GenericClient;
use postgres::Row;
use postgres::error::SqlState;

pub const COLUMNS: &str = "id, name, kind, url, key_id, secret, settings, state, state_reason, cursor, created_at, updated_at";

pub fn from_row(r: &Row) -> Result<Connector> {
    let state: String = r.try_get(7)?;
    Ok(Connector {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        kind: r.try_get(2)?,
        url: r.try_get(3)?,
        key_id: r.try_get(4)?,
        secret: r.try_get(5)?,
        settings: r.try_get(6)?,
        state: ConnectorState::parse(&state).ok_or_else(|| corrupt("connectors.state", state))?,
        state_reason: r.try_get(8)?,
        cursor: r.try_get(9)?,
        created_at: r.try_get(10)?,
        updated_at: r.try_get(11)?,
    })
}

pub fn create(c: &mut impl GenericClient, new: &NewConnector) -> Result<Connector> {
    let now = Utc::now();
    let res = c.query_one(
        &format!(
            "INSERT INTO connectors(name, kind, url, key_id, secret, settings, state, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'Registered', $7, $7) RETURNING {COLUMNS}"
        ),
        &[&new.name, &new.kind, &new.url, &new.key_id, &new.secret, &new.settings, &now],
    );
    match res {
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            Err(StoreError::ConnectorExists(new.name.clone()))
        }
        other => from_row(&other?),
    }
}

pub fn update(c: &mut impl GenericClient, conn: &Connector) -> Result<()> {
    let n = c.execute(
        "UPDATE connectors SET url = $2, key_id = $3, secret = $4, settings = $5, updated_at = $6 WHERE id = $1",
        &[&conn.id, &conn.url, &conn.key_id, &conn.secret, &conn.settings, &Utc::now()],
    )?;
    if n == 0 {
        return Err(StoreError::NoSuchConnector(conn.name.clone()));
    }
    Ok(())
}

pub fn delete(c: &mut impl GenericClient, name: &str) -> Result<bool> {
    Ok(c.execute("DELETE FROM connectors WHERE name = $1", &[&name])? > 0)
}

pub fn by_name(c: &mut impl GenericClient, name: &str) -> Result<Option<Connector>> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM connectors WHERE name = $1"),
        &[&name],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

pub fn by_id(c: &mut impl GenericClient, id: i64) -> Result<Option<Connector>> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM connectors WHERE id = $1"),
        &[&id],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

pub fn all(c: &mut impl GenericClient) -> Result<Vec<Connector>> {
    c.query(
        &format!("SELECT {COLUMNS} FROM connectors ORDER BY name COLLATE \"C\""),
        &[],
    )?
    .iter()
    .map(from_row)
    .collect()
}

pub fn clear_cursor(c: &mut impl GenericClient, id: i64) -> Result<()> {
    c.execute(
        "UPDATE connectors SET cursor = NULL, updated_at = $2 WHERE id = $1",
        &[&id, &Utc::now()],
    )?;
    Ok(())
}

/// Sets the reason of a connector that is in `state`; whether it was.
pub fn set_reason_while(
    c: &mut impl GenericClient,
    id: i64,
    state: ConnectorState,
    reason: &str,
) -> Result<bool> {
    let n = c.execute(
        "UPDATE connectors SET state_reason = $3, updated_at = $4 WHERE id = $1 AND state = $2",
        &[
            &id,
            &state.as_str(),
            &model::text::storable(reason),
            &Utc::now(),
        ],
    )?;
    Ok(n > 0)
}

pub fn set_state(
    c: &mut impl GenericClient,
    id: i64,
    state: ConnectorState,
    reason: Option<&str>,
) -> Result<()> {
    c.execute(
        "UPDATE connectors SET state = $2, state_reason = $3, updated_at = $4 WHERE id = $1",
        &[
            &id,
            &state.as_str(),
            &reason.map(model::text::storable),
            &Utc::now(),
        ],
    )?;
    Ok(())
}
