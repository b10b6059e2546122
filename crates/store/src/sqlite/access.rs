//! Why a SQLite store file cannot be opened, in the file system's words. SQLite says
//! "unable to open database file" whatever the cause: a directory in the file's place, a
//! directory that does not exist or cannot be entered, a file or directory of another
//! owner, a read-only mount.

use crate::StoreError;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Why the store file at `path` cannot be opened (or created) to read and write, when the
/// file system says why; `None` when nothing is in its way (the cause is SQLite's).
pub(crate) fn refusal(path: &Path) -> Option<StoreError> {
    let shown = path.display().to_string();
    let why = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Some("it is a directory, not a store file".to_string()),
        Ok(m) => file_refusal(path, &m),
        Err(e) => unreachable_file(path, &e),
    };
    if let Some(why) = why {
        return Some(StoreError::Unopenable { path: shown, why });
    }
    let why = unwritable(&dir_of(path))?;
    Some(StoreError::DirNotWritable { path: shown, why })
}

/// The directory the file at `path` is in (`.` for a bare file name).
fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Why the existing file at `path` cannot be opened to read and write, if it cannot.
fn file_refusal(path: &Path, meta: &std::fs::Metadata) -> Option<String> {
    let e = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .err()?;
    Some(match e.kind() {
        ErrorKind::PermissionDenied => format!(
            "permission denied to read and write it ({})",
            owner_and_mode(meta)
        ),
        _ => format!(
            "it cannot be opened to read and write: {e} ({})",
            owner_and_mode(meta)
        ),
    })
}

/// Why the file at `path`, which cannot be looked at (`e`), cannot be reached: a missing
/// directory, a file where a directory should be, or a directory that cannot be entered.
/// `None` when only the file is missing (SQLite creates it).
fn unreachable_file(path: &Path, e: &std::io::Error) -> Option<String> {
    let dir = dir_of(path);
    // The nearest directory on the way that can be looked at is where the way stops.
    let (stop, meta) = dir
        .ancestors()
        .find_map(|a| std::fs::metadata(a).ok().map(|m| (a.to_path_buf(), m)))?;
    let whose = if stop == dir {
        "its directory"
    } else {
        "the directory above it"
    };
    Some(if !meta.is_dir() {
        format!("{} is not a directory", stop.display())
    } else if e.kind() == ErrorKind::NotFound {
        if stop == dir {
            return None;
        }
        format!("its directory {} does not exist", dir.display())
    } else if e.kind() == ErrorKind::PermissionDenied {
        format!(
            "{whose} {} cannot be entered ({e}; {})",
            stop.display(),
            owner_and_mode(&meta)
        )
    } else {
        format!("it cannot be looked at: {e}")
    })
}

/// "owner uid N, mode 0600", where the platform has them.
fn owner_and_mode(meta: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        format!(
            "owner uid {}, mode {:04o}",
            meta.uid(),
            meta.mode() & 0o7777
        )
    }
    #[cfg(not(unix))]
    {
        if meta.permissions().readonly() {
            "read-only".to_string()
        } else {
            "writable".to_string()
        }
    }
}

/// Why `dir` cannot be written in, when it cannot (found by creating and removing a file:
/// a read-only mount and permissions both show that way).
fn unwritable(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return None;
    }
    let probe = dir.join(format!(".appscan-bridge-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => None,
        Err(e) => Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(path: &Path) -> String {
        refusal(path).map(|e| e.to_string()).unwrap_or_default()
    }

    /// A directory in the file's place, a missing directory and a file where a directory
    /// should be are each said; a new file in a writable directory is no refusal.
    #[test]
    fn says_what_is_in_the_way() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        assert!(why(d).contains("it is a directory, not a store file"));
        let missing = d.join("missing");
        let text = why(&missing.join("deeper/s.sqlite3"));
        let said = format!(
            "its directory {} does not exist",
            missing.join("deeper").display()
        );
        assert!(text.contains(&said), "{text}");
        let file = d.join("notes.txt");
        std::fs::write(&file, "notes").expect("write");
        let text = why(&file.join("s.sqlite3"));
        assert!(
            text.contains(&format!("{} is not a directory", file.display())),
            "{text}"
        );
        assert!(refusal(&d.join("new.sqlite3")).is_none());
        assert!(
            refusal(&file).is_none(),
            "a file that opens is SQLite's to judge"
        );
        assert_eq!(dir_of(Path::new("s.sqlite3")), PathBuf::from("."));
        assert!(unwritable(&std::env::temp_dir()).is_none());
    }

    /// A file that cannot be opened to write (here a sysfs attribute, read-only even to
    /// root) says so, with its owner and mode.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_that_cannot_be_written_says_whose_it_is() {
        let notes = Path::new("/sys/kernel/notes");
        if !notes.is_file() {
            return;
        }
        let text = why(notes);
        assert!(text.contains("owner uid 0, mode 0"), "{text}");
    }
}
