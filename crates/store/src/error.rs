//! The store's error type.
//!
//! Backend errors are kept as their source so callers can tell a locked database from a
//! full disk; the variants callers act on (a connector already running, a missing
//! connector) are their own variants.

use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the store at {path}: another process held it for the whole 30 s wait (a long write, or a store upgrade: a large store takes about a minute per million findings); try again when it is done"
    )]
    Busy { path: String },
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "cannot open the store at {path}: its directory cannot be written ({why}); SQLite writes its -wal and -shm files beside the store, even to read it"
    )]
    DirNotWritable { path: String, why: String },
    /// A SQLite store path the file system refuses (a directory in the file's place, a
    /// missing directory, another owner's file), with its reason in plain words: SQLite
    /// says "unable to open database file" whatever the cause.
    #[error("cannot open the store at {path}: {why}")]
    Unopenable { path: String, why: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the store's schema is version {found}, newer than this binary understands ({known}); upgrade appscan-bridge"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error(
        "a newer appscan-bridge upgraded the store to schema {found} while this process ran (it knows {known}): restart it with the new binary"
    )]
    UpgradedUnderUs { found: i64, known: i64 },
    #[error("schema migration {version} would break the store: {message}")]
    Migration { version: i64, message: String },
    #[error("connector '{0}' does not exist")]
    NoSuchConnector(String),
    /// The connector a run was prepared from is no longer as it was read when the run
    /// would take its lock: removed (its id perhaps another connector's now), or edited.
    #[error("connector '{0}' was removed or changed while its run was starting")]
    ConnectorChanged(String),
    #[error("a connector named '{0}' already exists")]
    ConnectorExists(String),
    #[error(
        "connector '{connector}' is already running (run {run_id}, held by {holder} since {since}, lock expires {expires})"
    )]
    Locked {
        connector: String,
        run_id: i64,
        holder: String,
        since: DateTime<Utc>,
        expires: DateTime<Utc>,
    },
    /// Beginning a run waited its whole time for the connector's rows, which another
    /// process's transaction holds (a write of a run, or a stalled process's).
    #[error(
        "connector '{connector}' is busy: another process's transaction has held its rows for the whole {waited} wait (a long write of a run, or a process paused inside one: PostgreSQL ends a write transaction idle for a minute); try again"
    )]
    RowsHeld { connector: String, waited: String },
    /// A run's lease ran out while it stalled (a paused process, a suspended machine) and
    /// its connector's lock is another run's now, or was released: the run may write
    /// nothing more, as two runs of one connector would write over each other.
    #[error(
        "run {run_id} no longer holds its connector: its lock ran out while it stalled and {}; what it wrote before stays, nothing more is written",
        match taken_by {
            Some(other) => format!("run {other} took the connector over"),
            None => "the connector was released".to_string(),
        }
    )]
    LockLost { run_id: i64, taken_by: Option<i64> },
    #[error("run {0} does not exist")]
    NoSuchRun(i64),
    #[error("corrupt value in column {column}: {message}")]
    Corrupt { column: String, message: String },
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    OpenPostgres {
        /// The URL with its password hidden.
        url: String,
        #[source]
        source: postgres::Error,
    },
    /// The server took the connection but did not complete it (TLS, startup, login) within
    /// the URL's `connect_timeout` (or the default): the driver's own timeout covers only
    /// the TCP connection, so such a server hung every command.
    #[error(
        "cannot connect to PostgreSQL at {url}: no answer from the PostgreSQL server at {server} within {secs} s (connect_timeout=N in the URL sets the wait)"
    )]
    NoAnswer {
        /// The URL with its password hidden.
        url: String,
        /// `host:port`, each of the URL's when it names several.
        server: String,
        secs: u64,
    },
    /// A write the server refused because this session may only read (25006:
    /// `default_transaction_read_only`, a standby) or this role lacks a privilege (42501):
    /// said with the store, as the server names neither.
    #[error("the PostgreSQL store {url} {}", refusal(*.read_only, .error))]
    Refused {
        /// The URL with its password hidden.
        url: String,
        read_only: bool,
        /// Not a `source`: its text is in the message already (see [`StoreError::Postgres`]).
        error: postgres::Error,
    },
    /// Said with the server's own message ("ERROR: …"), which `postgres::Error` only
    /// carries as its cause ("db error"): a run's reason and the API's detail are one
    /// line of text, not a chain.
    #[error("database error: {}", postgres_text(.0))]
    Postgres(postgres::Error),
    #[error("bad store URL '{url}': {message}")]
    BadUrl { url: String, message: String },
    #[error("no free connection to {url} after {waited_secs} s")]
    PoolTimeout { url: String, waited_secs: u64 },
    #[error(
        "the target store is not empty ({rows} rows); pass --force to replace its contents (also what an interrupted migrate left there)"
    )]
    TargetNotEmpty { rows: u64 },
    #[error(
        "connector '{connector}' of the source store is {when} (run {run_id}, held by {holder}): a copy would mix what the run writes meanwhile with what it read before; stop the workers and syncs using the source{again}"
    )]
    SourceBusy {
        connector: String,
        run_id: i64,
        holder: String,
        when: &'static str,
        again: &'static str,
    },
    /// A copy whose target refused what it read, from a source that changed meanwhile (a
    /// run began and ended during the copy): the cause, with the refusal as its source.
    #[error(
        "the source store changed while it was copied ({table}: {before} rows when the copy began, {now} now — a run wrote to it), and the target refused what was read since; stop the workers and syncs using the source, then migrate again with --force"
    )]
    SourceChanged {
        table: String,
        before: u64,
        now: u64,
        #[source]
        refused: Box<StoreError>,
    },
    #[error(
        "copy of {table} incomplete: {source_rows} rows in the source, {target_rows} in the target"
    )]
    CopyMismatch {
        table: String,
        source_rows: u64,
        target_rows: u64,
    },
    #[error("a token named '{0}' already exists")]
    TokenExists(String),
    #[error("this store backend does not support {0} yet")]
    Unsupported(&'static str),
    #[error("a filter over {found} cannot select {expected}")]
    FilterEntity {
        expected: &'static str,
        found: &'static str,
    },
    #[error("bad cursor: {0}")]
    Cursor(#[from] query::CursorError),
    #[error(
        "the store file {path} was removed or replaced while this process had it open: restart the process (what it wrote since went into the removed file)"
    )]
    FileGone { path: std::path::PathBuf },
    /// The caller asked a long operation (`migrate`'s copy) to stop before its end.
    #[error("stopped before its end")]
    Stopped,
    /// An error of the caller's callback in a streaming read (e.g. an export's write
    /// failed), carried out unchanged.
    #[error("{0}")]
    Callback(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A SQLite error met while opening the store at `path`, said with the path.
    pub(crate) fn opening(self, path: &std::path::Path) -> StoreError {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                StoreError::Busy {
                    path: path.display().to_string(),
                }
            }
            // A damaged file or one that is no database opened; its cause is SQLite's.
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, msg))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
                ) =>
            {
                StoreError::Open {
                    path: path.display().to_string(),
                    source: rusqlite::Error::SqliteFailure(e, msg),
                }
            }
            // SQLite's "unable to open database file" says nothing of why; the file
            // system does.
            StoreError::Sqlite(source) => {
                crate::sqlite::access::refusal(path).unwrap_or_else(|| StoreError::Open {
                    path: path.display().to_string(),
                    source,
                })
            }
            other => other,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        StoreError::Postgres(e)
    }
}

