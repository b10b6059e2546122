//! A normalized finding: one weakness at one place in one asset.

use crate::{Severity, Status};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `externalFindingId`: the source's id of the issue.
    pub external_id: String,
    /// The source's id of the asset (application) the finding belongs to.
    pub asset_external_id: String,
    /// `findingName`: the issue type's display name.
    pub name: String,
    /// `findingSeverity`.
    pub severity: Severity,
    /// The severity as the source wrote it.
    pub source_severity: String,
    pub status: Status,
    /// The status as the source wrote it.
    pub source_status: Option<String>,
    /// `cveId`.
    pub cve: Option<String>,
    /// `cvss3Base`.
    pub cvss: Option<f64>,
    /// `cweId`.
    pub cwe: Option<u32>,
    /// `findingFirstFoundOn`.
    pub first_found: Option<DateTime<Utc>>,
    /// `findingLastFoundOn`.
    pub last_found: Option<DateTime<Utc>>,
    /// When the source last changed the record.
    pub last_updated: Option<DateTime<Utc>>,
    /// `findingPort`.
    pub port: Option<u16>,
    /// `findingProtocol`.
    pub protocol: Option<String>,
    /// `findingSubType`: the issue type id, e.g. `attCrossSiteScripting`.
    pub issue_type: Option<String>,
    /// The URL (DAST) or source file (SAST) where the weakness is.
    pub location: Option<String>,
    /// The parameter, cookie or other element attacked.
    pub element: Option<String>,
    /// `detectionResult`: the detail document.
    pub detection: Option<String>,
    pub description: Option<String>,
    pub solution: Option<String>,
    pub tags: Vec<String>,
}
