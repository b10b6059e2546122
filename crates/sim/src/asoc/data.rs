//! The simulated tenant's data: a compact in-memory store of apps and their
//! issues, generated deterministically from a seed, and the mutations that
//! delta-sync tests run against it.
//!
//! An issue is a 64-byte struct of small integers (indices into the
//! [`catalog`](super::catalog) tables plus three timestamps); strings such as
//! `Location` are built only when a page is serialized. With its id index, a
//! simulator holding a million issues runs in about 135 MB resident.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

use super::catalog::*;
use crate::odata::format_guid;

/// Marks a null timestamp (`LastFound`).
pub const NO_DATE: i64 = i64::MIN;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// The instant generated data is anchored to: every generated date is at or
/// before it, so the same seed gives the same dates whenever the sim starts.
pub fn data_anchor_ms() -> i64 {
    let fixed = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp_millis());
    // Only a machine whose clock is behind the anchor needs this.
    fixed.min(Utc::now().timestamp_millis() - DAY)
}

/// SplitMix64: a cheap, well-mixed hash for deriving seeds and fault picks.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator's PRNG: SplitMix64. Tiny and fast even in unoptimized
/// test builds (where ChaCha took ~9 s for a million issues); statistical
/// quality is ample for test data, and nothing here needs to be secret.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn seed_from_u64(seed: u64) -> SimRng {
        SimRng(splitmix64(seed))
    }
}

impl RngCore for SimRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

fn random_uuid(rng: &mut SimRng) -> u128 {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .as_u128()
}

/// Hashes ids that are already random (v4 UUIDs): folds the two halves
/// instead of running SipHash, which dominated index building.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 ^= (v as u64) ^ ((v >> 64) as u64).rotate_left(17);
    }
}

/// A map keyed by random ids.
pub type IdMap<V> = HashMap<u128, V, std::hash::BuildHasherDefault<IdHasher>>;

/// One issue, compactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// `Id`.
    pub id: u128,
    /// `DateCreated`, ms.
    pub date_created: i64,
    /// `LastUpdated`, ms.
    pub last_updated: i64,
    /// `LastFound`, ms, or [`NO_DATE`].
    pub last_found: i64,
    /// `Port`.
    pub port: u16,
    /// Which scan of the app found it (`ScanName`).
    pub scan: u16,
    /// Index into [`ISSUE_TYPES`].
    pub kind: u8,
    /// Index into [`SEVERITIES`].
    pub severity: u8,
    /// Index into [`STATUSES`].
    pub status: u8,
    /// CVSS score in tenths; 0 means null.
    pub cvss: u8,
    /// Index into [`CVSS_VERSIONS`] of the version `cvss` is scored in (served as
    /// `None` while `cvss` is null).
    pub cvss_version: u8,
    /// `Cwe` is served null (the spec's "int or null") instead of the type's CWE.
    pub no_cwe: bool,
    /// 1 + index into [`CVES`]; 0 means none.
    pub cve: u8,
    /// Index into [`PATHS`].
    pub path: u8,
    /// Index into the element pool of the issue type.
    pub element: u8,
    /// `Scheme` is https (else http).
    pub https: bool,
    /// `IsNewInScope`.
    pub new_in_scope: bool,
    /// Index into [`DIFF_RESULTS`].
    pub diff: u8,
}

impl Issue {
    /// The issue type row.
    pub fn issue_type(&self) -> &'static IssueType {
        &ISSUE_TYPES[self.kind as usize % ISSUE_TYPES.len()]
    }
}

/// An app's issue counters, kept consistent with its issues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Issues per severity, indexed like [`SEVERITIES`] (all statuses).
    pub by_severity: [u32; 6],
    /// Issues with status InProgress.
    pub in_progress: u32,
    /// Issues with status New.
    pub new: u32,
    /// Issues with status Open.
    pub open: u32,
    /// All issues served for the app.
    pub total: u32,
}

impl Counters {
    fn of(issues: &[Issue]) -> Counters {
        let mut c = Counters::default();
        for i in issues {
            c.by_severity[(i.severity as usize).min(5)] += 1;
            match i.status {
                ST_IN_PROGRESS => c.in_progress += 1,
                ST_NEW => c.new += 1,
                ST_OPEN => c.open += 1,
                _ => {}
            }
        }
        c.total = issues.len() as u32;
        c
    }

