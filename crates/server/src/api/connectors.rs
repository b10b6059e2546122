//! `/api/connectors`: list, show, trigger or cancel a sync, run history, run errors, and
//! the connection check.

use super::views::*;
use crate::auth::Authorized;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::jobs::Trigger;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

/// Runs listed when `limit` is not given.
const DEFAULT_RUNS: u64 = 20;

/// The most connectors one page of `/api/connectors` may ask for.
const MAX_CONNECTORS: u64 = 1000;

/// A connector as the API and the dashboard show it, `last` being its last run: with its
/// next scheduled run, whether this server runs it, and why a Processing run stopped
/// without finishing, if it did.
pub(crate) async fn view_with(
    state: &AppState,
    c: store::Connector,
    last: Option<store::Run>,
) -> Result<ConnectorView, ApiError> {
    let plan = state.plans.get(&c.name);
    let running = state.jobs.is_running(&c.name);
    let why = state.interruption(&c).await?;
    Ok(ConnectorView::new(c, last, plan, running).interrupted(why))
}

/// [`view_with`] its last run.
async fn view(state: &AppState, c: store::Connector) -> Result<ConnectorView, ApiError> {
    let id = c.id;
    let last = state.store(move |s| s.last_run(id)).await?;
    view_with(state, c, last).await
}

/// Every connector, as [`view`] shows it.
pub(crate) async fn views(state: &AppState) -> Result<Vec<ConnectorView>, ApiError> {
    let all = state.store(|s| s.connectors()).await?;
    views_of(state, all).await
}

/// `connectors` as [`view`] shows them.
async fn views_of(
    state: &AppState,
    connectors: Vec<store::Connector>,
) -> Result<Vec<ConnectorView>, ApiError> {
    let mut out = Vec::with_capacity(connectors.len());
    for c in connectors {
        out.push(view(state, c).await?);
    }
    Ok(out)
}

/// The connector `name`, else a 404 that names it.
pub(crate) async fn connector(
    state: &AppState,
    name: String,
) -> Result<store::Connector, ApiError> {
    let n = name.clone();
    state
        .store(move |s| s.connector(&n))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("connector '{name}' does not exist")))
}

/// Which connectors to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConnectorsParams {
    /// At most this many connectors, by name (default all, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// Skip this many connectors.
    pub offset: Option<u64>,
}

/// Connectors by name with their state, last run and next scheduled run: every one, or
/// the page `offset`/`limit` asks for.
#[utoipa::path(get, path = "/api/connectors", tag = "connectors", operation_id = "list_connectors",
    params(ConnectorsParams),
    responses((status = 200, body = [ConnectorView]), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(p): Query<ConnectorsParams>,
) -> Result<Json<Vec<ConnectorView>>, ApiError> {
    if let Some(limit) = p.limit.filter(|l| *l == 0 || *l > MAX_CONNECTORS) {
        return Err(ApiError::bad_request(
            "invalid limit",
            json!({"parameter": "limit", "value": limit, "allowed": format!("1..={MAX_CONNECTORS}")}),
        ));
    }
    let all = state.store(|s| s.connectors()).await?;
    let page = all
        .into_iter()
        .skip(usize::try_from(p.offset.unwrap_or(0)).unwrap_or(usize::MAX))
        .take(p.limit.map_or(usize::MAX, |l| l as usize))
        .collect();
    Ok(Json(views_of(&state, page).await?))
}

/// One connector; its secret is shown as `••••`.
#[utoipa::path(get, path = "/api/connectors/{name}", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    responses((status = 200, body = ConnectorView), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ConnectorView>, ApiError> {
    let c = connector(&state, name).await?;
    Ok(Json(view(&state, c).await?))
}

/// How to run a triggered sync.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SyncParams {
    /// Fetch everything even when a cursor exists.
    #[serde(default)]
    pub full: bool,
    /// Answer when the run has ended, with the run (200), instead of at once (202).
    #[serde(default)]
    pub wait: bool,
}

/// Starts a sync now (needs a token). 202 at once, or 200 with the run when `wait=true`.
#[utoipa::path(post, path = "/api/connectors/{name}/sync", tag = "connectors",
    params(("name" = String, Path, description = "Connector name"), SyncParams),
    security(("bearer" = [])),
    responses(
        (status = 202, body = SyncStarted, description = "The sync started"),
        (status = 200, body = RunView, description = "With wait=true: the finished run"),
        (status = 400, body = ErrorBody, description = "An xml connector (it is fed by import), or one without a key secret"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A sync of this connector is running"),
        (status = 503, body = ErrorBody, description = "This worker's master key cannot open the connector's secret")))]
