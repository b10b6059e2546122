//! Where an export's bytes go, and how many went (KDI splits files by size). A file
//! is written under a temporary name beside its path and takes that name only once
//! it is whole ([`PendingFile`]).

use crate::error::{ExportError, Result};
use std::fs::{File, OpenOptions};
use std::hash::Hasher;
use std::io::{BufWriter, Stdout, Write};
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

/// Where a one-file format writes: standard output, or a file.
pub enum Target {
    Stdout(BufWriter<Stdout>),
    File(BufWriter<PendingFile>),
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Target::Stdout(w) => w.write(buf),
            Target::File(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Target::Stdout(w) => w.flush(),
            Target::File(w) => w.flush(),
        }
    }
}

/// The single stream of a one-file format: a file, or standard output.
pub type Sink = Counting<Target>;

impl Sink {
    /// Ends the output once everything was written: standard output is flushed, a file
    /// takes its name. Returns the bytes written.
    pub fn finish(self) -> Result<u64> {
        let bytes = self.bytes;
        match self.into_inner() {
            Target::Stdout(mut w) => w.flush()?,
            Target::File(w) => w.into_inner().map_err(|e| e.into_error())?.commit()?,
        }
        Ok(bytes)
    }
}

/// Opens `path` (creating its directory), or standard output when `None` or `-`.
pub fn open(path: Option<&Path>) -> Result<(Sink, Option<PathBuf>)> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let f = create(p)?;
            Ok((
                Counting::new(Target::File(BufWriter::with_capacity(1 << 16, f))),
                Some(p.to_path_buf()),
            ))
        }
        _ => Ok((
            Counting::new(Target::Stdout(BufWriter::new(std::io::stdout()))),
            None,
        )),
    }
}

/// A file being written under a temporary name in its directory (`.NAME.PID.partial`),
/// moved over its path by [`PendingFile::commit`] and removed if dropped before: an
/// export stopped (Ctrl-C, SIGTERM) or failed half-way wrote a cut file under the final
/// name, over the whole one an earlier export had left there, with nothing to tell them
/// apart. A new file is created as `File::create` creates one (its mode from the umask);
/// one replaced keeps the mode of the file it replaces. A path that is not a regular
/// file (`/dev/null`, a FIFO, a terminal, a shell's `>(…)`) is written in place: there is
/// nothing to replace, and renaming over it replaced the device or pipe with a file.
pub struct PendingFile {
    file: File,
    /// Where the file is written until it is whole; `None` when written in place.
    partial: Option<PathBuf>,
    path: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Renames the file to its path (replacing what was there).
    pub fn commit(mut self) -> Result<()> {
        self.file.flush()?;
        if let Some(partial) = &self.partial {
            std::fs::rename(partial, &self.path).map_err(|source| ExportError::Io {
                path: self.path.clone(),
                source,
            })?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(partial) = self.partial.as_ref().filter(|_| !self.committed) {
            let _ = std::fs::remove_file(partial);
        }
    }
}

/// Starts a file and its parent directories, naming the path in errors; the file takes
/// its name at [`PendingFile::commit`].
pub fn create(path: &Path) -> Result<PendingFile> {
    let io_error = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Through a symbolic link to the file it names: the link stays, its file is replaced.
    let existing = std::fs::metadata(path).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        let file = File::create(path).map_err(io_error)?;
        return Ok(PendingFile {
            file,
            partial: None,
            path: path.to_path_buf(),
            committed: false,
        });
    }
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).map_err(io_error)?,
        _ => path.to_path_buf(),
    };
    let path = target.as_path();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| io_error(std::io::Error::other("not a file name")))?;
    remove_abandoned(dir.unwrap_or(Path::new(".")), name);
    let mut partial_name = std::ffi::OsString::from(".");
    partial_name.push(name);
    partial_name.push(format!(".{}.partial", std::process::id()));
    let partial = dir.map_or_else(|| PathBuf::from(&partial_name), |d| d.join(&partial_name));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&partial)
        .map_err(|source| ExportError::Io {
            path: partial.clone(),
            source,
        })?;
    let pending = PendingFile {
        file,
        partial: Some(partial),
        path: path.to_path_buf(),
        committed: false,
    };
    // A file replaced keeps its mode (0640 became the umask's 0644: readable by all).
    if let Some(m) = existing {
        pending
            .file
            .set_permissions(m.permissions())
            .map_err(|source| ExportError::Io {
                path: path.to_path_buf(),
                source,
            })?;
    }
    Ok(pending)
}

