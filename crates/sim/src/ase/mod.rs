//! The AppScan Enterprise (ASE) REST API simulator: configuration
//! ([`AseSimConfig`]), starting a server ([`AseSim::start`] → [`RunningAseSim`]) and
//! the in-process control surface ([`AseHandle`]) tests use to read the data, remove
//! or add issues between runs, hide data, inject [`AseFault`]s and read the
//! statistics (logouts included).
//!
//! # Endpoints (under `/ase/api`)
//! `POST keylogin/apikeylogin` (`{"keyId","keySecret"}` → `{"sessionId"}` and the
//! `asc_session_id` cookie), `GET logout`, `GET version` (no session),
//! `GET applications`, `GET applications/{id}`,
//! `GET issues?query=Application Name=<name>[,Severity=…][,Status=…]&compactResponse=false`,
//! `GET issues/details_v2?appId=…&ids=["…"]`, `GET issues/{id}/application/{appId}`,
//! `GET issues/{id}/application/{appId}/aboutthisissue`. Every call but login and
//! version needs the cookie (else 401) *and* the `asc_xsrf_token` header equal to the
//! session id (else 403). Lists honour `Range: items=a-b` (at most `max_page_size`
//! items per answer) and answer `Content-Range: items a-b/total`; a range past the end
//! is `416`. Issues are keyed by attribute display names, dates are `11/18/24 6:09 PM`,
//! values are HTML-escaped. Dates are wall-clock times of the server's zone
//! ([`AseSimConfig::time_zone`], UTC by default) with no offset, as ASE writes them;
//! the data keeps UTC ([`AseHandle::issue_times`]).
//!
//! # Admin endpoints (no session, not counted)
//! `POST /sim/faults` + an [`AseFault`] as JSON; `DELETE /sim/faults`; `GET /sim/stats`
//! ([`AseSimStats`]); `DELETE /sim/stats`; `POST /sim/no-data {"on":true}` (every
//! issue list empty); `POST /sim/apps-hidden {"on":true}`;
//! `POST /sim/remove-issues {"count":5}` (removes the first `count` issues of every
//! application; answers the removed ids); `POST /sim/mutate {"rate":0.01,"seed":1}`
//! (changes statuses, removes and adds issues as a rescan would; answers the
//! [`AseMutation`]).
//!
//! Submodules: `data` (generator and served shapes), `dates` (the server's date format
//! and time zone), `fault`, `stats`, and the private
//! `server` (routes and the session gate).

pub mod data;
pub mod dates;
pub mod fault;
mod server;
pub mod stats;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use data::{AseData, AseMutation, IssueTimes};
pub use dates::{ServedDates, Tz};
pub use fault::{AseEndpoint, AseFault};
pub use stats::AseSimStats;

use crate::asoc::lock;
use fault::AseFaultState;

/// How the simulated ASE server is sized and keyed.
#[derive(Debug, Clone)]
pub struct AseSimConfig {
    /// Applications.
    pub apps: usize,
    /// Issues per application.
    pub issues_per_app: usize,
    /// Seed for all generated data.
    pub seed: u64,
    /// The API key id key login accepts.
    pub key_id: String,
    /// The API key secret key login accepts.
    pub key_secret: String,
    /// Most items one list answer holds, whatever `Range` asks (ASE caps pages too).
    pub max_page_size: usize,
    /// How dates are written (strftime): the server's locale; `11/18/24 6:09 PM` by
    /// default ([`data::DATE_FORMAT`]).
    pub date_format: String,
    /// The zone the server runs in: its dates are wall-clock times of it, without an
    /// offset (UTC by default).
    pub time_zone: Tz,
}

impl Default for AseSimConfig {
    fn default() -> Self {
        AseSimConfig {
            apps: 10,
            issues_per_app: 50,
            seed: 42,
            key_id: "ase-key-id".into(),
            key_secret: "ase-key-secret-0123456789".into(),
            max_page_size: 1000,
            date_format: data::DATE_FORMAT.into(),
            time_zone: Tz::UTC,
        }
    }
}

/// State shared by the server and every handle.
pub(crate) struct Shared {
    pub key_id: String,
    pub key_secret: String,
    pub max_page_size: usize,
    pub dates: ServedDates,
    pub data: RwLock<AseData>,
    pub faults: Mutex<AseFaultState>,
    /// Live session ids.
    pub sessions: Mutex<HashMap<String, ()>>,
    pub stats: Mutex<AseSimStats>,
    pub no_data: AtomicBool,
    pub apps_hidden: AtomicBool,
}

impl Shared {
    pub fn read(&self) -> RwLockReadGuard<'_, AseData> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }
    pub fn write(&self) -> RwLockWriteGuard<'_, AseData> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A thread-safe handle on an ASE simulator, for tests in the same process.
#[derive(Clone)]
pub struct AseHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AseHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AseHandle")
            .field("apps", &self.shared.read().apps.len())
            .finish()
    }
}

impl AseHandle {
    /// Generates the data for `config` (no server).
    pub fn new(config: AseSimConfig) -> AseHandle {
        let data = AseData::generate(config.apps, config.issues_per_app, config.seed);
        AseHandle {
            shared: Arc::new(Shared {
                key_id: config.key_id,
                key_secret: config.key_secret,
                max_page_size: config.max_page_size.max(1),
                dates: ServedDates {
                    format: config.date_format,
                    zone: config.time_zone,
                },
                data: RwLock::new(data),
                faults: Mutex::new(AseFaultState::default()),
                sessions: Mutex::new(HashMap::new()),
                stats: Mutex::new(AseSimStats::default()),
                no_data: AtomicBool::new(false),
                apps_hidden: AtomicBool::new(false),
            }),
        }
    }