pub async fn sync(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(name): Path<String>,
    Query(p): Query<SyncParams>,
) -> Result<Response, ApiError> {
    let c = connector(&state, name).await?;
    // Refused here, not in the background after a 202 nobody would hear back from.
    if let Some(why) = runner::connectors::import_only(&c.kind, &c.name) {
        return Err(ApiError::bad_request(why, json!({"connector": c.name})));
    }
    // A run under way in another process (another worker behind the same address, a
    // CLI sync) is said now: a 202 was answered and the sync then refused in the log.
    if let Some(lock) = state.running_lock(c.id).await? {
        return Err(ApiError::conflict(
            format!(
                "a sync of connector '{}' is running (run {}, held by {} until {})",
                c.name,
                lock.run_id,
                lock.holder,
                lock.expires.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            json!({"connector": c.name, "run": lock.run_id, "holder": lock.holder}),
        ));
    }
    // A sync that cannot open its key secret is said now too: after a 202 it failed in
    // the log only, and no run recorded why.
    match state.runner.open_secret(&c) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(ApiError::bad_request(
                format!(
                    "connector '{}' has no key secret (set it with `connector rotate-key`, or \
                     its config file's key_secret_env variable)",
                    c.name
                ),
                json!({"connector": c.name}),
            ));
        }
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the sync cannot open connector '{}'s key secret", c.name),
                json!(e.to_string()),
            ));
        }
    }
    let handle = state
        .jobs
        .start(&c.name, p.full, Trigger::Api)
        .map_err(|e| ApiError::conflict(e.to_string(), json!({"connector": c.name})))?;
    if !p.wait {
        let body = SyncStarted {
            connector: c.name,
            status: "started".into(),
            full: p.full,
        };
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    let report = handle
        .await
        .map_err(|e| ApiError::internal(format!("the sync task failed: {e}")))??;
    Ok(Json(RunView::from(report.run)).into_response())
}

/// Asks the running sync of a connector to stop (needs a token); it keeps what it read.
#[utoipa::path(post, path = "/api/connectors/{name}/cancel", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    security(("bearer" = [])),
    responses((status = 202, body = Cancelled), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No sync of this connector runs here")))]
pub async fn cancel(
    State(state): State<AppState>,
    Authorized(token): Authorized,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Cancelled>), ApiError> {
    let c = connector(&state, name).await?;
    let why = format!("cancelled through the API (token '{}')", token.name);
    if !state.jobs.cancel(&c.name, &why) {
        // Run by another process (another worker behind the same address, a CLI sync):
        // said with its holder, so the caller knows whom to ask.
        let message = match state.running_lock(c.id).await? {
            Some(lock) => format!(
                "the sync of connector '{}' runs in another process ({}, run {}); ask the \
                 worker that runs it, or stop that process",
                c.name, lock.holder, lock.run_id
            ),
            None => format!("connector '{}' has no sync running", c.name),
        };
        return Err(ApiError::conflict(message, json!({"connector": c.name})));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Cancelled {
            connector: c.name,
            status: "cancelling".into(),
        }),
    ))
}

/// How many runs to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsParams {
    /// At most this many runs, newest first (default 20, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// A connector's runs, newest first.
#[utoipa::path(get, path = "/api/connectors/{name}/runs", tag = "connectors",
    params(("name" = String, Path, description = "Connector name"), RunsParams),
    responses((status = 200, body = [RunView]), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(p): Query<RunsParams>,
) -> Result<Json<Vec<RunView>>, ApiError> {
    let limit = p.limit.unwrap_or(DEFAULT_RUNS);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::bad_request(
            "invalid limit",
            json!({"parameter": "limit", "value": limit, "allowed": "1..=1000"}),
        ));
    }
    let c = connector(&state, name).await?;
    let runs = state.store(move |s| s.runs(c.id, limit)).await?;
    Ok(Json(runs.into_iter().map(RunView::from).collect()))
}

async fn run_of(state: &AppState, name: String, id: i64) -> Result<store::Run, ApiError> {
    let c = connector(state, name).await?;
    state
        .store(move |s| s.run(id))
        .await?
        .filter(|r| r.connector_id == c.id)
        .ok_or_else(|| ApiError::not_found(format!("connector '{}' has no run {id}", c.name)))
}

/// One run of a connector.
#[utoipa::path(get, path = "/api/connectors/{name}/runs/{id}", tag = "connectors",
    params(("name" = String, Path, description = "Connector name"),
        ("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = RunView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(run_of(&state, name, id).await?.into()))
}

/// The record errors and warnings of a run.
#[utoipa::path(get, path = "/api/connectors/{name}/runs/{id}/errors", tag = "connectors",
    params(("name" = String, Path, description = "Connector name"),
        ("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = [IssueView]), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn run_errors(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
) -> Result<Json<Vec<IssueView>>, ApiError> {
    let run = run_of(&state, name, id).await?;
    let issues = state.store(move |s| s.run_issues(run.id)).await?;
    Ok(Json(issues.into_iter().map(IssueView::from).collect()))
}

/// Runs the five connection checks (network, TLS, login, permission, one page) against
/// AppScan (needs a token: it logs in with the connector's key).
#[utoipa::path(post, path = "/api/connectors/{name}/check", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    security(("bearer" = [])),
    responses((status = 200, body = [CheckView]),
        (status = 400, body = ErrorBody, description = "an xml connector has no server to check"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    _auth: Authorized,
    Path(name): Path<String>,
) -> Result<Json<Vec<CheckView>>, ApiError> {
    let c = connector(&state, name).await?;
    let checks = state
        .runner
        .check(&c.name, &runner::check::Resolver::System)
        .await?;
    Ok(Json(
        checks
            .into_iter()
            .map(|k| CheckView {
                name: k.name.to_string(),
                outcome: serde_json::to_value(k.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                reason: k.reason,
                hint: k.hint,
                millis: k.millis,
            })
            .collect(),
    ))
}
