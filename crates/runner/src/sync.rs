//! One run of one connector: source → map → store, with the run's bookkeeping.
//!
//! The run takes the connector's lock, streams pages from the source, maps each record,
//! and writes batches. It ends Processed (cursor moves to the run's start), Errored (a
//! source failure, or more failed records than the threshold allows), Aborted (the source
//! returned no data where the store has some: nothing is closed) or Cancelled (Ctrl-C:
//! the records read so far are written, except by an atomic run, which is rolled back
//! whole). Only Processed moves the cursor, and it does so
//! in the same transaction as the last batch.

use crate::import::ImportInput;
use crate::progress::Progress;
use crate::source::{Event, Request};
use crate::writes::{Repeats, Writes};
use crate::{Runner, RunnerError, Stop, full_run, maps, settings::Settings, sources};
use chrono::Utc;
use futures::StreamExt;
use model::{Map, fingerprint};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{
    AssetRecord, Batch, Connector, ConnectorState, FindingRecord, IssueLevel, RecordIssue, Run,
    RunCounters, RunEnd, RunMode, RunScope, RunState, Store, StoreError,
};

/// How to run a sync.
#[derive(Clone)]
pub struct SyncOptions {
    /// Fetch everything even when a cursor exists.
    pub full: bool,
    /// Who holds the lock (shown to a second sync that is refused).
    pub holder: String,
    /// How long the lock lives without renewal (a crashed run frees it after this).
    pub lock_ttl: chrono::Duration,
    /// Records per transaction.
    pub batch_size: usize,
    /// A batch smaller than `batch_size` is written anyway after this long, so that a
    /// slow source still shows progress in the run record and `status`, and a shutdown
    /// loses little.
    pub flush_every: Duration,
    /// Thrown by Ctrl-C, SIGTERM, a cancel through the API or a shutdown, with the reason
    /// the run records.
    pub cancel: Stop,
    /// The report an `xml` connector reads (set by [`Runner::import`]).
    pub import: Option<ImportInput>,
    /// The global asset inactivity limit in days of full-run sources (a connector's own
    /// `asset_inactivity_days` overrides it); by default
    /// `$APPSCAN_BRIDGE_ASSET_INACTIVITY_DAYS`.
    pub asset_inactivity_days: Option<u32>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            full: false,
            holder: this_holder(),
            lock_ttl: chrono::Duration::seconds(120),
            batch_size: 2_000,
            flush_every: Duration::from_secs(1),
            cancel: Stop::new(),
            import: None,
            asset_inactivity_days: full_run::global_inactivity_days(),
        }
    }
}

impl Runner {
    /// The lock of a run of the connector that is under way, in this process or another
    /// (another worker, a CLI sync): neither expired nor held by a process known to have
    /// exited, which the next run takes over.
    pub fn running_lock(&self, connector_id: i64) -> Result<Option<store::RunLock>, RunnerError> {
        Ok(self.store.run_lock(connector_id)?.filter(lock_is_live))
    }

    /// Why a Processing connector's run is no longer running, when it is not: the
    /// process holding its lock (on this host) has exited, or the lock ran out without
    /// being renewed, or none holds it. `None` for a connector in another state or while
    /// a run goes on.
    pub fn interruption(&self, c: &store::Connector) -> Result<Option<String>, RunnerError> {
        if c.state != ConnectorState::Processing {
            return Ok(None);
        }
        let Some(lock) = self.store.run_lock(c.id)? else {
            // A run takes the lock as it sets Processing, in one transaction, and gives it
            // up as it ends: Processing without one is a run that nothing runs — copied
            // by `migrate` (which copies no locks) while it was interrupted.
            return Ok(Some(
                "its run was interrupted: no process holds its lock; the next run records it"
                    .to_string(),
            ));
        };
        let why = if holder_is_dead(&lock.holder) {
            format!("{} no longer runs", lock.holder)
        } else if lock.expires < Utc::now() {
            format!(
                "its lock ran out at {} without renewal ({})",
                lock.expires.format("%Y-%m-%d %H:%M:%S"),
                lock.holder
            )
        } else {
            return Ok(None);
        };
        Ok(Some(format!(
            "run {} was interrupted: {why}; the next run takes over and records it",
            lock.run_id
        )))
    }
}

