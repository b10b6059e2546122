//! What every request handler shares: the runner (store and key), the running syncs, the
//! scheduler's plans, the metrics and the turns of exports.

use crate::error::ApiError;
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::scheduler::Plans;
use runner::Runner;
use std::sync::Arc;
use store::{Store, StoreError};

/// The state of the HTTP server.
#[derive(Clone)]
pub struct AppState {
    pub runner: Runner,
    pub jobs: Arc<Jobs>,
    pub plans: Arc<Plans>,
    pub metrics: Arc<Metrics>,
    /// Turns of `/api/export`: [`EXPORTS_AT_ONCE`] run at a time, the others wait.
    pub exports: Arc<tokio::sync::Semaphore>,
}

/// Exports `/api/export` runs at once.
pub const EXPORTS_AT_ONCE: usize = 2;

impl AppState {
    /// Why a connector shown Processing is not running any more (its process exited, or
    /// its lock ran out), unless this server runs it; see [`Runner::interruption`].
    pub async fn interruption(&self, c: &store::Connector) -> Result<Option<String>, ApiError> {
        if self.jobs.is_running(&c.name) {
            return Ok(None);
        }
        let (runner, c) = (self.runner.clone(), c.clone());
        tokio::task::spawn_blocking(move || runner.interruption(&c))
            .await
            .map_err(|e| ApiError::internal(format!("a store task failed: {e}")))?
            .map_err(ApiError::from)
    }

    /// The lock of a run of the connector under way anywhere (another worker, a CLI
    /// sync); see [`Runner::running_lock`].
    pub async fn running_lock(
        &self,
        connector_id: i64,
    ) -> Result<Option<store::RunLock>, ApiError> {
        let runner = self.runner.clone();
        tokio::task::spawn_blocking(move || runner.running_lock(connector_id))
            .await
            .map_err(|e| ApiError::internal(format!("a store task failed: {e}")))?
            .map_err(ApiError::from)
    }

    /// Runs a store call on a blocking thread (store calls block).
    pub async fn store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.runner.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ApiError::internal(format!("a store task failed: {e}")))?
            .map_err(ApiError::from)
    }
}
