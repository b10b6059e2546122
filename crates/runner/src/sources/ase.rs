//! The AppScan Enterprise source: every application the key's user can see, with all
//! its issues and their security details, as one full run.
//!
//! Login, the application list, then each application's issue pages (`Range` paged)
//! `concurrency` applications at a time; each page's details are fetched before the
//! page is sent on. ASE records are keyed by attribute display names and HTML-escaped;
//! [`ase_record`] turns one into the ASoC-shaped record the default map reads (dates
//! in RFC 3339 UTC, read as wall-clock times of the server's `time_zone`,
//! Description/Solution/Details assembled as for XML reports), and
//! [`super::records`] applies the full-run rules. Any failed API call (after retries)
//! fails the run: a partial listing must not close anything. The session is closed
//! in [`Source::close`], which the runner calls after every run, failed ones included.

use super::records::{self, Candidates, Warnings};
use crate::RunnerError;
use crate::full_run::FullRunOptions;
use crate::settings::Settings;
use crate::source::{Event, Request, Source, SourceError, SourceStats, channel_stream};
use ase::{AseClient, AseConfig, unescape};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt};
use model::time::ServerDates;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Duration;
use store::Connector;

/// The ASE source of one connector.
pub struct AseSource {
    client: AseClient,
    options: FullRunOptions,
    /// The server's date format and time zone, from `options`.
    dates: ServerDates,
    concurrency: usize,
    stored_tags: HashMap<String, Vec<String>>,
}

impl AseSource {
    pub fn new(
        connector: &Connector,
        settings: &Settings,
        secret: Option<SecretString>,
    ) -> Result<AseSource, RunnerError> {
        let missing = |what: &str| {
            RunnerError::Config(format!("connector '{}' has no {what}", connector.name))
        };
        let mut cfg = AseConfig::new(
            connector.url.clone().ok_or_else(|| missing("URL"))?,
            connector.key_id.clone().ok_or_else(|| missing("key id"))?,
            secret.ok_or_else(|| missing("key secret"))?,
        );
        cfg.page_size = settings.page_size;
        cfg.concurrency = settings.concurrency;
        cfg.rate_limit_per_minute = settings.rate_limit_per_minute;
        cfg.max_retries = settings.max_retries;
        cfg.retry_base_delay = Duration::from_millis(settings.retry_base_ms);
        cfg.timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        cfg.ca_file = settings.ca_file.as_ref().map(Into::into);
        let client = AseClient::new(cfg).map_err(|e| RunnerError::Config(e.to_string()))?;
        let dates = settings
            .full_run
            .server_dates()
            .map_err(|e| RunnerError::Config(format!("connector '{}': {e}", connector.name)))?;
        Ok(AseSource {
            client,
            options: settings.full_run.clone(),
            dates,
            concurrency: settings.concurrency.max(1),
            stored_tags: HashMap::new(),
        })
    }

    /// The client, for a connection check.
    pub fn client(&self) -> &AseClient {
        &self.client
    }
}

