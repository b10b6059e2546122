//! The one list of export formats, the options they share, and [`export`], which runs one.
//!
//! Adding a format is a file implementing [`Exporter`] plus a line in [`Format::ALL`] and
//! [`Format::open`].

use crate::error::{ExportError, Result};
use chrono::{DateTime, Utc};
use query::{Entity, Filter, Sort};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use store::{ListQuery, Store, StoreError, StoredAsset, StoredFinding};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Kdi,
    Ocsf,
    Sarif,
    Csv,
    Jsonl,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Kdi,
        Format::Ocsf,
        Format::Sarif,
        Format::Csv,
        Format::Jsonl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Kdi => "kdi",
            Format::Ocsf => "ocsf",
            Format::Sarif => "sarif",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Format::Kdi => {
                "Cisco Vulnerability Management (Kenna) KDI JSON, files per application split by size"
            }
            Format::Ocsf => {
                "OCSF 1.8 Vulnerability Finding (2002) or App Security Posture Finding (2007), JSON lines"
            }
            Format::Sarif => {
                "SARIF 2.1.0, one rule per issue type, a run per application, 20 runs a file"
            }
            Format::Csv => "every normalized field, with a header",
            Format::Jsonl => "one stored finding per line as JSON",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether `--out` names a directory (several files) rather than one file.
    pub fn writes_directory(self) -> bool {
        self == Format::Kdi
    }

    /// The order the exporter needs findings in, if any (KDI groups by application).
    fn order(self) -> &'static str {
        match self {
            // Grouped by application: KDI writes an application's file at a time, SARIF
            // keeps one stretch of its spooled results per run.
            Format::Kdi | Format::Sarif => "appId:asc",
            Format::Ocsf | Format::Csv | Format::Jsonl => "",
        }
    }

    /// Starts an exporter of this format.
    pub fn open(self, opts: &ExportOptions, ctx: &Context) -> Result<Box<dyn Exporter>> {
        Ok(match self {
            Format::Kdi => Box::new(crate::kdi::Kdi::new(opts, ctx)?),
            Format::Ocsf => Box::new(crate::ocsf::Ocsf::new(opts)?),
            Format::Sarif => Box::new(crate::sarif::Sarif::new(opts)?),
            Format::Csv => Box::new(crate::csv::Csv::new(opts)?),
            Format::Jsonl => Box::new(crate::jsonl::Jsonl::new(opts)?),
        })
    }
}

/// The OCSF event class to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcsfClass {
    /// 2002 Vulnerability Finding.
    VulnerabilityFinding,
    /// 2007 Application Security Posture Finding.
    ApplicationSecurityPosture,
}

impl OcsfClass {
    pub fn uid(self) -> u32 {
        match self {
            OcsfClass::VulnerabilityFinding => 2002,
            OcsfClass::ApplicationSecurityPosture => 2007,
        }
    }
    pub fn from_uid(uid: u32) -> Option<OcsfClass> {
        match uid {
            2002 => Some(OcsfClass::VulnerabilityFinding),
            2007 => Some(OcsfClass::ApplicationSecurityPosture),
            _ => None,
        }
    }
}

/// What an export writes and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    pub connector: Option<String>,
    pub filter: Option<Filter>,
    /// A file (a directory for KDI); `None` is standard output (the current directory for KDI).
    pub out: Option<PathBuf>,
    /// KDI: the largest file to write, in bytes.
    pub max_file_size: u64,
    /// KDI: the 0–10 score of Informational, Low, Medium, High, Critical.
    pub kdi_scores: [u8; 5],
    /// KDI: write each finding as a version-1 `vuln` keyed by its issue type instead of
    /// a version-2 `finding` keyed by its own id (the default, as the platform's AppScan
    /// connectors load them). The platform keeps one vuln per asset and identifier, so
    /// issues of one type on one application become one vuln there.
    pub kdi_vulns: bool,
    pub ocsf_class: OcsfClass,
    /// SARIF: results per run before a new run starts.
    pub sarif_max_results: usize,
    /// CSV: write a cell that starts with `=`, `+`, `-` or `@` as it is, where by default
    /// it gets a leading `'` so that a spreadsheet shows it instead of running it.
    pub csv_keep_formulas: bool,
    /// When the export was made (OCSF event times of findings without dates, file names).
    pub now: DateTime<Utc>,
    /// Set by another thread to stop the export at the next finding (the HTTP client
    /// that asked for it went away); the export then fails with [`ExportError::Stopped`].
    pub stop: Option<Arc<AtomicBool>>,
}

impl ExportOptions {
    pub fn new(format: Format) -> ExportOptions {
        ExportOptions {
            format,
            connector: None,
            filter: None,
            out: None,
            max_file_size: 100 * 1000 * 1000,
            kdi_scores: [0, 3, 6, 9, 10],
            kdi_vulns: false,
            ocsf_class: OcsfClass::VulnerabilityFinding,
            sarif_max_results: 25_000,
            csv_keep_formulas: false,
            now: Utc::now(),
            stop: None,
        }
    }
}

/// What the store tells exporters besides findings: connectors' kinds and last runs.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Connector name → kind (`asoc`, `ase`, `xml`).
    pub kinds: HashMap<String, String>,
    /// Connector name → id of its last run (KDI file names).
    pub last_runs: HashMap<String, i64>,
}

/// One finding with its asset, as exporters see it.
pub struct Item<'a> {
    pub finding: &'a StoredFinding,
    pub asset: Option<&'a StoredAsset>,
    /// The connector's kind (`asoc`, `ase`, `xml`), if known.
    pub kind: Option<&'a str>,
}

