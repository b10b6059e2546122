//! The records the store reads and writes: connectors, runs, batches, stored data.

use crate::error::StoreError;
use crate::raw::{Encoded, Prepared};
use chrono::{DateTime, Utc};
use model::{Asset, Finding, Severity, Status};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A connector's lifecycle state, as users see it in `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectorState {
    Registered,
    Scheduled,
    Processing,
    Processed,
    Errored,
}

impl ConnectorState {
    pub const ALL: [ConnectorState; 5] = [
        Self::Registered,
        Self::Scheduled,
        Self::Processing,
        Self::Processed,
        Self::Errored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorState::Registered => "Registered",
            ConnectorState::Scheduled => "Scheduled",
            ConnectorState::Processing => "Processing",
            ConnectorState::Processed => "Processed",
            ConnectorState::Errored => "Errored",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The state a run that ended `run` leaves its connector in: Processed after a
    /// finished run or one aborted for no data, Errored after any other.
    pub fn after(run: RunState) -> ConnectorState {
        match run {
            RunState::Processed | RunState::Aborted => ConnectorState::Processed,
            _ => ConnectorState::Errored,
        }
    }
}

impl fmt::Display for ConnectorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered connector. `secret` is ciphertext: the store never sees a plain secret.
#[derive(Clone, Serialize)]
pub struct Connector {
    pub id: i64,
    pub name: String,
    /// `asoc`, `ase` or `xml`.
    pub kind: String,
    pub url: Option<String>,
    pub key_id: Option<String>,
    #[serde(skip)]
    pub secret: Option<Vec<u8>>,
    /// Kind-specific settings (page size, concurrency, map, schedule, ...), owned by the runner.
    pub settings: serde_json::Value,
    pub state: ConnectorState,
    /// Why the connector is in its state, in one line (set when Errored or aborted).
    pub state_reason: Option<String>,
    /// Delta-sync cursor: the start time of the last successful run.
    pub cursor: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("key_id", &self.key_id)
            .field("secret", &self.secret.as_ref().map(|_| "[encrypted]"))
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Whether `other` is this connector as a run would use it: the same one (not one
    /// re-created under its id or name), with the same address, key, settings and cursor.
    pub fn same_setup(&self, other: &Connector) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.kind == other.kind
            && self.created_at == other.created_at
            && self.url == other.url
            && self.key_id == other.key_id
            && self.secret == other.secret
            && self.settings == other.settings
            && self.cursor == other.cursor
    }
}

/// The connector a run begins with: `current` as the store holds it, refused when it is
/// gone or, with `prepared`, when it is no longer the connector the run was prepared from
/// ([`crate::Store::begin_run_of`]).
pub(crate) fn as_prepared(
    id: i64,
    prepared: Option<&Connector>,
    current: Option<Connector>,
) -> crate::Result<Connector> {
    let Some(c) = current else {
        return Err(gone(id, prepared));
    };
    match prepared {
        Some(p) if !p.same_setup(&c) => Err(StoreError::ConnectorChanged(p.name.clone())),
        _ => Ok(c),
    }
}

/// Whether `current`, `run`'s connector as its end finds it, still fetches from `scope`;
/// said in the log when not (its cursor then stays).
pub(crate) fn still_in_scope(run: &Run, scope: &RunScope, current: Option<&Connector>) -> bool {
    let holds = current.is_some_and(|c| scope.holds(c));
    if !holds {
        tracing::info!(connector = %run.connector, run = run.id,
            "the connector was edited during the run: its cursor was left as the edit left it");
    }
    holds
}

/// The error of a run whose connector (`id`, as `prepared` read it) is not there.
pub(crate) fn gone(id: i64, prepared: Option<&Connector>) -> StoreError {
    match prepared {
        Some(p) => StoreError::ConnectorChanged(p.name.clone()),
        None => StoreError::NoSuchConnector(id.to_string()),
    }
}

/// What `connector add` registers.
#[derive(Clone)]
pub struct NewConnector {
    pub name: String,
    pub kind: String,
    pub url: Option<String>,
    pub key_id: Option<String>,
    pub secret: Option<Vec<u8>>,
    pub settings: serde_json::Value,
}

/// Full runs fetch everything; delta runs fetch what changed since the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    Full,
    Delta,
    /// Stored raw records mapped again with the connector's current map; nothing fetched.
    Remap,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Full => "full",
            RunMode::Delta => "delta",
            RunMode::Remap => "remap",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(RunMode::Full),
            "delta" => Some(RunMode::Delta),
            "remap" => Some(RunMode::Remap),
            _ => None,
        }
    }
}

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunState {
    Processing,
    Processed,
    Errored,
    /// The source returned no data where data was expected; nothing was closed.
    Aborted,
    /// Stopped by the user (Ctrl-C) or by shutdown.
    Cancelled,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Processing => "Processing",
            RunState::Processed => "Processed",
            RunState::Errored => "Errored",
            RunState::Aborted => "Aborted",
            RunState::Cancelled => "Cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Processing,
            Self::Processed,
            Self::Errored,
            Self::Aborted,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a connector's last Processed run ended and since when a run of it is Processing,
/// if one is (what an operator's alerts ask: "no success for a day", "a run for hours").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunTimes {
    pub connector_id: i64,
    pub last_success: Option<DateTime<Utc>>,
    pub running_since: Option<DateTime<Utc>>,
}

