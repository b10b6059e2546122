//! The runs table, run problems, and the per-connector run lock.

use super::corrupt;
use crate::types::*;
use crate::types::{as_prepared, gone};
use crate::{Result, StoreError};
use chrono::Utc;
use model::text::storable;
use postgres::{GenericClient, Row};
use std::borrow::Cow;

pub const COLUMNS: &str = "r.id, r.connector_id, c.name, r.mode, r.state, r.started_at, r.ended_at, \
     r.fetched, r.inserted, r.updated, r.unchanged, r.failed, r.warnings, r.retries, r.requests, r.closed, \
     r.reason, r.cursor_from";

pub fn from_row(r: &Row) -> Result<Run> {
    let mode: String = r.try_get(3)?;
    let state: String = r.try_get(4)?;
    let n = |i: usize| -> Result<u64> { Ok(r.try_get::<_, i64>(i)?.max(0) as u64) };
    Ok(Run {
        id: r.try_get(0)?,
        connector_id: r.try_get(1)?,
        connector: r.try_get(2)?,
        mode: RunMode::parse(&mode).ok_or_else(|| corrupt("runs.mode", mode.clone()))?,
        state: RunState::parse(&state).ok_or_else(|| corrupt("runs.state", state.clone()))?,
        started_at: r.try_get(5)?,
        ended_at: r.try_get(6)?,
        counters: RunCounters {
            fetched: n(7)?,
            inserted: n(8)?,
            updated: n(9)?,
            unchanged: n(10)?,
            failed: n(11)?,
            warnings: n(12)?,
            retries: n(13)?,
            requests: n(14)?,
            closed: n(15)?,
        },
        reason: r.try_get(16)?,
        cursor_from: r.try_get(17)?,
    })
}

/// How long beginning a run waits for the connector's rows (a takeover of a run that
/// stalled inside a write waited for as long as it stayed paused).
const BEGIN_WAITS: &str = "30s";

/// [`StoreError::RowsHeld`] for a lock wait that ran out, else the error as it is.
fn rows_held(e: postgres::Error, connector: String) -> StoreError {
    if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
        StoreError::RowsHeld {
            connector,
            waited: BEGIN_WAITS.to_string(),
        }
    } else {
        e.into()
    }
}

/// Takes the connector's lock and opens a run (see [`crate::Store::begin_run`]).
///
/// The connector row is locked first (`FOR NO KEY UPDATE`), so two workers beginning a
/// run of the same connector at once queue up here and the second sees the first's lock.
pub fn begin(
    tx: &mut impl GenericClient,
    connector_id: i64,
    prepared: Option<&Connector>,
    mode: RunMode,
    holder: &str,
    ttl: chrono::Duration,
) -> Result<Run> {
    let now = Utc::now();
    let name: String = match tx.query_opt(
        "SELECT name FROM connectors WHERE id = $1",
        &[&connector_id],
    )? {
        Some(row) => row.try_get(0)?,
        None => return Err(gone(connector_id, prepared)),
    };
    // A live run's lock refuses at once, without waiting for the rows its writes hold.
    if let Some(held) = lock(tx, connector_id)?
        && held.expires > now
    {
        return Err(held.refuse(name));
    }
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{BEGIN_WAITS}'"))?;
    // NO KEY UPDATE: two begins queue up here, while the key-share locks of a run's
    // writes (their findings' foreign key) do not hold this one up.
    let current = tx
        .query_opt(
            &format!(
                "SELECT {} FROM connectors WHERE id = $1 FOR NO KEY UPDATE",
                super::connectors::COLUMNS
            ),
            &[&connector_id],
        )
        .map_err(|e| rows_held(e, name.clone()))?
        .map(|r| super::connectors::from_row(&r))
        .transpose()?;
    let Connector { name, cursor, .. } = as_prepared(connector_id, prepared, current)?;
    if let Some(held) = lock(tx, connector_id)? {
        if held.expires > now {
            return Err(held.refuse(name));
        }
        tx.execute(
            "DELETE FROM connector_locks WHERE connector_id = $1",
            &[&connector_id],
        )
        .map_err(|e| rows_held(e, name.clone()))?;
    }
    // Runs left Processing by a process that died are ended now, with the reason.
    tx.execute(
        "UPDATE runs SET state = 'Errored', ended_at = GREATEST($2, started_at),
             reason = 'interrupted: the process stopped before the run finished'
         WHERE connector_id = $1 AND state = 'Processing'",
        &[&connector_id, &now],
    )?;
    let cursor_from = if mode == RunMode::Delta { cursor } else { None };
    let run_id: i64 = tx
        .query_one(
            "INSERT INTO runs(connector_id, mode, state, started_at, cursor_from)
             VALUES ($1, $2, 'Processing', $3, $4) RETURNING id",
            &[&connector_id, &mode.as_str(), &now, &cursor_from],
        )?
        .try_get(0)?;
    tx.execute(
        "INSERT INTO connector_locks(connector_id, run_id, holder, acquired_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[&connector_id, &run_id, &holder, &now, &(now + ttl)],
    )?;
    tx.execute(
        "UPDATE connectors SET state = 'Processing', state_reason = NULL, updated_at = $2 WHERE id = $1",
        &[&connector_id, &now],
    )?;
    by_id(tx, run_id)?.ok_or(StoreError::NoSuchRun(run_id))
}

