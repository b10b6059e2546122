//! `bench`: how fast and how lightly appscan-bridge moves data, side by side with what
//! users would use instead, in one run on this machine.
//!
//! The simulator runs inside this process on a free loopback port; everything measured
//! runs as a child process (`appscan-bridge` itself, or the Python peers) so that wall
//! time and peak memory are those of the measured program alone. Each scenario runs
//! several times; the report gives the median and the spread, as a Markdown table and
//! a JSON file in `--out`, written after every scenario ([`files`]) so that a run that is
//! stopped or fails keeps what it measured. Ctrl-C and SIGTERM reach the running child
//! and end the benchmark with 130 or 143 ([`interrupt`]).

mod child;
mod env;
mod export;
mod files;
mod interrupt;
mod peers;
mod query;
mod report;
mod scale;
mod selection;
mod stats;
mod sync;
mod xml;

pub use scale::Scale;

use crate::args::{BenchArgs, BenchScenario};
use anyhow::Context;
use child::ChildRun;
use interrupt::Stopper;
use report::{Report, Row};
use selection::Selection;
use stats::Summary;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The state every scenario shares.
pub struct Bench {
    pub scale: Scale,
    pub runs: usize,
    pub peer_runs: usize,
    pub page_size: usize,
    pub concurrency: usize,
    /// Where the report goes (and the peers' venv lives).
    pub out: PathBuf,
    /// Scratch space: stores, generated reports, exports.
    pub work: PathBuf,
    pub sim: sim::SimHandle,
    sim_url: String,
    exe: PathBuf,
    chatty: bool,
    rows: Vec<Row>,
    /// What the table's reader must know besides the figures (a count that differs
    /// from the data's, a peer that failed).
    notes: Vec<String>,
    /// Forwards a Ctrl-C or SIGTERM to the running child.
    stopper: Stopper,
    /// The scenarios asked for.
    selection: Selection,
    /// Findings in the simulated tenant as generated.
    findings: usize,
    /// When the run started, as the header says it.
    started: String,
    /// The load averages then.
    load_start: Option<[f64; 3]>,
    /// The scenario running, for a run that ends early.
    stage: &'static str,
    /// The peers' versions, once they are installed (or why they are not).
    peer_versions: Option<String>,
}

/// One `sync` child run.
pub struct SyncRun {
    pub wall: std::time::Duration,
    pub cpu: std::time::Duration,
    pub peak_rss_mib: f64,
    pub fetched: u64,
}

impl Bench {
    /// A progress line on standard error (a terminal only, and not with `--quiet`).
    pub fn step(&self, line: &str) {
        if self.chatty {
            eprintln!("  {line}");
        }
    }

    pub fn record(&mut self, scenario: &str, measure: &str, unit: &str, samples: Vec<f64>) {
        self.rows.push(Row {
            scenario: scenario.into(),
            measure: measure.into(),
            unit: unit.into(),
            summary: Summary::of(samples),
            cpu: None,
        });
    }

    /// A row of wall times with the children's CPU times beside, both in `unit`.
    pub fn record_timed(
        &mut self,
        scenario: &str,
        measure: &str,
        unit: &str,
        wall: Vec<f64>,
        cpu: Vec<f64>,
    ) {
        self.record(scenario, measure, unit, wall);
        if let Some(row) = self.rows.last_mut() {
            row.cpu = Some(Summary::of(cpu));
        }
    }

    /// A line under the table.
    pub fn note(&mut self, line: String) {
        self.step(&line);
        self.notes.push(line);
    }

    /// Notes a count that differs from what the data holds: `who` read `got` `what`
    /// where the data has `expected`.
    pub fn check_count(&mut self, who: &str, what: &str, got: u64, expected: u64) {
        if let Some(line) = report::count_mismatch(who, what, got, expected) {
            self.note(line);
        }
    }

    /// Puts the simulator's data back as the seed made it (see
    /// [`sim::SimHandle::reset_data`]); returns the findings it holds.
    pub fn reset_data(&self) -> u64 {
        self.sim.reset_data();
        self.sim.total_issues() as u64
    }