/// Whether a run lock belongs to a run under way: its lease has not run out and its
/// holder is not a process of this host known to have exited (the next run takes such a
/// lock over at once, and `status` calls its run interrupted).
pub fn lock_is_live(lock: &store::RunLock) -> bool {
    lock.expires > Utc::now() && !holder_is_dead(&lock.holder)
}

/// This process as a lock holder: `pid N on HOST in pid:[NS]`. The PID namespace tells
/// containers sharing a host name apart (host networking, Kubernetes `hostNetwork`):
/// without it a live run's lock was taken over because its PID was not found in the
/// namespace of the process that looked.
fn this_holder() -> String {
    let host = hostname();
    match pid_namespace() {
        Some(ns) => format!("pid {} on {host} in {ns}", std::process::id()),
        None => format!("pid {} on {host}", std::process::id()),
    }
}

/// This process's PID namespace (`pid:[4026531836]`), where the system says.
fn pid_namespace() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|p| p.display().to_string())
}

/// Whether a lock holder (`pid N on HOST[ in NS]`) is a process of this host and PID
/// namespace that has exited. A holder in another namespace, or on another host, is
/// judged by its lock's expiry alone.
fn holder_is_dead(holder: &str) -> bool {
    let Some((pid, place)) = holder
        .strip_prefix("pid ")
        .and_then(|rest| rest.split_once(" on "))
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    let (host, namespace) = match place.split_once(" in ") {
        Some((host, ns)) => (host, Some(ns)),
        None => (place, None),
    };
    host == hostname()
        && (namespace.is_none() || namespace.map(str::to_string) == pid_namespace())
        && pid != std::process::id()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this host".into())
}

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run: Run,
    pub elapsed: Duration,
    /// Record problems of the run (errors and warnings), in order.
    pub issues: Vec<RecordIssue>,
}

impl RunReport {
    /// Records fetched per second.
    pub fn rate(&self) -> f64 {
        self.run.counters.fetched as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }
}

/// Runs `f` on a blocking thread (store calls block), in the caller's log span.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, RunnerError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| RunnerError::Internal(format!("a store task failed: {e}")))?
        .map_err(RunnerError::Store)
}

/// The state of one run while it goes: each event's records mapped into the next batch,
/// and the run's counters and record problems.
pub(crate) struct InFlight {
    map: Map,
    pub counters: RunCounters,
    pub batch: Batch,
    pub issues: Vec<RecordIssue>,
    asset_labels: HashMap<String, String>,
    pub apps_with_data: Vec<String>,
    /// Applications with a record that failed to map (their unseen findings stay open).
    pub apps_with_errors: HashSet<String>,
    assets_fetched: u64,
    /// The applications the source said it reads (`Event::AppsTotal`).
    apps_total: Option<u64>,
    lost: u64,
    /// Warnings listed, by message, with how many more times each came and the first
    /// places it came from again (a map's warning about one new status value comes with
    /// every record: a million rows, in memory and in the store, for one fact; a
    /// warning about an application names which in its place).
    repeats: HashMap<String, Folded>,
    repeated_in_order: Vec<String>,
    /// Problems listed, and those past [`MAX_LISTED`] only counted.
    listed: usize,
    unlisted: u64,
}

/// The most record problems a run lists one by one (its counters count them all).
const MAX_LISTED: usize = 1_000;

/// The most places a folded warning's closing line names.
const FOLDED_PLACES: usize = 10;

/// A warning's repeats after the first, listed, one.
#[derive(Default)]
struct Folded {
    more: u64,
    places: Vec<String>,
}

/// What locates a finding without a URL (SAST) in its fingerprint: its asset's URL, else
/// its name — what the sources share, where their asset ids differ.
pub fn asset_locator(asset: &model::Asset) -> String {
    asset.url.clone().or(asset.name.clone()).unwrap_or_default()
}

/// The locator of a finding's asset: the one known, else the asset's id.
pub fn locator_of<'a>(locators: &'a HashMap<String, String>, asset: &'a str) -> &'a str {
    locators.get(asset).map_or(asset, String::as_str)
}

