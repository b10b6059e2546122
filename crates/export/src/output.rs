//! Where an export's bytes go, and how many went (KDI splits files by size).

use crate::error::{ExportError, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A writer that counts the bytes through it.
pub struct Counting<W: Write> {
    inner: W,
    pub bytes: u64,
}

impl<W: Write> Counting<W> {
    pub fn new(inner: W) -> Counting<W> {
        Counting { inner, bytes: 0 }
    }
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The single stream of a one-file format: a file, or standard output.
pub type Sink = Counting<Box<dyn Write>>;

/// Opens `path` (creating its directory), or standard output when `None` or `-`.
pub fn open(path: Option<&Path>) -> Result<(Sink, Option<PathBuf>)> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let f = create(p)?;
            Ok((
                Counting::new(Box::new(BufWriter::with_capacity(1 << 16, f))),
                Some(p.to_path_buf()),
            ))
        }
        _ => Ok((
            Counting::new(Box::new(BufWriter::new(std::io::stdout()))),
            None,
        )),
    }
}

/// Creates a file and its parent directories, naming the path in errors.
pub fn create(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    File::create(path).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A file name part made safe: letters, digits, `.`, `_` and `-` kept, the rest `_`.
pub fn safe_name(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = out.trim_matches('.');
    if trimmed.is_empty() {
        "_".into()
    } else {
        trimmed.chars().take(80).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names() {
        assert_eq!(safe_name("My App/1"), "My_App_1");
        assert_eq!(safe_name("../.."), "_");
        assert_eq!(safe_name("a-b_c.d"), "a-b_c.d");
    }
}
