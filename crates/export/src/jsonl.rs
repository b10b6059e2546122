//! JSON Lines: each stored finding as one JSON object per line (the store's own shape:
//! normalized fields, connector, application, fingerprint, risk).

use crate::error::Result;
use crate::output::Sink;
use crate::registry::{ExportOptions, Exporter, Item, Report, single_output};
use std::io::Write;
use std::path::PathBuf;

pub struct Jsonl {
    out: Sink,
    path: Option<PathBuf>,
    findings: u64,
}

impl Jsonl {
    pub fn new(opts: &ExportOptions) -> Result<Jsonl> {
        let (out, path) = single_output(opts)?;
        Ok(Jsonl {
            out,
            path,
            findings: 0,
        })
    }
}

impl Exporter for Jsonl {
    fn write(&mut self, item: &Item<'_>) -> Result<()> {
        serde_json::to_writer(&mut self.out, item.finding)?;
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
