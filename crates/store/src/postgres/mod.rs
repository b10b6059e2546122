//! The PostgreSQL backend: the same logical schema and semantics as the SQLite backend,
//! for stores shared by several workers.
//!
//! Calls block, on the synchronous `postgres` client, through a small pool
//! ([`pool`]). That client drives a private tokio runtime, which may not run inside a
//! thread that is itself driving async tasks; a call made from such a thread (the CLI's
//! async commands) hops to a scoped plain thread for its duration, so callers need not
//! care. Batches are written with a fixed number of statements (`UNNEST`, see [`data`]);
//! `migrate` imports with binary `COPY` ([`transfer`]).
//!
//! # Layout
//! - [`url`]: connection URLs, our own `schema`/`pool_size` parameters, password hiding.
//! - [`pool`]: the connection pool.
//! - [`migrate`]: versioned migrations from `migrations/postgres`.
//! - [`connectors`], [`runs`], [`data`], [`read`], [`listing`]: the tables and the
//!   filtered listings, as in the SQLite backend.
//! - [`risk`], [`asset_risk`], [`tokens`], [`trend`], [`fullrun`], [`atomic`]: risk
//!   scores and the KEV list, assets' risks kept batch by batch, API tokens, the
//!   open-findings chart, full-run queries, one-transaction runs.
//! - [`due`]: due runs and their leases (`FOR UPDATE SKIP LOCKED`).
//! - [`transfer`]: whole-table export and import.

pub mod asset_risk;
pub mod atomic;
pub mod compare;
pub mod connectors;
pub mod data;
pub mod due;
pub mod fullrun;
pub mod listing;
pub mod migrate;
pub mod pool;
pub mod read;
pub mod risk;
pub mod runs;
pub mod tls;
pub mod tokens;
pub mod transfer;
pub mod trend;
pub mod url;

use crate::StoredState;
use crate::due::{Claim, DueRun};
use crate::transfer::{Rows, Table, TableCounts};
use crate::types::*;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use pool::{Pool, in_async_context, quote_ident};
use postgres::error::SqlState;
use postgres::{Client, Transaction};

/// A corrupt-value error for a column.
pub(crate) fn corrupt(column: &str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        column: column.to_string(),
        message: message.into(),
    }
}

/// The PostgreSQL store.
pub struct PgStore {
    shown: String,
    schema: Option<String>,
    pool: Pool,
    atomics: atomic::Atomics,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.shown)
            .field("schema", &self.schema)
            .field("pool_size", &self.pool.size())
            .finish()
    }
}

impl PgStore {
    /// Connects, creates the URL's `schema` if it names one, and brings the schema up to
    /// date. The URL is `postgres://user:password@host:port/database`, optionally with
    /// `?schema=NAME` (tables go there instead of the user's default schema) and
    /// `pool_size=N` (connections at most, default 4), beside the driver's own parameters.
    pub fn open(url: &str) -> Result<PgStore> {
        let u = url::parse(url)?;
        let store = PgStore {
            shown: u.shown.clone(),
            schema: u.schema.clone(),
            pool: Pool::new(u.config, u.tls, u.schema, u.pool_size, u.shown),
            atomics: atomic::Atomics::default(),
        };
        let schema = store.schema.clone();
        // A store that is there and current is only read: a session or role that may only
        // read (`default_transaction_read_only`, a standby, a reporting role) lists it.
        store.with(move |c| {
            if let Some(schema) = &schema {
                create_schema(c, schema)?;
            }
            migrate::run(c)?;
            rescore_unscored(c)
        })?;
        Ok(store)
    }

    /// Whether the URL's schema (or, without `schema=`, the user's search path) holds a
    /// store, without creating one: a command that only reads, pointed at a mistyped
    /// schema, says so instead of creating an empty store to list.
    pub fn exists(url: &str) -> Result<bool> {
        let u = url::parse(url)?;
        let table = match &u.schema {
            Some(schema) => format!("{}.connectors", quote_ident(schema)),
            None => "connectors".to_string(),
        };
        let pool = Pool::new(u.config, u.tls, None, 1, u.shown);
        hop(|| {
            let found: Option<String> = pool
                .get()?
                .query_one("SELECT to_regclass($1)::text", &[&table])?
                .get(0);
            Ok(found.is_some())
        })
    }

