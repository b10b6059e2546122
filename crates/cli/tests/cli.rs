//! The real binary, driven as a user would, against the simulator on loopback.

mod common;

use common::{SECRET, bin, json, ok as run};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

async fn sim(apps: usize, issues: usize) -> sim::RunningSim {
    common::sim(apps, issues, 21).await
}

fn add_connector(dir: &Path, url: &str, page_size: &str) {
    run(bin(dir)
        .args([
            "connector",
            "add",
            "asoc",
            "--name",
            "cloud",
            "--url",
            url,
            "--key-id",
            "sim-key-id",
        ])
        .args([
            "--page-size",
            page_size,
            "--rate-limit",
            "0",
            "--description",
            "test tenant",
        ])
        .env("APPSCAN_KEY_SECRET", SECRET));
}

/// Every byte of every file in the data directory (the database and its WAL).
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        if e.path().is_file() && e.file_name() != "master.key" {
            out.extend(std::fs::read(e.path()).expect("read"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn connectors_take_their_secret_from_env_or_stdin_and_never_keep_it_plain() {
    let sim = sim(2, 5).await;
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), &sim.base_url(), "50");

    let mut child = bin(dir.path())
        .args([
            "connector",
            "add",
            "asoc",
            "--name",
            "piped",
            "--url",
            &sim.base_url(),
            "--key-id",
            "k2",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"piped-secret-value\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let list = json(&run(bin(dir.path()).args(["connector", "list", "--json"])));
    let names: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["cloud", "piped"]);
    assert_eq!(list[0]["state"], "Registered");
    let text = list.to_string();
    assert!(!text.contains(SECRET) && !text.contains("piped-secret-value"));

    run(bin(dir.path()).args(["sync", "cloud", "--quiet"]));
    let bytes = all_bytes(dir.path());
    for secret in [SECRET.as_bytes(), b"piped-secret-value"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "a secret is stored in plain text"
        );
    }

    // A description over 164 characters is refused with the reason.
    let out = bin(dir.path())
        .args([
            "connector",
            "add",
            "asoc",
            "--name",
            "long",
            "--url",
            "http://x",
            "--key-id",
            "k",
        ])
        .args(["--description", &"x".repeat(165)])
        .env("APPSCAN_KEY_SECRET", "whatever")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 164"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_then_list_status_runs_and_history_as_json() {
    let sim = sim(5, 30).await;
    let h = sim.handle();
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), &sim.base_url(), "20");
    let report = json(&run(bin(dir.path()).args(["sync", "cloud", "--json"])));
    assert_eq!(report["run"]["state"], "Processed");
    assert_eq!(report["run"]["mode"], "full");

    let assets = json(&run(bin(dir.path()).args(["assets", "--json"])));
    assert_eq!(assets.as_array().map(Vec::len), Some(h.app_ids().len()));
    let findings = json(&run(bin(dir.path()).args(["findings", "--json"])));
    assert_eq!(findings.as_array().map(Vec::len), Some(h.total_issues()));
    // A mistyped --connector is an error that names it, not an empty listing, and points
    // at `connector list` as the other commands do.
    for args in [
        &["findings", "--connector", "clud"][..],
        &["assets", "--connector", "clud"],
        &["export", "--format", "csv", "--connector", "clud"],
    ] {
        let out = bin(dir.path()).args(args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("connector 'clud' does not exist (see `connector list`)"),
            "{args:?}: {stderr}"
        );
    }

    h.mutate(0.05, 3);
    let report = json(&run(bin(dir.path()).args(["sync", "cloud", "--json"])));
    assert_eq!(report["run"]["mode"], "delta");

    let status = json(&run(bin(dir.path()).args(["status", "--json"])));
    assert_eq!(status[0]["state"], "Processed");
    assert_eq!(status[0]["last_run"]["mode"], "delta");
    let runs = json(&run(bin(dir.path()).args(["runs", "cloud", "--json"])));
    assert_eq!(runs.as_array().map(Vec::len), Some(2));
    // One run for people: its counts in words (it printed `RunCounters { fetched: … }`).
    let one = run(bin(dir.path()).args(["runs", "cloud", "--run", "2", "--errors"]));
    let text = String::from_utf8_lossy(&one.stdout);
    assert!(
        text.contains("inserted,") && text.contains("requests,"),
        "{text}"
    );
    assert!(!text.contains("RunCounters"), "{text}");

    // A finding whose status changed has two history entries, the second from run 2.
    let changed = json(&run(bin(dir.path()).args(["findings", "--json"])))
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["id"].as_i64().expect("id"))
        .find_map(|id| {
            let f = json(&run(bin(dir.path()).args([
                "finding",
                &id.to_string(),
                "--history",
                "--json",
            ])));
            (f["history"].as_array().map(Vec::len) == Some(2)).then_some(f)
        })
        .expect("a finding changed status in the delta run");
    assert_eq!(changed["history"][1]["run_id"], 2);
}

