//! Where synced data lives: connectors, runs, assets, findings and their history.
//!
//! One [`Store`] trait, one module per backend. The store knows nothing of HTTP or of
//! AppScan: it receives normalized records in batches and writes each batch in one
//! transaction. Upserts are keyed by `(connector, external id)` and idempotent, so a
//! run that is killed and run again converges to the same state. A finding's status
//! changes are kept as history rows, tagged with the run that saw them.
//!
//! # Layout
//! - [`types`]: connectors, runs, batches and stored records.
//! - [`error`]: the error type, [`StoreError`].
//! - [`raw`]: compression of raw records and content hashes.
//! - [`fingerprints`]: findings grouped by cross-source fingerprint (`--dedupe`).
//! - [`open_risks`]: how written findings move their assets' kept risk totals.
//! - [`sqlite`]: the embedded SQLite backend (WAL, versioned migrations in `migrations/sqlite`).
//! - [`postgres`]: the PostgreSQL backend, for stores shared by several workers
//!   (pooled connections, `UNNEST` batches, migrations in `migrations/postgres`).
//! - [`open()`]: the one place that opens a store from a URL or path.
//! - [`due`]: due runs and their leases, how `serve` workers share the work.
//! - [`transfer`]: whole-store export and import (`migrate`).
//! - [`trend`]: the open-findings chart's query and points, for both backends.

pub mod compare;
pub mod due;
pub mod error;
pub mod fingerprints;
pub mod open;
pub mod open_risks;
pub mod postgres;
pub mod raw;
pub mod sqlite;
pub mod transfer;
pub mod trend;
pub mod types;

pub use crate::postgres::PgStore;
pub use compare::StoredState;
pub use error::{Result, StoreError};
pub use fingerprints::FingerprintGroup;
pub use open::open;
pub use sqlite::SqliteStore;
pub use types::*;

use chrono::{DateTime, Utc};

/// Everything the rest of the product asks of a database.
///
/// Methods block; async callers run them on a blocking thread.
pub trait Store: Send + Sync {
    // --- connectors ---
    fn create_connector(&self, new: &NewConnector) -> Result<Connector>;
    /// Saves name-independent fields of a connector (url, key id, secret, settings).
    fn update_connector(&self, connector: &Connector) -> Result<()>;
    fn delete_connector(&self, name: &str) -> Result<bool>;
    fn connector(&self, name: &str) -> Result<Option<Connector>>;
    fn connectors(&self) -> Result<Vec<Connector>>;
    /// Whether the store answers (a readiness probe): one read of a small table, and for
    /// a file store, that its file is still the one opened.
    fn check_reachable(&self) -> Result<()> {
        self.connectors().map(drop)
    }
    /// What tells this store from every other whatever URL opened it: SQLite's file
    /// (device and inode, else its canonical path), PostgreSQL's server (its start time),
    /// database and schema. `migrate` refuses to copy a store onto itself spelled another
    /// way (`sqlite://` and a plain path, `localhost` and `127.0.0.1`): with `--force`
    /// it emptied the target first, which was the source.
    fn identity(&self) -> Result<String>;
    /// The clock of the server that holds a shared store (PostgreSQL's), to compare with
    /// this worker's: leases and run locks are judged by each worker's own clock, so
    /// workers whose clocks disagree take each other's live runs over. `None` for a
    /// store on this machine (SQLite), which has the machine's clock.
    fn server_time(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(None)
    }
    /// [`StoreError::NoSuchConnector`] when `name` names no connector: a listing, summary
    /// or export scoped to a mistyped connector says so instead of coming back empty.
    fn require_connector(&self, name: Option<&str>) -> Result<()> {
        match name {
            Some(name) if self.connector(name)?.is_none() => {
                Err(StoreError::NoSuchConnector(name.to_string()))
            }
            _ => Ok(()),
        }
    }
    fn set_connector_state(
        &self,
        connector_id: i64,
        state: ConnectorState,
        reason: Option<&str>,
    ) -> Result<()>;
    /// Sets the connector's state reason only while it is in `state` (a scheduler's note
    /// on a waiting connector must not land on one a worker just started); whether it did.
    fn set_reason_while(
        &self,
        connector_id: i64,
        state: ConnectorState,
        reason: &str,
    ) -> Result<bool>;
    /// Forgets the connector's delta cursor, so that its next sync is a full one (what it
    /// fetches changed: another server, another application filter).
    fn clear_cursor(&self, connector_id: i64) -> Result<()>;

