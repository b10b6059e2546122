//! Shaping records of the full-run sources (ASE, XML reports) for the default map:
//! the asset a record belongs to (by the ordered locators), open/closed status, tags,
//! last-found time, the informational filter, and bounded warnings.
//!
//! Both sources turn what they read into a JSON object shaped like an AppScan on Cloud
//! API item (PascalCase keys), so one map serves every source; this module holds the
//! rules they share, so an ASE sync and an XML import of the same application file
//! their findings the same way.

use crate::full_run::FullRunOptions;
use crate::source::{Event, SourceError};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Record warnings sent one by one in a run; beyond that they are counted and reported
/// once at the end, so a report with a warning on every issue keeps memory flat.
pub const MAX_WARNINGS: u64 = 500;

/// AppScan statuses that mean the weakness is gone or not a weakness (closed);
/// anything else listed by a full run is open.
const CLOSED_STATUSES: &[&str] = &["fixed", "passed", "noise", "closed"];

/// Full-run sources know only open and closed (Cisco-style): every status a report or
/// ASE lists maps to `Open` or `Closed`; the source's word is kept as `SourceStatus`.
pub fn open_or_closed(status: Option<&str>) -> &'static str {
    match status {
        Some(s) if CLOSED_STATUSES.contains(&s.trim().to_ascii_lowercase().as_str()) => "Closed",
        _ => "Open",
    }
}

/// What an application can be located by; [`Candidates::pick`] takes the first the
/// connector's locator order allows.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// The application's id in its source (ASE) or its name (reports).
    pub application: Option<String>,
    /// The application's URL, reduced to its origin.
    pub url: Option<String>,
    /// The host of that URL.
    pub host: Option<String>,
    /// The report file's name.
    pub file: Option<String>,
}

impl Candidates {
    /// `(locator, value)` of the first locator in `order` this application has.
    pub fn pick(&self, order: &[String]) -> Option<(&'static str, String)> {
        order.iter().find_map(|l| {
            let (name, v) = match l.as_str() {
                "application" => ("application", &self.application),
                "url" => ("url", &self.url),
                "host" => ("host", &self.host),
                "file" => ("file", &self.file),
                _ => return None,
            };
            v.clone()
                .filter(|s| !s.trim().is_empty())
                .map(|v| (name, v))
        })
    }
}

/// A URL as records write it: its first word.
fn parse_url(url: &str) -> Option<url::Url> {
    url::Url::parse(url.split_whitespace().next()?).ok()
}

/// `scheme://host[:port]` of a parsed URL (lower case), and its host.
fn origin_of(u: &url::Url) -> Option<(String, String)> {
    let host = u.host_str()?.to_ascii_lowercase();
    let origin = match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    };
    Some((origin, host))
}

/// `scheme://host[:port]` of a URL (lower case), and its host.
pub fn origin_and_host(url: &str) -> Option<(String, String)> {
    origin_of(&parse_url(url)?)
}

/// A scanned site as a report's starting URL names it: its origin, with the path when
/// the scan starts below the root (`http://intranet:8080/appA`, no query, no trailing
/// `/`). Applications served by one host under different paths were one asset, and each
/// one's report closed the other's findings.
pub fn site(url: &str) -> Option<String> {
    let u = parse_url(url)?;
    let (origin, _) = origin_of(&u)?;
    let path = u.path().trim_end_matches('/');
    Some(if path.is_empty() {
        origin
    } else {
        format!("{origin}{path}")
    })
}

/// Tags of an asset this run: this run's, merged with the stored ones unless reset.
pub fn asset_tags(
    opts: &FullRunOptions,
    stored: &HashMap<String, Vec<String>>,
    asset_id: &str,
    now: Vec<String>,
) -> Vec<String> {
    if opts.skip_tags {
        return Vec::new();
    }
    let mut tags = if opts.reset_tags {
        Vec::new()
    } else {
        stored.get(asset_id).cloned().unwrap_or_default()
    };
    for t in now {
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    tags
}

/// Whether a record has none of CVE, CWE and WASC (threat class) ids.
pub fn is_informational(rec: &Map<String, Value>) -> bool {
    let has = |k: &str| match rec.get(k) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    };
    !(has("Cve") || has("Cwe") || has("ThreatClassId") || has("ThreatClass"))
}

/// Applies the shared rules to one finding record: its asset, open/closed status,
/// tags, last-found time and an empty severity when it has none. Returns `false` when the
/// record is excluded (informational) and the warnings it raised.
pub fn shape_finding(
    rec: &mut Map<String, Value>,
    asset_id: &str,
    opts: &FullRunOptions,
    run_time: DateTime<Utc>,
) -> (bool, Vec<String>) {
    let mut warnings = Vec::new();
    if opts.exclude_informational && is_informational(rec) {
        return (false, warnings);
    }
    rec.insert("ApplicationId".into(), json!(asset_id));
    let source_status = rec
        .get("Status")
        .and_then(Value::as_str)
        .map(str::to_string);
    rec.insert(
        "Status".into(),
        json!(open_or_closed(source_status.as_deref())),
    );
    rec.insert(
        "SourceStatus".into(),
        source_status.map_or(Value::Null, Value::String),
    );
    let no_severity = ["Severity", "SeverityValue"].iter().all(|k| {
        rec.get(*k)
            .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
    });
    if no_severity {
        // Empty, so that the map gives it the connector's unknown_severity and says so:
        // a finding nobody rated is not thereby informational.
        rec.insert("Severity".into(), json!(""));
    }
    let no_type = ["IssueType", "IssueTypeId"].iter().all(|k| {
        rec.get(*k)
            .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
    });
    if no_type {
        rec.insert("IssueType".into(), json!("Unknown issue type"));
        warnings.push("no issue type: recorded as \"Unknown issue type\"".to_string());
    }
    if opts.skip_tags {
        rec.insert("Tags".into(), json!([]));
    }
    if opts.ignore_last_seen {
        rec.insert("LastFound".into(), json!(run_time.to_rfc3339()));
    }
    (true, warnings)
}

