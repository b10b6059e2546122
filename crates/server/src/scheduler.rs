//! The scheduler: a tokio loop that starts each connector's sync when its schedule says.
//!
//! Every tick it reads the connectors, works out each scheduled connector's next due time
//! ([`crate::schedule`]) from the start of its last run (or the last claim of a due run),
//! marks waiting connectors Scheduled (with the next run time as the reason), and records
//! the runs that are due in the store's queue of due runs ([`store::due`]). Then it
//! *claims* due runs from that queue — with a lease, up to
//! [`SchedulerConfig::max_running`] at a time — and runs them through
//! [`crate::jobs::Jobs::start_claimed`]. A plan is kept until the last run or the
//! schedule changes; its jitter comes from the connector and its last start, so every
//! worker plans the same time.
//!
//! Several `serve` processes on one database share the work this way: every scheduler
//! records the same slot, the store keeps it once, and exactly one worker claims it
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL). A worker that dies stops renewing its lease,
//! and after the lease expires another worker takes the due run over. The connector's
//! run lock still guards against a manual `sync` running at the same time.

use crate::clock::Clock;
use crate::jobs::Jobs;
use crate::outage::Outage;
use crate::schedule::{Due, Schedule};
use chrono::{DateTime, Utc};
use runner::{Runner, Settings};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::due::DueState;
use store::{Connector, ConnectorState, StoreError};
use tokio_util::sync::CancellationToken;

/// A connector's next run, as the scheduler sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The schedule text it was computed from.
    pub schedule: String,
    /// The start of the last run it counts from.
    pub last_start: Option<DateTime<Utc>>,
    pub due: Due,
}

/// The plans of every scheduled connector, shared with the API and the dashboard.
#[derive(Debug, Default)]
pub struct Plans(Mutex<HashMap<String, Plan>>);

impl Plans {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Plan>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// The plan of one connector.
    pub fn get(&self, name: &str) -> Option<Plan> {
        self.lock().get(name).cloned()
    }
}

/// The scheduler's settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// How often the loop looks at the connectors.
    pub tick: Duration,
    /// Add jitter (off in tests that need exact times).
    pub jitter: bool,
    /// This worker's name in the due runs it claims (unique per process).
    pub worker: String,
    /// How long a claim holds without renewal; a dead worker's due run is taken over
    /// after this. Renewed every third of it.
    pub lease: Duration,
    /// At most this many scheduled syncs at once in this process.
    pub max_running: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            tick: Duration::from_secs(1),
            jitter: true,
            worker: worker_name(),
            lease: Duration::from_secs(120),
            max_running: 4,
        }
    }
}

/// `host:pid:random`, so two workers never share a name even on one host.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!(
        "{host}:{}:{:04x}",
        std::process::id(),
        rand::random::<u16>()
    )
}

/// The scheduling loop.
pub struct Scheduler {
    runner: Runner,
    jobs: Arc<Jobs>,
    clock: Arc<dyn Clock>,
    plans: Arc<Plans>,
    config: SchedulerConfig,
    /// Schedules already reported as invalid, so the state is written once.
    invalid: HashMap<String, String>,
    /// How long each due run this tick found waiting for a slot has waited.
    waiting: Vec<chrono::Duration>,
    /// Ticks that could not read the store, said at the start and end of a run of them.
    store_outage: Outage,
}

/// Why one tick of the scheduler failed (the loop logs it and tries again next tick).
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Runner(#[from] runner::RunnerError),
    #[error("a store task failed: {0}")]
    Task(String),
}

/// Runs a store call on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SchedulerError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SchedulerError::Task(e.to_string()))?
        .map_err(SchedulerError::Store)
}

impl Scheduler {
    pub fn new(
        runner: Runner,
        jobs: Arc<Jobs>,
        clock: Arc<dyn Clock>,
        plans: Arc<Plans>,
        config: SchedulerConfig,
    ) -> Scheduler {
        Scheduler {
            runner,
            jobs,
            clock,
            plans,
            config,
            invalid: HashMap::new(),
            waiting: Vec::new(),
            store_outage: Outage::default(),
        }
    }

