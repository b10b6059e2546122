//! appscan-bridge as a service: `appscan-bridge serve`.
//!
//! One process that syncs every connector on its schedule, answers an HTTP API (JSON,
//! described by an OpenAPI document), serves a web dashboard, and exposes Prometheus
//! metrics. It reads and writes only through the [`store::Store`] trait and runs syncs
//! only through [`runner::Runner::sync`], so it adds no second path to AppScan or to the
//! database.
//!
//! ```no_run
//! # async fn demo(runner: runner::Runner) -> Result<(), server::ServeError> {
//! let config = server::ServeConfig::default(); // 127.0.0.1:8787, scheduler on
//! let server = server::start(runner, config, std::sync::Arc::new(server::SystemClock)).await?;
//! println!("http://{}", server.addr());
//! server::shutdown_signal().await; // Ctrl-C or SIGTERM
//! server.shutdown().await // cancels running syncs, which record their state
//! # }
//! ```
//!
//! # Layout
//! - [`schedule`]: cron or interval schedules → due times, jitter, missed runs (pure).
//! - [`clock`]: the scheduler's clock; a manual one for tests.
//! - [`scheduler`]: the loop that records due runs in the store, claims them (shared by
//!   several workers on one database) and marks waiting connectors Scheduled.
//! - [`jobs`]: the syncs running in this process, their leases, cancellation, graceful
//!   drain.
//! - [`api`]: the JSON API (with export downloads), health, metrics route and the OpenAPI
//!   document.
//! - [`dashboard`]: the HTML pages and their built-in CSS, script and chart.
//! - [`metrics`]: the Prometheus recorder and what it counts.
//! - [`skew`]: this worker's clock against a shared store server's (leases depend on it).
//! - [`tokens`]: API tokens (created, hashed); [`auth`]: the bearer check on writes.
//! - [`extract`]: query/path extractors with JSON errors; [`error`]: error types.
//! - [`state`]: what handlers share.
//! - [`host`]: the `Host` names a request may give (DNS rebinding).
//! - [`request_log`]: how a request is named in the debug log (credentials hidden).
//! - [`listen`]: the HTTP accept loop and its limits (header/idle and send timeouts,
//!   connection cap, bounded graceful shutdown).

pub mod api;
pub mod auth;
pub mod clock;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod host;
pub mod jobs;
pub mod listen;
pub mod metrics;
pub mod outage;
pub mod request_log;
pub mod schedule;
pub mod scheduler;
pub mod skew;
pub mod state;
pub mod tokens;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ApiError, ServeError};
pub use listen::ConnectionLimits;
pub use scheduler::SchedulerConfig;
pub use state::AppState;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use runner::Runner;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Where `serve` listens unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// The scheduler's settings; `None` serves the API and dashboard without scheduling.
    pub scheduler: Option<SchedulerConfig>,
    /// How long shutdown waits for cancelled syncs to write their batch and state, then
    /// (with what is left of it, at least a second) for open HTTP connections.
    pub shutdown_grace: Duration,
    /// Host names requests may give besides loopback's ([`host::AllowedHosts`]).
    pub allowed_hosts: Vec<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            scheduler: Some(SchedulerConfig::default()),
            shutdown_grace: Duration::from_secs(60),
            allowed_hosts: Vec::new(),
        }
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    stop: CancellationToken,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Server {
    /// The address it listens on (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (tests look at the jobs and plans).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops the scheduler, cancels running syncs and waits for them to record their
    /// state (up to the grace period), then stops answering HTTP: the listener closes,
    /// requests in flight get what is left of the grace period, and connections still
    /// open after it are dropped.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.stop.cancel();
        self.task
            .await
            .map_err(|e| ServeError::Task(e.to_string()))?
    }
}

/// Binds, starts the scheduler and the HTTP server, and returns at once, with the default
/// [`ConnectionLimits`].
pub async fn start(
    runner: Runner,
    config: ServeConfig,
    clock: Arc<dyn Clock>,
) -> Result<Server, ServeError> {
    start_with_limits(runner, config, ConnectionLimits::default(), clock).await
}

