//! The AppScan on Cloud (ASoC) REST API v4 simulator: configuration
//! ([`SimConfig`]), starting a server ([`AsocSim::start`] → [`RunningSim`]),
//! and the in-process control surface ([`SimHandle`]) tests use to inspect
//! the data, inject [`Fault`]s, move the clock and mutate the data set.
//!
//! Submodules: `catalog` (fixed tables), `data` (the compact generated store
//! and its mutations), `schema` (served field lists and JSON writing),
//! `fault` (faults and endpoint kinds), `stats` (request counters) and
//! `server` (the axum routes, the auth/fault gate and the admin API).

pub mod catalog;
pub mod data;
pub mod fault;
pub mod schema;
mod server;
pub mod stats;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use data::MutationSummary;
pub use fault::{BodyFault, Endpoint, Fault};
pub use stats::SimStats;

use data::Data;
use fault::FaultState;
use schema::{APP_SCHEMA, AppRow, ISSUE_SCHEMA, IssueRow, Projected, malform_for};

/// How the simulated tenant is sized and keyed.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of apps.
    pub apps: usize,
    /// Mean issues per app; the total is exactly `apps * issues_per_app`,
    /// spread unevenly (some apps have none, most are near the mean).
    pub issues_per_app: usize,
    /// Seed for all generated data.
    pub seed: u64,
    /// The API key id `ApiKeyLogin` accepts.
    pub key_id: String,
    /// The API key secret `ApiKeyLogin` accepts.
    pub key_secret: String,
    /// Lifetime of issued tokens, on the simulated clock.
    pub token_ttl: Duration,
    /// The largest `$top` accepted (ASoC: 5000).
    pub max_page_size: usize,
    /// Requests per minute (sliding window) before `429`; `None` (the default)
    /// turns the limit off. ASoC's is 500, per user: every token of the key and
    /// every login with it count against one window; requests that name no
    /// user (no or a bad token, a login with a wrong key) count per client IP.
    pub rate_limit_per_minute: Option<u32>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            apps: 50,
            issues_per_app: 400,
            seed: 42,
            key_id: "sim-key-id".into(),
            key_secret: "sim-key-secret-0123456789".into(),
            token_ttl: Duration::from_secs(30 * 60),
            max_page_size: 5000,
            rate_limit_per_minute: None,
        }
    }
}

/// State shared by the server and every [`SimHandle`].
pub(crate) struct Shared {
    pub key_id: String,
    pub key_secret: String,
    pub max_page_size: usize,
    pub rate_limit: Option<u32>,
    pub data: RwLock<Data>,
    pub faults: Mutex<FaultState>,
    /// Token → expiry (ms, simulated clock).
    pub tokens: Mutex<HashMap<String, i64>>,
    /// The authenticated user's request instants in the last minute (the rate limit is
    /// per user, as ASoC's: every token of the key shares it, its logins count in it, and
    /// a new login does not start it over; the simulator has one user, its key).
    pub window: Mutex<VecDeque<i64>>,
    /// Request instants in the last minute of requests that name no user, per client IP
    /// (`None` when the router is served without connection info).
    pub peer_windows: Mutex<HashMap<Option<IpAddr>, VecDeque<i64>>>,
    pub stats: Mutex<SimStats>,
    /// Simulated clock = real clock + this.
    pub offset_ms: AtomicI64,
    pub ttl_ms: AtomicI64,
    pub apps_hidden: AtomicBool,
    pub tenant_id: u128,
    /// `(apps, issues per app, seed)` the data set was generated from, for
    /// [`SimHandle::reset_data`].
    pub generated_from: (usize, usize, u64),
}

/// Locks a mutex, ignoring poisoning (a panicked test must not wedge the sim).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn token_valid(&self, token: &str) -> bool {
        let now = self.now_ms();
        lock(&self.tokens).get(token).is_some_and(|&exp| exp > now)
    }

    /// The sticky malformed-issue fault, if armed.
    pub fn malformed(&self) -> Option<(f64, u64)> {
        lock(&self.faults).malformed.filter(|(f, _)| *f > 0.0)
    }
}

