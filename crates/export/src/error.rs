//! [`ExportError`]: a failed export, with the file it was writing when it names one.
//!
//! Exporters run inside the store's streaming callback; their errors travel through
//! [`store::StoreError::Callback`] and come back out as themselves (see
//! [`crate::registry::export`]).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Usage(String),
    /// [`crate::ExportOptions::stop`] was set: whoever asked for the export has gone.
    #[error("the export was stopped")]
    Stopped,
}

pub type Result<T> = std::result::Result<T, ExportError>;
