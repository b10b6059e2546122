//! Cisco Vulnerability Management (Kenna) KDI JSON, as `shared/spec/kdi.md` describes it.
//!
//! ```text
//! {"skip_autoclose": false, "version": 2,
//!  "assets": [{"url": ..., "application": ..., "tags": [...], "vulns": [...]}],
//!  "vuln_defs": [{"scanner_type": ..., "scanner_identifier": ..., "cwe_identifiers": ...}]}
//! ```
//! - `skip_autoclose` is `false` (the platform closes what a load no longer has) unless a
//!   filter selected the findings: a filtered load holds only part of an application's
//!   findings, and auto-close would close the rest.
//! - One asset per application: `url` is the application's URL (else `external_id` is the
//!   locator), `application` its name, `tags` its tags.
//! - By default each finding is a version-2 **finding**, as the platform's AppScan
//!   connectors load them: its own id as `scanner_identifier`, `scanner_type` from the
//!   connector kind (`AppScanCloud`, `AppScanEnterprise`, `AppScanStandard` — a report
//!   exported from AppScan on Cloud is `AppScanCloud`'s),
//!   `vuln_def_name` (its issue type, with the CVE when there is one: `type/CVE-…`),
//!   `severity` from the severity map (Informational 0, Low 3, Medium 6, High 9,
//!   Critical 10 — changeable), `triage_state`, `created_at`, `last_seen_at`,
//!   `additional_fields` (name, status, risk, fingerprint, location, element, …).
//! - With `kdi_vulns`, findings are version-1 **vulns** instead: `scanner_identifier` is
//!   the issue type (`type/CVE-…`), which the platform keeps once per asset, so the
//!   issues of one type on one application are merged into one vuln ([`merge`]):
//!   `scanner_score`, `status` open/closed (Passed and Noise are `false_positive`),
//!   `closed_at`, `port`, `details`.
//! - `vuln_defs` has one entry per issue type used in the file (`name` and
//!   `scanner_identifier` are the type), with `cwe_identifiers`, `cve_identifiers`,
//!   `description` and `solution`.
//!
//! Files: one or more per application, `{connector}-{app_id}-{run_id}-{part}.json` (the
//! run is the connector's last sync; the part counts files of one application split by
//! size; an app id that is not a safe file name is cleaned and gets a hash of itself, so
//! two applications never share a file). Each file is a whole KDI document no larger than `max_file_size` unless a single
//! finding is larger. Findings arrive sorted by application, so one file is open at a time
//! and memory holds only the current file's `vuln_defs`.

mod merge;

use crate::error::Result;
use crate::output::{Counting, PendingFile, create, safe_name};
use crate::registry::{Context, ExportOptions, Exporter, Item, Report, rfc3339, seen_times};
use chrono::{DateTime, Utc};
use model::{Severity, Status};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use store::StoredAsset;

/// Bytes that close a file after its last item: `]}],"vuln_defs":[` + `]}` + newline.
const CLOSING: u64 = 40;

/// How the XML reader names a report AppScan on Cloud exported (its family,
/// `xml_report::meta::Family::AsocExport`), in the application's description
/// (`AppScan XML report (ASoC XML export 1.7, Mixed)`) and tags.
pub const ASOC_EXPORT: &str = "ASoC XML export";

/// The `scanner_type` of an item: its connector kind's, except that a report AppScan on
/// Cloud exported is AppScanCloud's, as the same issues synced from ASoC are (it was
/// AppScanStandard's, whichever product wrote the report).
pub fn scanner_type(kind: Option<&str>, asset: Option<&StoredAsset>) -> &'static str {
    match kind {
        Some("asoc") => "AppScanCloud",
        Some("ase") => "AppScanEnterprise",
        Some("xml") if asset.is_some_and(exported_by_asoc) => "AppScanCloud",
        Some("xml") => "AppScanStandard",
        _ => "AppScan",
    }
}

/// Whether the application's last report was an ASoC export: its description says so
/// (each import writes it; tags, which `skip_tags` leaves out and which accumulate over
/// reports, only when there is no description).
fn exported_by_asoc(a: &StoredAsset) -> bool {
    match &a.asset.description {
        Some(d) => d.contains(ASOC_EXPORT),
        None => a.asset.tags.iter().any(|t| t == ASOC_EXPORT),
    }
}

/// KDI vuln `status` for a normalized status.
pub fn vuln_status(s: Status) -> &'static str {
    match s {
        Status::New | Status::Active | Status::Reopened => "open",
        Status::Fixed | Status::Closed => "closed",
        Status::Ignored | Status::None => "false_positive",
    }
}