/// The connector's lock (see [`crate::Store::run_lock`]).
pub fn lock(c: &mut impl GenericClient, connector_id: i64) -> Result<Option<RunLock>> {
    c.query_opt(
        "SELECT run_id, holder, acquired_at, expires_at FROM connector_locks WHERE connector_id = $1",
        &[&connector_id],
    )?
    .map(|r| {
        Ok(RunLock {
            run_id: r.try_get(0)?,
            holder: r.try_get(1)?,
            since: r.try_get(2)?,
            expires: r.try_get(3)?,
        })
    })
    .transpose()
}

/// Extends the run's lease; a run that no longer holds its lock is told so
/// ([`StoreError::LockLost`]) rather than renewing nothing in silence.
pub fn renew_lock(c: &mut impl GenericClient, run_id: i64, ttl: chrono::Duration) -> Result<()> {
    let renewed = c.execute(
        "UPDATE connector_locks SET expires_at = $2 WHERE run_id = $1",
        &[&run_id, &(Utc::now() + ttl)],
    )?;
    if renewed == 1 {
        return Ok(());
    }
    let taken_by: Option<i64> = c
        .query_opt(
            "SELECT l.run_id FROM runs r JOIN connector_locks l ON l.connector_id = r.connector_id
             WHERE r.id = $1",
            &[&run_id],
        )?
        .map(|r| r.try_get(0))
        .transpose()?;
    Err(StoreError::LockLost { run_id, taken_by })
}

/// How long a write transaction may sit idle before the server ends it: a worker paused
/// or suspended inside a batch kept its row locks, and every takeover of its connector
/// (and every other run of it) waited for as long as it stayed paused. A run's writes do
/// not wait on anything but the store between statements, so a minute idle is a stall.
const STALLED_AFTER: &str = "60s";

/// Makes the transaction just begun end on its own once idle for [`STALLED_AFTER`].
pub fn end_if_stalled(c: &mut impl GenericClient) -> Result<()> {
    c.batch_execute(&format!(
        "SET LOCAL idle_in_transaction_session_timeout = '{STALLED_AFTER}'"
    ))?;
    Ok(())
}

/// The error of a write of `run` once its lock is no longer its own, inside the write's
/// transaction (the lock row is read FOR KEY SHARE, so that no other run takes it over
/// before the write commits, while the run's own lease renewals go on): a run that
/// stalled past its lease and resumed wrote beside the run that took its connector over.
pub fn lost_lock(c: &mut impl GenericClient, run: &Run) -> Result<Option<StoreError>> {
    let holder: Option<i64> = c
        .query_opt(
            "SELECT run_id FROM connector_locks WHERE connector_id = $1 FOR KEY SHARE",
            &[&run.connector_id],
        )?
        .map(|r| r.try_get(0))
        .transpose()?;
    Ok((holder != Some(run.id)).then_some(StoreError::LockLost {
        run_id: run.id,
        taken_by: holder,
    }))
}

/// Records the end of a run that lost its lock: Errored, saying so, with the counters
/// its batches saved (its end's own are those of a failure: none); the connector's
/// state, cursor and lock are the other run's.
pub fn record_lost(c: &mut impl GenericClient, run: &Run, lost: &StoreError) -> Result<()> {
    c.execute(
        "UPDATE runs SET state = 'Errored', ended_at = GREATEST($2, started_at), reason = $3 WHERE id = $1",
        &[&run.id, &Utc::now(), &lost.to_string()],
    )?;
    Ok(())
}

