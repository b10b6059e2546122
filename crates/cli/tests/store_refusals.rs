//! A store that refuses a write in the middle of a run, through the real binary on
//! PostgreSQL: the run ends Errored with the server's reason and releases the connector
//! (it stayed Processing, its cause lost, until the next run took it over as
//! "interrupted"), and an import's writes are rolled back. And text the store could not
//! hold before (a NUL from a scanned page) is stored.

mod common;
#[path = "../../store/tests/pgtest/mod.rs"]
mod pgtest;

use common::{SECRET, bin, fails, json, ok};
use std::path::{Path, PathBuf};

fn report() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/appscan-xml/sast-one_issue.xml")
}

#[test]
fn a_refused_write_ends_the_run_errored_with_the_servers_reason() {
    let Some(db) = pgtest::TestDb::new("cli_refused_write") else {
        return;
    };
    let url = db.url();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The simulator on a runtime of its own: the test blocks (processes, PostgreSQL's
    // blocking client).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = rt.block_on(common::sim(2, 30, 5));
    ok(bin(d)
        .args([
            "--store",
            &url,
            "connector",
            "add",
            "asoc",
            "--name",
            "cloud",
        ])
        .args(["--url", &sim.base_url(), "--key-id", "sim-key-id"])
        .args(["--rate-limit", "0"])
        .env("APPSCAN_KEY_SECRET", SECRET));
    // The server refuses every new finding from now on.
    db.client()
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER refuse BEFORE INSERT ON findings FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .expect("trigger");

    for (connector, command) in [
        ("cloud", vec!["sync".to_string(), "cloud".to_string()]),
        (
            "xml",
            vec!["import".to_string(), report().display().to_string()],
        ),
    ] {
        let err = fails(bin(d).args(["--store", &url]).args(&command));
        assert!(err.contains("refused by the test"), "{command:?}: {err}");
        let runs = json(&ok(
            bin(d).args(["--store", &url, "runs", connector, "--json"])
        ));
        let run = &runs[0];
        assert_eq!(run["state"], "Errored", "{command:?}: {runs}");
        assert!(run["ended_at"].is_string(), "{runs}");
        let reason = run["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("database error: ERROR: refused by the test"),
            "{command:?}: the run's reason says what the server said: {reason}"
        );
        let status = json(&ok(bin(d).args(["--store", &url, "status", "--json"])));
        let c = status
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == connector))
            .unwrap_or_else(|| panic!("{connector} in {status}"));
        assert_eq!(c["state"], "Errored", "{status}");
        assert_ne!(c["interrupted"], true, "{status}");
    }
    // The import's assets went with its findings: nothing half-written.
    let assets = json(&ok(bin(d).args([
        "--store",
        &url,
        "assets",
        "--connector",
        "xml",
        "--json",
    ])));
    assert_eq!(assets.as_array().map(Vec::len), Some(0), "{assets}");

    // Once the server accepts again, both work, and a NUL from a scanned page (which
    // PostgreSQL's text cannot hold, and which failed every run) is stored as U+FFFD.
    db.client()
        .batch_execute("DROP TRIGGER refuse ON findings")
        .expect("drop trigger");
    ok(bin(d).args(["--store", &url, "sync", "cloud"]));
    let text = std::fs::read_to_string(report()).expect("fixture");
    let nul = d.join("nul.xml");
    std::fs::write(
        &nul,
        text.replace(
            "<issue-type-name>PrivilegeEscalation</issue-type-name>",
            "<issue-type-name>Privilege\u{0}Escalation</issue-type-name>",
        ),
    )
    .expect("write");
    ok(bin(d).args(["--store", &url, "import"]).arg(&nul));
    let findings = json(&ok(bin(d).args([
        "--store",
        &url,
        "findings",
        "--connector",
        "xml",
        "--json",
    ])));
    assert_eq!(
        findings[0]["name"], "Privilege\u{FFFD}Escalation",
        "{findings}"
    );
}