    /// The highest severity present, if any (index into [`SEVERITIES`]).
    pub fn max_severity(&self) -> Option<u8> {
        (0..6u8).rev().find(|&s| self.by_severity[s as usize] > 0)
    }

    /// `RiskRating` index into [`RISK_RATINGS`].
    pub fn risk_rating(&self) -> u8 {
        match self.max_severity() {
            Some(SEV_CRITICAL) => 4,
            Some(SEV_HIGH) => 3,
            Some(SEV_MEDIUM) => 2,
            Some(SEV_UNDETERMINED) | None => 0,
            Some(_) => 1,
        }
    }
}

/// One app with its issues.
#[derive(Debug, Clone)]
pub struct App {
    /// `Id`.
    pub id: u128,
    /// The number in its name and host.
    pub number: u32,
    /// `Name`.
    pub name: String,
    /// Host all its issues are under.
    pub host: String,
    /// Whether `Url` is served (else null).
    pub has_url: bool,
    /// `Description`.
    pub description: String,
    /// Index into [`BUSINESS_UNITS`].
    pub business_unit: u8,
    /// Index into [`BUSINESS_IMPACTS`].
    pub business_impact: u8,
    /// Index into [`CREATORS`].
    pub creator: u8,
    /// `DateCreated`, ms.
    pub date_created: i64,
    /// `LastUpdated`, ms.
    pub last_updated: i64,
    /// `TotalScans`.
    pub total_scans: u16,
    /// Removed by a mutation: no longer served.
    pub removed: bool,
    /// Issues, in the default (stable) order: DateCreated, then creation.
    pub issues: Vec<Issue>,
    /// Counters over `issues`.
    pub counters: Counters,
}

impl App {
    /// `Url` as served.
    pub fn url(&self) -> Option<String> {
        self.has_url.then(|| format!("https://{}", self.host))
    }

    /// `Domain` of its issues: the host less its first label.
    pub fn domain(&self) -> &str {
        self.host
            .split_once('.')
            .map_or(self.host.as_str(), |(_, d)| d)
    }
}

/// What one call of [`Data::mutate`] changed. Every changed or added record
/// has `LastUpdated == at`, so `$filter=LastUpdated ge <at>` returns exactly
/// `changed_issue_ids` (per app) and `changed_app_ids`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MutationSummary {
    /// The simulated instant of the change (LastUpdated of every change).
    pub at: DateTime<Utc>,
    /// Issues whose Status changed (Open→Fixed, Fixed→Reopened, →Noise, …).
    pub status_changed: usize,
    /// Issues with another field changed (Severity or LastFound).
    pub fields_updated: usize,
    /// Issues added (to existing apps and to new apps).
    pub issues_added: usize,
    /// Apps added.
    pub apps_added: usize,
    /// Apps removed (with their issues).
    pub apps_removed: usize,
    /// Existing apps whose issues (and so counters) changed.
    pub apps_updated: usize,
    /// Issues that left with removed apps.
    pub issues_removed: usize,
    /// Every issue with `LastUpdated == at` (changed and added), sorted.
    pub changed_issue_ids: Vec<String>,
    /// The added issues among them, sorted.
    pub added_issue_ids: Vec<String>,
    /// Every app with `LastUpdated == at` (updated and added), sorted.
    pub changed_app_ids: Vec<String>,
    /// The added apps among them, sorted.
    pub added_app_ids: Vec<String>,
    /// Apps no longer served, sorted.
    pub removed_app_ids: Vec<String>,
}

/// The whole data set.
#[derive(Debug, Clone)]
pub struct Data {
    /// Apps in creation order, removed ones kept as tombstones.
    pub apps: Vec<App>,
    /// App id → position in `apps`.
    app_index: IdMap<u32>,
    /// Issue id → (app position, issue position).
    issue_index: IdMap<(u32, u32)>,
    /// The mean issues per app asked for (sizes apps added by mutations).
    mean_issues: usize,
    /// Number for the next app created.
    next_number: u32,
}

fn pick_weighted(rng: &mut SimRng, weights: impl Iterator<Item = u32> + Clone) -> usize {
    let total: u32 = weights.clone().sum();
    let mut r = rng.random_range(0..total.max(1));
    for (i, w) in weights.enumerate() {
        if r < w {
            return i;
        }
        r -= w;
    }
    0
}

