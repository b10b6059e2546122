//! The embedded SQLite backend: one file in WAL mode, versioned migrations, batched
//! transactions.
//!
//! Writes go through one connection (SQLite has one writer anyway); reads use a second
//! connection so listings do not wait behind a sync's batches.

pub(crate) mod access;
mod atomic;
mod compare;
mod connectors;
mod data;
mod due;
mod finding_update;
mod fullrun;
mod indexes;
mod listing;
mod risk;
mod runs;
mod statistics;
mod summary;
mod time;
mod tokens;
mod transfer;
mod trend;

use crate::types::*;
use crate::{Result, Store, StoreError, StoredState};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Migrations, in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_api_tokens.sql"),
    include_str!("../../migrations/sqlite/0003_query_risk_kev.sql"),
    include_str!("../../migrations/sqlite/0004_due_runs.sql"),
    include_str!("../../migrations/sqlite/0005_asset_risk_covering.sql"),
    include_str!("../../migrations/sqlite/0006_severity_desc.sql"),
    include_str!("../../migrations/sqlite/0007_external_id_index.sql"),
    include_str!("../../migrations/sqlite/0008_raw_dictionary.sql"),
    include_str!("../../migrations/sqlite/0009_asset_open_risks.sql"),
    include_str!("../../migrations/sqlite/0010_connector_severity_index.sql"),
    include_str!("../../migrations/sqlite/0011_rules_of_this_version.sql"),
];

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    /// The writer's page cache before a bulk load lowered it.
    cache_before_bulk_load: Mutex<Option<i64>>,
    /// Runs written as one transaction, each on its own connection (see `atomic`).
    atomic: Mutex<atomic::Atomics>,
    /// What each open run's batches leave for the next ones and for its end.
    open_runs: Mutex<HashMap<i64, data::RunMemory>>,
    /// What the reader last saw of the planner statistics.
    reader_seen: Mutex<statistics::Seen>,
    /// The file opened (device and inode), to notice it removed or replaced under us.
    identity: Option<(u64, u64)>,
}

