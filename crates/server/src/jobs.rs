//! The syncs running in this process: started by the scheduler or the API, one per
//! connector at a time, each with its own stop switch under the server's.
//!
//! A scheduled sync runs a due run this worker claimed in the store
//! ([`Jobs::start_claimed`]): its lease is renewed while the sync goes on, and the due
//! run is completed with the run it became. Should the lease be lost (this worker stalled
//! past its expiry and another took the due run over), the sync is stopped, and its run
//! says so.
//!
//! Shutdown throws the server's switch, which stops every running sync; the runner then
//! writes the batch it holds, records the run as Cancelled and releases the connector's
//! lock, and a claimed due run is given back so another worker (or the next start) runs
//! it. [`Jobs::drain`] waits for that.

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::scheduler::blocking;
use runner::{Progress, RunReport, Runner, RunnerError, Stop, SyncOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::due::Claim;
use store::{RunMode, RunState, StoreError};
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Who started a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Api,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Api => "api",
        }
    }
}

/// A sync running in this process.
#[derive(Debug, Clone)]
pub struct RunningSync {
    pub trigger: Trigger,
    pub started: chrono::DateTime<chrono::Utc>,
    pub full: bool,
    cancel: Stop,
}

/// The connector already has a sync running in this process.
#[derive(Debug, thiserror::Error)]
#[error("connector '{0}' already has a sync running")]
pub struct AlreadyRunning(pub String);

/// The syncs of this process.
pub struct Jobs {
    runner: Runner,
    metrics: Arc<Metrics>,
    root: Stop,
    tracker: TaskTracker,
    running: Mutex<HashMap<String, RunningSync>>,
    /// Told when a scheduled sync ends: the scheduler claims the next due run then, not
    /// at its next tick.
    slot_freed: tokio::sync::Notify,
}

/// Removes a sync from the table when its task ends, however it ends.
struct Registered {
    jobs: Arc<Jobs>,
    name: String,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let removed = self.jobs.lock().remove(&self.name);
        if let Some(sync) = removed {
            self.jobs.metrics.running_changed(-1.0);
            if sync.trigger == Trigger::Schedule {
                self.jobs.slot_freed.notify_one();
            }
        }
    }
}

/// Feeds a run's progress into the metrics.
struct MetricsProgress {
    metrics: Arc<Metrics>,
    connector: String,
}

impl Progress for MetricsProgress {
    fn records(&self, n: u64) {
        self.metrics.records_fetched(&self.connector, n);
    }
    fn client_stats(&self, stats: &asoc::ClientStats) {
        self.metrics.client_stats(&self.connector, stats);
    }
}

impl Jobs {
    pub fn new(runner: Runner, metrics: Arc<Metrics>) -> Arc<Jobs> {
        Arc::new(Jobs {
            runner,
            metrics,
            root: Stop::new(),
            tracker: TaskTracker::new(),
            running: Mutex::new(HashMap::new()),
            slot_freed: tokio::sync::Notify::new(),
        })
    }

    /// Returns once a scheduled sync has ended since the last call (at once when one
    /// ended meanwhile).
    pub async fn slot_freed(&self) {
        self.slot_freed.notified().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunningSync>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a sync of `name` in the background; the handle yields its report.
    pub fn start(
        self: &Arc<Self>,
        name: &str,
        full: bool,
        trigger: Trigger,
    ) -> Result<JoinHandle<Result<RunReport, RunnerError>>, AlreadyRunning> {
        let (cancel, guard) = self.register(name, full, trigger)?;
        let jobs = self.clone();
        let name = name.to_string();
        Ok(self
            .tracker
            .spawn(async move { jobs.sync(name, full, trigger, None, cancel, guard).await }))
    }

    /// Runs the due run `claim` in the background: renews its lease every third of
    /// `lease`, then completes it with the run's outcome (or gives it back when the server
    /// is shutting down, so it runs again).
    pub fn start_claimed(self: &Arc<Self>, claim: Claim, clock: Arc<dyn Clock>, lease: Duration) {
        let full = claim.mode == Some(RunMode::Full);
        let jobs = self.clone();
        match self.register(&claim.connector, full, Trigger::Schedule) {
            Err(e) => self.skip_claimed(claim, format!("skipped: {e}"), clock),
            Ok((cancel, guard)) => {
                self.tracker.spawn(async move {
                    // Aborted when this task ends, a panicking sync included: the lease
                    // was renewed for ever, the due run kept claimed, and the connector's
                    // schedule stopped on every worker.
                    let renewals = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(
                        jobs.clone().keep_lease(
                            claim.clone(),
                            clock.clone(),
                            lease,
                            cancel.clone(),
                        ),
                    ));
                    let name = claim.connector.clone();
                    // The run's lock lives as long as the lease, so a dead worker's run does
                    // not keep the connector locked after its due run was taken over.
                    let ttl = Some(lease_ttl(lease));
                    let result = jobs
                        .clone()
                        .sync(name, full, Trigger::Schedule, ttl, cancel, guard)
                        .await;
                    drop(renewals);
                    jobs.end_claim(&claim, &result, clock.as_ref()).await;
                });
            }
        }
    }