fn cvss_for(rng: &mut SimRng, severity: u8) -> u8 {
    match severity {
        SEV_CRITICAL => rng.random_range(90..=100),
        SEV_HIGH => rng.random_range(70..=89),
        SEV_MEDIUM => rng.random_range(40..=69),
        SEV_LOW => rng.random_range(10..=39),
        _ => 0,
    }
}

/// Per thousand issues: `Severity` Undetermined (issue types without a CVE only; they
/// come without a CVSS score).
const UNDETERMINED_PER_MILLE: u64 = 10;
/// Per thousand issues: CVSS scored in version 2.0 (`CvssVersion` Cvss20).
const CVSS20_PER_MILLE: u64 = 30;
/// Per thousand issues: CVSS scored in version 3.0 (the rest are 3.1).
const CVSS30_PER_MILLE: u64 = 70;
/// Per thousand issues: `Cwe` null.
const NO_CWE_PER_MILLE: u64 = 20;

/// Gives an issue the rarer shapes ASoC serves — `Severity` Undetermined, a CVSS 2.0 or
/// 3.0 score, a null `Cwe` — at the shares above. Each is picked from a hash of the
/// issue's id rather than drawn from the generator's stream, so every drawn value (ids,
/// dates, statuses, how issues spread over apps) is what the seed gave before these
/// variants existed, and tests that count issues or apps keep their numbers.
fn apply_variants(issue: &mut Issue) {
    let h =
        splitmix64(issue.id as u64 ^ splitmix64((issue.id >> 64) as u64) ^ 0x7661_7269_616e_7473);
    let roll = |shift: u32| (h >> shift) % 1000;
    if !issue.issue_type().has_cve && roll(0) < UNDETERMINED_PER_MILLE {
        issue.severity = SEV_UNDETERMINED;
        issue.cvss = 0;
    }
    issue.cvss_version = match roll(20) {
        r if r < CVSS20_PER_MILLE => CVSS20,
        r if r < CVSS20_PER_MILLE + CVSS30_PER_MILLE => CVSS30,
        _ => CVSS31,
    };
    issue.no_cwe = roll(40) < NO_CWE_PER_MILLE;
}

/// Draws one issue for `app` created somewhere in `[from, to]`.
fn gen_issue(rng: &mut SimRng, total_scans: u16, from: i64, to: i64) -> Issue {
    let kind = pick_weighted(rng, ISSUE_TYPES.iter().map(|t| t.weight));
    let ty = &ISSUE_TYPES[kind];
    let mut severity = ty.severity;
    let shift: f64 = rng.random();
    if shift < 0.08 && severity < SEV_CRITICAL {
        severity += 1;
    } else if shift < 0.18 && severity > SEV_INFO {
        severity -= 1;
    }
    let mut cve = 0;
    let mut cvss = cvss_for(rng, severity);
    if ty.has_cve {
        let c = rng.random_range(0..CVES.len());
        cve = c as u8 + 1;
        cvss = CVES[c].1;
        severity = match cvss {
            90.. => SEV_CRITICAL,
            70..=89 => SEV_HIGH,
            _ => SEV_MEDIUM,
        };
    }
    let status = pick_weighted(rng, STATUS_WEIGHTS.iter().copied()) as u8;
    let span = (to - from).max(1);
    let date_created = from + rng.random_range(0..span);
    let date_created = date_created - date_created.rem_euclid(1000);
    let upd_span = (to - date_created).max(1);
    let last_updated = (date_created + rng.random_range(0..upd_span)).max(date_created);
    let last_updated = last_updated - last_updated.rem_euclid(1000);
    let last_found = if rng.random_bool(0.05) {
        NO_DATE
    } else {
        let f = date_created + rng.random_range(0..(last_updated - date_created).max(1));
        (f - f.rem_euclid(1000)).max(date_created)
    };
    let https = rng.random_bool(0.9);
    let port = match (https, rng.random_bool(0.85)) {
        (true, true) => 443,
        (true, false) => 8443,
        (false, true) => 80,
        (false, false) => 8080,
    };
    let element = rng.random_range(0..ty.element.pool().len()) as u8;
    let mut issue = Issue {
        id: random_uuid(rng),
        date_created,
        last_updated,
        last_found,
        port,
        scan: rng.random_range(1..=total_scans.max(1)),
        kind: kind as u8,
        severity,
        status,
        cvss,
        cvss_version: CVSS31,
        no_cwe: false,
        cve,
        path: rng.random_range(0..PATHS.len()) as u8,
        element,
        https,
        new_in_scope: status == ST_NEW,
        diff: u8::from(status == ST_NEW),
    };
    apply_variants(&mut issue);
    issue
}