fn to_utc(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A thread-safe handle on a simulator's state, for tests in the same
/// process. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("total_issues", &self.total_issues())
            .finish()
    }
}

impl SimHandle {
    /// Generates the data set for `config` (no server); see also
    /// [`AsocSim::start`]. A million issues take under a second to generate in
    /// a release build, about two in a debug build.
    pub fn new(config: SimConfig) -> SimHandle {
        let data = Data::generate(config.apps, config.issues_per_app, config.seed);
        let ttl = i64::try_from(config.token_ttl.as_millis()).unwrap_or(i64::MAX);
        let tenant = data::splitmix64(config.seed ^ 0x7465_6e61_6e74);
        SimHandle {
            shared: Arc::new(Shared {
                key_id: config.key_id,
                key_secret: config.key_secret,
                max_page_size: config.max_page_size,
                rate_limit: config.rate_limit_per_minute,
                data: RwLock::new(data),
                faults: Mutex::new(FaultState::default()),
                tokens: Mutex::new(HashMap::new()),
                window: Mutex::new(VecDeque::new()),
                peer_windows: Mutex::new(HashMap::new()),
                stats: Mutex::new(SimStats::default()),
                offset_ms: AtomicI64::new(0),
                ttl_ms: AtomicI64::new(ttl),
                apps_hidden: AtomicBool::new(false),
                tenant_id: uuid::Builder::from_random_bytes(
                    (u128::from(tenant) << 64 | u128::from(!tenant)).to_be_bytes(),
                )
                .into_uuid()
                .as_u128(),
                generated_from: (config.apps, config.issues_per_app, config.seed),
            }),
        }
    }

    /// The axum router serving this simulator (API and admin routes), to
    /// mount in another server.
    pub fn router(&self) -> axum::Router {
        server::router(self.shared.clone())
    }

    /// Every app exactly as `GET /api/v4/Apps` serves it (all fields), in
    /// the default order; empty while apps are hidden.
    pub fn apps(&self) -> Vec<serde_json::Value> {
        if self.shared.apps_hidden.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let data = self.shared.read();
        data.live_apps()
            .map(|a| {
                serde_json::to_value(Projected {
                    row: AppRow(a),
                    schema: APP_SCHEMA,
                    mask: None,
                    malform: None,
                })
                .unwrap_or_default()
            })
            .collect()
    }

    /// Every issue of app `app_id` exactly as served (all fields, with the
    /// `Malformed` fault applied when armed), in the default order; empty
    /// for an unknown app.
    pub fn issues(&self, app_id: &str) -> Vec<serde_json::Value> {
        let Some(id) = crate::odata::parse_guid(app_id) else {
            return Vec::new();
        };
        let malformed = self.shared.malformed();
        let data = self.shared.read();
        let Some(app) = data.app(id) else {
            return Vec::new();
        };
        app.issues
            .iter()
            .map(|issue| {
                let malform = malformed.and_then(|(f, s)| malform_for(issue.id, f, s));
                serde_json::to_value(Projected {
                    row: IssueRow { app, issue },
                    schema: ISSUE_SCHEMA,
                    mask: None,
                    malform,
                })
                .unwrap_or_default()
            })
            .collect()
    }

    /// Ids of the apps served (cheaper than [`SimHandle::apps`]).
    pub fn app_ids(&self) -> Vec<String> {
        if self.shared.apps_hidden.load(Ordering::Relaxed) {
            return Vec::new();
        }
        self.shared
            .read()
            .live_apps()
            .map(|a| crate::odata::format_guid(a.id))
            .collect()
    }

    /// Issues served over all apps.
    pub fn total_issues(&self) -> usize {
        self.shared.read().total_issues()
    }

    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    /// Disarms every fault (including sticky ones).
    pub fn clear_faults(&self) {
        *lock(&self.shared.faults) = FaultState::default();
    }

