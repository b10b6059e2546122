//! `remap NAME`: maps a connector's stored raw records again with its current map,
//! without fetching anything. It is recorded as a run of mode `remap`; the sync cursor
//! does not move.

use crate::progress::Progress;
use crate::sync::{SyncOptions, blocking};
use crate::{Runner, RunnerError, maps, settings::Settings};
use model::fingerprint;
use std::time::Instant;
use store::{
    AssetRecord, Batch, ConnectorState, FindingRecord, IssueLevel, RawKind, RecordIssue,
    RunCounters, RunEnd, RunMode, RunState,
};

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
        let map = maps::load(self.store.as_ref(), &settings.map)?;
        let store = self.store.clone();
        let (cid, holder, ttl) = (connector.id, opts.holder.clone(), opts.lock_ttl);
        let run = blocking(move || store.begin_run(cid, RunMode::Remap, &holder, ttl)).await?;
        let store = self.store.clone();
        let r = run.clone();
        let batch_size = opts.batch_size;
        let (counters, issues) = blocking(move || {
            let mut counters = RunCounters::default();
            let mut issues = Vec::new();
            let mut batch = Batch::default();
            let mut index = 0u64;
            store.for_each_raw(cid, &mut |kind, asset, raw| {
                index += 1;
                counters.fetched += 1;
                let location = format!(
                    "stored raw record {index} ({})",
                    if kind == RawKind::Asset {
                        "app"
                    } else {
                        "issue"
                    }
                );
                let failed = match kind {
                    RawKind::Asset => map
                        .apply_asset(&raw)
                        .map(|m| batch.assets.push(AssetRecord::new(m.value, raw))),
                    RawKind::Finding => map.apply_finding(&raw, asset).map(|m| {
                        let fp = fingerprint(&m.value, &m.value.asset_external_id);
                        batch.findings.push(FindingRecord::new(m.value, raw, fp));
                    }),
                };
                if let Err(e) = failed {
                    counters.failed += 1;
                    let issue = RecordIssue {
                        level: IssueLevel::Error,
                        location,
                        message: e.to_string(),
                    };
                    issues.push(issue.clone());
                    batch.issues.push(issue);
                }
                if batch.len() >= batch_size {
                    let counts = store.write_batch(&r, &std::mem::take(&mut batch), &counters)?;
                    counters.add(counts);
                }
                Ok(())
            })?;
            let failed_too_many = counters.fetched > 0
                && counters.failed as f64 / counters.fetched as f64 > settings.failure_threshold;
            let (state, reason) = if failed_too_many {
                (
                    RunState::Errored,
                    Some(format!(
                        "{} of {} stored records do not map with '{}'",
                        counters.failed, counters.fetched, settings.map
                    )),
                )
            } else {
                (RunState::Processed, None)
            };
            let end = RunEnd {
                state,
                connector_state: if state == RunState::Processed {
                    ConnectorState::Processed
                } else {
                    ConnectorState::Errored
                },
                reason,
                counters,
                cursor: None,
            };
            let counts = store.finish_run(&r, &batch, &end)?;
            counters.add(counts);
            Ok((counters, issues))
        })
        .await?;
        progress.records(counters.fetched);
        let store = self.store.clone();
        let id = run.id;
        let run = blocking(move || store.run(id))
            .await?
            .ok_or(RunnerError::Store(store::StoreError::NoSuchRun(id)))?;
        Ok(crate::RunReport {
            run,
            elapsed: started.elapsed(),
            issues,
        })
    }
}