/// A streaming writer of one format.
pub trait Exporter {
    /// Writes one finding; called in the order the format asked for.
    fn write(&mut self, item: &Item<'_>) -> Result<()>;
    /// Completes the output (closing documents, flushing) and says what was written.
    fn finish(self: Box<Self>) -> Result<Report>;
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub findings: u64,
    /// Files written (empty when writing to standard output).
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    /// KDI: files larger than `max_file_size`, because one finding with its vuln_def
    /// alone is larger.
    pub oversized: Vec<PathBuf>,
}

/// Exports the findings `opts` selects from `store`.
pub fn export(store: &dyn Store, opts: &ExportOptions) -> Result<Report> {
    export_with_progress(store, opts, &mut |_| {})
}

/// [`export`], calling `progress` with the number of findings written so far after each
/// one (for a progress bar).
pub fn export_with_progress(
    store: &dyn Store,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Report> {
    if let Some(f) = &opts.filter
        && f.entity != Entity::Findings
    {
        return Err(ExportError::Usage("exports take a findings filter".into()));
    }
    let mut ctx = Context::default();
    for c in store.connectors()? {
        if opts.connector.as_ref().is_some_and(|n| *n != c.name) {
            continue;
        }
        if let Some(run) = store.last_run(c.id)? {
            ctx.last_runs.insert(c.name.clone(), run.id);
        }
        ctx.kinds.insert(c.name, c.kind);
    }
    // Assets are few (applications); findings are streamed.
    let assets: HashMap<(String, String), StoredAsset> = store
        .assets(&ListQuery {
            connector: opts.connector.clone(),
            ..Default::default()
        })?
        .into_iter()
        .map(|a| ((a.connector.clone(), a.asset.external_id.clone()), a))
        .collect();
    let mut w = opts.format.open(opts, &ctx)?;
    let mut key = (String::new(), String::new());
    let mut written = 0u64;
    for q in queries(opts, &ctx)? {
        let streamed = store.for_each_finding(&q, &mut |f| {
            if opts
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed))
            {
                return Err(StoreError::Callback(Box::new(ExportError::Stopped)));
            }
            key.0.clone_from(&f.connector);
            key.1.clone_from(&f.finding.asset_external_id);
            let item = Item {
                finding: &f,
                asset: assets.get(&key),
                kind: ctx.kinds.get(&f.connector).map(String::as_str),
            };
            w.write(&item)
                .map_err(|e| StoreError::Callback(Box::new(e)))?;
            written += 1;
            progress(written);
            Ok(())
        });
        match streamed {
            Ok(()) => {}
            Err(StoreError::Callback(e)) => {
                return Err(match e.downcast::<ExportError>() {
                    Ok(e) => *e,
                    Err(other) => ExportError::Usage(other.to_string()),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    w.finish()
}

/// The listings an export streams, in order. A format that needs its findings grouped
/// by application (KDI) reads one connector at a time, in name order: within one
/// connector the application index gives that order, while sorting by connector name
/// across connectors would make the store sort every finding before the first is
/// written.
fn queries(opts: &ExportOptions, ctx: &Context) -> Result<Vec<ListQuery>> {
    let order = opts.format.order();
    let sort = if order.is_empty() {
        Vec::new()
    } else {
        Sort::parse_list(Entity::Findings, order).map_err(|e| ExportError::Usage(e.to_string()))?
    };
    let query = |connector: Option<String>| ListQuery {
        connector,
        filter: opts.filter.clone(),
        sort: sort.clone(),
        ..Default::default()
    };
    if sort.is_empty() {
        return Ok(vec![query(opts.connector.clone())]);
    }
    let mut names: Vec<&String> = ctx.kinds.keys().collect();
    names.sort();
    Ok(names.into_iter().map(|n| query(Some(n.clone()))).collect())
}

/// Reads a size: `1048576`, `500k`, `10MB`, `1MiB`, `2G` (k/M/G are powers of 1000,
/// KiB/MiB/GiB of 1024).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 10MB, 512KiB)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit '{other}' (B, KB, MB, GB, KiB, MiB, GiB)"
            ));
        }
    };
    let bytes = (n * mult).round();
    if !(1.0..=1e15).contains(&bytes) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(bytes as u64)
}

/// When a finding was first and last seen, as the formats that write such a pair (KDI
/// `created_at`/`last_seen_at`, OCSF `first_seen_time`/`last_seen_time`) have them: both
/// from the source's dates when it has them, else from the syncs that saw the finding,
/// the first never after the last. An AppScan Standard report has no creation dates: its
/// findings are first seen when the store first saw them (stable from one report to the
/// next; the last report's scan date moved forward with each), or at the scan date when
/// that is earlier (a report years old, imported now, made a finding first seen years
/// after it was last seen).
pub fn seen_times(f: &StoredFinding) -> (DateTime<Utc>, DateTime<Utc>) {
    let last = f.finding.last_found.unwrap_or(f.last_seen);
    let first = f.finding.first_found.unwrap_or(f.first_seen);
    (first.min(last), last)
}

/// RFC 3339 with seconds, as every text format here writes times.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Opens the single output of a one-file format.
pub(crate) fn single_output(
    opts: &ExportOptions,
) -> Result<(crate::output::Sink, Option<PathBuf>)> {
    crate::output::open(opts.out.as_deref().filter(|p| *p != Path::new("-")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_size("1.5k"), Ok(1500));
        assert!(parse_size("10 parsecs").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn formats_by_name() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Some(f));
        }
        assert_eq!(Format::parse("SARIF"), Some(Format::Sarif));
        assert_eq!(Format::parse("xml"), None);
    }
}
