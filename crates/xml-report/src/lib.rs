//! Streaming reader of AppScan XML reports (`<xml-report>`).
//!
//! Reads both families that share the root element — the AppScan on Cloud XML export
//! (`AsocXmlExportVersion` 1.x; technology `Mixed`, `DAST` or `SAST`) and the AppScan
//! Standard report (`xmlExportVersion` 2.x, DAST) — from a plain or gzip file (told by
//! its magic bytes; other compressions and UTF-16 are refused saying what they are), with
//! memory that stays flat whatever the file size.
//!
//! Two passes: [`open`] validates the whole file (well-formed, an AppScan report, a known
//! schema, within the limits of [`ReaderOptions`]) and collects the metadata and the small
//! lookup tables (spilled to a temporary file past
//! [`ReaderOptions::table_memory_bytes`]); [`Report::issues`] then streams the issues, each resolved against the
//! tables. A bad file fails in [`open`], before any issue is yielded, so a caller imports
//! all of a report or nothing. Missing fields and unresolvable references are warnings on
//! the issue, never errors. [`Issue::to_record`] gives each issue as an AppScan on Cloud
//! API-shaped JSON object so one normalized map serves API and XML sources.
//!
//! ```no_run
//! use xml_report::{ReaderOptions, open};
//! let report = open("report.xml".as_ref(), ReaderOptions::default(), |read, total| {
//!     eprintln!("{read}/{total} bytes");
//! })?;
//! println!("{} issues from {}", report.issue_count(), report.meta().family);
//! for issue in report.issues()? {
//!     let record = issue?.to_record();
//!     println!("{}", record["IssueType"]);
//! }
//! # Ok::<(), xml_report::XmlError>(())
//! ```
//!
//! # Layout
//! - [`report`]: the two passes — [`open`], [`Report`], [`IssueIter`].
//! - [`meta`]: the report's own facts — [`Family`], [`Technology`], [`ReportMeta`].
//! - [`issue`]: [`Issue`], [`Severity`], [`Variant`] and the API-shaped record.
//! - `resolve`: one issue item plus the tables → an [`Issue`].
//! - `groups`: the lookup tables built from the `*-group` sections.
//! - `lookup_table`: the table of a site-sized group (URLs, entities): in memory
//!   (`compact_table`) until it outgrows its budget, then in a temporary file (`disk_table`).
//! - `scanner`: the quick-xml pull loop with the well-formedness, depth and size checks.
//! - `tree`: the bounded, non-recursive element tree one item is collected into.
//! - `text`: AppScan's text markup → plain text; bounding texts.
//! - [`dates`]: the date forms AppScan writes → UTC ([`DateValue`]).
//! - `source`: gzip detection, byte counting, the per-event size guard, line/column.
//! - `sniff`: files that are not XML text (zip, bzip2, xz, zstd, UTF-16) told by their
//!   first bytes.
//! - [`error`]: [`XmlError`] and [`Position`].
//! - [`options`]: [`ReaderOptions`] and their defaults.
//! - [`testgen`]: large AppScan-shaped reports for tests and memory benchmarks.

mod compact_table;
pub mod dates;
mod disk_table;
pub mod error;
mod groups;
pub mod issue;
mod lookup_table;
pub mod meta;
pub mod options;
pub mod report;
mod resolve;
mod scanner;
mod sniff;
mod source;
pub mod testgen;
mod text;
mod tree;

pub use dates::DateValue;
pub use error::{Position, XmlError};
pub use groups::GROUP_SECTIONS;
pub use issue::{Issue, Severity, Variant};
pub use meta::{Family, ReportMeta, Technology};
pub use options::ReaderOptions;
pub use report::{IssueIter, Report, open};