/// [`start`] with the given limits on HTTP connections.
pub async fn start_with_limits(
    runner: Runner,
    config: ServeConfig,
    limits: ConnectionLimits,
    clock: Arc<dyn Clock>,
) -> Result<Server, ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Http)?;
    let metrics = Arc::new(metrics::Metrics::new());
    let jobs = jobs::Jobs::new(runner.clone(), metrics.clone());
    let plans = Arc::new(scheduler::Plans::default());
    let state = AppState {
        runner: runner.clone(),
        jobs: jobs.clone(),
        plans: plans.clone(),
        metrics,
        exports: Arc::new(tokio::sync::Semaphore::new(state::EXPORTS_AT_ONCE)),
    };
    let stop = CancellationToken::new();
    let lease = config
        .scheduler
        .as_ref()
        .map_or(chrono::Duration::seconds(120), |s| jobs::lease_ttl(s.lease));
    tokio::spawn(skew::watch(
        runner.store.clone(),
        state.metrics.clone(),
        lease,
        stop.clone(),
    ));
    let scheduler_task = config.scheduler.clone().map(|sc| {
        let s = scheduler::Scheduler::new(runner, jobs.clone(), clock, plans, sc);
        tokio::spawn(s.run(stop.clone()))
    });
    let gauge = state.metrics.clone();
    let allowed = Arc::new(host::AllowedHosts::new(addr, &config.allowed_hosts));
    let router = app(state.clone())
        .layer(middleware::from_fn_with_state(allowed, host::check))
        // Outside the host check too, so that its 403 carries them.
        .layer(middleware::from_fn(security_headers));
    let http = listen::serve(
        listener,
        router,
        &limits,
        Arc::new(move |by| gauge.http_connections_changed(by)),
    );
    tracing::info!(
        %addr,
        scheduler = config.scheduler.is_some(),
        max_connections = http.max_connections,
        header_timeout = ?limits.header_timeout,
        send_timeout = ?limits.send_timeout,
        "serving"
    );
    let grace = config.shutdown_grace;
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        stopped.cancelled().await;
        // The grace period bounds the whole shutdown: syncs first (HTTP is answered
        // meanwhile), then the open connections get what is left of it — at least a
        // second, for answers about to be sent — and are dropped after that.
        let deadline = tokio::time::Instant::now() + grace;
        tracing::info!("shutting down: stopping the scheduler and cancelling running syncs");
        // Syncs are cancelled at once, not after the scheduler's pass: a pass waiting on
        // the store (a lock another process holds; PostgreSQL waits for ever) held the
        // whole shutdown past its grace period, the syncs running on meanwhile.
        jobs.cancel_all();
        if let Some(mut t) = scheduler_task
            && tokio::time::timeout_at(deadline, &mut t).await.is_err()
        {
            t.abort();
            tracing::warn!(
                ?grace,
                "the scheduler did not stop within the grace period (waiting on the store)"
            );
        }
        if !jobs.drain(deadline).await {
            tracing::warn!(?grace, "some syncs did not finish within the grace period");
        }
        let left = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .max(grace.min(HTTP_GRACE_FLOOR));
        http.shutdown(left).await;
        Ok(())
    });
    Ok(Server {
        addr,
        state,
        stop,
        task,
    })
}

/// The least time open HTTP connections get at shutdown (unless the grace period is
/// shorter), even when the syncs took the whole grace period.
const HTTP_GRACE_FLOOR: Duration = Duration::from_secs(1);

/// The signal that asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT: Ctrl-C at a terminal.
    Interrupt,
    /// SIGTERM: a service manager, `kill`, `timeout`.
    Terminate,
}

impl StopSignal {
    /// Why a run it stopped was stopped, as the run's history says.
    pub fn reason(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "interrupted (Ctrl-C)",
            StopSignal::Terminate => "stopped by SIGTERM",
        }
    }

    /// The exit status of a process that quits on it at once: 128 + the signal's number,
    /// as a shell reports a process the signal killed.
    pub fn exit_code(self) -> i32 {
        match self {
            StopSignal::Interrupt => 130,
            StopSignal::Terminate => 143,
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM, with which.
pub async fn shutdown_signal() -> StopSignal {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => StopSignal::Interrupt,
        _ = term => StopSignal::Terminate,
    }
}

/// The largest request body accepted (413 above it). No endpoint reads a body today; the
/// limit keeps a client from streaming an unbounded one at the server anyway.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole HTTP application: API, dashboard, fallbacks and middleware.
pub fn app(state: AppState) -> Router {
    let api = api::routes().into_router();
    Router::new()
        .merge(api)
        .merge(dashboard::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), count))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body_limit_as_json,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        // Outside the body limit, so that its 413 carries the headers too.
        .layer(middleware::from_fn(security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_log::span))
        .with_state(state)
}

/// A handler that panicked answers 500 (the panic is logged by the hook): without this
/// the connection closed with no answer at all, as one filter value once made it do.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error: the request stopped unexpectedly (see the service's log)",
        serde_json::Value::Null,
    )
    .into_response()
}

/// Counts requests by route and status.
async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    state
        .metrics
        .http_request(method.as_str(), &route, res.status().as_u16());
    res
}

/// The Content-Security-Policy of every answer: our own scripts and styles only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The body limit's 413 in the API's error shape (it was plain text).
async fn body_limit_as_json(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let res = next.run(req).await;
    if res.status() != StatusCode::PAYLOAD_TOO_LARGE
        || res.headers().get(header::CONTENT_TYPE)
            == Some(&HeaderValue::from_static("application/json"))
    {
        return res;
    }
    // Refused before routing, so not counted by route: counted here (413s were missing
    // from the request metrics).
    state
        .metrics
        .http_request(method.as_str(), OVERSIZED_ROUTE, 413);
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        serde_json::Value::Null,
    )
    .into_response()
}

/// The `route` label of requests refused for their body's size before routing.
pub const OVERSIZED_ROUTE: &str = "oversized";

/// Requests no route answers are counted too, under one `unmatched` route (a probe or a
/// misconfigured client would otherwise be invisible in the metrics).
async fn fallback(State(state): State<AppState>, method: Method, req: Request) -> Response {
    let path = req.uri().path();
    let res = if path.starts_with("/api") || method != Method::GET {
        ApiError::not_found(format!("no route for {method} {path}")).into_response()
    } else {
        dashboard::not_found().await
    };
    unmatched(&state, &method, res)
}

async fn method_not_allowed(
    State(state): State<AppState>,
    method: Method,
    req: Request,
) -> Response {
    let res = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", req.uri().path()),
        serde_json::Value::Null,
    )
    .into_response();
    unmatched(&state, &method, res)
}

/// Counts an answer no route gave.
fn unmatched(state: &AppState, method: &Method, res: Response) -> Response {
    state
        .metrics
        .http_request(method.as_str(), "unmatched", res.status().as_u16());
    res
}
