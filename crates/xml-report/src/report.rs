//! The two passes over a report file.
//!
//! Pass 1 ([`open`]) reads the whole file once: it checks that it is a well-formed
//! AppScan report of a known schema, collects the metadata (root, `layout`,
//! `scan-information`) and the small lookup tables (`*-group` sections), and counts the
//! issue items — without keeping any of them. A bad file fails here, before a single
//! issue is handed out, so a caller imports all of a report or nothing.
//!
//! Pass 2 ([`Report::issues`]) reads the file again and yields the issue items one at a
//! time, each resolved against the tables. Group sections may come before or after
//! `issue-group`: by pass 2 they are all known. Memory stays flat: one issue item and the
//! tables are all that is held.

use std::path::Path;

use crate::error::XmlError;
use crate::groups::{GROUP_SECTIONS, GroupTables};
use crate::issue::Issue;
use crate::meta::{ROOT_ELEMENT, ReportMeta};
use crate::options::ReaderOptions;
use crate::resolve::{Context, ISSUE_SKIP, build_issue};
use crate::scanner::{Ev, Scanner};
use crate::source::Origin;
use crate::tree::{Tree, TreeBuilder};

/// Progress is reported at most once per this many file bytes (and at the end).
const PROGRESS_STEP: u64 = 256 * 1024;
/// Report-level warnings kept; the rest are counted.
const MAX_META_WARNINGS: usize = 200;
/// Budget for a metadata section (`layout`, `scan-information`).
const META_SECTION_BYTES: usize = 1024 * 1024;
/// Subtrees of `scan-configuration` not needed for the metadata.
const SCAN_CONFIG_SKIP: &[&str] = &["login-settings-group", "path-filters", "scanned-hosts"];

/// Reads and validates a report (pass 1): metadata, lookup tables, issue count.
///
/// `progress` is called with (file bytes read, file size) as the file is read; for gzip
/// input both count compressed bytes. Nothing of the issue items is kept; call
/// [`Report::issues`] to read them.
pub fn open(
    path: &Path,
    opts: ReaderOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<Report, XmlError> {
    let origin = Origin::inspect(path)?;
    let total = origin.file_bytes;
    let mut sc = Scanner::open(&origin, &opts)?;
    let mut meta: Option<ReportMeta> = None;
    let mut tables = GroupTables::new(&opts);
    let mut dropped_warnings = 0usize;
    let mut warn = |meta: &mut ReportMeta, w: String| {
        if meta.warnings.len() < MAX_META_WARNINGS {
            meta.warnings.push(w);
        } else {
            dropped_warnings += 1;
        }
    };

    // The depth-2 section being read, and an item or section being collected.
    let mut section = String::new();
    let mut capture: Option<(Capture, TreeBuilder)> = None;
    // The last group item's tree, whose buffers the next one is built into.
    let mut spare: Option<Tree> = None;
    let mut last_progress = 0u64;
    progress(0, total);
    loop {
        let ev = sc.next()?;
        let read = sc.bytes_read();
        if read >= last_progress + PROGRESS_STEP {
            last_progress = read;
            progress(read, total);
        }
        match ev {
            Ev::Start { depth } => {
                if let Some((_, b)) = capture.as_mut() {
                    b.start(sc.name(), sc.attrs());
                    continue;
                }
                match depth {
                    1 => {
                        let pos = sc.event_error_offset();
                        if sc.name() != ROOT_ELEMENT {
                            return Err(XmlError::WrongRoot {
                                found: sc.name().to_string(),
                                pos: sc.locate(pos),
                            });
                        }
                        let attrs: Vec<(String, String)> = sc
                            .attrs()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect();
                        let m = ReportMeta::from_root(&attrs).map_err(|message| {
                            XmlError::UnknownVersion {
                                message,
                                pos: sc.locate(pos),
                            }
                        })?;
                        meta = Some(m);
                    }
                    2 => {
                        section.clear();
                        section.push_str(sc.name());
                        if section == "issue-group"
                            && let Some(m) = meta.as_mut()
                        {
                            m.has_issue_group = true;
                        }
                        let skip: Option<&'static [&'static str]> = match sc.name() {
                            "layout" | "scan-information" => Some(&[]),
                            "scan-configuration" => Some(SCAN_CONFIG_SKIP),
                            _ => None,
                        };
                        if let Some(skip) = skip {
                            let b = TreeBuilder::new(
                                Tree::default(),
                                sc.name(),
                                sc.attrs(),
                                skip,
                                opts.max_field_bytes,
                                META_SECTION_BYTES,
                            );
                            capture = Some((Capture::Section, b));
                        } else if section == "issue-group"
                            && let Some(m) = meta.as_mut()
                            && let Some(total) = sc.attr("total")
                        {
                            match total.trim().parse() {
                                Ok(n) => m.issue_group_total = Some(n),
                                Err(_) => {
                                    let w =
                                        format!("issue-group total=\"{total}\" is not a number");
                                    warn(m, w);
                                }
                            }
                        }
                    }
                    3 if sc.name() == "item" => {
                        let m = meta.as_mut().expect("root read before its children");
                        if section == "issue-group" {
                            m.issue_count += 1;
                        } else if GROUP_SECTIONS.contains(&section.as_str()) {
                            *m.group_items.entry(section.clone()).or_default() += 1;
                            let b = TreeBuilder::new(
                                spare.take().unwrap_or_default(),
                                "item",
                                sc.attrs(),
                                &[],
                                opts.max_field_bytes,
                                opts.max_item_bytes,
                            );
                            capture = Some((Capture::GroupItem, b));
                        }
                    }
                    _ => {}
                }
            }
            Ev::Text => {
                if let Some((_, b)) = capture.as_mut() {
                    b.text(sc.text());
                }
            }
            Ev::End { .. } => {
                let Some((kind, b)) = capture.as_mut() else {
                    continue;
                };
                if !b.end() {
                    continue;
                }
                let kind = *kind;
                let (_, b) = capture.take().expect("capture is set");
                let tree = b.finish();
                let m = meta.as_mut().expect("root read before its children");
                match kind {
                    Capture::Section => match section.as_str() {
                        "layout" => m.apply_layout(&tree),
                        "scan-information" => m.apply_scan_information(&tree),
                        _ => m.apply_scan_configuration(&tree),
                    },
                    Capture::GroupItem => {
                        if let Some(w) = tables.add(&section, &tree, &opts)? {
                            warn(m, w);
                        }
                        spare = Some(tree);
                    }
                }
            }
            Ev::Eof => break,
        }
    }
    progress(total, total);
    let mut meta = meta.expect("a well-formed document has a root");
    if dropped_warnings > 0 {
        meta.warnings
            .push(format!("... and {dropped_warnings} more report warnings"));
    }
    tables.finish()?;
    meta.compressed = origin.gzip;
    meta.file_bytes = total;
    Ok(Report {
        origin,
        opts,
        meta,
        tables,
    })
}

