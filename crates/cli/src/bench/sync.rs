//! Scenarios 1–3: a full ASoC sync into SQLite, the raw bound (the same pages fetched,
//! parsed and dropped), and a delta sync after 1 % of the issues changed.

use super::Bench;
use anyhow::Context;
use futures::StreamExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The seed of the changes each delta sync follows.
const DELTA_SEED: u64 = 1_001;

/// One full sync, not measured, for the export and query scenarios when the sync
/// scenario does not run.
pub fn store_to_read(b: &mut Bench) -> anyhow::Result<PathBuf> {
    let dir = b.fresh_dir("sync-for-reads")?;
    b.add_connector(&dir)?;
    let full = b.sync(&dir)?;
    b.step(&format!(
        "synced {} findings for the export and query scenarios (not measured)",
        full.fetched
    ));
    Ok(dir)
}

/// Full syncs into fresh stores, each of the seed's data and followed by a delta sync
/// after 1 % changed. Returns the data directory of the last run (a store holding every
/// finding), which the export and query scenarios read.
pub fn full_and_delta(b: &mut Bench) -> anyhow::Result<PathBuf> {
    let (mut wall, mut rate, mut rss, mut size) = (vec![], vec![], vec![], vec![]);
    let (mut full_requests, mut delta_wall, mut delta_requests, mut delta_share) =
        (vec![], vec![], vec![], vec![]);
    let (mut delta_fetched, mut served) = (vec![], vec![]);
    let (mut cpu, mut delta_cpu, mut delta_request_share) = (vec![], vec![], vec![]);
    let mut last = None;
    for run in 1..=b.runs {
        let dir = b.fresh_dir(&format!("sync-{run}"))?;
        b.add_connector(&dir)?;
        // Every full sync reads the tenant the seed made, not the one the previous
        // run's delta changed (apps added and removed, issues added).
        let expected = b.reset_data();
        b.sim.reset_stats();
        let full = b.sync(&dir)?;
        let stats = b.sim.stats();
        let requests = stats.total(sim::asoc::Endpoint::Any);
        b.check_count(
            &format!("full sync {run}"),
            "findings served",
            stats.issues_served,
            expected,
        );
        served.push(stats.issues_served as f64);
        let secs = full.wall.as_secs_f64();
        b.step(&format!(
            "full sync {run}/{}: {} findings in {secs:.1} s, peak RSS {:.0} MiB",
            b.runs, stats.issues_served, full.peak_rss_mib
        ));
        wall.push(secs);
        cpu.push(full.cpu.as_secs_f64());
        // Findings only: the run's `fetched` counts the application records too.
        rate.push(stats.issues_served as f64 / secs.max(1e-6));
        rss.push(full.peak_rss_mib);
        size.push(store_size_mib(&dir));
        full_requests.push(requests as f64);
        let full_request_count = requests;

        // Stamped with the present, not a minute ahead: the next run's full sync starts
        // within that minute, and its delta would count these changes again. One seed
        // for every run: each delta follows the same changes to the same data.
        let changed = b.sim.mutate_now(0.01, DELTA_SEED);
        b.sim.reset_stats();
        let delta = b.sync(&dir)?;
        let stats = b.sim.stats();
        let requests = stats.total(sim::asoc::Endpoint::Any);
        let d = delta.wall.as_secs_f64();
        b.step(&format!(
            "delta sync {run}/{} after {} issues changed: {} findings in {d:.2} s, {requests} requests",
            b.runs,
            changed.status_changed + changed.fields_updated + changed.issues_added,
            stats.issues_served
        ));
        delta_wall.push(d);
        delta_cpu.push(delta.cpu.as_secs_f64());
        delta_requests.push(requests as f64);
        delta_request_share.push(100.0 * requests as f64 / full_request_count.max(1) as f64);
        delta_fetched.push(stats.issues_served as f64);
        delta_share.push(100.0 * d / secs.max(1e-6));
        if let Some(previous) = last.replace(dir) {
            std::fs::remove_dir_all(previous).ok();
        }
    }
    let s = "1. Full ASoC sync into SQLite";
    b.record_timed(s, "wall time", "s", wall, cpu);
    b.record(s, "findings/s", "", rate);
    b.record(s, "peak RSS of the syncing process", "MiB", rss);
    b.record(s, "database size", "MiB", size);
    b.record(s, "requests", "", full_requests);
    b.record(s, "findings served by the simulator", "", served);
    let s = "3. Delta sync after 1 % changed";
    b.record_timed(s, "wall time", "s", delta_wall, delta_cpu);
    b.record(s, "requests", "", delta_requests);
    b.record(
        s,
        "requests, share of the full sync's",
        "%",
        delta_request_share,
    );
    b.record(s, "findings fetched", "", delta_fetched);
    b.record(s, "share of the full sync's time", "%", delta_share);
    last.context("no run")
}

/// The raw bound: every page our sync fetches, fetched with the same client, page size
/// and concurrency, parsed into JSON and dropped — no mapping, no store.
pub fn raw_bound(b: &mut Bench) -> anyhow::Result<()> {
    let mut wall = vec![];
    for run in 1..=b.runs {
        b.reset_data();
        let cfg = b.client_config();
        let cancelled = b.cancelled();
        // A runtime of its own, on a thread of its own, as a separate process would
        // have: the simulator keeps the benchmark's runtime to itself.
        let (records, elapsed) = std::thread::scope(|s| {
            s.spawn(|| -> anyhow::Result<(u64, Duration)> {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    tokio::select! {
                        fetched = fetch_everything(cfg) => fetched,
                        () = cancelled.cancelled() => anyhow::bail!("the raw fetch was stopped"),
                    }
                })
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the raw fetch thread panicked"))?
        })?;
        b.step(&format!(
            "raw fetch {run}/{}: {records} records in {:.1} s",
            b.runs,
            elapsed.as_secs_f64()
        ));
        wall.push(elapsed.as_secs_f64());
    }
    b.record(
        "2. Raw bound (fetch + parse, no store)",
        "wall time",
        "s",
        wall,
    );
    Ok(())
}

async fn fetch_everything(cfg: asoc::ClientConfig) -> anyhow::Result<(u64, Duration)> {
    let start = Instant::now();
    let client = asoc::AsocClient::new(cfg)?;
    client.login().await?;
    let mut ids = Vec::new();
    let mut records = 0u64;
    let mut apps = std::pin::pin!(client.apps(asoc::ListQuery::all()));
    while let Some(page) = apps.next().await {
        let page = page?;
        records += page.items.len() as u64;
        ids.extend(
            page.items
                .iter()
                .filter_map(|a| a.get("Id").and_then(|v| v.as_str()).map(String::from)),
        );
    }
    let mut issues = std::pin::pin!(client.issues_for_apps(ids, asoc::ListQuery::all()));
    while let Some(page) = issues.next().await {
        records += page?.items.len() as u64;
    }
    client.logout().await;
    Ok((records, start.elapsed()))
}

/// The SQLite files of a data directory, in MiB.
fn store_size_mib(dir: &std::path::Path) -> f64 {
    let bytes: u64 = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("store.sqlite3"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    bytes as f64 / (1024.0 * 1024.0)
}
