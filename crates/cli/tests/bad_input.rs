//! The bad-input corpus (`tests/bad-input/` at the repository root) through the real binary.
//!
//! Each case is a file with a sidecar `<file>.expect` whose lines are fragments the error
//! output must contain. Every case must fail with exit code 1, say what is wrong and where,
//! and leave the store's assets, findings and maps as they were:
//! - `config/*.toml`: `config validate FILE`;
//! - `maps/*.toml`: `map validate FILE` and `map import FILE`;
//! - `filters/*.txt`: `findings --filter TEXT` and `export --filter TEXT`;
//! - `xml/*.xml`: `import FILE` (XXE and entity-expansion payloads included);
//! - `json-pages/*.json`: served by the simulator as every `/Apps` page of a full sync.

mod common;

use common::{SECRET, bin, json, ok};
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus(kind: &str) -> Vec<(PathBuf, Vec<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/bad-input")
        .join(kind);
    let mut cases: Vec<(PathBuf, Vec<String>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x != "expect"))
        .map(|p| {
            let expect = PathBuf::from(format!("{}.expect", p.display()));
            let text = std::fs::read_to_string(&expect)
                .unwrap_or_else(|e| panic!("{} has no .expect file: {e}", p.display()));
            let fragments: Vec<String> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect();
            assert!(!fragments.is_empty(), "{} is empty", expect.display());
            (p, fragments)
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "too few {kind} cases: {}", cases.len());
    cases
}

/// What a bad input must not change: assets, findings, and the saved maps' names (a
/// failed import may register its xml connector and record its failed run).
fn snapshot(dir: &Path) -> (serde_json::Value, serde_json::Value, Vec<String>) {
    let maps = json(&ok(bin(dir).args(["map", "list", "--json"])));
    let names = maps
        .as_array()
        .map(|m| m.iter().map(|m| m["name"].to_string()).collect())
        .unwrap_or_default();
    (
        json(&ok(bin(dir).args(["assets", "--json"]))),
        json(&ok(bin(dir).args(["findings", "--json"]))),
        names,
    )
}

/// Runs `cmd`, which must fail with exit code 1 and print every fragment.
fn must_fail(case: &Path, fragments: &[String], cmd: &mut Command) {
    let out = cmd.output().expect("binary runs");
    let text = common::text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}: expected exit code 1 from {cmd:?}, got {:?}:\n{text}",
        case.display(),
        out.status.code()
    );
    for f in fragments {
        assert!(
            text.contains(f.as_str()),
            "{}: the error does not say {f:?}:\n{text}",
            case.display()
        );
    }
    assert!(
        !text.contains("panicked"),
        "{}: panicked:\n{text}",
        case.display()
    );
}

