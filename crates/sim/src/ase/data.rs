//! The ASE simulator's data: a deterministic, seeded set of applications and issues,
//! and how each is served — issue attributes keyed by display names, dates in the
//! server's locale form (`11/18/24 6:09 PM`, local times of its zone: [`ServedDates`]),
//! values HTML-escaped as ASE sends them. The data's own times are UTC.

use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;
use serde_json::{Value, json};

pub use super::dates::{DATE_FORMAT, ServedDates};
use crate::asoc::catalog::{AREAS, COMPONENTS, ISSUE_TYPES, IssueType, PATHS};
use crate::asoc::data::{SimRng, data_anchor_ms, splitmix64};

/// ASE's severity names, in the order the generator indexes them.
pub const SEVERITIES: &[&str] = &[
    "Undetermined",
    "Information",
    "Low",
    "Medium",
    "High",
    "Critical",
];

/// ASE's issue statuses with their weights (per thousand) in generated data.
pub const STATUSES: &[(&str, u32)] = &[
    ("Open", 550),
    ("New", 100),
    ("InProgress", 100),
    ("Reopened", 50),
    ("Fixed", 100),
    ("Passed", 50),
    ("Noise", 50),
];

const DAY: i64 = 24 * 3_600_000;

/// Business units applications belong to.
const BUSINESS_UNITS: &[&str] = &["Retail", "Finance", "Supply Chain", "People", "Platform"];
/// Testing statuses of applications.
const TESTING: &[&str] = &["In Progress", "Complete", "Not Started"];

/// One generated issue, compactly.
#[derive(Debug, Clone)]
pub struct AseIssue {
    /// The issue id (served as a string).
    pub id: u64,
    /// Index into [`ISSUE_TYPES`].
    pub kind: u16,
    /// Severity served verbatim (normally one of [`SEVERITIES`]).
    pub severity: String,
    /// Index into [`STATUSES`].
    pub status: u8,
    path: u16,
    element: u16,
    /// The location carries a query string (served with `&amp;`).
    query: bool,
    /// The location is followed by extra text after a space.
    extra: bool,
    /// No CWE and no threat class (an informational without identifiers).
    pub no_ids: bool,
    created_ms: i64,
    updated_ms: i64,
    found_ms: i64,
    cvss_tenths: u8,
    variants: u8,
}

/// An issue's times as the data keeps them (UTC), whatever zone the server writes them
/// in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueTimes {
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub found: DateTime<Utc>,
}

/// Milliseconds since the epoch as an instant.
fn instant(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl AseIssue {
    /// Its times (UTC).
    pub fn times(&self) -> IssueTimes {
        IssueTimes {
            created: instant(self.created_ms),
            updated: instant(self.updated_ms),
            found: instant(self.found_ms),
        }
    }

    /// The issue type.
    pub fn issue_type(&self) -> &'static IssueType {
        &ISSUE_TYPES[usize::from(self.kind) % ISSUE_TYPES.len()]
    }
}

/// One generated application.
#[derive(Debug, Clone)]
pub struct AseApp {
    /// The application id (served as a number).
    pub id: u64,
    /// Its name (unique).
    pub name: String,
    /// Host of its URL.
    pub host: String,
    description: String,
    business_unit: &'static str,
    testing: &'static str,
    created_ms: i64,
    /// Its issues, in creation order.
    pub issues: Vec<AseIssue>,
}

/// What [`AseData::mutate`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AseMutation {
    /// Issues moved to another status.
    pub status_changed: usize,
    /// Issues gone from their application (no longer found).
    pub issues_removed: usize,
    /// Issues new in an application.
    pub issues_added: usize,
}

