//! OCSF 1.8.0 events, one JSON object per line.
//!
//! Class 2002 *Vulnerability Finding* (default) or 2007 *Application Security Posture
//! Finding* (`--ocsf-class 2007`, which adds `application` and top-level `remediation`).
//! Activity follows the status: NEW → 1 Create, ACTIVE/REOPENED → 2 Update, anything
//! closed → 3 Close; `type_uid` = class × 100 + activity. Times are epoch milliseconds.
//! The store's fingerprint is `finding_info.uid_alt`; fields OCSF has no place for (risk,
//! location, element) go in `unmapped`.
//! A vulnerability carries exactly one reference, as 1.8 requires: the CVE (with the CWE
//! inside it; the first, for a finding with several, which are all in `unmapped.cves`),
//! else the CWE, else an advisory named after the issue type.

use crate::error::Result;
use crate::output::Sink;
use crate::registry::{
    ExportOptions, Exporter, Item, OcsfClass, Report, seen_times, single_output,
};
use chrono::{DateTime, Utc};
use model::{Severity, Status};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::PathBuf;

/// The OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.8.0";

pub struct Ocsf {
    out: Sink,
    path: Option<PathBuf>,
    class: OcsfClass,
    findings: u64,
}

impl Ocsf {
    pub fn new(opts: &ExportOptions) -> Result<Ocsf> {
        let (out, path) = single_output(opts)?;
        Ok(Ocsf {
            out,
            path,
            class: opts.ocsf_class,
            findings: 0,
        })
    }
}

/// OCSF `severity_id`.
pub fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Informational => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

/// OCSF `activity_id` and its name.
fn activity(s: Status) -> (u8, &'static str) {
    match s {
        Status::New => (1, "Create"),
        Status::Active | Status::Reopened => (2, "Update"),
        Status::Fixed | Status::Ignored | Status::None | Status::Closed => (3, "Close"),
    }
}

/// OCSF finding `status_id` and its name.
fn status(s: Status) -> (u8, &'static str) {
    match s {
        Status::New => (1, "New"),
        Status::Active | Status::Reopened => (2, "In Progress"),
        Status::Ignored | Status::None => (3, "Suppressed"),
        Status::Fixed | Status::Closed => (4, "Resolved"),
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Inserts `key` when the value is present.
fn put(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v);
    }
}

/// The one reference OCSF 1.8 allows a vulnerability (`just_one` of `cve`, `cwe`,
/// `advisory`): the CVE (carrying the CWE), else the CWE, else an advisory naming the
/// issue type.
fn weakness(f: &model::Finding) -> (&'static str, Value) {
    // A CWE identifier is `CWE-` and the number (the OCSF dictionary's `cwe.uid`), as KDI
    // and SARIF write it: consumers join findings on it.
    let cwe = f
        .cwe
        .map(|c| json!({ "uid": format!("CWE-{c}"), "caption": f.name }));
    // A vulnerability has one `cve`: the first of a finding's CVEs (all of them are in
    // `unmapped.cves`).
    let cve = f
        .cve
        .as_deref()
        .and_then(|c| model::kev::cve_ids(c).into_iter().next());
    match (cve, cwe) {
        (Some(c), cwe) => {
            let mut m = Map::new();
            m.insert("uid".into(), json!(c));
            put(&mut m, "cwe", cwe);
            ("cve", Value::Object(m))
        }
        (None, Some(cwe)) => ("cwe", cwe),
        (None, None) => (
            "advisory",
            json!({
                "uid": f.issue_type.as_deref().unwrap_or(&f.name),
                "title": f.name,
            }),
        ),
    }
}