/// When a closed finding closed, as KDI's `closed_at`: the source's last update, never
/// before `last_seen_at` (the source's last-found date, else the last sync that saw it).
/// A source's last update can be older than its last-found date (an ASE or XML finding a
/// full run closed because it was gone keeps its old dates), and a close before the last
/// sighting skews the platform's remediation times.
pub fn closed_at(
    last_updated: Option<DateTime<Utc>>,
    last_found: Option<DateTime<Utc>>,
    last_seen: DateTime<Utc>,
) -> DateTime<Utc> {
    let seen = last_found.unwrap_or(last_seen);
    last_updated.unwrap_or(last_seen).max(seen)
}

/// KDI finding `triage_state` (the toolkit's AppScan Enterprise mapping).
pub fn triage_state(s: Status) -> &'static str {
    match s {
        Status::New | Status::Reopened => "new",
        Status::Active => "in_progress",
        Status::None => "not_a_security_issue",
        Status::Ignored => "false_positive",
        Status::Fixed | Status::Closed => "resolved",
    }
}

/// The 0–10 score of a severity under a map (Informational, Low, Medium, High, Critical).
pub fn score(map: &[u8; 5], s: Severity) -> u8 {
    map[usize::from(s.score() - 1)].min(10)
}

struct OpenFile {
    out: Counting<BufWriter<PendingFile>>,
    items: u64,
    /// Identifiers whose vuln_def this file carries, and the defs' serialized text.
    defs: HashSet<String>,
    defs_text: Vec<u8>,
}

pub struct Kdi {
    dir: PathBuf,
    max: u64,
    scores: [u8; 5],
    findings_mode: bool,
    /// Whether a filter left findings out: then the platform must not auto-close.
    partial: bool,
    ctx: Context,
    /// The application being written: (connector, app id), and its asset header.
    group: Option<(String, String)>,
    header: Vec<u8>,
    /// The parts written per file stem: an application met again (two connectors with
    /// one app id interleave in app-id order) goes on with its next part instead of
    /// writing over its first.
    parts: HashMap<String, u32>,
    file: Option<OpenFile>,
    /// `kdi_vulns`: the current application's vulns, merged by identifier.
    vulns: merge::Vulns,
    files: Vec<PathBuf>,
    /// Files past `max` (a single finding too large to split).
    oversized: Vec<PathBuf>,
    bytes: u64,
    findings: u64,
}

impl Kdi {
    pub fn new(opts: &ExportOptions, ctx: &Context) -> Result<Kdi> {
        Ok(Kdi {
            dir: opts.out.clone().unwrap_or_else(|| PathBuf::from(".")),
            max: opts.max_file_size,
            scores: opts.kdi_scores,
            findings_mode: !opts.kdi_vulns,
            partial: opts.filter.is_some(),
            ctx: ctx.clone(),
            group: None,
            header: Vec::new(),
            parts: HashMap::new(),
            file: None,
            vulns: merge::Vulns::default(),
            files: Vec::new(),
            oversized: Vec::new(),
            bytes: 0,
            findings: 0,
        })
    }