    /// Marks a claimed due run done without running it, with `outcome` saying why.
    pub fn skip_claimed(self: &Arc<Self>, claim: Claim, outcome: String, clock: Arc<dyn Clock>) {
        let jobs = self.clone();
        self.tracker.spawn(async move {
            jobs.complete(&claim, None, &outcome, clock.as_ref()).await;
        });
    }

    /// Adds `name` to the running table; its stop switch and the guard that removes it
    /// again.
    fn register(
        self: &Arc<Self>,
        name: &str,
        full: bool,
        trigger: Trigger,
    ) -> Result<(Stop, Registered), AlreadyRunning> {
        let cancel = self.root.child();
        {
            let mut running = self.lock();
            if running.contains_key(name) {
                return Err(AlreadyRunning(name.to_string()));
            }
            running.insert(
                name.to_string(),
                RunningSync {
                    trigger,
                    started: chrono::Utc::now(),
                    full,
                    cancel: cancel.clone(),
                },
            );
        }
        self.metrics.running_changed(1.0);
        let guard = Registered {
            jobs: self.clone(),
            name: name.to_string(),
        };
        Ok((cancel, guard))
    }

    /// One sync through the runner, counted in the metrics.
    async fn sync(
        self: Arc<Self>,
        name: String,
        full: bool,
        trigger: Trigger,
        lock_ttl: Option<chrono::Duration>,
        cancel: Stop,
        guard: Registered,
    ) -> Result<RunReport, RunnerError> {
        let _guard = guard;
        let metrics = self.metrics.clone();
        let started = Instant::now();
        tracing::info!(connector = %name, trigger = trigger.as_str(), full, "sync starting");
        let progress = MetricsProgress {
            metrics: metrics.clone(),
            connector: name.clone(),
        };
        let mut opts = SyncOptions {
            full,
            cancel,
            ..SyncOptions::default()
        };
        if let Some(ttl) = lock_ttl {
            opts.lock_ttl = ttl;
        }
        // Every line the run logs names its connector (a retry's warning named only the
        // endpoint, the same for every connector of a tenant).
        let span = tracing::info_span!("sync", connector = %name);
        let result = self
            .runner
            .sync(&name, opts, &progress)
            .instrument(span)
            .await;
        match &result {
            Ok(report) => {
                let r = &report.run;
                metrics.run_finished(
                    &name,
                    &r.state.as_str().to_ascii_lowercase(),
                    Some(&r.counters),
                    started.elapsed(),
                );
                let (c, seconds) = (&r.counters, started.elapsed().as_secs_f64());
                let reason = r.reason.as_deref().unwrap_or_default();
                if r.state == RunState::Errored {
                    tracing::warn!(connector = %name, run = r.id, mode = r.mode.as_str(), state = %r.state,
                        seconds, %reason, "sync ended");
                } else {
                    tracing::info!(connector = %name, run = r.id, mode = r.mode.as_str(), state = %r.state,
                        seconds, fetched = c.fetched, new = c.inserted, updated = c.updated,
                        closed = c.closed, warnings = c.warnings, %reason, "sync ended");
                }
            }
            Err(e) => {
                let outcome = match e {
                    RunnerError::Store(StoreError::Locked { .. }) => "locked",
                    _ => "failed",
                };
                metrics.run_finished(&name, outcome, None, started.elapsed());
                tracing::warn!(connector = %name, error = %e, "sync could not run");
            }
        }
        result
    }