/// Makes a store file this process created readable by its owner only (SQLite creates
/// it, and its -wal and -shm after it, with the umask's mode: world-readable findings in
/// a data directory that was not made owner-only). A store that existed keeps its mode.
fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// An existing store file (and its -wal and -shm files, which SQLite creates with the
/// store's permissions) that others may read is made the owner's alone, as a new one is:
/// stores made by versions before that stayed 0644.
fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = Path::new(&name);
            let Ok(meta) = std::fs::metadata(file) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 == 0 {
                continue;
            }
            // Only its owner (or root) may change it: another user who can read it (a
            // 0644 store opened by someone else) was told it was now private.
            match owner_only(file) {
                Ok(()) => {
                    tracing::warn!(file = %file.display(), "the store file was readable by others; it is now the owner's alone (0600)")
                }
                Err(e) => {
                    tracing::warn!(file = %file.display(), "the store file is readable by others (mode {mode:o}) and could not be made the owner's alone: {e}");
                    // SQLite gives its -wal and -shm the store's mode when it opens them:
                    // made private here, they were open again a moment later, after a
                    // warning that said otherwise.
                    return;
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A file's device and inode, where the platform has them.
fn identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date. A
    /// SQLite error on the way (a file that is no database, a damaged one) names the file;
    /// a path the file system refuses says why ([`access`]).
    pub fn open(path: &Path) -> Result<SqliteStore> {
        Self::open_unnamed(path).map_err(|e| e.opening(path))
    }

    fn open_unnamed(path: &Path) -> Result<SqliteStore> {
        let open = |p: &Path| Connection::open(p).map_err(StoreError::from);
        let new = !path.exists();
        let mut writer = open(path)?;
        if new {
            // Best effort: SQLite made it with the umask's mode.
            let _ = owner_only(path);
        }
        configure(&writer, WRITER_CACHE_KIB)?;
        migrate(&mut writer)?;
        // Only a file that is a store: a path given by mistake (notes.txt) was made 0600
        // before it was refused as no database.
        if !new {
            tighten(path);
        }
        // Rows from before risk scores existed (or written by another backend) get theirs.
        if risk::needs_rescore(&writer)? {
            let tx = writer.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            risk::rescore_all(&tx, Utc::now())?;
            tx.commit()?;
        }
        // A bulk load that never reached its end left its indexes unbuilt. Without the
        // room to build them the store still opens, slower, so that a full disk does not
        // also keep `status` from saying what happened; the next open or run's end builds
        // them.
        if let Err(e) = indexes::ensure(&writer) {
            if !crate::error::is_disk_full(&e) {
                return Err(e);
            }
            tracing::warn!(error = %e, "the disk is full: the store's query indexes are not built yet");
        }
        let reader = open(path)?;
        configure(&reader, SIDE_CACHE_KIB)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            cache_before_bulk_load: Mutex::new(None),
            atomic: Mutex::new(atomic::Atomics::new()),
            open_runs: Mutex::new(HashMap::new()),
            reader_seen: Mutex::new(statistics::Seen::default()),
            identity: identity(path),
        })
    }

    /// The schema upgrade that opening the store at `path` would run, as (from, to)
    /// versions; `None` for a new or current store. An upgrade that rebuilds a table
    /// takes a while on a large store (migration 7: about 40 s a million findings), which
    /// a caller can say before it opens the store.
    pub fn pending_upgrade(path: &Path) -> Result<Option<(i64, i64)>> {
        if !path.is_file() {
            return Ok(None);
        }
        let version: i64 =
            Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|conn| conn.pragma_query_value(None, "user_version", |r| r.get(0)))
                .map_err(|e| StoreError::from(e).opening(path))?;
        let known = MIGRATIONS.len() as i64;
        Ok((version > 0 && version < known).then_some((version, known)))
    }

    /// SQLite's query plans for [`Store::summary`], one line per step (tests).
    pub fn explain_summary(&self, connector: Option<&str>) -> Result<Vec<String>> {
        summary::explain(&self.r(), connector)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// [`StoreError::FileGone`] when the file at the store's path is no longer the one
    /// opened (deleted, or replaced by a restore): everything written would go into a
    /// file nobody can open again.
    fn still_there(&self) -> Result<()> {
        if self.identity.is_some() && identity(&self.path) != self.identity {
            return Err(StoreError::FileGone {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// SQLite's query plan for a findings listing, one line per step (benchmarks, tests).
    pub fn explain_findings(&self, q: &ListQuery) -> Result<Vec<String>> {
        listing::explain_findings(&self.r(), q)
    }

    fn w(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock means a panic mid-transaction; SQLite rolled it back, so the
        // connection is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn r(&self) -> MutexGuard<'_, Connection> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        // New statistics are loaded by the next read, not by the run's end, which would
        // otherwise wait for the reader (an export holds it for minutes) while holding the
        // writer. Should the check fail, the next read tries again; until then the old
        // statistics only make a plan worse, never a result wrong.
        let mut seen = self.reader_seen.lock().unwrap_or_else(|p| p.into_inner());
        let _ = seen.follow(&conn);
        drop(seen);
        conn
    }

    /// A read connection of its own, for reads that last (an export streams for minutes,
    /// a remap reads every raw record): on the shared reader they kept every listing,
    /// summary and readiness probe of `serve` waiting until they ended. A new connection
    /// loads the planner statistics as they are.
    fn own_reader(&self) -> Result<Connection> {
        let conn = Connection::open(&self.path)?;
        configure(&conn, SIDE_CACHE_KIB)?;
        Ok(conn)
    }

    /// [`Store::begin_run`], of the connector as `prepared` read it when given.
    fn begin(
        &self,
        connector_id: i64,
        prepared: Option<&Connector>,
        mode: RunMode,
        holder: &str,
        ttl: chrono::Duration,
    ) -> Result<Run> {
        self.still_there()?;
        let mut conn = self.w();
        still_known_schema(&conn)?;
        let run = runs::begin(&mut conn, connector_id, prepared, mode, holder, ttl)?;
        if indexes::begin_bulk_load(&conn)? {
            self.open_runs()
                .insert(run.id, data::RunMemory::bulk_load());
            self.lower_cache_for_bulk_load(&conn)?;
        } else {
            // Another run's bulk load may be under way: this one looks findings up.
            indexes::ensure(&conn)?;
        }
        Ok(run)
    }

    fn open_runs(&self) -> MutexGuard<'_, HashMap<i64, data::RunMemory>> {
        self.open_runs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes a batch of `run`, remembering the assets it touched. The run's memory is
    /// taken out of the shared map while it writes, so other runs' batches do not wait.
    fn write_data(&self, conn: &Connection, run: &Run, batch: &Batch) -> Result<BatchCounts> {
        let mut memory = self.forget_run(run.id);
        let written = data::write(conn, run, batch, &mut memory);
        self.open_runs().insert(run.id, memory);
        written
    }

    /// What the store remembered of `run`, forgotten here (its end used or discarded it).
    fn forget_run(&self, run_id: i64) -> data::RunMemory {
        self.open_runs().remove(&run_id).unwrap_or_default()
    }

    /// The end of a run written in committed batches: its last batch, the risk of the
    /// assets it touched, its record and counters, in one transaction.
    fn finish_batched(&self, run: &Run, last: &Batch, end: &RunEnd) -> Result<BatchCounts> {
        let mut conn = self.w();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // A run that lost its lock ends recorded as such, its last batch and its assets'
        // risk moves dropped: the run that took over recounted those assets when it began.
        if let Some(lost) = runs::lost_lock(&tx, run)? {
            self.forget_run(run.id);
            runs::record_lost(&tx, run, &lost)?;
            tx.commit()?;
            return Err(lost);
        }
        let counts = self.write_data(&tx, run, last)?;
        self.rescore_touched(&tx, run)?;
        let mut counters = end.counters;
        counters.add(&counts);
        runs::finish(&tx, run, end, &counters)?;
        tx.commit()?;
        Ok(counts)
    }

    /// A bulk load appends to the table and the few indexes it keeps, so the large
    /// cache that keeps random index pages at hand is only memory then.
    fn lower_cache_for_bulk_load(&self, conn: &Connection) -> Result<()> {
        let mut before = self
            .cache_before_bulk_load
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if before.is_none() {
            *before = Some(conn.pragma_query_value(None, "cache_size", |r| r.get(0))?);
            conn.pragma_update(None, "cache_size", -BULK_LOAD_CACHE_KIB)?;
        }
        Ok(())
    }

    fn restore_cache_after_bulk_load(&self, conn: &Connection) -> Result<()> {
        let before = self
            .cache_before_bulk_load
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(cache) = before {
            conn.pragma_update(None, "cache_size", cache)?;
        }
        Ok(())
    }

    /// Whether `run` began on a store without findings (see `data::RunMemory`).
    fn began_empty(&self, run_id: i64) -> bool {
        self.open_runs().get(&run_id).is_some_and(|m| m.began_empty)
    }

    /// At a run's end: brings the risk of every asset it touched up to date, once.
    fn rescore_touched(&self, conn: &Connection, run: &Run) -> Result<()> {
        let memory = self.forget_run(run.id);
        risk::update_assets(conn, run.connector_id, &memory.touched, &memory.moves)
    }
}

/// Page cache of the connection that writes syncs: a sync touches a dozen indexes per
/// finding, and with SQLite's default 2 MiB cache they fall out of memory so that every
/// insert re-reads index pages from the OS. 64 MiB (allocated as used) keeps a
/// 1M-finding store's hot pages.
const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// Page cache of the reader, of the connections that write imports as one transaction,
/// and of the writer after [`Store::favour_low_memory`]: the XML import promises a flat
/// memory profile under 100 MB whatever the report's size.
const SIDE_CACHE_KIB: i64 = 16 * 1024;

/// Page cache of the writer during a bulk load (see `indexes`): it appends, so a sync of
/// a million findings ran as fast with 16 MiB as with 64 MiB (47 MB lighter), and as
/// fast again with 4 MiB (peak ~10 MB lower still).
const BULK_LOAD_CACHE_KIB: i64 = 4 * 1024;

/// How long a statement waits for another connection's lock before it fails.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn configure(conn: &Connection, cache_kib: i64) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Filters with letters beyond ASCII compare through it (`query::sql`).
    conn.create_scalar_function(
        query::sql::CASE_FOLD,
        1,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .map(|t| query::sql::fold_case(&t)))
        },
    )?;
    // Updates of findings are prepared per set of changed columns (`finding_update`).
    conn.set_prepared_statement_cache_capacity(64);
    enter_wal_mode(conn)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    // Sorts and temporary tables spill to a file beyond the page cache: a listing or
    // export sorted in a way no index gives must not hold a million rows in memory.
    conn.pragma_update(None, "temp_store", "FILE")?;
    // Checkpoint the WAL every 64 MiB instead of every 4 MiB: each checkpoint costs two
    // fsyncs (tens of ms on a virtual disk), and index pages dirtied by several batches
    // are copied into the database once.
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    Ok(())
}

/// Puts a new database file in WAL mode; on one that is, this changes nothing. The
/// switch needs the file to itself, and SQLite fails it at once, without waiting, when
/// another connection holds a lock (its busy handler would deadlock): commands opening a
/// new store at once (a service starting while a setup script adds a connector) failed
/// with "database is locked". It is tried again until the busy timeout.
fn enter_wal_mode(conn: &Connection) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            done => return Ok(done?),
        }
    }
}

