//! `import FILE`: one AppScan XML report into an `xml` connector, as one full run in one
//! store transaction.
//!
//! Without a connector name the report goes to the connector named [`DEFAULT_XML`],
//! created on first use with default settings; a named connector must exist and be of
//! kind `xml`. The run is an ordinary sync of that connector (same lock, counters,
//! history and threshold) whose source is the file: see [`crate::sources::xml`].
//!
//! A dry run ([`Runner::dry_run_import`]) reads and maps the report the same way and
//! stores nothing: it says what an import would store, which records it would refuse, and
//! how the findings compare with what the connector has stored (new, changed, unchanged,
//! and the stored ones it would close).

use crate::settings::Settings;
use crate::source::{Request, Source};
use crate::sources::xml::XmlSource;
use crate::sync::{InFlight, RunReport, SyncOptions, blocking, judge};
use crate::writes::Repeats;
use crate::{AddConnector, Progress, Runner, RunnerError, Stop, full_run, maps};
use foldhash::fast::{FixedState, FoldHasher};
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use store::{Connector, FindingRecord, RecordIssue, RunMode, RunState, Store};

/// The connector imports go to when none is named.
pub const DEFAULT_XML: &str = "xml";

/// Records per transaction of an import at most: a report's issues are large (their
/// texts and HTTP traffic), and the batches in the write pipeline are most of an
/// import's memory (peak RSS of a 1 GB report: 98 MiB with batches of 2,000).
const IMPORT_BATCH: usize = 1_000;

/// The file a run of an `xml` connector reads.
#[derive(Debug, Clone)]
pub struct ImportInput {
    /// The report (plain or gzip).
    pub path: PathBuf,
    /// The application the report is about (else the report's own application name).
    pub app: Option<String>,
    /// Import a report older than the last one imported for its application (refused
    /// otherwise: it would close what the newer one found and reopen what it fixed).
    pub allow_older: bool,
}

impl Runner {
    /// The connector an import goes to: `name`, which must be of kind `xml`, or the
    /// default `xml` connector (created when missing).
    pub fn import_connector(&self, name: Option<&str>) -> Result<String, RunnerError> {
        if let Some(c) = self.existing_import_connector(name)? {
            return Ok(c.name);
        }
        let c = self.add_connector(AddConnector {
            name: DEFAULT_XML.into(),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: Settings {
                description: Some("AppScan XML reports imported from files".into()),
                ..Settings::default()
            },
        })?;
        Ok(c.name)
    }

    /// The `xml` connector named, or the default one if it exists yet.
    fn existing_import_connector(
        &self,
        name: Option<&str>,
    ) -> Result<Option<Connector>, RunnerError> {
        let wanted = name.unwrap_or(DEFAULT_XML);
        match self.store.connector(wanted)? {
            Some(c) if c.kind == "xml" => Ok(Some(c)),
            Some(c) => Err(RunnerError::Config(format!(
                "connector '{}' is of kind '{}'; reports are imported into an xml connector",
                c.name, c.kind
            ))),
            None if name.is_some() => Err(RunnerError::NoSuchConnector(wanted.to_string())),
            None => Ok(None),
        }
    }