#[derive(Debug, Clone, Copy)]
enum Capture {
    Section,
    GroupItem,
}

/// A validated report: its metadata and lookup tables. [`Report::issues`] reads the
/// issues.
pub struct Report {
    origin: Origin,
    opts: ReaderOptions,
    meta: ReportMeta,
    tables: GroupTables,
}

impl std::fmt::Debug for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Report")
            .field("path", &self.origin.path)
            .field("family", &self.meta.family)
            .field("export_version", &self.meta.export_version)
            .field("issue_count", &self.meta.issue_count)
            .finish_non_exhaustive()
    }
}

impl Report {
    /// What the report says about itself.
    pub fn meta(&self) -> &ReportMeta {
        &self.meta
    }

    /// Number of issues [`Report::issues`] will yield.
    pub fn issue_count(&self) -> u64 {
        self.meta.issue_count
    }

    /// Starts pass 2: the issues, one at a time, in file order.
    pub fn issues(self) -> Result<IssueIter, XmlError> {
        self.issues_with_progress(|_, _| {})
    }

    /// Like [`Report::issues`], reporting (file bytes read, file size) as it goes.
    pub fn issues_with_progress(
        self,
        progress: impl FnMut(u64, u64) + Send + 'static,
    ) -> Result<IssueIter, XmlError> {
        // The file must be the one pass 1 validated.
        let now = Origin::inspect(&self.origin.path)?;
        if now.file_bytes != self.origin.file_bytes
            || now.modified != self.origin.modified
            || now.gzip != self.origin.gzip
        {
            return Err(XmlError::Changed {
                path: self.origin.path.clone(),
            });
        }
        let scanner = Scanner::open(&self.origin, &self.opts)?;
        Ok(IssueIter {
            scanner,
            report: self,
            section_is_issues: false,
            capture: None,
            spare: None,
            done: false,
            progress: Box::new(progress),
            last_progress: 0,
        })
    }
}

/// Pass 2: yields each `issue-group/item` as an [`Issue`]. After an error (only possible
/// if the file changed since pass 1 or cannot be read) it yields nothing more.
pub struct IssueIter {
    scanner: Scanner,
    report: Report,
    section_is_issues: bool,
    capture: Option<TreeBuilder>,
    /// The last issue's tree, whose buffers the next one is built into.
    spare: Option<Tree>,
    done: bool,
    progress: Box<dyn FnMut(u64, u64) + Send>,
    last_progress: u64,
}

impl std::fmt::Debug for IssueIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssueIter")
            .field("path", &self.report.origin.path)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl IssueIter {
    /// The report's metadata.
    pub fn meta(&self) -> &ReportMeta {
        &self.report.meta
    }

    fn step(&mut self) -> Result<Option<Issue>, XmlError> {
        let total = self.report.origin.file_bytes;
        loop {
            let ev = self.scanner.next()?;
            let read = self.scanner.bytes_read();
            if read >= self.last_progress + PROGRESS_STEP {
                self.last_progress = read;
                (self.progress)(read, total);
            }
            let sc = &self.scanner;
            match ev {
                Ev::Start { depth } => {
                    if let Some(b) = self.capture.as_mut() {
                        b.start(sc.name(), sc.attrs());
                    } else if depth == 2 {
                        self.section_is_issues = sc.name() == "issue-group";
                    } else if depth == 3 && self.section_is_issues && sc.name() == "item" {
                        let opts = &self.report.opts;
                        self.capture = Some(TreeBuilder::new(
                            self.spare.take().unwrap_or_default(),
                            "item",
                            sc.attrs(),
                            ISSUE_SKIP,
                            opts.max_field_bytes,
                            opts.max_item_bytes,
                        ));
                    }
                }
                Ev::Text => {
                    if let Some(b) = self.capture.as_mut() {
                        b.text(sc.text());
                    }
                }
                Ev::End { .. } => {
                    if let Some(b) = self.capture.as_mut()
                        && b.end()
                    {
                        let tree = self.capture.take().expect("capture is set").finish();
                        let cx = Context {
                            tables: &self.report.tables,
                            meta: &self.report.meta,
                            opts: &self.report.opts,
                        };
                        let issue = build_issue(&tree, &cx);
                        self.spare = Some(tree);
                        return issue.map(Some);
                    }
                }
                Ev::Eof => {
                    (self.progress)(total, total);
                    return Ok(None);
                }
            }
        }
    }
}

impl Iterator for IssueIter {
    type Item = Result<Issue, XmlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(issue)) => Some(Ok(issue)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
