//! Helpers shared by the integration tests: where the real report fixtures are, and
//! reading a report whole.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use xml_report::{Issue, ReaderOptions, ReportMeta, XmlError, open};

/// `/work/shared/fixtures/appscan-xml`, found from this crate's manifest directory.
pub fn fixture_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/appscan-xml");
    assert!(
        dir.is_dir(),
        "the real AppScan XML fixtures are missing: expected them in {} \
         (shared/fixtures/appscan-xml next to the workspace)",
        dir.display()
    );
    dir
}

/// One fixture file, by name.
pub fn fixture(name: &str) -> PathBuf {
    let path = fixture_dir().join(name);
    assert!(path.is_file(), "fixture {} is missing", path.display());
    path
}

/// Reads a report whole with the given options.
pub fn read_with(path: &Path, opts: ReaderOptions) -> Result<(ReportMeta, Vec<Issue>), XmlError> {
    let report = open(path, opts, |_, _| {})?;
    let meta = report.meta().clone();
    let issues = report.issues()?.collect::<Result<Vec<_>, _>>()?;
    Ok((meta, issues))
}

/// Reads a report whole with the default options.
pub fn read(path: &Path) -> Result<(ReportMeta, Vec<Issue>), XmlError> {
    read_with(path, ReaderOptions::default())
}

/// The issue whose item id is `id`.
pub fn by_item<'a>(issues: &'a [Issue], id: &str) -> &'a Issue {
    issues
        .iter()
        .find(|i| i.item_id == id)
        .unwrap_or_else(|| panic!("no issue with item id {id}"))
}

/// Writes `content` to a fresh file in `dir`.
pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("writing a test file");
    path
}
