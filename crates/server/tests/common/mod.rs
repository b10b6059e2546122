//! Test rig: the ASoC simulator on loopback, a real SQLite store in a temp dir, a runner
//! with one connector on the simulator, and a server on 127.0.0.1:0.

#![allow(dead_code)]

use runner::{AddConnector, MasterKey, Runner, Settings};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

pub struct Rig {
    pub sim: sim::RunningSim,
    pub handle: sim::SimHandle,
    pub runner: Runner,
    pub server: Option<server::Server>,
    pub base: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub key_secret: String,
}

pub fn settings(schedule: Option<&str>) -> Settings {
    Settings {
        page_size: 50,
        rate_limit_per_minute: 0,
        retry_base_ms: 2,
        max_retries: 4,
        schedule: schedule.map(str::to_string),
        ..Settings::default()
    }
}

pub async fn rig(
    apps: usize,
    issues_per_app: usize,
    schedule: Option<&str>,
    scheduler: Option<server::SchedulerConfig>,
    clock: Arc<dyn server::Clock>,
) -> Rig {
    rig_with(&["sim"], apps, issues_per_app, schedule, scheduler, clock).await
}

/// [`rig`] with a connector of each of `names` on the simulator, all with `schedule`.
pub async fn rig_with(
    names: &[&str],
    apps: usize,
    issues_per_app: usize,
    schedule: Option<&str>,
    scheduler: Option<server::SchedulerConfig>,
    clock: Arc<dyn server::Clock>,
) -> Rig {
    rig_with_faults(
        names,
        apps,
        issues_per_app,
        schedule,
        scheduler,
        clock,
        Vec::new(),
    )
    .await
}

/// [`rig_with`], the simulator given `faults` before the server (and its scheduler)
/// starts: injected after, they missed a first run that began at once on a busy machine.
pub async fn rig_with_faults(
    names: &[&str],
    apps: usize,
    issues_per_app: usize,
    schedule: Option<&str>,
    scheduler: Option<server::SchedulerConfig>,
    clock: Arc<dyn server::Clock>,
    faults: Vec<sim::Fault>,
) -> Rig {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = sim::SimConfig {
        apps,
        issues_per_app,
        seed: 7,
        ..sim::SimConfig::default()
    };
    let sim = sim::AsocSim::start(config.clone(), ([127, 0, 0, 1], 0).into())
        .await
        .expect("simulator starts");
    for fault in faults {
        sim.handle().inject(fault);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("store opens");
    let key = MasterKey::from_hex(&"cd".repeat(32), "test").expect("key");
    let runner = Runner::new(Arc::new(store), key);
    for name in names {
        runner
            .add_connector(AddConnector {
                name: name.to_string(),
                kind: "asoc".into(),
                url: Some(sim.base_url()),
                key_id: Some(config.key_id.clone()),
                secret: Some(SecretString::from(config.key_secret.clone())),
                settings: settings(schedule),
            })
            .expect("connector added");
    }
    let server = server::start(
        runner.clone(),
        server::ServeConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            scheduler,
            shutdown_grace: Duration::from_secs(30),
            allowed_hosts: Vec::new(),
        },
        clock,
    )
    .await
    .expect("server starts");
    let base = format!("http://{}", server.addr());
    let handle = sim.handle();
    Rig {
        sim,
        handle,
        runner,
        server: Some(server),
        base,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client"),
        dir,
        key_secret: config.key_secret,
    }
}

impl Rig {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A fresh API token's secret.
    pub fn token(&self, name: &str) -> String {
        server::tokens::create(self.runner.store.as_ref(), Some(name))
            .expect("token")
            .secret()
            .to_string()
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.http.get(self.url(path)).send().await.expect("GET");
        let status = res.status().as_u16();
        let body = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
        )
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    pub async fn post(&self, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut req = self.http.post(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("POST");
        let status = res.status().as_u16();
        let body = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
        )
    }

    /// Syncs the connector through the API and waits for the run.
    pub async fn sync(&self, token: &str) -> serde_json::Value {
        let (status, run) = self
            .post("/api/connectors/sim/sync?wait=true", Some(token))
            .await;
        assert_eq!(status, 200, "{run}");
        run
    }

    pub fn runs(&self) -> Vec<store::Run> {
        let c = self
            .runner
            .store
            .connector("sim")
            .expect("store")
            .expect("connector");
        self.runner.store.runs(c.id, 100).expect("runs")
    }

    pub fn connector(&self) -> store::Connector {
        self.runner
            .store
            .connector("sim")
            .expect("store")
            .expect("connector")
    }

    pub async fn shutdown(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.expect("clean shutdown");
        }
    }
}

/// Polls `f` every 20 ms until it is true, failing after `secs` seconds.
pub async fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
