//! Test rig: a simulator on loopback, a real SQLite store in a temp dir, a runner.

#![allow(dead_code)]

use runner::connectors::EditConnector;
use runner::{AddConnector, MasterKey, Quiet, RunReport, Runner, Settings, SyncOptions};
use secrecy::SecretString;
use std::sync::Arc;

pub struct Rig {
    /// The simulator this rig started (None when it shares another rig's).
    pub sim: Option<sim::RunningSim>,
    pub handle: sim::SimHandle,
    pub runner: Runner,
    pub dir: tempfile::TempDir,
}

pub fn fast_settings() -> Settings {
    Settings {
        page_size: 20,
        rate_limit_per_minute: 0,
        retry_base_ms: 2,
        max_retries: 6,
        ..Settings::default()
    }
}

pub async fn rig(config: sim::SimConfig, settings: Settings) -> Rig {
    let sim = sim::AsocSim::start(config.clone(), ([127, 0, 0, 1], 0).into())
        .await
        .expect("simulator starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("store opens");
    let key = MasterKey::from_hex(&"ab".repeat(32), "test").expect("key");
    let runner = Runner::new(Arc::new(store), key);
    runner
        .add_connector(AddConnector {
            name: "sim".into(),
            kind: "asoc".into(),
            url: Some(sim.base_url()),
            key_id: Some(config.key_id.clone()),
            secret: Some(SecretString::from(config.key_secret.clone())),
            settings,
        })
        .expect("connector added");
    let handle = sim.handle();
    Rig {
        sim: Some(sim),
        handle,
        runner,
        dir,
    }
}

pub fn config(apps: usize, issues_per_app: usize, seed: u64) -> sim::SimConfig {
    sim::SimConfig {
        apps,
        issues_per_app,
        seed,
        ..sim::SimConfig::default()
    }
}

impl Rig {
    /// A sync that must end Processed.
    pub async fn sync_processed(&self) -> RunReport {
        let report = self.sync().await;
        assert_eq!(
            report.run.state,
            store::RunState::Processed,
            "{:?}",
            report.run.reason
        );
        report
    }

    pub async fn sync(&self) -> RunReport {
        self.runner
            .sync("sim", SyncOptions::default(), &Quiet)
            .await
            .expect("sync runs")
    }

    pub async fn sync_full(&self) -> RunReport {
        self.runner
            .sync(
                "sim",
                SyncOptions {
                    full: true,
                    ..SyncOptions::default()
                },
                &Quiet,
            )
            .await
            .expect("sync runs")
    }

    pub fn findings(&self) -> Vec<store::StoredFinding> {
        self.runner
            .store
            .findings(&store::ListQuery::default())
            .expect("findings")
    }

    pub fn assets(&self) -> Vec<store::StoredAsset> {
        self.runner
            .store
            .assets(&store::ListQuery::default())
            .expect("assets")
    }

    /// Every issue the simulator serves, across apps.
    pub fn sim_issues(&self) -> Vec<(String, serde_json::Value)> {
        self.handle
            .app_ids()
            .into_iter()
            .flat_map(|app| {
                self.handle
                    .issues(&app)
                    .into_iter()
                    .map(move |i| (app.clone(), i))
            })
            .collect()
    }
}

/// Points the rig's connector at `url`, trusting `ca_file`.
pub async fn point_at(rig: &Rig, url: &str, ca_file: Option<String>) {
    rig.runner
        .edit_connector(
            "sim",
            EditConnector {
                url: Some(url.into()),
                key_id: None,
            },
            |s| s.ca_file = ca_file,
        )
        .expect("edit");
}