    // --- runs ---
    /// Starts a run: takes the connector's lock (refusing with [`StoreError::Locked`] while
    /// another unexpired lock exists), inserts the run row, sets the connector Processing.
    fn begin_run(
        &self,
        connector_id: i64,
        mode: RunMode,
        holder: &str,
        lock_ttl: chrono::Duration,
    ) -> Result<Run>;
    /// [`Store::begin_run`] of the connector as `prepared` read it: refused with
    /// [`StoreError::ConnectorChanged`], and nothing written, when it was removed,
    /// re-created (SQLite gives a removed connector's id to the next one) or edited
    /// since. A run began with the settings of a connector that was gone, and wrote its
    /// server's findings under the one that took its id.
    fn begin_run_of(
        &self,
        prepared: &Connector,
        mode: RunMode,
        holder: &str,
        lock_ttl: chrono::Duration,
    ) -> Result<Run>;
    /// Extends the run's lock; call it more often than the lock's time to live.
    fn renew_lock(&self, run_id: i64, lock_ttl: chrono::Duration) -> Result<()>;
    /// The lock a run holds on the connector, if any (expired ones included: the next
    /// run removes them).
    fn run_lock(&self, connector_id: i64) -> Result<Option<RunLock>>;
    /// Writes one batch in one transaction, records its problems, and saves the run's
    /// counters so far (so a killed run still shows how far it got): the source's
    /// (fetched, failed, warnings, requests, retries) from `progress`, and what the
    /// written batches did (inserted, updated, unchanged) added up by the store itself, so
    /// that they include this batch and the ones written since `progress` was taken.
    fn write_batch(&self, run: &Run, batch: &Batch, progress: &RunCounters) -> Result<BatchCounts>;
    /// From now on, writes favour a small memory footprint over speed (an XML import
    /// promises flat memory whatever the file's size). Backends without a client-side
    /// page cache ignore it.
    fn favour_low_memory(&self) -> Result<()> {
        Ok(())
    }
    /// Writes the last batch, the run's end, the connector's state and — only when the
    /// run is Processed — the cursor, all in one transaction; releases the lock.
    fn finish_run(&self, run: &Run, last: &Batch, end: &RunEnd) -> Result<BatchCounts>;
    /// Closes findings of the given assets that the run did not see (full-run auto-close);
    /// returns how many were closed.
    fn close_unseen(&self, run: &Run, asset_external_ids: &[String]) -> Result<u64>;
    fn runs(&self, connector_id: i64, limit: u64) -> Result<Vec<Run>>;
    fn run(&self, run_id: i64) -> Result<Option<Run>>;
    fn last_run(&self, connector_id: i64) -> Result<Option<Run>>;
    /// Every connector's [`RunTimes`], in one read.
    fn run_times(&self) -> Result<Vec<RunTimes>>;
    fn run_issues(&self, run_id: i64) -> Result<Vec<RecordIssue>>;
    /// What the connector has stored of each record's finding (`None`: a run would insert
    /// it), compared as the writers compare; writes nothing (a dry run's preview).
    fn compare_findings(
        &self,
        connector_id: i64,
        records: &[FindingRecord],
    ) -> Result<Vec<Option<StoredState>>>;
    /// The connector's findings of these assets that are not CLOSED: what a full run that
    /// saw none of them would close.
    fn open_findings(&self, connector_id: i64, asset_external_ids: &[String]) -> Result<u64>;

    // --- data ---
    fn assets(&self, query: &ListQuery) -> Result<Vec<StoredAsset>>;
    /// The external ids of a connector's assets, sorted: what a delta sync asks for
    /// issues, without the finding counts an asset listing carries.
    fn asset_ids(&self, connector: &str) -> Result<Vec<String>>;
    /// A connector's assets' external ids with their locators (URL, else name, else
    /// empty): what places their findings without a URL in fingerprints. Without the
    /// finding counts an asset listing carries (0.1 s a run at 1M findings).
    fn asset_locators(&self, connector: &str) -> Result<Vec<(String, String)>>;
    fn findings(&self, query: &ListQuery) -> Result<Vec<StoredFinding>>;
    /// The findings of [`Store::findings`] and, when the page is full, the cursor the
    /// next page starts after (`query.after`): paging by cursor costs the same on the
    /// last page as on the first, where `offset` reads every row it skips.
    fn finding_page(&self, query: &ListQuery) -> Result<FindingPage>;
    fn finding(&self, id: i64) -> Result<Option<StoredFinding>>;
    fn finding_history(&self, finding_id: i64) -> Result<Vec<HistoryEntry>>;
    /// Calls `f` with each finding the query selects, in the query's order, without
    /// holding them all (exports read a million findings this way). The default pages
    /// through [`Store::findings`]; backends should stream from one cursor instead.
    fn for_each_finding(
        &self,
        query: &ListQuery,
        f: &mut dyn FnMut(StoredFinding) -> Result<()>,
    ) -> Result<()> {
        const PAGE: u64 = 1000;
        let mut offset = query.offset.unwrap_or(0);
        let mut left = query.limit;
        loop {
            let take = left.map_or(PAGE, |l| l.min(PAGE));
            if take == 0 {
                return Ok(());
            }
            let page = self.findings(&ListQuery {
                limit: Some(take),
                offset: Some(offset),
                ..query.clone()
            })?;
            let n = page.len() as u64;
            for row in page {
                f(row)?;
            }
            if n < take {
                return Ok(());
            }
            offset += n;
            left = left.map(|l| l - n);
        }
    }
    /// How many findings the query selects, limit and offset ignored.
    fn count_findings(&self, query: &ListQuery) -> Result<u64> {
        let mut n = 0u64;
        let all = ListQuery {
            limit: None,
            offset: None,
            ..query.clone()
        };
        self.for_each_finding(&all, &mut |_| {
            n += 1;
            Ok(())
        })?;
        Ok(n)
    }