/// A scalar attribute as text, HTML-unescaped; `None` when absent or blank.
fn attr(v: &Value, key: &str) -> Option<String> {
    let s = match v.get(key)? {
        Value::String(s) => unescape(s.trim()),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// The first of several keys that is present.
fn attr_any(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| attr(v, k))
}

/// An application of the list and where its findings go.
#[derive(Debug, Clone)]
struct App {
    id: String,
    name: String,
    asset: String,
}

/// The asset record of an application and its external id (by the locators).
fn asset_of(
    app: &Value,
    options: &FullRunOptions,
    dates: &ServerDates,
    stored: &HashMap<String, Vec<String>>,
) -> Option<(App, Value)> {
    let id = attr(app, "id")?;
    let name = attr(app, "name").unwrap_or_else(|| id.clone());
    let url = attr(app, "url");
    let (origin, host) = url.as_deref().and_then(records::origin_and_host).unzip();
    let candidates = Candidates {
        application: Some(id.clone()),
        url: origin.clone(),
        host,
        file: None,
    };
    let (locator, value) = candidates.pick(&options.locators)?;
    // The application's own id stays as it is (as ASoC ids do); the others say what
    // they are.
    let asset = if locator == "application" {
        value
    } else {
        format!("{locator}:{value}")
    };
    let mut now = vec!["AppScan".to_string(), "ASE".to_string()];
    now.extend(attr(app, "businessUnit"));
    let record = json!({
        "Id": asset,
        "Name": name,
        "Url": url,
        "Description": attr(app, "description"),
        "BusinessUnit": attr(app, "businessUnit"),
        "RiskRating": attr(app, "riskRating"),
        "LastUpdated": attr(app, "lastUpdated")
            .and_then(|d| dates.read(&d))
            .map(|d| d.to_rfc3339()),
        "Tags": records::asset_tags(options, stored, &asset, now),
        "TestingStatus": attr(app, "testingStatus"),
        "AseApplicationId": id,
        "Attributes": app.clone(),
    });
    Some((App { id, name, asset }, record))
}

/// What `check` maps: the records of one page of applications, and of the first
/// application's first page of issues (with their details), shaped as a run shapes them.
#[derive(Debug, Default)]
pub struct Sample {
    pub assets: Vec<Value>,
    /// The asset id of the first application and where its issues came from.
    pub app: Option<(String, String)>,
    pub findings: Vec<Value>,
    /// Issues with a date that does not read (a server locale the connector's date format
    /// does not match), and the first such warning.
    pub bad_dates: usize,
    pub first_bad_date: Option<String>,
}

/// Builds a [`Sample`] from a page of applications (the connector check's data fetch),
/// its dates read as `dates` says.
pub async fn sample(
    client: &AseClient,
    options: &FullRunOptions,
    dates: &ServerDates,
    apps: &[Value],
) -> Result<Sample, ase::AseError> {
    let stored = HashMap::new();
    let mut out = Sample::default();
    let mut first: Option<App> = None;
    for raw in apps {
        if let Some((app, record)) = asset_of(raw, options, dates, &stored) {
            first.get_or_insert(app);
            out.assets.push(record);
        }
    }
    let Some(app) = first else {
        return Ok(out);
    };
    let page = std::pin::pin!(client.issues(&app.name))
        .next()
        .await
        .transpose()?;
    let issues = page.map(|p| p.items).unwrap_or_default();
    let ids: Vec<String> = issues.iter().filter_map(|i| attr(i, "id")).collect();
    let details: HashMap<String, Value> = client
        .details(&app.id, &ids)
        .await?
        .into_iter()
        .filter_map(|d| attr(&d, "id").map(|id| (id, d)))
        .collect();
    let now = Utc::now();
    for issue in &issues {
        let id = attr(issue, "id").unwrap_or_default();
        let mut warnings = Vec::new();
        let mut rec = ase_record(issue, details.get(&id), &app.name, dates, &mut warnings);
        if let Some(w) = warnings.into_iter().find(|w| w.contains("date")) {
            out.bad_dates += 1;
            out.first_bad_date.get_or_insert(w);
        }
        if records::shape_finding(&mut rec, &app.asset, options, now).0 {
            out.findings.push(Value::Object(rec));
        }
    }
    out.app = Some((
        app.asset.clone(),
        format!("GET /ase/api/issues (application '{}')", app.name),
    ));
    Ok(out)
}

/// What every warning about a date says ([`date`]), so that [`DatesSaid`] knows them.
const UNREADABLE_DATE: &str = "unreadable date";

/// Unreadable dates said with their value the first time per attribute, then in the same
/// words each time (so that the run lists them once with a count: a server in another
/// locale gave a line per issue).
#[derive(Default)]
struct DatesSaid(std::collections::HashSet<String>);

impl DatesSaid {
    fn once(&mut self, message: String) -> String {
        let is_date = message.contains(UNREADABLE_DATE);
        match message.split_once(": ") {
            Some((key, _)) if is_date && !self.0.insert(key.to_string()) => {
                format!("{key}: more unreadable dates left out, like the first one listed")
            }
            _ => message,
        }
    }
}

/// An issue's date as RFC 3339 in UTC: in the server's own format when the connector
/// gives one, else in ASE's US form (`11/18/24 6:09 PM`), a wall-clock time of the
/// server's time zone (see [`ServerDates::read`]); a warning when present but unreadable.
fn date(issue: &Value, key: &str, dates: &ServerDates, warnings: &mut Vec<String>) -> Value {
    let Some(s) = attr(issue, key) else {
        return Value::Null;
    };
    match (dates.read(&s), dates.format.as_deref()) {
        (Some(d), _) => json!(d.to_rfc3339()),
        (None, Some(f)) => {
            warnings.push(format!(
                "{key}: {UNREADABLE_DATE} '{s}': it does not read as '{f}'; left out"
            ));
            Value::Null
        }
        (None, None) => {
            warnings.push(format!(
                "{key}: {UNREADABLE_DATE} '{s}' left out (give the server's format with \
                 `connector edit NAME --date-format`, e.g. '%d.%m.%y %H:%M')"
            ));
            Value::Null
        }
    }
}

/// One ASE issue (display-name keys) and its details as an ASoC-shaped record; `dates`
/// is how the server writes its dates (its format and time zone).
pub fn ase_record(
    issue: &Value,
    details: Option<&Value>,
    app_name: &str,
    dates: &ServerDates,
    warnings: &mut Vec<String>,
) -> Map<String, Value> {
    let d = details.unwrap_or(&Value::Null);
    let cwe = attr(issue, "CWE")
        .or_else(|| attr(d, "cwe"))
        .and_then(|c| c.trim_start_matches("CWE-").trim().parse::<u32>().ok());
    let cvss = attr(issue, "CVSS").filter(|c| c.parse::<f64>().is_ok());
    let location = attr(issue, "Location");
    let (scheme, port) = location
        .as_deref()
        .and_then(|l| url::Url::parse(l.split_whitespace().next()?).ok())
        .map(|u| (Some(u.scheme().to_string()), u.port_or_known_default()))
        .unwrap_or((None, None));
    let variants: Vec<xml_report::Variant> = d
        .get("variants")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .map(|v| xml_report::Variant {
                    id: attr_any(v, &["variantId", "id"]),
                    comments: attr_any(v, &["comments", "comment"]),
                    reasoning: attr(v, "reasoning"),
                    test_difference: attr_any(v, &["testDifference", "differences"]),
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    let text = xml_report::Issue {
        technical_description: attr_any(d, &["technicalDescription", "Technical Description"]),
        causes: attr_any(d, &["causes", "Causes"]),
        security_risks: attr_any(d, &["securityRisks", "Security Risks"]),
        affected_products: attr_any(d, &["affectedProducts", "Affected Products"]),
        fix_recommendation: attr_any(d, &["fixRecommendation", "Fix Recommendation"]),
        fix_priority: attr_any(d, &["fixPriority", "priority", "Priority"]),
        cwe,
        variant_count: variants.len(),
        variants,
        ..Default::default()
    };
    let non_empty = |s: String| if s.is_empty() { Value::Null } else { json!(s) };
    let discovery = attr(issue, "Discovery Method");
    let threat = attr(issue, "Threat Class");
    let mut tags = vec!["AppScan".to_string(), "ASE".to_string()];
    tags.extend(discovery.clone());
    tags.extend(threat.clone());
    let mut m = Map::new();
    m.insert("Id".into(), json!(attr(issue, "id")));
    m.insert("IssueType".into(), json!(attr(issue, "Issue Type")));
    m.insert(
        "IssueTypeId".into(),
        json!(attr_any(d, &["issueTypeId", "issueType"])),
    );
    m.insert("Severity".into(), json!(attr(issue, "Severity")));
    m.insert("Status".into(), json!(attr(issue, "Status")));
    m.insert("Location".into(), json!(location));
    m.insert("Scheme".into(), json!(scheme));
    m.insert("Port".into(), json!(port));
    m.insert("Element".into(), json!(attr(issue, "Element")));
    m.insert("ElementType".into(), json!(attr(issue, "Element Type")));
    m.insert("Cwe".into(), json!(cwe));
    m.insert("Cvss".into(), json!(cvss));
    m.insert("ThreatClass".into(), json!(threat));
    m.insert(
        "DateCreated".into(),
        date(issue, "Date Created", dates, warnings),
    );
    m.insert(
        "LastUpdated".into(),
        date(issue, "Last Updated", dates, warnings),
    );
    m.insert(
        "LastFound".into(),
        date(issue, "Last Found", dates, warnings),
    );
    m.insert("ScanName".into(), json!(attr(issue, "Scan Name")));
    m.insert("Scanner".into(), json!(attr(issue, "Scanner")));
    m.insert("DiscoveryMethod".into(), json!(discovery));
    m.insert("ApplicationName".into(), json!(app_name));
    m.insert("Description".into(), non_empty(text.description()));
    m.insert("Solution".into(), non_empty(text.solution()));
    m.insert("Details".into(), non_empty(text.details()));
    m.insert("Tags".into(), json!(tags));
    m.insert("Attributes".into(), issue.clone());
    m
}

/// What an application's stream yields: a page of issues with their details, then the
/// end of the application.
enum Item {
    Page {
        app: App,
        first: u64,
        issues: Vec<Value>,
        details: HashMap<String, Value>,
        /// The listing's last page, short of the server's count: why.
        incomplete: Option<String>,
    },
    Done(App),
}

fn app_stream(client: AseClient, app: App) -> BoxStream<'static, Result<Item, ase::AseError>> {
    let pages = client.issues(&app.name);
    let done = app.clone();
    pages
        .then(move |page| {
            let client = client.clone();
            let app = app.clone();
            async move {
                let page = page?;
                let ids: Vec<String> = page.items.iter().filter_map(|i| attr(i, "id")).collect();
                let details = client
                    .details(&app.id, &ids)
                    .await?
                    .into_iter()
                    .filter_map(|d| attr(&d, "id").map(|id| (id, d)))
                    .collect();
                Ok(Item::Page {
                    app,
                    first: page.first,
                    issues: page.items,
                    details,
                    incomplete: page.incomplete,
                })
            }
        })
        .chain(futures::stream::once(async move { Ok(Item::Done(done)) }))
        .boxed()
}

/// Warnings for the stored applications the server did not list: a full run closes
/// findings only of the applications it read, so theirs stay open as they were, and the
/// run says so instead of leaving them silently open (as ASoC runs do). When the list
/// itself was not read whole, one warning says that instead.
fn unlisted<V>(
    known: &[String],
    listed: &HashMap<String, V>,
    list_incomplete: Option<String>,
) -> Vec<Event> {
    const LOCATION: &str = "GET /ase/api/applications";
    if let Some(why) = list_incomplete {
        return vec![Event::BadPage {
            location: LOCATION.into(),
            message: format!(
                "the application list was not read whole ({why}): applications not listed \
                 keep their findings as they were"
            ),
            lost: 0,
        }];
    }
    known
        .iter()
        .filter(|id| !listed.contains_key(*id))
        .map(|id| Event::BadPage {
            location: format!("{LOCATION} (application {id})"),
            message: "a stored application is no longer listed (deleted, or the key lost \
                      access to it): its findings are kept as they were"
                .into(),
            lost: 0,
        })
        .collect()
}

impl Source for AseSource {
    fn events(&mut self, request: Request) -> BoxStream<'static, Result<Event, SourceError>> {
        let client = self.client.clone();
        let options = self.options.clone();
        let dates = self.dates.clone();
        let concurrency = self.concurrency;
        let stored = std::mem::take(&mut self.stored_tags);
        channel_stream(move |tx| async move {
            let run_time: DateTime<Utc> = Utc::now();
            client.login().await.map_err(|e| SourceError::of(&e))?;
            let pages: Vec<ase::Page> = client
                .application_pages()
                .try_collect()
                .await
                .map_err(|e| SourceError::of(&e))?;
            let list_incomplete = pages.last().and_then(|p| p.incomplete.clone());
            let list: Vec<Value> = pages.into_iter().flat_map(|p| p.items).collect();
            let mut apps = Vec::new();
            let mut assets: Vec<Value> = Vec::new();
            // Assets fed by more than one application close only when all are done.
            let mut pending: HashMap<String, (usize, u64)> = HashMap::new();
            let mut warnings = Warnings::default();
            let mut dates_said = DatesSaid::default();
            for (i, raw) in list.iter().enumerate() {
                match asset_of(raw, &options, &dates, &stored) {
                    Some((app, record)) => {
                        let slot = pending.entry(app.asset.clone()).or_insert((0, 0));
                        if slot.0 == 0 {
                            assets.push(record);
                        }
                        slot.0 += 1;
                        apps.push(app);
                    }
                    None => {
                        let ev = Event::BadPage {
                            location: format!("GET /ase/api/applications $[{i}]"),
                            message: "application without an id or a usable locator".into(),
                            lost: 1,
                        };
                        tx.send(Ok(ev)).await?;
                    }
                }
            }
            for ev in unlisted(&request.known_assets, &pending, list_incomplete) {
                tx.send(Ok(ev)).await?;
            }
            tx.send(Ok(Event::AppsTotal(pending.len() as u64))).await?;
            tx.send(Ok(Event::Assets {
                location: "GET /ase/api/applications".into(),
                items: assets,
            }))
            .await?;
            let mut items = futures::stream::iter(apps)
                .map(|app| app_stream(client.clone(), app))
                .flatten_unordered(concurrency);
            while let Some(item) = items.next().await {
                match item.map_err(|e| SourceError::of(&e))? {
                    Item::Page {
                        app,
                        first,
                        issues,
                        details,
                        incomplete,
                    } => {
                        let location = format!(
                            "GET /ase/api/issues (application '{}', items {first}-{})",
                            app.name,
                            first + issues.len().saturating_sub(1) as u64
                        );
                        if let Some(slot) = pending.get_mut(&app.asset) {
                            slot.1 += issues.len() as u64;
                        }
                        let mut page = Vec::with_capacity(issues.len());
                        let mut without_details = 0u64;
                        for (i, issue) in issues.iter().enumerate() {
                            let mut w = Vec::new();
                            let id = attr(issue, "id").unwrap_or_default();
                            // Without its details the record would store the issue with no
                            // description or solution over the ones stored: it is left
                            // out, and its application is not closed (below).
                            let Some(detail) = details.get(&id) else {
                                without_details += 1;
                                continue;
                            };
                            let mut rec =
                                ase_record(issue, Some(detail), &app.name, &dates, &mut w);
                            let (keep, shaped) =
                                records::shape_finding(&mut rec, &app.asset, &options, run_time);
                            for message in w.into_iter().chain(shaped) {
                                let message = dates_said.once(message);
                                if let Some(ev) =
                                    warnings.event(format!("{location} $[{i}]"), message)
                                {
                                    tx.send(Ok(ev)).await?;
                                }
                            }
                            if keep {
                                page.push(Value::Object(rec));
                            }
                        }
                        tx.send(Ok(Event::Findings {
                            app_id: app.asset.clone(),
                            location: location.clone(),
                            items: page,
                        }))
                        .await?;
                        let incomplete = incomplete.or_else(|| {
                            (without_details > 0).then(|| {
                                format!(
                                    "{without_details} came without their details (deleted \
                                     while being read, or left out by the server) and were \
                                     left out, their stored findings as they were"
                                )
                            })
                        });
                        if let Some(why) = incomplete {
                            tx.send(Ok(Event::AppIncomplete {
                                app_id: app.asset.clone(),
                                location,
                                message: format!(
                                    "application '{}': not every issue was read ({why}); its \
                                     findings not seen are left open, the next run reads it again",
                                    app.name
                                ),
                            }))
                            .await?;
                        }
                    }
                    Item::Done(app) => {
                        let Some(slot) = pending.get_mut(&app.asset) else {
                            continue;
                        };
                        slot.0 -= 1;
                        if slot.0 == 0 {
                            let records = slot.1;
                            tx.send(Ok(Event::AppComplete {
                                app_id: app.asset.clone(),
                                records,
                                empty_means_clean: false,
                            }))
                            .await?;
                        }
                    }
                }
            }
            if let Some(ev) = warnings.summary("GET /ase/api/issues") {
                tx.send(Ok(ev)).await?;
            }
            Ok(())
        })
        .boxed()
    }

    fn stats(&self) -> SourceStats {
        let s = self.client.stats();
        SourceStats {
            requests: s.requests,
            retries: s.retries,
        }
    }

    /// The counters `serve` exports as metrics, in the shape the ASoC client keeps them
    /// (ASE connectors had no request, retry or rate-limit series at all).
    fn client_stats(&self) -> Option<asoc::ClientStats> {
        let s = self.client.stats();
        Some(asoc::ClientStats {
            requests: s.requests,
            requests_by_status: s.requests_by_status,
            transport_errors: s.transport_errors,
            retries: s.retries,
            rate_limit_waits: s.rate_limit_waits,
            logins: s.logins,
            relogins_after_401: s.relogins_after_401,
            pages: s.pages,
            items: s.items,
            ..Default::default()
        })
    }

    fn closes_unseen(&self) -> bool {
        true
    }

    fn unknown_severity(&self) -> Option<model::Severity> {
        Some(self.options.unknown_severity())
    }

    fn known_assets(&mut self, known: crate::full_run::KnownAssets) {
        self.stored_tags = known.tags;
    }

    fn close(&mut self) -> BoxFuture<'static, ()> {
        let client = self.client.clone();
        Box::pin(async move { client.logout().await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ase_issue_as_a_record() {
        let issue = json!({
            "id": "1042", "Issue Type": "Cross-Site Scripting", "Severity": "High",
            "Status": "InProgress", "Location": "https://shop.example.test/search?q=1&amp;x=2 (GET)",
            "Element": "q", "Date Created": "11/18/24 6:09 PM", "Last Found": "13.11.24 18:09",
            "CVSS": "7.5", "CWE": "79", "Threat Class": "Cross-site Scripting", "Discovery Method": "DAST"
        });
        let details = json!({
            "id": "1042", "technicalDescription": "td", "causes": "c", "securityRisks": "r",
            "affectedProducts": "p", "fixRecommendation": "fix it", "fixPriority": "High",
            "variants": [{"variantId": "v1", "comments": "seen", "reasoning": "why", "testDifference": "diff"}]
        });
        let mut w = Vec::new();
        let r = ase_record(
            &issue,
            Some(&details),
            "Shop",
            &ServerDates::default(),
            &mut w,
        );
        assert_eq!(r["Id"], "1042");
        assert_eq!(
            r["Location"],
            "https://shop.example.test/search?q=1&x=2 (GET)"
        );
        assert_eq!(
            (r["Scheme"].clone(), r["Port"].clone()),
            (json!("https"), json!(443))
        );
        assert_eq!(r["Cwe"], 79);
        assert_eq!(r["DateCreated"], "2024-11-18T18:09:00+00:00");
        assert!(r["LastFound"].is_null());
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(
            r["Description"],
            "Technical Description: td\n\nCauses: c\n\nSecurity Risks: r\n\nAffected Products: p"
        );
        assert_eq!(
            r["Solution"],
            "Priority: High\n\nFix Recommendation: fix it"
        );
        let d = r["Details"].as_str().unwrap();
        for part in [
            "Variant: 1 of 1 (id v1)",
            "CWE: CWE-79",
            "Comments: seen",
            "Reasoning: why",
            "Test Difference: diff",
        ] {
            assert!(d.contains(part), "{part}: {d}");
        }
        assert_eq!(
            r["Tags"],
            json!(["AppScan", "ASE", "DAST", "Cross-site Scripting"])
        );
    }
}
