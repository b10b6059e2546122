//! Runs written as one transaction: an import of one report file stores all of it or
//! nothing (see [`crate::Store::begin_atomic`]).
//!
//! `begin_atomic` opens a connection of its own (outside the pool) and `BEGIN`s on it.
//! Every write of that run — batches, auto-close, inactivity marking — then goes through
//! that connection (its lock is renewed through the pool, committed, so that others see
//! it live), and `finish_run` commits it when the run is Processed.
//! Any other end rolls it back and records the run's end (with its first problems and
//! the undone counters zeroed) through the pool. Other connectors' runs go on meanwhile:
//! the open transaction only holds the rows it wrote.

use super::{PgStore, data, hop, pool::drop_clients, runs};
use crate::Result;
use crate::types::*;
use postgres::Client;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Problems of an atomic run kept to be recorded again after a rollback.
const KEPT_ISSUES: usize = 1000;

/// An atomic run in progress.
pub struct Atomic {
    pub client: Client,
    issues: Vec<RecordIssue>,
    dropped_issues: u64,
}

impl Atomic {
    pub fn keep(&mut self, issues: &[RecordIssue]) {
        for i in issues {
            if self.issues.len() < KEPT_ISSUES {
                self.issues.push(i.clone());
            } else {
                self.dropped_issues += 1;
            }
        }
    }
}

/// Atomic runs by run id; their connections are closed (rolling back) when dropped.
#[derive(Default)]
pub struct Atomics(Mutex<HashMap<i64, Atomic>>);

impl Atomics {
    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Atomic>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Atomics {
    fn drop(&mut self) {
        let clients = self.lock().drain().map(|(_, a)| a.client).collect();
        drop_clients(clients);
    }
}

impl PgStore {
    pub(super) fn atomic_begin(&self, run: &Run) -> Result<()> {
        let client = hop(|| -> Result<Client> {
            let mut client = self.pool.connect()?;
            client.batch_execute("BEGIN")?;
            runs::end_if_stalled(&mut client)?;
            Ok(client)
        })?;
        let old = self.atomics.lock().insert(
            run.id,
            Atomic {
                client,
                issues: Vec::new(),
                dropped_issues: 0,
            },
        );
        if let Some(old) = old {
            drop_clients(vec![old.client]);
        }
        Ok(())
    }

    /// Runs `f` on the run's atomic connection; `None` when the run is not atomic.
    pub(super) fn with_atomic<T: Send>(
        &self,
        run_id: i64,
        f: impl FnOnce(&mut Atomic) -> Result<T> + Send,
    ) -> Option<Result<T>> {
        let mut all = self.atomics.lock();
        let a = all.get_mut(&run_id)?;
        Some(hop(|| f(a)))
    }

    /// Ends an atomic run: commit when Processed, else roll back and record the end.
    pub(super) fn atomic_finish(
        &self,
        run: &Run,
        last: &Batch,
        end: &RunEnd,
    ) -> Option<Result<BatchCounts>> {
        let mut a = self.atomics.lock().remove(&run.id)?;
        if end.state == RunState::Processed {
            let committed = hop(|| {
                let r = (|| {
                    // A run taken over while it stalled commits nothing.
                    if let Some(lost) = runs::lost_lock(&mut a.client, run)? {
                        return Err(lost);
                    }
                    let counts = data::write(&mut a.client, run, last)?;
                    let mut counters = end.counters;
                    counters.add(&counts);
                    runs::finish(&mut a.client, run, end, &counters)?;
                    a.client.batch_execute("COMMIT")?;
                    Ok(counts)
                })();
                if r.is_err() {
                    let _ = a.client.batch_execute("ROLLBACK");
                }
                drop(a);
                r
            });
            return Some(committed);
        }
        Some(self.rolled_back_finish(a, run, last, end))
    }

    fn rolled_back_finish(
        &self,
        mut a: Atomic,
        run: &Run,
        last: &Batch,
        end: &RunEnd,
    ) -> Result<BatchCounts> {
        a.keep(&last.issues);
        let issues = std::mem::take(&mut a.issues);
        let dropped = a.dropped_issues;
        hop(move || -> Result<()> {
            a.client.batch_execute("ROLLBACK")?;
            drop(a);
            Ok(())
        })?;
        let mut end = end.clone();
        let mut counters = end.counters;
        counters.inserted = 0;
        counters.updated = 0;
        counters.unchanged = 0;
        counters.closed = 0;
        let mut note = "rolled back: nothing from this run was stored".to_string();
        if dropped > 0 {
            note.push_str(&format!(" ({dropped} more problems were not kept)"));
        }
        end.reason = Some(match end.reason.take() {
            Some(r) => format!("{r}; {note}"),
            None => note,
        });
        end.counters = counters;
        self.tx(|tx| {
            runs::insert_issues(tx, run.id, &issues)?;
            runs::finish(tx, run, &end, &counters)
        })?;
        Ok(BatchCounts::default())
    }

    /// Drops an atomic run's uncommitted writes; whether there was one.
    pub(super) fn atomic_rollback(&self, run_id: i64) -> Result<bool> {
        match self.atomics.lock().remove(&run_id) {
            Some(mut a) => {
                hop(move || -> Result<()> {
                    a.client.batch_execute("ROLLBACK")?;
                    drop(a);
                    Ok(())
                })?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
