//! Prints a report's metadata and each issue's record as JSON lines:
//! `cargo run -p xml-report --example dump_report -- report.xml[.gz]`.

use std::path::PathBuf;

use xml_report::{ReaderOptions, open};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: dump_report <report.xml>")?
        .into();
    let report = open(&path, ReaderOptions::default(), |_, _| {})?;
    println!("{}", serde_json::to_string(report.meta())?);
    for issue in report.issues()? {
        let issue = issue?;
        let mut record = issue.to_record();
        record["Warnings"] = serde_json::json!(issue.warnings);
        println!("{}", serde_json::to_string(&record)?);
    }
    Ok(())
}
