//! The streaming XML report reader: any bytes, written to a file (plain or gzip, told by
//! magic bytes), must open as a report or fail with an error — and every issue of a report
//! that opened must stream without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use xml_report::{ReaderOptions, open};

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!(
        "appscan-bridge-fuzz-xml-{}.xml",
        std::process::id()
    ))
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let options = ReaderOptions::default();
    if let Ok(report) = open(&path, options, |_, _| {}) {
        let _ = report.meta();
        if let Ok(issues) = report.issues() {
            for issue in issues {
                match issue {
                    Ok(i) => {
                        let _ = i.to_record();
                    }
                    Err(_) => break,
                }
            }
        }
    }
});