    /// The axum router serving this simulator (API and admin routes).
    pub fn router(&self) -> axum::Router {
        server::router(self.shared.clone())
    }

    /// Every application as served, in id order.
    pub fn apps(&self) -> Vec<Value> {
        if self.shared.apps_hidden.load(Ordering::Relaxed) {
            return Vec::new();
        }
        self.shared
            .read()
            .apps
            .iter()
            .map(|a| a.to_json(&self.shared.dates))
            .collect()
    }

    /// Every issue of an application as the list serves it (empty for an unknown id).
    pub fn issues(&self, app_id: u64) -> Vec<Value> {
        let data = self.shared.read();
        data.app(app_id)
            .map(|a| {
                a.issues
                    .iter()
                    .map(|i| a.issue_json(i, &self.shared.dates))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every issue's times as the data keeps them (UTC), by issue id: what the served
    /// local times stand for.
    pub fn issue_times(&self) -> HashMap<String, IssueTimes> {
        self.shared
            .read()
            .apps
            .iter()
            .flat_map(|a| a.issues.iter().map(|i| (i.id.to_string(), i.times())))
            .collect()
    }

    /// Every application's `lastUpdated` as the data keeps it (UTC), by application id.
    pub fn app_last_updated(&self) -> HashMap<u64, chrono::DateTime<chrono::Utc>> {
        self.shared
            .read()
            .apps
            .iter()
            .map(|a| (a.id, a.last_updated()))
            .collect()
    }

    /// The ids of the applications.
    pub fn app_ids(&self) -> Vec<u64> {
        self.shared.read().apps.iter().map(|a| a.id).collect()
    }

    /// Issues over all applications.
    pub fn total_issues(&self) -> usize {
        self.shared.read().apps.iter().map(|a| a.issues.len()).sum()
    }

    /// Removes the first `count` issues of every application (fixed between two
    /// scans); returns their ids.
    pub fn remove_issues(&self, count: usize) -> Vec<String> {
        self.shared.write().remove_first(count)
    }

    /// Deletes application `app_id` with its issues (as an administrator does); whether
    /// it was there.
    pub fn remove_app(&self, app_id: u64) -> bool {
        let mut data = self.shared.write();
        let before = data.apps.len();
        data.apps.retain(|a| a.id != app_id);
        data.apps.len() < before
    }

    /// Changes about `rate` of the issues as a rescan would (see [`AseData::mutate`]).
    pub fn mutate(&self, rate: f64, seed: u64) -> AseMutation {
        self.shared.write().mutate(rate, seed)
    }

    /// Adds `n` issues to application `app_id`; returns their ids.
    pub fn add_issues(&self, app_id: u64, n: usize) -> Vec<String> {
        self.shared
            .write()
            .add_issues(app_id, n)
            .into_iter()
            .map(|i| i.to_string())
            .collect()
    }

    /// Serves `severity` verbatim for issue `issue_id` (e.g. one ASE does not know).
    pub fn set_severity(&self, issue_id: &str, severity: &str) -> bool {
        let mut data = self.shared.write();
        for app in &mut data.apps {
            for i in &mut app.issues {
                if i.id.to_string() == issue_id {
                    i.severity = severity.to_string();
                    return true;
                }
            }
        }
        false
    }

    /// Every issue list is empty while `on` (applications are still listed).
    pub fn set_no_data(&self, on: bool) {
        self.shared.no_data.store(on, Ordering::Relaxed);
    }

    /// No applications are listed while `on`.
    pub fn set_apps_hidden(&self, on: bool) {
        self.shared.apps_hidden.store(on, Ordering::Relaxed);
    }

    /// Arms a fault.
    pub fn inject(&self, fault: AseFault) {
        if fault == AseFault::DropSessions {
            lock(&self.shared.sessions).clear();
        } else {
            lock(&self.shared.faults).add(fault);
        }
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        *lock(&self.shared.faults) = AseFaultState::default();
    }

    /// A snapshot of the statistics.
    pub fn stats(&self) -> AseSimStats {
        lock(&self.shared.stats).clone()
    }

    /// Zeroes the statistics.
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = AseSimStats::default();
    }

    /// Sessions currently open (logged in, not logged out).
    pub fn open_sessions(&self) -> usize {
        lock(&self.shared.sessions).len()
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

/// Entry point: starts ASE simulators.
#[derive(Debug, Clone, Copy, Default)]
pub struct AseSim;

impl AseSim {
    /// Generates the data and serves it on `addr` (port 0 picks a free port) until
    /// [`RunningAseSim::shutdown`] or drop.
    pub async fn start(config: AseSimConfig, addr: SocketAddr) -> std::io::Result<RunningAseSim> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let handle = tokio::task::spawn_blocking(move || AseHandle::new(config))
            .await
            .map_err(std::io::Error::other)?;
        let app = handle.router();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(RunningAseSim {
            addr: local,
            handle,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// An ASE simulator serving on a socket.
#[derive(Debug)]
pub struct RunningAseSim {
    addr: SocketAddr,
    handle: AseHandle,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningAseSim {
    /// `http://host:port` (the API is under `/ase/api`).
    pub fn base_url(&self) -> String {
        let ip = if self.addr.ip().is_unspecified() {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        } else {
            self.addr.ip()
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// A handle on the simulator's state.
    pub fn handle(&self) -> AseHandle {
        self.handle.clone()
    }

    /// Serves until the server stops (e.g. Ctrl-C in the caller).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningAseSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
