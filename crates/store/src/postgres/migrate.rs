//! Versioned migrations of the PostgreSQL schema, run when a store opens.
//!
//! `schema_migrations` records each version applied. All pending migrations run in one
//! transaction under an advisory lock keyed by the schema, so several workers starting
//! at once migrate once and the others wait, then find nothing to do.

use crate::{Result, StoreError};
use postgres::Client;

/// Migrations in order: (version, name, SQL).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "due_runs",
        include_str!("../../migrations/postgres/0002_due_runs.sql"),
    ),
    (
        3,
        "tokens_risk_kev",
        include_str!("../../migrations/postgres/0003_tokens_risk_kev.sql"),
    ),
    (
        4,
        "raw_dictionary",
        include_str!("../../migrations/postgres/0004_raw_dictionary.sql"),
    ),
    (
        5,
        "findings_fillfactor",
        include_str!("../../migrations/postgres/0005_findings_fillfactor.sql"),
    ),
    (
        6,
        "asset_open_risks",
        include_str!("../../migrations/postgres/0006_asset_open_risks.sql"),
    ),
    (
        7,
        "severity_id_index",
        include_str!("../../migrations/postgres/0007_severity_id_index.sql"),
    ),
    (
        8,
        "rules_of_this_version",
        include_str!("../../migrations/postgres/0008_rules_of_this_version.sql"),
    ),
];

/// Refuses a run once a newer binary has upgraded the schema under this process (a
/// worker left running through an upgrade): its writes would miss what the newer
/// schema keeps.
pub fn still_known(client: &mut impl postgres::GenericClient) -> Result<()> {
    let found = version(client)?;
    let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if found > known {
        return Err(StoreError::UpgradedUnderUs {
            found: i64::from(found),
            known: i64::from(known),
        });
    }
    Ok(())
}

/// A fixed first key for `pg_advisory_xact_lock(key, schema hash)`.
const LOCK_KEY: i32 = 0x4150_5342; // "APSB"

/// Brings the schema first on the connection's search path up to date. One that is up to
/// date already is only read: `CREATE TABLE IF NOT EXISTS` is refused to a session or
/// role that may only read, even when the table exists.
pub fn run(client: &mut Client) -> Result<()> {
    let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if let Some(current) = recorded(client)? {
        if current > known {
            return Err(StoreError::SchemaTooNew {
                found: i64::from(current),
                known: i64::from(known),
            });
        }
        if current == known {
            return Ok(());
        }
    }
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))",
        &[&LOCK_KEY],
    )?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .try_get(0)?;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: i64::from(current),
            known: i64::from(known),
        });
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations(version, name) VALUES ($1, $2)",
            &[version, name],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The version recorded in the schema first on the search path, `None` when it has no
/// `schema_migrations` (a new store); reads only.
fn recorded(client: &mut Client) -> Result<Option<i32>> {
    let there: bool = client
        .query_one(
            "SELECT to_regclass(quote_ident(current_schema()) || '.schema_migrations') IS NOT NULL",
            &[],
        )?
        .try_get(0)?;
    if !there {
        return Ok(None);
    }
    version(client).map(Some)
}

/// The schema version recorded in the database.
pub fn version(client: &mut impl postgres::GenericClient) -> Result<i32> {
    Ok(client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .try_get(0)?)
}
