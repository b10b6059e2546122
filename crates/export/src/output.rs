//! Where an export's bytes go, and how many went (KDI splits files by size).

use crate::error::{ExportError, Result};
use std::fs::File;
use std::hash::Hasher;
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

/// A file name part made safe: letters, digits, `.`, `_` and `-` kept, the rest `_`, at
/// most 80 characters. A name that had to change also gets a hash of the original, so
/// that two names never share a file: "支払" and "在庫", "shop a" and "shop/a" each
/// clean to the same text.
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
    let cleaned: String = if trimmed.is_empty() {
        "_".into()
    } else {
        trimmed.chars().take(80).collect()
    };
    if cleaned == s {
        cleaned
    } else {
        format!("{cleaned}-{:016x}", stable_hash(s.as_bytes()))
    }
}

/// FNV-1a, 64 bits: a hash that is the same in every build and on every machine, so an
/// export names its files, SARIF categories and parts the same way each time.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names() {
        assert_eq!(safe_name("a-b_c.d"), "a-b_c.d", "kept as it is");
        assert!(safe_name("My App/1").starts_with("My_App_1-"));
        assert!(safe_name("../..").starts_with("_-"));
        assert_eq!(safe_name("My App/1"), safe_name("My App/1"), "stable");
    }

    #[test]
    fn the_stable_hash_is_fnv1a() {
        // File names and SARIF categories hold it: a change renames them for users.
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn names_that_clean_alike_stay_apart() {
        let pairs = [
            ("application:支払", "application:在庫"),
            ("shop a", "shop/a"),
            ("shop_a", "shop a"),
            (&"x".repeat(90), &format!("{}y", "x".repeat(89))),
        ];
        for (a, b) in pairs {
            assert_ne!(safe_name(a), safe_name(b), "{a} / {b}");
        }
    }
}
