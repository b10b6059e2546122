//! Runs written as one transaction: an import of one report file stores all of it or
//! nothing.
//!
//! [`crate::Store::begin_atomic`] opens a second connection to the database and starts
//! `BEGIN IMMEDIATE` on it. From then on every write of that run — batches, the
//! auto-close, inactivity marking, the lock renewal — goes through that connection, and
//! [`crate::Store::finish_run`] commits it when the run is Processed. Any other end
//! rolls it back and records the run's end (and its first problems) through the usual
//! writer, with the counters of what was undone set to zero. Memory stays flat however
//! large the file: pending pages live in the WAL file, not in RAM. While an atomic run
//! is open it holds SQLite's one write lock, so other writers wait for it (busy
//! timeout).

use super::{SqliteStore, configure, runs};
use crate::types::*;
use crate::{Result, StoreError};
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::MutexGuard;

/// Problems of an atomic run kept to be recorded again after a rollback (the first ones
/// are what explains a failure; the rest are counted).
const KEPT_ISSUES: usize = 1000;

/// An atomic run in progress.
pub struct Atomic {
    conn: Connection,
    issues: Vec<RecordIssue>,
    dropped_issues: u64,
}

impl Atomic {
    fn keep(&mut self, issues: &[RecordIssue]) {
        for i in issues {
            if self.issues.len() < KEPT_ISSUES {
                self.issues.push(i.clone());
            } else {
                self.dropped_issues += 1;
            }
        }
    }
}

/// Atomic runs by run id.
pub type Atomics = HashMap<i64, Atomic>;

impl SqliteStore {
    fn atomics(&self) -> MutexGuard<'_, Atomics> {
        self.atomic.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn atomic_begin(&self, run: &Run) -> Result<()> {
        let conn = Connection::open(&self.path).map_err(|source| StoreError::Open {
            path: self.path.display().to_string(),
            source,
        })?;
        configure(&conn, super::SIDE_CACHE_KIB)?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let old = self.atomics().insert(
            run.id,
            Atomic {
                conn,
                issues: Vec::new(),
                dropped_issues: 0,
            },
        );
        if let Some(old) = old {
            let _ = old.conn.execute_batch("ROLLBACK");
        }
        Ok(())
    }

    /// Runs `f` on the run's atomic connection; `None` when the run is not atomic.
    pub(super) fn with_atomic<T>(
        &self,
        run_id: i64,
        f: impl FnOnce(&mut Atomic) -> Result<T>,
    ) -> Option<Result<T>> {
        let mut all = self.atomics();
        all.get_mut(&run_id).map(f)
    }

    pub(super) fn atomic_write_batch(
        &self,
        run: &Run,
        batch: &Batch,
        progress: &RunCounters,
    ) -> Option<Result<BatchCounts>> {
        self.with_atomic(run.id, |a| {
            let counts = self.write_data(&a.conn, run, batch)?;
            runs::save_progress(&a.conn, run.id, progress, &counts)?;
            a.keep(&batch.issues);
            Ok(counts)
        })
    }

    /// Ends an atomic run: commit when Processed, else roll back and record the end.
    pub(super) fn atomic_finish(
        &self,
        run: &Run,
        last: &Batch,
        end: &RunEnd,
    ) -> Option<Result<BatchCounts>> {
        let mut a = self.atomics().remove(&run.id)?;
        if end.state == RunState::Processed {
            let committed = (|| {
                let counts = self.write_data(&a.conn, run, last)?;
                self.rescore_touched(&a.conn, run)?;
                let mut counters = end.counters;
                counters.add(&counts);
                runs::finish(&a.conn, run, end, &counters)?;
                a.conn.execute_batch("COMMIT")?;
                Ok(counts)
            })();
            if committed.is_err() {
                let _ = a.conn.execute_batch("ROLLBACK");
            }
            return Some(committed);
        }
        Some(self.rolled_back_finish(&mut a, run, last, end))
    }

    fn rolled_back_finish(
        &self,
        a: &mut Atomic,
        run: &Run,
        last: &Batch,
        end: &RunEnd,
    ) -> Result<BatchCounts> {
        self.forget_run(run.id);
        a.conn.execute_batch("ROLLBACK")?;
        a.keep(&last.issues);
        let mut conn = self.w();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        runs::insert_issues(&tx, run.id, &a.issues)?;
        let mut end = end.clone();
        let mut counters = end.counters;
        counters.inserted = 0;
        counters.updated = 0;
        counters.unchanged = 0;
        counters.closed = 0;
        let mut note = "rolled back: nothing from this run was stored".to_string();
        if a.dropped_issues > 0 {
            note.push_str(&format!(
                " ({} more problems were not kept)",
                a.dropped_issues
            ));
        }
        end.reason = Some(match end.reason.take() {
            Some(r) => format!("{r}; {note}"),
            None => note,
        });
        end.counters = counters;
        runs::finish(&tx, run, &end, &counters)?;
        tx.commit()?;
        Ok(BatchCounts::default())
    }

    /// Drops an atomic run's uncommitted writes; whether there was one.
    pub(super) fn atomic_rollback(&self, run_id: i64) -> Result<bool> {
        match self.atomics().remove(&run_id) {
            Some(a) => {
                a.conn.execute_batch("ROLLBACK")?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The connection an atomic run's other writes go through.
pub(super) fn conn(a: &Atomic) -> &Connection {
    &a.conn
}