/// The whole data set.
#[derive(Debug, Clone)]
pub struct AseData {
    /// Applications in id order.
    pub apps: Vec<AseApp>,
    next_issue: u64,
    seed: u64,
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

impl AseData {
    /// `apps` applications with `issues_per_app` issues each, fixed by `seed`.
    pub fn generate(apps: usize, issues_per_app: usize, seed: u64) -> AseData {
        let mut rng = SimRng::seed_from_u64(seed ^ 0x4153_4500);
        let mut data = AseData {
            apps: Vec::with_capacity(apps),
            next_issue: 1000,
            seed,
        };
        let anchor = data_anchor_ms();
        for i in 0..apps {
            let (area, slug, _) = AREAS[i % AREAS.len()];
            let (component, description) = COMPONENTS[(i / AREAS.len()) % COMPONENTS.len()];
            let round = i / (AREAS.len() * COMPONENTS.len());
            let name = if round == 0 {
                format!("{area} {component}")
            } else {
                format!("{area} {component} {}", round + 1)
            };
            let host = format!("{slug}{i}.example.test");
            let created_ms = anchor - rng.random_range(200..400) * DAY;
            let mut app = AseApp {
                id: i as u64 + 1,
                name,
                host,
                description: description.to_string(),
                business_unit: BUSINESS_UNITS[i % BUSINESS_UNITS.len()],
                testing: TESTING[i % TESTING.len()],
                created_ms,
                issues: Vec::with_capacity(issues_per_app),
            };
            for _ in 0..issues_per_app {
                let issue = data.new_issue(&mut rng, created_ms, anchor);
                app.issues.push(issue);
            }
            data.apps.push(app);
        }
        data
    }

    fn new_issue(&mut self, rng: &mut SimRng, after_ms: i64, anchor: i64) -> AseIssue {
        let kind = pick_weighted(rng, ISSUE_TYPES.iter().map(|t| t.weight)) as u16;
        let t = &ISSUE_TYPES[usize::from(kind)];
        let sev = usize::from(t.severity).min(SEVERITIES.len() - 1);
        let status = pick_weighted(rng, STATUSES.iter().map(|s| s.1)) as u8;
        let created_ms = rng.random_range(after_ms..anchor - DAY);
        let updated_ms = rng.random_range(created_ms..anchor);
        let found_ms = rng.random_range(updated_ms..=anchor);
        let id = self.next_issue;
        self.next_issue += 1;
        AseIssue {
            id,
            kind,
            severity: SEVERITIES[sev].to_string(),
            status,
            path: rng.random_range(0..PATHS.len()) as u16,
            element: rng.random_range(0..t.element.pool().len()) as u16,
            query: rng.random_bool(0.3),
            extra: rng.random_bool(0.15),
            no_ids: sev == 1 && rng.random_bool(0.5),
            created_ms,
            updated_ms,
            found_ms,
            cvss_tenths: match sev {
                5 => rng.random_range(90..=100),
                4 => rng.random_range(70..=89),
                3 => rng.random_range(40..=69),
                2 => rng.random_range(10..=39),
                _ => 0,
            },
            variants: rng.random_range(1..=3),
        }
    }

    /// Adds `n` new issues to application `app_id`; returns their ids.
    pub fn add_issues(&mut self, app_id: u64, n: usize) -> Vec<u64> {
        let mut rng = SimRng::seed_from_u64(splitmix64(self.seed ^ self.next_issue));
        let anchor = data_anchor_ms();
        let Some(idx) = self.apps.iter().position(|a| a.id == app_id) else {
            return Vec::new();
        };
        let after = self.apps[idx].created_ms;
        let mut ids = Vec::new();
        for _ in 0..n {
            let issue = self.new_issue(&mut rng, after, anchor);
            ids.push(issue.id);
            self.apps[idx].issues.push(issue);
        }
        ids
    }

    /// Removes the first `count` issues of every application (fixed between two
    /// scans); returns their ids.
    pub fn remove_first(&mut self, count: usize) -> Vec<String> {
        let mut removed = Vec::new();
        for app in &mut self.apps {
            let n = count.min(app.issues.len());
            removed.extend(app.issues.drain(..n).map(|i| i.id.to_string()));
        }
        removed
    }

