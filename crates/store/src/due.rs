//! Due runs and their leases: how several `serve` workers on one store share the work.
//!
//! A worker's scheduler *enqueues* a due run when a connector's schedule fires
//! ([`crate::Store::enqueue_run`]); any worker *claims* the oldest due run that nobody
//! holds ([`crate::Store::claim_due_run`]) with a lease of a few minutes, *renews* the
//! lease while the run goes on ([`crate::Store::renew_claim`]) and *completes* it at the
//! end ([`crate::Store::complete_claim`]). A worker that dies stops renewing; once its
//! lease has expired the next claim takes the due run over, and the dead worker's claim
//! is fenced off: its attempt number is stale, so its renewals and completion are refused.
//!
//! A connector has at most one open (pending or claimed) due run, so a connector never
//! runs twice at once, and schedules missed while every worker was down coalesce into
//! one run. The same due time is enqueued once however many schedulers see it. Done due
//! runs are kept for [`DONE_KEPT`] after they finish, then pruned.

use crate::types::RunMode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

/// How long a done due run is kept after it finished: completing a due run deletes its
/// connector's done ones older than this, so the queue does not grow with every
/// scheduled run (a five-minute schedule makes ~100,000 a year).
pub const DONE_KEPT: chrono::Duration = chrono::Duration::days(30);

/// Where a due run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DueState {
    /// Waiting for its time and a worker.
    Pending,
    /// Held by a worker whose lease has not been released (it may have expired).
    Claimed,
    /// Completed (whatever the run's outcome).
    Done,
}

impl DueState {
    pub fn as_str(self) -> &'static str {
        match self {
            DueState::Pending => "pending",
            DueState::Claimed => "claimed",
            DueState::Done => "done",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Claimed, Self::Done]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

impl fmt::Display for DueState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A due run as the queue keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueRun {
    pub id: i64,
    pub connector_id: i64,
    pub connector: String,
    /// When the run became (or becomes) due.
    pub due_at: DateTime<Utc>,
    /// The mode asked for; `None` lets the runner pick (delta once a cursor exists).
    pub mode: Option<RunMode>,
    pub state: DueState,
    /// The worker holding (or that completed) it.
    pub worker: Option<String>,
    /// How many times it was claimed; more than one means a lease was taken over.
    pub attempts: u32,
    pub claimed_at: Option<DateTime<Utc>>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The run it became, once completed.
    pub run_id: Option<i64>,
    /// How it ended, in the words of the worker (e.g. the run state, or why it was skipped).
    pub outcome: Option<String>,
}

/// A worker's hold on a due run, returned by [`crate::Store::claim_due_run`].
///
/// `attempt` is the fencing token: renewals and completion only succeed while the due run
/// is still claimed by this worker *and* this attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    pub due_run_id: i64,
    pub connector_id: i64,
    pub connector: String,
    pub due_at: DateTime<Utc>,
    pub mode: Option<RunMode>,
    pub worker: String,
    pub attempt: u32,
    pub lease_expires_at: DateTime<Utc>,
}

impl Claim {
    /// Whether this claim took over a lease another worker let expire.
    pub fn taken_over(&self) -> bool {
        self.attempt > 1
    }
}