    /// An empty directory under the work directory.
    pub fn fresh_dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.work.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot empty {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    /// `appscan-bridge --data-dir DIR --store DIR/store.sqlite3 --quiet`, ready for a
    /// command, with none of the user's settings from the environment ([`env`]): the
    /// store is named explicitly besides, so that nothing can send the benchmark into
    /// the user's real store.
    pub fn cli(&self, data_dir: &Path) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("--data-dir")
            .arg(data_dir)
            .arg("--store")
            .arg(runner::paths::store_file(data_dir))
            .arg("--quiet");
        env::isolate(&mut cmd);
        cmd
    }

    /// Runs and measures a child process.
    pub fn child(&self, cmd: Command, scratch: &Path) -> anyhow::Result<ChildRun> {
        child::measure(cmd, scratch, &self.stopper)
    }

    /// Cancelled at Ctrl-C or SIGTERM, for a measurement made in this process.
    pub fn cancelled(&self) -> tokio_util::sync::CancellationToken {
        self.stopper.cancelled()
    }

    pub fn sim_url(&self) -> &str {
        &self.sim_url
    }

    pub fn key_id(&self) -> String {
        self.sim.key_id()
    }

    pub fn key_secret(&self) -> String {
        self.sim.key_secret()
    }

    /// The name of the simulator's first application (for a selective filter).
    pub fn first_app_name(&self) -> String {
        self.sim
            .apps()
            .first()
            .and_then(|a| a.get("Name").and_then(|n| n.as_str()).map(String::from))
            .unwrap_or_default()
    }

    /// The ASoC client settings the sync uses, for the raw bound.
    pub fn client_config(&self) -> asoc::ClientConfig {
        let mut cfg = asoc::ClientConfig::new(
            self.sim_url.clone(),
            self.key_id(),
            secrecy::SecretString::from(self.key_secret()),
        );
        cfg.page_size = self.page_size;
        cfg.concurrency = self.concurrency;
        cfg.rate_limit_per_minute = 0;
        cfg
    }

    /// Registers the `bench` connector (no client-side rate limit) in `data_dir`.
    pub fn add_connector(&self, data_dir: &Path) -> anyhow::Result<()> {
        let mut cmd = self.cli(data_dir);
        cmd.args(["connector", "add", "asoc", "--name", "bench", "--url"])
            .arg(&self.sim_url)
            .args(["--key-id", &self.key_id()])
            .args(["--page-size", &self.page_size.to_string()])
            .args(["--concurrency", &self.concurrency.to_string()])
            .args(["--rate-limit", "0"])
            // A delta refetches what changed in the overlap before its cursor (default
            // five minutes, for clock skew). Runs here follow each other within a
            // minute on one simulator, so the default would refetch the previous run's
            // changes too and measure 2-3 % changed instead of 1 %; on a schedule hours
            // apart it refetches next to nothing. The simulator shares the host's clock.
            .args(["--overlap", "0"])
            .env("APPSCAN_KEY_SECRET", self.key_secret());
        self.child(cmd, &data_dir.join("add.out"))?;
        Ok(())
    }

    /// `sync bench --json` in `data_dir`, measured.
    pub fn sync(&self, data_dir: &Path) -> anyhow::Result<SyncRun> {
        let mut cmd = self.cli(data_dir);
        cmd.args(["sync", "bench", "--json"]);
        let r = self.child(cmd, &data_dir.join("sync.out"))?;
        let report: serde_json::Value = serde_json::from_str(&r.stdout)
            .with_context(|| format!("sync printed no JSON report: {}", r.stdout))?;
        if report.pointer("/run/state").and_then(|s| s.as_str()) != Some("Processed") {
            anyhow::bail!("the benchmark sync did not end Processed: {}", r.stdout);
        }
        Ok(SyncRun {
            wall: r.wall,
            cpu: r.cpu,
            peak_rss_mib: r.peak_rss_mib,
            fetched: report
                .pointer("/run/counters/fetched")
                .and_then(|n| n.as_u64())
                .unwrap_or(0),
        })
    }
}