/// Draws one app (without issues) numbered `number`, created in `[from, to]`.
fn gen_app(rng: &mut SimRng, number: u32, from: i64, to: i64) -> App {
    let (area, slug, bu) = AREAS[rng.random_range(0..AREAS.len())];
    let (component, about) = COMPONENTS[rng.random_range(0..COMPONENTS.len())];
    let mut name = format!("{area} {component} {number}");
    name.truncate(64);
    let date_created = from + rng.random_range(0..(to - from).max(1));
    let date_created = date_created - date_created.rem_euclid(1000);
    App {
        id: random_uuid(rng),
        number,
        name,
        host: format!("{slug}{number}.example.com"),
        // A few apps (1 in 16) have no Url.
        has_url: number % 16 != 7,
        description: format!(
            "{about} of the {} business ({}).",
            area.to_lowercase(),
            BUSINESS_UNITS[bu as usize].0
        ),
        business_unit: bu,
        business_impact: rng.random_range(0..BUSINESS_IMPACTS.len()) as u8,
        creator: rng.random_range(0..CREATORS.len()) as u8,
        date_created,
        last_updated: date_created,
        total_scans: rng.random_range(1..=40),
        removed: false,
        issues: Vec::new(),
        counters: Counters::default(),
    }
}

/// Generates app `number` (1-based) with `count` issues, from its own seed so
/// apps can be built in parallel and still come out the same.
fn gen_app_with_issues(seed: u64, number: u32, count: usize, anchor: i64) -> App {
    let mut rng = SimRng::seed_from_u64(splitmix64(seed ^ splitmix64(u64::from(number))));
    let mut app = gen_app(&mut rng, number, anchor - 1000 * DAY, anchor - 30 * DAY);
    let from = app.date_created + HOUR;
    let mut issues: Vec<Issue> = (0..count)
        .map(|_| gen_issue(&mut rng, app.total_scans, from, anchor - DAY))
        .collect();
    issues.sort_by_key(|i| (i.date_created, i.id));
    app.last_updated = issues
        .iter()
        .map(|i| i.last_updated)
        .max()
        .unwrap_or(app.date_created)
        .max(app.date_created);
    app.counters = Counters::of(&issues);
    app.issues = issues;
    app
}

