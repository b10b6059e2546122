//! The pull loop over quick-xml: one event at a time, with the checks the reader
//! promises — well-formedness (one root, matched tags, nothing cut off), nesting depth,
//! text size, name length — and every error turned into an [`XmlError`] with a line and
//! column.
//!
//! Events carry no borrowed data: the current element's name, attributes and text are
//! read from the scanner itself, whose buffers are reused from event to event, so the
//! loop allocates almost nothing per event and never recurses.

use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_xml::XmlVersion;
use quick_xml::encoding::EncodingError;
use quick_xml::errors::{Error as QxError, SyntaxError};
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::error::XmlError;
use crate::options::ReaderOptions;
use crate::sniff::sniff;
use crate::source::{EventTooLarge, Guard, Origin, UTF8_BOM};

/// Markup allowance on top of `max_text_bytes` for the per-event guard, so that a text
/// node just under the limit plus its delimiters is not refused by the guard.
const MARKUP_SLACK: usize = 4096;
/// A parse buffer that grew past this (one very large event) is given back afterwards.
const KEEP_BUF_BYTES: usize = 1024 * 1024;

/// What happened; details are read from the [`Scanner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ev {
    /// An element opened at `depth` (the root is 1); see [`Scanner::name`] and
    /// [`Scanner::attrs`]. Empty elements come as `Start` then `End`.
    Start { depth: usize },
    /// The element at `depth` closed.
    End { depth: usize },
    /// Character data inside the root (text, CDATA, resolved references); see
    /// [`Scanner::text`]. One text node may come as several `Text` events.
    Text,
    /// The document ended, well formed.
    Eof,
}

/// One attribute of the current element: its key is `attr_buf[key_start..value_start]`,
/// its value `attr_buf[value_start..end]`.
struct AttrSpan {
    key_start: usize,
    value_start: usize,
    end: usize,
}

pub(crate) struct Scanner {
    reader: Reader<Guard>,
    buf: Vec<u8>,
    origin: Origin,
    max_text: usize,
    max_depth: usize,
    max_name: usize,
    /// Names of the open elements, concatenated; `ends[i]` is where name `i` ends.
    names: String,
    ends: Vec<usize>,
    /// Keys and values of the current element's attributes, end to end.
    attr_buf: String,
    /// Where each attribute's key and value sit in `attr_buf`.
    attr_spans: Vec<AttrSpan>,
    text: String,
    /// Bytes of the current text node so far (reset by markup).
    text_run: usize,
    root_seen: bool,
    root_closed: bool,
    /// Length of a byte order mark the parser skipped (its offsets do not count it).
    bom: u64,
    counter: Arc<AtomicU64>,
}

impl Scanner {
    /// Starts reading `origin` from its beginning.
    pub fn open(origin: &Origin, opts: &ReaderOptions) -> Result<Scanner, XmlError> {
        let counter = Arc::new(AtomicU64::new(0));
        let mut text = origin.open_text(counter.clone())?;
        let head = text.fill_buf().map_err(|e| io_error(origin, e, 0))?;
        // What gzip held is looked at as the file itself was (UTF-16 text, say).
        if origin.gzip
            && let Some(form) = sniff(head)
        {
            return Err(form.error(true));
        }
        let bom = if head.starts_with(&UTF8_BOM) {
            UTF8_BOM.len() as u64
        } else {
            0
        };
        let guard = Guard::new(text, opts.max_text_bytes.saturating_add(MARKUP_SLACK));
        let mut reader = Reader::from_reader(guard);
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.check_end_names = true;
        Ok(Scanner {
            reader,
            buf: Vec::with_capacity(64 * 1024),
            origin: origin.clone(),
            max_text: opts.max_text_bytes,
            max_depth: opts.max_depth,
            max_name: opts.max_name_bytes,
            names: String::new(),
            ends: Vec::new(),
            attr_buf: String::new(),
            attr_spans: Vec::new(),
            text: String::new(),
            text_run: 0,
            root_seen: false,
            root_closed: false,
            bom,
            counter,
        })
    }

    /// File bytes read so far (compressed bytes for gzip input).
    pub fn bytes_read(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }

    /// Name of the innermost open element (after `Start`: the element just opened).
    pub fn name(&self) -> &str {
        let n = self.ends.len();
        let start = if n >= 2 { self.ends[n - 2] } else { 0 };
        &self.names[start..]
    }

    /// Attributes of the element just opened, values unescaped.
    pub fn attrs(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        self.attr_spans.iter().map(|a| {
            (
                &self.attr_buf[a.key_start..a.value_start],
                &self.attr_buf[a.value_start..a.end],
            )
        })
    }

