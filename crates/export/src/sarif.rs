//! SARIF 2.1.0, as GitHub code scanning takes it: one run per application, runs of at
//! most `sarif_max_results` results (25,000 by default, GitHub's per-run limit), files of
//! at most [`MAX_RUNS_PER_FILE`] runs (GitHub's per-file limit).
//!
//! - One run per application (connector and application id), with the stable category
//!   (`automationDetails.id`) of [`category`]: a finding stays in its category whatever
//!   else the export holds, so GitHub never closes and reopens its alert. An application
//!   with more results than a run takes is split by a hash of each finding's fingerprint
//!   into 2, 4, 8… parts (`part-1-of-4/`): a finding keeps its part until the number of
//!   parts changes.
//! - One rule per issue type (`issue_type`, else the name), with its CWE in
//!   `properties.tags` (`CWE-79` and GitHub's `external/cwe/cwe-79`) and a
//!   `security-severity` from the worst finding of that type in the application.
//! - Every result has a location ([`uri`]): DAST findings the full attacked URL as
//!   `artifactLocation.uri` (the convention of other DAST tools), SAST findings the file
//!   with `region.startLine`/`startColumn` from a `:LINE[:COLUMN]` suffix, a finding
//!   without one the application's URL, else its id.
//! - `partialFingerprints["appscanBridge/v1"]` is the store's cross-source fingerprint, so
//!   the same weakness keeps its identity across exports and runs.
//! - Open findings are `kind: fail` with a level from the severity; closed ones
//!   `kind: pass`, `level: none`.
//!
//! Streaming: findings arrive in any order, so each result is encoded as it comes and
//! spilled to an anonymous temporary file (next to the output), with, per application,
//! the byte ranges of its results and its rules; [`Exporter::finish`] writes the runs
//! from there, application by application. Memory holds the rules and the ranges (one
//! per run of consecutive findings of one application: few when the findings come
//! grouped by application, 16 bytes a finding at worst). The typed `serde-sarif`
//! structures would need every result in memory, so they are not used.
//!
//! More than [`MAX_RUNS_PER_FILE`] runs go to several files, `out.sarif`,
//! `out-2.sarif`, … ([`file_path`]), all listed in [`Report::files`]; to standard output,
//! which is one file, such an export fails before writing anything.

pub mod uri;

use crate::error::{ExportError, Result};
use crate::output::{Sink, stable_hash};
use crate::registry::{ExportOptions, Exporter, Item, Report, single_output};
use model::Severity;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The most runs GitHub code scanning takes in one SARIF file.
pub const MAX_RUNS_PER_FILE: usize = 20;

/// The tool's version, written as `tool.driver.version` and `semanticVersion`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The finest split of one application into parts (by the fingerprint hash's top bits).
const MAX_PARTS: usize = 256;

/// The `n`th file (from 1) of an export to `first`: `first` itself, then
/// `findings-2.sarif`, `findings-3.sarif`… next to it.
pub fn file_path(first: &Path, n: usize) -> PathBuf {
    if n <= 1 {
        return first.to_path_buf();
    }
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match first.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    first.with_file_name(name)
}

/// How many files an export of `runs` runs is written to.
pub fn files_for_runs(runs: usize) -> usize {
    runs.max(1).div_ceil(MAX_RUNS_PER_FILE)
}

/// The run category (`automationDetails.id`) of an application's results:
/// `appscan-bridge/{connector}/{application id}/`, then `filter-{hash}/` when a filter
/// selected the findings (so that two filtered exports uploaded to one repository do not
/// replace each other's alerts), then `part-{i}-of-{n}/` when the application is split.
/// Names are percent-encoded, `/` included, so each is one segment. It ends in `/`, so
/// GitHub takes all of it as the category.
pub fn category(
    connector: &str,
    app: &str,
    filter: Option<&str>,
    part: Option<(usize, usize)>,
) -> String {
    let mut s = format!(
        "appscan-bridge/{}/{}/",
        uri::encode_segment(connector, false),
        uri::encode_segment(app, false)
    );
    if let Some(f) = filter {
        s.push_str(&format!(
            "filter-{:016x}/",
            stable_hash(f.trim().as_bytes())
        ));
    }
    if let Some((i, n)) = part {
        s.push_str(&format!("part-{i}-of-{n}/"));
    }
    s
}