    /// The URL, password hidden.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The schema the store lives in, when the URL named one.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> Result<i32> {
        self.with(migrate::version)
    }

    /// PostgreSQL's plan for a findings listing, one line per row of `EXPLAIN` (tests).
    pub fn explain_findings(&self, q: &ListQuery) -> Result<Vec<String>> {
        self.with(|c| listing::explain_findings(c, q))
    }

    /// Runs `f` with a pooled client, on a plain thread if this one drives async tasks.
    /// A write the server refuses to this session or role says which store.
    fn with<T: Send>(&self, f: impl FnOnce(&mut Client) -> Result<T> + Send) -> Result<T> {
        hop(|| {
            let mut client = self.pool.get()?;
            let out = f(&mut client);
            noted(&mut client, out)
        })
        .map_err(|e| e.refused_by_postgres(&self.shown))
    }

    /// Runs `produce` with a pooled client, handing each page it yields to `consume` on
    /// this thread (so `consume` need not be `Send`); `produce`'s sink returns `false`
    /// once `consume` failed, and `produce` should then stop.
    fn stream<T: Send>(
        &self,
        produce: impl FnOnce(&mut Client, &mut dyn FnMut(Vec<T>) -> bool) -> Result<()> + Send,
        consume: &mut dyn FnMut(T) -> Result<()>,
    ) -> Result<()> {
        let mut failed: Option<StoreError> = None;
        if !in_async_context() {
            let mut client = self.pool.get()?;
            let produced = produce(&mut client, &mut |page| {
                for item in page {
                    if let Err(e) = consume(item) {
                        failed = Some(e);
                        return false;
                    }
                }
                true
            });
            let produced = noted(&mut client, produced);
            return match failed {
                Some(e) => Err(e),
                None => produced,
            };
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<T>>(2);
        std::thread::scope(|s| {
            let producer = s.spawn(move || {
                let mut client = self.pool.get()?;
                let produced = produce(&mut client, &mut |page| tx.send(page).is_ok());
                noted(&mut client, produced)
            });
            for page in rx.iter() {
                for item in page {
                    if let Err(e) = consume(item) {
                        failed = Some(e);
                        break;
                    }
                }
                if failed.is_some() {
                    break;
                }
            }
            drop(rx);
            let produced = match producer.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            match failed {
                Some(e) => Err(e),
                None => produced,
            }
        })
    }

    /// Runs `f` in a transaction, committed when it returns `Ok`.
    fn tx<T: Send>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T> + Send) -> Result<T> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            runs::end_if_stalled(&mut tx)?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }
}

/// `out`, having told the pool when it failed for want of `client`'s connection (see
/// [`pool::Pooled::failed`]).
fn noted<T>(client: &mut pool::Pooled<'_>, out: Result<T>) -> Result<T> {
    if let Err(StoreError::Postgres(e)) = &out {
        client.failed(e);
    }
    out
}

/// Runs `f` here, or on a scoped plain thread when this thread drives async tasks (where
/// the sync client may not block).
pub(crate) fn hop<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if in_async_context() {
        std::thread::scope(|s| match s.spawn(f).join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    } else {
        f()
    }
}

/// Scores rows without a score yet (imported, or from before scores). A session that
/// may only read leaves them to the next one that may write.
fn rescore_unscored(c: &mut Client) -> Result<()> {
    if !risk::needs_rescore(c)? {
        return Ok(());
    }
    let rescored = (|| -> Result<()> {
        let mut tx = c.transaction()?;
        risk::rescore_all(&mut tx, Utc::now())?;
        Ok(tx.commit()?)
    })();
    match rescored {
        Err(e) if e.is_postgres_refusal() => Ok(()),
        other => other,
    }
}

/// Creates `schema` unless it is there: `CREATE SCHEMA IF NOT EXISTS` is refused to a
/// read-only session, and to a role without CREATE on the database, even when the schema
/// exists.
fn create_schema(c: &mut Client, schema: &str) -> Result<()> {
    let found = c
        .query_opt(
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
            &[&schema],
        )?
        .is_some();
    if found {
        return Ok(());
    }
    match c.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {}",
        quote_ident(schema)
    )) {
        // Two workers creating it at once: the loser sees a duplicate; the schema exists.
        Err(e)
            if e.code() == Some(&SqlState::UNIQUE_VIOLATION)
                || e.code() == Some(&SqlState::DUPLICATE_SCHEMA) =>
        {
            Ok(())
        }
        other => Ok(other?),
    }
}

