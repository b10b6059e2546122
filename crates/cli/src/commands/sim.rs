//! `sim`: the AppScan on Cloud simulator (or with `--ase` the AppScan Enterprise one) as
//! a server, for trying the CLI by hand.

use crate::args::SimArgs;
use anyhow::Context;
use std::process::ExitCode;

pub async fn run(a: SimArgs) -> anyhow::Result<ExitCode> {
    if a.ase {
        return run_ase(a).await;
    }
    let mut config = sim::SimConfig {
        apps: a.apps,
        issues_per_app: a.issues_per_app,
        seed: a.seed,
        token_ttl: std::time::Duration::from_secs(a.token_ttl.max(1)),
        rate_limit_per_minute: a.rate_limit.filter(|n| *n > 0),
        ..sim::SimConfig::default()
    };
    if let Some(k) = a.key_id {
        config.key_id = k;
    }
    if let Some(s) = a.key_secret {
        config.key_secret = s;
    }
    let addr = format!("{}:{}", a.host, a.port)
        .parse()
        .with_context(|| format!("'{}:{}' is not an address to listen on", a.host, a.port))?;
    let running = sim::AsocSim::start(config.clone(), addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let handle = running.handle();
    println!(
        "AppScan on Cloud simulator listening on {}",
        running.base_url()
    );
    println!(
        "  {} apps, {} issues (seed {})",
        handle.app_ids().len(),
        handle.total_issues(),
        a.seed
    );
    println!("  key id:     {}", config.key_id);
    println!("  key secret: {}", config.key_secret);
    println!(
        "  admin:      POST {}/sim/faults | /sim/mutate | /sim/advance | /sim/revoke, GET /sim/stats",
        running.base_url()
    );
    println!(
        "Try: APPSCAN_KEY_SECRET='{}' appscan-bridge connector add asoc --name sim --url {} --key-id {}",
        config.key_secret,
        running.base_url(),
        config.key_id
    );
    if let Some(rate) = a.mutate_rate {
        let h = handle.clone();
        keep_mutating(rate, a.mutate_every, a.seed, move |rate, seed| {
            // Stamped with the present: moving the clock a minute per change ran it
            // ahead of the wall clock, and deltas by hand fetched ever more.
            let m = h.mutate_now(rate, seed);
            format!(
                "{} mutation: {} status changes, {} updates, {} new issues, {} new apps, {} removed apps",
                m.at.format("%H:%M:%S"),
                m.status_changed,
                m.fields_updated,
                m.issues_added,
                m.apps_added,
                m.apps_removed
            )
        });
    }
    println!("Stop with Ctrl-C.");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = running.wait() => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// `sim --ase`: the ASE simulator (session cookie and XSRF header, `Range` paging).
async fn run_ase(a: SimArgs) -> anyhow::Result<ExitCode> {
    let mut config = sim::AseSimConfig {
        apps: a.apps,
        issues_per_app: a.issues_per_app,
        seed: a.seed,
        ..sim::AseSimConfig::default()
    };
    if let Some(k) = a.key_id {
        config.key_id = k;
    }
    if let Some(s) = a.key_secret {
        config.key_secret = s;
    }
    if let Some(f) = a.date_format {
        config.date_format = f;
    }
    if let Some(z) = a.time_zone {
        config.time_zone =
            model::time::parse_zone(&z).map_err(|e| anyhow::anyhow!("--time-zone: {e}"))?;
    }
    let addr = format!("{}:{}", a.host, a.port)
        .parse()
        .with_context(|| format!("'{}:{}' is not an address to listen on", a.host, a.port))?;
    let running = sim::AseSim::start(config.clone(), addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let handle = running.handle();
    let url = running.base_url();
    println!("AppScan Enterprise simulator listening on {url}");
    println!(
        "  {} apps, {} issues (seed {})",
        handle.app_ids().len(),
        handle.total_issues(),
        a.seed
    );
    println!("  key id:     {}", config.key_id);
    println!("  key secret: {}", config.key_secret);
    println!(
        "  dates:      {} ({}), local times of {}",
        handle
            .apps()
            .first()
            .and_then(|a| a["lastUpdated"].as_str().map(String::from))
            .unwrap_or_default(),
        config.date_format,
        config.time_zone
    );
    println!(
        "  admin:      POST {url}/sim/faults | /sim/no-data | /sim/apps-hidden | /sim/remove-issues | /sim/mutate, GET /sim/stats"
    );
    if let Some(rate) = a.mutate_rate {
        let h = handle.clone();
        keep_mutating(rate, a.mutate_every, a.seed, move |rate, seed| {
            let m = h.mutate(rate, seed);
            format!(
                "{} mutation: {} status changes, {} issues gone, {} new issues",
                chrono::Utc::now().format("%H:%M:%S"),
                m.status_changed,
                m.issues_removed,
                m.issues_added
            )
        });
    }
    // The connector reads the dates as this server writes them.
    let mut date_flags = String::new();
    if config.date_format != sim::ase::data::DATE_FORMAT {
        date_flags.push_str(&format!(" --date-format '{}'", config.date_format));
    }
    if config.time_zone != sim::ase::Tz::UTC {
        date_flags.push_str(&format!(" --time-zone {}", config.time_zone));
    }
    println!(
        "Try: APPSCAN_KEY_SECRET='{}' appscan-bridge connector add ase --name ase --url {url} --key-id {}{date_flags}",
        config.key_secret, config.key_id
    );
    println!("Stop with Ctrl-C.");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = running.wait() => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Every `every_secs` seconds, changes `rate` of the simulator's issues through
/// `mutate(rate, seed)` (a new seed each time) and prints what it says it changed.
fn keep_mutating(
    rate: f64,
    every_secs: u64,
    seed: u64,
    mutate: impl Fn(f64, u64) -> String + Send + 'static,
) {
    let every = std::time::Duration::from_secs(every_secs.max(1));
    println!(
        "  mutating {:.2} % of the issues every {} s",
        rate * 100.0,
        every.as_secs()
    );
    tokio::spawn(async move {
        let mut seed = seed;
        loop {
            tokio::time::sleep(every).await;
            seed += 1;
            println!("  {}", mutate(rate, seed));
        }
    });
}