struct Rule {
    id: String,
    name: String,
    cwe: Option<u32>,
    worst: Severity,
    description: Option<String>,
    solution: Option<String>,
}

/// One application's results: its rules and where its results are in the spill file.
struct Group {
    connector: String,
    app: String,
    rules: Vec<Rule>,
    rule_index: HashMap<String, usize>,
    /// Byte ranges `[start, end)` of the spill file holding its records.
    segments: Vec<(u64, u64)>,
    results: usize,
}

/// Which of a group's results a run takes.
#[derive(Clone, Copy)]
enum Share {
    All,
    /// Results whose hash's top bits select bucket `i` of `n` (a power of two).
    Bucket {
        i: usize,
        n: usize,
    },
    /// Results `from..to` in spill order (an application too large for `MAX_PARTS`).
    Range {
        from: usize,
        to: usize,
        i: usize,
        n: usize,
    },
}

struct PlannedRun {
    group: usize,
    share: Share,
}

pub struct Sarif {
    out: Option<Sink>,
    path: Option<PathBuf>,
    max_results: usize,
    filter: Option<String>,
    groups: Vec<Group>,
    group_index: BTreeMap<(String, String), usize>,
    last: Option<usize>,
    /// Results spilled as records: hash (u64 LE), length (u32 LE), the result's JSON.
    spill: BufWriter<File>,
    spilled: u64,
    findings: u64,
}

impl Sarif {
    pub fn new(opts: &ExportOptions) -> Result<Sarif> {
        let (out, path) = single_output(opts)?;
        let dir = path
            .as_deref()
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let spill = tempfile::tempfile_in(&dir)
            .or_else(|_| tempfile::tempfile())
            .map_err(|source| ExportError::Io { path: dir, source })?;
        Ok(Sarif {
            out: Some(out),
            path,
            max_results: opts.sarif_max_results.max(1),
            filter: opts.filter.as_ref().map(|f| f.text.clone()),
            groups: Vec::new(),
            group_index: BTreeMap::new(),
            last: None,
            spill: BufWriter::with_capacity(1 << 16, spill),
            spilled: 0,
            findings: 0,
        })
    }

