//! `appscan-bridge serve`, `token` and `migrate` as a user runs them: the real binary
//! against the simulator on loopback, on a SQLite file and on PostgreSQL (a schema of its
//! own per test), with several `serve` processes sharing one database.

mod common;
#[path = "../../store/tests/pgtest/mod.rs"]
mod pgtest;

use common::{SECRET, bin, fails, json, ok as run};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use store::Store;

/// A `serve` process and the address it printed.
struct Serve {
    child: Option<Child>,
    addr: String,
    rest: std::thread::JoinHandle<String>,
}

impl Serve {
    /// Starts `serve` on a free loopback port with `extra` arguments.
    fn start(dir: &Path, extra: &[&str]) -> Serve {
        Self::start_logging(dir, extra, "warn", Stdio::inherit(), true)
    }

    /// Like [`start`](Self::start), logging at `level` (`RUST_LOG`; none when empty)
    /// into `stderr`; without `keep_stdout` the reader of its standard output goes away
    /// after the address.
    fn start_logging(
        dir: &Path,
        extra: &[&str],
        level: &str,
        stderr: Stdio,
        keep_stdout: bool,
    ) -> Serve {
        let mut cmd = bin(dir);
        match level {
            "" => cmd.env_remove("RUST_LOG"),
            _ => cmd.env("RUST_LOG", level),
        };
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0", "--shutdown-grace", "30"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("serve starts");
        // A pipe whose reader is gone at once: every log line meets a closed pipe.
        drop(child.stderr.take());
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        out.read_line(&mut first).expect("first line");
        let addr = first
            .trim()
            .strip_prefix("appscan-bridge serving on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_string();
        let rest = std::thread::spawn(move || {
            let mut s = String::new();
            if keep_stdout {
                let _ = out.read_to_string(&mut s);
            }
            s
        });
        Serve {
            child: Some(child),
            addr,
            rest,
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
    }

    /// Sends `sig` and waits for the exit; the status and everything printed after the
    /// first line.
    fn stop(mut self, sig: &str) -> (std::process::ExitStatus, String) {
        self.signal(sig);
        let status = self.child.take().expect("running").wait().expect("wait");
        let rest = std::mem::replace(&mut self.rest, std::thread::spawn(String::new));
        (status, rest.join().expect("reader"))
    }

    fn get(&self, path: &str) -> (u16, Value) {
        http(&self.addr, "GET", path, None)
    }

    fn post(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        http(&self.addr, "POST", path, token)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One HTTP/1.0 request (no chunked answers, the connection closes after it).
fn http(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\n\r\n"
    )
    .expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("answer");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()));
    (status, body)
}

/// Polls `f` every 100 ms until it is true, failing after `secs` seconds.
fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The simulator on a runtime of its own (the tests themselves block: processes,
/// PostgreSQL's blocking client).
struct Sim {
    sim: sim::RunningSim,
    _rt: tokio::runtime::Runtime,
}

impl std::ops::Deref for Sim {
    type Target = sim::RunningSim;
    fn deref(&self) -> &sim::RunningSim {
        &self.sim
    }
}

fn start_sim(apps: usize, issues: usize, seed: u64) -> Sim {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = rt.block_on(common::sim(apps, issues, seed));
    Sim { sim, _rt: rt }
}

fn add_connector(dir: &Path, store: Option<&str>, name: &str, url: &str, schedule: &str) {
    let mut cmd = bin(dir);
    if let Some(s) = store {
        cmd.args(["--store", s]);
    }
    run(cmd
        .args(["connector", "add", "asoc", "--name", name, "--url", url])
        .args(["--key-id", "sim-key-id", "--page-size", "50"])
        .args(["--rate-limit", "0", "--schedule", schedule])
        .env("APPSCAN_KEY_SECRET", SECRET));
}

fn create_token(dir: &Path, name: &str) -> String {
    let t = json(&run(
        bin(dir).args(["token", "create", "--name", name, "--json"])
    ));
    t["token"].as_str().expect("token").to_string()
}

#[test]
fn serve_syncs_on_schedule_answers_the_api_and_stops_cleanly_on_sigterm() {
    let sim = start_sim(2, 15, 5);
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), None, "cloud", &sim.base_url(), "1h");