/// A PostgreSQL error with its causes, on one line: the server's message (and detail)
/// for an error the server sent, else the client's words and the underlying cause.
fn postgres_text(e: &postgres::Error) -> String {
    let mut parts = Vec::new();
    if e.as_db_error().is_none() {
        parts.push(e.to_string());
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        parts.push(c.to_string());
        cause = c.source();
    }
    parts.join(": ").replace('\n', "; ")
}

/// The rest of [`StoreError::Refused`]'s text: why, and what to do.
fn refusal(read_only: bool, error: &postgres::Error) -> String {
    let server = postgres_text(error);
    if read_only {
        format!(
            "is read-only in this session (default_transaction_read_only of the session or \
             its role, or a standby server): nothing was changed; this command writes, so \
             connect to the primary with a session that may write ({server})"
        )
    } else {
        format!(
            "refuses this role: connect as a role that may read and write the store's \
             schema; one that may only read serves the listings and exports ({server})"
        )
    }
}

impl StoreError {
    /// A PostgreSQL refusal of a write to the store at `url` (see
    /// [`StoreError::Refused`]); any other error as it was.
    pub(crate) fn refused_by_postgres(self, url: &str) -> StoreError {
        match self {
            StoreError::Postgres(e) if is_refusal(&e) => StoreError::Refused {
                url: url.to_string(),
                read_only: e.code() == Some(&postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION),
                error: e,
            },
            other => other,
        }
    }

    /// Whether this is PostgreSQL refusing a write to this session or role (not yet said
    /// with the store).
    pub(crate) fn is_postgres_refusal(&self) -> bool {
        matches!(self, StoreError::Postgres(e) if is_refusal(e))
    }
}

/// 25006 (read-only transaction) or 42501 (insufficient privilege).
fn is_refusal(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION)
        || e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE)
}

