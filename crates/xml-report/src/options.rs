//! Limits and bounds the reader applies, with defaults that fit real reports.

/// Limits applied while reading. Every limit turns what would be unbounded memory or
/// recursion into a clear error or a bounded, flagged value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Largest text node (and largest single piece of markup) accepted; a larger one is
    /// [`XmlError::TextTooLarge`](crate::XmlError::TextTooLarge). Default 16 MiB.
    pub max_text_bytes: usize,
    /// Deepest element nesting accepted (the root is depth 1); deeper is
    /// [`XmlError::TooDeep`](crate::XmlError::TooDeep). Default 256.
    pub max_depth: usize,
    /// Longest element or attribute name accepted, in bytes; longer is
    /// [`XmlError::NameTooLong`](crate::XmlError::NameTooLong). AppScan's names are short;
    /// the names of the open elements are held until they close (by the reader and by
    /// the parser), so long names deep down took memory the other two limits allowed
    /// (40 nested names of 15 MiB: 1.5 GB). Default 1 KiB.
    pub max_name_bytes: usize,
    /// Longest text kept for one field of an issue (descriptions, fix recommendation,
    /// reasoning, ...). Longer text is cut at a character boundary, marked, and warned
    /// about. Default 64 KiB.
    pub max_field_bytes: usize,
    /// Text kept while collecting one issue item or group item; the rest of an oversized
    /// item is dropped with a warning. Default 8 MiB.
    pub max_item_bytes: usize,
    /// Variants of one issue kept for its details (the others are counted). Default 20.
    pub max_variants: usize,
    /// Memory one site-sized lookup table (`url-group`, `entity-group`) may take before
    /// it moves into a temporary file (SQLite's, in `$TMPDIR`): their size follows the
    /// scanned site, and a report of a gigabyte holds some 170 MB of them. Default 16 MiB.
    pub table_memory_bytes: usize,
    /// Text the tables kept in memory (issue types, advisories, causes, fix
    /// recommendations, ...) may hold in all; past it the report is refused
    /// ([`crate::XmlError::TablesTooLarge`]). A real report's are a few MB. Default 64 MiB.
    pub max_table_text_bytes: usize,
}

/// Default for [`ReaderOptions::max_text_bytes`].
pub const DEFAULT_MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;
/// Default for [`ReaderOptions::max_depth`].
pub const DEFAULT_MAX_DEPTH: usize = 256;
/// Default for [`ReaderOptions::max_name_bytes`].
pub const DEFAULT_MAX_NAME_BYTES: usize = 1024;
/// Default for [`ReaderOptions::max_field_bytes`].
pub const DEFAULT_MAX_FIELD_BYTES: usize = 64 * 1024;
/// Default for [`ReaderOptions::max_item_bytes`].
pub const DEFAULT_MAX_ITEM_BYTES: usize = 8 * 1024 * 1024;
/// Default for [`ReaderOptions::max_variants`].
pub const DEFAULT_MAX_VARIANTS: usize = 20;
/// Default for [`ReaderOptions::table_memory_bytes`].
pub const DEFAULT_TABLE_MEMORY_BYTES: usize = 16 * 1024 * 1024;
/// Default for [`ReaderOptions::max_table_text_bytes`].
pub const DEFAULT_MAX_TABLE_TEXT_BYTES: usize = 64 * 1024 * 1024;

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            max_text_bytes: DEFAULT_MAX_TEXT_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
            max_name_bytes: DEFAULT_MAX_NAME_BYTES,
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
            max_item_bytes: DEFAULT_MAX_ITEM_BYTES,
            max_variants: DEFAULT_MAX_VARIANTS,
            table_memory_bytes: DEFAULT_TABLE_MEMORY_BYTES,
            max_table_text_bytes: DEFAULT_MAX_TABLE_TEXT_BYTES,
        }
    }
}