    // Tokens: printed once, listed without their secret, revocable by name.
    let token = create_token(dir.path(), "ci");
    let spare = create_token(dir.path(), "spare");
    let listed = run(bin(dir.path()).args(["token", "list", "--json"]));
    let text = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(!text.contains(&token) && !text.contains(&spare), "{text}");
    assert_eq!(json(&listed).as_array().map(Vec::len), Some(2));
    let ids: Vec<i64> = json(&listed)
        .as_array()
        .expect("tokens")
        .iter()
        .filter(|t| t["name"] == "spare")
        .filter_map(|t| t["id"].as_i64())
        .collect();
    // By id, and told which token that was.
    let revoked = run(bin(dir.path()).args(["token", "revoke", &ids[0].to_string()]));
    let said = String::from_utf8_lossy(&revoked.stdout);
    assert!(
        said.contains(&format!("token 'spare' (id {}) revoked", ids[0])),
        "{said}"
    );
    // Its id again names it, already revoked, even beside a live token of that name
    // (said: "no live token has the id or name").
    let id = ids[0].to_string();
    create_token(dir.path(), &id);
    let err = fails(bin(dir.path()).args(["token", "revoke", &id]));
    assert!(
        err.contains(&format!("token {id} ('spare') is already revoked")),
        "{err}"
    );
    assert!(err.contains("revoke it by that id"), "{err}");

    let serve = Serve::start(dir.path(), &[]);
    // Never ran, on an interval: the scheduler syncs it at once, then it waits Scheduled.
    let mut view = Value::Null;
    eventually(120, "the scheduled sync to be Processed", || {
        view = serve.get("/api/connectors/cloud").1;
        view["last_run"]["state"] == "Processed" && view["state"] == "Scheduled"
    });
    assert!(view["next_run"].is_string(), "{view}");
    assert!(
        view["state_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("next run")),
        "{view}"
    );
    assert_eq!(serve.get("/healthz").0, 200);
    assert_eq!(serve.get("/readyz").0, 200);
    let (s, findings) = serve.get("/api/findings?limit=5");
    assert_eq!(s, 200, "{findings}");
    let (s, metrics) = serve.get("/metrics");
    assert_eq!(s, 200);
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert!(
        metrics.contains(r#"appscan_bridge_runs_total{connector="cloud",outcome="processed"} 1"#),
        "{metrics}"
    );

    // Writes need a live token; errors are JSON.
    let (s, body) = serve.post("/api/connectors/cloud/sync", None);
    assert_eq!(s, 401, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let (s, body) = serve.post("/api/connectors/cloud/sync", Some(&spare));
    assert_eq!(s, 401, "a revoked token: {body}");
    let (s, run) = serve.post("/api/connectors/cloud/sync?wait=true", Some(&token));
    assert_eq!(s, 200, "{run}");
    assert_eq!(run["state"], "Processed");
    assert_eq!(run["mode"], "delta", "{run}");

    let (status, out) = serve.stop("-TERM");
    assert!(status.success(), "{status:?}: {out}");
    assert!(out.contains("stopping"), "{out}");
    let runs = json(&run_cli(dir.path(), &["runs", "cloud", "--json"]));
    assert_eq!(runs.as_array().map(Vec::len), Some(2), "{runs}");
}

/// A service whose log and output readers went away (a log collector that restarted)
/// keeps working and stops cleanly: lines it cannot write are dropped. Reporting them
/// used to panic inside the HTTP client's connection pool, and the scheduled sync died
/// midway, left Processing; the "stopping" line panicked at SIGTERM.
#[test]
fn serve_keeps_syncing_after_its_log_stream_closes() {
    let sim = start_sim(3, 40, 8);
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), None, "cloud", &sim.base_url(), "1h");
    let token = create_token(dir.path(), "ci");
    let serve = Serve::start_logging(dir.path(), &[], "debug", Stdio::piped(), false);
    let mut view = Value::Null;
    // Processed is stored a moment before the scheduler lets go of the job: wait for
    // both, or the API sync below is refused as a second one (409).
    eventually(120, "the scheduled sync to be Processed and over", || {
        view = serve.get("/api/connectors/cloud").1;
        view["last_run"]["state"] == "Processed" && view["running"] == false
    });
    let (s, run) = serve.post("/api/connectors/cloud/sync?wait=true", Some(&token));
    assert_eq!(s, 200, "{run}");
    assert_eq!(run["state"], "Processed", "{run}");
    assert_eq!(serve.get("/healthz").0, 200);
    let (status, out) = serve.stop("-TERM");
    assert!(status.success(), "{status:?}: {out}");
}

/// `serve --log-format json` writes one JSON object per line for a log collector, and
/// without `-v` it logs each run's start and end: a service that logged only warnings
/// showed nothing of the runs that went well.
#[test]
fn serve_logs_its_runs_as_json_lines_by_default() {
    let sim = start_sim(2, 10, 3);
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), None, "cloud", &sim.base_url(), "1h");
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let serve = Serve::start_logging(dir.path(), &["--log-format", "json"], "", log.into(), true);
    eventually(120, "the scheduled sync to be over", || {
        let view = serve.get("/api/connectors/cloud").1;
        view["last_run"]["state"] == "Processed" && view["running"] == false
    });
    let (status, out) = serve.stop("-TERM");
    assert!(status.success(), "{status:?}: {out}");
    let log = std::fs::read_to_string(&log_path).expect("log");
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let said = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no '{message}' line in:\n{log}"))
    };
    let ended = said("sync ended");
    assert_eq!(ended["level"], "INFO", "{ended}");
    assert_eq!(ended["connector"], "cloud", "{ended}");
    assert_eq!(ended["state"], "Processed", "{ended}");
    assert!(ended["timestamp"].is_string(), "{ended}");
    assert_eq!(said("sync starting")["trigger"], "schedule", "{log}");
    assert_eq!(said("serving")["level"], "INFO", "{log}");
}