    /// Changes about `rate` of the issues, as a rescan would, fixed by `seed`: of each
    /// change, three in five move an issue to another status (updated now), one in five
    /// removes an issue (no longer found: a full run closes it) and one in five adds an
    /// issue to the same application.
    pub fn mutate(&mut self, rate: f64, seed: u64) -> AseMutation {
        let mut rng = SimRng::seed_from_u64(splitmix64(self.seed ^ seed ^ 0x4d55_5441));
        let total: usize = self.apps.iter().map(|a| a.issues.len()).sum();
        let mut out = AseMutation::default();
        if total == 0 || rate.is_nan() || rate <= 0.0 {
            return out;
        }
        let changes = ((total as f64 * rate.min(1.0)).round() as usize).max(1);
        let now = Utc::now().timestamp_millis();
        for _ in 0..changes {
            let with_issues: Vec<usize> = (0..self.apps.len())
                .filter(|&i| !self.apps[i].issues.is_empty())
                .collect();
            let Some(&a) = with_issues.get(rng.random_range(0..with_issues.len().max(1))) else {
                break;
            };
            let k = rng.random_range(0..self.apps[a].issues.len());
            match rng.random_range(0..5) {
                0 => {
                    self.apps[a].issues.remove(k);
                    out.issues_removed += 1;
                }
                1 => {
                    let after = self.apps[a].created_ms;
                    let mut issue = self.new_issue(&mut rng, after, now);
                    issue.updated_ms = now;
                    issue.found_ms = now;
                    self.apps[a].issues.push(issue);
                    out.issues_added += 1;
                }
                _ => {
                    let issue = &mut self.apps[a].issues[k];
                    let shift = rng.random_range(1..STATUSES.len()) as u8;
                    issue.status = (issue.status + shift) % STATUSES.len() as u8;
                    issue.updated_ms = now;
                    issue.found_ms = now;
                    out.status_changed += 1;
                }
            }
        }
        out
    }

    /// The application with this id.
    pub fn app(&self, id: u64) -> Option<&AseApp> {
        self.apps.iter().find(|a| a.id == id)
    }

    /// The application with this name.
    pub fn app_named(&self, name: &str) -> Option<&AseApp> {
        self.apps.iter().find(|a| a.name == name)
    }

    /// An issue and its application.
    pub fn issue(&self, id: u64) -> Option<(&AseApp, &AseIssue)> {
        self.apps
            .iter()
            .find_map(|a| a.issues.iter().find(|i| i.id == id).map(|i| (a, i)))
    }
}

/// HTML-escapes a value the way ASE serves attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The WASC threat class of an issue type (by CWE).
pub fn threat_class(cwe: i64) -> &'static str {
    match cwe {
        79 => "Cross-site Scripting",
        89 => "SQL Injection",
        78 | 77 => "OS Commanding",
        22 | 23 => "Path Traversal",
        352 => "Cross-site Request Forgery",
        601 => "URL Redirector Abuse",
        74 | 94 => "Content Spoofing",
        287 | 306 | 522 | 523 => "Insufficient Authentication",
        614 | 319 | 311 => "Insufficient Transport Layer Protection",
        _ => "Information Leakage",
    }
}

impl AseApp {
    /// When an issue of the application was last updated (its creation without issues).
    fn last_updated_ms(&self) -> i64 {
        self.issues
            .iter()
            .map(|i| i.updated_ms)
            .max()
            .unwrap_or(self.created_ms)
    }

    /// Its `lastUpdated` as the data keeps it (UTC).
    pub fn last_updated(&self) -> DateTime<Utc> {
        instant(self.last_updated_ms())
    }

