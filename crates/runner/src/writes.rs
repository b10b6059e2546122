//! Batches on their way into the store, written in order by a three-stage pipeline:
//! while the store writes one batch, the raw records of the next are encoded (JSON,
//! content hash, LZ4) on another thread, and the run reads and maps the one after. The
//! store has one writer, so everything that is not SQL is kept off it.

use crate::RunnerError;
use crate::sync::blocking;
use std::collections::VecDeque;
use std::sync::Arc;
use store::{Batch, BatchCounts, Run, RunCounters, Store};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// At most this many batches are in flight (one written, one encoded and waiting), so
/// memory holds three batches whatever the run's size.
const IN_FLIGHT: usize = 2;

/// The batches in flight, oldest first.
#[derive(Default)]
pub(crate) struct Writes {
    queue: VecDeque<JoinHandle<Result<BatchCounts, RunnerError>>>,
    /// Fires once the newest batch is written; the next one waits for it. Dropped
    /// unfired when that write failed, so nothing after a failed batch is written.
    newest_written: Option<oneshot::Receiver<()>>,
    /// What the written batches said of findings whose id the run had written before.
    pub repeats: Repeats,
}

/// Findings whose external id the run had written before, summed over its batches (see
/// [`BatchCounts::repeated`]): a count and the first id, whatever the run's size.
#[derive(Debug, Clone, Default)]
pub(crate) struct Repeats {
    pub count: u64,
    pub first: Option<String>,
}

impl Repeats {
    pub fn add(&mut self, c: &BatchCounts) {
        self.count += c.repeated;
        if self.first.is_none() {
            self.first.clone_from(&c.first_repeated);
        }
    }
}

impl Writes {
    /// Queues `batch` behind the ones in flight, first waiting until there is room.
    /// `counters` (the run's so far, which the store saves with the batch for progress)
    /// gets what the batches that finished meanwhile did.
    pub async fn push(
        &mut self,
        store: Arc<dyn Store>,
        run: Run,
        batch: Batch,
        counters: &mut RunCounters,
    ) -> Result<(), RunnerError> {
        while self.queue.len() >= IN_FLIGHT {
            self.settle_oldest(counters).await?;
        }
        let after = self.newest_written.take();
        let (written, newest_written) = oneshot::channel();
        self.newest_written = Some(newest_written);
        let progress = *counters;
        self.queue.push_back(tokio::spawn(
            async move {
                let batch = blocking(move || {
                    let mut batch = batch;
                    batch.prepare();
                    Ok(batch)
                })
                .await?;
                if let Some(after) = after {
                    after.await.map_err(|_| {
                        RunnerError::Internal("an earlier batch was not written".into())
                    })?;
                }
                let counts = blocking(move || store.write_batch(&run, &batch, &progress)).await?;
                let _ = written.send(());
                Ok(counts)
            }
            .in_current_span(),
        ));
        Ok(())
    }

    /// Waits for every batch in flight; the first failure is the one returned.
    pub async fn settle(&mut self, counters: &mut RunCounters) -> Result<(), RunnerError> {
        while !self.queue.is_empty() {
            self.settle_oldest(counters).await?;
        }
        Ok(())
    }

    async fn settle_oldest(&mut self, counters: &mut RunCounters) -> Result<(), RunnerError> {
        if let Some(write) = self.queue.pop_front() {
            let counts = write
                .await
                .map_err(|e| RunnerError::Internal(format!("a store task failed: {e}")))??;
            counters.add(&counts);
            self.repeats.add(&counts);
        }
        Ok(())
    }
}