fn run_cli(dir: &Path, args: &[&str]) -> std::process::Output {
    run(bin(dir).args(args))
}

/// SIGTERM while a scheduled sync is running: the sync writes its batch, records its
/// state, and the process exits cleanly.
#[test]
fn sigterm_during_a_scheduled_sync_records_its_state() {
    let sim = start_sim(6, 200, 6);
    // Slow enough that the run is still under way when the signal comes on a loaded
    // machine (at 200 ms a page CI once saw it finish first, in 2.7 s).
    sim.handle().inject(sim::Fault::Delay {
        millis: 1_000,
        times: 100_000,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), None, "slow", &sim.base_url(), "1h");
    let serve = Serve::start(dir.path(), &[]);
    eventually(60, "the scheduled sync to fetch", || {
        let v = serve.get("/api/connectors/slow").1;
        v["state"] == "Processing" && v["last_run"]["counters"]["fetched"].as_u64() > Some(0)
    });
    let (status, out) = serve.stop("-TERM");
    assert!(status.success(), "{status:?}: {out}");
    let runs = json(&run_cli(dir.path(), &["runs", "slow", "--json"]));
    assert_eq!(runs[0]["state"], "Cancelled", "{runs}");
    assert!(runs[0]["ended_at"].is_string(), "{runs}");
}

fn due_runs(store: &dyn Store) -> Vec<store::due::DueRun> {
    store.due_runs(None, 1000).expect("due runs")
}

