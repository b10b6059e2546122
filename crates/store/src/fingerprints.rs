//! Findings grouped by cross-source fingerprint: one row per weakness, with the sources
//! (connectors) that reported it. What `findings --dedupe` prints.
//!
//! Within a connector a finding is one row per source issue id; across connectors the
//! same weakness seen by ASoC, ASE and an XML import shares a fingerprint (see
//! [`model::fingerprint`](fn@model::fingerprint)), so grouping by it deduplicates without
//! losing any row.

use chrono::{DateTime, Utc};
use model::Severity;
use serde::Serialize;

/// One fingerprint and the findings that share it.
#[derive(Debug, Clone, Serialize)]
pub struct FingerprintGroup {
    pub fingerprint: String,
    /// The issue type's name (of the first finding stored).
    pub name: String,
    /// The highest severity any source gives it.
    pub severity: Severity,
    /// Findings in the group.
    pub findings: u64,
    /// Of which open (New, Active, Reopened).
    pub open: u64,
    /// The connectors that reported it, by name, sorted.
    pub sources: Vec<String>,
    /// The stored findings' ids, oldest first.
    pub finding_ids: Vec<i64>,
    /// The application (asset) name of the first finding, when known.
    pub asset: Option<String>,
    pub location: Option<String>,
    pub element: Option<String>,
    pub cwe: Option<u32>,
    /// When any source first and last reported it.
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}