    /// A snapshot of the request statistics.
    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }

    /// Zeroes the request statistics.
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = SimStats::default();
    }

    /// Lifetime of tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.shared.ttl_ms.store(ms, Ordering::Relaxed);
    }

    /// Invalidates every issued token (clients must log in again).
    pub fn revoke_tokens(&self) {
        lock(&self.shared.tokens).clear();
    }

    /// Moves the simulated clock (which otherwise follows the real one).
    pub fn advance_time(&self, d: chrono::Duration) {
        self.shared
            .offset_ms
            .fetch_add(d.num_milliseconds(), Ordering::Relaxed);
    }

    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        to_utc(self.shared.now_ms())
    }

    /// Advances the clock a minute, then changes about `rate` of all issues
    /// (status changes, Severity/LastFound updates, new issues) and
    /// occasionally adds or removes an app. Every changed record, and every
    /// app whose issues changed, gets `LastUpdated` = the new now, so
    /// `$filter=LastUpdated ge <summary.at>` returns exactly the changed set.
    /// Deterministic for a given data set, `rate` and `seed`.
    pub fn mutate(&self, rate: f64, seed: u64) -> MutationSummary {
        self.advance_time(chrono::Duration::minutes(1));
        self.mutate_now(rate, seed)
    }

    /// Like [`mutate`](Self::mutate) without moving the clock: the changes are stamped with the
    /// present. For a client whose runs follow each other within the minute `mutate`
    /// would move the clock by (the benchmark): each run's changes stay older than the
    /// next run's start, instead of a minute in its future.
    pub fn mutate_now(&self, rate: f64, seed: u64) -> MutationSummary {
        let at = self.shared.now_ms();
        self.shared.write().mutate(rate, seed, at)
    }

    /// Puts the data set back as its seed generated it, undoing every mutation (apps
    /// added or removed, issues added or changed), so that several clients can be
    /// measured against the same data. The clock, tokens, faults and statistics are left
    /// as they are. Takes as long as the first generation (see [`SimHandle::new`]).
    pub fn reset_data(&self) {
        let (apps, issues_per_app, seed) = self.shared.generated_from;
        let fresh = Data::generate(apps, issues_per_app, seed);
        *self.shared.write() = fresh;
    }

    /// Serve zero apps (a source with no data) while `hidden`.
    pub fn set_apps_hidden(&self, hidden: bool) {
        self.shared.apps_hidden.store(hidden, Ordering::Relaxed);
    }

    /// The key id logins must present.
    pub fn key_id(&self) -> String {
        self.shared.key_id.clone()
    }

    /// The key secret logins must present.
    pub fn key_secret(&self) -> String {
        self.shared.key_secret.clone()
    }
}

/// Entry point: starts simulators.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsocSim;

impl AsocSim {
    /// Generates the data for `config` and serves it on `addr` (port 0 picks
    /// a free port). The server runs until [`RunningSim::shutdown`] or until
    /// the [`RunningSim`] is dropped.
    pub async fn start(config: SimConfig, addr: SocketAddr) -> std::io::Result<RunningSim> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let handle = tokio::task::spawn_blocking(move || SimHandle::new(config))
            .await
            .map_err(std::io::Error::other)?;
        let app = handle.router();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // The peer address keys the rate limit of unauthenticated requests.
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
        });
        Ok(RunningSim {
            addr: local,
            handle,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A simulator serving on a socket.
#[derive(Debug)]
pub struct RunningSim {
    addr: SocketAddr,
    handle: SimHandle,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSim {
    /// `http://host:port`, without the `/api/v4` suffix. An unspecified bind
    /// address (0.0.0.0, ::) is given as loopback.
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            std::net::IpAddr::V4(v4) if v4.is_unspecified() => {
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
            }
            std::net::IpAddr::V6(v6) if v6.is_unspecified() => {
                std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
            }
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle on the simulator's state.
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// Stops serving: in-flight requests finish (up to 5 s), then the
    /// server task ends.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    /// Serves until Ctrl-C (or until the server fails), then shuts down.
    pub async fn wait(mut self) {
        if let Some(task) = self.task.as_mut() {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                r = task => {
                    self.task = None;
                    if let Ok(Err(e)) = r {
                        tracing::error!("simulator server failed: {e}");
                    }
                }
            }
        }
        self.shutdown().await;
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