/// Three `serve` processes on one PostgreSQL database with twenty connectors due: every
/// due run is executed exactly once, and the work is shared.
#[test]
fn three_serve_workers_on_postgres_run_twenty_due_runs_exactly_once() {
    let Some(db) = pgtest::TestDb::new("cli_three_workers") else {
        return;
    };
    let url = db.url();
    let sim = start_sim(1, 3, 7);
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..20 {
        add_connector(
            dir.path(),
            Some(&url),
            &format!("c{i:02}"),
            &sim.base_url(),
            "1h",
        );
    }
    let workers: Vec<Serve> = (0..3)
        .map(|w| Serve::start(dir.path(), &["--store", &url, "--worker", &format!("w{w}")]))
        .collect();
    let store = db.open();
    eventually(180, "twenty due runs to be done", || {
        let due = due_runs(&store);
        due.len() == 20 && due.iter().all(|d| d.state == store::due::DueState::Done)
    });
    // A few more scheduler ticks: nothing runs again.
    std::thread::sleep(Duration::from_secs(3));
    // Each worker compares its clock with the database server's (leases are judged by
    // each worker's clock): here they share the machine's.
    let metrics = workers[0].get("/metrics").1;
    let skew: f64 = metrics
        .as_str()
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("appscan_bridge_clock_skew_seconds "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no clock skew gauge in {metrics}"));
    assert!(skew.abs() < 5.0, "{skew}");
    for w in workers {
        let (status, out) = w.stop("-TERM");
        assert!(status.success(), "{status:?}: {out}");
    }
    let due = due_runs(&store);
    assert_eq!(due.len(), 20, "{due:?}");
    let mut per_worker: HashMap<String, usize> = HashMap::new();
    for d in &due {
        assert_eq!(d.attempts, 1, "{d:?}");
        assert_eq!(d.outcome.as_deref(), Some("Processed"), "{d:?}");
        *per_worker
            .entry(d.worker.clone().unwrap_or_default())
            .or_default() += 1;
        let runs = store.runs(d.connector_id, 10).expect("runs");
        assert_eq!(runs.len(), 1, "{} ran {} times", d.connector, runs.len());
        assert_eq!(d.run_id, Some(runs[0].id));
    }
    eprintln!("due runs per worker: {per_worker:?}");
}

/// A `serve` worker is killed (SIGKILL) in the middle of its claimed syncs; once their
/// leases expire another worker takes the due runs over and runs them to the end.
#[test]
fn a_killed_workers_due_runs_are_taken_over_after_the_lease() {
    let Some(db) = pgtest::TestDb::new("cli_takeover") else {
        return;
    };
    let url = db.url();
    let sim = start_sim(3, 60, 8);
    let h = sim.handle();
    h.inject(sim::Fault::Delay {
        millis: 1000,
        times: 100_000,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["a", "b"] {
        add_connector(dir.path(), Some(&url), name, &sim.base_url(), "1h");
    }
    let store = db.open();
    let doomed = Serve::start(
        dir.path(),
        &["--store", &url, "--worker", "doomed", "--lease", "4"],
    );
    eventually(
        60,
        "the doomed worker to claim both due runs and start them",
        || {
            let due = due_runs(&store);
            due.len() == 2
                && due.iter().all(|d| {
                    d.worker.as_deref() == Some("doomed")
                        && d.state == store::due::DueState::Claimed
                        && store
                            .last_run(d.connector_id)
                            .ok()
                            .flatten()
                            .is_some_and(|r| r.state == store::RunState::Processing)
                })
        },
    );
    let (status, _) = doomed.stop("-KILL");
    assert!(!status.success());
    h.clear_faults();

    let survivor = Serve::start(
        dir.path(),
        &["--store", &url, "--worker", "survivor", "--lease", "4"],
    );
    eventually(120, "the survivor to finish both due runs", || {
        let due = due_runs(&store);
        due.len() == 2 && due.iter().all(|d| d.state == store::due::DueState::Done)
    });
    let (status, out) = survivor.stop("-TERM");
    assert!(status.success(), "{status:?}: {out}");
    for d in due_runs(&store) {
        assert_eq!(d.worker.as_deref(), Some("survivor"), "{d:?}");
        assert_eq!(d.attempts, 2, "taken over: {d:?}");
        assert_eq!(d.outcome.as_deref(), Some("Processed"), "{d:?}");
        let runs = store.runs(d.connector_id, 10).expect("runs");
        let states: Vec<_> = runs.iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            vec![store::RunState::Processed, store::RunState::Errored],
            "the survivor's run, then the dead worker's (interrupted): {runs:?}"
        );
        assert!(
            runs[1]
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("interrupted")),
            "{runs:?}"
        );
    }
}

/// `migrate` moves a synced SQLite store into PostgreSQL; every command then works on
/// `--store postgres://...`, and a second migrate into the full target needs --force.
#[test]
fn migrate_moves_a_sqlite_store_into_postgres() {
    let Some(db) = pgtest::TestDb::new("cli_migrate") else {
        return;
    };
    let url = db.url();
    let sim = start_sim(3, 20, 9);
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), None, "cloud", &sim.base_url(), "6h");
    run_cli(dir.path(), &["sync", "cloud", "--quiet"]);
    let token = create_token(dir.path(), "moved");
    let before = json(&run_cli(dir.path(), &["findings", "--json"]));
    // Before the migration the schema holds no store: a listing says so, creating none.
    let missing = common::fails(bin(dir.path()).args(["--store", &url, "findings", "--json"]));
    assert!(missing.contains("there is no store at"), "{missing}");
    assert!(
        !db.schema_exists(),
        "a listing created the schema it was pointed at"
    );
    let out = run_cli(dir.path(), &["migrate", "--to", &url]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("copied"), "{text}");

    let on_pg = |args: &[&str]| json(&run(bin(dir.path()).args(["--store", &url]).args(args)));
    assert_eq!(on_pg(&["findings", "--json"]), before);
    let status = on_pg(&["status", "--json"]);
    assert_eq!(status[0]["last_run"]["state"], "Processed", "{status}");
    let tokens = on_pg(&["token", "list", "--json"]);
    assert_eq!(tokens[0]["name"], "moved", "{tokens}");
    // The secret moved sealed: a delta sync on PostgreSQL works with the same key.
    let synced = run(bin(dir.path())
        .args(["--store", &url, "sync", "cloud", "--json"])
        .env_remove("APPSCAN_KEY_SECRET"));
    let synced = json(&synced);
    assert_eq!(synced["run"]["state"], "Processed", "{synced}");

    // The config file can name the store instead of --store.
    let cfg_dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        dir.path().join("master.key"),
        cfg_dir.path().join("master.key"),
    )
    .expect("same key");
    std::fs::write(
        cfg_dir.path().join("config.toml"),
        format!(
            "store = \"{url}\"\n\n[[connector]]\nname = \"declared\"\nkind = \"asoc\"\n\
             url = \"{}\"\nkey_id = \"sim-key-id\"\nkey_secret_env = \"APPSCAN_KEY_SECRET\"\n",
            sim.base_url()
        ),
    )
    .expect("config");
    // A command that runs a connector applies the file (a listing does not).
    run(bin(cfg_dir.path())
        .args(["check", "declared"])
        .env("APPSCAN_KEY_SECRET", SECRET));
    let listed = json(&run(bin(cfg_dir.path())
        .args(["connector", "list", "--json"])
        .env("APPSCAN_KEY_SECRET", SECRET)));
    let names: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["cloud", "declared"], "{listed}");
    assert!(db.open().connector("declared").expect("pg").is_some());
    assert!(!cfg_dir.path().join("store.sqlite3").exists());

    let again = common::fails(bin(dir.path()).args(["migrate", "--to", &url]));
    assert!(again.contains("--force"), "{again}");
    // The same schema reached by another host name is the same store, not a target.
    let other_name = url.replacen("127.0.0.1", "localhost", 1);
    assert_ne!(other_name, url);
    let onto_itself = common::fails(bin(dir.path()).args([
        "migrate",
        "--from",
        &url,
        "--to",
        &other_name,
        "--force",
    ]));
    assert!(onto_itself.contains("name the same store"), "{onto_itself}");
    // A mistyped source schema was created empty and copied over the target.
    let typo = url.replacen("schema=", "schema=typo_", 1);
    let missing =
        common::fails(bin(dir.path()).args(["migrate", "--from", &typo, "--to", &url, "--force"]));
    assert!(missing.contains("there is no store at"), "{missing}");
    assert_eq!(on_pg(&["findings", "--json"]), before);
    assert!(!token.is_empty());
}

