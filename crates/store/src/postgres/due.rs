//! Due runs and their leases (see [`crate::due`]): claims use `FOR UPDATE SKIP LOCKED`,
//! so workers polling at once each get a different due run and never wait on each other.

use super::corrupt;
use crate::Result;
use crate::due::{Claim, DueRun, DueState};
use crate::types::RunMode;
use chrono::{DateTime, Utc};
use postgres::{GenericClient, Row};

const COLUMNS: &str = "d.id, d.connector_id, c.name, d.due_at, d.mode, d.state, d.worker, d.attempts, \
     d.claimed_at, d.lease_expires_at, d.finished_at, d.run_id, d.outcome";

fn mode_of(mode: Option<String>) -> Result<Option<RunMode>> {
    mode.map(|m| RunMode::parse(&m).ok_or_else(|| corrupt("due_runs.mode", m)))
        .transpose()
}

fn attempts_of(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn from_row(r: &Row) -> Result<DueRun> {
    let state: String = r.try_get(5)?;
    Ok(DueRun {
        id: r.try_get(0)?,
        connector_id: r.try_get(1)?,
        connector: r.try_get(2)?,
        due_at: r.try_get(3)?,
        mode: mode_of(r.try_get(4)?)?,
        state: DueState::parse(&state).ok_or_else(|| corrupt("due_runs.state", state))?,
        worker: r.try_get(6)?,
        attempts: attempts_of(r.try_get(7)?),
        claimed_at: r.try_get(8)?,
        lease_expires_at: r.try_get(9)?,
        finished_at: r.try_get(10)?,
        run_id: r.try_get(11)?,
        outcome: r.try_get(12)?,
    })
}

fn by_id(c: &mut impl GenericClient, id: i64) -> Result<Option<DueRun>> {
    c.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM due_runs d JOIN connectors c ON c.id = d.connector_id WHERE d.id = $1"
        ),
        &[&id],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

/// Adds a due run, or pulls the connector's pending one forward to `due_at`; `None` when
/// neither happened (one is open already and due sooner, or this due time was recorded).
pub fn enqueue(
    c: &mut impl GenericClient,
    connector_id: i64,
    due_at: DateTime<Utc>,
    mode: Option<RunMode>,
) -> Result<Option<DueRun>> {
    let mode = mode.map(RunMode::as_str);
    let mut tx = c.transaction()?;
    let inserted = tx.query_opt(
        "INSERT INTO due_runs(connector_id, due_at, mode, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING id",
        &[&connector_id, &due_at, &mode, &Utc::now()],
    )?;
    let id = match inserted {
        Some(r) => Some(r.try_get::<_, i64>(0)?),
        None => tx
            .query_opt(
                "UPDATE due_runs SET due_at = $2, mode = COALESCE($3, mode)
                 WHERE connector_id = $1 AND state = 'pending' AND due_at > $2
                   AND NOT EXISTS (SELECT 1 FROM due_runs o WHERE o.connector_id = $1 AND o.due_at = $2)
                 RETURNING id",
                &[&connector_id, &due_at, &mode],
            )?
            .map(|r| r.try_get::<_, i64>(0))
            .transpose()?,
    };
    let row = match id {
        Some(id) => by_id(&mut tx, id)?,
        None => None,
    };
    tx.commit()?;
    Ok(row)
}

/// Claims the oldest due run that is pending and due, or claimed under an expired lease.
pub fn claim(
    c: &mut impl GenericClient,
    worker: &str,
    ttl: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Option<Claim>> {
    let row = c.query_opt(
        "WITH next AS (
             SELECT id FROM due_runs
             WHERE state <> 'done'
               AND ((state = 'pending' AND due_at <= $2) OR (state = 'claimed' AND lease_expires_at <= $2))
             ORDER BY due_at, id
             LIMIT 1
             FOR UPDATE SKIP LOCKED)
         UPDATE due_runs d SET state = 'claimed', worker = $1, claimed_at = $2, lease_expires_at = $3,
             attempts = d.attempts + 1
         FROM next WHERE d.id = next.id
         RETURNING d.id, d.connector_id, (SELECT name FROM connectors c WHERE c.id = d.connector_id),
             d.due_at, d.mode, d.attempts, d.lease_expires_at",
        &[&worker, &now, &(now + ttl)],
    )?;
    row.map(|r| {
        Ok(Claim {
            due_run_id: r.try_get(0)?,
            connector_id: r.try_get(1)?,
            connector: r.try_get(2)?,
            due_at: r.try_get(3)?,
            mode: mode_of(r.try_get(4)?)?,
            worker: worker.to_string(),
            attempt: attempts_of(r.try_get(5)?),
            lease_expires_at: r.try_get(6)?,
        })
    })
    .transpose()
}

/// The condition that a claim is still this worker's, at this attempt.
const HELD: &str = "id = $1 AND worker = $2 AND attempts = $3 AND state = 'claimed'";

fn attempt_param(claim: &Claim) -> i32 {
    i32::try_from(claim.attempt).unwrap_or(i32::MAX)
}

pub fn renew(
    c: &mut impl GenericClient,
    claim: &Claim,
    ttl: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(c.execute(
        &format!("UPDATE due_runs SET lease_expires_at = $4 WHERE {HELD}"),
        &[
            &claim.due_run_id,
            &claim.worker,
            &attempt_param(claim),
            &(now + ttl),
        ],
    )? == 1)
}

pub fn complete(
    c: &mut impl GenericClient,
    claim: &Claim,
    run_id: Option<i64>,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = c.execute(
        &format!(
            "UPDATE due_runs SET state = 'done', finished_at = $4, run_id = $5, outcome = $6,
                 lease_expires_at = NULL
             WHERE {HELD}"
        ),
        &[
            &claim.due_run_id,
            &claim.worker,
            &attempt_param(claim),
            &now,
            &run_id,
            &outcome,
        ],
    )? == 1;
    if done {
        c.execute(
            "DELETE FROM due_runs WHERE connector_id = $1 AND state = 'done' AND finished_at < $2",
            &[&claim.connector_id, &(now - crate::due::DONE_KEPT)],
        )?;
    }
    Ok(done)
}

/// Gives a claimed due run back (its worker is stopping): pending again, and the claim
/// does not count as an attempt, so the next claim is no takeover of a lease let lapse.
pub fn release(c: &mut impl GenericClient, claim: &Claim) -> Result<bool> {
    Ok(c.execute(
        &format!(
            "UPDATE due_runs SET state = 'pending', worker = NULL, claimed_at = NULL,
                 lease_expires_at = NULL, attempts = attempts - 1
             WHERE {HELD}"
        ),
        &[&claim.due_run_id, &claim.worker, &attempt_param(claim)],
    )? == 1)
}

pub fn list(
    c: &mut impl GenericClient,
    connector_id: Option<i64>,
    limit: u64,
) -> Result<Vec<DueRun>> {
    // Two statements rather than `$1 IS NULL OR ...`, so one connector's newest due runs
    // (every scheduler asks every tick) come from the (connector_id, due_at) index even
    // under a generic plan.
    let which = if connector_id.is_some() {
        "WHERE d.connector_id = $1"
    } else {
        "WHERE $1::int8 IS NULL"
    };
    c.query(
        &format!(
            "SELECT {COLUMNS} FROM due_runs d JOIN connectors c ON c.id = d.connector_id
             {which} ORDER BY d.due_at DESC, d.id DESC LIMIT $2"
        ),
        &[&connector_id, &i64::try_from(limit).unwrap_or(i64::MAX)],
    )?
    .iter()
    .map(from_row)
    .collect()
}