/// The locators of a connector's stored assets, by external id: a run that does not list
/// every asset (a delta lists the changed ones) and a remap locate findings as the full
/// run that listed them did. A SAST finding of an unlisted asset was located by the
/// asset's id instead, and its fingerprint changed with the kind of run that last wrote
/// it, splitting weaknesses that `--dedupe` had joined across sources.
pub fn stored_asset_locators(
    store: &dyn Store,
    connector: &str,
) -> Result<HashMap<String, String>, StoreError> {
    Ok(store.asset_locators(connector)?.into_iter().collect())
}

impl InFlight {
    /// Takes the locators of assets this run may not list ([`stored_asset_locators`]).
    pub fn locate_assets(&mut self, locators: HashMap<String, String>) {
        self.asset_labels.extend(locators);
    }

    pub fn new(map: Map) -> InFlight {
        InFlight {
            map,
            counters: RunCounters::default(),
            batch: Batch::default(),
            issues: Vec::new(),
            asset_labels: HashMap::new(),
            apps_with_data: Vec::new(),
            apps_with_errors: HashSet::new(),
            assets_fetched: 0,
            apps_total: None,
            lost: 0,
            repeats: HashMap::new(),
            repeated_in_order: Vec::new(),
            listed: 0,
            unlisted: 0,
        }
    }

    /// Counts and lists a record problem; a warning that came before is folded into
    /// its first listing ([`InFlight::close_issues`] says how many more).
    pub(crate) fn issue(&mut self, level: IssueLevel, location: String, message: String) {
        let i = RecordIssue {
            level,
            location,
            message,
        };
        match level {
            IssueLevel::Error => self.counters.failed += 1,
            IssueLevel::Warning => self.counters.warnings += 1,
        }
        if level == IssueLevel::Warning {
            if let Some(folded) = self.repeats.get_mut(&i.message) {
                folded.more += 1;
                if folded.places.len() < FOLDED_PLACES {
                    folded.places.push(i.location);
                }
                return;
            }
            if self.listed < MAX_LISTED {
                self.repeats.insert(i.message.clone(), Folded::default());
                self.repeated_in_order.push(i.message.clone());
            }
        }
        self.list(i);
    }

    /// At the end of the run: one warning for the findings whose id the run had met
    /// before, when the source says where it listed them first (`listed`, see
    /// [`crate::source::Source::repeats_listed`]). Listed whatever the number of problems
    /// listed before, as the closing lines are.
    pub(crate) fn note_repeats(&mut self, repeats: &Repeats, listed: Option<&str>) {
        let Some(listed) = listed.filter(|_| repeats.count > 0) else {
            return;
        };
        let first = repeats.first.as_deref().unwrap_or("?");
        let n = repeats.count;
        let (issues, repeat) = if n == 1 {
            ("issue", "repeats")
        } else {
            ("issues", "repeat")
        };
        self.counters.warnings += 1;
        let i = RecordIssue {
            level: IssueLevel::Warning,
            location: "(this run)".into(),
            message: format!(
                "{n} {issues} {repeat} an issue id listed {listed} (first: {first}); \
                 one finding per id was stored, from its last listing"
            ),
        };
        self.issues.push(i.clone());
        self.batch.issues.push(i);
    }

    /// Lists a record problem, up to [`MAX_LISTED`] of them.
    fn list(&mut self, i: RecordIssue) {
        if self.listed >= MAX_LISTED {
            self.unlisted += 1;
            return;
        }
        self.listed += 1;
        self.issues.push(i.clone());
        self.batch.issues.push(i);
    }