/// A data directory with one synced connector, so "unchanged" means something.
async fn populated() -> (sim::RunningSim, tempfile::TempDir) {
    let sim = common::sim(2, 6, 5).await;
    let dir = tempfile::tempdir().expect("tempdir");
    ok(bin(dir.path())
        .args(["connector", "add", "asoc", "--name", "cloud", "--url"])
        .arg(sim.base_url())
        // Unreadable pages are fetched again before they count; quickly here.
        .args([
            "--key-id",
            "sim-key-id",
            "--rate-limit",
            "0",
            "--retry-base-ms",
            "1",
        ])
        .env("APPSCAN_KEY_SECRET", SECRET));
    ok(bin(dir.path()).args(["sync", "cloud", "--quiet"]));
    (sim, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_input_fails_clearly_and_changes_nothing() {
    let (sim, dir) = populated().await;
    let d = dir.path();
    let before = snapshot(d);
    assert!(
        !before.1.as_array().is_none_or(|a| a.is_empty()),
        "the setup stored no findings"
    );

    for (case, fragments) in corpus("config") {
        must_fail(
            &case,
            &fragments,
            bin(d)
                .args(["config", "validate"])
                .arg(&case)
                .env("S", "x")
                .env("ASOC_KEY_SECRET", "x"),
        );
    }
    for (case, fragments) in corpus("maps") {
        must_fail(
            &case,
            &fragments,
            bin(d).args(["map", "validate"]).arg(&case),
        );
        must_fail(&case, &fragments, bin(d).args(["map", "import"]).arg(&case));
    }
    for (case, fragments) in corpus("filters") {
        let filter = std::fs::read_to_string(&case).expect("filter");
        must_fail(
            &case,
            &fragments,
            bin(d).args(["findings", "--filter", &filter]),
        );
        must_fail(
            &case,
            &fragments,
            bin(d).args(["export", "--format", "jsonl", "--filter", &filter]),
        );
    }
    for (case, fragments) in corpus("xml") {
        must_fail(&case, &fragments, bin(d).arg("import").arg(&case));
    }
    // An empty --app was taken as none, and the application named after the file.
    let report = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/appscan-xml/sast-one_issue.xml");
    must_fail(
        Path::new("--app ''"),
        &["--app is empty".to_string()],
        bin(d).args(["import", "--app", " "]).arg(&report),
    );
    assert_eq!(
        snapshot(d),
        before,
        "a bad file, map, config or filter changed the store"
    );

    let h = sim.handle();
    for (case, fragments) in corpus("json-pages") {
        let body = std::fs::read_to_string(&case).expect("page");
        h.clear_faults();
        h.inject(sim::Fault::Body {
            body,
            times: 1_000,
            endpoint: sim::asoc::Endpoint::Apps,
        });
        must_fail(&case, &fragments, bin(d).args(["sync", "cloud", "--full"]));
    }
    h.clear_faults();
    assert!(snapshot(d) == before, "a bad JSON page changed the store");
    // Every failed sync is on record, with its reason.
    let runs = json(&ok(bin(d).args(["runs", "cloud", "--json"])));
    let failed = runs
        .as_array()
        .map(|r| r.iter().filter(|r| r["state"] == "Errored").count())
        .unwrap_or(0);
    assert_eq!(failed, corpus("json-pages").len(), "{runs:#}");
}

/// A data directory whose store file is no database: every command fails naming the file
/// and SQLite's reason, said once (it used to come three times and without the file),
/// and leaves the file as it was.
#[test]
fn a_store_file_that_is_no_database_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("store.sqlite3");
    let text = b"hello, this is not a database\n";
    std::fs::write(&file, text).expect("write");
    for args in [&["status"][..], &["findings", "--json"], &["sync", "cloud"]] {
        let out = bin(dir.path()).args(args).output().expect("binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        let named = format!("cannot open the store at {}", file.display());
        assert!(stderr.contains(&named), "{args:?}: {stderr}");
        assert_eq!(
            stderr.matches("not a database").count(),
            1,
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(std::fs::read(&file).expect("read"), text);
}

/// A damaged store (a page SQLite cannot read, found after opening it) is named in the
/// error, with what to do: it was a bare "database error: database disk image is
/// malformed".
#[test]
fn a_damaged_store_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    common::ok(bin(d).args(["connector", "add", "xml", "--name", "kept"]));
    let file = d.join("store.sqlite3");
    let mut bytes = std::fs::read(&file).expect("read");
    assert!(bytes.len() > 8192, "{}", bytes.len());
    bytes[4096..8096].fill(b'g');
    std::fs::write(&file, &bytes).expect("write");
    for args in [
        &["status"][..],
        &["findings", "--json"],
        &["connector", "list"],
    ] {
        let err = common::fails(bin(d).args(args));
        let named = format!("the store file {} is damaged", file.display());
        assert!(err.contains(&named), "{args:?}: {err}");
        assert!(err.contains("malformed"), "{args:?}: {err}");
    }
}

/// An empty (0-byte) store file, met by a command that reads, is said to be one and left
/// as it was: it was made into a new store, with a master key.
#[test]
fn an_empty_store_file_is_said_to_be_empty_and_left_alone() {
    let empty = tempfile::tempdir().expect("tempdir");
    let file = empty.path().join("store.sqlite3");
    std::fs::write(&file, b"").expect("write");
    for args in [
        &["status"][..],
        &["findings", "--json"],
        &["export", "--format", "csv"],
    ] {
        let err = common::fails(bin(empty.path()).args(args));
        let named = format!("the store file {} is empty (0 bytes)", file.display());
        assert!(err.contains(&named), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read(&file).expect("read").len(), 0);
    assert!(!empty.path().join("master.key").exists());
}

/// A file that is no KEV list fails `kev import` before anything is made: a new data
/// directory (a mistyped --data-dir) got a store and a master key all the same.
#[test]
fn a_bad_kev_list_leaves_a_new_data_directory_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    let err = common::fails(bin(&d).args(["kev", "import", "/dev/null"]));
    assert!(err.contains("is not a KEV list"), "{err}");
    let made: Vec<_> = std::fs::read_dir(&d)
        .map(|r| r.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(made.is_empty(), "{made:?}");
}

/// A config file that fails its check changes nothing: in a new data directory (a
/// mistyped --data-dir) it made a store and a master key all the same, though nothing
/// of the file was applied.
#[test]
fn a_config_file_with_problems_leaves_a_new_data_directory_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("data");
    let file = dir.path().join("cfg.toml");
    std::fs::write(
        &file,
        "[[connector]]\nname = \"cloud\"\nkind = \"asoc\"\nurl = \"https://a\"\nkey_id = \"k\"\nkey_secret_env = \"S\"\npage_size = 0\n",
    )
    .expect("write");
    for args in [
        &["connector", "list"][..],
        &["connector", "add", "xml", "--name", "x"],
    ] {
        let err = common::fails(bin(&d).arg("--config").arg(&file).args(args).env("S", "x"));
        assert!(err.contains("the config file has 1 problem(s)"), "{err}");
        let made: Vec<_> = std::fs::read_dir(&d)
            .map(|r| r.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(made.is_empty(), "{args:?}: {made:?}");
    }
}

/// `migrate --force` onto the store it reads, spelled another way (`sqlite://` and a plain
/// path, a detour through `..`), is refused and the store kept: it used to empty the
/// target, which was the source, and copy nothing back ("copied 0 rows", exit 0).
#[test]
fn migrate_onto_the_same_store_spelled_another_way_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::ok(bin(dir.path()).args(["connector", "add", "xml", "--name", "kept"]));
    let file = dir.path().join("store.sqlite3");
    let detour = dir
        .path()
        .join("..")
        .join(dir.path().file_name().expect("name"))
        .join("store.sqlite3");
    for to in [
        format!("sqlite://{}", file.display()),
        detour.display().to_string(),
    ] {
        let err = common::fails(bin(dir.path()).args(["migrate", "--to", &to, "--force"]));
        assert!(err.contains("name the same store"), "{to}: {err}");
    }
    // A trailing slash opened the same file under a name that compared unequal.
    let slash = format!("{}/", file.display());
    let err = common::fails(bin(dir.path()).args(["migrate", "--to", &slash, "--force"]));
    assert!(err.contains("this path ends with /"), "{err}");
    // A missing source was created empty and copied over the target.
    let missing = dir.path().join("typo.sqlite3");
    let err = common::fails(
        bin(dir.path())
            .args(["migrate", "--from"])
            .arg(&missing)
            .arg("--to")
            .arg(&file)
            .arg("--force"),
    );
    assert!(err.contains("there is no store at"), "{err}");
    assert!(!missing.exists());
    let listed = common::json(&common::ok(bin(dir.path()).args([
        "connector",
        "list",
        "--json",
    ])));
    assert_eq!(listed[0]["name"], "kept", "{listed}");
}