fn count_findings(dir: &Path) -> usize {
    let Ok(store) = store::SqliteStore::open(&dir.join("store.sqlite3")) else {
        return 0;
    };
    store::Store::findings(&store, &store::ListQuery::default())
        .map(|f| f.len())
        .unwrap_or(0)
}

type Snapshot = Vec<(String, String, usize)>;

fn snapshot(dir: &Path) -> Snapshot {
    let store = store::SqliteStore::open(&dir.join("store.sqlite3")).expect("store");
    let s: &dyn store::Store = &store;
    let mut v: Snapshot = s
        .findings(&store::ListQuery::default())
        .expect("findings")
        .into_iter()
        .map(|f| {
            let history = s.finding_history(f.id).expect("history").len();
            (f.finding.external_id, f.finding.status.to_string(), history)
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_with_sigkill_then_rerun_equals_an_uninterrupted_run() {
    let sim = sim(10, 300).await;
    let h = sim.handle();
    let killed = tempfile::tempdir().expect("tempdir");
    let clean = tempfile::tempdir().expect("tempdir");
    for d in [killed.path(), clean.path()] {
        add_connector(d, &sim.base_url(), "20");
    }
    // Slow the issue pages so the kill lands mid-sync, after some batches were written.
    h.inject(sim::Fault::Delay {
        millis: 15,
        times: 10_000,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    let mut child = bin(killed.path())
        .args(["sync", "cloud", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while count_findings(killed.path()) < 500 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the sync never wrote a batch"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let partial = count_findings(killed.path());
    assert!(partial < h.total_issues(), "killed too late: {partial}");
    h.clear_faults();
    // Until the next run takes over, status says the run was interrupted, not running.
    let status = json(&run(bin(killed.path()).args(["status", "cloud", "--json"])));
    assert_eq!(status[0]["state"], "Processing");
    assert_eq!(status[0]["interrupted"], true, "{status}");
    assert!(
        status[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("was interrupted") && r.contains("no longer runs")),
        "{status}"
    );
    // `migrate` copies such a store at once (it refused it as running until the lease
    // ran out), and the copy, which holds no lock, says the run was interrupted too (it
    // said Processing, running).
    let copy = killed.path().join("copy.sqlite3");
    run(bin(killed.path())
        .args(["--quiet", "migrate", "--to"])
        .arg(&copy));
    let copied = json(&run(bin(killed.path())
        .arg("--store")
        .arg(&copy)
        .args(["status", "cloud", "--json"])));
    assert_eq!(copied[0]["interrupted"], true, "{copied}");

    // The rerun takes over the dead process's lock at once and finishes the job.
    let rerun = json(&run(bin(killed.path()).args(["sync", "cloud", "--json"])));
    assert_eq!(rerun["run"]["state"], "Processed");
    assert_eq!(
        rerun["run"]["mode"], "full",
        "no cursor was written by the killed run"
    );
    run(bin(clean.path()).args(["sync", "cloud", "--quiet"]));
    let a = snapshot(killed.path());
    assert_eq!(a.len(), h.total_issues(), "no duplicates, none lost");
    assert_eq!(a, snapshot(clean.path()));

    let runs = json(&run(bin(killed.path()).args(["runs", "cloud", "--json"])));
    assert_eq!(runs[1]["state"], "Errored");
    assert!(
        runs[1]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("interrupted")
    );
}

/// A `sync` under way against a simulator slowed down enough that a signal finds it
/// running: the simulator, the data directory and the process.
async fn a_slow_sync_under_way() -> (sim::RunningSim, tempfile::TempDir, std::process::Child) {
    let sim = sim(6, 200).await;
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), &sim.base_url(), "20");
    sim.handle().inject(sim::Fault::Delay {
        millis: 30,
        times: 10_000,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    let child = bin(dir.path())
        .args(["sync", "cloud"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(700));
    (sim, dir, child)
}

/// Ctrl-C at a terminal, SIGTERM from a service manager or `timeout`: either stops the
/// sync cleanly, with a summary, the run recorded Cancelled with which signal stopped it
/// and the cursor unmoved.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_or_sigterm_stops_a_sync_cleanly_with_a_summary() {
    for (signal, reason, code) in [
        ("-INT", "interrupted (Ctrl-C)", 130),
        ("-TERM", "stopped by SIGTERM", 143),
    ] {
        let (_sim, dir, child) = a_slow_sync_under_way().await;
        let ok = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        // A stop is not a failure (1): a script can tell them apart.
        assert_eq!(out.status.code(), Some(code), "{signal}: {stdout}");
        assert!(stdout.contains("Cancelled"), "{signal}: {stdout}");
        let status = json(&run(bin(dir.path()).args(["status", "cloud", "--json"])));
        assert_eq!(status[0]["last_run"]["state"], "Cancelled", "{signal}");
        assert_eq!(
            status[0]["last_run"]["reason"],
            format!("{reason}; records read so far were kept")
        );
        assert!(status[0]["cursor"].is_null());
    }
}

/// GNU `timeout` sends its SIGTERM to the command and then to the command's process
/// group: one stop arrives twice at once. It must stop the run cleanly, not count as the
/// second signal that quits at once.
#[tokio::test(flavor = "multi_thread")]
async fn one_stop_delivered_twice_at_once_still_stops_cleanly() {
    let (_sim, _dir, child) = a_slow_sync_under_way().await;
    // Two deliveries, the second after the first was taken (signals that arrive together
    // merge into one).
    for _ in 0..2 {
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(143),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Cancelled"), "{stdout}");
}

/// A run whose wind-down hangs (here: another process holds the store's write lock, so
/// recording the cancelled run waits on it) quits at the second Ctrl-C instead of making
/// the user wait for the store or reach for `kill -9`. The run is then shown interrupted,
/// and what was stored before stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_ctrl_c_quits_a_run_that_cannot_finish() {
    let (_sim, dir, mut child) = a_slow_sync_under_way().await;
    let blocker = rusqlite::Connection::open(dir.path().join("store.sqlite3")).expect("open");
    blocker
        .busy_timeout(Duration::from_secs(60))
        .expect("busy timeout");
    blocker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    // Ctrl-C until the process is gone: the first stops the run, whose end then waits on
    // the lock; a later one quits (without the fix, the run waits out the store's 30 s
    // busy timeout and fails with status 1).
    let status = loop {
        let ok = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
        std::thread::sleep(Duration::from_millis(300));
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
    };
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("quitting at once"));
    blocker.execute_batch("ROLLBACK").expect("rollback");
    drop(blocker);
    let status = json(&run(bin(dir.path()).args(["status", "cloud", "--json"])));
    let shown = status[0].to_string();
    assert!(shown.contains("interrupted"), "{shown}");
    assert!(status[0]["cursor"].is_null());
}

/// `sync -vv 2>&1 | head`: whatever reads the sync's report and logs goes away before the
/// run is over. The run still finishes and moves the cursor, and the process ends without
/// a panic: a log line it could not write used to panic inside the HTTP client's
/// connection pool and kill the run midway, and the report after a finished run panicked
/// with "Broken pipe".
#[tokio::test(flavor = "multi_thread")]
async fn a_sync_whose_reader_goes_away_still_finishes_its_run() {
    use std::os::unix::process::ExitStatusExt;
    let sim = sim(6, 200).await;
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), &sim.base_url(), "20");
    let mut child = bin(dir.path())
        .args(["-vv", "sync", "cloud"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().expect("wait");
    assert!(
        status.success() || status.signal() == Some(libc::SIGPIPE),
        "{status:?} (101 is a panic)"
    );
    let status = json(&run(bin(dir.path()).args(["status", "cloud", "--json"])));
    assert_eq!(status[0]["last_run"]["state"], "Processed", "{status}");
    assert!(!status[0]["cursor"].is_null());
    let findings = json(&run(bin(dir.path()).args(["findings", "--json"])));
    assert_eq!(
        findings.as_array().map(Vec::len),
        Some(sim.handle().total_issues())
    );
}

/// `findings --json | head -c 100`: the reader goes away early and the listing ends
/// quietly (killed by SIGPIPE like `cat`), without a "Broken pipe" panic.
#[tokio::test(flavor = "multi_thread")]
async fn a_listing_piped_into_a_reader_that_closes_early_ends_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let sim = sim(4, 150).await;
    let dir = tempfile::tempdir().expect("tempdir");
    add_connector(dir.path(), &sim.base_url(), "100");
    run(bin(dir.path()).args(["--quiet", "sync", "cloud"]));
    let mut child = bin(dir.path())
        .args(["findings", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut head = [0u8; 100];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut head)
        .expect("the first bytes");
    // The pipe's read end is closed here; 600 findings are far more than its buffer.
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        out.status
    );
}

/// Every `--json` flag says what it prints in `--help` (most had no description).
#[test]
fn every_json_flag_has_a_description() {
    let dir = tempfile::tempdir().expect("tempdir");
    for command in [
        &["status"][..],
        &["runs"],
        &["assets"],
        &["findings"],
        &["finding"],
        &["check"],
        &["remap"],
        &["rescore"],
        &["filter-help"],
        &["sync"],
        &["import"],
        &["kev", "import"],
        &["token", "create"],
        &["token", "list"],
        &["connector", "list"],
        &["connector", "show"],
        &["map", "list"],
    ] {
        let help =
            String::from_utf8_lossy(&run(bin(dir.path()).args(command).arg("--help")).stdout)
                .into_owned();
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with("--json"))
            .unwrap_or_else(|| panic!("{command:?}: no --json in\n{help}"));
        assert!(
            line.trim() != "--json" && line.contains("JSON"),
            "{command:?}: {line:?}"
        );
    }
}

/// `status` shows a reason too long for its cell whole below the table: a connector whose
/// runs fail showed "…; last run 12 Err…" and never the error.
#[test]
fn status_shows_a_long_reason_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Nothing listens on port 1: the run fails with a transport error.
    run(bin(d)
        .args(["connector", "add", "asoc", "--name", "down"])
        .args(["--url", "http://127.0.0.1:1", "--key-id", "k"])
        .args(["--max-retries", "0", "--retry-base-ms", "1"])
        .env("APPSCAN_KEY_SECRET", SECRET));
    let out = bin(d)
        .args(["--quiet", "sync", "down"])
        .output()
        .expect("binary runs");
    assert!(!out.status.success());
    let reason = json(&run(bin(d).args(["status", "--json"])))[0]["reason"]
        .as_str()
        .expect("a reason")
        .to_string();
    assert!(reason.chars().count() > 60, "{reason}");
    let shown = String::from_utf8_lossy(&run(bin(d).arg("status")).stdout).to_string();
    assert!(shown.contains(&format!("down: {reason}")), "{shown}");
}