/// Whether `err` or one of its causes is a full disk under the store: SQLite's
/// SQLITE_FULL or PostgreSQL's `disk_full` (53100). Callers add where and what to do.
pub fn is_disk_full(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(rusqlite::Error::SqliteFailure(f, _)) = e.downcast_ref::<rusqlite::Error>()
            && f.code == rusqlite::ErrorCode::DiskFull
        {
            return true;
        }
        let pg = match e.downcast_ref::<StoreError>() {
            Some(StoreError::Postgres(p)) => Some(p),
            _ => e.downcast_ref::<postgres::Error>(),
        };
        if pg.is_some_and(|p| p.code() == Some(&postgres::error::SqlState::DISK_FULL)) {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Whether `err` or one of its causes is SQLite's "database is locked" met after the
/// store was opened: another connection held the write lock for the whole busy wait.
/// (At open time it is [`StoreError::Busy`], which names the store already.) Callers add
/// which store, and that nothing was lost.
pub fn is_busy(err: &(dyn std::error::Error + 'static)) -> bool {
    sqlite_failure_after_open(err, &[rusqlite::ErrorCode::DatabaseBusy])
}

/// Whether `err` or one of its causes is SQLite's "database disk image is malformed" (or
/// "file is not a database") met after the store was opened: a damaged store file. (At
/// open time it is [`StoreError::Open`], which names the store already.) Callers add
/// which store and what to do.
pub fn is_corrupt(err: &(dyn std::error::Error + 'static)) -> bool {
    sqlite_failure_after_open(
        err,
        &[
            rusqlite::ErrorCode::DatabaseCorrupt,
            rusqlite::ErrorCode::NotADatabase,
        ],
    )
}

/// Whether `err` or one of its causes is SQLite's "attempt to write a readonly database"
/// met after the store was opened: SQLite opens a file this process may only read (its
/// permissions, another owner's 0644 file, a read-only mount) read-only without a word,
/// and refuses the first write. Callers add which store and what to do.
pub fn is_read_only(err: &(dyn std::error::Error + 'static)) -> bool {
    sqlite_failure_after_open(err, &[rusqlite::ErrorCode::ReadOnly])
}

/// Whether a cause of `err` is a SQLite failure with one of `codes`, outside the errors
/// of opening the store (they say which store themselves).
fn sqlite_failure_after_open(
    err: &(dyn std::error::Error + 'static),
    codes: &[rusqlite::ErrorCode],
) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(
            StoreError::Open { .. }
            | StoreError::Busy { .. }
            | StoreError::DirNotWritable { .. }
            | StoreError::Unopenable { .. },
        ) = e.downcast_ref::<StoreError>()
        {
            return false;
        }
        if let Some(rusqlite::Error::SqliteFailure(f, _)) = e.downcast_ref::<rusqlite::Error>()
            && codes.contains(&f.code)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store in a directory nobody may write in (here /sys, which refuses even root) is
    /// refused with that reason, not SQLite's "unable to open database file".
    #[test]
    fn a_directory_that_cannot_be_written_is_named() {
        let err = crate::SqliteStore::open(std::path::Path::new("/sys/store.sqlite3"))
            .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("its directory cannot be written"), "{text}");
    }

    /// A store held past the busy wait (another process's long write, or its upgrade)
    /// says so; it was a bare "database is locked".
    #[test]
    fn a_busy_store_says_what_holds_it() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        let e = StoreError::Sqlite(busy).opening(std::path::Path::new("/data/store.sqlite3"));
        let text = e.to_string();
        assert!(matches!(e, StoreError::Busy { .. }), "{text}");
        assert!(
            text.contains("/data/store.sqlite3") && text.contains("upgrade"),
            "{text}"
        );
        // Said with the store already: not told again.
        assert!(!is_busy(&e));
    }

    /// Busy and damaged are told from other failures, after opening only.
    #[test]
    fn busy_and_corrupt_are_recognized_after_opening() {
        let failure = |code| {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert!(is_busy(&failure(rusqlite::ffi::SQLITE_BUSY)));
        assert!(!is_busy(&failure(rusqlite::ffi::SQLITE_CORRUPT)));
        assert!(is_corrupt(&failure(rusqlite::ffi::SQLITE_CORRUPT)));
        assert!(is_corrupt(&failure(rusqlite::ffi::SQLITE_NOTADB)));
        assert!(!is_corrupt(&failure(rusqlite::ffi::SQLITE_FULL)));
        let at_open = failure(rusqlite::ffi::SQLITE_CORRUPT)
            .opening(std::path::Path::new("/data/store.sqlite3"));
        assert!(!is_corrupt(&at_open));
    }
}
