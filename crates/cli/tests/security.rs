//! Security properties of the real binary: owner-only data directory and key file, and a
//! connector's API key secret (and the master key) never in logs at any verbosity, error
//! output, listings, exports of any format, or any byte of the store's files.

mod common;

use common::{SECRET, bin, ok, text};
use std::path::Path;

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_master_key_are_owner_only() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("nested").join("data");
    // A command that only reads creates nothing where nothing is stored (a mistyped
    // --data-dir is said, not turned into an empty store).
    let read = bin(&dir)
        .args(["connector", "list", "--json"])
        .output()
        .expect("runs");
    assert_eq!(read.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&read.stderr).contains("there is no store at"));
    // The same for a store named with --store: a listing created it, empty.
    let named = root.path().join("elsewhere.sqlite3");
    let read = bin(&root.path().join("other-data"))
        .arg("--store")
        .arg(&named)
        .args(["findings", "--json"])
        .output()
        .expect("runs");
    assert_eq!(read.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&read.stderr).contains("there is no store at"));
    assert!(
        !named.exists(),
        "a listing created the store it was pointed at"
    );
    assert!(
        !root.path().join("nested").exists(),
        "a listing created the directory"
    );
    // Nor does a command that works on a connector: it made a store and a master key,
    // then said "connector 'cloud' does not exist", not where it had looked.
    for args in [
        &["sync", "cloud"][..],
        &["check", "cloud"],
        &["remap", "cloud"],
        &["rescore"],
        &["connector", "remove", "cloud"],
        &["token", "revoke", "1"],
    ] {
        let out = bin(&dir).args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("there is no store at"),
            "{args:?}: {stderr}"
        );
        assert!(!dir.exists(), "{args:?} created the data directory");
    }
    // Looking at the maps of a new install shows the built-in one without making a store.
    let maps: serde_json::Value =
        serde_json::from_slice(&ok(bin(&dir).args(["map", "list", "--json"])).stdout)
            .expect("json");
    assert_eq!(maps[0]["name"], "default");
    let default = text(&ok(bin(&dir).args(["map", "show", "default"])));
    assert!(default.contains("[[finding]]"), "{default}");
    ok(bin(&dir).args(["map", "targets"]));
    let out = bin(&dir)
        .args(["map", "set", "mine", "cveId=CveId"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no store at"));
    assert!(!dir.exists(), "a map listing created the data directory");
    // A new map makes the store.
    ok(bin(&dir).args(["map", "clone", "default", "mine"]));
    assert_eq!(mode(&dir), 0o700, "data directory");
    assert_eq!(mode(&root.path().join("nested")), 0o700, "created parent");
    assert_eq!(mode(&dir.join("master.key")), 0o600, "master key file");
    // A data directory that existed with a looser mode: the store made in it is still
    // owner-only (it was created with the umask's 0644).
    let loose = root.path().join("shared");
    std::fs::create_dir(&loose).expect("mkdir");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    ok(bin(&loose).args(["map", "clone", "default", "mine"]));
    assert_eq!(mode(&loose.join("store.sqlite3")), 0o600, "store file");
}

/// A key file that went missing is not replaced while the store holds secrets sealed with
/// it: a new key made the old secrets unreadable and sealed new ones under a second key
/// (a second worker on a shared store did exactly that). Listings go on; a command that
/// needs the secret says what is missing.
#[test]
fn a_lost_master_key_is_not_silently_replaced() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path();
    ok(bin(dir)
        .args(["connector", "add", "asoc", "--name", "cloud"])
        .args(["--url", "http://127.0.0.1:9", "--key-id", "kid"])
        .env("APPSCAN_KEY_SECRET", SECRET));
    std::fs::rename(dir.join("master.key"), dir.join("master.key.lost")).expect("lose it");
    ok(bin(dir).args(["connector", "list", "--json"]));
    let sync = bin(dir).args(["sync", "cloud"]).output().expect("runs");
    let said = text(&sync);
    assert_eq!(sync.status.code(), Some(1), "{said}");
    assert!(said.contains("there is no master key"), "{said}");
    assert!(!dir.join("master.key").exists(), "a new key was made");
    // A worker without the key does not start its scheduler: it claimed due runs and
    // dropped each, recorded nowhere.
    let serve = bin(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("runs");
    let said = text(&serve);
    assert_eq!(serve.status.code(), Some(1), "{said}");
    assert!(
        said.contains("there is no master key") && said.contains("--no-scheduler"),
        "{said}"
    );
    let add = bin(dir)
        .args(["connector", "add", "asoc", "--name", "second"])
        .args(["--url", "http://127.0.0.1:9", "--key-id", "kid"])
        .env("APPSCAN_KEY_SECRET", SECRET)
        .output()
        .expect("runs");
    assert_eq!(
        add.status.code(),
        Some(1),
        "sealed under no key: {}",
        text(&add)
    );
    // Another key (a data directory set up apart, pointed at this store): listings work,
    // and no secret is sealed under it beside the ones sealed with the store's own key.
    let other = root.path().join("other");
    ok(bin(&other).args(["map", "clone", "default", "own"]));
    let store = dir.join("store.sqlite3");
    ok(bin(&other)
        .arg("--store")
        .arg(&store)
        .args(["connector", "list", "--json"]));
    let second = bin(&other)
        .arg("--store")
        .arg(&store)
        .args(["connector", "add", "asoc", "--name", "second"])
        .args(["--url", "http://127.0.0.1:9", "--key-id", "kid"])
        .env("APPSCAN_KEY_SECRET", SECRET)
        .output()
        .expect("runs");
    let said = text(&second);
    assert_eq!(second.status.code(), Some(1), "{said}");
    assert!(
        said.contains("this master key does not open the secret of connector cloud"),
        "{said}"
    );
    // Nor does `serve` schedule with it (it claimed due runs and dropped each).
    let serve = bin(&other)
        .arg("--store")
        .arg(&store)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("runs");
    let said = text(&serve);
    assert_eq!(serve.status.code(), Some(1), "{said}");
    assert!(said.contains("is not the store's key"), "{said}");
    // The key back: everything works again.
    std::fs::rename(dir.join("master.key.lost"), dir.join("master.key")).expect("restore");
    ok(bin(dir).args(["connector", "show", "cloud", "--json"]));
    ok(bin(dir)
        .args(["connector", "add", "asoc", "--name", "second"])
        .args(["--url", "http://127.0.0.1:9", "--key-id", "kid"])
        .env("APPSCAN_KEY_SECRET", SECRET));
}

/// Every file under `dir`, as bytes.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else if p.file_name().is_some_and(|n| n != "master.key") {
            out.push((p.display().to_string(), std::fs::read(&p).expect("read")));
        }
    }
    out
}