impl Store for PgStore {
    fn create_connector(&self, new: &NewConnector) -> Result<Connector> {
        self.with(|c| connectors::create(c, new))
    }
    fn update_connector(&self, connector: &Connector) -> Result<()> {
        self.with(|c| connectors::update(c, connector))
    }
    fn delete_connector(&self, name: &str) -> Result<bool> {
        self.with(|c| connectors::delete(c, name))
    }
    fn connector(&self, name: &str) -> Result<Option<Connector>> {
        self.with(|c| connectors::by_name(c, name))
    }
    fn connectors(&self) -> Result<Vec<Connector>> {
        self.with(connectors::all)
    }
    fn identity(&self) -> Result<String> {
        // The server's start time tells servers apart (host names and addresses do not:
        // one server answers at several); the schema is the first on the search path.
        self.with(|c| {
            let row = c.query_one(
                "SELECT pg_postmaster_start_time()::text, current_database()::text, \
                 current_schema()::text",
                &[],
            )?;
            let (started, database, schema): (String, String, Option<String>) =
                (row.get(0), row.get(1), row.get(2));
            Ok(format!(
                "postgres server started {started}, database {database}, schema {}",
                schema.unwrap_or_default()
            ))
        })
    }
    fn server_time(&self) -> Result<Option<DateTime<Utc>>> {
        // clock_timestamp(), not now(): the time of the reading, not of a transaction.
        self.with(|c| {
            Ok(Some(
                c.query_one("SELECT clock_timestamp()", &[])?.try_get(0)?,
            ))
        })
    }
    fn set_connector_state(
        &self,
        connector_id: i64,
        state: ConnectorState,
        reason: Option<&str>,
    ) -> Result<()> {
        self.with(|c| connectors::set_state(c, connector_id, state, reason))
    }
    fn set_reason_while(&self, id: i64, state: ConnectorState, reason: &str) -> Result<bool> {
        self.with(|c| connectors::set_reason_while(c, id, state, reason))
    }
    fn clear_cursor(&self, connector_id: i64) -> Result<()> {
        self.with(|c| connectors::clear_cursor(c, connector_id))
    }

    fn check_reachable(&self) -> Result<()> {
        // A schema a newer binary upgraded under this worker is no store it can serve.
        self.with(migrate::still_known)?;
        self.connectors().map(drop)
    }
    fn begin_run(
        &self,
        connector_id: i64,
        mode: RunMode,
        holder: &str,
        lock_ttl: chrono::Duration,
    ) -> Result<Run> {
        self.tx(|tx| {
            migrate::still_known(tx)?;
            runs::begin(tx, connector_id, None, mode, holder, lock_ttl)
        })
    }
    fn begin_run_of(
        &self,
        prepared: &Connector,
        mode: RunMode,
        holder: &str,
        lock_ttl: chrono::Duration,
    ) -> Result<Run> {
        self.tx(|tx| {
            migrate::still_known(tx)?;
            runs::begin(tx, prepared.id, Some(prepared), mode, holder, lock_ttl)
        })
    }
    fn run_lock(&self, connector_id: i64) -> Result<Option<RunLock>> {
        self.with(|c| runs::lock(c, connector_id))
    }
    fn renew_lock(&self, run_id: i64, lock_ttl: chrono::Duration) -> Result<()> {
        // Committed at once, an atomic run's too: renewed inside its open transaction,
        // the lease looked expired to everyone else and the live import was taken over.
        self.with(|c| runs::renew_lock(c, run_id, lock_ttl))
    }
    fn write_batch(&self, run: &Run, batch: &Batch, progress: &RunCounters) -> Result<BatchCounts> {
        if let Some(r) = self.with_atomic(run.id, |a| {
            if let Some(lost) = runs::lost_lock(&mut a.client, run)? {
                return Err(lost);
            }
            let counts = data::write(&mut a.client, run, batch)?;
            runs::save_progress(&mut a.client, run.id, progress, &counts)?;
            a.keep(&batch.issues);
            Ok(counts)
        }) {
            return r;
        }
        self.tx(|tx| {
            if let Some(lost) = runs::lost_lock(tx, run)? {
                return Err(lost);
            }
            let counts = data::write(tx, run, batch)?;
            runs::save_progress(tx, run.id, progress, &counts)?;
            Ok(counts)
        })
    }
    fn finish_run(&self, run: &Run, last: &Batch, end: &RunEnd) -> Result<BatchCounts> {
        if let Some(r) = self.atomic_finish(run, last, end) {
            return r;
        }
        // A run that lost its lock ends recorded as such (committed), its last batch
        // dropped.
        self.tx(|tx| {
            if let Some(lost) = runs::lost_lock(tx, run)? {
                runs::record_lost(tx, run, &lost)?;
                return Ok(Err(lost));
            }
            let counts = data::write(tx, run, last)?;
            let mut counters = end.counters;
            counters.add(&counts);
            runs::finish(tx, run, end, &counters)?;
            Ok(Ok(counts))
        })?
    }
    fn close_unseen(&self, run: &Run, asset_external_ids: &[String]) -> Result<u64> {
        if let Some(r) = self.with_atomic(run.id, |a| {
            data::close_unseen(&mut a.client, run, asset_external_ids)
        }) {
            return r;
        }
        self.tx(|tx| {
            if let Some(lost) = runs::lost_lock(tx, run)? {
                return Err(lost);
            }
            data::close_unseen(tx, run, asset_external_ids)
        })
    }
    fn runs(&self, connector_id: i64, limit: u64) -> Result<Vec<Run>> {
        self.with(|c| runs::list(c, connector_id, limit))
    }
    fn run(&self, run_id: i64) -> Result<Option<Run>> {
        self.with(|c| runs::by_id(c, run_id))
    }
    fn last_run(&self, connector_id: i64) -> Result<Option<Run>> {
        Ok(self
            .with(|c| runs::list(c, connector_id, 1))?
            .into_iter()
            .next())
    }
    fn run_times(&self) -> Result<Vec<RunTimes>> {
        self.with(runs::times)
    }
    fn run_issues(&self, run_id: i64) -> Result<Vec<RecordIssue>> {
        self.with(|c| runs::issues(c, run_id))
    }