    /// Runs until `stop` is cancelled. Between ticks, a scheduled sync that ends lets the
    /// next due run be claimed at once: slots were refilled once a tick, so a worker
    /// started at most `max_running` runs a second however short they were, and with a
    /// hundred connectors due every minute runs fell minutes behind with slots free.
    pub async fn run(mut self, stop: CancellationToken) {
        loop {
            let ticked = self.tick().await;
            self.say(ticked);
            let next_tick = tokio::time::Instant::now() + self.config.tick;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => {
                        tracing::info!("scheduler stopped");
                        return;
                    }
                    _ = tokio::time::sleep_until(next_tick) => break,
                    _ = self.jobs.slot_freed() => {
                        let claimed = self.claim().await;
                        self.say(claimed);
                    }
                }
            }
        }
    }

    /// Logs how a look at the store went: a failure when it starts (with its causes), when
    /// its error changes and every few minutes while it lasts, and its end; not every tick.
    fn say(&mut self, outcome: Result<(), SchedulerError>) {
        let error = outcome.err().map(|e| apiclient::text::error_chain(&e));
        self.store_outage
            .observe("scheduler", error.as_deref().map_or(Ok(()), Err));
    }

    /// One look at every connector: plan, mark Scheduled, record what is due; then claim
    /// and start due runs.
    pub async fn tick(&mut self) -> Result<(), SchedulerError> {
        let now = self.clock.now();
        let store = self.runner.store.clone();
        let connectors = blocking(move || store.connectors()).await?;
        let names: HashSet<&str> = connectors.iter().map(|c| c.name.as_str()).collect();
        self.plans.lock().retain(|n, _| names.contains(n.as_str()));
        self.waiting.clear();
        for c in &connectors {
            self.look_at(c, now).await?;
        }
        let longest = self.waiting.iter().max().copied().unwrap_or_default();
        self.jobs
            .metrics()
            .due_runs_waiting(self.waiting.len(), longest);
        self.claim().await
    }

    /// Plans one connector, marks it Scheduled while it waits, and records its due run.
    async fn look_at(&mut self, c: &Connector, now: DateTime<Utc>) -> Result<(), SchedulerError> {
        let Some((text, schedule)) = self.schedule_of(c).await? else {
            return Ok(());
        };
        let (store, id) = (self.runner.store.clone(), c.id);
        let (last_run, recent) =
            blocking(move || Ok((store.last_run(id)?, store.due_runs(Some(id), 5)?))).await?;
        let open = recent.iter().any(|d| d.state != DueState::Done);
        // A claim counts as a start even when its run could not begin (the connector was
        // locked), so the next slot comes after it; every worker reads the same rows.
        let last_claim = recent
            .iter()
            .filter(|d| d.state == DueState::Done)
            .filter_map(|d| d.claimed_at)
            .max();
        let last_start = last_run.as_ref().map(|r| r.started_at).max(last_claim);
        let Some(plan) = self.plan(&c.name, &text, &schedule, last_start, c.created_at, now) else {
            // A cron expression with no slot left (its year is over): no "next run" in
            // the past stays on show.
            if c.state == ConnectorState::Scheduled {
                let (runner, c) = (self.runner.clone(), c.clone());
                blocking(move || Ok(runner.show_last_run(&c))).await??;
            }
            return Ok(());
        };
        if plan.due.at <= now {
            if recent.iter().any(|d| d.state == DueState::Pending) {
                self.waiting.push(now - plan.due.at);
                return self.say_waiting(c, &plan.due.at, &schedule).await;
            }
            if open {
                return Ok(());
            }
            let store = self.runner.store.clone();
            let slot = plan.due.slot;
            if blocking(move || store.enqueue_run(id, slot, None))
                .await?
                .is_some()
            {
                if plan.due.missed {
                    tracing::info!(connector = %c.name, slot = %slot, "a slot was missed while no worker ran: it runs once now");
                } else {
                    tracing::debug!(connector = %c.name, slot = %slot, "run due");
                }
            }
            return Ok(());
        }
        if open || self.jobs.is_running(&c.name) || c.state == ConnectorState::Processing {
            return Ok(());
        }
        let mut reason = format!(
            "next run {} ({schedule})",
            plan.due
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        // The last scheduled run that failed before it became a run (a connector without
        // its key secret, say) was only in the due runs: the connector showed a plain
        // "next run" for ever.
        let not_started = recent
            .iter()
            .filter(|d| d.state == DueState::Done && d.run_id.is_none())
            .filter(|d| {
                d.outcome
                    .as_deref()
                    .is_some_and(|o| o.starts_with("failed: "))
            })
            // After the last run began: a later run's outcome speaks for itself.
            .filter(|d| {
                last_run
                    .as_ref()
                    .is_none_or(|r| d.claimed_at.is_some_and(|t| t > r.started_at))
            })
            .max_by_key(|d| d.claimed_at);
        if let Some(failed) = not_started.and_then(|d| d.outcome.as_deref()) {
            reason.push_str(&format!("; the last scheduled run {failed}"));
        } else if let Some(r) = last_run.filter(|r| r.state != store::RunState::Processed) {
            reason.push_str(&format!("; last run {} {}", r.id, r.state));
            if let Some(why) = r.reason {
                reason.push_str(&format!(": {why}"));
            }
        }
        if c.state != ConnectorState::Scheduled || c.state_reason.as_deref() != Some(&reason) {
            let store = self.runner.store.clone();
            blocking(move || {
                store.set_connector_state(id, ConnectorState::Scheduled, Some(&reason))
            })
            .await?;
        }
        Ok(())
    }

    /// Marks a Scheduled connector whose due run waits for a free slot as such: it showed
    /// "next run" at a time long past, and nothing said the run was waiting.
    async fn say_waiting(
        &self,
        c: &Connector,
        due: &DateTime<Utc>,
        schedule: &Schedule,
    ) -> Result<(), SchedulerError> {
        if !matches!(
            c.state,
            ConnectorState::Scheduled | ConnectorState::Registered
        ) {
            return Ok(());
        }
        let reason = format!(
            "due since {} ({schedule}), waiting for a free slot: the workers run their \
             --max-running scheduled syncs",
            due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        if c.state_reason.as_deref() == Some(reason.as_str()) {
            return Ok(());
        }
        let (store, id, state) = (self.runner.store.clone(), c.id, c.state);
        blocking(move || match state {
            // Never run: it waits, as a connector waiting for its next slot does.
            ConnectorState::Registered => {
                store.set_connector_state(id, ConnectorState::Scheduled, Some(&reason))
            }
            // Only while no worker has started it since this look.
            _ => store
                .set_reason_while(id, ConnectorState::Scheduled, &reason)
                .map(drop),
        })
        .await
    }

    /// The connector's schedule; `None` when it has none, or an invalid one (reported
    /// once, by marking the connector Errored).
    async fn schedule_of(
        &mut self,
        c: &Connector,
    ) -> Result<Option<(String, Schedule)>, SchedulerError> {
        let text = Settings::from_json(&c.settings)
            .ok()
            .and_then(|s| s.schedule)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let Some(text) = text else {
            self.plans.lock().remove(&c.name);
            self.invalid.remove(&c.name);
            // Its schedule was taken away (by an edit while this server ran, or a config
            // file): it no longer waits for a run, and an invalid schedule's Errored (it
            // stayed, across restarts) is gone with the schedule.
            let (runner, c) = (self.runner.clone(), c.clone());
            blocking(move || Ok(runner.unschedule(&c))).await??;
            return Ok(None);
        };
        // An xml connector stored with a schedule before schedules were refused for it.
        let parsed = match runner::connectors::import_only(&c.kind, &c.name) {
            Some(why) => Err(format!("not scheduled: {why}")),
            None => Schedule::parse(&text).map_err(|e| e.to_string()),
        };
        match parsed {
            Ok(s) => {
                self.invalid.remove(&c.name);
                Ok(Some((text, s)))
            }
            Err(e) => {
                self.plans.lock().remove(&c.name);
                if self.invalid.get(&c.name) != Some(&text) {
                    tracing::warn!(connector = %c.name, error = %e, "not scheduled");
                    self.invalid.insert(c.name.clone(), text);
                    let (store, id, reason) = (self.runner.store.clone(), c.id, e);
                    blocking(move || {
                        store.set_connector_state(id, ConnectorState::Errored, Some(&reason))
                    })
                    .await?;
                }
                Ok(None)
            }
        }
    }

    /// Claims due runs (this worker's or anyone's) while there is room, and starts them.
    /// Each claim reads the clock anew: its lease runs from it, and a tick that waited on
    /// the store past a lease wrote a lease already out, so the worker took its own
    /// running sync for a dead one's and cancelled it.
    async fn claim(&self) -> Result<(), SchedulerError> {
        let ttl = crate::jobs::lease_ttl(self.config.lease);
        while self.jobs.scheduled() < self.config.max_running.max(1) {
            let now = self.clock.now();
            let (store, worker) = (self.runner.store.clone(), self.config.worker.clone());
            let Some(claim) = blocking(move || store.claim_due_run(&worker, ttl, now)).await?
            else {
                break;
            };
            if claim.taken_over() {
                tracing::warn!(connector = %claim.connector, due_run = claim.due_run_id, attempt = claim.attempt,
                    "taking over a due run whose worker stopped renewing its lease");
            }
            // Queued before its schedule was removed (while every worker was busy): the
            // connector ran once more after the edit.
            let (runner, name) = (self.runner.clone(), claim.connector.clone());
            let unscheduled = blocking(move || {
                Ok(runner
                    .store
                    .connector(&name)?
                    .and_then(|c| Settings::from_json(&c.settings).ok())
                    .is_some_and(|s| s.schedule.is_none_or(|t| t.trim().is_empty())))
            })
            .await?;
            if unscheduled {
                self.jobs.skip_claimed(
                    claim,
                    "skipped: its schedule was removed".into(),
                    self.clock.clone(),
                );
                continue;
            }
            self.jobs
                .start_claimed(claim, self.clock.clone(), self.config.lease);
        }
        Ok(())
    }

    /// The connector's plan, recomputed only when its schedule or last start changed.
    fn plan(
        &self,
        name: &str,
        text: &str,
        schedule: &Schedule,
        last_start: Option<DateTime<Utc>>,
        first: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<Plan> {
        let mut plans = self.plans.lock();
        if let Some(p) = plans.get(name)
            && p.schedule == text
            && p.last_start == last_start
        {
            return Some(p.clone());
        }
        let jitter = if self.config.jitter {
            crate::schedule::jitter_fraction(name, last_start)
        } else {
            0.0
        };
        let Some(due) = schedule.due_since(last_start, first, now, jitter) else {
            plans.remove(name);
            return None;
        };
        let plan = Plan {
            schedule: text.to_string(),
            last_start,
            due,
        };
        plans.insert(name.to_string(), plan.clone());
        Some(plan)
    }
}
