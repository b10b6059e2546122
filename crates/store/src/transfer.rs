//! Moving a whole store to another backend (`appscan-bridge migrate`).
//!
//! Every backend exports its tables in batches of typed rows ([`Rows`]) and imports them
//! keeping ids, so references (a history row's run, a finding's id in someone's bookmark)
//! stay true. Raw records and sealed secrets travel as the bytes they are — nothing is
//! decompressed or decrypted. [`copy`] drives it: tables in dependency order, one
//! transaction per batch, progress reported per batch, counts checked at the end.
//!
//! Run locks and due runs are not copied: they belong to processes running against the
//! source, which must be stopped while a store moves (a copy refuses a source with a
//! run under way, before it starts and before it ends).

use crate::types::*;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use model::{Asset, Finding};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The tables a copy moves, in the order it moves them (parents first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Connectors,
    Maps,
    Runs,
    RunIssues,
    Assets,
    Findings,
    History,
    Kev,
    ApiTokens,
}

impl Table {
    pub const ALL: [Table; 9] = [
        Table::Connectors,
        Table::Maps,
        Table::Runs,
        Table::RunIssues,
        Table::Assets,
        Table::Findings,
        Table::History,
        Table::Kev,
        Table::ApiTokens,
    ];

    /// The table's name in both schemas.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Connectors => "connectors",
            Table::Maps => "maps",
            Table::Runs => "runs",
            Table::RunIssues => "run_issues",
            Table::Assets => "assets",
            Table::Findings => "findings",
            Table::History => "finding_history",
            Table::Kev => "kev",
            Table::ApiTokens => "api_tokens",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A saved map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRow {
    pub name: String,
    pub toml: String,
    pub updated_at: DateTime<Utc>,
}

/// A run's recorded problem, with its ids.
#[derive(Debug, Clone, PartialEq)]
pub struct RunIssueRow {
    pub id: i64,
    pub run_id: i64,
    pub issue: RecordIssue,
}

/// An asset row as stored: the normalized asset plus bookkeeping and the compressed raw record.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetRow {
    pub id: i64,
    pub connector_id: i64,
    pub asset: Asset,
    /// The raw record, compressed as [`crate::raw::compress`] wrote it.
    pub raw: Option<Vec<u8>>,
    pub content_hash: String,
    pub active: bool,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub last_run_id: Option<i64>,
    /// Risk 0–1000 from the open findings.
    pub risk: u16,
}

/// A finding row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub id: i64,
    pub connector_id: i64,
    pub finding: Finding,
    pub fingerprint: String,
    /// The raw record, compressed as [`crate::raw::compress`] wrote it.
    pub raw: Option<Vec<u8>>,
    pub content_hash: String,
    pub active: bool,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub last_run_id: Option<i64>,
    /// Risk 0–1000 as last scored.
    pub risk: u16,
}

/// A status-history row, with its ids.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub id: i64,
    pub finding_id: i64,
    pub entry: HistoryEntry,
}

/// A known-exploited CVE.
#[derive(Debug, Clone, PartialEq)]
pub struct KevRow {
    pub cve: String,
    pub added: Option<String>,
    pub name: Option<String>,
    pub imported_at: DateTime<Utc>,
}

/// An API token with its hash (the token itself is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub token: ApiToken,
    /// SHA-256 (hex) of the token.
    pub hash: String,
}

/// One batch of one table.
#[derive(Debug, Clone)]
pub enum Rows {
    /// Connectors with their sealed secrets and cursors.
    Connectors(Vec<Connector>),
    Maps(Vec<MapRow>),
    Runs(Vec<Run>),
    RunIssues(Vec<RunIssueRow>),
    Assets(Vec<AssetRow>),
    Findings(Vec<FindingRow>),
    History(Vec<HistoryRow>),
    Kev(Vec<KevRow>),
    ApiTokens(Vec<TokenRow>),
}

