//! Fault soak: repeated delta syncs of the real binary against a simulator that misbehaves
//! at random — 429 with `Retry-After`, 500/502/503, connection resets, slow answers,
//! truncated bodies, HTML pages, malformed items, expired tokens and clock jumps — while
//! the data changes under it and the sync process is SIGKILLed at random points. At the
//! end (faults cleared, one more delta sync) the store must equal the simulator exactly:
//! every issue of every live app once, with its status and `LastUpdated`, and a status
//! history that chains without gaps. Every failed sync must be on record with a reason.
//!
//! Runs about 2 minutes; `SOAK_SECONDS=600` runs longer. The seed is printed; rerun a
//! failure with `SOAK_SEED=<seed>`. Run with `--nocapture` to watch each round.

mod common;

use common::{SECRET, bin, json, ok};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A small seeded generator (SplitMix64): reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn endpoint(rng: &mut Rng) -> sim::asoc::Endpoint {
    use sim::asoc::Endpoint::*;
    [Login, Apps, Issues, Issues, Any][rng.below(5) as usize]
}

/// One random fault, and a word for the round's log line.
fn fault(rng: &mut Rng) -> (sim::Fault, &'static str) {
    let times = 1 + rng.below(3) as usize;
    match rng.below(8) {
        0 => (
            sim::Fault::Status {
                status: 429,
                times,
                endpoint: endpoint(rng),
                retry_after: Some(rng.below(2)),
            },
            "429",
        ),
        1 => (
            sim::Fault::Status {
                status: [500, 502, 503][rng.below(3) as usize],
                times,
                endpoint: endpoint(rng),
                retry_after: None,
            },
            "5xx",
        ),
        2 => (
            sim::Fault::Reset {
                times,
                endpoint: endpoint(rng),
            },
            "reset",
        ),
        3 => (
            sim::Fault::Truncate {
                times,
                endpoint: endpoint(rng),
            },
            "truncated",
        ),
        4 => (
            sim::Fault::Delay {
                millis: 100 + rng.below(900),
                times,
                endpoint: endpoint(rng),
            },
            "slow",
        ),
        5 => (sim::Fault::NonJsonPage { times }, "html"),
        6 => (
            sim::Fault::Malformed {
                fraction: 0.3,
                seed: rng.next(),
            },
            "malformed",
        ),
        _ => (
            sim::Fault::Body {
                body: r#"{"Items":[{"Id":"#.to_string(),
                times,
                endpoint: endpoint(rng),
            },
            "cut-json",
        ),
    }
}

/// Waits for the child, killing it (and failing) if it hangs.
fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a sync hung for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

type Truth = BTreeMap<String, (String, Option<String>)>;

/// What the simulator serves: issue id → (Status, LastUpdated) over the live apps.
fn ground_truth(h: &sim::SimHandle) -> Truth {
    let mut t = Truth::new();
    for app in h.app_ids() {
        for issue in h.issues(&app) {
            let id = issue["Id"].as_str().unwrap_or_default().to_string();
            let status = issue["Status"].as_str().unwrap_or_default().to_string();
            let updated = issue["LastUpdated"]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.with_timezone(&chrono::Utc).to_rfc3339());
            assert!(t.insert(id, (status, updated)).is_none(), "sim duplicate");
        }
    }
    t
}

/// The store's findings of the live apps, checking duplicates and history on the way.
fn stored(dir: &Path, live: &BTreeSet<String>) -> Truth {
    let db = store::SqliteStore::open(&dir.join("store.sqlite3")).expect("store");
    let s: &dyn store::Store = &db;
    let mut t = Truth::new();
    for f in s.findings(&store::ListQuery::default()).expect("findings") {
        let h = s.finding_history(f.id).expect("history");
        let fin = &f.finding;
        assert!(!h.is_empty(), "{} has no history", fin.external_id);
        assert_eq!(
            h[0].old_status, None,
            "{}: history starts mid-way",
            fin.external_id
        );
        for w in h.windows(2) {
            assert_eq!(
                w[1].old_status,
                Some(w[0].new_status),
                "{}: history does not chain: {h:?}",
                fin.external_id
            );
            assert!(
                w[0].at <= w[1].at,
                "{}: history out of order",
                fin.external_id
            );
        }
        assert_eq!(
            h.last().map(|e| e.new_status),
            Some(fin.status),
            "{}: history ends elsewhere than the status",
            fin.external_id
        );
        if !live.contains(&fin.asset_external_id) {
            continue;
        }
        let row = (
            fin.source_status.clone().unwrap_or_default(),
            fin.last_updated.map(|d| d.to_rfc3339()),
        );
        assert!(
            t.insert(fin.external_id.clone(), row).is_none(),
            "{} is stored twice",
            fin.external_id
        );
    }
    t
}