impl RunTimes {
    /// Their read, the same on both backends: each connector's newest run in each state,
    /// by id on the connector's run index.
    pub(crate) const SQL: &str = "SELECT c.id,
       (SELECT r.ended_at FROM runs r WHERE r.connector_id = c.id AND r.state = 'Processed'
         ORDER BY r.id DESC LIMIT 1),
       (SELECT r.started_at FROM runs r WHERE r.connector_id = c.id AND r.state = 'Processing'
         ORDER BY r.id DESC LIMIT 1)
     FROM connectors c ORDER BY c.id";
}

/// Counters of a run, as kept in the runs table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounters {
    pub fetched: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub warnings: u64,
    pub retries: u64,
    pub requests: u64,
    /// Findings closed because a full run no longer saw them.
    pub closed: u64,
}

impl RunCounters {
    pub fn add(&mut self, c: &BatchCounts) {
        self.inserted += c.inserted;
        self.updated += c.updated;
        self.unchanged += c.unchanged;
    }
}

/// The lock a running run holds on its connector: who holds it, and until when unless
/// renewed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLock {
    pub run_id: i64,
    /// `pid N on HOST` for the CLI and `serve`.
    pub holder: String,
    pub since: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

impl RunLock {
    /// The refusal of a second run of `connector` while this lock holds.
    pub(crate) fn refuse(self, connector: String) -> crate::StoreError {
        crate::StoreError::Locked {
            connector,
            run_id: self.run_id,
            holder: self.holder,
            since: self.since,
            expires: self.expires,
        }
    }
}

/// One run of a connector.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: i64,
    pub connector_id: i64,
    pub connector: String,
    pub mode: RunMode,
    pub state: RunState,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub counters: RunCounters,
    /// Why the run ended as it did, in one line.
    pub reason: Option<String>,
    /// The cursor the run started from (delta runs).
    pub cursor_from: Option<DateTime<Utc>>,
}

impl Run {
    pub fn duration(&self) -> Option<chrono::Duration> {
        self.ended_at.map(|e| e - self.started_at)
    }

    /// When this run's records were seen: `now`, except in a remap, which fetched
    /// nothing and keeps when each was last reported (and whether it is still active): a
    /// remap made every finding and asset look seen that moment, defeating `lastSeen`
    /// filters and the inactivity of assets no run reports any more. The stores write a
    /// `None` as "keep the stored value".
    pub fn seen_at<T>(&self, now: T) -> Option<T> {
        (self.mode != RunMode::Remap).then_some(now)
    }
}

/// Whether a recorded problem failed its record or only warned about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueLevel {
    Error,
    Warning,
}

/// A record that failed (or was warned about) during a run: where and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordIssue {
    pub level: IssueLevel,
    /// Where: endpoint, app id, JSON path (`GET /api/v4/Issues/Application/ab12 $skip=50 $.Items[3].Severity`).
    pub location: String,
    pub message: String,
}