    fn group(&mut self, connector: &str, app: &str) -> usize {
        if let Some(i) = self.last
            && self.groups[i].connector == connector
            && self.groups[i].app == app
        {
            return i;
        }
        let key = (connector.to_string(), app.to_string());
        let i = match self.group_index.get(&key) {
            Some(i) => *i,
            None => {
                self.groups.push(Group {
                    connector: key.0.clone(),
                    app: key.1.clone(),
                    rules: Vec::new(),
                    rule_index: HashMap::new(),
                    segments: Vec::new(),
                    results: 0,
                });
                self.group_index.insert(key, self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        self.last = Some(i);
        i
    }

    /// The runs to write, in category order.
    fn plan(&self, spill: &mut File) -> Result<Vec<PlannedRun>> {
        let mut runs = Vec::new();
        for &g in self.group_index.values() {
            let group = &self.groups[g];
            if group.results <= self.max_results {
                runs.push(PlannedRun {
                    group: g,
                    share: Share::All,
                });
                continue;
            }
            let mut histogram = vec![0usize; MAX_PARTS];
            for_each_record(spill, &group.segments, &mut |hash, _| {
                histogram[bucket(hash, MAX_PARTS)] += 1;
                Ok(())
            })?;
            let mut n = 2;
            let parts = loop {
                let per = MAX_PARTS / n;
                if histogram
                    .chunks(per)
                    .all(|c| c.iter().sum::<usize>() <= self.max_results)
                {
                    break Some(n);
                }
                if n == MAX_PARTS {
                    break None;
                }
                n *= 2;
            };
            match parts {
                Some(n) => runs.extend((0..n).map(|i| PlannedRun {
                    group: g,
                    share: Share::Bucket { i, n },
                })),
                None => {
                    let n = group.results.div_ceil(self.max_results);
                    runs.extend((0..n).map(|i| PlannedRun {
                        group: g,
                        share: Share::Range {
                            from: i * self.max_results,
                            to: (i + 1) * self.max_results,
                            i,
                            n,
                        },
                    }));
                }
            }
        }
        Ok(runs)
    }

    fn write_run(&self, out: &mut Sink, spill: &mut File, run: Option<&PlannedRun>) -> Result<()> {
        let filter = self.filter.as_deref();
        let (group, share) = match run {
            Some(r) => (Some(&self.groups[r.group]), r.share),
            None => (None, Share::All),
        };
        let category = match (group, share) {
            (None, _) => {
                // An empty export: a run all the same, as the schema requires a tool.
                let mut s = String::from("appscan-bridge/");
                if let Some(f) = filter {
                    s.push_str(&format!(
                        "filter-{:016x}/",
                        stable_hash(f.trim().as_bytes())
                    ));
                }
                s.push_str("empty/");
                s
            }
            (Some(g), Share::All) => category(&g.connector, &g.app, filter, None),
            (Some(g), Share::Bucket { i, n } | Share::Range { i, n, .. }) => {
                category(&g.connector, &g.app, filter, Some((i + 1, n)))
            }
        };
        let rules: Vec<Value> =
            group.map_or_else(Vec::new, |g| g.rules.iter().map(rule_json).collect());
        let head = json!({
            "tool": {"driver": {
                "name": "HCL AppScan",
                "informationUri": "https://www.hcl-software.com/appscan",
                "version": VERSION,
                "semanticVersion": VERSION,
                "rules": rules,
            }},
            "automationDetails": {"id": category},
            "columnKind": "unicodeCodePoints",
        });
        // The head's members, without the closing brace, then the results.
        let text = serde_json::to_string(&head)?;
        out.write_all(&text.as_bytes()[..text.len() - 1])?;
        out.write_all(b",\"results\":[")?;
        if let Some(g) = group {
            let mut first = true;
            let mut index = 0usize;
            for_each_record(spill, &g.segments, &mut |hash, json| {
                let take = match share {
                    Share::All => true,
                    Share::Bucket { i, n } => bucket(hash, n) == i,
                    Share::Range { from, to, .. } => (from..to).contains(&index),
                };
                index += 1;
                if take {
                    if !first {
                        out.write_all(b",")?;
                    }
                    first = false;
                    out.write_all(json)?;
                }
                Ok(())
            })?;
        }
        out.write_all(b"]}")?;
        Ok(())
    }
}

/// The bucket of `hash` among `n` (a power of two): its top bits.
fn bucket(hash: u64, n: usize) -> usize {
    if n <= 1 {
        0
    } else {
        (hash >> (64 - n.trailing_zeros())) as usize
    }
}

/// Calls `f` with the hash and JSON of each record in `segments` of the spill file.
fn for_each_record(
    spill: &mut File,
    segments: &[(u64, u64)],
    f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    for &(start, end) in segments {
        spill.seek(SeekFrom::Start(start))?;
        let mut reader =
            std::io::BufReader::with_capacity(1 << 16, (&mut *spill).take(end - start));
        let mut header = [0u8; 12];
        let mut left = end - start;
        while left > 0 {
            reader.read_exact(&mut header)?;
            let hash = u64::from_le_bytes(header[..8].try_into().unwrap_or_default());
            let len = u32::from_le_bytes(header[8..].try_into().unwrap_or_default()) as usize;
            buf.resize(len, 0);
            reader.read_exact(&mut buf)?;
            f(hash, &buf)?;
            left -= 12 + len as u64;
        }
    }
    Ok(())
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "note",
    }
}

/// GitHub's `problem.severity` (error, warning or recommendation) for a severity.
fn problem_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "recommendation",
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
    // A name that is the id says nothing more (SARIF1001).
    if r.name != r.id {
        m.insert("name".into(), json!(r.name));
    }
    m.insert("shortDescription".into(), json!({ "text": r.name }));
    // GitHub wants both a full description and help (GH2012).
    m.insert(
        "fullDescription".into(),
        json!({ "text": r.description.as_deref().unwrap_or(&r.name) }),
    );
    let help = match (&r.solution, r.cwe) {
        (Some(s), _) => s.clone(),
        (None, Some(c)) => format!(
            "{}: see CWE-{c} (https://cwe.mitre.org/data/definitions/{c}.html) and the finding's details in HCL AppScan.",
            r.name
        ),
        (None, None) => format!("{}: see the finding's details in HCL AppScan.", r.name),
    };
    m.insert("help".into(), json!({ "text": help }));
    if let Some(c) = r.cwe {
        m.insert(
            "helpUri".into(),
            json!(format!("https://cwe.mitre.org/data/definitions/{c}.html")),
        );
    }
    m.insert(
        "defaultConfiguration".into(),
        json!({ "level": level(r.worst) }),
    );
    m.insert(
        "properties".into(),
        json!({ "tags": tags, "security-severity": security_severity(r.worst), "problem.severity": problem_severity(r.worst) }),
    );
    Value::Object(m)
}

impl Exporter for Sarif {
    fn write(&mut self, item: &Item<'_>) -> Result<()> {
        let s = item.finding;
        let f = &s.finding;
        let g = self.group(&s.connector, &f.asset_external_id);
        let group = &mut self.groups[g];
        let rule_id = f.issue_type.clone().unwrap_or_else(|| f.name.clone());
        let index = match group.rule_index.get(&rule_id) {
            Some(i) => {
                let r = &mut group.rules[*i];
                r.worst = r.worst.max(f.severity);
                r.cwe = r.cwe.or(f.cwe);
                *i
            }
            None => {
                group.rules.push(Rule {
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
                group
                    .rule_index
                    .insert(rule_id.clone(), group.rules.len() - 1);
                group.rules.len() - 1
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
        let asset_url = s
            .asset_url
            .as_deref()
            .or(item.asset.and_then(|a| a.asset.url.as_deref()));
        let web = f
            .location
            .as_deref()
            .and_then(|l| uri::web_network_path(l, f.protocol.as_deref(), asset_url));
        let location = web
            .as_deref()
            .or(f.location.as_deref())
            .and_then(uri::physical_location)
            .unwrap_or_else(|| uri::application_location(asset_url, &f.asset_external_id));
        let mut r = Map::new();
        r.insert("ruleId".into(), json!(rule_id));
        r.insert("ruleIndex".into(), json!(index));
        r.insert("kind".into(), json!(if open { "fail" } else { "pass" }));
        r.insert(
            "level".into(),
            json!(if open { level(f.severity) } else { "none" }),
        );
        r.insert("message".into(), json!({ "text": text }));
        r.insert(
            "locations".into(),
            json!([{ "physicalLocation": location }]),
        );
        r.insert(
            "partialFingerprints".into(),
            json!({ "appscanBridge/v1": s.fingerprint }),
        );
        r.insert("properties".into(), Value::Object(props));
        let bytes = serde_json::to_vec(&Value::Object(r))?;
        let len = u32::try_from(bytes.len()).map_err(|_| {
            ExportError::Usage(format!("finding {} is too large for SARIF", f.external_id))
        })?;
        let start = self.spilled;
        self.spill
            .write_all(&stable_hash(s.fingerprint.as_bytes()).to_le_bytes())?;
        self.spill.write_all(&len.to_le_bytes())?;
        self.spill.write_all(&bytes)?;
        self.spilled += 12 + u64::from(len);
        match group.segments.last_mut() {
            Some((_, end)) if *end == start => *end = self.spilled,
            _ => group.segments.push((start, self.spilled)),
        }
        group.results += 1;
        self.findings += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Report> {
        let spill = std::mem::replace(
            &mut self.spill,
            BufWriter::new(tempfile::tempfile().map_err(ExportError::Write)?),
        );
        let mut spill = spill
            .into_inner()
            .map_err(|e| ExportError::Write(e.into_error()))?;
        let runs = self.plan(&mut spill)?;
        let files = files_for_runs(runs.len());
        let Some(first_path) = self.path.clone() else {
            if files > 1 {
                return Err(ExportError::Usage(format!(
                    "this SARIF export has {} runs (one per application, at most {} results \
                     each) and GitHub takes at most {MAX_RUNS_PER_FILE} runs in a file: write it \
                     with --out FILE, which splits it into {files} files, or narrow it with \
                     --connector or --filter",
                    runs.len(),
                    self.max_results
                )));
            }
            let mut out = self
                .out
                .take()
                .ok_or_else(|| ExportError::Usage("no output".into()))?;
            self.write_file(&mut out, &mut spill, &runs)?;
            return Ok(Report {
                findings: self.findings,
                files: Vec::new(),
                bytes: out.bytes,
                ..Report::default()
            });
        };
        let mut report = Report {
            findings: self.findings,
            ..Report::default()
        };
        let chunks: Vec<&[PlannedRun]> = if runs.is_empty() {
            vec![&[]]
        } else {
            runs.chunks(MAX_RUNS_PER_FILE).collect()
        };
        for (n, chunk) in chunks.into_iter().enumerate() {
            let path = file_path(&first_path, n + 1);
            let mut out = match self.out.take() {
                Some(out) => out,
                None => crate::output::open(Some(&path))?.0,
            };
            self.write_file(&mut out, &mut spill, chunk)?;
            report.bytes += out.finish()?;
            report.files.push(path);
        }
        Ok(report)
    }
}

impl Sarif {
    /// One SARIF log of `runs` (an empty run when there are none).
    fn write_file(&self, out: &mut Sink, spill: &mut File, runs: &[PlannedRun]) -> Result<()> {
        write!(
            out,
            "{{\"version\":\"2.1.0\",\"$schema\":\"{SCHEMA_URI}\",\"runs\":["
        )?;
        if runs.is_empty() {
            self.write_run(out, spill, None)?;
        }
        for (i, run) in runs.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            self.write_run(out, spill, Some(run))?;
        }
        out.write_all(b"]}\n")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths() {
        let p = Path::new("/x/findings.sarif");
        assert_eq!(file_path(p, 1), p);
        assert_eq!(file_path(p, 2), Path::new("/x/findings-2.sarif"));
        assert_eq!(file_path(Path::new("out"), 3), Path::new("out-3"));
        assert_eq!(files_for_runs(0), 1);
        assert_eq!(files_for_runs(20), 1);
        assert_eq!(files_for_runs(21), 2);
    }

    #[test]
    fn categories() {
        assert_eq!(
            category("cloud", "app-1", None, None),
            "appscan-bridge/cloud/app-1/"
        );
        assert_eq!(
            category("my conn", "shop/a", None, Some((2, 4))),
            "appscan-bridge/my%20conn/shop%2Fa/part-2-of-4/"
        );
        let a = category("c", "a", Some("status:open"), None);
        assert!(a.starts_with("appscan-bridge/c/a/filter-") && a.ends_with('/'));
        assert_ne!(a, category("c", "a", Some("severity>=high"), None));
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket(u64::MAX, 1), 0);
        assert_eq!(bucket(u64::MAX, 2), 1);
        assert_eq!(bucket(u64::MAX, 256), 255);
        assert_eq!(bucket(1 << 62, 4), 1);
        // Bucket i of n is the union of buckets 2i and 2i+1 of 2n.
        for h in [0u64, 1 << 63, 0x1234_5678_9abc_def0, u64::MAX] {
            assert_eq!(bucket(h, 8) / 2, bucket(h, 4));
        }
    }
}
