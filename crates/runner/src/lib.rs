//! Runs connectors: registers them, keeps their secrets sealed, and syncs them from their
//! source into the store.
//!
//! Data flows one way: a [`source::Source`] yields pages of raw records, the connector's
//! map turns them into normalized records, and the store writes them in batches. The
//! runner owns everything about a run: its lock, state, counters, failure threshold and
//! cursor.
//!
//! # Layout
//! - [`settings`]: a connector's settings and their validation.
//! - [`config`]: connectors declared in a TOML config file, with environment overrides.
//! - [`secrets`]: the master key and sealing of API secrets (XChaCha20-Poly1305).
//! - [`connectors`]: registering connectors, opening their secrets.
//! - [`maps`]: finding a connector's map.
//! - [`source`]: what a source is to the runner; [`sources`]: one module per source kind.
//! - [`sync`]: one run, source → map → store; `writes`: its batches on their way into
//!   the store.
//! - [`full_run`]: the full-run semantics of the ASE and XML sources (auto-close, no-data
//!   abort, one transaction per report, asset inactivity) and their connector options.
//! - [`import`]: `import FILE`, an AppScan XML report as a run of an `xml` connector.
//! - [`check`]: the five connection checks.
//! - [`remap`]: mapping stored raw records again without fetching.
//! - [`progress`]: how a run reports progress; [`stop`]: how a run is stopped, and why.
//! - [`paths`]: the data directory.

pub mod check;
pub mod config;
pub mod connectors;
pub mod full_run;
pub mod import;
pub mod maps;
pub mod paths;
pub mod progress;
pub mod remap;
pub mod secrets;
pub mod settings;
pub mod source;
pub mod sources;
pub mod stop;
pub mod sync;
mod writes;

pub use connectors::AddConnector;
pub use full_run::FullRunOptions;
pub use import::ImportInput;
pub use progress::{Progress, Quiet};
pub use secrets::{MasterKey, SecretError};
pub use settings::Settings;
pub use stop::Stop;
pub use sync::{RunReport, SyncOptions, lock_is_live};

use std::sync::Arc;
use store::{Store, StoreError};

/// Why an operation of the runner failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("connector '{0}' does not exist (see `connector list`)")]
    NoSuchConnector(String),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Unsupported(String),
    /// The source failed outside a run (a dry run's unreadable report).
    #[error("{0}")]
    Source(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The store and the master key, shared by every operation.
#[derive(Clone)]
pub struct Runner {
    pub store: Arc<dyn Store>,
    pub key: Arc<MasterKey>,
}

impl Runner {
    pub fn new(store: Arc<dyn Store>, key: MasterKey) -> Runner {
        Runner {
            store,
            key: Arc::new(key),
        }
    }
}