/// Refuses a run once a newer binary has upgraded the store under this process (a
/// service left running through an upgrade): its writes would miss what the newer
/// schema keeps (an asset's open-risk totals went stale that way).
fn still_known_schema(conn: &Connection) -> Result<()> {
    let (found, known) = schema_versions(conn)?;
    if found > known {
        return Err(StoreError::UpgradedUnderUs { found, known });
    }
    Ok(())
}

/// The store's schema version and the newest this binary knows.
fn schema_versions(conn: &Connection) -> Result<(i64, i64)> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    Ok((found, MIGRATIONS.len() as i64))
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let (version, known) = schema_versions(conn)?;
    if version > known {
        return Err(StoreError::SchemaTooNew {
            found: version,
            known,
        });
    }
    if version == known {
        return Ok(());
    }
    // A migration that rebuilds a table drops the old one; with foreign keys on, that
    // would cascade into the rows that refer to it. They are off while migrating, and
    // each migration is checked before it commits.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let migrated = run_migrations(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrated
}

/// Runs the migrations the store has not had, one exclusive transaction each. The version
/// is read inside that transaction: two commands opening a new store at once (a service
/// starting while a setup script adds a connector) each read version 0 before either
/// wrote, and the second ran the first's migrations again ("table connectors already
/// exists", "duplicate column name"), failing or, worse, leaving a store no command could
/// open.
fn run_migrations(conn: &mut Connection) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
        let done: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let Some(sql) = usize::try_from(done).ok().and_then(|d| MIGRATIONS.get(d)) else {
            return Ok(());
        };
        let version = done + 1;
        tx.execute_batch(sql)?;
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(StoreError::Migration {
                version,
                message: format!("rows of {table} would refer to rows that no longer exist"),
            });
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
}