fn assert_clean(what: &str, haystack: &[u8], needles: &[&[u8]]) {
    for n in needles {
        assert!(
            !haystack.windows(n.len()).any(|w| w == *n),
            "{what} contains a secret ({} bytes)",
            n.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_out_of_logs_errors_exports_and_the_store() {
    let sim = common::sim(3, 10, 8).await;
    let h = sim.handle();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut record = |what: &str, out: std::process::Output| {
        outputs.push((what.to_string(), text(&out).into_bytes()));
    };

    record(
        "connector add -vvv",
        ok(bin(d)
            .args([
                "-vvv",
                "connector",
                "add",
                "asoc",
                "--name",
                "cloud",
                "--url",
            ])
            .arg(sim.base_url())
            .args(["--key-id", "sim-key-id", "--rate-limit", "0"])
            .env("APPSCAN_KEY_SECRET", SECRET)),
    );
    record("sync -vvv", ok(bin(d).args(["-vvv", "sync", "cloud"])));
    record("check -vvv", ok(bin(d).args(["-vvv", "check", "cloud"])));
    for args in [
        &["connector", "list", "--json"][..],
        &["status", "--json"],
        &["runs", "cloud", "--json"],
        &["findings", "--json"],
        &["assets", "--json"],
    ] {
        record(&args.join(" "), ok(bin(d).args(args)));
    }
    for format in ["ocsf", "sarif", "csv", "jsonl"] {
        record(
            &format!("export {format}"),
            ok(bin(d).args(["export", "--format", format])),
        );
    }
    let kdi = d.join("kdi-out");
    ok(bin(d)
        .args(["export", "--format", "kdi", "--out"])
        .arg(&kdi));
    let kdi_files = all_bytes(&kdi);
    assert!(!kdi_files.is_empty(), "kdi wrote nothing");

    // Failures: a revoked key, then a server that answers 500 to everything.
    h.inject(sim::Fault::BadKey);
    let out = bin(d)
        .args(["-vvv", "sync", "cloud"])
        .output()
        .expect("runs");
    assert!(!out.status.success(), "a revoked key must fail the sync");
    record("sync with a revoked key", out);
    let out = bin(d)
        .args(["-vvv", "check", "cloud"])
        .output()
        .expect("runs");
    record("check with a revoked key", out);
    h.clear_faults();
    h.inject(sim::Fault::Status {
        status: 500,
        times: 1_000,
        endpoint: sim::asoc::Endpoint::Any,
        retry_after: None,
    });
    let out = bin(d)
        .args(["-vvv", "sync", "cloud"])
        .output()
        .expect("runs");
    assert!(!out.status.success(), "a failing server must fail the sync");
    record("sync against HTTP 500", out);
    h.clear_faults();
    record(
        "runs after failures",
        ok(bin(d).args(["runs", "cloud", "--json"])),
    );

    let master_hex = std::fs::read(d.join("master.key")).expect("master key");
    let master_hex = String::from_utf8_lossy(&master_hex).trim().to_string();
    let needles: Vec<&[u8]> = vec![SECRET.as_bytes(), master_hex.as_bytes()];
    for (what, bytes) in outputs.iter().chain(&kdi_files).chain(&all_bytes(d)) {
        assert_clean(what, bytes, &needles);
    }
}

/// Text from a scanned site reaches a terminal as text: escape sequences (clear the
/// screen, set the window title, hide a link), BEL, carriage returns and bidirectional
/// overrides are shown escaped in tables, a finding's page, the import's warnings and
/// the run's record issues; a newline in a value cannot forge a line of output.
#[test]
fn escape_sequences_from_scanned_data_do_not_reach_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/appscan-xml/sast-one_issue.xml");
    let report = std::fs::read_to_string(fixture)
        .expect("fixture")
        .replace(
            "<issue-type-name>PrivilegeEscalation</issue-type-name>",
            "<issue-type-name>CTL\u{1b}[2J&#x1b;]0;PWNED&#7;\u{202e}gpj.exe</issue-type-name>",
        )
        .replace(
            "<location>sample-web\\Dockerfile:1</location>",
            "<location>a\rb\u{1b}]8;;http://evil.example/\u{7}click</location>",
        )
        .replace(
            "<severity>High</severity>",
            "<severity>Weird&#10;2026-12-07T00:00:00Z ERROR forged line</severity>",
        );
    let file = d.join("hostile.xml");
    std::fs::write(&file, report).expect("write");
    let imported = bin(d).args(["import"]).arg(&file).output().expect("runs");
    let shown = [
        imported,
        ok(bin(d).args(["findings"])),
        ok(bin(d).args(["assets"])),
        ok(bin(d).args(["finding", "1", "--history"])),
        ok(bin(d).args(["runs", "xml", "--run", "1", "--errors"])),
        ok(bin(d).args(["status"])),
    ];
    for out in &shown {
        for bytes in [&out.stdout, &out.stderr] {
            let said = String::from_utf8_lossy(bytes);
            assert!(
                !bytes.iter().any(|b| [0x1b, 0x07, b'\r'].contains(b)),
                "a control character reached the terminal: {said:?}"
            );
            assert!(!said.contains('\u{202e}'), "{said:?}");
            assert!(
                !said.lines().any(|l| l.starts_with("2026-12-07T00:00:00Z")),
                "a value forged a line: {said}"
            );
        }
    }
    let page = text(&shown[3]);
    assert!(
        page.contains("CTL\\x1b[2J\\x1b]0;PWNED\\x07<U+202E>gpj.exe"),
        "{page}"
    );
}

/// A connector URL with a password, stored by a version that did not refuse one, is shown
/// with the password as `***` in every listing of connectors.
#[test]
fn a_stored_url_password_is_not_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(bin(d)
        .args(["connector", "add", "asoc", "--name", "legacy"])
        .args(["--url", "http://127.0.0.1:9", "--key-id", "kid"])
        .env("APPSCAN_KEY_SECRET", SECRET));
    let db = rusqlite::Connection::open(d.join("store.sqlite3")).expect("open");
    db.execute(
        "UPDATE connectors SET url = 'http://admin:hunter2@127.0.0.1:9' WHERE name = 'legacy'",
        [],
    )
    .expect("update");
    for args in [
        &["connector", "list"][..],
        &["connector", "list", "--json"],
        &["connector", "show", "legacy"],
        &["connector", "show", "legacy", "--json"],
    ] {
        let said = text(&ok(bin(d).args(args)));
        assert!(!said.contains("hunter2"), "{args:?}: {said}");
        assert!(said.contains("admin:***@127.0.0.1"), "{args:?}: {said}");
    }
}