    fn compare_findings(
        &self,
        connector_id: i64,
        records: &[FindingRecord],
    ) -> Result<Vec<Option<StoredState>>> {
        self.with(|c| compare::findings(c, connector_id, records))
    }

    fn open_findings(&self, connector_id: i64, asset_external_ids: &[String]) -> Result<u64> {
        self.with(|c| compare::open_findings(c, connector_id, asset_external_ids))
    }

    fn assets(&self, query: &ListQuery) -> Result<Vec<StoredAsset>> {
        self.with(|c| listing::assets(c, query))
    }
    fn asset_ids(&self, connector: &str) -> Result<Vec<String>> {
        self.with(|c| listing::asset_ids(c, connector))
    }
    fn asset_locators(&self, connector: &str) -> Result<Vec<(String, String)>> {
        self.with(|c| listing::asset_locators(c, connector))
    }
    fn findings(&self, query: &ListQuery) -> Result<Vec<StoredFinding>> {
        self.with(|c| listing::findings(c, query))
    }
    fn finding_page(&self, query: &ListQuery) -> Result<FindingPage> {
        self.with(|c| listing::finding_page(c, query))
    }
    fn for_each_finding(
        &self,
        query: &ListQuery,
        f: &mut dyn FnMut(StoredFinding) -> Result<()>,
    ) -> Result<()> {
        self.stream(|c, page| listing::for_each_finding(c, query, page), f)
    }
    fn count_findings(&self, query: &ListQuery) -> Result<u64> {
        self.with(|c| listing::count_findings(c, query))
    }
    fn import_kev(&self, entries: &[model::kev::KevEntry], replace: bool) -> Result<KevImport> {
        self.tx(|tx| risk::import_kev(tx, entries, replace))
    }
    fn import_kev_and_rescore(
        &self,
        entries: &[model::kev::KevEntry],
        replace: bool,
    ) -> Result<(KevImport, RescoreCounts)> {
        self.tx(|tx| {
            let imported = risk::import_kev(tx, entries, replace)?;
            Ok((imported, risk::rescore_all(tx, Utc::now())?))
        })
    }
    fn kev_count(&self) -> Result<u64> {
        self.with(risk::kev_count)
    }
    fn rescore(&self) -> Result<RescoreCounts> {
        self.tx(|tx| risk::rescore_all(tx, Utc::now()))
    }
    fn finding(&self, id: i64) -> Result<Option<StoredFinding>> {
        self.with(|c| read::finding(c, id))
    }
    fn finding_history(&self, finding_id: i64) -> Result<Vec<HistoryEntry>> {
        self.with(|c| read::history(c, finding_id))
    }
    fn for_each_raw(&self, connector_id: i64, f: &mut RawVisitor<'_>) -> Result<()> {
        for kind in [RawKind::Asset, RawKind::Finding] {
            let last = self.with(|c| read::last_raw_id(c, kind))?;
            let mut after = 0i64;
            loop {
                let page = self.with(|c| read::raw_page(c, kind, connector_id, after, last))?;
                let full = page.len() as i64 >= read::RAW_PAGE;
                for (id, asset, raw, status) in page {
                    after = id;
                    f(kind, &asset, raw, status)?;
                }
                if !full {
                    break;
                }
            }
        }
        Ok(())
    }
    fn summary(&self, connector: Option<&str>) -> Result<Summary> {
        self.with(|c| read::summary(c, connector))
    }
    fn counts(&self, connector_id: i64) -> Result<(u64, u64)> {
        self.with(|c| read::counts(c, connector_id))
    }