/// An asset to upsert, with the raw record it came from.
#[derive(Debug, Clone)]
pub struct AssetRecord {
    pub asset: Asset,
    /// The source's record; `Null` once [`Batch::prepare`] encoded it (read
    /// [`AssetRecord::encoded`]).
    pub raw: serde_json::Value,
    /// The raw record compressed and the content hash, once computed.
    pub prepared: Prepared,
}

impl AssetRecord {
    pub fn new(asset: Asset, raw: serde_json::Value) -> AssetRecord {
        AssetRecord {
            asset,
            raw,
            prepared: Prepared::default(),
        }
    }

    /// The raw record compressed, and the content hash (computed at the first call).
    pub fn encoded(&self) -> &Encoded {
        self.prepared.get_or_encode(&self.asset, &self.raw)
    }
}

/// A finding to upsert, with the raw record it came from and its fingerprint.
#[derive(Debug, Clone)]
pub struct FindingRecord {
    pub finding: Finding,
    /// The source's record; `Null` once [`Batch::prepare`] encoded it (read
    /// [`FindingRecord::encoded`]).
    pub raw: serde_json::Value,
    pub fingerprint: String,
    /// The raw record compressed and the content hash, once computed.
    pub prepared: Prepared,
}

impl FindingRecord {
    pub fn new(finding: Finding, raw: serde_json::Value, fingerprint: String) -> FindingRecord {
        FindingRecord {
            finding,
            raw,
            fingerprint,
            prepared: Prepared::default(),
        }
    }

    /// A finding whose content hash is taken as if its status were `hashed`. A run
    /// hashes a record with the status it maps to and the store keeps REOPENED over it,
    /// so the hash says what the source sent; a remap that keeps REOPENED hashes the
    /// same way, or it counted every such finding as updated, and the next run again.
    pub fn hashed_with_status(
        finding: Finding,
        raw: serde_json::Value,
        fingerprint: String,
        hashed: Status,
    ) -> FindingRecord {
        let prepared = Prepared::default();
        let as_hashed = Finding {
            status: hashed,
            ..finding.clone()
        };
        prepared.get_or_encode(&as_hashed, &raw);
        FindingRecord {
            finding,
            raw,
            fingerprint,
            prepared,
        }
    }

    /// A finding a full run closed because it did not see it, kept CLOSED by a remap
    /// whose map calls its record `mapped` (an open status): hashed as the run that
    /// wrote it hashed it, with the close's [`crate::raw::CLOSED_UNSEEN_MARK`].
    pub fn kept_closed(
        finding: Finding,
        raw: serde_json::Value,
        fingerprint: String,
        mapped: Status,
    ) -> FindingRecord {
        let as_written = Finding {
            status: mapped,
            ..finding.clone()
        };
        let Encoded { compressed, hash } = crate::raw::encode(&as_written, &raw);
        let marked = Encoded {
            compressed,
            hash: format!("{}{hash}", crate::raw::CLOSED_UNSEEN_MARK),
        };
        FindingRecord {
            finding,
            raw,
            fingerprint,
            prepared: Prepared::with(marked),
        }
    }

    /// The raw record compressed, and the content hash (computed at the first call).
    pub fn encoded(&self) -> &Encoded {
        self.prepared.get_or_encode(&self.finding, &self.raw)
    }
}

/// What one transaction writes.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub assets: Vec<AssetRecord>,
    pub findings: Vec<FindingRecord>,
    pub issues: Vec<RecordIssue>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty() && self.findings.is_empty() && self.issues.is_empty()
    }
    pub fn len(&self) -> usize {
        self.assets.len() + self.findings.len()
    }

    /// Encodes every record's raw form now (JSON, hash, compression: a tenth of a sync's
    /// CPU), so that a runner can do it while the previous batch is being written instead
    /// of leaving it to the store's one writer; then lets go of the raw JSON trees, which
    /// no store reads once a record is encoded (a batch waiting for the writer holds a
    /// few hundred bytes a record instead of a parsed tree several times the record's
    /// size).
    pub fn prepare(&mut self) {
        for a in &mut self.assets {
            a.encoded();
            a.raw = serde_json::Value::Null;
        }
        for f in &mut self.findings {
            f.encoded();
            f.raw = serde_json::Value::Null;
        }
    }
}