    /// Renews the claim's lease until aborted; cancels the sync if the claim was lost.
    async fn keep_lease(
        self: Arc<Self>,
        claim: Claim,
        clock: Arc<dyn Clock>,
        lease: Duration,
        cancel: Stop,
    ) {
        let ttl = lease_ttl(lease);
        loop {
            tokio::time::sleep(lease / 3).await;
            let (store, c, now) = (self.runner.store.clone(), claim.clone(), clock.now());
            match blocking(move || store.renew_claim(&c, ttl, now)).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(connector = %claim.connector, due_run = claim.due_run_id,
                        "lost the due run's lease to another worker; stopping this sync");
                    cancel.stop("another worker took this run's due run over (its lease ran out)");
                    return;
                }
                Err(e) => {
                    tracing::warn!(connector = %claim.connector, error = %e, "could not renew the due run's lease")
                }
            }
        }
    }

    /// Completes the claim with how its sync ended, or gives it back on shutdown.
    async fn end_claim(
        &self,
        claim: &Claim,
        result: &Result<RunReport, RunnerError>,
        clock: &dyn Clock,
    ) {
        let (run_id, outcome) = match result {
            Ok(r) if r.run.state == RunState::Cancelled && self.root.is_stopped() => {
                let (store, c) = (self.runner.store.clone(), claim.clone());
                match blocking(move || store.release_claim(&c)).await {
                    Ok(true) => {
                        tracing::info!(connector = %claim.connector, due_run = claim.due_run_id,
                        "gave the interrupted due run back; it runs again on the next start or another worker")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(connector = %claim.connector, error = %e, "could not give the due run back")
                    }
                }
                return;
            }
            Ok(r) => (Some(r.run.id), r.run.state.as_str().to_string()),
            Err(RunnerError::Store(StoreError::Locked { .. })) => (
                None,
                "skipped: the connector was locked by another sync".into(),
            ),
            Err(e) => (None, one_line(&format!("failed: {e}"))),
        };
        self.complete(claim, run_id, &outcome, clock).await;
    }

    /// Marks the claimed due run done (logging when the claim was lost meanwhile).
    async fn complete(&self, claim: &Claim, run_id: Option<i64>, outcome: &str, clock: &dyn Clock) {
        let (store, c, o, now) = (
            self.runner.store.clone(),
            claim.clone(),
            outcome.to_string(),
            clock.now(),
        );
        match blocking(move || store.complete_claim(&c, run_id, &o, now)).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(connector = %claim.connector, due_run = claim.due_run_id,
                "the due run's lease was taken over before it completed"),
            Err(e) => {
                tracing::warn!(connector = %claim.connector, error = %e, "could not complete the due run")
            }
        }
    }

    /// The metrics this process exports.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// How many scheduled syncs run in this process.
    pub fn scheduled(&self) -> usize {
        self.lock()
            .values()
            .filter(|r| r.trigger == Trigger::Schedule)
            .count()
    }

    /// Whether `name` has a sync running in this process.
    pub fn is_running(&self, name: &str) -> bool {
        self.lock().contains_key(name)
    }

    /// The sync of `name`, if one runs.
    pub fn get(&self, name: &str) -> Option<RunningSync> {
        self.lock().get(name).cloned()
    }

    /// Asks the sync of `name` to stop, saying `why`; whether one was running.
    pub fn cancel(&self, name: &str, why: &str) -> bool {
        match self.lock().get(name) {
            Some(r) => {
                r.cancel.stop(why);
                true
            }
            None => false,
        }
    }

    /// Stops every sync (with the server's switch) and waits until `deadline` for them to
    /// record their state; whether they all did.
    pub async fn drain(&self, deadline: tokio::time::Instant) -> bool {
        self.cancel_all();
        self.tracker.close();
        tokio::time::timeout_at(deadline, self.tracker.wait())
            .await
            .is_ok()
    }

    /// Cancels every running sync ("the service stopped"), and any started after.
    pub fn cancel_all(&self) {
        self.root.stop("the service stopped");
    }
}

/// A lease as the store takes it.
pub fn lease_ttl(lease: Duration) -> chrono::Duration {
    chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(120))
}

/// The first line of `text`, at most 300 characters (a due run's outcome).
fn one_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(300)
        .collect()
}
