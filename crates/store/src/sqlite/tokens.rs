//! The API tokens table: names and hashes of `serve`'s bearer tokens.

use super::time::{parse, parse_opt, to_sql_err, ts};
use crate::types::ApiToken;
use crate::{Result, StoreError};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, params};

const COLUMNS: &str = "id, name, hint, created_at, last_used_at, revoked_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        hint: r.get(2)?,
        created_at: parse("api_tokens.created_at", &r.get::<_, String>(3)?).map_err(to_sql_err)?,
        last_used_at: parse_opt("api_tokens.last_used_at", r.get(4)?).map_err(to_sql_err)?,
        revoked_at: parse_opt("api_tokens.revoked_at", r.get(5)?).map_err(to_sql_err)?,
    })
}

pub fn create(conn: &Connection, name: &str, hash: &str, hint: &str) -> Result<ApiToken> {
    let res = conn.execute(
        "INSERT INTO api_tokens(name, hash, hint, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, hash, hint, ts(Utc::now())],
    );
    match res {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(StoreError::TokenExists(name.to_string()));
        }
        other => other?,
    };
    let id = conn.last_insert_rowid();
    Ok(conn.query_row(
        &format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?1"),
        [id],
        from_row,
    )?)
}

pub fn all(conn: &Connection) -> Result<Vec<ApiToken>> {
    let mut st = conn.prepare(&format!("SELECT {COLUMNS} FROM api_tokens ORDER BY id"))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The live token with this hash, read only: an unknown token is refused without a
/// write (it queued on the store's one writer behind every sync).
pub fn find(conn: &Connection, hash: &str) -> Result<Option<ApiToken>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM api_tokens WHERE hash = ?1 AND revoked_at IS NULL"),
            [hash],
            from_row,
        )
        .optional()?)
}

/// Records that the token was used now.
pub fn touch(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
        params![id, ts(Utc::now())],
    )?;
    Ok(())
}

pub fn revoke(conn: &Connection, id_or_name: &str) -> Result<bool> {
    let now = ts(Utc::now());
    let n = match id_or_name.parse::<i64>() {
        Ok(id) => conn.execute(
            // The token with that id; by name only when no token has that id ("1" revoked
            // token 1 and also a token named "1").
            "UPDATE api_tokens SET revoked_at = ?2 WHERE revoked_at IS NULL
               AND (id = ?1 OR (name = ?3 AND NOT EXISTS (SELECT 1 FROM api_tokens WHERE id = ?1)))",
            params![id, now, id_or_name],
        )?,
        Err(_) => conn.execute(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
            params![id_or_name, now],
        )?,
    };
    Ok(n > 0)
}
