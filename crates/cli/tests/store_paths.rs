//! A SQLite store path that cannot hold a store (a directory, a missing directory, a
//! file or directory of another owner) is refused with the file system's reason, through
//! the real binary: SQLite's own "unable to open database file" said nothing of why.

mod common;

use common::{bin, fails, ok};
use std::path::Path;
use std::process::Command;

/// `--store` naming a directory, or a file in a directory that does not exist (or under
/// a file), says so; nothing is created.
#[test]
fn a_store_path_that_cannot_be_a_file_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    let a_directory = dir.path().join("adirectory");
    std::fs::create_dir(&a_directory).expect("mkdir");
    let err = fails(bin(&d).arg("--store").arg(&a_directory).arg("status"));
    assert!(err.contains("is a directory, not a store file"), "{err}");
    assert!(!err.contains("unable to open database file"), "{err}");

    let add_at = |store: &Path| {
        let mut cmd = bin(&d);
        cmd.arg("--store").arg(store);
        fails(cmd.args(["connector", "add", "xml", "--name", "r"]))
    };
    let missing = dir.path().join("missingdir");
    let err = add_at(&missing.join("s.sqlite3"));
    let said = format!("its directory {} does not exist", missing.display());
    assert!(err.contains(&said), "{err}");
    assert!(!missing.exists());

    let a_file = dir.path().join("notes.txt");
    std::fs::write(&a_file, "notes").expect("write");
    let err = add_at(&a_file.join("s.sqlite3"));
    let said = format!("{} is not a directory", a_file.display());
    assert!(err.contains(&said), "{err}");
}

/// `migrate --to` a store in directories that do not exist yet creates them (its help
/// says the target is created if needed), owner-only as the data directory is.
#[test]
fn migrate_creates_the_targets_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    ok(bin(&d).args(["connector", "add", "xml", "--name", "kept"]));
    let target = dir.path().join("new/deeper/s.sqlite3");
    ok(bin(&d).arg("migrate").arg("--to").arg(&target));
    let listed = common::json(&ok(bin(&d).arg("--store").arg(&target).args([
        "connector",
        "list",
        "--json",
    ])));
    assert_eq!(listed[0]["name"], "kept", "{listed}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("new"))
            .expect("made")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    }
}

/// `runuser -u nobody --` the binary, when this test runs as root and `runuser` is there
/// (permissions cannot be tested as root itself, which they do not stop). The binary is
/// linked (or copied) into `dir` first: the build's own directory may be one nobody cannot
/// enter (a target directory under /root).
#[cfg(unix)]
fn as_nobody(dir: &Path) -> Option<Command> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root {
        return None;
    }
    let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let built = Path::new(env!("CARGO_BIN_EXE_appscan-bridge"));
    let bin = dir.join("appscan-bridge");
    if !bin.exists() {
        std::fs::hard_link(built, &bin)
            .or_else(|_| std::fs::copy(built, &bin).map(drop))
            .expect("the binary where nobody can run it");
    }
    let mut c = Command::new(runuser);
    c.args(["-u", "nobody", "--"])
        .arg(&bin)
        .env_remove("APPSCAN_BRIDGE_MASTER_KEY")
        .env_remove("APPSCAN_BRIDGE_CONFIG")
        .env_remove("APPSCAN_BRIDGE_STORE");
    Some(c)
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Root's data directory under `dir` with a connector, and a copy of its store with
/// `mode` in a world-writable directory (where nobody keeps its own data directory).
#[cfg(unix)]
struct Shared {
    own: std::path::PathBuf,
    open: std::path::PathBuf,
    store: std::path::PathBuf,
}

#[cfg(unix)]
fn shared_store(dir: &Path, mode: u32) -> Shared {
    let own = dir.join("root-data");
    ok(bin(&own).args(["connector", "add", "xml", "--name", "kept"]));
    let open = dir.join("open");
    std::fs::create_dir(&open).expect("mkdir");
    chmod(&open, 0o777);
    let store = open.join("store.sqlite3");
    std::fs::copy(own.join("store.sqlite3"), &store).expect("copy");
    chmod(&store, mode);
    Shared { own, open, store }
}

/// A store another user owns (0600), and a data directory another user owns (0700) that
/// holds a store, are refused with the permission problem: the first was SQLite's
/// "unable to open database file", the second "there is no store at …", which was false.
#[cfg(unix)]
#[test]
fn a_store_of_another_owner_says_permission_denied() {
    let dir = tempfile::tempdir().expect("tempdir");
    chmod(dir.path(), 0o755);
    let Some(mut nobody) = as_nobody(dir.path()) else {
        eprintln!("skipped: needs root and runuser");
        return;
    };
    let Shared { own, open, store } = shared_store(dir.path(), 0o600);

    let err = fails(
        nobody
            .arg("--data-dir")
            .arg(open.join("nob"))
            .arg("--store")
            .arg(&store)
            .arg("status"),
    );
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains("owner uid 0, mode 0600"), "{err}");

    let mut nobody = as_nobody(dir.path()).expect("as before");
    let err = fails(nobody.arg("--data-dir").arg(&own).arg("findings"));
    assert!(!err.contains("there is no store"), "{err}");
    let said = format!("its directory {} cannot be entered", own.display());
    assert!(err.contains(&said), "{err}");
    assert!(err.contains("owner uid 0, mode 0700"), "{err}");
}

/// A store another user owns that others may read (0644, as older versions left them):
/// SQLite opens it read-only. Opening it said "it is now the owner's alone (0600)",
/// though the change had failed, and a write said only "attempt to write a readonly
/// database".
#[cfg(unix)]
#[test]
fn a_store_this_user_may_only_read_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    chmod(dir.path(), 0o755);
    let Some(mut nobody) = as_nobody(dir.path()) else {
        eprintln!("skipped: needs root and runuser");
        return;
    };
    let Shared { open, store, .. } = shared_store(dir.path(), 0o644);

    let listed = ok(nobody
        .arg("--data-dir")
        .arg(open.join("nob"))
        .arg("--store")
        .arg(&store)
        .args(["connector", "list"]));
    let said = common::text(&listed);
    assert!(said.contains("kept"), "{said}");
    // Nothing is said to be private: not the store file, whose mode its owner alone may
    // change, nor its -wal and -shm, to which SQLite gives the store's mode.
    assert!(!said.contains("it is now the owner's alone"), "{said}");
    assert!(
        said.contains("could not be made the owner's alone"),
        "{said}"
    );

    let mut nobody = as_nobody(dir.path()).expect("as before");
    let err = fails(
        nobody
            .arg("--data-dir")
            .arg(open.join("nob"))
            .arg("--store")
            .arg(&store)
            .args(["connector", "add", "xml", "--name", "new"]),
    );
    assert!(err.contains("can only be read by this process"), "{err}");
}

/// A data directory whose name is not UTF-8 is refused by every command: `import` wrote
/// a store there that `status` and `findings` then said was not there.
#[cfg(unix)]
#[test]
fn a_data_directory_named_in_no_utf8_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"d\xffir"));
    for args in [&["status"][..], &["connector", "add", "xml", "--name", "r"]] {
        let err = fails(bin(&odd).args(args));
        assert!(err.contains("is not valid UTF-8"), "{args:?}: {err}");
    }
    assert!(!odd.exists(), "nothing was created");
}