impl Store for SqliteStore {
    fn create_connector(&self, new: &NewConnector) -> Result<Connector> {
        connectors::create(&self.w(), new)
    }
    fn update_connector(&self, c: &Connector) -> Result<()> {
        connectors::update(&self.w(), c)
    }
    fn delete_connector(&self, name: &str) -> Result<bool> {
        connectors::delete(&self.w(), name)
    }
    fn connector(&self, name: &str) -> Result<Option<Connector>> {
        connectors::by_name(&self.r(), name)
    }
    fn connectors(&self) -> Result<Vec<Connector>> {
        connectors::all(&self.r())
    }
    fn check_reachable(&self) -> Result<()> {
        self.still_there()?;
        // Not on the shared reader: behind a queue of listings a healthy store was said
        // to be unready. A connection of its own answers whether the file can be read.
        // A store a newer binary upgraded under this process is no store it can serve.
        let conn = self.own_reader()?;
        still_known_schema(&conn)?;
        connectors::all(&conn).map(drop)
    }
    fn identity(&self) -> Result<String> {
        Ok(match self.identity {
            Some((dev, ino)) => format!("sqlite file {dev}:{ino}"),
            None => format!(
                "sqlite file {}",
                std::fs::canonicalize(&self.path)
                    .unwrap_or_else(|_| self.path.clone())
                    .display()
            ),
        })
    }
    fn set_connector_state(
        &self,
        id: i64,
        state: ConnectorState,
        reason: Option<&str>,
    ) -> Result<()> {
        connectors::set_state(&self.w(), id, state, reason)
    }
    fn set_reason_while(&self, id: i64, state: ConnectorState, reason: &str) -> Result<bool> {
        connectors::set_reason_while(&self.w(), id, state, reason)
    }
    fn clear_cursor(&self, connector_id: i64) -> Result<()> {
        connectors::clear_cursor(&self.w(), connector_id)
    }

