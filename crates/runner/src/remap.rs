//! `remap NAME`: maps a connector's stored raw records again with its current map,
//! without fetching anything. It is recorded as a run of mode `remap`; the sync cursor
//! does not move. Like a sync it holds the connector's lock (renewed while it works),
//! reports the records it has mapped, stops between records when cancelled (what was
//! written stays, the run is recorded Cancelled) and records a failure as Errored.

use crate::progress::Progress;
use crate::sync::{
    InFlight, SyncOptions, asset_locator, blocking, locator_of, stored_asset_locators,
};
use crate::{Runner, RunnerError, Stop, maps, settings::Settings};
use model::map::Map;
use model::{Status, fingerprint};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store::{
    AssetRecord, Batch, ConnectorState, FindingRecord, IssueLevel, RawKind, RecordIssue,
    RunCounters, RunEnd, RunMode, RunState, Store, StoreError, StoredStatus,
};

/// How often the records mapped so far are reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

impl Runner {
    /// Re-maps every stored raw record of a connector.
    pub async fn remap(
        &self,
        name: &str,
        opts: SyncOptions,
        progress: &dyn Progress,
    ) -> Result<crate::RunReport, RunnerError> {
        let started = Instant::now();
        let connector = self.connector(name)?;
        let settings = Settings::from_json(&connector.settings).map_err(RunnerError::Config)?;
        // Full-run sources' records keep severities the map may not know; their runs map
        // them with the connector's unknown_severity, and so does a remap.
        let fallback = matches!(connector.kind.as_str(), "ase" | "xml")
            .then(|| settings.full_run.unknown_severity());
        let map =
            crate::full_run::map_for(maps::load(self.store.as_ref(), &settings.map)?, fallback);
        let store = self.store.clone();
        let (assets, findings) = blocking(move || store.counts(connector.id)).await?;
        if assets + findings == 0 {
            // A remap of nothing would record a Processed run for a connector that has
            // never fetched anything, which reads as if it had.
            let fetch = if connector.kind == "xml" {
                format!("appscan-bridge import REPORT --connector {name}")
            } else {
                format!("appscan-bridge sync {name}")
            };
            return Err(RunnerError::Unsupported(format!(
                "connector '{name}' holds no records to remap yet; run `{fetch}` first"
            )));
        }
        let run = self.begin_run(&connector, RunMode::Remap, &opts).await?;
        let heartbeat = self.heartbeat(run.id, opts.lock_ttl);
        progress.records_total(assets + findings);
        let mapped = Arc::new(AtomicU64::new(0));
        let pass = Pass {
            store: self.store.clone(),
            run: run.clone(),
            map,
            settings,
            batch_size: opts.batch_size,
            cancel: opts.cancel.clone(),
            mapped: mapped.clone(),
        };
        let outcome = reporting(blocking(move || pass.run()), &mapped, progress).await;
        heartbeat.abort();
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
        Ok(crate::RunReport {
            run,
            elapsed: started.elapsed(),
            issues,
        })
    }
}

/// Awaits `work`, telling `progress` every [`PROGRESS_EVERY`] how many more records
/// `done` counts.
async fn reporting<T>(
    work: impl Future<Output = T>,
    done: &AtomicU64,
    progress: &dyn Progress,
) -> T {
    tokio::pin!(work);
    let mut told = 0;
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tokio::select! {
            out = &mut work => {
                progress.records(done.load(Ordering::Relaxed).saturating_sub(told));
                return out;
            }
            _ = tick.tick() => {
                let now = done.load(Ordering::Relaxed);
                progress.records(now.saturating_sub(told));
                told = now;
            }
        }
    }
}

/// One pass over a connector's stored raw records, on a blocking thread.
struct Pass {
    store: Arc<dyn Store>,
    run: store::Run,
    map: Map,
    settings: Settings,
    batch_size: usize,
    cancel: Stop,
    mapped: Arc<AtomicU64>,
}

impl Pass {
    /// Maps and writes every record, then ends the run; returns the record problems.
    /// The map's warnings are counted and listed as a sync lists them (folded when they
    /// repeat), so a remap says what a fresh sync with the map would.
    fn run(self) -> Result<Vec<RecordIssue>, StoreError> {
        let mut st = InFlight::new(self.map.clone());
        let mut cancelled = false;
        let mut locators = stored_asset_locators(self.store.as_ref(), &self.run.connector)?;
        let read =
            self.store
                .for_each_raw(self.run.connector_id, &mut |kind, asset, raw, stored| {
                    if self.cancel.is_stopped() {
                        cancelled = true;
                        return Err(StoreError::Callback("cancelled".into()));
                    }
                    st.counters.fetched += 1;
                    let location = format!(
                        "stored raw record {} ({})",
                        st.counters.fetched,
                        kind_name(kind)
                    );
                    match self.map_one(kind, asset, raw, stored, &mut st.batch, &mut locators) {
                        Ok(warnings) => {
                            for w in warnings {
                                st.issue(IssueLevel::Warning, location.clone(), w);
                            }
                        }
                        Err(message) => st.issue(IssueLevel::Error, location, message),
                    }
                    if st.batch.len() >= self.batch_size {
                        let counts = self.store.write_batch(
                            &self.run,
                            &std::mem::take(&mut st.batch),
                            &st.counters,
                        )?;
                        st.counters.add(&counts);
                    }
                    self.mapped.store(st.counters.fetched, Ordering::Relaxed);
                    Ok(())
                });
        match read {
            Err(_) if cancelled => {}
            other => other?,
        }
        // The last records written before the run's end is judged: what they inserted
        // is part of what it says.
        if !st.batch.is_empty() {
            let counts =
                self.store
                    .write_batch(&self.run, &std::mem::take(&mut st.batch), &st.counters)?;
            st.counters.add(&counts);
        }
        if let Some(warning) = new_ids_warning(&self.run.connector, &st.counters) {
            st.issue(IssueLevel::Warning, "(this run)".into(), warning);
        }
        st.close_issues();
        let end = self.end(st.counters, cancelled);
        let counts = self.store.finish_run(&self.run, &st.batch, &end)?;
        st.counters.add(&counts);
        Ok(st.issues)
    }

