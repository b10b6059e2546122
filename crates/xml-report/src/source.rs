//! Opening a report file: gzip detection by magic bytes (and refusing other forms, see
//! [`crate::sniff`]), byte counting for progress, the
//! per-event size guard, and turning a byte offset back into a line and column.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::GzDecoder;

use crate::error::{Position, XmlError};
use crate::sniff::{SNIFF_BYTES, sniff};

/// Buffer size for file and decompressor reads.
const BUF_BYTES: usize = 64 * 1024;
/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The UTF-8 byte order mark some AppScan exports start with.
pub(crate) const UTF8_BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Which file a scanner reads and how, kept so a position can be located later.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub path: PathBuf,
    pub gzip: bool,
    /// Size of the file on disk.
    pub file_bytes: u64,
    /// Modification time, to notice a file replaced between the two passes.
    pub modified: Option<std::time::SystemTime>,
}

impl Origin {
    /// Looks at the file: size, modification time, and whether it is gzip; refuses a file
    /// that is no XML text by its first bytes (see [`crate::sniff`]).
    pub fn inspect(path: &Path) -> Result<Origin, XmlError> {
        let io_err = |source| XmlError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let md = file.metadata().map_err(io_err)?;
        let mut magic = [0u8; SNIFF_BYTES];
        let mut got = 0;
        while got < magic.len() {
            let n = file.read(&mut magic[got..]).map_err(io_err)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        let head = &magic[..got];
        if let Some(form) = sniff(head) {
            return Err(form.error(false));
        }
        Ok(Origin {
            path: path.to_path_buf(),
            gzip: head.starts_with(&GZIP_MAGIC),
            file_bytes: md.len(),
            modified: md.modified().ok(),
        })
    }

    /// Opens the XML text (decompressed if needed); `counter` receives the number of file
    /// bytes read so far.
    pub fn open_text(&self, counter: Arc<AtomicU64>) -> Result<Box<dyn BufRead + Send>, XmlError> {
        let file = File::open(&self.path).map_err(|source| XmlError::Io {
            path: self.path.clone(),
            source,
        })?;
        let counted = BufReader::with_capacity(
            BUF_BYTES,
            Counting {
                inner: file,
                counter,
            },
        );
        Ok(if self.gzip {
            Box::new(BufReader::with_capacity(
                BUF_BYTES,
                GzipMembers {
                    member: Some(GzDecoder::new(counted)),
                },
            ))
        } else {
            Box::new(counted)
        })
    }

    /// Line and column of a byte offset in the XML text, found by reading the text again
    /// up to it (only done when reporting an error). Unknown (0, 0) if that fails.
    pub fn locate(&self, offset: u64) -> Position {
        let mut pos = Position {
            offset,
            line: 0,
            column: 0,
        };
        let Ok(mut text) = self.open_text(Arc::new(AtomicU64::new(0))) else {
            return pos;
        };
        // Offsets do not count a UTF-8 byte order mark (the parser skips it).
        if let Ok(head) = text.fill_buf()
            && head.starts_with(&UTF8_BOM)
        {
            text.consume(UTF8_BOM.len());
        }
        let mut at = LineCounter::default();
        let mut seen = 0u64;
        while seen < offset {
            let chunk = match text.fill_buf() {
                Ok(c) => c,
                // A damaged tail (e.g. cut gzip): report what was counted.
                Err(_) => break,
            };
            if chunk.is_empty() {
                break;
            }
            let n = chunk.len().min((offset - seen) as usize);
            chunk[..n].iter().for_each(|&b| at.step(b));
            seen += n as u64;
            text.consume(n);
        }
        pos.line = at.line;
        pos.column = at.column;
        pos
    }
}

/// Line and column (1-based, columns in characters) as bytes go by. A line ends at
/// `\n`, at `\r\n` (once) and at a lone `\r`, as XML reads line ends: a report with
/// old Mac line ends was all "line 1".
#[derive(Debug, Clone, Copy)]
struct LineCounter {
    line: u64,
    column: u64,
    /// The last byte was `\r`: a `\n` right after it ends no other line.
    after_cr: bool,
}

impl Default for LineCounter {
    fn default() -> Self {
        LineCounter {
            line: 1,
            column: 1,
            after_cr: false,
        }
    }
}

impl LineCounter {
    fn step(&mut self, b: u8) {
        let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
        match b {
            b'\n' if after_cr => {}
            b'\n' | b'\r' => {
                self.line += 1;
                self.column = 1;
            }
            // Count characters, not bytes: skip UTF-8 continuation bytes.
            _ if b & 0xC0 != 0x80 => self.column += 1,
            _ => {}
        }
    }
}

/// The text of gzip members one after another, read as `gzip -d` reads them: zeros after
/// the last member (padding, as tape and some copy tools leave) end the text, and other
/// bytes there are said to be what they are. flate2's multi-member reader took both for
/// another member: a whole report padded with zeros was refused as "invalid gzip
/// header", one with junk after it as "truncated".
struct GzipMembers<R: BufRead> {
    /// The member being read; `None` once the text has ended.
    member: Option<GzDecoder<R>>,
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let Some(ended) = self.member.take() else {
                return Ok(0);
            };
            let mut rest = ended.into_inner();
            let next = rest.fill_buf()?.first().copied();
            match next {
                None => return Ok(0),
                Some(b) if b == GZIP_MAGIC[0] => self.member = Some(GzDecoder::new(rest)),
                Some(0) if only_zeros(&mut rest)? => return Ok(0),
                Some(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the file goes on after its gzip data ends with bytes that are no \
                         gzip data (gzip -t says \"trailing garbage ignored\"): decompress it \
                         (gzip -dc FILE > report.xml) and import the XML",
                    ));
                }
            }
        }
    }
}

/// Reads `r` to its end; whether every byte was zero.
fn only_zeros(r: &mut impl BufRead) -> io::Result<bool> {
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(true);
        }
        if chunk.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        let n = chunk.len();
        r.consume(n);
    }
}

/// Counts the bytes read from the file, for progress.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Marker error: one event (text run or piece of markup) went over the size limit.
#[derive(Debug)]
pub(crate) struct EventTooLarge;

impl std::fmt::Display for EventTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("event larger than the limit")
    }
}

impl std::error::Error for EventTooLarge {}

/// Sits between the XML text and the parser: counts consumed bytes (the parser's offsets
/// are relative to the text) and refuses to hand out more data once the current event is
/// larger than the limit, so the parser's buffer can never grow without bound — whatever
/// the event is (text, CDATA, comment, a tag with huge attributes).
pub(crate) struct Guard {
    inner: Box<dyn BufRead + Send>,
    /// Bytes of XML text consumed so far.
    pub pos: u64,
    /// `pos` when the current event started.
    pub event_start: u64,
    limit: u64,
}

impl Guard {
    pub fn new(inner: Box<dyn BufRead + Send>, limit: usize) -> Guard {
        Guard {
            inner,
            pos: 0,
            event_start: 0,
            limit: limit as u64,
        }
    }

    /// Called before each event is read.
    pub fn start_event(&mut self) {
        self.event_start = self.pos;
    }
}

impl Read for Guard {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Guard {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos - self.event_start > self.limit {
            return Err(io::Error::other(EventTooLarge));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt as u64;
        self.inner.consume(amt);
    }
}