    fn begin_run(
        &self,
        connector_id: i64,
        mode: RunMode,
        holder: &str,
        ttl: chrono::Duration,
    ) -> Result<Run> {
        self.begin(connector_id, None, mode, holder, ttl)
    }
    fn begin_run_of(
        &self,
        prepared: &Connector,
        mode: RunMode,
        holder: &str,
        ttl: chrono::Duration,
    ) -> Result<Run> {
        self.begin(prepared.id, Some(prepared), mode, holder, ttl)
    }
    fn run_lock(&self, connector_id: i64) -> Result<Option<RunLock>> {
        runs::lock(&self.r(), connector_id)
    }
    fn renew_lock(&self, run_id: i64, ttl: chrono::Duration) -> Result<()> {
        if let Some(r) =
            self.with_atomic(run_id, |a| runs::renew_lock(atomic::conn(a), run_id, ttl))
        {
            return r;
        }
        runs::renew_lock(&self.w(), run_id, ttl)
    }
    fn favour_low_memory(&self) -> Result<()> {
        self.w()
            .pragma_update(None, "cache_size", -SIDE_CACHE_KIB)?;
        Ok(())
    }
    fn write_batch(&self, run: &Run, batch: &Batch, progress: &RunCounters) -> Result<BatchCounts> {
        if let Some(r) = self.atomic_write_batch(run, batch, progress) {
            return r;
        }
        let mut conn = self.w();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(lost) = runs::lost_lock(&tx, run)? {
            return Err(lost);
        }
        let counts = self.write_data(&tx, run, batch)?;
        runs::save_progress(&tx, run.id, progress, &counts)?;
        tx.commit()?;
        Ok(counts)
    }
    fn finish_run(&self, run: &Run, last: &Batch, end: &RunEnd) -> Result<BatchCounts> {
        let counts = match self.atomic_finish(run, last, end) {
            Some(r) => r,
            None => self.finish_batched(run, last, end),
        };
        // Whatever the outcome, a bulk load's indexes are built before anyone reads, and
        // the planner learns what a large run changed.
        let conn = self.w();
        indexes::ensure(&conn)?;
        statistics::refresh(&conn)?;
        self.restore_cache_after_bulk_load(&conn)?;
        counts
    }
    fn close_unseen(&self, run: &Run, asset_external_ids: &[String]) -> Result<u64> {
        if self.began_empty(run.id) {
            // The search for unseen findings would read every row of the connector (a
            // second or more per million) to find none; the run's end refreshes the
            // risk of the assets it wrote.
            return Ok(0);
        }
        // What closing takes from the assets joins what the run's batches brought, for
        // its end to apply at once.
        let mut memory = self.forget_run(run.id);
        let closed = match self.with_atomic(run.id, |a| {
            data::close_unseen(atomic::conn(a), run, asset_external_ids, &mut memory.moves)
        }) {
            Some(r) => r,
            None => {
                let mut conn = self.w();
                conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(StoreError::from)
                    .and_then(|tx| {
                        if let Some(lost) = runs::lost_lock(&tx, run)? {
                            return Err(lost);
                        }
                        let n =
                            data::close_unseen(&tx, run, asset_external_ids, &mut memory.moves)?;
                        tx.commit()?;
                        Ok(n)
                    })
            }
        };
        self.open_runs().insert(run.id, memory);
        closed
    }
    fn begin_atomic(&self, run: &Run) -> Result<()> {
        self.atomic_begin(run)
    }
    fn rollback_atomic(&self, run_id: i64) -> Result<bool> {
        self.forget_run(run_id);
        self.atomic_rollback(run_id)
    }
    fn mark_inactive(&self, run: &Run, before: DateTime<Utc>) -> Result<(u64, u64)> {
        if let Some(r) = self.with_atomic(run.id, |a| {
            fullrun::mark_inactive(atomic::conn(a), run.connector_id, before)
        }) {
            return r;
        }
        let mut conn = self.w();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(lost) = runs::lost_lock(&tx, run)? {
            return Err(lost);
        }
        let n = fullrun::mark_inactive(&tx, run.connector_id, before)?;
        tx.commit()?;
        Ok(n)
    }
    fn dedupe(&self, q: &ListQuery) -> Result<Vec<crate::FingerprintGroup>> {
        fullrun::dedupe(&self.r(), q)
    }
    fn runs(&self, connector_id: i64, limit: u64) -> Result<Vec<Run>> {
        runs::list(&self.r(), connector_id, limit)
    }
    fn run(&self, run_id: i64) -> Result<Option<Run>> {
        runs::by_id(&self.r(), run_id)
    }
    fn last_run(&self, connector_id: i64) -> Result<Option<Run>> {
        Ok(runs::list(&self.r(), connector_id, 1)?.into_iter().next())
    }
    fn run_times(&self) -> Result<Vec<RunTimes>> {
        runs::times(&self.r())
    }
    fn run_issues(&self, run_id: i64) -> Result<Vec<RecordIssue>> {
        runs::issues(&self.r(), run_id)
    }

