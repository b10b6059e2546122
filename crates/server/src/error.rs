//! Errors: [`ApiError`] is what an HTTP client sees, [`ServeError`] what stops `serve`.
//!
//! Every API error is a 4xx/5xx with the same JSON body, `{"error": "...", "detail": ...}`,
//! so scripts parse one shape; `error` is one line for people, `detail` carries the
//! specifics (the invalid parameter, the run holding a lock). Messages come from our own
//! error types, which never hold a secret.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use runner::RunnerError;
use serde_json::{Value, json};
use store::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
#[error("{status}: {error}")]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub detail: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>, detail: Value) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            detail,
        }
    }
    pub fn bad_request(error: impl Into<String>, detail: impl Into<Value>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error, detail.into())
    }
    /// A 400 for a `cursor` parameter that cannot continue the listing.
    pub fn invalid_cursor(message: impl std::fmt::Display) -> ApiError {
        let message = message.to_string();
        ApiError::bad_request(
            format!("invalid cursor: {message}"),
            json!({"parameter": "cursor", "message": message}),
        )
    }
    pub fn not_found(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, error, Value::Null)
    }
    pub fn conflict(error: impl Into<String>, detail: impl Into<Value>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, error, detail.into())
    }
    pub fn unauthorized(error: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            error,
            json!(
                "send Authorization: Bearer <token>; create one with `appscan-bridge token create`"
            ),
        )
    }
    pub fn internal(error: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error, Value::Null)
    }
    pub fn unavailable(error: impl Into<String>, detail: impl Into<Value>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error, detail.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut res = (
            self.status,
            Json(json!({"error": self.error, "detail": self.detail})),
        )
            .into_response();
        if unauthorized {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"appscan-bridge\""),
            );
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NoSuchConnector(name) => {
                ApiError::not_found(format!("connector '{name}' does not exist"))
            }
            StoreError::NoSuchRun(id) => ApiError::not_found(format!("run {id} does not exist")),
            StoreError::Locked {
                connector,
                run_id,
                holder,
                since,
                expires,
            } => ApiError::conflict(
                format!("connector '{connector}' is already running"),
                json!({"run_id": run_id, "holder": holder, "since": since, "lock_expires": expires}),
            ),
            StoreError::Cursor(e) => ApiError::invalid_cursor(e),
            e @ StoreError::UpgradedUnderUs { .. } => {
                ApiError::unavailable("this process must be restarted", json!(e.to_string()))
            }
            e @ StoreError::RowsHeld { .. } => ApiError::conflict(e.to_string(), Value::Null),
            StoreError::TokenExists(name) => ApiError::conflict(
                format!("a token named '{name}' already exists"),
                Value::Null,
            ),
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store error",
                    json!(other.to_string()),
                )
            }
        }
    }
}

impl From<RunnerError> for ApiError {
    fn from(e: RunnerError) -> ApiError {
        match e {
            RunnerError::Store(s) => s.into(),
            RunnerError::NoSuchConnector(name) => {
                ApiError::not_found(format!("connector '{name}' does not exist"))
            }
            RunnerError::Config(m) => ApiError::bad_request("connector configuration", json!(m)),
            RunnerError::Unsupported(m) => ApiError::bad_request("not supported", json!(m)),
            RunnerError::Source(m) => ApiError::bad_request("source", json!(m)),
            other => {
                tracing::error!(error = %other, "runner error");
                ApiError::internal(other.to_string())
            }
        }
    }
}

/// Why `serve` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Http(#[source] std::io::Error),
    #[error("a server task failed: {0}")]
    Task(String),
}