impl Rows {
    pub fn table(&self) -> Table {
        match self {
            Rows::Connectors(_) => Table::Connectors,
            Rows::Maps(_) => Table::Maps,
            Rows::Runs(_) => Table::Runs,
            Rows::RunIssues(_) => Table::RunIssues,
            Rows::Assets(_) => Table::Assets,
            Rows::Findings(_) => Table::Findings,
            Rows::History(_) => Table::History,
            Rows::Kev(_) => Table::Kev,
            Rows::ApiTokens(_) => Table::ApiTokens,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Rows::Connectors(r) => r.len(),
            Rows::Maps(r) => r.len(),
            Rows::Runs(r) => r.len(),
            Rows::RunIssues(r) => r.len(),
            Rows::Assets(r) => r.len(),
            Rows::Findings(r) => r.len(),
            Rows::History(r) => r.len(),
            Rows::Kev(r) => r.len(),
            Rows::ApiTokens(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Row counts per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub connectors: u64,
    pub maps: u64,
    pub runs: u64,
    pub run_issues: u64,
    pub assets: u64,
    pub findings: u64,
    pub history: u64,
    pub kev: u64,
    pub api_tokens: u64,
}

impl TableCounts {
    pub fn get(&self, table: Table) -> u64 {
        match table {
            Table::Connectors => self.connectors,
            Table::Maps => self.maps,
            Table::Runs => self.runs,
            Table::RunIssues => self.run_issues,
            Table::Assets => self.assets,
            Table::Findings => self.findings,
            Table::History => self.history,
            Table::Kev => self.kev,
            Table::ApiTokens => self.api_tokens,
        }
    }

    pub fn set(&mut self, table: Table, n: u64) {
        let slot = match table {
            Table::Connectors => &mut self.connectors,
            Table::Maps => &mut self.maps,
            Table::Runs => &mut self.runs,
            Table::RunIssues => &mut self.run_issues,
            Table::Assets => &mut self.assets,
            Table::Findings => &mut self.findings,
            Table::History => &mut self.history,
            Table::Kev => &mut self.kev,
            Table::ApiTokens => &mut self.api_tokens,
        };
        *slot = n;
    }

    pub fn total(&self) -> u64 {
        Table::ALL.iter().map(|t| self.get(*t)).sum()
    }
}

/// How [`copy`] behaves.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Rows per batch (one transaction each in the target).
    pub batch_size: usize,
    /// Replace a target that already holds data instead of refusing.
    pub force: bool,
    /// Whether a lock of the source belongs to a run under way, which the copy refuses.
    /// By default one whose lease has not run out; a caller that can tell a holder that
    /// no longer exists (`runner::lock_is_live`) copies at once what `status` already
    /// calls interrupted, instead of refusing it until the lease runs out.
    pub running: fn(&RunLock) -> bool,
    /// Set (by Ctrl-C, say) to stop the copy before its next batch: the target stays
    /// marked as an unfinished copy and the copy ends with [`StoreError::Stopped`].
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            batch_size: 2000,
            force: false,
            running: |lock| lock.expires > Utc::now(),
            stop: None,
        }
    }
}

