//! The JSON shapes of the API, with their OpenAPI schemas.
//!
//! They are built from the store's records here, which is where secrets are masked: a
//! connector's secret is shown as [`MASK`] when set, never as its value or ciphertext.

use crate::scheduler::Plan;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use store::{
    Connector, HistoryEntry, OpenPoint, RecordIssue, Run, StoredAsset, StoredFinding, Summary,
};
use utoipa::ToSchema;

/// What a set secret looks like in API output.
pub const MASK: &str = "••••";

/// The body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// One line for people.
    pub error: String,
    /// Specifics: the invalid parameter, the run holding a lock, ...: any JSON (an
    /// object, text, or null).
    pub detail: serde_json::Value,
}

/// `/healthz` and `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: String,
}

/// A connector.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorView {
    pub name: String,
    /// `asoc`, `ase` or `xml`.
    pub kind: String,
    pub url: Option<String>,
    pub key_id: Option<String>,
    /// `••••` when a secret is set; never the secret.
    pub secret: Option<String>,
    pub description: Option<String>,
    /// Cron expression or interval.
    pub schedule: Option<String>,
    /// Registered, Scheduled, Processing, Processed or Errored.
    pub state: String,
    pub state_reason: Option<String>,
    /// Delta-sync cursor: the start of the last successful run.
    pub cursor: Option<DateTime<Utc>>,
    /// When the scheduler will start the next run.
    pub next_run: Option<DateTime<Utc>>,
    /// A sync of this connector runs in this server now.
    pub running: bool,
    pub last_run: Option<RunView>,
    /// All settings (page size, concurrency, map, ...).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ConnectorView {
    /// Says why a Processing connector's run stopped without finishing (see
    /// [`crate::state::AppState::interruption`]), in place of a state reason.
    pub fn interrupted(mut self, why: Option<String>) -> Self {
        if why.is_some() {
            self.state_reason = why;
        }
        self
    }

    pub fn new(c: Connector, last_run: Option<Run>, plan: Option<Plan>, running: bool) -> Self {
        let settings = runner::Settings::from_json(&c.settings).unwrap_or_default();
        ConnectorView {
            secret: c.secret.as_ref().map(|_| MASK.to_string()),
            description: settings.description.clone(),
            schedule: settings.schedule.clone(),
            state: c.state.to_string(),
            state_reason: c.state_reason,
            cursor: c.cursor,
            next_run: plan.map(|p| p.due.at),
            running,
            last_run: last_run.map(RunView::from),
            settings: c.settings,
            created_at: c.created_at,
            updated_at: c.updated_at,
            name: c.name,
            kind: c.kind,
            // A password in it (stored by older versions) as `***`.
            url: c.url.map(|u| apiclient::base_url::shown(&u)),
            key_id: c.key_id,
        }
    }
}

/// Counters of a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountersView {
    pub fetched: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub warnings: u64,
    pub retries: u64,
    pub requests: u64,
    pub closed: u64,
}

/// One run of a connector.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    pub connector: String,
    /// full, delta or remap.
    pub mode: String,
    /// Processing, Processed, Errored, Aborted or Cancelled.
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<f64>,
    pub counters: CountersView,
    pub reason: Option<String>,
    pub cursor_from: Option<DateTime<Utc>>,
}

impl From<Run> for RunView {
    fn from(r: Run) -> Self {
        let c = r.counters;
        RunView {
            duration_seconds: r.duration().map(|d| d.num_milliseconds() as f64 / 1000.0),
            id: r.id,
            connector: r.connector,
            mode: r.mode.as_str().to_string(),
            state: r.state.to_string(),
            started_at: r.started_at,
            ended_at: r.ended_at,
            counters: CountersView {
                fetched: c.fetched,
                inserted: c.inserted,
                updated: c.updated,
                unchanged: c.unchanged,
                failed: c.failed,
                warnings: c.warnings,
                retries: c.retries,
                requests: c.requests,
                closed: c.closed,
            },
            reason: r.reason,
            cursor_from: r.cursor_from,
        }
    }
}

/// A record that failed (or was warned about) in a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueView {
    /// error or warning.
    pub level: String,
    /// Where: endpoint, page, JSON path.
    pub location: String,
    pub message: String,
}

impl From<RecordIssue> for IssueView {
    fn from(i: RecordIssue) -> Self {
        IssueView {
            level: match i.level {
                store::IssueLevel::Error => "error",
                store::IssueLevel::Warning => "warning",
            }
            .into(),
            location: i.location,
            message: i.message,
        }
    }
}

/// A sync was started.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStarted {
    pub connector: String,
    /// `started`.
    pub status: String,
    pub full: bool,
}

/// The answer to a cancel request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cancelled {
    pub connector: String,
    /// `cancelling`.
    pub status: String,
}

/// One connection check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    pub name: String,
    /// passed, failed or skipped.
    pub outcome: String,
    pub reason: String,
    pub hint: Option<String>,
    pub millis: u64,
}

/// An asset (application).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetView {
    pub id: i64,
    pub connector: String,
    pub external_id: String,
    pub name: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub business_unit: Option<String>,
    pub risk_rating: Option<String>,
    pub last_updated: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub active: bool,
    pub findings: u64,
    pub open_findings: u64,
    /// Risk 0–1000 from its open findings (as `assets --json` has it).
    pub risk: u16,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