/// What a batch did to the stored records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Findings whose external id this run had already written (earlier in the batch or
    /// in an earlier batch), so the later record was written over the earlier one; they
    /// are in `updated` or `unchanged` too. Told from the stored row's `last_run_id`,
    /// read by the lookup that precedes every write: the store keeps no set of ids.
    pub repeated: u64,
    /// The external id of the batch's first repeat.
    pub first_repeated: Option<String>,
}

impl BatchCounts {
    /// Counts a finding whose id the run wrote before.
    pub(crate) fn repeat(&mut self, external_id: &str) {
        self.repeated += 1;
        if self.first_repeated.is_none() {
            self.first_repeated = Some(external_id.to_string());
        }
    }
}

/// How a run ends, handed to [`crate::Store::finish_run`].
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub state: RunState,
    /// The connector's state after the run (the runner decides, e.g. Processed for an abort).
    pub connector_state: ConnectorState,
    pub reason: Option<String>,
    pub counters: RunCounters,
    /// The new delta cursor; written only when `state` is Processed, and while the
    /// connector still fetches from `scope`.
    pub cursor: Option<DateTime<Utc>>,
    /// Where the run fetched from (`None`: not checked). An edit during the run (another
    /// server, another application filter) clears the cursor; the run's end wrote its own
    /// back, and the next sync was a delta of the new scope, which fetched nothing of it.
    pub scope: Option<RunScope>,
}

/// A connector's address and settings as a run began (see [`RunEnd::scope`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RunScope {
    pub url: Option<String>,
    pub settings: serde_json::Value,
}

impl RunScope {
    pub fn of(c: &Connector) -> RunScope {
        RunScope {
            url: c.url.clone(),
            settings: c.settings.clone(),
        }
    }

    /// Whether `c` still fetches from there: the same address and settings (a changed
    /// schedule or map counts too; the cursor then stays where it was, and the next delta
    /// only asks for a little more).
    pub fn holds(&self, c: &Connector) -> bool {
        c.url == self.url && c.settings == self.settings
    }
}

/// An asset as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredAsset {
    pub id: i64,
    pub connector: String,
    #[serde(flatten)]
    pub asset: Asset,
    pub active: bool,
    pub findings: u64,
    pub open_findings: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Risk 0–1000 from the open findings (`model::risk::asset_risk`).
    pub risk: u16,
}

/// A finding as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredFinding {
    pub id: i64,
    pub connector: String,
    pub asset_name: Option<String>,
    pub asset_url: Option<String>,
    #[serde(flatten)]
    pub finding: Finding,
    pub fingerprint: String,
    pub active: bool,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Risk 0–1000 (`model::risk::finding_risk`), as of the last sync or `rescore`.
    pub risk: u16,
    /// Whether its CVE is in the known-exploited list (`kev import`), as of this read.
    pub kev: bool,
}

/// One status change of a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub run_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub old_status: Option<Status>,
    pub new_status: Status,
}

/// Which records a listing returns.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub connector: Option<String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Only records matching this filter (its entity must be the one listed).
    pub filter: Option<query::Filter>,
    /// Sort keys; empty keeps the listing's default order. Ties break by id.
    pub sort: Vec<query::Sort>,
    /// Findings only: start after this row of an earlier page of the same sort
    /// ([`FindingPage::next`]) instead of skipping `offset` rows.
    pub after: Option<query::Cursor>,
}

impl ListQuery {
    /// Whether the query can list `entity`: its filter and sort keys are of that
    /// entity's fields, and a cursor only continues findings.
    pub fn check(&self, entity: query::Entity) -> crate::Result<()> {
        if let Some(f) = &self.filter
            && f.entity != entity
        {
            return Err(crate::StoreError::FilterEntity {
                expected: entity.as_str(),
                found: f.entity.as_str(),
            });
        }
        let foreign = |s: &query::Sort| !entity.fields().iter().any(|f| std::ptr::eq(f, s.field));
        if self.sort.iter().any(foreign) {
            return Err(crate::StoreError::FilterEntity {
                expected: entity.as_str(),
                found: "another entity (a sort key)",
            });
        }
        if self.after.is_some() && entity != query::Entity::Findings {
            return Err(query::CursorError::NotFindings.into());
        }
        Ok(())
    }