/// How long a partial file must have gone unwritten before it counts as abandoned: a
/// live export writes its file steadily, and one of another PID namespace sharing the
/// directory has a PID this host cannot look up.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes the `.NAME.PID.partial` files that killed exports of `name` left in `dir`
/// (a SIGKILL runs no clean-up; each kill left a hidden file as large as the export,
/// and the next export, with another PID, never reused it): those of a PID that no
/// longer runs here, unwritten for [`ABANDONED_AFTER`]. Best effort, Linux only.
fn remove_abandoned(dir: &Path, name: &std::ffi::OsStr) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let (Some(name), Ok(entries)) = (name.to_str(), std::fs::read_dir(dir)) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|rest| rest.strip_suffix(".partial"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let idle = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|d| d >= ABANDONED_AFTER);
        if idle && pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
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

    /// The file takes its name only when committed; until then an earlier export's file
    /// stays whole, and a file dropped unfinished leaves nothing behind.
    #[test]
    fn a_file_takes_its_name_when_whole() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("out").join("findings.csv");
        let mut first = create(&path).expect("create");
        first.write_all(b"whole\n").expect("write");
        first.commit().expect("commit");
        let mut second = create(&path).expect("create");
        second.write_all(b"cut sho").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"whole\n");
        drop(second);
        assert_eq!(std::fs::read(&path).expect("read"), b"whole\n");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["findings.csv"], "no partial file left");
        let mut third = create(&path).expect("create");
        third.write_all(b"new\n").expect("write");
        third.commit().expect("commit");
        assert_eq!(std::fs::read(&path).expect("read"), b"new\n");
    }

    /// A killed export's partial file (no clean-up runs on SIGKILL) is removed by the
    /// next export to the same name once its process is gone and it has gone unwritten
    /// for a while; a fresh one, and other names' files, stay.
    #[test]
    fn partial_files_of_killed_exports_are_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("findings.csv");
        // A PID above Linux's largest pid_max: no process has it.
        let dead = |name: &str, age: u64| {
            let p = dir.path().join(name);
            let f = File::create(&p).expect("create");
            let at = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
            f.set_modified(at).expect("mtime");
            p
        };
        let old = dead(".findings.csv.999999999.partial", 600);
        let fresh = dead(".findings.csv.999999998.partial", 0);
        let other = dead(".other.csv.999999999.partial", 600);
        let mut out = create(&path).expect("create");
        out.write_all(b"x\n").expect("write");
        out.commit().expect("commit");
        assert!(!old.exists(), "the abandoned file is removed");
        assert!(fresh.exists(), "a recently written one stays");
        assert!(other.exists(), "another export's stays");
    }

    /// What is not a plain file is written in place, a link's file replaced through the
    /// link, a replaced file's mode kept: renaming over the path turned a FIFO or device
    /// into a file, a link into a file, and a 0640 export into a 0644 one.
    #[test]
    fn pipes_links_and_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).expect("read the FIFO"))
        };
        let mut out = create(&fifo).expect("create");
        out.write_all(b"through the pipe").expect("write");
        out.commit().expect("commit");
        assert_eq!(reader.join().expect("reader"), b"through the pipe");
        let kind = std::fs::symlink_metadata(&fifo).expect("meta").file_type();
        assert!(!kind.is_file(), "the FIFO is still a FIFO");

        let real = dir.path().join("real.csv");
        std::fs::write(&real, "old").expect("write");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let mut out = create(&link).expect("create");
        out.write_all(b"new").expect("write");
        out.commit().expect("commit");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).expect("read"), b"new");
        let mode = std::fs::metadata(&real).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

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