/// A refused `migrate` leaves no new target behind: with a run under way on the source,
/// neither the SQLite file nor the PostgreSQL schema it was pointed at is created (the
/// target was opened, and so created empty, before the source was checked).
#[test]
fn a_refused_migrate_creates_no_target() {
    let Some(db) = pgtest::TestDb::new("cli_migrate_refused") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    run(bin(dir.path()).args(["connector", "add", "xml", "--name", "reports"]));
    let source = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("source");
    let reports = source
        .connector("reports")
        .expect("read")
        .expect("the connector");
    let _run = source
        .begin_run(
            reports.id,
            store::RunMode::Full,
            "pid 7 on worker-1",
            chrono::Duration::minutes(5),
        )
        .expect("a run under way");

    let file = dir.path().join("moved.sqlite3");
    let err = common::fails(bin(dir.path()).args(["migrate", "--to"]).arg(&file));
    assert!(err.contains("is running"), "{err}");
    assert!(
        !file.exists(),
        "a refused migrate created {}",
        file.display()
    );

    let err = common::fails(bin(dir.path()).args(["migrate", "--to", &db.url()]));
    assert!(err.contains("is running"), "{err}");
    assert!(
        !db.schema_exists(),
        "a refused migrate created the schema {}",
        db.schema
    );
}