    /// Reads and maps a report as [`Runner::import`] would, with the connector's settings
    /// and map, and stores nothing: no run, no connector created. A bad file fails as it
    /// would fail the import.
    pub async fn dry_run_import(
        &self,
        connector: Option<&str>,
        input: ImportInput,
        cancel: Stop,
        progress: &dyn Progress,
    ) -> Result<DryRun, RunnerError> {
        let started = Instant::now();
        readable(&input)?;
        let existing = self.existing_import_connector(connector)?;
        let connector_exists = existing.is_some();
        let (name, settings, known, stored) = match existing {
            Some(c) => {
                let settings = Settings::from_json(&c.settings).map_err(RunnerError::Config)?;
                let known = self.store.asset_ids(&c.name)?;
                // Compared with what is stored only when something is.
                let stored = (self.store.counts(c.id)?.1 > 0).then_some(c.id);
                (c.name, settings, known, stored)
            }
            None => (
                DEFAULT_XML.to_string(),
                Settings::default(),
                Vec::new(),
                None,
            ),
        };
        let map = maps::load(self.store.as_ref(), &settings.map)?;
        let mut source = XmlSource::new(&name, &settings, Some(&input))?;
        if connector_exists {
            let store = self.store.clone();
            let n = name.clone();
            let known = blocking(move || full_run::known_assets(store.as_ref(), &n)).await?;
            source.known_assets(known);
        }
        let map = full_run::map_for(map, source.unknown_severity());
        let mut events = source.events(Request {
            mode: RunMode::Full,
            since: None,
            known_assets: Vec::new(),
        });
        let mut st = InFlight::new(map);
        let (mut assets, mut findings) = (0, 0);
        let mut changes = Changes::default();
        loop {
            let next = tokio::select! {
                _ = cancel.stopped() => return Err(RunnerError::Source(cancel.reason().to_string())),
                next = events.next() => next,
            };
            let Some(ev) = next else { break };
            st.on_event(ev.map_err(|e| RunnerError::Source(e.0))?, progress);
            let batch = std::mem::take(&mut st.batch);
            assets += batch.assets.len() as u64;
            findings += batch.findings.len() as u64;
            changes.compare(&self.store, stored, batch.findings).await?;
            st.issues.truncate(DRY_RUN_ISSUES);
        }
        st.note_repeats(&changes.repeats, source.repeats_listed());
        st.close_issues();
        let (outcome, reason) = full_run::no_data(true, &st.apps_with_data)
            .unwrap_or_else(|| judge(&st, RunMode::Full, &known, &settings));
        if outcome == RunState::Processed
            && let Some(id) = stored
        {
            let apps = full_run::closable(&st.apps_with_data, &st.apps_with_errors);
            changes.count_closing(self.store.as_ref(), id, &apps)?;
        }
        Ok(DryRun {
            // One finding per id, as the import stores them (a repeat is no other).
            findings: findings.saturating_sub(changes.repeats.count),
            changes,
            outcome,
            reason,
            assets,
            failed: st.counters.failed,
            warnings: st.counters.warnings,
            elapsed_seconds: started.elapsed().as_secs_f64(),
            issues: st.issues,
        })
    }

    /// Imports one report: a full run of the connector over the file, stored in one
    /// transaction (a bad file or a failed run stores nothing).
    pub async fn import(
        &self,
        connector: Option<&str>,
        input: ImportInput,
        mut opts: SyncOptions,
        progress: &dyn Progress,
    ) -> Result<RunReport, RunnerError> {
        readable(&input)?;
        let name = self.import_connector(connector)?;
        self.store.favour_low_memory().map_err(RunnerError::Store)?;
        opts.import = Some(input);
        opts.full = true;
        opts.batch_size = opts.batch_size.min(IMPORT_BATCH);
        self.sync(&name, opts, progress).await
    }
}

/// The report must be a regular file that can be opened, checked before a connector is
/// created or a run recorded: an unreadable one (permissions) passed the check and was
/// recorded as an Errored run of a new connector. The error says why: the OS's reason, a
/// directory, or a pipe (the report is read twice).
fn readable(input: &ImportInput) -> Result<(), RunnerError> {
    let path = input.path.display();
    let twice = "import reads the report twice (checks it whole, then stores it), so it needs a regular file, not a pipe";
    if input.path.as_os_str() == "-" {
        return Err(RunnerError::Config(format!(
            "cannot import from standard input (-): {twice}; save the report to a file first"
        )));
    }
    let meta = std::fs::metadata(&input.path)
        .map_err(|e| RunnerError::Config(format!("cannot read {path}: {e}")))?;
    if meta.is_dir() {
        return Err(RunnerError::Config(format!(
            "{path} is a directory, not a report file"
        )));
    }
    if !meta.is_file() {
        return Err(RunnerError::Config(format!(
            "{path} is not a regular file: {twice}; save the report to a file first"
        )));
    }
    std::fs::File::open(&input.path)
        .map_err(|e| RunnerError::Config(format!("cannot read {path}: {e}")))?;
    Ok(())
}

/// A 64-bit hash of what `feed` writes (the same in one process).
fn fingerprint(feed: impl FnOnce(&mut FoldHasher)) -> u64 {
    let mut h = FixedState::with_seed(0).build_hasher();
    feed(&mut h);
    h.finish()
}

/// Feeds a JSON value's structure and content to `h` without serializing it (the dry
/// run must not pay for the encoding a store would do).
fn hash_json(value: &Value, h: &mut impl Hasher) {
    match value {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n.as_i64(), n.as_u64(), n.as_f64().map(f64::to_bits)).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            items.iter().for_each(|v| hash_json(v, h));
        }
        Value::Object(fields) => {
            (5u8, fields.len()).hash(h);
            for (k, v) in fields {
                k.hash(h);
                hash_json(v, h);
            }
        }
    }
}