#[tokio::test(flavor = "multi_thread")]
async fn delta_syncs_under_random_faults_and_kills_converge_to_the_simulator() {
    let seconds = env_u64("SOAK_SECONDS").unwrap_or(120);
    let seed = env_u64("SOAK_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    eprintln!("soak: SOAK_SEED={seed} SOAK_SECONDS={seconds}");
    let mut rng = Rng(seed);

    let sim = common::sim(16, 30, seed).await;
    let h = sim.handle();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(bin(d)
        .args(["connector", "add", "asoc", "--name", "cloud", "--url"])
        .arg(sim.base_url())
        .args([
            "--key-id",
            "sim-key-id",
            "--page-size",
            "10",
            "--rate-limit",
            "0",
        ])
        .args(["--concurrency", "2"])
        .env("APPSCAN_KEY_SECRET", SECRET));
    ok(bin(d).args(["sync", "cloud", "--quiet"]));
    eprintln!(
        "soak: {} apps, {} issues at the start",
        h.app_ids().len(),
        h.total_issues()
    );

    let start = Instant::now();
    let (mut rounds, mut killed, mut failed) = (0u32, 0u32, 0u32);
    let logs = tempfile::tempdir().expect("tempdir");
    while start.elapsed() < Duration::from_secs(seconds) {
        rounds += 1;
        let mut log = Vec::new();
        // A mutation removes an app 30 % of the time: keep them rare enough that apps stay.
        if rng.chance(25) {
            let m = h.mutate(0.01 + rng.below(8) as f64 / 100.0, rng.next());
            log.push(format!("mutate({} changed)", m.changed_issue_ids.len()));
        }
        if rng.chance(20) {
            h.advance_time(chrono::Duration::minutes(1 + rng.below(600) as i64));
            log.push("clock-jump".into());
        }
        if rng.chance(20) {
            h.revoke_tokens();
            log.push("tokens-expired".into());
        }
        h.set_token_ttl(Duration::from_millis(300 + rng.below(3_000)));
        for _ in 0..rng.below(4) {
            let (f, name) = fault(&mut rng);
            h.inject(f);
            log.push(name.into());
        }
        let err_path = logs.path().join(format!("round-{rounds}.err"));
        let err_file = std::fs::File::create(&err_path).expect("stderr file");
        let mut child = bin(d)
            .args(["sync", "cloud", "--quiet"])
            .stdout(Stdio::null())
            .stderr(err_file)
            .spawn()
            .expect("spawn");
        let outcome = if rng.chance(30) {
            std::thread::sleep(Duration::from_millis(rng.below(1_500)));
            let _ = child.kill();
            let _ = child.wait();
            killed += 1;
            "killed"
        } else if wait(&mut child, Duration::from_secs(180)).success() {
            "ok"
        } else {
            failed += 1;
            // The failure is on record: the latest run did not process, and says why.
            let latest = json(&ok(bin(d).args(["runs", "cloud", "--json", "--limit", "1"])));
            let run = &latest[0];
            let err = std::fs::read_to_string(&err_path).unwrap_or_default();
            assert!(
                run["state"] != "Processed"
                    && run["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "seed {seed} round {rounds}: the sync failed but its run says {run:#}\n{err}"
            );
            "failed"
        };
        h.clear_faults();
        eprintln!("round {rounds}: {} -> {outcome}", log.join(" "));
    }

    // Faults off: one more delta sync must bring the store level with the simulator.
    let last = json(&ok(bin(d).args(["sync", "cloud", "--json"])));
    assert_eq!(last["run"]["state"], "Processed", "{last:#}");
    let truth = ground_truth(&h);
    let live: BTreeSet<String> = h.app_ids().into_iter().collect();
    let mine = stored(d, &live);
    let missing: Vec<_> = truth.keys().filter(|k| !mine.contains_key(*k)).collect();
    let extra: Vec<_> = mine.keys().filter(|k| !truth.contains_key(*k)).collect();
    let stale: Vec<_> = truth
        .iter()
        .filter(|(k, v)| mine.get(*k).is_some_and(|m| m != *v))
        .map(|(k, v)| (k, v, &mine[k]))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && stale.is_empty(),
        "seed {seed}: {} missing {missing:?}, {} extra {extra:?}, {} stale {stale:?}",
        missing.len(),
        extra.len(),
        stale.len()
    );

    // Every run that did not process is on record with its reason.
    let runs = json(&ok(
        bin(d).args(["runs", "cloud", "--json", "--limit", "100000"])
    ));
    let runs = runs.as_array().cloned().unwrap_or_default();
    let not_processed: Vec<_> = runs.iter().filter(|r| r["state"] != "Processed").collect();
    for r in &not_processed {
        assert!(
            r["reason"].as_str().is_some_and(|s| !s.is_empty()),
            "a failed run has no reason: {r:#}"
        );
    }
    assert!(
        not_processed.len() as u32 >= failed,
        "{failed} syncs exited with an error but only {} runs are on record as failed",
        not_processed.len()
    );
    eprintln!(
        "soak: seed {seed}: {rounds} rounds, {killed} killed, {failed} failed, {} runs; \
         {} issues of {} live apps match",
        runs.len(),
        truth.len(),
        live.len()
    );
}