pub async fn run(a: BenchArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let chatty = !quiet && std::io::stderr().is_terminal();
    let scale = a.scale;
    if chatty {
        eprintln!(
            "Starting the simulator with {} apps × {} issues",
            scale.apps(),
            scale.issues_per_app()
        );
    }
    let config = sim::SimConfig {
        apps: scale.apps(),
        issues_per_app: scale.issues_per_app(),
        ..sim::SimConfig::default()
    };
    let running = sim::AsocSim::start(config, ([127, 0, 0, 1], 0).into())
        .await
        .context("cannot start the simulator")?;
    let out = a.out.clone();
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let work = out.join(format!(".work-{}", scale.name()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let stopper = Stopper::default();
    let mut bench = Bench {
        scale,
        runs: a.runs.unwrap_or(3).max(1),
        peer_runs: a.peer_runs.max(1),
        page_size: a.page_size,
        concurrency: a.concurrency,
        out,
        work,
        findings: running.handle().total_issues(),
        sim: running.handle(),
        sim_url: running.base_url(),
        exe: std::env::current_exe().context("cannot find this program's path")?,
        chatty,
        rows: Vec::new(),
        notes: Vec::new(),
        stopper: stopper.clone(),
        selection: Selection::of(&a.scenarios),
        started: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        load_start: report::load_average(),
        stage: "start",
        peer_versions: None,
    };
    // Ctrl-C or SIGTERM: forwarded to the running child; a second one quits at once.
    let forward = stopper.clone();
    let watch = crate::commands::on_stop_signal(move |signal| forward.stop(signal));
    // The scenarios block (they wait for child processes); the simulator keeps this
    // runtime's worker threads.
    let finished = tokio::task::spawn_blocking(move || {
        let result = run_scenarios(&mut bench);
        (bench, result)
    })
    .await;
    watch.abort();
    // Only now: a child stopping cleanly still talks to the simulator.
    running.shutdown().await;
    let (bench, result) = finished.context("the benchmark thread panicked")?;
    match result {
        Ok(report) => {
            print!("{}", report.markdown());
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => ended_early(&bench, error),
    }
}

/// A run stopped by a signal or a failure: what finished goes to the `.partial` files,
/// marked incomplete with the reason; a signal's exit status is 130 or 143.
fn ended_early(bench: &Bench, error: anyhow::Error) -> anyhow::Result<ExitCode> {
    let caught = bench.stopper.caught();
    let why = match caught {
        Some(signal) => format!("{} during the {} scenario", signal.reason(), bench.stage),
        None => format!("the {} scenario failed: {error:#}", bench.stage),
    };
    let kept = files::write(&bench.out, &bench.partial_stem(), &bench.report(Some(why)))
        .map(|(md, _)| format!("what finished is in {}", md.display()))
        .unwrap_or_else(|e| format!("what finished could not be kept: {e:#}"));
    match caught {
        Some(signal) => {
            eprintln!("bench {}; {kept}", signal.reason());
            Ok(ExitCode::from(signal.exit_code() as u8))
        }
        None => Err(error.context(kept)),
    }
}

/// The peers, each on its own: a peer that fails (an install, a parser that rejects the
/// report) is reported in the table's notes instead of losing the whole run. Returns the
/// peers' versions.
fn run_peers(b: &mut Bench, report: Option<&xml::Generated>) -> String {
    let (python, versions) = match peers::venv(b) {
        Ok(v) => v,
        Err(e) => return format!("not measured: {e:#}"),
    };
    // A peer stopped by Ctrl-C or SIGTERM did not fail: the run's end says why.
    if let Err(e) = peers::python_sync(b, &python)
        && b.stopper.caught().is_none()
    {
        b.note(format!("The Python sync failed: {e:#}"));
    }
    if let Some(report) = report
        && let Err(e) = peers::faraday_parse(b, &python, report)
        && b.stopper.caught().is_none()
    {
        b.note(format!("faraday-plugins failed: {e:#}"));
    }
    versions
}

/// Runs the selected scenarios in order, writing the report files after each.
fn run_scenarios(b: &mut Bench) -> anyhow::Result<Report> {
    let on = |b: &Bench, s: BenchScenario| b.selection.has(s);
    let mut synced = None;
    if on(b, BenchScenario::Sync) {
        b.stage = "sync";
        synced = Some(sync::full_and_delta(b)?);
        sync::raw_bound(b)?;
        b.checkpoint()?;
    } else if on(b, BenchScenario::Export) || on(b, BenchScenario::Query) {
        // They read a synced store: `--scenarios export` alone measured nothing, silently.
        b.stage = "export and query";
        synced = Some(sync::store_to_read(b)?);
    }
    let mut report_file = None;
    if on(b, BenchScenario::Xml) {
        b.stage = "xml";
        report_file = xml::import(b)?;
        b.checkpoint()?;
    }
    if let Some(dir) = &synced {
        if on(b, BenchScenario::Export) {
            b.stage = "export";
            export::export(b, dir)?;
            b.checkpoint()?;
        }
        if on(b, BenchScenario::Query) {
            b.stage = "query";
            query::query(b, dir)?;
            b.checkpoint()?;
        }
    }
    if on(b, BenchScenario::Peers) {
        b.stage = "peers";
        // faraday-plugins parses the smallest report the xml scenario generates; without
        // that scenario it is generated here (not measured) rather than leaving the
        // peer out unsaid.
        if report_file.is_none() {
            match xml::smallest(b) {
                Ok(report) => report_file = Some(report),
                Err(e) => b.note(format!("faraday-plugins not measured: {e:#}")),
            }
        }
        b.peer_versions = Some(run_peers(b, report_file.as_ref()));
        if let Some(signal) = b.stopper.caught() {
            // A peer's failure is a note, a stop is not.
            anyhow::bail!("{}", signal.reason());
        }
    }
    if let Some(dir) = synced {
        std::fs::remove_dir_all(dir).ok();
    }
    let report = b.report(None);
    let (md, json) = files::write(&b.out, &b.selection.file_stem(b.scale.name()), &report)?;
    files::remove(&b.out, &b.partial_stem());
    b.step(&format!("wrote {} and {}", md.display(), json.display()));
    Ok(report)
}

impl Bench {
    /// The report of what has been measured so far; `incomplete` says why it is not the
    /// whole run's.
    fn report(&self, incomplete: Option<String>) -> Report {
        Report {
            scale: self.scale,
            findings: self.findings,
            started: self.started.clone(),
            incomplete,
            scenarios: self.selection.names(),
            scenarios_described: self.selection.describe(),
            machine: report::machine(),
            load_start: self.load_start,
            load_end: report::load_average(),
            settings: format!(
                "page size {}, {} apps at once, {} runs per scenario ({} for peers), {} build",
                self.page_size,
                self.concurrency,
                self.runs,
                self.peer_runs,
                if cfg!(debug_assertions) {
                    "debug"
                } else {
                    "release"
                }
            ),
            peers: self.peer_versions.clone(),
            notes: self.notes.clone(),
            targets: report::targets(&self.rows, self.scale == Scale::Large),
            rows: in_scenario_order(self.rows.clone()),
        }
    }

    /// The report files of a run still going or ended early: the final name with
    /// `.partial`, so that they never replace a whole run's.
    fn partial_stem(&self) -> String {
        format!("{}.partial", self.selection.file_stem(self.scale.name()))
    }

    /// Writes what has been measured so far, after a scenario.
    fn checkpoint(&self) -> anyhow::Result<()> {
        let why = format!("the run was still going after the {} scenario", self.stage);
        files::write(&self.out, &self.partial_stem(), &self.report(Some(why)))?;
        Ok(())
    }
}

/// Rows sorted by scenario number (stable: measures keep their order).
fn in_scenario_order(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| {
        let key = |r: &Row| r.scenario.split(' ').next().unwrap_or("").to_string();
        key(a).cmp(&key(b))
    });
    rows
}