    /// A findings listing's sort keys: the asked-for ones, else the default (most severe
    /// first); ties break by id after them.
    pub fn finding_keys(&self) -> Vec<query::Sort> {
        if self.sort.is_empty() {
            query::Sort::findings_default()
        } else {
            self.sort.clone()
        }
    }

    /// A findings listing's `ORDER BY` terms: [`ListQuery::finding_keys`], then the id.
    pub fn finding_order(&self, dialect: query::Dialect) -> String {
        self.finding_keys()
            .iter()
            .map(|k| k.sql(dialect))
            .chain(["f.id".to_string()])
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One page of a findings listing.
#[derive(Debug, Clone, Default)]
pub struct FindingPage {
    pub items: Vec<StoredFinding>,
    /// Where the next page starts, when this one was full (it may then be empty).
    pub next: Option<query::Cursor>,
}

/// What `kev import` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KevImport {
    /// CVE ids in the file.
    pub read: u64,
    /// CVE ids known before.
    pub before: u64,
    /// CVE ids known now.
    pub total: u64,
    /// Stored findings whose CVE is now known exploited.
    pub matching_findings: u64,
}

/// What `rescore` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RescoreCounts {
    pub findings: u64,
    /// Findings whose score changed.
    pub changed: u64,
    /// Assets with open findings (the others are 0).
    pub assets: u64,
}

/// Counts for the demo summary and dashboards.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub assets: u64,
    pub findings: u64,
    pub by_severity: Vec<(Severity, u64)>,
    pub by_status: Vec<(Status, u64)>,
}

impl Summary {
    /// Counts `n` findings of the stored severity score `severity` in `by_severity` (a
    /// score the model does not know is left out of it).
    pub fn add_severity(&mut self, severity: i64, n: u64) {
        if let Some(sev) = Severity::from_score(severity) {
            add_to(&mut self.by_severity, sev, n);
        }
    }

    /// Counts `n` findings of the stored status `status` in `by_status` (a status the
    /// model does not know is left out of it).
    pub fn add_status(&mut self, status: &str, n: u64) {
        if let Ok(st) = status.parse::<Status>() {
            add_to(&mut self.by_status, st, n);
        }
    }

    /// The summary in the order both stores give it: most severe first, and statuses
    /// most frequent first (then by name).
    pub fn sorted(mut self) -> Summary {
        self.by_severity
            .sort_by_key(|(sev, _)| std::cmp::Reverse(sev.score()));
        self.by_status
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
        self
    }
}

fn add_to<K: PartialEq>(counts: &mut Vec<(K, u64)>, key: K, n: u64) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, total)) => *total += n,
        None => counts.push((key, n)),
    }
}

/// Which kind of record a raw record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    Asset,
    /// A finding, with the external id of its asset.
    Finding,
}

/// What [`crate::Store::for_each_raw`] calls with each stored record: its kind, its
/// asset's external id, the raw record and, for a finding, its stored status.
pub type RawVisitor<'a> =
    dyn FnMut(RawKind, &str, serde_json::Value, Option<StoredStatus>) -> crate::Result<()> + 'a;

/// A stored finding's status as a remap needs it: the status, and whether a full run
/// set it by closing the finding because it no longer saw it (its content hash carries
/// [`crate::raw::CLOSED_UNSEEN_MARK`]) rather than the record's own status mapping to
/// CLOSED. Only the first is what the runs found; the second follows the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredStatus {
    pub status: model::Status,
    pub closed_unseen: bool,
}

impl StoredStatus {
    /// The stored `status` with the row's content hash. Before the mark, a close
    /// emptied the hash: an empty hash on a CLOSED finding says the same.
    pub fn from_row(status: model::Status, content_hash: &str) -> StoredStatus {
        StoredStatus {
            status,
            closed_unseen: status == model::Status::Closed
                && (content_hash.is_empty()
                    || content_hash.starts_with(crate::raw::CLOSED_UNSEEN_MARK)),
        }
    }
}

/// An API token of `serve` as stored: a name and the SHA-256 of its secret, never the
/// secret itself (it is shown once, when created).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, so a person can tell tokens apart.
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A point of the open-findings chart: how many findings were open after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpenPoint {
    pub at: DateTime<Utc>,
    pub open: u64,
}