    fn save_map(&self, name: &str, toml: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO maps(name, toml, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET toml = EXCLUDED.toml, updated_at = EXCLUDED.updated_at",
                &[&name, &toml, &Utc::now()],
            )?;
            Ok(())
        })
    }
    fn map_text(&self, name: &str) -> Result<Option<String>> {
        self.with(|c| {
            c.query_opt("SELECT toml FROM maps WHERE name = $1", &[&name])?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(StoreError::from)
        })
    }
    fn map_names(&self) -> Result<Vec<String>> {
        self.with(|c| {
            c.query("SELECT name FROM maps ORDER BY name COLLATE \"C\"", &[])?
                .iter()
                .map(|r| r.try_get(0).map_err(StoreError::from))
                .collect()
        })
    }
    fn delete_map(&self, name: &str) -> Result<bool> {
        self.with(|c| Ok(c.execute("DELETE FROM maps WHERE name = $1", &[&name])? > 0))
    }

    fn begin_atomic(&self, run: &Run) -> Result<()> {
        self.atomic_begin(run)
    }
    fn rollback_atomic(&self, run_id: i64) -> Result<bool> {
        self.atomic_rollback(run_id)
    }
    fn mark_inactive(&self, run: &Run, before: DateTime<Utc>) -> Result<(u64, u64)> {
        if let Some(r) = self.with_atomic(run.id, |a| {
            fullrun::mark_inactive(&mut a.client, run.connector_id, before)
        }) {
            return r;
        }
        self.tx(|tx| {
            if let Some(lost) = runs::lost_lock(tx, run)? {
                return Err(lost);
            }
            fullrun::mark_inactive(tx, run.connector_id, before)
        })
    }
    fn dedupe(&self, query: &ListQuery) -> Result<Vec<crate::FingerprintGroup>> {
        self.with(|c| fullrun::dedupe(c, query))
    }
    fn create_token(&self, name: &str, hash: &str, hint: &str) -> Result<ApiToken> {
        self.with(|c| tokens::create(c, name, hash, hint))
    }
    fn tokens(&self) -> Result<Vec<ApiToken>> {
        self.with(tokens::all)
    }
    fn use_token(&self, hash: &str) -> Result<Option<ApiToken>> {
        self.with(|c| tokens::use_token(c, hash))
    }
    fn revoke_token(&self, id_or_name: &str) -> Result<bool> {
        self.with(|c| tokens::revoke(c, id_or_name))
    }
    fn open_findings_series(&self, connector: Option<&str>) -> Result<Vec<OpenPoint>> {
        self.with(|c| trend::open_series(c, connector))
    }

    fn enqueue_run(
        &self,
        connector_id: i64,
        due_at: DateTime<Utc>,
        mode: Option<RunMode>,
    ) -> Result<Option<DueRun>> {
        self.with(|c| due::enqueue(c, connector_id, due_at, mode))
    }
    fn claim_due_run(
        &self,
        worker: &str,
        lease_ttl: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>> {
        self.with(|c| due::claim(c, worker, lease_ttl, now))
    }
    fn renew_claim(
        &self,
        claim: &Claim,
        lease_ttl: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.with(|c| due::renew(c, claim, lease_ttl, now))
    }
    fn complete_claim(
        &self,
        claim: &Claim,
        run_id: Option<i64>,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.with(|c| due::complete(c, claim, run_id, outcome, now))
    }
    fn release_claim(&self, claim: &Claim) -> Result<bool> {
        self.with(|c| due::release(c, claim))
    }
    fn due_runs(&self, connector_id: Option<i64>, limit: u64) -> Result<Vec<DueRun>> {
        self.with(|c| due::list(c, connector_id, limit))
    }

    fn table_counts(&self) -> Result<TableCounts> {
        self.with(transfer::counts)
    }
    fn export_table(
        &self,
        table: Table,
        batch_size: usize,
        sink: &mut dyn FnMut(Rows) -> Result<()>,
    ) -> Result<()> {
        let mut after = 0i64;
        loop {
            let (rows, next) =
                self.with(|c| transfer::export_page(c, table, after, batch_size.max(1)))?;
            if rows.is_empty() {
                return Ok(());
            }
            after = next;
            sink(rows)?;
        }
    }
    fn import_rows(&self, rows: &Rows) -> Result<()> {
        self.tx(|tx| transfer::import(tx, rows))
    }
    fn finish_import(&self) -> Result<()> {
        self.with(transfer::finish)
    }
    fn clear_all(&self) -> Result<()> {
        self.with(transfer::clear)
    }
}
