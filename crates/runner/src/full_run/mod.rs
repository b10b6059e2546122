//! Full-run semantics of the ASE and XML sources, as hooks the sync loop calls.
//!
//! Every run of these sources is full: a finding of an application that is not in the
//! application's latest successful run is closed (its history names the run). The
//! hooks make sure that is the *only* way anything is closed:
//! - [`no_data`]: a run in which no application delivered a record is Aborted and
//!   closes nothing (a server that returned nothing is not "everything was fixed"); a
//!   report read whole delivers its application even when it holds no issue, so a
//!   clean report closes what its application had;
//! - [`closable`]: an application with a record that failed to map is not closed
//!   either (its missing findings may be the failed ones); an ASE application with no
//!   issue this run is left as it is; a run over the failure threshold is Errored
//!   before any close;
//! - [`begin`]: an XML import of a report up to `ATOMIC_MAX_BYTES` is one transaction
//!   ([`store::Store::begin_atomic`]), so a failed run stores nothing; the guard it
//!   returns rolls back a run abandoned on an error path;
//! - [`after_close`]: assets not seen for the inactivity limit are marked inactive,
//!   with their findings, in the same run.
//!
//! [`options`] holds the connector options these sources share.

pub mod options;

pub use options::FullRunOptions;

use crate::sync::blocking;
use crate::{Runner, RunnerError, SyncOptions};
use chrono::{DateTime, Utc};
use model::{Map, Severity};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use store::{ListQuery, Run, RunState, Store};

/// The environment variable holding the global asset inactivity limit in days.
pub const INACTIVITY_ENV: &str = "APPSCAN_BRIDGE_ASSET_INACTIVITY_DAYS";

/// The global asset inactivity limit: `APPSCAN_BRIDGE_ASSET_INACTIVITY_DAYS`, if set to
/// a positive number of days.
pub fn global_inactivity_days() -> Option<u32> {
    std::env::var(INACTIVITY_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|d| *d > 0)
}

/// What [`begin`] set up for a run; rolls back an atomic run dropped before its end.
pub struct RunGuard {
    store: Arc<dyn Store>,
    run_id: i64,
    atomic: bool,
    known: KnownAssets,
}

impl RunGuard {
    /// What the store holds of the connector's assets (full-run sources only).
    pub fn take_known_assets(&mut self) -> KnownAssets {
        std::mem::take(&mut self.known)
    }
}

/// What a full-run source is told of the connector's stored assets, by asset id.
#[derive(Debug, Default)]
pub struct KnownAssets {
    /// Their tags (tags accumulate over runs).
    pub tags: HashMap<String, Vec<String>>,
    /// Their last update: for a report's application, the date of the last report
    /// imported (a report older than it is refused).
    pub report_dates: HashMap<String, DateTime<Utc>>,
}

/// The connector's stored assets as [`KnownAssets`].
pub fn known_assets(store: &dyn Store, connector: &str) -> Result<KnownAssets, store::StoreError> {
    let mut known = KnownAssets::default();
    for a in store.assets(&ListQuery {
        connector: Some(connector.to_string()),
        ..Default::default()
    })? {
        if let Some(d) = a.asset.last_updated {
            known.report_dates.insert(a.asset.external_id.clone(), d);
        }
        known.tags.insert(a.asset.external_id, a.asset.tags);
    }
    Ok(known)
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        // A no-op once the run has finished (finish_run ends the transaction).
        if self.atomic
            && let Ok(true) = self.store.rollback_atomic(self.run_id)
        {
            tracing::warn!(
                run_id = self.run_id,
                "the run stopped early; its writes were rolled back"
            );
        }
    }
}

/// Starts what a full-run source needs: the one transaction of an atomic run, and the
/// stored asset tags (for tags that accumulate).
pub async fn begin(
    runner: &Runner,
    run: &Run,
    connector: &str,
    atomic: bool,
    closes_unseen: bool,
) -> Result<RunGuard, RunnerError> {
    let mut guard = RunGuard {
        store: runner.store.clone(),
        run_id: run.id,
        atomic: false,
        known: KnownAssets::default(),
    };
    if closes_unseen {
        let store = runner.store.clone();
        let name = connector.to_string();
        guard.known = blocking(move || known_assets(store.as_ref(), &name)).await?;
    }
    if atomic {
        let store = runner.store.clone();
        let r = run.clone();
        blocking(move || store.begin_atomic(&r)).await?;
        guard.atomic = true;
    }
    Ok(guard)
}

/// The map for a run: the connector's, with the source's fallback for severities it
/// does not know (full-run sources keep them verbatim and warn).
pub fn map_for(mut map: Map, unknown_severity: Option<Severity>) -> Map {
    if map.severity_fallback.is_none() {
        map.severity_fallback = unknown_severity;
    }
    map
}

/// A full-run source that delivered no application with data (a record, or a whole
/// report even without one): Aborted, nothing closed.
pub fn no_data(
    closes_unseen: bool,
    apps_with_data: &[String],
) -> Option<(RunState, Option<String>)> {
    (closes_unseen && apps_with_data.is_empty()).then(|| {
        (
            RunState::Aborted,
            Some(
                "aborted: no data (no application or report returned a record), nothing was closed"
                    .to_string(),
            ),
        )
    })
}

/// The applications whose unseen findings may be closed: those with data this run (a
/// record, or a whole report without one) and no record that failed to map.
pub fn closable(apps_with_data: &[String], apps_with_errors: &HashSet<String>) -> Vec<String> {
    apps_with_data
        .iter()
        .filter(|a| !apps_with_errors.contains(*a))
        .cloned()
        .collect()
}

/// After the auto-close of a Processed full run: marks the connector's assets not seen
/// for the inactivity limit (the connector's, else the global one) inactive.
pub async fn after_close(
    runner: &Runner,
    run: &Run,
    options: &FullRunOptions,
    opts: &SyncOptions,
) -> Result<(), RunnerError> {
    let Some(days) = options.asset_inactivity_days.or(opts.asset_inactivity_days) else {
        return Ok(());
    };
    let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
    let store = runner.store.clone();
    let r = run.clone();
    let (assets, findings) = blocking(move || store.mark_inactive(&r, before)).await?;
    if assets + findings > 0 {
        tracing::info!(
            assets,
            findings,
            days,
            "marked assets not seen for {days} days inactive"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_data_and_closable() {
        assert!(no_data(true, &[]).is_some());
        assert!(no_data(false, &[]).is_none());
        assert!(no_data(true, &["a".into()]).is_none());
        let errors: HashSet<String> = ["b".to_string()].into();
        assert_eq!(closable(&["a".into(), "b".into()], &errors), ["a"]);
    }
}
