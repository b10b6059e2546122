//! CSV: every normalized field of a finding plus where it is stored, one row each, with a
//! header. Quoting of commas, quotes and line breaks is the `csv` crate's (RFC 4180);
//! tags are joined with `; `, times are RFC 3339, empty values are empty cells.

use crate::error::Result;
use crate::output::Sink;
use crate::registry::{ExportOptions, Exporter, Item, Report, rfc3339, single_output};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// The columns, in order.
pub const HEADER: [&str; 31] = [
    "id",
    "connector",
    "app",
    "app_url",
    "app_id",
    "external_id",
    "name",
    "severity",
    "source_severity",
    "status",
    "source_status",
    "risk",
    "cve",
    "cvss",
    "cwe",
    "first_found",
    "last_found",
    "last_updated",
    "port",
    "protocol",
    "issue_type",
    "location",
    "element",
    "description",
    "solution",
    "detection",
    "tags",
    "fingerprint",
    "active",
    "first_seen",
    "last_seen",
];

pub struct Csv {
    out: ::csv::Writer<Sink>,
    path: Option<PathBuf>,
    findings: u64,
}

impl Csv {
    pub fn new(opts: &ExportOptions) -> Result<Csv> {
        let (sink, path) = single_output(opts)?;
        let mut out = ::csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(sink);
        out.write_record(HEADER)?;
        Ok(Csv {
            out,
            path,
            findings: 0,
        })
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(rfc3339).unwrap_or_default()
}

impl Exporter for Csv {
    fn write(&mut self, item: &Item<'_>) -> Result<()> {
        let s = item.finding;
        let f = &s.finding;
        let row: [String; 31] = [
            s.id.to_string(),
            s.connector.clone(),
            opt(&s.asset_name),
            opt(&s.asset_url),
            f.asset_external_id.clone(),
            f.external_id.clone(),
            f.name.clone(),
            f.severity.to_string(),
            f.source_severity.clone(),
            f.status.to_string(),
            opt(&f.source_status),
            s.risk.to_string(),
            opt(&f.cve),
            opt(&f.cvss),
            opt(&f.cwe),
            time(f.first_found),
            time(f.last_found),
            time(f.last_updated),
            opt(&f.port),
            opt(&f.protocol),
            opt(&f.issue_type),
            opt(&f.location),
            opt(&f.element),
            opt(&f.description),
            opt(&f.solution),
            opt(&f.detection),
            f.tags.join("; "),
            s.fingerprint.clone(),
            s.active.to_string(),
            rfc3339(s.first_seen),
            rfc3339(s.last_seen),
        ];
        self.out.write_record(&row)?;
        self.findings += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Report> {
        let Csv {
            out,
            path,
            findings,
        } = *self;
        let mut sink = out.into_inner().map_err(|e| e.into_error())?;
        std::io::Write::flush(&mut sink)?;
        Ok(Report {
            findings,
            files: path.into_iter().collect(),
            bytes: sink.bytes,
        })
    }
}
