//! `demo`: the product end to end on a machine with nothing set up — simulator, connector,
//! full sync into a fresh SQLite store, a readable summary, then a delta sync after 1 %
//! of the simulated issues changed.

use super::Ctx;
use crate::args::DemoArgs;
use crate::output;
use crate::progress::Bar;
use runner::{AddConnector, Settings, SyncOptions};
use secrecy::SecretString;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(a: DemoArgs, data_dir: &Path, quiet: bool) -> anyhow::Result<ExitCode> {
    let config = sim::SimConfig {
        apps: a.apps,
        issues_per_app: a.issues_per_app,
        seed: a.seed,
        ..sim::SimConfig::default()
    };
    let running = sim::AsocSim::start(config.clone(), ([127, 0, 0, 1], 0).into()).await?;
    let handle = running.handle();
    if !quiet {
        println!(
            "Simulator: {} ({} apps, {} issues, seed {})",
            running.base_url(),
            handle.app_ids().len(),
            handle.total_issues(),
            a.seed
        );
    }

    // A fresh demo store each time, beside (not inside) the user's real one.
    let demo_dir = data_dir.join("demo");
    for f in ["store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm"] {
        let _ = std::fs::remove_file(demo_dir.join(f));
    }
    let ctx = Ctx::open(demo_dir, quiet)?;
    let settings = Settings {
        description: Some("AppScan on Cloud simulator started by `appscan-bridge demo`".into()),
        page_size: a.page_size,
        // The simulator has no rate limit; a real tenant allows 500 requests a minute.
        rate_limit_per_minute: 0,
        ..Settings::default()
    };
    ctx.runner.add_connector(AddConnector {
        name: "demo".into(),
        kind: "asoc".into(),
        url: Some(running.base_url()),
        key_id: Some(config.key_id.clone()),
        secret: Some(SecretString::from(config.key_secret.clone())),
        settings,
    })?;

    let bar = Bar::new(quiet, "full sync");
    let full = ctx.runner.sync("demo", SyncOptions::default(), &bar).await;
    bar.finish();
    let full = full?;
    let summary = ctx.runner.store.summary(Some("demo"))?;

    let changed = handle.mutate(0.01, a.seed + 1);
    let bar = Bar::new(quiet, "delta sync");
    let delta = ctx.runner.sync("demo", SyncOptions::default(), &bar).await;
    bar.finish();
    let delta = delta?;
    running.shutdown().await;
    crate::pipe::only_printing_remains();

    let c = &full.run.counters;
    println!();
    println!("appscan-bridge demo — AppScan on Cloud (simulated) → SQLite");
    println!(
        "  full sync:   {} in {} ({:.0} records/s), {} requests, state {}",
        c.fetched,
        output::duration(full.elapsed),
        full.rate(),
        c.requests,
        full.run.state
    );
    println!("  applications: {}", summary.assets);
    println!("  findings:     {}", summary.findings);
    let mut t = output::table(&["severity", "findings"]);
    for (s, n) in &summary.by_severity {
        t.add_row(vec![s.to_string(), n.to_string()]);
    }
    let mut u = output::table(&["normalized status", "findings"]);
    for (s, n) in &summary.by_status {
        u.add_row(vec![s.to_string(), n.to_string()]);
    }
    output::print_table(&t);
    println!("{u}");
    let d = &delta.run.counters;
    println!(
        "  then 1 % changed in the simulator ({} status changes, {} updates, {} new issues, {} new apps, {} removed apps);",
        changed.status_changed,
        changed.fields_updated,
        changed.issues_added,
        changed.apps_added,
        changed.apps_removed
    );
    println!(
        "  delta sync:  fetched {} in {} with {} requests: {} inserted, {} updated, {} unchanged, state {}",
        d.fetched,
        output::duration(delta.elapsed),
        d.requests,
        d.inserted,
        d.updated,
        d.unchanged,
        delta.run.state
    );
    println!(
        "  database:    {}",
        runner::paths::store_file(&ctx.data_dir).display()
    );
    println!(
        "Explore it: appscan-bridge --data-dir {} findings --limit 20 | status | runs demo",
        ctx.data_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
