//! A connector's settings: what `connector add/edit` sets and the sync reads.
//!
//! Stored as JSON in the connector row; every field has a default so older rows and
//! partial config files stay valid.

use crate::full_run::FullRunOptions;
use serde::{Deserialize, Serialize};

/// The longest description a connector may have.
pub const MAX_DESCRIPTION: usize = 164;

/// A setting whose value is out of range: its key (as a config file writes it) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    pub key: &'static str,
    pub message: String,
}

/// Problems as one message, for `connector add/edit`.
pub(crate) fn joined(problems: Vec<SettingProblem>) -> Result<(), String> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(problems
        .into_iter()
        .map(|p| p.message)
        .collect::<Vec<_>>()
        .join("; "))
}

/// The largest delta overlap: 30 days.
pub const MAX_OVERLAP_SECONDS: i64 = 30 * 24 * 3600;
/// The most retries of one request.
pub const MAX_RETRIES: usize = 100;
/// The longest first retry delay: a minute.
pub const MAX_RETRY_BASE_MS: u64 = 60_000;
/// The longest request timeout: an hour.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub description: Option<String>,
    /// Cron expression or interval (`6h`) for `serve`.
    pub schedule: Option<String>,
    /// Records per request (the vendor documents 50; the API allows up to 5000).
    pub page_size: usize,
    /// Applications fetched at once.
    pub concurrency: usize,
    /// Client-side request budget; 0 turns the limiter off.
    pub rate_limit_per_minute: u32,
    /// Fraction of records that may fail before the run is Errored (0.01 = 1 %).
    pub failure_threshold: f64,
    /// The map that turns records into the normalized model.
    pub map: String,
    /// Seconds subtracted from the cursor on delta runs, so clock skew loses nothing.
    pub overlap_seconds: i64,
    /// Optional OData filter selecting apps (e.g. `Name eq 'Shop'`).
    pub app_filter: Option<String>,
    /// Extra CA certificate (PEM) to trust, e.g. for an on-prem server.
    pub ca_file: Option<String>,
    pub max_retries: usize,
    /// First retry delay in milliseconds; later ones grow exponentially with jitter.
    pub retry_base_ms: u64,
    pub timeout_seconds: u64,
    /// ASoC: fetch the detail document (`/Issues/{id}/Details?format=xml`) of every
    /// listed issue whose list answer has no `IssueXml`, for the map's `detectionResult`:
    /// one request more per new or changed issue, so off by default.
    pub fetch_details: bool,
    /// Options of the full-run sources (ASE, XML reports); flattened, so
    /// `exclude_informational = true` sits beside `page_size`.
    #[serde(flatten)]
    pub full_run: FullRunOptions,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            description: None,
            schedule: None,
            page_size: 50,
            concurrency: 4,
            rate_limit_per_minute: 450,
            failure_threshold: 0.01,
            map: "default".into(),
            overlap_seconds: 300,
            app_filter: None,
            ca_file: None,
            max_retries: 5,
            retry_base_ms: 500,
            timeout_seconds: 60,
            fetch_details: false,
            full_run: FullRunOptions::default(),
        }
    }
}

impl Settings {
    /// Checks values a user typed; the message says which ones are wrong.
    pub fn validate(&self) -> Result<(), String> {
        joined(self.problems())
    }

    /// Every value out of range, each with its key (a config file points at its line).
    pub fn problems(&self) -> Vec<SettingProblem> {
        let mut out = Vec::new();
        let mut bad = |key, message: String| out.push(SettingProblem { key, message });
        if let Some(d) = &self.description
            && d.chars().count() > MAX_DESCRIPTION
        {
            bad(
                "description",
                format!(
                    "description is {} characters long; at most {MAX_DESCRIPTION} are allowed",
                    d.chars().count()
                ),
            );
        }
        if self.page_size == 0 || self.page_size > 5000 {
            bad(
                "page_size",
                format!("page size {} is outside 1..=5000", self.page_size),
            );
        }
        if self.concurrency == 0 || self.concurrency > 64 {
            bad(
                "concurrency",
                format!("concurrency {} is outside 1..=64", self.concurrency),
            );
        }
        if !(0.0..=1.0).contains(&self.failure_threshold) {
            bad(
                "failure_threshold",
                format!(
                    "failure threshold {} is outside 0..=1 (0.01 means 1 %)",
                    self.failure_threshold
                ),
            );
        }
        // Upper bounds well beyond any use: a value past them overflowed the cursor's
        // arithmetic (a panic mid-sync) or made a retry wait for centuries.
        if !(0..=MAX_OVERLAP_SECONDS).contains(&self.overlap_seconds) {
            bad(
                "overlap_seconds",
                format!(
                    "overlap {} s is outside 0..={MAX_OVERLAP_SECONDS} (30 days)",
                    self.overlap_seconds
                ),
            );
        }
        if self.max_retries > MAX_RETRIES {
            bad(
                "max_retries",
                format!("{} retries is more than {MAX_RETRIES}", self.max_retries),
            );
        }
        if self.retry_base_ms > MAX_RETRY_BASE_MS {
            bad(
                "retry_base_ms",
                format!(
                    "a first retry delay of {} ms is more than {MAX_RETRY_BASE_MS} (a minute)",
                    self.retry_base_ms
                ),
            );
        }
        if self.timeout_seconds == 0 || self.timeout_seconds > MAX_TIMEOUT_SECONDS {
            bad(
                "timeout_seconds",
                format!(
                    "timeout {} s is outside 1..={MAX_TIMEOUT_SECONDS} (0 would fail every \
                     request)",
                    self.timeout_seconds
                ),
            );
        }
        out.extend(self.full_run.problems());
        out
    }

    pub fn from_json(v: &serde_json::Value) -> Result<Settings, String> {
        serde_json::from_value(v.clone()).map_err(|e| format!("invalid connector settings: {e}"))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}