impl From<StoredAsset> for AssetView {
    fn from(a: StoredAsset) -> Self {
        AssetView {
            id: a.id,
            connector: a.connector,
            external_id: a.asset.external_id,
            name: a.asset.name,
            url: a.asset.url,
            description: a.asset.description,
            business_unit: a.asset.business_unit,
            risk_rating: a.asset.risk_rating,
            last_updated: a.asset.last_updated,
            tags: a.asset.tags,
            active: a.active,
            findings: a.findings,
            open_findings: a.open_findings,
            risk: a.risk,
            first_seen: a.first_seen,
            last_seen: a.last_seen,
        }
    }
}

/// A finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub id: i64,
    pub connector: String,
    pub asset_name: Option<String>,
    pub asset_url: Option<String>,
    pub external_id: String,
    pub asset_external_id: String,
    pub name: String,
    /// Informational, Low, Medium, High or Critical.
    pub severity: String,
    pub source_severity: String,
    /// NEW, ACTIVE, REOPENED, FIXED, IGNORED, NONE or CLOSED.
    pub status: String,
    pub source_status: Option<String>,
    pub cve: Option<String>,
    pub cvss: Option<f64>,
    pub cwe: Option<u32>,
    pub first_found: Option<DateTime<Utc>>,
    pub last_found: Option<DateTime<Utc>>,
    pub last_updated: Option<DateTime<Utc>>,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub issue_type: Option<String>,
    pub location: Option<String>,
    pub element: Option<String>,
    pub detection: Option<String>,
    pub description: Option<String>,
    pub solution: Option<String>,
    pub tags: Vec<String>,
    pub fingerprint: String,
    pub active: bool,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Risk 0–1000, as of the last sync or `rescore` (as `findings --json` has it).
    pub risk: u16,
    /// Whether its CVE is on the known-exploited list.
    pub kev: bool,
}

impl From<StoredFinding> for FindingView {
    fn from(s: StoredFinding) -> Self {
        let f = s.finding;
        FindingView {
            id: s.id,
            connector: s.connector,
            asset_name: s.asset_name,
            asset_url: s.asset_url,
            external_id: f.external_id,
            asset_external_id: f.asset_external_id,
            name: f.name,
            severity: f.severity.as_str().into(),
            source_severity: f.source_severity,
            status: f.status.as_str().into(),
            source_status: f.source_status,
            cve: f.cve,
            cvss: f.cvss,
            cwe: f.cwe,
            first_found: f.first_found,
            last_found: f.last_found,
            last_updated: f.last_updated,
            port: f.port,
            protocol: f.protocol,
            issue_type: f.issue_type,
            location: f.location,
            element: f.element,
            detection: f.detection,
            description: f.description,
            solution: f.solution,
            tags: f.tags,
            fingerprint: s.fingerprint,
            active: s.active,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            risk: s.risk,
            kev: s.kev,
        }
    }
}

/// One status change of a finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    pub run_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub old_status: Option<String>,
    pub new_status: String,
}

impl From<HistoryEntry> for HistoryView {
    fn from(h: HistoryEntry) -> Self {
        HistoryView {
            run_id: h.run_id,
            at: h.at,
            old_status: h.old_status.map(|s| s.as_str().to_string()),
            new_status: h.new_status.as_str().to_string(),
        }
    }
}

/// A finding with its status history.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDetail {
    #[serde(flatten)]
    pub finding: FindingView,
    pub history: Vec<HistoryView>,
}

/// A page of assets.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetPage {
    pub items: Vec<AssetView>,
    pub offset: u64,
    pub limit: u64,
    /// The offset of the next page, when this one was full.
    pub next_offset: Option<u64>,
}

/// A page of findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingPage {
    pub items: Vec<FindingView>,
    pub offset: u64,
    pub limit: u64,
    /// The offset of the next page, when this one was full and was asked for by offset.
    pub next_offset: Option<u64>,
    /// When this page was full: pass it as `cursor` (with the same filter, sort and
    /// connector) for the next page. Paging by cursor takes as long deep in a large store as
    /// on its first page; paging by offset reads every row it skips.
    pub next_cursor: Option<String>,
}

/// Counts of stored records.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryView {
    pub assets: u64,
    pub findings: u64,
    /// Findings in an open status (NEW, ACTIVE, REOPENED).
    pub open: u64,
    /// Findings per severity (every severity listed, zeros included).
    pub by_severity: BTreeMap<String, u64>,
    /// Findings per normalized status (every status listed, zeros included).
    pub by_status: BTreeMap<String, u64>,
}

impl From<Summary> for SummaryView {
    fn from(s: Summary) -> Self {
        let mut by_severity: BTreeMap<String, u64> = model::Severity::ALL
            .iter()
            .map(|v| (v.as_str().to_string(), 0))
            .collect();
        for (sev, n) in &s.by_severity {
            by_severity.insert(sev.as_str().to_string(), *n);
        }
        let mut by_status: BTreeMap<String, u64> = model::Status::ALL
            .iter()
            .map(|v| (v.as_str().to_string(), 0))
            .collect();
        let mut open = 0;
        for (st, n) in &s.by_status {
            by_status.insert(st.as_str().to_string(), *n);
            if st.is_open() {
                open += n;
            }
        }
        SummaryView {
            assets: s.assets,
            findings: s.findings,
            open,
            by_severity,
            by_status,
        }
    }
}

/// Open findings after a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenPointView {
    pub at: DateTime<Utc>,
    pub open: u64,
}

impl From<OpenPoint> for OpenPointView {
    fn from(p: OpenPoint) -> Self {
        OpenPointView {
            at: p.at,
            open: p.open,
        }
    }
}
