//! `/api/due-runs`: the store's queue of scheduled runs, shared by every `serve` worker on
//! the store — which worker holds which run, until when, and how each ended.

use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::due::DueRun;
use utoipa::{IntoParams, ToSchema};

/// Due runs listed when `limit` is not given.
const DEFAULT_DUE_RUNS: u64 = 50;

/// Which due runs to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DueRunsParams {
    /// Only this connector's.
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    pub connector: Option<String>,
    /// At most this many, newest due time first (default 50, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// A scheduled run in the shared queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueRunView {
    pub id: i64,
    pub connector: String,
    /// The schedule slot it stands for.
    pub due_at: DateTime<Utc>,
    /// `full`, `delta`, or null (the runner decides).
    pub mode: Option<String>,
    /// `pending`, `claimed` or `done`.
    pub state: String,
    /// The worker holding it, or that completed it.
    pub worker: Option<String>,
    /// Claims so far; more than one means a worker died and another took it over.
    pub attempts: u32,
    pub claimed_at: Option<DateTime<Utc>>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The run it became.
    pub run_id: Option<i64>,
    /// How it ended: the run's state, or why it was skipped.
    pub outcome: Option<String>,
}

impl From<DueRun> for DueRunView {
    fn from(d: DueRun) -> Self {
        DueRunView {
            id: d.id,
            connector: d.connector,
            due_at: d.due_at,
            mode: d.mode.map(|m| m.as_str().to_string()),
            state: d.state.as_str().to_string(),
            worker: d.worker,
            attempts: d.attempts,
            claimed_at: d.claimed_at,
            lease_expires_at: d.lease_expires_at,
            finished_at: d.finished_at,
            run_id: d.run_id,
            outcome: d.outcome,
        }
    }
}

/// Scheduled runs in the queue the workers share, newest due time first.
#[utoipa::path(get, path = "/api/due-runs", tag = "connectors", operation_id = "list_due_runs",
    params(DueRunsParams),
    responses((status = 200, body = [DueRunView]), (status = 400, body = super::views::ErrorBody),
        (status = 404, body = super::views::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(p): Query<DueRunsParams>,
) -> Result<Json<Vec<DueRunView>>, ApiError> {
    let limit = p.limit.unwrap_or(DEFAULT_DUE_RUNS);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::bad_request(
            "invalid limit",
            json!({"parameter": "limit", "value": limit, "allowed": "1..=1000"}),
        ));
    }
    let name = p.connector;
    let shown = name.clone().unwrap_or_default();
    let due = state
        .store(move |s| {
            let id = match &name {
                Some(n) => match s.connector(n)? {
                    Some(c) => Some(Some(c.id)),
                    None => None,
                },
                None => Some(None),
            };
            id.map(|id| s.due_runs(id, limit)).transpose()
        })
        .await?;
    match due {
        Some(rows) => Ok(Json(rows.into_iter().map(DueRunView::from).collect())),
        None => Err(ApiError::not_found(format!(
            "connector '{shown}' does not exist"
        ))),
    }
}