/// Record problems a dry run keeps to show; its counters count them all.
const DRY_RUN_ISSUES: usize = 100;

/// What a dry run of an import found: the report read and mapped, nothing stored.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    /// How the import's run would end (Processed, or Errored past the connector's failure
    /// threshold, or Aborted with no data), and why.
    pub outcome: RunState,
    pub reason: Option<String>,
    /// Records that mapped: what an import would store.
    pub assets: u64,
    pub findings: u64,
    /// Records that would fail to map, and warnings.
    pub failed: u64,
    pub warnings: u64,
    /// How the findings compare with what the connector has stored.
    pub changes: Changes,
    pub elapsed_seconds: f64,
    /// The first record problems, in order.
    pub issues: Vec<RecordIssue>,
}

/// What an import would do to the connector's stored findings, as its writer decides
/// (see `store::compare`); named as the run's counters that the import would show.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes {
    /// Findings the store does not hold yet.
    pub inserted: u64,
    /// Stored findings the report changes (or brings back).
    pub updated: u64,
    /// Stored findings the report repeats as they are.
    pub unchanged: u64,
    /// Stored findings of the report's application, not closed, that the report lacks:
    /// the import would close them.
    pub closed: u64,
    /// Open stored findings the report holds, by application (to subtract from the
    /// application's open findings; a set, so that an id met twice counts once).
    #[serde(skip)]
    seen_open: HashMap<String, HashSet<i64>>,
    /// Findings met earlier in the report: a hash of the external id to a hash of the
    /// raw record last met under it (within one run the map makes the same finding of
    /// the same raw record). A repeated id is not a second new finding: the writer
    /// compares it with what the first wrote. ~32 MiB per million findings (measured).
    #[serde(skip)]
    met: HashMap<u64, u64>,
    /// The findings met in `met` already: what the import's writes would count as
    /// repeated ids.
    #[serde(skip)]
    repeats: Repeats,
}

impl Changes {
    /// Counts one batch's findings against the store of connector `stored` (all new
    /// without one).
    async fn compare(
        &mut self,
        store: &Arc<dyn Store>,
        stored: Option<i64>,
        records: Vec<FindingRecord>,
    ) -> Result<(), RunnerError> {
        let records = self.first_sightings(records);
        let Some(connector_id) = stored else {
            self.inserted += records.len() as u64;
            return Ok(());
        };
        if records.is_empty() {
            return Ok(());
        }
        let store = store.clone();
        let states = blocking(move || store.compare_findings(connector_id, &records)).await?;
        for state in states {
            let Some(s) = state else {
                self.inserted += 1;
                continue;
            };
            if s.same {
                self.unchanged += 1;
            } else {
                self.updated += 1;
            }
            if s.open {
                self.seen_open
                    .entry(s.asset_external_id)
                    .or_default()
                    .insert(s.id);
            }
        }
        Ok(())
    }

    /// Counts the findings whose id the report held before (unchanged when their content
    /// is what was last met under that id, else updated) and returns the others.
    fn first_sightings(&mut self, records: Vec<FindingRecord>) -> Vec<FindingRecord> {
        let mut first = Vec::with_capacity(records.len());
        for r in records {
            let content = fingerprint(|h| hash_json(&r.raw, h));
            let before = self
                .met
                .insert(fingerprint(|h| r.finding.external_id.hash(h)), content);
            if before.is_some() {
                self.repeats.count += 1;
                if self.repeats.first.is_none() {
                    self.repeats.first = Some(r.finding.external_id.clone());
                }
            }
            match before {
                None => first.push(r),
                Some(last) if last == content => self.unchanged += 1,
                Some(_) => self.updated += 1,
            }
        }
        first
    }

    /// The stored findings of `apps` an import would close: those open, less those seen.
    fn count_closing(
        &mut self,
        store: &dyn Store,
        connector_id: i64,
        apps: &[String],
    ) -> Result<(), RunnerError> {
        let open = store.open_findings(connector_id, apps)?;
        let seen: usize = apps
            .iter()
            .filter_map(|a| self.seen_open.get(a))
            .map(HashSet::len)
            .sum();
        self.closed = open.saturating_sub(seen as u64);
        Ok(())
    }
}