    fn asset_header(&self, item: &Item<'_>) -> Result<Vec<u8>> {
        let s = item.finding;
        let mut a = Map::new();
        match s.asset_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(u) => a.insert("url".into(), json!(u)),
            None => a.insert(
                "external_id".into(),
                json!(format!("{}:{}", s.connector, s.finding.asset_external_id)),
            ),
        };
        a.insert(
            "application".into(),
            json!(
                s.asset_name
                    .as_deref()
                    .unwrap_or(&s.finding.asset_external_id)
            ),
        );
        let tags = item.asset.map(|a| a.asset.tags.clone()).unwrap_or_default();
        a.insert("tags".into(), json!(tags));
        let text = serde_json::to_string(&Value::Object(a))?;
        // Open the object without its closing brace; the item list follows.
        let mut h = text.into_bytes();
        h.pop();
        if self.findings_mode {
            h.extend_from_slice(b",\"vulns\":[],\"findings\":[");
        } else {
            h.extend_from_slice(b",\"vulns\":[");
        }
        Ok(h)
    }

    fn open_file(&mut self) -> Result<()> {
        let (connector, app) = self.group.clone().unwrap_or_default();
        let run = self.ctx.last_runs.get(&connector).copied().unwrap_or(0);
        let stem = format!("{}-{}-{}", safe_name(&connector), safe_name(&app), run);
        let part = self.parts.entry(stem.clone()).or_default();
        *part += 1;
        let path = self.dir.join(format!("{stem}-{part}.json"));
        let mut out = Counting::new(BufWriter::with_capacity(1 << 16, create(&path)?));
        out.write_all(if self.partial {
            b"{\"skip_autoclose\":true,\"version\":2,\"assets\":["
        } else {
            b"{\"skip_autoclose\":false,\"version\":2,\"assets\":["
        })?;
        out.write_all(&self.header)?;
        self.files.push(path);
        self.file = Some(OpenFile {
            out,
            items: 0,
            defs: HashSet::new(),
            defs_text: Vec::new(),
        });
        Ok(())
    }

    fn close_file(&mut self) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            f.out.write_all(b"]}],\"vuln_defs\":[")?;
            f.out.write_all(&f.defs_text)?;
            f.out.write_all(b"]}\n")?;
            let bytes = f.out.bytes;
            f.out
                .into_inner()
                .into_inner()
                .map_err(|e| e.into_error())?
                .commit()?;
            self.bytes += bytes;
            if bytes > self.max
                && let Some(path) = self.files.last()
            {
                self.oversized.push(path.clone());
            }
        }
        Ok(())
    }

    fn item_json(&self, item: &Item<'_>, identifier: &str, stype: &str) -> Value {
        let s = item.finding;
        let f = &s.finding;
        let (created, last_seen) = seen_times(s);
        let (created, last_seen) = (rfc3339(created), rfc3339(last_seen));
        let mut m = Map::new();
        if self.findings_mode {
            m.insert("scanner_identifier".into(), json!(f.external_id));
            m.insert("scanner_type".into(), json!(stype));
            m.insert("vuln_def_name".into(), json!(identifier));
            m.insert("severity".into(), json!(score(&self.scores, f.severity)));
            m.insert("triage_state".into(), json!(triage_state(f.status)));
            m.insert("created_at".into(), json!(created));
            m.insert("last_seen_at".into(), json!(last_seen));
            let mut extra = Map::new();
            extra.insert("name".into(), json!(f.name));
            extra.insert("status".into(), json!(f.status.as_str()));
            extra.insert("risk".into(), json!(s.risk));
            extra.insert("fingerprint".into(), json!(s.fingerprint));
            for (k, v) in [
                ("location", f.location.as_ref()),
                ("element", f.element.as_ref()),
                ("source_status", f.source_status.as_ref()),
                ("cve", f.cve.as_ref()),
            ] {
                if let Some(v) = v {
                    extra.insert(k.into(), json!(v));
                }
            }
            if let Some(c) = f.cwe {
                extra.insert("cwe".into(), json!(format!("CWE-{c}")));
            }
            m.insert("additional_fields".into(), Value::Object(extra));
        } else {
            m.insert("scanner_identifier".into(), json!(identifier));
            m.insert("scanner_type".into(), json!(stype));
            m.insert(
                "scanner_score".into(),
                json!(score(&self.scores, f.severity)),
            );
            m.insert("created_at".into(), json!(created));
            m.insert("last_seen_at".into(), json!(last_seen));
            let status = vuln_status(f.status);
            m.insert("status".into(), json!(status));
            if status == "closed" {
                let closed = closed_at(f.last_updated, f.last_found, s.last_seen);
                m.insert("closed_at".into(), json!(rfc3339(closed)));
            }
            // Port 0 is a report's "no port" (AppScan writes it for SAST findings).
            if let Some(p) = f.port.filter(|p| *p > 0) {
                m.insert("port".into(), json!(p));
            }
            m.insert("vuln_def_name".into(), json!(identifier));
            let mut details = Vec::new();
            if let Some(l) = &f.location {
                details.push(format!("Location: {l}"));
            }
            if let Some(e) = &f.element {
                details.push(format!("Element: {e}"));
            }
            details.push(format!("Issue: {} ({})", f.external_id, f.status.as_str()));
            m.insert("details".into(), json!(details.join("\n")));
        }
        Value::Object(m)
    }

    fn def_json(item: &Item<'_>, identifier: &str, stype: &str) -> Value {
        let f = &item.finding.finding;
        let mut m = Map::new();
        m.insert("scanner_type".into(), json!(stype));
        m.insert("scanner_identifier".into(), json!(identifier));
        m.insert("name".into(), json!(identifier));
        if let Some(c) = f.cwe {
            m.insert("cwe_identifiers".into(), json!(format!("CWE-{c}")));
        }
        if let Some(c) = &f.cve {
            m.insert("cve_identifiers".into(), json!(c));
        }
        let mut desc = f.name.clone();
        if let Some(d) = &f.description {
            desc = format!("{desc}\n\n{d}");
        }
        m.insert("description".into(), json!(desc));
        if let Some(s) = &f.solution {
            m.insert("solution".into(), json!(s));
        }
        Value::Object(m)
    }
}

