//! SARIF 2.1.0: one log with one or more runs of at most `sarif_max_results` results
//! (25,000 by default, GitHub's per-run limit).
//!
//! - One rule per issue type (`issue_type`, else the name), with its CWE in
//!   `properties.tags` (`CWE-79` and GitHub's `external/cwe/cwe-79`) and a
//!   `security-severity` from the worst finding of that type in the run.
//! - Results point at the finding's location: DAST findings at the full attacked URL as
//!   `artifactLocation.uri` (the convention of other DAST tools), SAST findings at the
//!   file, with `region.startLine` when the location ends in `:LINE`.
//! - `partialFingerprints["appscanBridge/v1"]` is the store's cross-source fingerprint, so
//!   the same weakness keeps its identity across exports and runs.
//! - Open findings are `kind: fail` with a level from the severity; closed ones
//!   `kind: pass`, `level: none`.
//!
//! Streaming: each run is written as `{"results": [...], "tool": {...}}` — results first,
//! then the tool with the rules gathered while writing them (JSON members are unordered).
//! The typed `serde-sarif` structures would need every result in memory, so they are not used.

use crate::error::Result;
use crate::output::Sink;
use crate::registry::{ExportOptions, Exporter, Item, Report, single_output};
use model::Severity;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

struct Rule {
    id: String,
    name: String,
    cwe: Option<u32>,
    worst: Severity,
    description: Option<String>,
    solution: Option<String>,
}

pub struct Sarif {
    out: Sink,
    path: Option<PathBuf>,
    max_results: usize,
    /// Results in the current run (0 = no run open).
    in_run: usize,
    runs: usize,
    rules: Vec<Rule>,
    rule_index: HashMap<String, usize>,
    findings: u64,
}

impl Sarif {
    pub fn new(opts: &ExportOptions) -> Result<Sarif> {
        let (mut out, path) = single_output(opts)?;
        write!(
            out,
            "{{\"version\":\"2.1.0\",\"$schema\":\"{SCHEMA_URI}\",\"runs\":["
        )?;
        Ok(Sarif {
            out,
            path,
            max_results: opts.sarif_max_results.max(1),
            in_run: 0,
            runs: 0,
            rules: Vec::new(),
            rule_index: HashMap::new(),
            findings: 0,
        })
    }

    fn open_run(&mut self) -> Result<()> {
        if self.runs > 0 {
            self.out.write_all(b",")?;
        }
        self.runs += 1;
        self.out.write_all(b"{\"results\":[")?;
        Ok(())
    }

    fn close_run(&mut self) -> Result<()> {
        let rules: Vec<Value> = self.rules.iter().map(rule_json).collect();
        let tail = json!({
            "tool": {"driver": {
                "name": "HCL AppScan",
                "informationUri": "https://www.hcl-software.com/appscan",
                "rules": rules,
            }},
            "automationDetails": {"id": format!("appscan-bridge/part-{}/", self.runs)},
            "columnKind": "unicodeCodePoints",
        });
        self.out.write_all(b"],")?;
        // The tail's members, without its braces, after the results array.
        let text = serde_json::to_string(&tail)?;
        self.out.write_all(&text.as_bytes()[1..])?;
        self.rules.clear();
        self.rule_index.clear();
        self.in_run = 0;
        Ok(())
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "note",
    }
}

/// GitHub's `security-severity` (0.0–10.0) for a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Informational => "0.0",
    }
}

fn rule_json(r: &Rule) -> Value {
    let mut tags = vec![json!("security")];
    if let Some(c) = r.cwe {
        tags.push(json!(format!("CWE-{c}")));
        tags.push(json!(format!("external/cwe/cwe-{c}")));
    }
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id));
    m.insert("name".into(), json!(r.name));
    m.insert("shortDescription".into(), json!({ "text": r.name }));
    if let Some(d) = &r.description {
        m.insert("fullDescription".into(), json!({ "text": d }));
    }
    if let Some(s) = &r.solution {
        m.insert("help".into(), json!({ "text": s }));
    }
    m.insert(
        "defaultConfiguration".into(),
        json!({ "level": level(r.worst) }),
    );
    m.insert(
        "properties".into(),
        json!({ "tags": tags, "security-severity": security_severity(r.worst), "problem.severity": level(r.worst) }),
    );
    Value::Object(m)
}

