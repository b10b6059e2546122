//! The report files, `<stem>.md` and `<stem>.json` in the output directory, each written
//! whole under a temporary name and renamed into place: a reader (or a run stopped
//! mid-write) never sees half a table.

use super::report::Report;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `report` as `<stem>.md` and `<stem>.json` in `out`; returns both paths.
pub fn write(out: &Path, stem: &str, report: &Report) -> anyhow::Result<(PathBuf, PathBuf)> {
    let md = out.join(format!("{stem}.md"));
    replace(&md, report.markdown().as_bytes())?;
    let json = out.join(format!("{stem}.json"));
    replace(&json, &serde_json::to_vec_pretty(report)?)?;
    Ok((md, json))
}

/// Removes `<stem>.md` and `<stem>.json` from `out`, if there.
pub fn remove(out: &Path, stem: &str) {
    for ext in ["md", "json"] {
        std::fs::remove_file(out.join(format!("{stem}.{ext}"))).ok();
    }
}

/// Writes `bytes` under a temporary name in `path`'s directory, then renames it to
/// `path` (the export's [`export::output::create`]).
fn replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = export::output::create(path)?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(file.commit()?)
}