impl Exporter for Kdi {
    fn write(&mut self, item: &Item<'_>) -> Result<()> {
        let s = item.finding;
        let f = &s.finding;
        let group = (s.connector.clone(), f.asset_external_id.clone());
        if self.group.as_ref() != Some(&group) {
            self.flush_vulns()?;
            self.close_file()?;
            self.group = Some(group);
            self.header = self.asset_header(item)?;
        }
        let stype = scanner_type(item.kind, item.asset);
        let base = f.issue_type.clone().unwrap_or_else(|| f.name.clone());
        let identifier = match &f.cve {
            Some(c) => format!("{base}/{c}"),
            None => base,
        };
        let item_json = self.item_json(item, &identifier, stype);
        let def = serde_json::to_vec(&Kdi::def_json(item, &identifier, stype))?;
        self.findings += 1;
        if self.findings_mode {
            self.put(identifier, serde_json::to_vec(&item_json)?, def)
        } else {
            self.vulns.add(identifier, item_json, def);
            Ok(())
        }
    }

    fn finish(mut self: Box<Self>) -> Result<Report> {
        self.flush_vulns()?;
        self.close_file()?;
        Ok(Report {
            findings: self.findings,
            files: self.files,
            bytes: self.bytes,
            oversized: self.oversized,
        })
    }
}

impl Kdi {
    /// Writes the current application's merged vulns.
    fn flush_vulns(&mut self) -> Result<()> {
        for (identifier, vuln, def) in self.vulns.drain() {
            self.put(identifier, serde_json::to_vec(&vuln)?, def)?;
        }
        Ok(())
    }

    /// Writes one item of the current application, with its vuln_def unless the file has
    /// it, into a new file when it would push the current one past the limit.
    fn put(&mut self, identifier: String, body: Vec<u8>, def: Vec<u8>) -> Result<()> {
        // Split before this item when it would push the file past the limit.
        if let Some(file) = &self.file {
            let new_def = if file.defs.contains(&identifier) {
                0
            } else {
                def.len() as u64 + 1
            };
            let size = file.out.bytes
                + body.len() as u64
                + 1
                + file.defs_text.len() as u64
                + new_def
                + CLOSING;
            if file.items > 0 && size > self.max {
                self.close_file()?;
            }
        }
        if self.file.is_none() {
            self.open_file()?;
        }
        if let Some(file) = &mut self.file {
            if file.items > 0 {
                file.out.write_all(b",")?;
            }
            file.out.write_all(&body)?;
            file.items += 1;
            if file.defs.insert(identifier) {
                if !file.defs_text.is_empty() {
                    file.defs_text.push(b',');
                }
                file.defs_text.extend_from_slice(&def);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_map_and_statuses() {
        let map = [0, 3, 6, 9, 10];
        let got: Vec<u8> = Severity::ALL.iter().map(|s| score(&map, *s)).collect();
        assert_eq!(got, [0, 3, 6, 9, 10]);
        assert_eq!(score(&[0, 3, 6, 8, 10], Severity::High), 8);
        assert_eq!(vuln_status(Status::Reopened), "open");
        assert_eq!(vuln_status(Status::Closed), "closed");
        assert_eq!(vuln_status(Status::None), "false_positive");
        assert_eq!(triage_state(Status::Active), "in_progress");
        assert_eq!(scanner_type(Some("ase"), None), "AppScanEnterprise");
        assert_eq!(scanner_type(Some("xml"), None), "AppScanStandard");
    }

    #[test]
    fn a_finding_never_closes_before_it_was_last_seen() {
        let day = |d: u32| {
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, d, 0, 0, 0)
                .single()
                .expect("date")
        };
        // Closed by absence: the source's old last update, seen later.
        assert_eq!(closed_at(Some(day(1)), Some(day(20)), day(25)), day(20));
        // Fixed at the source after it was last found.
        assert_eq!(closed_at(Some(day(22)), Some(day(20)), day(25)), day(22));
        // No source dates: the last sync that saw it.
        assert_eq!(closed_at(None, None, day(25)), day(25));
    }
}