    /// The application as `GET /ase/api/applications` serves it, dates as `dates` writes
    /// them.
    pub fn to_json(&self, dates: &ServedDates) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "url": format!("https://{}", self.host),
            "description": self.description,
            "dateCreated": dates.write(self.created_ms),
            "lastUpdated": dates.write(self.last_updated_ms()),
            "businessUnit": self.business_unit,
            "riskRating": if self.issues.iter().any(|i| i.severity == "Critical") { "Critical" } else { "High" },
            "testingStatus": self.testing,
            "attributeCollection": {
                "attributeArray": [
                    {"name": "Business Owner", "value": ["owner@example.test"]},
                    {"name": "Development Contact", "value": ["dev@example.test"]}
                ]
            }
        })
    }

    /// The full URL of an issue, HTML-escaped, possibly with extra text.
    fn location(&self, i: &AseIssue) -> String {
        let t = i.issue_type();
        let mut s = format!(
            "https://{}{}",
            self.host,
            PATHS[usize::from(i.path) % PATHS.len()]
        );
        if i.query {
            let pool = t.element.pool();
            let p = pool[usize::from(i.element) % pool.len()];
            s.push_str(&format!("?{p}=1&lang=en"));
        }
        let mut s = escape(&s);
        if i.extra {
            s.push_str(" (response to a modified request)");
        }
        s
    }

    /// An issue as the issue list serves it (`compactResponse=false`), dates as `dates`
    /// writes them.
    pub fn issue_json(&self, i: &AseIssue, dates: &ServedDates) -> Value {
        let t = i.issue_type();
        let pool = t.element.pool();
        let cwe = if i.no_ids {
            String::new()
        } else {
            t.cwe.to_string()
        };
        let threat = if i.no_ids { "" } else { threat_class(t.cwe) };
        json!({
            "id": i.id.to_string(),
            "Application Name": escape(&self.name),
            "Issue Type": escape(t.name),
            "Severity": i.severity,
            "Status": STATUSES[usize::from(i.status) % STATUSES.len()].0,
            "Location": self.location(i),
            "Element": escape(pool[usize::from(i.element) % pool.len()]),
            "Element Type": t.element.label(),
            "Date Created": dates.write(i.created_ms),
            "Last Updated": dates.write(i.updated_ms),
            "Last Found": dates.write(i.found_ms),
            "Scan Name": escape("Weekly DAST & IAST"),
            "Scanner": "AppScan Enterprise DAST",
            "CVSS": if i.cvss_tenths == 0 { String::new() } else { format!("{:.1}", f64::from(i.cvss_tenths) / 10.0) },
            "CWE": cwe,
            "Threat Class": threat,
            "Discovery Method": if i.id.is_multiple_of(5) { "IAST" } else { "DAST" },
        })
    }

    /// An issue's security details (`details_v2` item).
    pub fn details_json(&self, i: &AseIssue) -> Value {
        let t = i.issue_type();
        let variants: Vec<Value> = (0..i.variants)
            .map(|v| {
                json!({
                    "variantId": format!("{}-{v}", i.id),
                    "comments": if v == 0 { "Confirmed by the nightly scan".to_string() } else { String::new() },
                    "reasoning": format!("The test result indicates {} (variant {}).", t.name.to_lowercase(), v + 1),
                    "testDifference": format!("parameter {}: \"1\" -> \"<script>alert({v})</script>\" (changed)",
                        t.element.pool()[usize::from(i.element) % t.element.pool().len()]),
                })
            })
            .collect();
        json!({
            "id": i.id.to_string(),
            "issueTypeName": t.name,
            "technicalDescription": format!("{} was detected: the application handles untrusted input unsafely.", t.name),
            "causes": "Sanitation of hazardous characters was not performed correctly on user input",
            "securityRisks": format!("An attacker may exploit {} to compromise the application.", t.name),
            "affectedProducts": "This issue may affect different types of products",
            "fixRecommendation": format!("Follow the remediation guidance for {}.", t.name),
            "fixPriority": match i.severity.as_str() { "Critical" | "High" => "High", "Medium" => "Medium", _ => "Low" },
            "cwe": if i.no_ids { Value::Null } else { json!(t.cwe) },
            "variants": variants,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_shaped_like_ase() {
        let a = AseData::generate(3, 20, 7);
        let b = AseData::generate(3, 20, 7);
        assert_eq!(
            a.apps[1].issue_json(&a.apps[1].issues[4], &ServedDates::default()),
            b.apps[1].issue_json(&b.apps[1].issues[4], &ServedDates::default())
        );
        let app = &a.apps[0];
        let j = app.issue_json(&app.issues[0], &ServedDates::default());
        for key in [
            "id",
            "Issue Type",
            "Severity",
            "Status",
            "Location",
            "Date Created",
            "CWE",
        ] {
            assert!(j.get(key).is_some(), "{key}");
        }
        let d = j["Date Created"].as_str().unwrap();
        assert!(
            chrono::NaiveDateTime::parse_from_str(d, "%m/%d/%y %I:%M %p").is_ok(),
            "{d}"
        );
        let ids: std::collections::HashSet<u64> = a
            .apps
            .iter()
            .flat_map(|a| a.issues.iter().map(|i| i.id))
            .collect();
        assert_eq!(ids.len(), 60);
        assert!(a.apps.iter().flat_map(|a| &a.issues).any(|i| i.query));
    }

    #[test]
    fn mutations_change_a_share_of_the_issues_the_same_way_each_time() {
        let mut a = AseData::generate(3, 40, 7);
        let mut b = AseData::generate(3, 40, 7);
        let before: usize = a.apps.iter().map(|x| x.issues.len()).sum();
        let m = a.mutate(0.1, 3);
        assert_eq!(m, b.mutate(0.1, 3));
        assert_eq!(m.status_changed + m.issues_removed + m.issues_added, 12);
        assert!(m.status_changed > 0, "{m:?}");
        let after: usize = a.apps.iter().map(|x| x.issues.len()).sum();
        assert_eq!(after + m.issues_removed, before + m.issues_added);
        assert_eq!(a.mutate(0.0, 4), AseMutation::default());
    }
}