    /// One attribute of the element just opened.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The character data of the last `Text` event.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The position of the start of the last event, for errors raised by callers.
    pub fn event_error_offset(&self) -> u64 {
        self.reader.get_ref().event_start.saturating_sub(self.bom)
    }

    /// Locates an offset as a line and column.
    pub fn locate(&self, offset: u64) -> crate::Position {
        self.origin.locate(offset)
    }

    /// An element or attribute name over the limit, at the element's start.
    fn name_too_long(&self, event_start: u64) -> XmlError {
        XmlError::NameTooLong {
            limit: self.max_name,
            pos: self.origin.locate(event_start),
        }
    }

    /// The next event.
    pub fn next(&mut self) -> Result<Ev, XmlError> {
        loop {
            self.text.clear();
            if self.buf.capacity() > KEEP_BUF_BYTES {
                self.buf = Vec::with_capacity(64 * 1024);
            } else {
                self.buf.clear();
            }
            self.reader.get_mut().start_event();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev,
                Err(e) => {
                    return Err(parse_error(
                        &self.origin,
                        e,
                        self.reader.error_position(),
                        self.reader.get_ref(),
                        self.bom,
                        self.max_text,
                    ));
                }
            };
            let event_start = self.reader.get_ref().event_start.saturating_sub(self.bom);
            match event {
                Event::Start(e) => {
                    let depth = self.ends.len() + 1;
                    if self.root_closed {
                        return Err(malformed(
                            &self.origin,
                            event_start,
                            "a second root element after the end of the document",
                        ));
                    }
                    if depth > self.max_depth {
                        return Err(XmlError::TooDeep {
                            limit: self.max_depth,
                            pos: self.origin.locate(event_start),
                        });
                    }
                    if e.name().as_ref().len() > self.max_name {
                        return Err(self.name_too_long(event_start));
                    }
                    self.root_seen = true;
                    self.attr_buf.clear();
                    self.attr_spans.clear();
                    for attr in e.attributes() {
                        let attr = attr.map_err(|err| {
                            malformed(&self.origin, event_start, &format!("bad attribute: {err}"))
                        })?;
                        if attr.key.as_ref().len() > self.max_name {
                            return Err(self.name_too_long(event_start));
                        }
                        let value =
                            attr.normalized_value(XmlVersion::Implicit1_0)
                                .map_err(|err| {
                                    malformed(
                                        &self.origin,
                                        event_start,
                                        &format!("bad attribute value: {err}"),
                                    )
                                })?;
                        let key_start = self.attr_buf.len();
                        self.attr_buf.push_str(attr.key.as_ref());
                        let value_start = self.attr_buf.len();
                        self.attr_buf.push_str(&value);
                        self.attr_spans.push(AttrSpan {
                            key_start,
                            value_start,
                            end: self.attr_buf.len(),
                        });
                    }
                    self.names.push_str(e.name().as_ref());
                    self.ends.push(self.names.len());
                    self.text_run = 0;
                    return Ok(Ev::Start { depth });
                }
                Event::End(_) => {
                    let depth = self.ends.len();
                    self.ends.pop();
                    self.names.truncate(self.ends.last().copied().unwrap_or(0));
                    if depth == 1 {
                        self.root_closed = true;
                    }
                    self.text_run = 0;
                    return Ok(Ev::End { depth });
                }
                Event::Text(t) => {
                    let content = t.xml10_content();
                    if push_text(
                        &mut self.text,
                        &mut self.text_run,
                        self.max_text,
                        self.ends.is_empty(),
                        &self.origin,
                        &content,
                        event_start,
                    )? {
                        return Ok(Ev::Text);
                    }
                }
                Event::CData(t) => {
                    let content = t.xml10_content();
                    if push_text(
                        &mut self.text,
                        &mut self.text_run,
                        self.max_text,
                        self.ends.is_empty(),
                        &self.origin,
                        &content,
                        event_start,
                    )? {
                        return Ok(Ev::Text);
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved: String = match r.resolve_char_ref() {
                        Ok(Some(ch)) => ch.to_string(),
                        Ok(None) => match resolve_xml_entity(&r) {
                            Some(s) => s.to_string(),
                            None => {
                                return Err(malformed(
                                    &self.origin,
                                    event_start,
                                    &format!("undefined entity &{};", &*r),
                                ));
                            }
                        },
                        Err(err) => {
                            return Err(malformed(
                                &self.origin,
                                event_start,
                                &format!("bad character reference &{};: {err}", &*r),
                            ));
                        }
                    };
                    if push_text(
                        &mut self.text,
                        &mut self.text_run,
                        self.max_text,
                        self.ends.is_empty(),
                        &self.origin,
                        &resolved,
                        event_start,
                    )? {
                        return Ok(Ev::Text);
                    }
                }
                // Never produced: empty elements are expanded into Start + End.
                Event::Empty(_) => unreachable!("expand_empty_elements is set"),
                Event::Decl(d) => {
                    if let Some(Ok(declared)) = d.encoding() {
                        let name = declared.trim().to_ascii_lowercase();
                        // What is read is UTF-8 (ASCII is part of it): a report in another
                        // encoding failed later, at its first byte beyond ASCII, saying
                        // only that it was not UTF-8.
                        if !matches!(name.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                            return Err(malformed(
                                &self.origin,
                                event_start,
                                &format!(
                                    "the report declares encoding=\"{name}\", and only UTF-8 reports are read (AppScan writes UTF-8): convert it first, e.g. `iconv -f {name} -t UTF-8 report.xml > report-utf8.xml`"
                                ),
                            ));
                        }
                    }
                }
                Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof => {
                    let end = self.reader.buffer_position();
                    if !self.ends.is_empty() {
                        let message = format!(
                            "with {} element(s) still open, the innermost <{}>",
                            self.ends.len(),
                            self.name()
                        );
                        return Err(XmlError::Truncated {
                            pos: self.origin.locate(end),
                            message,
                        });
                    }
                    if !self.root_seen {
                        return Err(XmlError::Truncated {
                            pos: self.origin.locate(end),
                            message: "before any element (the file is empty or holds no XML)"
                                .to_string(),
                        });
                    }
                    return Ok(Ev::Eof);
                }
            }
        }
    }
}

