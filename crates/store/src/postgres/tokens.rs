//! The API tokens table: names and hashes of `serve`'s bearer tokens.

use crate::types::ApiToken;
use crate::{Result, StoreError};
use chrono::Utc;
use postgres::error::SqlState;
use postgres::{GenericClient, Row};

const COLUMNS: &str = "id, name, hint, created_at, last_used_at, revoked_at";

fn from_row(r: &Row) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        hint: r.try_get(2)?,
        created_at: r.try_get(3)?,
        last_used_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
    })
}

pub fn create(c: &mut impl GenericClient, name: &str, hash: &str, hint: &str) -> Result<ApiToken> {
    match c.query_one(
        &format!(
            "INSERT INTO api_tokens(name, hash, hint, created_at) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
        ),
        &[&name, &hash, &hint, &Utc::now()],
    ) {
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            Err(StoreError::TokenExists(name.to_string()))
        }
        other => from_row(&other?),
    }
}

pub fn all(c: &mut impl GenericClient) -> Result<Vec<ApiToken>> {
    c.query(
        &format!("SELECT {COLUMNS} FROM api_tokens ORDER BY id"),
        &[],
    )?
    .iter()
    .map(from_row)
    .collect()
}

pub fn use_token(c: &mut impl GenericClient, hash: &str) -> Result<Option<ApiToken>> {
    c.query_opt(
        &format!(
            "UPDATE api_tokens SET last_used_at = $2 WHERE hash = $1 AND revoked_at IS NULL
             RETURNING {COLUMNS}"
        ),
        &[&hash, &Utc::now()],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

pub fn revoke(c: &mut impl GenericClient, id_or_name: &str) -> Result<bool> {
    let now = Utc::now();
    let n = match id_or_name.parse::<i64>() {
        Ok(id) => c.execute(
            // The token with that id; by name only when no token has that id ("1" revoked
            // token 1 and also a token named "1").
            "UPDATE api_tokens SET revoked_at = $2 WHERE revoked_at IS NULL
               AND (id = $1 OR (name = $3 AND NOT EXISTS (SELECT 1 FROM api_tokens WHERE id = $1)))",
            &[&id, &now, &id_or_name],
        )?,
        Err(_) => c.execute(
            "UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
            &[&id_or_name, &now],
        )?,
    };
    Ok(n > 0)
}