/// The event for one finding.
pub fn event(item: &Item<'_>, class: OcsfClass) -> Value {
    let s = item.finding;
    let f = &s.finding;
    let (activity_id, activity_name) = activity(f.status);
    let (status_id, status_name) = status(f.status);
    let (first, last) = seen_times(s);
    let uid = format!("{}:{}", s.connector, f.external_id);
    let (class_name, class_uid) = match class {
        OcsfClass::VulnerabilityFinding => ("Vulnerability Finding", 2002u32),
        OcsfClass::ApplicationSecurityPosture => ("Application Security Posture Finding", 2007u32),
    };

    let mut info = Map::new();
    info.insert("uid".into(), json!(uid));
    info.insert("uid_alt".into(), json!(s.fingerprint));
    info.insert("title".into(), json!(f.name));
    put(&mut info, "desc", f.description.as_ref().map(|d| json!(d)));
    put(
        &mut info,
        "types",
        f.issue_type.as_ref().map(|t| json!([t])),
    );
    info.insert("first_seen_time".into(), json!(ms(first)));
    info.insert("last_seen_time".into(), json!(ms(last)));
    put(
        &mut info,
        "created_time",
        f.first_found.map(|t| json!(ms(t))),
    );
    put(
        &mut info,
        "modified_time",
        f.last_updated.map(|t| json!(ms(t))),
    );
    // A web finding's `//host/path` is a URL with its scheme, not a UNC file path.
    let web = f.location.as_deref().and_then(|l| {
        crate::sarif::uri::web_network_path(
            l,
            f.protocol.as_deref(),
            s.asset_url
                .as_deref()
                .or(item.asset.and_then(|a| a.asset.url.as_deref())),
        )
    });
    let (src_url, affected_code) = place(web.as_deref().or(f.location.as_deref()));
    put(&mut info, "src_url", src_url);
    info.insert(
        "data_sources".into(),
        json!([item.kind.unwrap_or("appscan")]),
    );

    let mut vuln = Map::new();
    vuln.insert("title".into(), json!(f.name));
    put(&mut vuln, "desc", f.description.as_ref().map(|d| json!(d)));
    vuln.insert("severity".into(), json!(f.severity.as_str()));
    put(
        &mut vuln,
        "category",
        f.issue_type.as_ref().map(|t| json!(t)),
    );
    let (key, reference) = weakness(f);
    vuln.insert(key.into(), reference);
    vuln.insert("first_seen_time".into(), json!(ms(first)));
    vuln.insert("last_seen_time".into(), json!(ms(last)));
    let remediation = f.solution.as_ref().map(|d| json!({ "desc": d }));
    put(&mut vuln, "remediation", remediation.clone());
    vuln.insert("vendor_name".into(), json!("HCL"));
    put(&mut vuln, "affected_code", affected_code);

    let app_name = s
        .asset_name
        .clone()
        .unwrap_or_else(|| f.asset_external_id.clone());
    let mut unmapped = Map::new();
    unmapped.insert("risk".into(), json!(s.risk));
    unmapped.insert("connector".into(), json!(s.connector));
    unmapped.insert("external_id".into(), json!(f.external_id));
    put(
        &mut unmapped,
        "location",
        f.location.as_ref().map(|v| json!(v)),
    );
    put(
        &mut unmapped,
        "element",
        f.element.as_ref().map(|v| json!(v)),
    );
    put(&mut unmapped, "port", f.port.map(|v| json!(v)));
    put(&mut unmapped, "cvss", f.cvss.map(|v| json!(v)));
    if let Some(c) = &f.cve {
        let ids = model::kev::cve_ids(c);
        if ids.len() > 1 {
            unmapped.insert("cves".into(), json!(ids));
        }
    }
    put(
        &mut unmapped,
        "source_status",
        f.source_status.as_ref().map(|v| json!(v)),
    );
    if !f.tags.is_empty() {
        unmapped.insert("tags".into(), json!(f.tags));
    }

    let mut e = Map::new();
    e.insert("activity_id".into(), json!(activity_id));
    e.insert("activity_name".into(), json!(activity_name));
    e.insert("category_uid".into(), json!(2));
    e.insert("category_name".into(), json!("Findings"));
    e.insert("class_uid".into(), json!(class_uid));
    e.insert("class_name".into(), json!(class_name));
    e.insert(
        "type_uid".into(),
        json!(class_uid * 100 + u32::from(activity_id)),
    );
    e.insert(
        "type_name".into(),
        json!(format!("{class_name}: {activity_name}")),
    );
    e.insert("severity_id".into(), json!(severity_id(f.severity)));
    e.insert("severity".into(), json!(f.severity.as_str()));
    e.insert("status_id".into(), json!(status_id));
    e.insert("status".into(), json!(status_name));
    put(
        &mut e,
        "status_detail",
        f.source_status.as_ref().map(|v| json!(v)),
    );
    // The event's time: when the source last changed or saw the finding.
    e.insert(
        "time".into(),
        json!(ms(f.last_updated.or(f.last_found).unwrap_or(s.last_seen))),
    );
    e.insert("message".into(), json!(f.name));
    e.insert(
        "metadata".into(),
        json!({
            "version": OCSF_VERSION,
            "product": {
                "name": "appscan-bridge",
                "vendor_name": "HCL AppScan (via appscan-bridge)",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "uid": uid,
            "log_name": s.connector,
            "labels": f.tags,
        }),
    );
    e.insert("finding_info".into(), Value::Object(info));
    e.insert("vulnerabilities".into(), json!([Value::Object(vuln)]));
    match class {
        OcsfClass::VulnerabilityFinding => {
            let mut res = Map::new();
            res.insert("uid".into(), json!(f.asset_external_id));
            res.insert("name".into(), json!(app_name));
            res.insert("type".into(), json!("Web Application"));
            if let Some(u) = &s.asset_url {
                res.insert("data".into(), json!({ "url": u }));
            }
            if let Some(a) = item.asset
                && !a.asset.tags.is_empty()
            {
                res.insert("labels".into(), json!(a.asset.tags));
            }
            e.insert("resources".into(), json!([Value::Object(res)]));
        }
        OcsfClass::ApplicationSecurityPosture => {
            let mut app = Map::new();
            app.insert("uid".into(), json!(f.asset_external_id));
            app.insert("name".into(), json!(app_name));
            if let Some(u) = &s.asset_url {
                app.insert("url".into(), json!({ "url_string": u }));
            }
            if let Some(a) = item.asset {
                app.insert("risk_score".into(), json!(a.risk));
                if !a.asset.tags.is_empty() {
                    app.insert("labels".into(), json!(a.asset.tags));
                }
            }
            e.insert("application".into(), Value::Object(app));
            put(&mut e, "remediation", remediation);
        }
    }
    e.insert("unmapped".into(), Value::Object(unmapped));
    Value::Object(e)
}

impl Exporter for Ocsf {
    fn write(&mut self, item: &Item<'_>) -> Result<()> {
        serde_json::to_writer(&mut self.out, &event(item, self.class))?;
        self.out.write_all(b"\n")?;
        self.findings += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Report> {
        let bytes = self.out.finish()?;
        Ok(Report {
            findings: self.findings,
            files: self.path.into_iter().collect(),
            bytes,
            ..Report::default()
        })
    }
}

/// Where a finding is, as OCSF has it: a web address is `finding_info.src_url` (a
/// `url_t`); a file path with its line (a SAST finding's `src/Login.java:42`) is the
/// vulnerability's `affected_code`, where consumers that index `src_url` as a URL
/// observable found file paths.
fn place(location: Option<&str>) -> (Option<Value>, Option<Value>) {
    let Some(loc) = location.map(str::trim).filter(|l| !l.is_empty()) else {
        return (None, None);
    };
    if let Ok(u) = url::Url::parse(loc)
        && matches!(u.scheme(), "http" | "https")
        && let Some(uri) = crate::sarif::uri::absolute_url(loc)
    {
        // As SARIF writes it: the path as attacked (`..` kept), what a URI may not hold
        // (a space, `[`, a bare `%`) encoded.
        return (Some(json!(uri)), None);
    }
    let (path, line, column) = crate::sarif::uri::split_position(loc);
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    // type_id 1: a regular file.
    let mut code = json!({ "file": { "name": name, "path": path, "type_id": 1 } });
    if let Some(l) = line.filter(|l| *l > 0) {
        code["start_line"] = json!(l);
    }
    if let Some(c) = column.filter(|c| *c > 0) {
        code["start_column"] = json!(c);
    }
    (None, Some(json!([code])))
}
