//! `asoc-sim`: serves an ASoC v4 simulator as its own process until Ctrl-C,
//! for demos and for tests that drive it through the `/sim/…` admin API.
//!
//! Usage: `asoc-sim [--addr 127.0.0.1:8080] [--apps 50] [--issues-per-app 400]
//! [--seed 42] [--key-id ID] [--key-secret SECRET] [--rate-limit N]`.

use std::net::SocketAddr;
use std::process::ExitCode;

use sim::{AsocSim, SimConfig};

const USAGE: &str = "usage: asoc-sim [--addr HOST:PORT] [--apps N] [--issues-per-app N] [--seed N] \
[--key-id ID] [--key-secret SECRET] [--rate-limit PER_MINUTE]";

fn parse() -> Result<(SimConfig, SocketAddr), String> {
    let mut config = SimConfig::default();
    let mut addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080));
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |_| format!("invalid value '{value}' for {flag}");
        match flag.as_str() {
            "--addr" => {
                addr = value
                    .parse()
                    .map_err(|_| format!("invalid value '{value}' for {flag}"))?
            }
            "--apps" => config.apps = value.parse().map_err(bad)?,
            "--issues-per-app" => config.issues_per_app = value.parse().map_err(bad)?,
            "--seed" => config.seed = value.parse().map_err(bad)?,
            "--rate-limit" => config.rate_limit_per_minute = Some(value.parse().map_err(bad)?),
            "--key-id" => config.key_id = value,
            "--key-secret" => config.key_secret = value,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok((config, addr))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (config, addr) = match parse() {
        Ok(x) => x,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let (apps, per) = (config.apps, config.issues_per_app);
    match AsocSim::start(config, addr).await {
        Ok(running) => {
            println!(
                "ASoC simulator: {} apps, {} issues, at {}/api/v4 (Ctrl-C stops)",
                apps,
                apps * per,
                running.base_url()
            );
            running.wait().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("asoc-sim: cannot serve on {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}