/// Adds character data to the current text; `false` if there is nothing to report
/// (whitespace outside the root).
fn push_text(
    text: &mut String,
    text_run: &mut usize,
    max_text: usize,
    outside_root: bool,
    origin: &Origin,
    s: &str,
    offset: u64,
) -> Result<bool, XmlError> {
    if outside_root {
        let content = s.trim_start();
        if content.is_empty() {
            return Ok(false);
        }
        let at = offset + (s.len() - content.len()) as u64;
        return Err(malformed(origin, at, "text outside the root element"));
    }
    *text_run += s.len();
    if *text_run > max_text {
        return Err(XmlError::TextTooLarge {
            limit: max_text,
            pos: origin.locate(offset),
        });
    }
    text.push_str(s);
    Ok(!s.is_empty())
}

fn malformed(origin: &Origin, offset: u64, message: &str) -> XmlError {
    XmlError::Malformed {
        pos: origin.locate(offset),
        message: message.to_string(),
    }
}

fn io_error(origin: &Origin, e: std::io::Error, offset: u64) -> XmlError {
    // A gzip stream that stops early is a truncated report, not an I/O failure.
    if origin.gzip && e.kind() == std::io::ErrorKind::UnexpectedEof {
        return XmlError::Truncated {
            pos: origin.locate(offset),
            message: "inside the compressed data".to_string(),
        };
    }
    XmlError::Io {
        path: origin.path.clone(),
        source: e,
    }
}

fn parse_error(
    origin: &Origin,
    e: QxError,
    error_offset: u64,
    guard: &Guard,
    bom: u64,
    max_text: usize,
) -> XmlError {
    match e {
        QxError::Io(io) => {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<EventTooLarge>())
            {
                return XmlError::TextTooLarge {
                    limit: max_text,
                    pos: origin.locate(guard.event_start.saturating_sub(bom)),
                };
            }
            let owned = std::io::Error::new(io.kind(), io.to_string());
            io_error(origin, owned, guard.pos.saturating_sub(bom))
        }
        // Every other syntax error is the parser meeting the end of the data inside
        // some markup: the file was cut.
        QxError::Syntax(SyntaxError::InvalidBangMarkup) => malformed(
            origin,
            error_offset,
            &SyntaxError::InvalidBangMarkup.to_string(),
        ),
        QxError::Syntax(s) => {
            let start = origin.locate(error_offset);
            XmlError::Truncated {
                pos: origin.locate(guard.pos.saturating_sub(bom)),
                message: format!(
                    "inside markup that starts at line {}, column {} ({s})",
                    start.line, start.column
                ),
            }
        }
        // The parser does not say where in the event the bad bytes are: the event's start
        // and the valid bytes before them do.
        QxError::Encoding(EncodingError::Utf8(u)) => malformed(
            origin,
            guard.event_start.saturating_sub(bom) + u.valid_up_to() as u64,
            "bytes that are not UTF-8 (a report must be UTF-8)",
        ),
        other => malformed(origin, error_offset, &other.to_string()),
    }
}
