//! The runs table, run problems, and the per-connector run lock.

use super::time::{parse, parse_opt, to_sql_err, ts};
use crate::types::*;
use crate::{Result, StoreError};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

pub(super) const COLUMNS: &str = "r.id, r.connector_id, c.name, r.mode, r.state, r.started_at, r.ended_at, \
     r.fetched, r.inserted, r.updated, r.unchanged, r.failed, r.warnings, r.retries, r.requests, r.closed, \
     r.reason, r.cursor_from";

pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<Run> {
    let corrupt = |column: &str, message: String| {
        to_sql_err(StoreError::Corrupt {
            column: column.into(),
            message,
        })
    };
    let mode: String = r.get(3)?;
    let state: String = r.get(4)?;
    let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
    Ok(Run {
        id: r.get(0)?,
        connector_id: r.get(1)?,
        connector: r.get(2)?,
        mode: RunMode::parse(&mode).ok_or_else(|| corrupt("runs.mode", mode.clone()))?,
        state: RunState::parse(&state).ok_or_else(|| corrupt("runs.state", state.clone()))?,
        started_at: parse("runs.started_at", &r.get::<_, String>(5)?).map_err(to_sql_err)?,
        ended_at: parse_opt("runs.ended_at", r.get(6)?).map_err(to_sql_err)?,
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
        reason: r.get(16)?,
        cursor_from: parse_opt("runs.cursor_from", r.get(17)?).map_err(to_sql_err)?,
    })
}