/// Bounds the warnings a source sends (the run lists a repeated one once, with its
/// count).
#[derive(Debug, Default)]
pub struct Warnings {
    sent: u64,
    held: u64,
}

impl Warnings {
    /// The event for one warning, or `None` once [`MAX_WARNINGS`] were sent.
    pub fn event(&mut self, location: String, message: String) -> Option<Event> {
        if self.sent >= MAX_WARNINGS {
            self.held += 1;
            return None;
        }
        self.sent += 1;
        Some(Event::BadPage {
            location,
            message,
            lost: 0,
        })
    }

    /// The closing summary of warnings that were only counted.
    pub fn summary(&self, location: &str) -> Option<Event> {
        (self.held > 0).then(|| Event::BadPage {
            location: location.to_string(),
            message: format!(
                "{} more warnings like the ones above were not listed one by one",
                self.held
            ),
            lost: 0,
        })
    }
}

/// A source error naming what failed.
pub fn source_error(what: impl std::fmt::Display) -> SourceError {
    SourceError(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_open_or_closed() {
        assert_eq!(open_or_closed(Some("Open")), "Open");
        assert_eq!(open_or_closed(Some("InProgress")), "Open");
        assert_eq!(open_or_closed(Some("Reopened")), "Open");
        assert_eq!(open_or_closed(None), "Open");
        for s in ["Fixed", "passed", "Noise"] {
            assert_eq!(open_or_closed(Some(s)), "Closed", "{s}");
        }
    }

    #[test]
    fn locators_in_order() {
        let c = Candidates {
            application: Some("Shop".into()),
            url: Some("https://shop.example.com".into()),
            host: Some("shop.example.com".into()),
            file: None,
        };
        let order = |s: &str| FullRunOptions::parse_locators(s);
        assert_eq!(
            c.pick(&order("application,url")),
            Some(("application", "Shop".into()))
        );
        assert_eq!(
            c.pick(&order("url,application,host")),
            Some(("url", "https://shop.example.com".into()))
        );
        assert_eq!(c.pick(&order("file")), None);
        assert_eq!(
            origin_and_host("HTTPS://Shop.Example.com:8443/a?b=1 extra"),
            Some((
                "https://shop.example.com:8443".into(),
                "shop.example.com".into()
            ))
        );
    }

    #[test]
    fn a_site_is_its_origin_and_the_path_it_starts_at() {
        assert_eq!(
            site("HTTP://Intranet.Example:8080/appA/?x=1").as_deref(),
            Some("http://intranet.example:8080/appA")
        );
        assert_eq!(
            site("https://shop.example.com/").as_deref(),
            Some("https://shop.example.com")
        );
        assert_eq!(
            site("https://shop.example.com").as_deref(),
            Some("https://shop.example.com")
        );
        assert_eq!(site("not a url"), None);
    }

    #[test]
    fn tags_accumulate_unless_reset_or_skipped() {
        let stored: HashMap<String, Vec<String>> =
            [("a".to_string(), vec!["SAST".to_string()])].into();
        let mut o = FullRunOptions::default();
        assert_eq!(
            asset_tags(&o, &stored, "a", vec!["DAST".into()]),
            ["SAST", "DAST"]
        );
        o.reset_tags = true;
        assert_eq!(asset_tags(&o, &stored, "a", vec!["DAST".into()]), ["DAST"]);
        o.skip_tags = true;
        assert!(asset_tags(&o, &stored, "a", vec!["DAST".into()]).is_empty());
    }

    #[test]
    fn shaping_a_finding() {
        let now = Utc::now();
        let mut o = FullRunOptions::default();
        let mut rec: Map<String, Value> = serde_json::from_value(json!({
            "Id": "1", "IssueType": "XSS", "Severity": null, "Status": "Fixed", "Cwe": null,
            "LastFound": "2020-01-01T00:00:00Z", "Tags": ["AppScan"]
        }))
        .unwrap();
        let (keep, w) = shape_finding(&mut rec, "app", &o, now);
        assert!(keep);
        assert_eq!(rec["Status"], "Closed");
        assert_eq!(rec["SourceStatus"], "Fixed");
        assert_eq!(rec["Severity"], "", "left to the map's unknown_severity");
        assert_eq!(rec["ApplicationId"], "app");
        assert!(w.is_empty(), "the map says it: {w:?}");
        o.ignore_last_seen = true;
        o.skip_tags = true;
        shape_finding(&mut rec, "app", &o, now);
        assert_eq!(rec["LastFound"], now.to_rfc3339());
        assert_eq!(rec["Tags"], json!([]));
        o.exclude_informational = true;
        assert!(!shape_finding(&mut rec, "app", &o, now).0);
        rec.insert("Cwe".into(), json!(79));
        assert!(shape_finding(&mut rec, "app", &o, now).0);
    }

    #[test]
    fn warnings_are_bounded() {
        let mut w = Warnings::default();
        let sent = (0..MAX_WARNINGS + 7)
            .filter(|i| w.event("x".into(), i.to_string()).is_some())
            .count();
        assert_eq!(sent as u64, MAX_WARNINGS);
        assert!(w.summary("x").is_some());
    }
}