    /// At the end of the run: each repeated warning once more with its count and the
    /// first places it came from (the applications a warning is about were named only
    /// for the first), and how many problems were only counted.
    pub fn close_issues(&mut self) {
        let mut closing = Vec::new();
        for message in std::mem::take(&mut self.repeated_in_order) {
            let Some(folded) = self.repeats.remove(&message) else {
                continue;
            };
            let more = folded.more;
            if more > 0 {
                let times = if more == 1 { "time" } else { "times" };
                let mut location = format!("(this run) {}", folded.places.join("; "));
                if more > folded.places.len() as u64 {
                    location.push_str("; …");
                }
                closing.push(RecordIssue {
                    level: IssueLevel::Warning,
                    location,
                    message: format!("{message} (and {more} more {times})"),
                });
            }
        }
        if self.unlisted > 0 {
            closing.push(RecordIssue {
                level: IssueLevel::Warning,
                location: "(this run)".into(),
                message: format!(
                    "{} more record problems were counted, not listed one by one",
                    self.unlisted
                ),
            });
        }
        for i in closing {
            self.issues.push(i.clone());
            self.batch.issues.push(i);
        }
    }

    pub fn on_event(&mut self, ev: Event, progress: &dyn Progress) {
        match ev {
            Event::AppsTotal(n) => {
                self.apps_total = Some(n);
                progress.apps_total(n);
            }
            Event::Assets { location, items } => {
                self.counters.fetched += items.len() as u64;
                self.assets_fetched += items.len() as u64;
                progress.records(items.len() as u64);
                for (i, raw) in items.into_iter().enumerate() {
                    match self.map.apply_asset(&raw) {
                        Ok(m) => {
                            for w in m.warnings {
                                self.issue(
                                    IssueLevel::Warning,
                                    format!("{location} $.Items[{i}]"),
                                    w,
                                );
                            }
                            let a = m.value;
                            self.asset_labels
                                .insert(a.external_id.clone(), asset_locator(&a));
                            self.batch.assets.push(AssetRecord::new(a, raw));
                        }
                        Err(e) => self.issue(
                            IssueLevel::Error,
                            record_location(&location, i, &e.path),
                            e.message,
                        ),
                    }
                }
            }
            Event::Findings {
                app_id,
                location,
                items,
            } => {
                self.counters.fetched += items.len() as u64;
                progress.records(items.len() as u64);
                let location = format!("{location} (app {app_id})");
                for (i, raw) in items.into_iter().enumerate() {
                    match self.map.apply_finding(&raw, &app_id) {
                        Ok(m) => {
                            for w in m.warnings {
                                self.issue(
                                    IssueLevel::Warning,
                                    format!("{location} $.Items[{i}]"),
                                    w,
                                );
                            }
                            let f = m.value;
                            let locator = locator_of(&self.asset_labels, &f.asset_external_id);
                            let fp = fingerprint(&f, locator);
                            self.batch.findings.push(FindingRecord::new(f, raw, fp));
                        }
                        Err(e) => {
                            self.apps_with_errors.insert(app_id.clone());
                            self.issue(
                                IssueLevel::Error,
                                record_location(&location, i, &e.path),
                                e.message,
                            )
                        }
                    }
                }
            }
            Event::Bytes { read, total } => progress.bytes(read, total),
            Event::BadPage {
                location,
                message,
                lost: 0,
            } => self.issue(IssueLevel::Warning, location, message),
            Event::BadPage {
                location,
                message,
                lost,
            } => {
                self.lost += lost;
                self.counters.failed += lost;
                self.list(RecordIssue {
                    level: IssueLevel::Error,
                    location,
                    message: format!("{message} (about {lost} records lost)"),
                });
            }
            Event::AppIncomplete {
                app_id,
                location,
                message,
            } => {
                self.apps_with_errors.insert(app_id);
                self.issue(IssueLevel::Warning, location, message);
            }
            Event::AppComplete {
                app_id,
                records,
                empty_means_clean,
            } => {
                progress.app_done();
                if records > 0 || empty_means_clean {
                    self.apps_with_data.push(app_id);
                }
            }
        }
    }
}

/// `GET /api/v4/Apps $skip=0 $.Items[3].Name`.
fn record_location(page: &str, index: usize, path: &str) -> String {
    format!(
        "{page} $.Items[{index}]{}",
        path.strip_prefix('$').unwrap_or(path)
    )
}

/// A run as it is about to begin: its connector as read, and what was made of it.
struct Prepared {
    connector: Connector,
    settings: Settings,
    map: Map,
    source: Box<dyn crate::source::Source>,
    /// A full run that closes what it does not see (ASE, XML).
    closes: bool,
    mode: RunMode,
}

