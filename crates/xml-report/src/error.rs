//! The reader's error type and the source position every parse error carries.
//!
//! Errors are shaped for the person who has to fix the file: each parse error names the
//! line and column (1-based, column counted in characters) where reading stopped, plus
//! the byte offset in the XML text (after gzip decompression). Field-level problems in an
//! otherwise good report are *not* errors: they are warnings on the issue or the report
//! metadata, so one odd item never fails an import.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where in the XML text a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Byte offset in the XML text (the decompressed stream for gzip input).
    pub offset: u64,
    /// 1-based line number; 0 when it could not be computed.
    pub line: u64,
    /// 1-based column, in characters; 0 when it could not be computed.
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "byte {}", self.offset)
        } else {
            write!(
                f,
                "line {}, column {} (byte {})",
                self.line, self.column, self.offset
            )
        }
    }
}

/// Why a report could not be read.
///
/// One variant per thing a caller may want to tell apart (show a different message, or
/// decide whether a retry can help): I/O, a file that is not XML text (another
/// compression, UTF-16), XML that is not well formed, a file cut short,
/// a file of another tool, a schema version this reader does not know, and the
/// resource limits. Every parse variant carries a [`Position`].
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The report file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The XML is not well formed (bad syntax, mismatched tags, bad encoding, ...).
    #[error("XML is not well formed at {pos}: {message}")]
    Malformed {
        /// Where the problem is.
        pos: Position,
        /// What the XML parser reported.
        message: String,
    },

    /// The file ends before the document does (a cut download or a partial copy).
    #[error("report is truncated: it ends at {pos} {message}")]
    Truncated {
        /// The end of the data.
        pos: Position,
        /// What was still open.
        message: String,
    },

    /// The file is not XML text this reader reads: another compression than gzip (zip,
    /// bzip2, xz, zstd) or UTF-16/UTF-32 text, told by its first bytes.
    #[error("the file is {what}, not an XML report as it can be read: {advice}")]
    NotXmlText {
        /// What the file is (`a zip archive`, `gzip holding UTF-16 text`, ...).
        what: String,
        /// What to do with it.
        advice: String,
    },

    /// The root element is not `<xml-report>`: the file comes from another tool.
    #[error(
        "not an AppScan XML report: the root element is <{found}> at {pos}, expected <xml-report>"
    )]
    WrongRoot {
        /// The root element found.
        found: String,
        /// Where it is.
        pos: Position,
    },

    /// The root carries no export version this reader knows.
    #[error("unsupported AppScan XML schema at {pos}: {message}")]
    UnknownVersion {
        /// What was found (attribute and value, or their absence).
        message: String,
        /// The root element's position.
        pos: Position,
    },

    /// A text node (or any single piece of markup) is larger than
    /// [`ReaderOptions::max_text_bytes`](crate::ReaderOptions::max_text_bytes).
    #[error("a text node larger than the limit of {limit} bytes at {pos}")]
    TextTooLarge {
        /// The configured limit.
        limit: usize,
        /// Where the oversized node is.
        pos: Position,
    },

    /// Elements nest deeper than [`ReaderOptions::max_depth`](crate::ReaderOptions::max_depth).
    #[error("elements nest deeper than the limit of {limit} at {pos}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
        /// The element that went over the limit.
        pos: Position,
    },

    /// An element or attribute name is longer than
    /// [`ReaderOptions::max_name_bytes`](crate::ReaderOptions::max_name_bytes).
    #[error("an element or attribute name longer than the limit of {limit} bytes at {pos}")]
    NameTooLong {
        /// The configured limit.
        limit: usize,
        /// The element whose name, or one of whose attributes' names, is too long.
        pos: Position,
    },

    /// A lookup table that outgrew its memory budget could not be kept in its temporary
    /// file (the temporary directory is full or not writable).
    #[error(
        "cannot keep the report's {section} table in a temporary file (set TMPDIR to a directory with room): {message}"
    )]
    TableFile {
        /// The group section (`url-group`, `entity-group`).
        section: String,
        /// What SQLite reported.
        message: String,
    },

    /// The tables kept in memory per issue type (issue types, advisories, causes, ...)
    /// outgrew their budget: an AppScan report has an entry of a few KB per issue type,
    /// and a file with thousands of large ones would take the memory the reader promises
    /// to keep flat.
    #[error(
        "the report's {section} and other issue-type tables take more than {limit} bytes (an AppScan report holds a few KB per issue type): it is not read"
    )]
    TablesTooLarge {
        /// The group section whose item passed the budget.
        section: String,
        /// The budget, in bytes.
        limit: usize,
    },

    /// The file changed between the validating pass and the issue pass.
    #[error("{} changed while it was being read", path.display())]
    Changed {
        /// The report file.
        path: PathBuf,
    },
}

impl XmlError {
    /// The position of a parse error, if the error has one.
    pub fn position(&self) -> Option<Position> {
        match self {
            XmlError::Malformed { pos, .. }
            | XmlError::Truncated { pos, .. }
            | XmlError::WrongRoot { pos, .. }
            | XmlError::UnknownVersion { pos, .. }
            | XmlError::TextTooLarge { pos, .. }
            | XmlError::TooDeep { pos, .. }
            | XmlError::NameTooLong { pos, .. } => Some(*pos),
            XmlError::Io { .. }
            | XmlError::NotXmlText { .. }
            | XmlError::TableFile { .. }
            | XmlError::TablesTooLarge { .. }
            | XmlError::Changed { .. } => None,
        }
    }
}