/// Takes the connector's lock and opens a run (see [`crate::Store::begin_run`]), of the
/// connector as `prepared` read it when given ([`crate::Store::begin_run_of`]).
pub fn begin(
    conn: &mut Connection,
    connector_id: i64,
    prepared: Option<&Connector>,
    mode: RunMode,
    holder: &str,
    ttl: chrono::Duration,
) -> Result<Run> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = Utc::now();
    let current = super::connectors::by_id(&tx, connector_id)?;
    let Connector { name, cursor, .. } =
        crate::types::as_prepared(connector_id, prepared, current)?;
    if let Some(held) = lock(&tx, connector_id)? {
        if held.expires > now {
            return Err(held.refuse(name));
        }
        tx.execute(
            "DELETE FROM connector_locks WHERE connector_id = ?1",
            [connector_id],
        )?;
    }
    // Runs left Processing by a process that died are ended now, with the reason. Their
    // batches are stored, but the assets' risk a run's end refreshes never was.
    let interrupted = tx.execute(
        "UPDATE runs SET state = 'Errored', ended_at = MAX(?2, started_at),
             reason = 'interrupted: the process stopped before the run finished'
         WHERE connector_id = ?1 AND state = 'Processing'",
        params![connector_id, ts(now)],
    )?;
    if interrupted > 0 {
        let assets = super::listing::asset_ids(&tx, &name)?;
        super::risk::refresh_assets(&tx, connector_id, assets.iter().map(String::as_str))?;
    }
    tx.execute(
        "INSERT INTO runs(connector_id, mode, state, started_at, cursor_from) VALUES (?1, ?2, 'Processing', ?3, ?4)",
        params![
            connector_id,
            mode.as_str(),
            ts(now),
            if mode == RunMode::Delta { cursor.map(ts) } else { None }
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO connector_locks(connector_id, run_id, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![connector_id, run_id, holder, ts(now), ts(now + ttl)],
    )?;
    tx.execute(
        "UPDATE connectors SET state = 'Processing', state_reason = NULL, updated_at = ?2 WHERE id = ?1",
        params![connector_id, ts(now)],
    )?;
    let run = by_id_in(&tx, run_id)?.ok_or(StoreError::NoSuchRun(run_id))?;
    tx.commit()?;
    Ok(run)
}

/// The connector's lock (see [`crate::Store::run_lock`]).
pub fn lock(conn: &Connection, connector_id: i64) -> Result<Option<RunLock>> {
    let row: Option<(i64, String, String, String)> = conn
        .query_row(
            "SELECT run_id, holder, acquired_at, expires_at FROM connector_locks WHERE connector_id = ?1",
            [connector_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    row.map(|(run_id, holder, since, expires)| {
        Ok(RunLock {
            run_id,
            holder,
            since: parse("connector_locks.acquired_at", &since)?,
            expires: parse("connector_locks.expires_at", &expires)?,
        })
    })
    .transpose()
}

/// Extends the run's lease; a run that no longer holds its lock is told so
/// ([`StoreError::LockLost`]) rather than renewing nothing in silence.
pub fn renew_lock(conn: &Connection, run_id: i64, ttl: chrono::Duration) -> Result<()> {
    let renewed = conn.execute(
        "UPDATE connector_locks SET expires_at = ?2 WHERE run_id = ?1",
        params![run_id, ts(Utc::now() + ttl)],
    )?;
    if renewed == 1 {
        return Ok(());
    }
    let taken_by: Option<i64> = conn
        .query_row(
            "SELECT l.run_id FROM runs r JOIN connector_locks l ON l.connector_id = r.connector_id
             WHERE r.id = ?1",
            [run_id],
            |r| r.get(0),
        )
        .optional()?;
    Err(StoreError::LockLost { run_id, taken_by })
}

/// The error of a write of `run` once its lock is no longer its own, inside the write's
/// transaction: a run that stalled past its lease and resumed wrote beside the run that
/// took its connector over.
pub fn lost_lock(conn: &Connection, run: &Run) -> Result<Option<StoreError>> {
    let holder: Option<i64> = conn
        .query_row(
            "SELECT run_id FROM connector_locks WHERE connector_id = ?1",
            [run.connector_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok((holder != Some(run.id)).then_some(StoreError::LockLost {
        run_id: run.id,
        taken_by: holder,
    }))
}

/// Records the end of a run that lost its lock: Errored, saying so, with the counters
/// its batches saved (its end's own are those of a failure: none); the connector's
/// state, cursor and lock are the other run's.
pub fn record_lost(tx: &Connection, run: &Run, lost: &StoreError) -> Result<()> {
    tx.execute(
        "UPDATE runs SET state = 'Errored', ended_at = MAX(?2, started_at), reason = ?3 WHERE id = ?1",
        params![run.id, ts(Utc::now()), lost.to_string()],
    )?;
    Ok(())
}

pub fn save_counters(tx: &Connection, run_id: i64, c: &RunCounters) -> Result<()> {
    tx.execute(
        "UPDATE runs SET fetched = ?2, inserted = ?3, updated = ?4, unchanged = ?5, failed = ?6,
             warnings = ?7, retries = ?8, requests = ?9, closed = ?10
         WHERE id = ?1",
        params![
            run_id,
            c.fetched as i64,
            c.inserted as i64,
            c.updated as i64,
            c.unchanged as i64,
            c.failed as i64,
            c.warnings as i64,
            c.retries as i64,
            c.requests as i64,
            c.closed as i64
        ],
    )?;
    Ok(())
}

/// Saves a run's progress with a batch it wrote, inside the batch's transaction (see
/// [`crate::Store::write_batch`]): a run killed or taken over later keeps counts that
/// match what it wrote (the runner's counters lagged a batch or two behind the writes).
pub fn save_progress(
    tx: &Connection,
    run_id: i64,
    progress: &RunCounters,
    batch: &BatchCounts,
) -> Result<()> {
    tx.execute(
        "UPDATE runs SET fetched = ?2, failed = ?3, warnings = ?4, retries = ?5, requests = ?6,
             inserted = inserted + ?7, updated = updated + ?8, unchanged = unchanged + ?9
         WHERE id = ?1",
        params![
            run_id,
            progress.fetched as i64,
            progress.failed as i64,
            progress.warnings as i64,
            progress.retries as i64,
            progress.requests as i64,
            batch.inserted as i64,
            batch.updated as i64,
            batch.unchanged as i64
        ],
    )?;
    Ok(())
}

/// Ends a run inside the caller's transaction: counters, state, connector state, cursor
/// (only when Processed), lock released.
pub fn finish(tx: &Connection, run: &Run, end: &RunEnd, counters: &RunCounters) -> Result<()> {
    let now = ts(Utc::now());
    save_counters(tx, run.id, counters)?;
    tx.execute(
        "UPDATE runs SET state = ?2, ended_at = MAX(?3, started_at), reason = ?4 WHERE id = ?1",
        params![run.id, end.state.as_str(), now, end.reason],
    )?;
    // The connector is another run's once that run took the lock over (this one's lease
    // ran out while it stalled): its state and cursor are that run's to set.
    let taken_over: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM connector_locks WHERE connector_id = ?1 AND run_id <> ?2)",
        params![run.connector_id, run.id],
        |r| r.get(0),
    )?;
    if !taken_over {
        tx.execute(
            "UPDATE connectors SET state = ?2, state_reason = ?3, updated_at = ?4 WHERE id = ?1",
            params![
                run.connector_id,
                end.connector_state.as_str(),
                end.reason,
                now
            ],
        )?;
    }
    if !taken_over
        && end.state == RunState::Processed
        && let Some(cursor) = end.cursor
        && in_scope(tx, run, end.scope.as_ref())?
    {
        tx.execute(
            "UPDATE connectors SET cursor = ?2 WHERE id = ?1",
            params![run.connector_id, ts(cursor)],
        )?;
    }
    tx.execute("DELETE FROM connector_locks WHERE run_id = ?1", [run.id])?;
    Ok(())
}

/// Whether `run`'s connector still fetches from where the run began ([`RunEnd::scope`]).
fn in_scope(tx: &Connection, run: &Run, scope: Option<&RunScope>) -> Result<bool> {
    let Some(scope) = scope else {
        return Ok(true);
    };
    let current = super::connectors::by_id(tx, run.connector_id)?;
    Ok(crate::types::still_in_scope(run, scope, current.as_ref()))
}

pub fn insert_issues(tx: &Connection, run_id: i64, issues: &[RecordIssue]) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO run_issues(run_id, level, location, message) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for i in issues {
        let level = match i.level {
            IssueLevel::Error => "error",
            IssueLevel::Warning => "warning",
        };
        st.execute(params![run_id, level, i.location, i.message])?;
    }
    Ok(())
}

pub fn list(conn: &Connection, connector_id: i64, limit: u64) -> Result<Vec<Run>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM runs r JOIN connectors c ON c.id = r.connector_id
         WHERE r.connector_id = ?1 ORDER BY r.id DESC LIMIT ?2"
    ))?;
    let rows = st
        .query_map(params![connector_id, limit as i64], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn by_id_in(conn: &Connection, run_id: i64) -> Result<Option<Run>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM runs r JOIN connectors c ON c.id = r.connector_id WHERE r.id = ?1"),
            [run_id],
            from_row,
        )
        .optional()?)
}

pub fn by_id(conn: &Connection, run_id: i64) -> Result<Option<Run>> {
    by_id_in(conn, run_id)
}

pub fn issues(conn: &Connection, run_id: i64) -> Result<Vec<RecordIssue>> {
    let mut st = conn.prepare_cached(
        "SELECT level, location, message FROM run_issues WHERE run_id = ?1 ORDER BY id",
    )?;
    let rows = st
        .query_map([run_id], |r| {
            let level: String = r.get(0)?;
            Ok(RecordIssue {
                level: if level == "error" {
                    IssueLevel::Error
                } else {
                    IssueLevel::Warning
                },
                location: r.get(1)?,
                message: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Every connector's [`RunTimes`] (see [`crate::Store::run_times`]): the newest run in
/// each state, by id on the connector's run index.
pub fn times(conn: &Connection) -> Result<Vec<RunTimes>> {
    let mut st = conn.prepare_cached(RunTimes::SQL)?;
    let rows = st.query_map([], |r| {
        Ok(RunTimes {
            connector_id: r.get(0)?,
            last_success: parse_opt("runs.ended_at", r.get(1)?).map_err(to_sql_err)?,
            running_since: parse_opt("runs.started_at", r.get(2)?).map_err(to_sql_err)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
