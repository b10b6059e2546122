//! `/api/export`: the stored findings as a download in one of the export formats, written
//! by the `export` crate (the same code as `appscan-bridge export`).
//!
//! The export is written to a temporary file first (exports stream from the store and
//! can be large; a temporary file keeps memory flat) and then streamed to the client.

use super::list::parse_filter;
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use export::{ExportOptions, Format};
use query::Entity;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use utoipa::IntoParams;

/// What to export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv`, `jsonl`, `ocsf`, `sarif` or `kdi` (KDI: one application at a time, since it
    /// writes a file per application).
    #[param(required = true)]
    pub format: Option<String>,
    /// Only this connector's findings.
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    pub connector: Option<String>,
    /// A query-language filter of findings, e.g. `severity>=high and status:open`.
    pub filter: Option<String>,
}

/// The media type and file extension of a format's download.
fn media(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Jsonl | Format::Ocsf => ("application/x-ndjson", "jsonl"),
        Format::Sarif => ("application/sarif+json", "sarif"),
        Format::Kdi => ("application/json", "json"),
    }
}

fn format_of(p: &ExportParams) -> Result<Format, ApiError> {
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
    let text = p.format.as_deref().unwrap_or("");
    Format::parse(text).ok_or_else(|| {
        ApiError::bad_request(
            if text.is_empty() {
                "missing format".to_string()
            } else {
                format!("unknown format '{text}'")
            },
            json!({"parameter": "format", "value": text, "allowed": names}),
        )
    })
}

/// Sets its flag when dropped, unless disarmed first.
#[derive(Default)]
struct StopOnDrop(Arc<AtomicBool>, bool);

impl StopOnDrop {
    fn disarm(mut self) {
        self.1 = true;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if !self.1 {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Findings as a download (`Content-Disposition: attachment`).
#[utoipa::path(get, path = "/api/export", tag = "data", params(ExportParams),
    responses(
        (status = 200, description = "The export file: CSV, JSON Lines (jsonl, ocsf), SARIF or KDI JSON",
            content(("text/csv"), ("application/x-ndjson"), ("application/sarif+json"), ("application/json"))),
        (status = 400, body = super::views::ErrorBody),
        (status = 404, body = super::views::ErrorBody,
            description = "`connector` names no connector, or a KDI export matched no finding"),
        (status = 422, body = super::views::ErrorBody,
            description = "KDI or SARIF would write several files: narrow the selection")))]
pub async fn export(
    State(state): State<AppState>,
    Query(p): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let format = format_of(&p)?;
    let mut opts = ExportOptions::new(format);
    opts.connector = p.connector.clone();
    opts.filter = parse_filter(Entity::Findings, p.filter.as_deref())?;
    opts.max_file_size = u64::MAX;
    let dir = tempfile::tempdir()
        .map_err(|e| ApiError::internal(format!("cannot create a temporary directory: {e}")))?;
    let (ctype, ext) = media(format);
    let name = format!(
        "appscan-findings-{}.{ext}",
        opts.now.format("%Y%m%dT%H%M%SZ")
    );
    opts.out = Some(if format.writes_directory() {
        dir.path().to_path_buf()
    } else {
        dir.path().join(&name)
    });
    let connector = opts.connector.clone();
    state
        .store(move |s| s.require_connector(connector.as_deref()))
        .await?;
    // Dropped with this handler when the client goes away before the file is written
    // (hyper drops a request's future when its connection closes): the export stops at
    // its next finding instead of reading the rest of the store for no one.
    let client_gone = StopOnDrop::default();
    opts.stop = Some(client_gone.0.clone());
    let store = state.runner.store.clone();
    // At most a few at once (the turn goes with the task): each reads every finding it
    // selects, until it is done or its client has gone.
    let turn = state
        .exports
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::internal(format!("the export queue is closed: {e}")))?;
    // The temporary directory goes with the task: when the client leaves while the
    // export runs, the directory is removed once the export ends (it stayed, with the
    // whole export in it, re-created world-readable by the writer).
    let (report, dir) = tokio::task::spawn_blocking(move || {
        let report = export::export(store.as_ref(), &opts);
        drop(turn);
        (report, dir)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the export task failed: {e}")))?;
    client_gone.disarm();
    // The request's mistake is a 400; a store or a disk that fails is the server's (it
    // was a 400 too, telling the client to change what it asked).
    let report = report.map_err(|e| {
        let message = format!("{} export failed: {e}", format.name());
        match e {
            export::ExportError::Usage(_) => {
                ApiError::bad_request(message, json!({"format": format.name()}))
            }
            _ => ApiError::internal(message),
        }
    })?;
    let file = match report.files.as_slice() {
        [one] => one.clone(),
        // KDI writes no file of no finding: a load of none, with auto-close on, would
        // close everything the platform has for the selection.
        [] if format.writes_directory() => {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                format!(
                    "nothing matched the selection: no {} file was written",
                    format.name()
                ),
                json!({"findings": 0}),
            ));
        }
        [] => dir.path().join(&name),
        many => {
            let why = match format {
                Format::Kdi => "one per application",
                _ => "a SARIF file holds at most 20 runs, one per application",
            };
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "a {} export of this selection writes {} files ({why}); narrow it with \
                     connector= or filter=, or use `appscan-bridge export`",
                    format.name(),
                    many.len()
                ),
                json!({"files": many.len()}),
            ));
        }
    };
    let f = tokio::fs::File::open(&file)
        .await
        .map_err(|e| ApiError::internal(format!("cannot read the export: {e}")))?;
    // The open file outlives its directory (removed when `dir` drops) on Unix.
    drop(dir);
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(f));
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("x-findings"),
                report.findings.to_string(),
            ),
        ],
        body,
    )
        .into_response())
}