    // --- risk (see `model::risk`) ---
    /// Adds known-exploited CVEs to the stored list (with `replace`, the file becomes the
    /// list). Scores change only on [`Store::rescore`].
    fn import_kev(&self, _entries: &[model::kev::KevEntry], _replace: bool) -> Result<KevImport> {
        Err(StoreError::Unsupported("KEV lists"))
    }
    /// [`Store::import_kev`] and [`Store::rescore`] in one transaction: a process killed
    /// between the two left findings flagged known-exploited with their old scores, and
    /// nothing said so.
    fn import_kev_and_rescore(
        &self,
        _entries: &[model::kev::KevEntry],
        _replace: bool,
    ) -> Result<(KevImport, RescoreCounts)> {
        Err(StoreError::Unsupported("KEV lists"))
    }
    /// How many CVEs the known-exploited list holds.
    fn kev_count(&self) -> Result<u64> {
        Err(StoreError::Unsupported("KEV lists"))
    }
    /// Recomputes every finding's and asset's risk score as of now (scores age).
    fn rescore(&self) -> Result<RescoreCounts> {
        Err(StoreError::Unsupported("risk rescoring"))
    }
    /// Calls `f(kind, asset external id, raw, stored status)` with every raw record of a
    /// connector (assets first, with no status, then findings), for re-mapping without
    /// re-fetching. Only the rows there when each kind's pass starts: rows `f`'s writes
    /// insert are not read.
    fn for_each_raw(&self, connector_id: i64, f: &mut RawVisitor<'_>) -> Result<()>;
    fn summary(&self, connector: Option<&str>) -> Result<Summary>;
    /// Count of assets and findings the connector has stored.
    fn counts(&self, connector_id: i64) -> Result<(u64, u64)>;

    // --- maps ---
    fn save_map(&self, name: &str, toml: &str) -> Result<()>;
    fn map_text(&self, name: &str) -> Result<Option<String>>;
    fn map_names(&self) -> Result<Vec<String>>;
    fn delete_map(&self, name: &str) -> Result<bool>;

    // --- full runs (ASE, XML reports) ---
    /// Makes the run's writes one transaction: its batches, [`Store::close_unseen`],
    /// [`Store::mark_inactive`] and its end are committed together by
    /// [`Store::finish_run`] when the run ends Processed, and rolled back otherwise (the
    /// run's end is still recorded, with the undone counters zeroed). An import of one
    /// report file stores all of it or nothing.
    fn begin_atomic(&self, _run: &Run) -> Result<()> {
        Err(StoreError::Unsupported("imports in one transaction"))
    }
    /// Drops an atomic run's uncommitted writes (for runs abandoned before
    /// [`Store::finish_run`]); whether one was open.
    fn rollback_atomic(&self, _run_id: i64) -> Result<bool> {
        Ok(false)
    }
    /// Marks the run's connector's assets not seen since `before` inactive, with their
    /// findings (nothing is deleted; a later sighting makes them active again). Returns
    /// (assets, findings) newly marked.
    fn mark_inactive(&self, _run: &Run, _before: DateTime<Utc>) -> Result<(u64, u64)> {
        Err(StoreError::Unsupported("asset inactivity"))
    }
    /// Findings grouped by fingerprint, one row per weakness with its sources.
    fn dedupe(&self, _query: &ListQuery) -> Result<Vec<FingerprintGroup>> {
        Err(StoreError::Unsupported("findings --dedupe"))
    }

    // --- API tokens (`serve`) ---
    /// Saves a new API token: its name, the SHA-256 (hex) of its secret and a short hint.
    /// A name already taken is [`StoreError::TokenExists`].
    fn create_token(&self, _name: &str, _hash: &str, _hint: &str) -> Result<ApiToken> {
        Err(StoreError::Unsupported("API tokens"))
    }
    /// Every token, revoked ones included, oldest first.
    fn tokens(&self) -> Result<Vec<ApiToken>> {
        Err(StoreError::Unsupported("API tokens"))
    }
    /// The live (unrevoked) token with this hash, recording that it was used now.
    fn use_token(&self, _hash: &str) -> Result<Option<ApiToken>> {
        Err(StoreError::Unsupported("API tokens"))
    }
    /// Revokes the live token with this id or name; whether there was one.
    fn revoke_token(&self, _id_or_name: &str) -> Result<bool> {
        Err(StoreError::Unsupported("API tokens"))
    }

    // --- dashboard ---
    /// Open findings after each run that changed a status, oldest first (the dashboard's
    /// chart). Backends without it return no points.
    fn open_findings_series(&self, _connector: Option<&str>) -> Result<Vec<OpenPoint>> {
        Ok(Vec::new())
    }

    // --- due runs: work shared by several `serve` workers (see [`due`]) ---
    /// Records that a connector's run is due at `due_at` (a schedule fired, or a user
    /// asked for a sync with `due_at` = now). Idempotent across workers: the same
    /// `(connector, due_at)` is recorded once, and a connector has at most one open due
    /// run — when one is already pending and due later, it is pulled forward to `due_at`
    /// instead. Returns the row added or moved, `None` when nothing changed.
    fn enqueue_run(
        &self,
        connector_id: i64,
        due_at: DateTime<Utc>,
        mode: Option<RunMode>,
    ) -> Result<Option<due::DueRun>>;
    /// Claims the oldest due run that is pending with `due_at <= now`, or claimed under a
    /// lease that expired at or before `now` (its worker died: the run is taken over).
    /// The claim holds until `now + lease_ttl`; renew it well before that. Workers polling
    /// at once get different due runs (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the one
    /// write lock on SQLite) and never wait on each other. `None` when nothing is due.
    ///
    /// Workers' clocks should agree to well within the lease's time to live. A claim
    /// does not take the connector's run lock: the worker then calls
    /// [`Store::begin_run`] as usual, which refuses with [`StoreError::Locked`] while a
    /// manual `sync` (or a run whose lock has not yet expired) holds the connector.
    fn claim_due_run(
        &self,
        worker: &str,
        lease_ttl: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<due::Claim>>;
    /// Extends a claim's lease to `now + lease_ttl`. `false` when the claim is no longer
    /// this worker's (its lease expired and another worker took it over, or it was
    /// completed): the worker must stop the run without recording more.
    fn renew_claim(
        &self,
        claim: &due::Claim,
        lease_ttl: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Marks the claimed due run done, with the run it became (if one started) and a
    /// one-line outcome (the run's state, or why it was skipped). `false` when the claim
    /// was lost (see [`Store::renew_claim`]); nothing is changed then.
    fn complete_claim(
        &self,
        claim: &due::Claim,
        run_id: Option<i64>,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Gives a claim back unrun (graceful shutdown before the run started): the due run
    /// is pending again and the next claim takes it at once. `false` when it was lost.
    fn release_claim(&self, claim: &due::Claim) -> Result<bool>;
    /// Due runs, newest due time first, of one connector or all.
    fn due_runs(&self, connector_id: Option<i64>, limit: u64) -> Result<Vec<due::DueRun>>;

    // --- moving a store (`migrate`, see [`transfer`]) ---
    /// Rows in each table that [`transfer::copy`] moves.
    fn table_counts(&self) -> Result<transfer::TableCounts>;
    /// Calls `sink` with every row of `table`, in id order, `batch_size` rows at a time.
    fn export_table(
        &self,
        table: transfer::Table,
        batch_size: usize,
        sink: &mut dyn FnMut(transfer::Rows) -> Result<()>,
    ) -> Result<()>;
    /// Writes one batch of exported rows in one transaction, keeping their ids; new rows
    /// written after it (a copy cut before its end) get ids after them.
    fn import_rows(&self, rows: &transfer::Rows) -> Result<()>;
    /// Ends an import: id generators continue after the imported ids.
    fn finish_import(&self) -> Result<()>;
    /// Deletes every row of every table (`migrate --force` on a non-empty target).
    fn clear_all(&self) -> Result<()>;

    /// The current time as the store sees it (for cursors).
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