    fn compare_findings(
        &self,
        connector_id: i64,
        records: &[FindingRecord],
    ) -> Result<Vec<Option<StoredState>>> {
        compare::findings(&self.r(), connector_id, records)
    }

    fn open_findings(&self, connector_id: i64, asset_external_ids: &[String]) -> Result<u64> {
        compare::open_findings(&self.r(), connector_id, asset_external_ids)
    }

    fn assets(&self, q: &ListQuery) -> Result<Vec<StoredAsset>> {
        // On a connection of its own, closed after: counting every asset's findings walks
        // the findings' index, and on the shared reader those pages stayed in its cache
        // (15 MiB at 1M findings, held through an export that starts with this listing).
        listing::assets(&self.own_reader()?, q)
    }
    fn asset_ids(&self, connector: &str) -> Result<Vec<String>> {
        listing::asset_ids(&self.r(), connector)
    }
    fn asset_locators(&self, connector: &str) -> Result<Vec<(String, String)>> {
        listing::asset_locators(&self.r(), connector)
    }
    fn findings(&self, q: &ListQuery) -> Result<Vec<StoredFinding>> {
        listing::findings(&self.r(), q)
    }
    fn finding_page(&self, q: &ListQuery) -> Result<FindingPage> {
        listing::finding_page(&self.r(), q)
    }
    fn finding(&self, id: i64) -> Result<Option<StoredFinding>> {
        data::finding(&self.r(), id)
    }
    fn finding_history(&self, finding_id: i64) -> Result<Vec<HistoryEntry>> {
        data::history(&self.r(), finding_id)
    }
    fn for_each_raw(&self, connector_id: i64, f: &mut RawVisitor<'_>) -> Result<()> {
        data::for_each_raw(&self.own_reader()?, connector_id, f)
    }
    fn summary(&self, connector: Option<&str>) -> Result<Summary> {
        // Its counts come from several statements: one read transaction makes them one
        // snapshot (while a sync wrote, the statuses summed to more than the findings).
        let conn = self.r();
        let tx = conn.unchecked_transaction()?;
        let summary = summary::summary(&tx, connector)?;
        tx.commit()?;
        Ok(summary)
    }
    fn counts(&self, connector_id: i64) -> Result<(u64, u64)> {
        data::counts(&self.r(), connector_id)
    }
    fn for_each_finding(
        &self,
        q: &ListQuery,
        f: &mut dyn FnMut(StoredFinding) -> Result<()>,
    ) -> Result<()> {
        listing::for_each_finding(&self.own_reader()?, q, f)
    }
    fn count_findings(&self, q: &ListQuery) -> Result<u64> {
        listing::count_findings(&self.r(), q)
    }
    fn import_kev(&self, entries: &[model::kev::KevEntry], replace: bool) -> Result<KevImport> {
        let mut conn = self.w();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = risk::import_kev(&tx, entries, replace)?;
        tx.commit()?;
        Ok(n)
    }
    fn import_kev_and_rescore(
        &self,
        entries: &[model::kev::KevEntry],
        replace: bool,
    ) -> Result<(KevImport, RescoreCounts)> {
        let mut conn = self.w();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let imported = risk::import_kev(&tx, entries, replace)?;
        let rescored = risk::rescore_all(&tx, Utc::now())?;
        tx.commit()?;
        Ok((imported, rescored))
    }
    fn kev_count(&self) -> Result<u64> {
        risk::kev_count(&self.r())
    }
    fn rescore(&self) -> Result<RescoreCounts> {
        let mut conn = self.w();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = risk::rescore_all(&tx, Utc::now())?;
        tx.commit()?;
        Ok(n)
    }

