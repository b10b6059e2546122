//! Memory benchmark: writes a large AppScan-shaped report (if the file does not exist),
//! reads it through both passes, and prints the count, the time and the peak RSS
//! (`VmHWM` from /proc/self/status).
//!
//! `cargo run --release -p xml-report --example large_report_rss -- [PATH] [MEGABYTES] [asoc|standard] [gzip]`
//! (defaults: a temporary file, 200 MB, asoc, plain).

use std::path::PathBuf;
use std::time::Instant;

use xml_report::testgen::{GenSpec, write_report};
use xml_report::{ReaderOptions, open};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path: PathBuf = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("xml-report-large.xml"));
    let megabytes: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let mut spec = match args.next().as_deref() {
        Some("standard") => GenSpec::standard(0),
        _ => GenSpec::asoc(0),
    };
    spec.gzip = args.next().as_deref() == Some("gzip");
    if !path.exists() {
        spec.issues = spec.issues_for_bytes(megabytes * 1024 * 1024);
        let started = Instant::now();
        let written = write_report(&path, &spec)?;
        eprintln!(
            "wrote {} ({} issues, {:.1} MB of XML) in {:.1?}",
            path.display(),
            spec.issues,
            written as f64 / 1e6,
            started.elapsed()
        );
    }
    eprintln!("peak RSS before reading: {:?} KiB", peak_rss_kib());

    let started = Instant::now();
    let report = open(&path, ReaderOptions::default(), |_, _| {})?;
    let pass1 = started.elapsed();
    let expected = report.issue_count();
    let mut count = 0u64;
    let mut warnings = 0usize;
    for issue in report.issues()? {
        let issue = issue?;
        warnings += issue.warnings.len();
        count += 1;
    }
    let total = started.elapsed();
    let size = std::fs::metadata(&path)?.len();
    println!(
        "file_bytes={size} issues={count} expected={expected} warnings={warnings} pass1={pass1:.2?} total={total:.2?} peak_rss_kib={}",
        peak_rss_kib().map_or("unknown".to_string(), |k| k.to_string())
    );
    if count != expected {
        return Err(format!("read {count} issues, pass 1 counted {expected}").into());
    }
    Ok(())
}