/// How often a run is prepared again when its connector changed as it would begin.
const PREPARE_TRIES: usize = 3;

impl Runner {
    /// Reads the connector and builds its source and map.
    fn prepare(&self, name: &str, opts: &SyncOptions) -> Result<Prepared, RunnerError> {
        let connector = self.connector(name)?;
        let settings = Settings::from_json(&connector.settings).map_err(RunnerError::Config)?;
        let map = maps::load(self.store.as_ref(), &settings.map)?;
        let secret = self.open_secret(&connector)?;
        let source = sources::build(&connector, &settings, secret, opts.import.as_ref())?;
        let closes = source.closes_unseen();
        let map = full_run::map_for(map, source.unknown_severity());
        let mode = if opts.full || connector.cursor.is_none() || closes {
            RunMode::Full
        } else {
            RunMode::Delta
        };
        Ok(Prepared {
            connector,
            settings,
            map,
            source,
            closes,
            mode,
        })
    }

    /// [`Self::prepare`]s the run and takes its connector's lock, for the connector as it
    /// was read: one removed, re-created or edited in between is read again.
    async fn prepare_and_begin(
        &self,
        name: &str,
        opts: &SyncOptions,
    ) -> Result<(Prepared, Run), RunnerError> {
        let mut tries = 1;
        loop {
            let prepared = self.prepare(name, opts)?;
            match self
                .begin_run(&prepared.connector, prepared.mode, opts)
                .await
            {
                Ok(run) => return Ok((prepared, run)),
                Err(RunnerError::Store(StoreError::ConnectorChanged(_)))
                    if tries < PREPARE_TRIES =>
                {
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs one sync of the named connector to its end and reports what it did.
    pub async fn sync(
        &self,
        name: &str,
        opts: SyncOptions,
        progress: &dyn Progress,
    ) -> Result<RunReport, RunnerError> {
        let started = Instant::now();
        let (
            Prepared {
                connector,
                settings,
                map,
                mut source,
                closes,
                mode,
            },
            run,
        ) = self.prepare_and_begin(name, &opts).await?;
        let run_start = Utc::now();
        let heartbeat = self.heartbeat(run.id, opts.lock_ttl);
        // Dropped on any early return: rolls an atomic run's writes back.
        let mut guard =
            match full_run::begin(self, &run, &connector.name, source.atomic(), closes).await {
                Ok(g) => g,
                Err(e) => {
                    heartbeat.abort();
                    self.fail_run(&run, &e).await;
                    return Err(e);
                }
            };
        // Everything up to the recorded end: a failure in it (a store that refuses a
        // record, a lost connection) rolls an atomic run's writes back first, then records
        // the run Errored with the reason. It was left Processing, its cause lost, until
        // the next run took it over as "interrupted".
        let outcome: Result<Vec<RecordIssue>, RunnerError> = async {
            source.known_assets(guard.take_known_assets());

            // The stored assets, read once: their ids (what a delta asks issues of) and
            // their locators (what places their findings without a URL).
            let store = self.store.clone();
            let cname = connector.name.clone();
            let locators = blocking(move || stored_asset_locators(store.as_ref(), &cname)).await?;
            let mut known: Vec<String> = locators.keys().cloned().collect();
            known.sort();
            // Clamped: a store written before the bound was checked may hold any value.
            let overlap = settings
                .overlap_seconds
                .clamp(0, crate::settings::MAX_OVERLAP_SECONDS);
            let since = connector
                .cursor
                .map(|c| c - chrono::Duration::seconds(overlap));
            let mut events = source.events(Request {
                mode,
                since,
                known_assets: known.clone(),
            });

            let mut st = InFlight::new(map);
            st.locate_assets(locators);
            let mut stopped: Option<(RunState, String)> = None;
            // The batches being encoded and written while the next one is read and mapped.
            let mut writes = Writes::default();
            let mut last_write = Instant::now();
            // An atomic run's writes are rolled back when it stops (the store says so):
            // nothing read so far is kept.
            let kept = if source.atomic() {
                ""
            } else {
                "; records read so far were kept"
            };
            loop {
                let next = tokio::select! {
                    _ = opts.cancel.stopped() => {
                        stopped = Some((RunState::Cancelled, format!("{}{kept}", opts.cancel.reason())));
                        break;
                    }
                    next = events.next() => next,
                };
                match next {
                    None => break,
                    Some(Err(e)) => {
                        stopped = Some((RunState::Errored, e.0));
                        break;
                    }
                    Some(Ok(ev)) => st.on_event(ev, progress),
                }
                let due = st.batch.len() >= opts.batch_size
                    || (!st.batch.is_empty() && last_write.elapsed() >= opts.flush_every);
                if due {
                    last_write = Instant::now();
                    if let Err(e) = self.write(&run, &mut st, source.stats(), &mut writes).await {
                        stopped = Some((RunState::Errored, e.to_string()));
                        break;
                    }
                }
            }
            // A source whose repeated ids are warned about (a report: a full run, which
            // writes its last records before it closes, not with its end) sends its last
            // records through the pipeline too, so that what their write says is known
            // before the closing warnings. Other runs write theirs with the cursor.
            let repeats_listed = source.repeats_listed();
            if repeats_listed.is_some()
                && !st.batch.is_empty()
                && let Err(e) = self.write(&run, &mut st, source.stats(), &mut writes).await
                && stopped.is_none()
            {
                stopped = Some((RunState::Errored, e.to_string()));
            }
            if let Err(e) = writes.settle(&mut st.counters).await
                && stopped.is_none()
            {
                stopped = Some((RunState::Errored, e.to_string()));
            }
            drop(events);
            st.note_repeats(&writes.repeats, repeats_listed);
            st.close_issues();
            source.close().await;
            let stats = source.stats();
            st.counters.requests = stats.requests;
            st.counters.retries = stats.retries;
            if let Some(client) = source.client_stats() {
                progress.client_stats(&client);
            }

            let (state, reason) = match stopped {
                Some((s, r)) => (s, Some(r)),
                None => full_run::no_data(closes, &st.apps_with_data).unwrap_or_else(|| {
                    let (state, reason) = judge(&st, mode, &known, &settings);
                    match state {
                        RunState::Aborted => (state, reason),
                        _ => (
                            state,
                            reason.map(|r| {
                                format!(
                                    "{r}; see `appscan-bridge runs {} --run {} --errors`",
                                    connector.name, run.id
                                )
                            }),
                        ),
                    }
                }),
            };
            if state == RunState::Processed && closes {
                let store = self.store.clone();
                let apps = full_run::closable(&st.apps_with_data, &st.apps_with_errors);
                let r = run.clone();
                let batch = std::mem::take(&mut st.batch);
                let progress_counters = st.counters;
                let r2 = r.clone();
                let counts =
                    blocking(move || store.write_batch(&r2, &batch, &progress_counters)).await?;
                st.counters.add(&counts);
                let store = self.store.clone();
                st.counters.closed = blocking(move || store.close_unseen(&r, &apps)).await?;
                full_run::after_close(self, &run, &settings.full_run, &opts).await?;
            }
            let end = RunEnd {
                state,
                connector_state: ConnectorState::after(state),
                reason: reason.clone(),
                counters: st.counters,
                // Records on pages that could not be read are not here: the cursor stays, so
                // that the next sync asks for them again (a partial run never moves it).
                // In the server's time when it says (`LastUpdated` is stamped there): a
                // cursor in this host's time asked for nothing when this clock ran ahead,
                // and missed changes when it ran behind by more than the overlap.
                cursor: (state == RunState::Processed && st.lost == 0)
                    .then(|| run_start + server_clock_difference(source.as_ref())),
                // An edit during the run (another server, another filter) keeps the
                // cursor it left: the next sync fetches the new scope whole.
                scope: Some(RunScope::of(&connector)),
            };
            let store = self.store.clone();
            let batch = std::mem::take(&mut st.batch);
            let r = run.clone();
            blocking(move || store.finish_run(&r, &batch, &end)).await?;
            Ok(st.issues)
        }
        .await;
        heartbeat.abort();
        drop(guard);
        let issues = match outcome {
            Ok(issues) => issues,
            Err(e) => {
                self.fail_run(&run, &e).await;
                return Err(e);
            }
        };
        let store = self.store.clone();
        let id = run.id;
        let run = blocking(move || store.run(id))
            .await?
            .ok_or(RunnerError::Store(StoreError::NoSuchRun(id)))?;
        Ok(RunReport {
            run,
            elapsed: started.elapsed(),
            issues,
        })
    }

    /// Ends a run that failed before reading its source as Errored (best effort: the
    /// error that caused it is what the caller reports).
    pub(crate) async fn fail_run(&self, run: &Run, e: &RunnerError) {
        let end = RunEnd {
            state: RunState::Errored,
            connector_state: ConnectorState::Errored,
            reason: Some(crate::check::run_failure(e)),
            counters: RunCounters::default(),
            cursor: None,
            scope: None,
        };
        // A failure of the store itself (a PostgreSQL blip that closed every pooled
        // connection at once) can fail this write too: it left the run Processing with
        // its lock held until the lease ran out, and then recorded as "interrupted". The
        // pool drops a closed connection when it is given back, so a later try connects
        // afresh.
        let mut pauses = FAIL_RUN_PAUSES.iter();
        loop {
            let store = self.store.clone();
            let (r, end) = (run.clone(), end.clone());
            match blocking(move || store.finish_run(&r, &Batch::default(), &end)).await {
                // Recorded by the store as a run that lost its lock.
                Ok(_) | Err(RunnerError::Store(StoreError::LockLost { .. })) => return,
                Err(e) => match pauses.next() {
                    Some(pause) => {
                        tracing::debug!(run_id = run.id, error = %e, "recording the run's failure again");
                        tokio::time::sleep(*pause).await;
                    }
                    None => {
                        tracing::warn!(run_id = run.id, error = %e, "could not record the run's failure");
                        return;
                    }
                },
            }
        }
    }

    /// Takes the connector's lock. A lock held by a process of this host that no longer
    /// exists (killed, crashed) is taken over at once instead of waiting for it to expire.
    pub(crate) async fn begin_run(
        &self,
        connector: &Connector,
        mode: RunMode,
        opts: &SyncOptions,
    ) -> Result<Run, RunnerError> {
        let attempt = || {
            let (store, connector) = (self.store.clone(), connector.clone());
            let (holder, ttl) = (opts.holder.clone(), opts.lock_ttl);
            blocking(move || store.begin_run_of(&connector, mode, &holder, ttl))
        };
        match attempt().await {
            Err(RunnerError::Store(StoreError::Locked { run_id, holder, .. }))
                if holder_is_dead(&holder) =>
            {
                tracing::warn!(run_id, %holder, "taking over the lock of a process that no longer runs");
                let store = self.store.clone();
                blocking(move || store.renew_lock(run_id, chrono::Duration::seconds(-1))).await?;
                attempt().await
            }
            other => other,
        }
    }

    /// Queues the current batch for writing (see [`Writes`]), so that reading and
    /// mapping the next batch overlaps with the store's work. Takes the source's
    /// counters, not the source: a `&dyn Source` held across the await would make
    /// `sync`'s future not `Send`, and `serve` spawns it on a task.
    async fn write(
        &self,
        run: &Run,
        st: &mut InFlight,
        stats: crate::source::SourceStats,
        writes: &mut Writes,
    ) -> Result<(), RunnerError> {
        st.counters.requests = stats.requests;
        st.counters.retries = stats.retries;
        let batch = std::mem::take(&mut st.batch);
        writes
            .push(self.store.clone(), run.clone(), batch, &mut st.counters)
            .await
    }

    /// Renews the run's lock every third of its time to live until aborted.
    pub(crate) fn heartbeat(
        &self,
        run_id: i64,
        ttl: chrono::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let store: Arc<dyn Store> = self.store.clone();
        let every = (ttl / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(30))
            .max(Duration::from_millis(200));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let s = store.clone();
                let renewed = tokio::task::spawn_blocking(move || s.renew_lock(run_id, ttl)).await;
                match renewed {
                    Ok(Ok(())) => {}
                    // Another run has the connector: the run's next write is refused and
                    // ends it; renewing again would only repeat this.
                    Ok(Err(lost @ StoreError::LockLost { .. })) => {
                        tracing::warn!(run_id, "{lost}");
                        break;
                    }
                    _ => tracing::warn!(run_id, "could not renew the run's lock"),
                }
            }
        })
    }
}

/// Decides how a run that read its source to the end went, and why (the record
/// problems are counted, not pointed at: a run adds where to find them).
pub(crate) fn judge(
    st: &InFlight,
    mode: RunMode,
    known: &[String],
    settings: &Settings,
) -> (RunState, Option<String>) {
    let c = &st.counters;
    // Unreadable pages are not "no data": a listing that lost records falls through to
    // the failure threshold (found by the bad-input corpus: garbage app pages were an
    // Aborted run with exit code 0).
    // A delta lists only the applications changed since its cursor; that the server
    // lists none at all it says with the number of applications it reads.
    let none_listed = match mode {
        RunMode::Full => st.assets_fetched == 0,
        RunMode::Delta => st.apps_total == Some(0),
        RunMode::Remap => false,
    };
    if none_listed && st.lost == 0 && !known.is_empty() {
        // A delta asks for the stored applications by id: a server that lists others
        // (another tenant behind the same address) lists none of them.
        let listed = match mode {
            RunMode::Delta => format!(
                "the source listed none of the store's {} applications; if the connector \
                 now reads another server or tenant, `sync --full` fetches it whole",
                known.len()
            ),
            _ => format!(
                "the source returned no applications; the store has {}",
                known.len()
            ),
        };
        return (
            RunState::Aborted,
            Some(format!("aborted: no data ({listed}), nothing was closed")),
        );
    }
    let total = c.fetched + st.lost;
    if total > 0 && c.failed as f64 / total as f64 > settings.failure_threshold {
        return (
            RunState::Errored,
            Some(format!(
                "{} of {} records failed ({:.2} % > threshold {:.2} %)",
                c.failed,
                total,
                100.0 * c.failed as f64 / total as f64,
                100.0 * settings.failure_threshold
            )),
        );
    }
    let reason = (c.failed + c.warnings > 0).then(|| {
        let mut r = format!(
            "processed with {} failed records and {} warnings",
            c.failed, c.warnings
        );
        if st.lost > 0 {
            r.push_str(&format!(
                "; about {} records on pages that could not be read are missing, so the cursor did not move and the next sync asks for them again",
                st.lost
            ));
        }
        r
    });
    (RunState::Processed, reason)
}

/// The pauses before recording a run's failure again, when the store failed that too.
const FAIL_RUN_PAUSES: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(200),
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(3),
];

