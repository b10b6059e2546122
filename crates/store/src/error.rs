//! The store's error type.
//!
//! Backend errors are kept as their source so callers can tell a locked database from a
//! full disk; the variants callers act on (a connector already running, a missing
//! connector) are their own variants.

use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the store's schema is version {found}, newer than this binary understands ({known}); upgrade appscan-bridge"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("schema migration {version} would break the store: {message}")]
    Migration { version: i64, message: String },
    #[error("connector '{0}' does not exist")]
    NoSuchConnector(String),
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
    #[error("database error: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("bad store URL '{url}': {message}")]
    BadUrl { url: String, message: String },
    #[error("no free connection to {url} after {waited_secs} s")]
    PoolTimeout { url: String, waited_secs: u64 },
    #[error(
        "the target store is not empty ({rows} rows); pass --force to replace its contents (also what an interrupted migrate left there)"
    )]
    TargetNotEmpty { rows: u64 },
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
    /// An error of the caller's callback in a streaming read (e.g. an export's write
    /// failed), carried out unchanged.
    #[error("{0}")]
    Callback(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A SQLite error met while opening the store at `path`, said with the path.
    pub(crate) fn opening(self, path: &std::path::Path) -> StoreError {
        match self {
            StoreError::Sqlite(source) => StoreError::Open {
                path: path.display().to_string(),
                source,
            },
            other => other,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

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
        if let Some(p) = e.downcast_ref::<postgres::Error>()
            && p.code() == Some(&postgres::error::SqlState::DISK_FULL)
        {
            return true;
        }
        cur = e.source();
    }
    false
}