/// `/readyz` answers within its bound when the store hangs (here a table lock held by
/// another session): it waited as long as the store did (24 s seen) and then said
/// "ready", longer than any probe waits.
#[test]
fn readyz_and_metrics_say_when_the_store_does_not_answer() {
    let Some(db) = pgtest::TestDb::new("cli_readyz") else {
        return;
    };
    let url = db.url();
    let dir = tempfile::tempdir().expect("tempdir");
    run(bin(dir.path()).args([
        "--store",
        &url,
        "connector",
        "add",
        "xml",
        "--name",
        "reports",
    ]));
    let serve = Serve::start(dir.path(), &["--store", &url, "--no-scheduler"]);
    assert_eq!(serve.get("/readyz").0, 200);
    let mut admin = db.client();
    let mut tx = admin.transaction().expect("begin");
    tx.batch_execute(&format!(
        "LOCK TABLE \"{}\".connectors IN ACCESS EXCLUSIVE MODE",
        db.schema
    ))
    .expect("lock");
    let (status, body) = serve.get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("did not answer within"), "{body}");
    // A scrape answers too, without the store's gauges: it waited for the store, and
    // the whole target was down while the store was.
    let (status, metrics) = serve.get("/metrics");
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert_eq!(status, 200, "{metrics}");
    assert!(metrics.contains("appscan_bridge_store_up 0"), "{metrics}");
    assert!(
        metrics.contains("appscan_bridge_build_info{version="),
        "{metrics}"
    );
    assert!(
        !metrics.contains("appscan_bridge_connector_state{"),
        "{metrics}"
    );
    tx.rollback().expect("release");
    eventually(30, "ready again", || serve.get("/readyz").0 == 200);
    let metrics = serve.get("/metrics").1;
    let metrics = metrics.as_str().unwrap_or_default();
    assert!(metrics.contains("appscan_bridge_store_up 1"), "{metrics}");
    assert!(
        metrics.contains(
            r#"appscan_bridge_connector_state{connector="reports",state="Registered"} 1"#
        ),
        "{metrics}"
    );
    let (status, out) = serve.stop("-TERM");
    assert!(status.success(), "{status:?}: {out}");
}

/// A target that fails under the copy (here a session that may only read) says which
/// copy stopped and what it left, besides the store's own reason: migrate said only
/// PostgreSQL's line, naming neither side.
#[test]
fn a_copy_that_fails_in_its_target_says_which_and_what_it_left() {
    let Some(db) = pgtest::TestDb::new("cli_migrate_fails") else {
        return;
    };
    drop(db.open()); // an empty, current store: opening it writes nothing
    let dir = tempfile::tempdir().expect("tempdir");
    run(bin(dir.path()).args(["connector", "add", "xml", "--name", "reports"]));
    let read_only = format!(
        "{}&options=-c%20default_transaction_read_only%3Don",
        db.url()
    );
    let err = common::fails(bin(dir.path()).args(["migrate", "--to", &read_only]));
    assert!(err.contains("the copy into"), "{err}");
    assert!(err.contains("run migrate again with --force"), "{err}");
    assert!(err.contains("read-only"), "{err}");
}