    fn save_map(&self, name: &str, toml: &str) -> Result<()> {
        self.w().execute(
            "INSERT INTO maps(name, toml, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET toml = excluded.toml, updated_at = excluded.updated_at",
            rusqlite::params![name, toml, time::ts(Utc::now())],
        )?;
        Ok(())
    }
    fn map_text(&self, name: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .r()
            .query_row("SELECT toml FROM maps WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }
    fn map_names(&self) -> Result<Vec<String>> {
        let conn = self.r();
        let mut st = conn.prepare("SELECT name FROM maps ORDER BY name")?;
        let names = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(names)
    }
    fn delete_map(&self, name: &str) -> Result<bool> {
        Ok(self
            .w()
            .execute("DELETE FROM maps WHERE name = ?1", [name])?
            > 0)
    }
    fn create_token(&self, name: &str, hash: &str, hint: &str) -> Result<ApiToken> {
        tokens::create(&self.w(), name, hash, hint)
    }
    fn tokens(&self) -> Result<Vec<ApiToken>> {
        tokens::all(&self.r())
    }
    fn use_token(&self, hash: &str) -> Result<Option<ApiToken>> {
        let Some(mut token) = tokens::find(&self.r(), hash)? else {
            return Ok(None);
        };
        // When it was last used is worth a write at most once a minute, and never a wait:
        // another process writing (a CLI import holds the lock for its whole length) made
        // every authorized request wait 30 s and answer 500.
        let stale = token
            .last_used_at
            .is_none_or(|t| Utc::now() - t > chrono::Duration::minutes(1));
        if stale {
            let conn = self.w();
            let touched = conn
                .busy_timeout(std::time::Duration::ZERO)
                .map_err(StoreError::from)
                .and_then(|()| tokens::touch(&conn, token.id));
            match touched {
                Ok(()) => token.last_used_at = Some(Utc::now()),
                Err(e) => tracing::debug!(error = %e, "a token's last use was not recorded"),
            }
            conn.busy_timeout(BUSY_TIMEOUT)?;
        }
        Ok(Some(token))
    }
    fn revoke_token(&self, id_or_name: &str) -> Result<bool> {
        tokens::revoke(&self.w(), id_or_name)
    }
    fn open_findings_series(&self, connector: Option<&str>) -> Result<Vec<OpenPoint>> {
        trend::open_series(&self.r(), connector)
    }
    fn enqueue_run(
        &self,
        connector_id: i64,
        due_at: DateTime<Utc>,
        mode: Option<RunMode>,
    ) -> Result<Option<crate::due::DueRun>> {
        due::enqueue(&mut self.w(), connector_id, due_at, mode)
    }
    fn claim_due_run(
        &self,
        worker: &str,
        lease_ttl: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::due::Claim>> {
        due::claim(&mut self.w(), worker, lease_ttl, now)
    }
    fn renew_claim(
        &self,
        claim: &crate::due::Claim,
        lease_ttl: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        due::renew(&self.w(), claim, lease_ttl, now)
    }
    fn complete_claim(
        &self,
        claim: &crate::due::Claim,
        run_id: Option<i64>,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        due::complete(&self.w(), claim, run_id, outcome, now)
    }
    fn release_claim(&self, claim: &crate::due::Claim) -> Result<bool> {
        due::release(&self.w(), claim)
    }
    fn due_runs(&self, connector_id: Option<i64>, limit: u64) -> Result<Vec<crate::due::DueRun>> {
        due::list(&self.r(), connector_id, limit)
    }
    fn table_counts(&self) -> Result<crate::transfer::TableCounts> {
        transfer::counts(&self.r())
    }
    fn export_table(
        &self,
        table: crate::transfer::Table,
        batch_size: usize,
        sink: &mut dyn FnMut(crate::transfer::Rows) -> Result<()>,
    ) -> Result<()> {
        let mut after = 0i64;
        loop {
            let (rows, next) = transfer::export_page(&self.r(), table, after, batch_size.max(1))?;
            if rows.is_empty() {
                return Ok(());
            }
            after = next;
            sink(rows)?;
        }
    }
    fn import_rows(&self, rows: &crate::transfer::Rows) -> Result<()> {
        transfer::import(&mut self.w(), rows)
    }
    fn finish_import(&self) -> Result<()> {
        Ok(())
    }
    fn clear_all(&self) -> Result<()> {
        transfer::clear(&mut self.w())
    }
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
