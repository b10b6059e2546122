//! Exports of stored findings in the formats other tools ingest, streamed from the store.
//!
//! Every exporter is fed one finding at a time from [`store::Store::for_each_finding`]
//! (with the finding's asset looked up from a small in-memory map of assets), so memory
//! stays flat however many findings there are. Formats that need a whole JSON document
//! (KDI, SARIF) write the document's head, stream the items, and write what can only be
//! known at the end (KDI `vuln_defs`, SARIF `tool.driver.rules`) last — JSON object
//! members have no order.
//!
//! # Layout
//! - [`registry`]: [`Format`], the one list of formats, and [`export`], which runs one.
//! - [`kdi`]: Cisco Vulnerability Management (Kenna) KDI JSON, split into files by size.
//! - [`ocsf`]: OCSF 1.8 Vulnerability Finding (2002) or Application Security Posture
//!   Finding (2007) events, one JSON object per line.
//! - [`sarif`]: SARIF 2.1.0, one rule per issue type, a run per application (split by
//!   fingerprint past `--sarif-max-results`), at most 20 runs a file.
//! - [`csv`]: every normalized field with a header (the `csv` crate does the escaping).
//! - [`jsonl`]: one stored finding per line as JSON.
//! - [`output`]: where bytes go (file, standard output, directory) and how many went.
//! - [`error`]: the error type, [`ExportError`].

pub mod csv;
pub mod error;
pub mod jsonl;
pub mod kdi;
pub mod ocsf;
pub mod output;
pub mod registry;
pub mod sarif;

pub use error::{ExportError, Result};
pub use registry::{
    ExportOptions, Exporter, Format, Item, OcsfClass, Report, export, export_with_progress,
    parse_size,
};