/// A server clock this close to this host's is taken as the same: its `Date` header has
/// whole seconds and arrives a moment late, and the overlap covers the rest.
const CLOCKS_AGREE: chrono::Duration = chrono::Duration::seconds(5);

/// How far to move this host's time to reach the source server's, for a cursor: nothing
/// when the server does not say or the clocks agree within [`CLOCKS_AGREE`].
fn server_clock_difference(source: &dyn crate::source::Source) -> chrono::Duration {
    source
        .server_clock_offset()
        .filter(|o| o.abs() > CLOCKS_AGREE)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{holder_is_dead, hostname, pid_namespace, this_holder};

    /// A PID that no process has: a child's, once it has been waited for.
    fn exited_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        pid
    }

    /// A lock's holder is judged dead only in this host's and this PID namespace's terms:
    /// a container on the same host name (host networking) had its live run taken over
    /// because its PID was not found here.
    #[test]
    fn a_holder_in_another_pid_namespace_is_not_judged_dead() {
        let pid = exited_pid();
        let host = hostname();
        assert!(holder_is_dead(&format!("pid {pid} on {host}")), "old form");
        if let Some(ns) = pid_namespace() {
            assert!(holder_is_dead(&format!("pid {pid} on {host} in {ns}")));
            assert!(!holder_is_dead(&format!("pid {pid} on {host} in pid:[1]")));
            assert!(this_holder().ends_with(&format!(" in {ns}")));
        }
        assert!(!holder_is_dead(&format!("pid {pid} on another-host")));
        assert!(!holder_is_dead(&this_holder()), "this process is alive");
    }
}
