//! Due runs and their leases (see [`crate::due`]). Every claim runs in a
//! `BEGIN IMMEDIATE` transaction, which holds SQLite's one write lock: the single-writer
//! equivalent of PostgreSQL's `FOR UPDATE SKIP LOCKED`, across processes too.

use super::time::{parse, parse_opt, to_sql_err, ts};
use crate::due::{Claim, DueRun, DueState};
use crate::types::RunMode;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

const COLUMNS: &str = "d.id, d.connector_id, c.name, d.due_at, d.mode, d.state, d.worker, d.attempts, \
     d.claimed_at, d.lease_expires_at, d.finished_at, d.run_id, d.outcome";

fn corrupt(column: &str, message: String) -> rusqlite::Error {
    to_sql_err(StoreError::Corrupt {
        column: column.into(),
        message,
    })
}

fn mode_of(mode: Option<String>) -> rusqlite::Result<Option<RunMode>> {
    mode.map(|m| RunMode::parse(&m).ok_or_else(|| corrupt("due_runs.mode", m)))
        .transpose()
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<DueRun> {
    let state: String = r.get(5)?;
    Ok(DueRun {
        id: r.get(0)?,
        connector_id: r.get(1)?,
        connector: r.get(2)?,
        due_at: parse("due_runs.due_at", &r.get::<_, String>(3)?).map_err(to_sql_err)?,
        mode: mode_of(r.get(4)?)?,
        state: DueState::parse(&state).ok_or_else(|| corrupt("due_runs.state", state.clone()))?,
        worker: r.get(6)?,
        attempts: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
        claimed_at: parse_opt("due_runs.claimed_at", r.get(8)?).map_err(to_sql_err)?,
        lease_expires_at: parse_opt("due_runs.lease_expires_at", r.get(9)?).map_err(to_sql_err)?,
        finished_at: parse_opt("due_runs.finished_at", r.get(10)?).map_err(to_sql_err)?,
        run_id: r.get(11)?,
        outcome: r.get(12)?,
    })
}

fn by_id(conn: &Connection, id: i64) -> Result<Option<DueRun>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM due_runs d JOIN connectors c ON c.id = d.connector_id WHERE d.id = ?1"
            ),
            [id],
            from_row,
        )
        .optional()?)
}

pub fn enqueue(
    conn: &mut Connection,
    connector_id: i64,
    due_at: DateTime<Utc>,
    mode: Option<RunMode>,
) -> Result<Option<DueRun>> {
    let mode = mode.map(RunMode::as_str);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let inserted = tx.execute(
        "INSERT INTO due_runs(connector_id, due_at, mode, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![connector_id, ts(due_at), mode, ts(Utc::now())],
    )?;
    let id = if inserted == 1 {
        Some(tx.last_insert_rowid())
    } else {
        tx.query_row(
            "UPDATE due_runs SET due_at = ?2, mode = COALESCE(?3, mode)
             WHERE connector_id = ?1 AND state = 'pending' AND due_at > ?2
               AND NOT EXISTS (SELECT 1 FROM due_runs o WHERE o.connector_id = ?1 AND o.due_at = ?2)
             RETURNING id",
            params![connector_id, ts(due_at), mode],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    };
    let row = match id {
        Some(id) => by_id(&tx, id)?,
        None => None,
    };
    tx.commit()?;
    Ok(row)
}

pub fn claim(
    conn: &mut Connection,
    worker: &str,
    ttl: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Option<Claim>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now_s = ts(now);
    let next: Option<i64> = tx
        .query_row(
            "SELECT id FROM due_runs
             WHERE state <> 'done'
               AND ((state = 'pending' AND due_at <= ?1) OR (state = 'claimed' AND lease_expires_at <= ?1))
             ORDER BY due_at, id LIMIT 1",
            [&now_s],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = next else {
        return Ok(None);
    };
    let expires = now + ttl;
    tx.execute(
        "UPDATE due_runs SET state = 'claimed', worker = ?2, claimed_at = ?3, lease_expires_at = ?4,
             attempts = attempts + 1
         WHERE id = ?1",
        params![id, worker, now_s, ts(expires)],
    )?;
    let row = by_id(&tx, id)?.ok_or_else(|| StoreError::Corrupt {
        column: "due_runs.id".into(),
        message: format!("due run {id} vanished while claimed"),
    })?;
    tx.commit()?;
    Ok(Some(Claim {
        due_run_id: row.id,
        connector_id: row.connector_id,
        connector: row.connector,
        due_at: row.due_at,
        mode: row.mode,
        worker: worker.to_string(),
        attempt: row.attempts,
        lease_expires_at: expires,
    }))
}

const HELD: &str = "id = ?1 AND worker = ?2 AND attempts = ?3 AND state = 'claimed'";

pub fn renew(
    conn: &Connection,
    claim: &Claim,
    ttl: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(conn.execute(
        &format!("UPDATE due_runs SET lease_expires_at = ?4 WHERE {HELD}"),
        params![
            claim.due_run_id,
            claim.worker,
            i64::from(claim.attempt),
            ts(now + ttl)
        ],
    )? == 1)
}

pub fn complete(
    conn: &Connection,
    claim: &Claim,
    run_id: Option<i64>,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = conn.execute(
        &format!(
            "UPDATE due_runs SET state = 'done', finished_at = ?4, run_id = ?5, outcome = ?6,
                 lease_expires_at = NULL
             WHERE {HELD}"
        ),
        params![
            claim.due_run_id,
            claim.worker,
            i64::from(claim.attempt),
            ts(now),
            run_id,
            outcome
        ],
    )? == 1;
    if done {
        conn.execute(
            "DELETE FROM due_runs WHERE connector_id = ?1 AND state = 'done' AND finished_at < ?2",
            params![claim.connector_id, ts(now - crate::due::DONE_KEPT)],
        )?;
    }
    Ok(done)
}

/// Gives a claimed due run back (its worker is stopping): pending again, and the claim
/// does not count as an attempt, so the next claim is no takeover of a lease let lapse.
pub fn release(conn: &Connection, claim: &Claim) -> Result<bool> {
    Ok(conn.execute(
        &format!(
            "UPDATE due_runs SET state = 'pending', worker = NULL, claimed_at = NULL,
                 lease_expires_at = NULL, attempts = attempts - 1
             WHERE {HELD}"
        ),
        params![claim.due_run_id, claim.worker, i64::from(claim.attempt)],
    )? == 1)
}

pub fn list(conn: &Connection, connector_id: Option<i64>, limit: u64) -> Result<Vec<DueRun>> {
    // Two statements rather than `?1 IS NULL OR ...`, so one connector's newest due runs
    // (the scheduler asks every tick) come from the (connector_id, due_at) index.
    let which = if connector_id.is_some() {
        "WHERE d.connector_id = ?1"
    } else {
        "WHERE ?1 IS NULL"
    };
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM due_runs d JOIN connectors c ON c.id = d.connector_id
         {which} ORDER BY d.due_at DESC, d.id DESC LIMIT ?2"
    ))?;
    let rows = st
        .query_map(
            params![connector_id, i64::try_from(limit).unwrap_or(i64::MAX)],
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
