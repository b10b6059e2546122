//! Helpers the CLI tests share: the binary with a data directory, and running it.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The key secret the simulator accepts by default.
pub const SECRET: &str = "sim-key-secret-0123456789";

/// The real binary, on a data directory, with no key or config from the environment.
pub fn bin(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_appscan-bridge"));
    c.arg("--data-dir")
        .arg(data_dir)
        .env_remove("APPSCAN_BRIDGE_MASTER_KEY")
        .env_remove("APPSCAN_KEY_SECRET")
        .env_remove("APPSCAN_BRIDGE_CONFIG")
        .env_remove("APPSCAN_BRIDGE_LOG_FORMAT");
    c
}

/// Runs a command that must succeed.
pub fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("binary runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a command that must fail; returns what it printed.
pub fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("binary runs");
    assert!(!out.status.success(), "{cmd:?} should fail");
    text(&out)
}

/// Stdout and stderr together.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Stdout as JSON.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A simulator on loopback.
pub async fn sim(apps: usize, issues: usize, seed: u64) -> sim::RunningSim {
    sim::AsocSim::start(
        sim::SimConfig {
            apps,
            issues_per_app: issues,
            seed,
            ..sim::SimConfig::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .expect("simulator")
}