impl CopyOptions {
    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Where a table's next export page starts: after the last row of `rows`, else where this
/// page started (each backend's `export_page`).
pub fn next_key<T>(rows: &[T], id: impl Fn(&T) -> i64, after: i64) -> i64 {
    rows.last().map(id).unwrap_or(after)
}

/// What an interrupted copy's connectors say in `status`.
pub const COPY_IN_PROGRESS: &str = "copied by `migrate`, which has not finished: if it was interrupted, run it again with --force (until then a sync is a full one)";

/// A connector as a copy writes it before its last table: no cursor, marked.
fn in_copy(c: Connector) -> Connector {
    Connector {
        cursor: None,
        state: ConnectorState::Errored,
        state_reason: Some(COPY_IN_PROGRESS.to_string()),
        ..c
    }
}

/// [`StoreError::SourceBusy`] when a process runs one of `from`'s connectors, as
/// [`copy`] checks before it begins. Call it before opening a target that may not exist
/// yet: opening creates it, and a refused copy would leave it behind, empty.
pub fn check_source(from: &dyn Store, opts: &CopyOptions) -> Result<()> {
    refuse_running(from, opts, "running", "")
}

/// [`StoreError::SourceBusy`] when a process runs one of the source's connectors: the
/// copy reads table by table, so a run writing meanwhile left findings whose status
/// disagreed with their history, or history rows without their finding.
fn refuse_running(
    from: &dyn Store,
    opts: &CopyOptions,
    when: &'static str,
    again: &'static str,
) -> Result<()> {
    for c in from.connectors()? {
        if let Some(lock) = from.run_lock(c.id)?
            && (opts.running)(&lock)
        {
            return Err(StoreError::SourceBusy {
                connector: c.name,
                run_id: lock.run_id,
                holder: lock.holder,
                when,
                again,
            });
        }
    }
    Ok(())
}

/// How [`StoreError::SourceBusy`] says a run that began during the copy, and what to do.
const BEGAN_MEANWHILE: &str = "being run since the copy began";
const AGAIN: &str = ", then migrate again with --force";

/// Copies every table of `from` into `to`, keeping ids; returns the rows copied.
///
/// Refuses a non-empty target with [`StoreError::TargetNotEmpty`] unless `force`, which
/// empties it first, and a busy source ([`check_source`]). `progress(table, done, total)`
/// is called after every batch. The counts of both stores are compared at the end
/// ([`StoreError::CopyMismatch`]).
pub fn copy(
    from: &dyn Store,
    to: &dyn Store,
    opts: &CopyOptions,
    progress: &mut dyn FnMut(Table, u64, u64),
) -> Result<TableCounts> {
    check_source(from, opts)?;
    let existing = to.table_counts()?;
    if existing.total() > 0 {
        if !opts.force {
            return Err(StoreError::TargetNotEmpty {
                rows: existing.total(),
            });
        }
        to.clear_all()?;
    }
    let totals = from.table_counts()?;
    let batch = opts.batch_size.max(1);
    // Connectors are copied first (everything refers to them) but without their cursors,
    // and marked, until the last table is in: a copy that stops midway leaves a store
    // whose next sync is a full one and whose status says what happened, not one that
    // looks whole and never fetches what was not copied.
    let mut connectors = Vec::new();
    for table in Table::ALL {
        let total = totals.get(table);
        let mut done = 0u64;
        progress(table, 0, total);
        let exported = from.export_table(table, batch, &mut |rows| {
            if opts.stopped() {
                return Err(StoreError::Stopped);
            }
            let rows = match rows {
                Rows::Connectors(list) => {
                    connectors.extend(list.iter().cloned());
                    Rows::Connectors(list.into_iter().map(in_copy).collect())
                }
                other => other,
            };
            to.import_rows(&rows)?;
            done += rows.len() as u64;
            progress(table, done, total.max(done));
            Ok(())
        });
        if let Err(e) = exported {
            // A run that began meanwhile wrote rows referring to ones the copy had
            // passed (history of findings it had not copied): the target refused them,
            // and the user read a foreign key violation instead of its cause.
            if !matches!(e, StoreError::Stopped) {
                refuse_running(from, opts, BEGAN_MEANWHILE, AGAIN)?;
                // Or one that began and ended meanwhile: the counts tell.
                let now = from.table_counts()?;
                if let Some(t) = Table::ALL
                    .into_iter()
                    .find(|t| now.get(*t) != totals.get(*t))
                {
                    return Err(StoreError::SourceChanged {
                        table: t.as_str().to_string(),
                        before: totals.get(t),
                        now: now.get(t),
                        refused: Box::new(e),
                    });
                }
            }
            return Err(e);
        }
        // Id generators follow each table as it lands (PostgreSQL's each batch, in the
        // batch's transaction), so that a store left by an interrupted copy, even one cut
        // midway through a table, can still be written to.
        to.finish_import()?;
    }
    // A run that began meanwhile leaves the target marked incomplete (its connectors
    // are not restored).
    refuse_running(from, opts, BEGAN_MEANWHILE, AGAIN)?;
    // A run that began and ended during the copy changed what was copied (its run row,
    // history, statuses): the counts tell, and the target stays marked. Restoring the
    // connectors first made such a target look whole while its findings disagreed with
    // their history.
    let copied = to.table_counts()?;
    let now = from.table_counts()?;
    for table in Table::ALL {
        if copied.get(table) != now.get(table) {
            return Err(StoreError::CopyMismatch {
                table: table.as_str().to_string(),
                source_rows: now.get(table),
                target_rows: copied.get(table),
            });
        }
    }
    if !connectors.is_empty() {
        to.import_rows(&Rows::Connectors(connectors))?;
    }
    Ok(copied)
}