/// A location as a SARIF physical location: URLs whole, paths with `/` and an optional
/// `:LINE` as the region.
fn physical_location(loc: &str) -> Value {
    let loc = loc.trim();
    if let Ok(u) = url::Url::parse(loc)
        && u.has_host()
    {
        return json!({ "artifactLocation": { "uri": u.as_str() } });
    }
    let (path, line) = match loc.rsplit_once(':') {
        Some((p, l)) if !p.is_empty() && !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
            (p, l.parse::<u64>().ok().filter(|n| *n > 0))
        }
        _ => (loc, None),
    };
    let uri: String = path
        .replace('\\', "/")
        .chars()
        .flat_map(|c| match c {
            ' ' => "%20".chars().collect::<Vec<_>>(),
            '#' => "%23".chars().collect(),
            '?' => "%3F".chars().collect(),
            c => vec![c],
        })
        .collect();
    let mut v = json!({ "artifactLocation": { "uri": uri } });
    if let Some(n) = line {
        v["region"] = json!({ "startLine": n });
    }
    v
}

impl Exporter for Sarif {
    fn write(&mut self, item: &Item<'_>) -> Result<()> {
        if self.in_run == self.max_results {
            self.close_run()?;
        }
        if self.in_run == 0 {
            self.open_run()?;
        } else {
            self.out.write_all(b",")?;
        }
        let s = item.finding;
        let f = &s.finding;
        let rule_id = f.issue_type.clone().unwrap_or_else(|| f.name.clone());
        let index = match self.rule_index.get(&rule_id) {
            Some(i) => {
                let r = &mut self.rules[*i];
                r.worst = r.worst.max(f.severity);
                r.cwe = r.cwe.or(f.cwe);
                *i
            }
            None => {
                self.rules.push(Rule {
                    id: rule_id.clone(),
                    name: f.name.clone(),
                    cwe: f.cwe,
                    worst: f.severity,
                    description: f
                        .description
                        .as_ref()
                        .map(|d| d.chars().take(2000).collect()),
                    solution: f.solution.as_ref().map(|d| d.chars().take(2000).collect()),
                });
                self.rule_index
                    .insert(rule_id.clone(), self.rules.len() - 1);
                self.rules.len() - 1
            }
        };
        let open = f.status.is_open();
        let mut text = f.name.clone();
        if let Some(l) = &f.location {
            text.push_str(" at ");
            text.push_str(l);
        }
        if let Some(e) = &f.element {
            text.push_str(&format!(" (parameter {e})"));
        }
        let mut props = Map::new();
        props.insert("severity".into(), json!(f.severity.as_str()));
        props.insert("status".into(), json!(f.status.as_str()));
        props.insert("risk".into(), json!(s.risk));
        props.insert("connector".into(), json!(s.connector));
        props.insert("externalId".into(), json!(f.external_id));
        props.insert(
            "app".into(),
            json!(s.asset_name.as_deref().unwrap_or(&f.asset_external_id)),
        );
        for (k, v) in [
            ("cve", f.cve.as_ref().map(|v| json!(v))),
            ("cvss", f.cvss.map(|v| json!(v))),
            ("cwe", f.cwe.map(|v| json!(v))),
        ] {
            if let Some(v) = v {
                props.insert(k.into(), v);
            }
        }
        if !f.tags.is_empty() {
            props.insert("tags".into(), json!(f.tags));
        }
        let mut r = Map::new();
        r.insert("ruleId".into(), json!(rule_id));
        r.insert("ruleIndex".into(), json!(index));
        r.insert("kind".into(), json!(if open { "fail" } else { "pass" }));
        r.insert(
            "level".into(),
            json!(if open { level(f.severity) } else { "none" }),
        );
        r.insert("message".into(), json!({ "text": text }));
        if let Some(l) = &f.location {
            r.insert(
                "locations".into(),
                json!([{ "physicalLocation": physical_location(l) }]),
            );
        }
        r.insert(
            "partialFingerprints".into(),
            json!({ "appscanBridge/v1": s.fingerprint }),
        );
        r.insert("properties".into(), Value::Object(props));
        serde_json::to_writer(&mut self.out, &Value::Object(r))?;
        self.in_run += 1;
        self.findings += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Report> {
        if self.in_run == 0 && self.runs == 0 {
            // No findings: still one (empty) run, as the schema requires a tool.
            self.open_run()?;
        }
        self.close_run()?;
        self.out.write_all(b"]}\n")?;
        self.out.flush()?;
        Ok(Report {
            findings: self.findings,
            files: self.path.into_iter().collect(),
            bytes: self.out.bytes,
            ..Report::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            physical_location("https://shop.example.com/a b?q=1"),
            json!({"artifactLocation": {"uri": "https://shop.example.com/a%20b?q=1"}})
        );
        assert_eq!(
            physical_location("src\\main\\Login.java:42"),
            json!({"artifactLocation": {"uri": "src/main/Login.java"}, "region": {"startLine": 42}})
        );
        assert_eq!(
            physical_location("C:x"),
            json!({"artifactLocation": {"uri": "C:x"}})
        );
    }
}