    /// Maps one stored record into `batch`, returning the map's warnings about it; the
    /// error says why it does not map. A finding's status is settled here, against the
    /// `stored` one, so that its risk, its asset's and its content hash follow the status
    /// it keeps: a finding kept CLOSED was scored, counted in its asset and hashed as the
    /// open one its record maps to, so the next run's same record looked unchanged and
    /// never reopened it.
    fn map_one(
        &self,
        kind: RawKind,
        asset: &str,
        raw: serde_json::Value,
        stored: Option<StoredStatus>,
        batch: &mut Batch,
        locators: &mut HashMap<String, String>,
    ) -> Result<Vec<String>, String> {
        match kind {
            RawKind::Asset => self.map.apply_asset(&raw).map(|m| {
                locators.insert(m.value.external_id.clone(), asset_locator(&m.value));
                batch.assets.push(AssetRecord::new(m.value, raw));
                m.warnings
            }),
            RawKind::Finding => self.map.apply_finding(&raw, asset).map(|m| {
                let mut finding = m.value;
                let mapped = finding.status;
                let closed_unseen = stored.is_some_and(|s| s.closed_unseen);
                if let Some(stored) = stored {
                    finding.status = stored.status.remapped(mapped, closed_unseen);
                }
                // Located as the runs locate it: by its asset's URL or name.
                let fp = fingerprint(&finding, locator_of(locators, &finding.asset_external_id));
                batch.findings.push(match finding.status {
                    Status::Reopened => FindingRecord::hashed_with_status(finding, raw, fp, mapped),
                    // Closed by a full run that did not see it, not by its record.
                    Status::Closed if closed_unseen => {
                        FindingRecord::kept_closed(finding, raw, fp, mapped)
                    }
                    _ => FindingRecord::new(finding, raw, fp),
                });
                m.warnings
            }),
        }
        .map_err(|e| e.to_string())
    }

    /// How the run ends: Cancelled, Errored when too many records failed, else Processed.
    fn end(&self, counters: RunCounters, cancelled: bool) -> RunEnd {
        let failed_too_many = counters.fetched > 0
            && counters.failed as f64 / counters.fetched as f64 > self.settings.failure_threshold;
        let (state, reason) = if cancelled {
            (
                RunState::Cancelled,
                Some(format!(
                    "{}; the records remapped so far were kept",
                    self.cancel.reason()
                )),
            )
        } else if failed_too_many {
            // A remap writes as it reads (pages of records, so that the write-ahead log
            // stays small): what mapped was written, and the store holds both maps'
            // findings until a remap with a fixed map finishes it.
            (
                RunState::Errored,
                Some(format!(
                    "{} of {} stored records do not map with '{}'; the {} that mapped were \
                     rewritten with it, the others keep the previous map's fields: fix the map \
                     and run `appscan-bridge remap {}` again to finish",
                    counters.failed,
                    counters.fetched,
                    self.settings.map,
                    counters.fetched - counters.failed,
                    self.run.connector
                )),
            )
        } else {
            // As a sync says it: `runs` shows the reason, `runs --errors` the problems.
            let reason = (counters.failed + counters.warnings > 0).then(|| {
                format!(
                    "processed with {} failed records and {} warnings",
                    counters.failed, counters.warnings
                )
            });
            (RunState::Processed, reason)
        };
        RunEnd {
            state,
            connector_state: ConnectorState::after(state),
            reason,
            counters,
            cursor: None,
            scope: None,
        }
    }
}

/// What a remap that inserted rows says: its map reads the ids of applications or
/// findings (externalAssetId, externalFindingId, findingAssetId) from other fields than
/// the map that stored them, so every record was stored again under its new id and the
/// rows under the old ids stay, open ones open (a remap changes fields, it never
/// removes a finding).
fn new_ids_warning(connector: &str, counters: &RunCounters) -> Option<String> {
    (counters.inserted > 0).then(|| {
        format!(
            "{} records were stored as new applications or findings: this map reads their \
             ids (externalAssetId, externalFindingId or findingAssetId) from other fields than \
             the map that stored them, and the rows stored under the previous ids stay as they \
             were, open ones open. For a store with only the new ids, sync (or import) into a \
             new connector that uses this map, or a new store, and remove '{connector}' \
             (`appscan-bridge connector remove {connector}`)",
            counters.inserted
        )
    })
}

fn kind_name(kind: RawKind) -> &'static str {
    match kind {
        RawKind::Asset => "app",
        RawKind::Finding => "issue",
    }
}
