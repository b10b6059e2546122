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
    match state.store(|s| s.check_reachable()).await {
        Ok(()) => Ok(Json(Health {
            status: "ready".into(),
        })),
        Err(e) => Err(ApiError::unavailable(
            "the store is not reachable",
            serde_json::json!(e.detail.as_str().unwrap_or(&e.error)),
        )),
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // The findings gauges follow the store; a store error leaves them as they were.
    match state.store(|s| s.summary(None)).await {
        Ok(summary) => state.metrics.summary(&summary),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the summary"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "health",
    responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
