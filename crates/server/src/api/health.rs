//! `/healthz` (the process answers), `/readyz` (the store answers), `/metrics` and the
//! OpenAPI document.

use super::openapi::ApiDoc;
use super::views::{ErrorBody, Health};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// The store is reachable (503 when it is not).
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    // A read of one small table: the whole store's counts took seconds at 1M findings,
    // longer than a readiness probe waits.
    // Bounded: a store that hangs (a table lock, a server that stopped answering) made
    // the probe wait as long as the store did (24 s seen), and then say "ready".
    let reachable = tokio::time::timeout(READY_TIMEOUT, state.store(|s| s.check_reachable()));
    match reachable.await {
        Ok(Ok(())) => Ok(Json(Health {
            status: "ready".into(),
        })),
        Ok(Err(e)) => Err(ApiError::unavailable(
            "the store is not reachable",
            serde_json::json!(e.detail.as_str().unwrap_or(&e.error)),
        )),
        Err(_) => Err(ApiError::unavailable(
            "the store is not reachable",
            serde_json::json!(format!(
                "it did not answer within {} s",
                READY_TIMEOUT.as_secs()
            )),
        )),
    }
}

/// How long `/readyz` waits for the store (probes commonly give up after 1–5 s).
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // The findings gauges and the connectors' follow the store. Bounded: a store that
    // stopped answering held the scrape until Prometheus gave up, and the whole target
    // (every counter with it) was down during the very outage it should show.
    // Not through `AppState::store`, whose errors are logged as they become API errors:
    // a store that refused connections wrote an ERROR line at every scrape, and without
    // its cause. `store_answered` says an outage once, with its causes.
    let store = state.runner.store.clone();
    let read = tokio::task::spawn_blocking(move || {
        Ok::<_, store::StoreError>((
            store.summary(None)?,
            store.connectors()?,
            store.run_times()?,
        ))
    });
    let read = match tokio::time::timeout(METRICS_STORE_TIMEOUT, read).await {
        Ok(Ok(Ok(read))) => Ok(read),
        Ok(Ok(Err(e))) => Err(apiclient::text::error_chain(&e)),
        Ok(Err(e)) => Err(format!("a store task failed: {e}")),
        Err(_) => Err(format!(
            "it did not answer within {} s",
            METRICS_STORE_TIMEOUT.as_secs()
        )),
    };
    state
        .metrics
        .store_answered(read.as_ref().err().map(String::as_str));
    let connectors = match read {
        Ok((summary, connectors, times)) => {
            state.metrics.summary(&summary);
            crate::metrics::connectors_text(&connectors, &times)
        }
        Err(_) => String::new(),
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render() + &connectors,
    )
}

/// How long a scrape waits for the store (Prometheus gives up after 10 s by default; the
/// summary takes under a second at a million findings).
const METRICS_STORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "health",
    responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