fn i(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Saves a run's progress with a batch it wrote, inside the batch's transaction (see
/// [`crate::Store::write_batch`]): a run killed or taken over later keeps counts that
/// match what it wrote (the runner's counters lagged a batch or two behind the writes).
pub fn save_progress(
    c: &mut impl GenericClient,
    run_id: i64,
    progress: &RunCounters,
    batch: &BatchCounts,
) -> Result<()> {
    c.execute(
        "UPDATE runs SET fetched = $2, failed = $3, warnings = $4, retries = $5, requests = $6,
             inserted = inserted + $7, updated = updated + $8, unchanged = unchanged + $9
         WHERE id = $1",
        &[
            &run_id,
            &i(progress.fetched),
            &i(progress.failed),
            &i(progress.warnings),
            &i(progress.retries),
            &i(progress.requests),
            &i(batch.inserted),
            &i(batch.updated),
            &i(batch.unchanged),
        ],
    )?;
    Ok(())
}

pub fn save_counters(c: &mut impl GenericClient, run_id: i64, k: &RunCounters) -> Result<()> {
    c.execute(
        "UPDATE runs SET fetched = $2, inserted = $3, updated = $4, unchanged = $5, failed = $6,
             warnings = $7, retries = $8, requests = $9, closed = $10
         WHERE id = $1",
        &[
            &run_id,
            &i(k.fetched),
            &i(k.inserted),
            &i(k.updated),
            &i(k.unchanged),
            &i(k.failed),
            &i(k.warnings),
            &i(k.retries),
            &i(k.requests),
            &i(k.closed),
        ],
    )?;
    Ok(())
}

/// Ends a run inside the caller's transaction: counters, state, connector state, cursor
/// (only when Processed), lock released.
pub fn finish(
    tx: &mut impl GenericClient,
    run: &Run,
    end: &RunEnd,
    counters: &RunCounters,
) -> Result<()> {
    let now = Utc::now();
    let reason = end.reason.as_deref().map(storable);
    save_counters(tx, run.id, counters)?;
    tx.execute(
        "UPDATE runs SET state = $2, ended_at = GREATEST($3, started_at), reason = $4 WHERE id = $1",
        &[&run.id, &end.state.as_str(), &now, &reason],
    )?;
    // The connector is another run's once that run took the lock over (this one's lease
    // ran out while it stalled): its state and cursor are that run's to set.
    let taken_over: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM connector_locks WHERE connector_id = $1 AND run_id <> $2)",
            &[&run.connector_id, &run.id],
        )?
        .try_get(0)?;
    if !taken_over {
        tx.execute(
            "UPDATE connectors SET state = $2, state_reason = $3, updated_at = $4 WHERE id = $1",
            &[
                &run.connector_id,
                &end.connector_state.as_str(),
                &reason,
                &now,
            ],
        )?;
    }
    if !taken_over
        && end.state == RunState::Processed
        && let Some(cursor) = end.cursor
        && in_scope(tx, run, end.scope.as_ref())?
    {
        tx.execute(
            "UPDATE connectors SET cursor = $2 WHERE id = $1",
            &[&run.connector_id, &cursor],
        )?;
    }
    tx.execute("DELETE FROM connector_locks WHERE run_id = $1", &[&run.id])?;
    Ok(())
}

/// Whether `run`'s connector still fetches from where the run began ([`RunEnd::scope`]).
fn in_scope(tx: &mut impl GenericClient, run: &Run, scope: Option<&RunScope>) -> Result<bool> {
    let Some(scope) = scope else {
        return Ok(true);
    };
    let current = super::connectors::by_id(tx, run.connector_id)?;
    Ok(crate::types::still_in_scope(run, scope, current.as_ref()))
}

pub fn level_str(level: IssueLevel) -> &'static str {
    match level {
        IssueLevel::Error => "error",
        IssueLevel::Warning => "warning",
    }
}

pub fn level_of(s: &str) -> IssueLevel {
    if s == "error" {
        IssueLevel::Error
    } else {
        IssueLevel::Warning
    }
}

/// Records a batch's problems with one statement.
pub fn insert_issues(
    tx: &mut impl GenericClient,
    run_id: i64,
    issues: &[RecordIssue],
) -> Result<()> {
    if issues.is_empty() {
        return Ok(());
    }
    let levels: Vec<&str> = issues.iter().map(|i| level_str(i.level)).collect();
    // Quoted from records and answers: no NUL, which text cannot hold (model::text).
    let locations: Vec<Cow<str>> = issues.iter().map(|i| storable(&i.location)).collect();
    let messages: Vec<Cow<str>> = issues.iter().map(|i| storable(&i.message)).collect();
    tx.execute(
        "INSERT INTO run_issues(run_id, level, location, message)
         SELECT $1, l, loc, m FROM UNNEST($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(l, loc, m, n)
         ORDER BY n",
        &[&run_id, &levels, &locations, &messages],
    )?;
    Ok(())
}

pub fn list(c: &mut impl GenericClient, connector_id: i64, limit: u64) -> Result<Vec<Run>> {
    c.query(
        &format!(
            "SELECT {COLUMNS} FROM runs r JOIN connectors c ON c.id = r.connector_id
             WHERE r.connector_id = $1 ORDER BY r.id DESC LIMIT $2"
        ),
        &[&connector_id, &i(limit)],
    )?
    .iter()
    .map(from_row)
    .collect()
}

pub fn by_id(c: &mut impl GenericClient, run_id: i64) -> Result<Option<Run>> {
    c.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM runs r JOIN connectors c ON c.id = r.connector_id WHERE r.id = $1"
        ),
        &[&run_id],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

pub fn issues(c: &mut impl GenericClient, run_id: i64) -> Result<Vec<RecordIssue>> {
    c.query(
        "SELECT level, location, message FROM run_issues WHERE run_id = $1 ORDER BY id",
        &[&run_id],
    )?
    .iter()
    .map(|r| {
        Ok(RecordIssue {
            level: level_of(r.try_get(0)?),
            location: r.try_get(1)?,
            message: r.try_get(2)?,
        })
    })
    .collect()
}

/// Every connector's [`RunTimes`] (see [`crate::Store::run_times`]).
pub fn times(c: &mut impl GenericClient) -> Result<Vec<RunTimes>> {
    c.query(RunTimes::SQL, &[])?
        .iter()
        .map(|r| {
            Ok(RunTimes {
                connector_id: r.try_get(0)?,
                last_success: r.try_get(1)?,
                running_since: r.try_get(2)?,
            })
        })
        .collect()
}