/// Splits `total` issues over `apps` apps: some apps get none, most are near
/// the mean, a few are large. The sum is exactly `total` (when apps > 0).
fn allocate(rng: &mut SimRng, apps: usize, total: usize) -> Vec<usize> {
    let mut weights: Vec<f64> = (0..apps)
        .map(|_| {
            if apps >= 4 && rng.random_bool(0.08) {
                0.0
            } else {
                let w = 0.55 + rng.random::<f64>() * 0.9;
                if rng.random_bool(0.05) { w * 2.5 } else { w }
            }
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        weights.iter_mut().for_each(|w| *w = 1.0);
    }
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = total.saturating_sub(counts.iter().sum());
    let mut order: Vec<usize> = (0..apps).filter(|&i| weights[i] > 0.0).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    let mut k = 0;
    while left > 0 && !order.is_empty() {
        counts[order[k % order.len()]] += 1;
        left -= 1;
        k += 1;
    }
    counts
}

impl Data {
    /// Generates `apps` apps holding `apps * issues_per_app` issues in all,
    /// deterministically from `seed`.
    pub fn generate(apps: usize, issues_per_app: usize, seed: u64) -> Data {
        let anchor = data_anchor_ms();
        let mut rng = SimRng::seed_from_u64(seed);
        let counts = allocate(&mut rng, apps, apps.saturating_mul(issues_per_app));
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let chunk = apps.div_ceil(threads).max(1);
        let mut built: Vec<App> = Vec::with_capacity(apps);
        std::thread::scope(|s| {
            let handles: Vec<_> = counts
                .chunks(chunk)
                .enumerate()
                .map(|(c, counts)| {
                    s.spawn(move || {
                        counts
                            .iter()
                            .enumerate()
                            .map(|(i, &n)| {
                                gen_app_with_issues(seed, (c * chunk + i + 1) as u32, n, anchor)
                            })
                            .collect::<Vec<App>>()
                    })
                })
                .collect();
            for h in handles {
                match h.join() {
                    Ok(part) => built.extend(part),
                    Err(p) => std::panic::resume_unwind(p),
                }
            }
        });
        // Serve apps in creation order (ties by number), as the API's stable order.
        built.sort_by_key(|a| (a.date_created, a.number));
        let mut data = Data {
            apps: built,
            app_index: IdMap::default(),
            issue_index: IdMap::default(),
            mean_issues: issues_per_app,
            next_number: apps as u32 + 1,
        };
        data.reindex();
        data
    }

    fn reindex(&mut self) {
        self.app_index = self
            .apps
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id, i as u32))
            .collect();
        let total = self.total_issues();
        let mut idx = IdMap::with_capacity_and_hasher(total, Default::default());
        for (a, app) in self.apps.iter().enumerate() {
            if app.removed {
                continue;
            }
            for (i, issue) in app.issues.iter().enumerate() {
                idx.insert(issue.id, (a as u32, i as u32));
            }
        }
        self.issue_index = idx;
    }

    /// Deletes the served app with this id (with its issues), as a user would; whether
    /// there was one.
    pub fn remove_app(&mut self, id: u128) -> bool {
        let Some(&i) = self.app_index.get(&id) else {
            return false;
        };
        let app = &mut self.apps[i as usize];
        if app.removed {
            return false;
        }
        app.removed = true;
        for issue in app.issues.drain(..) {
            self.issue_index.remove(&issue.id);
        }
        true
    }

    /// Apps currently served, in the default order.
    pub fn live_apps(&self) -> impl Iterator<Item = &App> {
        self.apps.iter().filter(|a| !a.removed)
    }

    /// The served app with this id.
    pub fn app(&self, id: u128) -> Option<&App> {
        self.app_index
            .get(&id)
            .map(|&i| &self.apps[i as usize])
            .filter(|a| !a.removed)
    }

    /// The served issue with this id, with its app.
    pub fn issue(&self, id: u128) -> Option<(&App, &Issue)> {
        let &(a, i) = self.issue_index.get(&id)?;
        let app = self.apps.get(a as usize).filter(|a| !a.removed)?;
        Some((app, app.issues.get(i as usize)?))
    }

    /// Issues currently served, over all apps.
    pub fn total_issues(&self) -> usize {
        self.live_apps().map(|a| a.issues.len()).sum()
    }

    /// Changes about `rate` of all issues at instant `at` (ms), drawing every
    /// choice from `seed`. See [`MutationSummary`].
    pub fn mutate(&mut self, rate: f64, seed: u64, at: i64) -> MutationSummary {
        let mut rng = SimRng::seed_from_u64(splitmix64(seed ^ 0x6d75_7461_7465));
        let mut sum = MutationSummary {
            at: Utc.timestamp_millis_opt(at).single().unwrap_or_default(),
            ..MutationSummary::default()
        };
        let rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if rate <= 0.0 {
            return sum;
        }
        let mut touched_apps: HashSet<u32> = HashSet::new();
        let mut added_apps: Vec<u32> = Vec::new();

        // Occasionally an app goes away (never the last one).
        let live: Vec<u32> = (0..self.apps.len() as u32)
            .filter(|&i| !self.apps[i as usize].removed)
            .collect();
        if live.len() > 1 && rng.random_bool(0.3) {
            let victim = live[rng.random_range(0..live.len())];
            let app = &mut self.apps[victim as usize];
            app.removed = true;
            sum.apps_removed = 1;
            sum.issues_removed = app.issues.len();
            sum.removed_app_ids.push(format_guid(app.id));
            for i in app.issues.drain(..) {
                self.issue_index.remove(&i.id);
            }
            app.issues.shrink_to_fit();
        }

        // Issue changes, over the apps still served.
        let live: Vec<u32> = (0..self.apps.len() as u32)
            .filter(|&i| !self.apps[i as usize].removed)
            .collect();
        let mut prefix: Vec<usize> = Vec::with_capacity(live.len());
        let mut total = 0usize;
        for &a in &live {
            total += self.apps[a as usize].issues.len();
            prefix.push(total);
        }
        let n = ((rate * total as f64).round() as usize).max(1);
        let mut changed: HashSet<(u32, u32)> = HashSet::new();
        let mut added: Vec<(u32, u32)> = Vec::new();
        for _ in 0..n {
            let r: f64 = rng.random();
            if (r < 0.2 || total == 0) && !live.is_empty() {
                let a = live[rng.random_range(0..live.len())];
                let pos = self.add_issue(&mut rng, a, at);
                added.push((a, pos));
                touched_apps.insert(a);
                continue;
            }
            if total == 0 {
                break;
            }
            // An existing issue not yet changed this round (a few tries).
            let mut target = None;
            for _ in 0..4 {
                let k = rng.random_range(0..total);
                let slot = prefix.partition_point(|&p| p <= k);
                let a = live[slot];
                let base = if slot == 0 { 0 } else { prefix[slot - 1] };
                let key = (a, (k - base) as u32);
                if !changed.contains(&key) {
                    target = Some(key);
                    break;
                }
            }
            let Some((a, i)) = target else { continue };
            let issue = &mut self.apps[a as usize].issues[i as usize];
            if r < 0.6 {
                let to = match issue.status {
                    ST_OPEN | ST_NEW | ST_IN_PROGRESS | ST_REOPENED => {
                        if rng.random_bool(0.8) {
                            ST_FIXED
                        } else {
                            ST_NOISE
                        }
                    }
                    ST_FIXED | ST_PASSED => ST_REOPENED,
                    _ => ST_OPEN,
                };
                if matches!(to, ST_REOPENED | ST_OPEN) {
                    issue.last_found = at;
                }
                issue.status = to;
                issue.new_in_scope = false;
                issue.diff = 0;
                sum.status_changed += 1;
            } else {
                if rng.random_bool(0.5) && !issue.issue_type().has_cve {
                    let up = match issue.severity {
                        s if s >= SEV_CRITICAL => false,
                        s if s <= SEV_INFO => true,
                        _ => rng.random_bool(0.5),
                    };
                    issue.severity = if up {
                        issue.severity + 1
                    } else {
                        issue.severity - 1
                    };
                    issue.cvss = cvss_for(&mut rng, issue.severity);
                } else {
                    issue.last_found = at;
                }
                sum.fields_updated += 1;
            }
            issue.last_updated = at;
            changed.insert((a, i));
            touched_apps.insert(a);
        }

        // Occasionally a new app, with a few issues of its own.
        if rng.random_bool(0.5) {
            let number = self.next_number;
            self.next_number += 1;
            let mut app = gen_app(&mut rng, number, at, at);
            app.date_created = at;
            app.last_updated = at;
            app.has_url = true;
            let id = app.id;
            self.apps.push(app);
            let a = (self.apps.len() - 1) as u32;
            self.app_index.insert(id, a);
            let count = rng.random_range(1..=(self.mean_issues / 10).max(1));
            for _ in 0..count {
                let pos = self.add_issue(&mut rng, a, at);
                added.push((a, pos));
            }
            added_apps.push(a);
            sum.apps_added = 1;
        }

        for &a in touched_apps.iter().chain(added_apps.iter()) {
            let app = &mut self.apps[a as usize];
            app.counters = Counters::of(&app.issues);
            app.last_updated = at;
        }
        let id_of =
            |d: &Data, (a, i): (u32, u32)| format_guid(d.apps[a as usize].issues[i as usize].id);
        sum.issues_added = added.len();
        sum.apps_updated = touched_apps
            .iter()
            .filter(|a| !added_apps.contains(a))
            .count();
        sum.added_issue_ids = added.iter().map(|&k| id_of(self, k)).collect();
        sum.changed_issue_ids = changed
            .iter()
            .chain(added.iter())
            .map(|&k| id_of(self, k))
            .collect();
        sum.added_app_ids = added_apps
            .iter()
            .map(|&a| format_guid(self.apps[a as usize].id))
            .collect();
        sum.changed_app_ids = touched_apps
            .iter()
            .chain(added_apps.iter())
            .collect::<HashSet<_>>()
            .into_iter()
            .map(|&a| format_guid(self.apps[a as usize].id))
            .collect();
        for v in [
            &mut sum.added_issue_ids,
            &mut sum.changed_issue_ids,
            &mut sum.added_app_ids,
            &mut sum.changed_app_ids,
            &mut sum.removed_app_ids,
        ] {
            v.sort_unstable();
        }
        sum
    }

    /// Appends a new issue found at `at` to app `a`; returns its position.
    fn add_issue(&mut self, rng: &mut SimRng, a: u32, at: i64) -> u32 {
        let app = &mut self.apps[a as usize];
        let mut issue = gen_issue(rng, app.total_scans, at, at);
        while self.issue_index.contains_key(&issue.id) {
            issue.id = random_uuid(rng);
        }
        issue.date_created = at;
        issue.last_updated = at;
        issue.last_found = at;
        issue.status = ST_NEW;
        issue.new_in_scope = true;
        issue.diff = 1;
        issue.scan = app.total_scans;
        let pos = app.issues.len() as u32;
        self.issue_index.insert(issue.id, (a, pos));
        app.issues.push(issue);
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_is_compact() {
        assert!(
            std::mem::size_of::<Issue>() <= 64,
            "{}",
            std::mem::size_of::<Issue>()
        );
    }

    #[test]
    fn allocation_sums_exactly_and_leaves_some_apps_empty() {
        let mut rng = SimRng::seed_from_u64(42);
        let c = allocate(&mut rng, 200, 200 * 400);
        assert_eq!(c.iter().sum::<usize>(), 80_000);
        assert!(c.contains(&0));
        let near = c.iter().filter(|&&n| (200..=600).contains(&n)).count();
        assert!(near > 140, "{near}");
        let mut rng = SimRng::seed_from_u64(1);
        assert_eq!(allocate(&mut rng, 1, 7), vec![7]);
        assert!(allocate(&mut rng, 0, 0).is_empty());
    }

    #[test]
    fn generation_is_deterministic_and_consistent() {
        let a = Data::generate(20, 50, 7);
        let b = Data::generate(20, 50, 7);
        let c = Data::generate(20, 50, 8);
        assert_eq!(a.total_issues(), 1000);
        for (x, y) in a.apps.iter().zip(&b.apps) {
            assert_eq!(x.id, y.id);
            assert_eq!(x.issues, y.issues);
        }
        assert_ne!(a.apps[0].id, c.apps[0].id);
        for app in &a.apps {
            assert_eq!(app.counters, Counters::of(&app.issues));
            assert!(app.name.len() <= 64);
            for w in app.issues.windows(2) {
                assert!(w[0].date_created <= w[1].date_created);
            }
            for i in &app.issues {
                assert!(i.date_created >= app.date_created);
                assert!(i.last_updated >= i.date_created);
                assert!(i.last_updated <= app.last_updated);
                assert!(a.issue(i.id).is_some());
            }
        }
    }

    #[test]
    fn mutation_touches_about_rate_and_stamps_changes() {
        let mut d = Data::generate(30, 100, 3);
        let before = d.clone();
        let at = data_anchor_ms() + 10 * DAY;
        let s = d.mutate(0.05, 9, at);
        assert_eq!(
            s.status_changed + s.fields_updated + s.issues_added,
            s.changed_issue_ids.len(),
            "{s:?}"
        );
        let n = s.status_changed + s.fields_updated;
        assert!(n > 60 && n + s.issues_added < 400, "{s:?}");
        let stamped: usize = d
            .live_apps()
            .flat_map(|a| &a.issues)
            .filter(|i| i.last_updated == at)
            .count();
        assert_eq!(stamped, s.changed_issue_ids.len());
        for app in d.live_apps() {
            assert_eq!(app.counters, Counters::of(&app.issues));
        }
        assert_eq!(
            d.total_issues() + s.issues_removed,
            before.total_issues() + s.issues_added
        );
        // Same seed, same change.
        let mut again = before.clone();
        assert_eq!(again.mutate(0.05, 9, at), s);
    }
}
