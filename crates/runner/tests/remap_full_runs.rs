//! `remap` of full-run sources (ASE, XML reports) gives what a fresh sync with the same
//! map gives: a store that synced with one map and was remapped onto another holds the
//! same findings, statuses and risks as a store that used the other map from the start.
//! Their default map's CLOSED is also the scanner's own word (Fixed, Noise, Passed), and
//! only what a run closed because it no longer saw it is the runs' to keep.

use model::Status;
use runner::connectors::EditConnector;
use runner::{AddConnector, ImportInput, MasterKey, Quiet, RunReport, Runner, SyncOptions};
use secrecy::SecretString;
use sim::ase::{AseSim, AseSimConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::{ListQuery, RunState};

/// The default map with the status read from the scanner's own word.
fn source_status_map(name: &str) -> String {
    let block = "target = \"findingStatus\"\nsource = [\"Status\"]";
    assert!(model::map::DEFAULT_MAP_TOML.contains(block));
    model::map::DEFAULT_MAP_TOML
        .replacen("name = \"default\"", &format!("name = \"{name}\""), 1)
        .replacen(
            block,
            "target = \"findingStatus\"\nsource = [\"SourceStatus\"]",
            1,
        )
}

/// [`source_status_map`] that also calls Noise and Passed NEW (to be triaged again).
fn triage_map() -> String {
    source_status_map("triage")
        .replacen("Noise = \"NONE\"", "Noise = \"NEW\"", 1)
        .replacen("Passed = \"IGNORED\"", "Passed = \"NEW\"", 1)
}

/// A runner over a fresh SQLite store in `dir`, with the maps of this file saved.
fn runner_in(dir: &Path) -> Runner {
    let store = store::SqliteStore::open(&dir.join("store.sqlite3")).expect("store opens");
    let runner = Runner::new(
        Arc::new(store),
        MasterKey::from_hex(&"cd".repeat(32), "test").expect("key"),
    );
    runner
        .store
        .save_map("srcstat", &source_status_map("srcstat"))
        .expect("map");
    runner.store.save_map("triage", &triage_map()).expect("map");
    runner
}

fn use_map(runner: &Runner, connector: &str, map: &str) {
    runner
        .edit_connector(connector, EditConnector::default(), |s| {
            s.map = map.to_string()
        })
        .expect("edit");
}

fn processed(report: RunReport) -> RunReport {
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    report
}

async fn remap(runner: &Runner, connector: &str) -> RunReport {
    processed(
        runner
            .remap(connector, SyncOptions::default(), &Quiet)
            .await
            .expect("the remap runs"),
    )
}

/// What `findings --json` says of each finding, but its row id and the times the store
/// first and last saw it (the two stores saw them at different instants).
fn stored(runner: &Runner) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> = runner
        .store
        .findings(&ListQuery::default())
        .expect("findings")
        .into_iter()
        .map(|f| {
            let mut v = serde_json::to_value(&f).expect("json");
            if let Some(o) = v.as_object_mut() {
                for k in ["id", "first_seen", "last_seen"] {
                    o.remove(k);
                }
            }
            v
        })
        .collect();
    rows.sort_by_key(|v| v["external_id"].to_string());
    rows
}

/// Both stores hold the same findings, told apart one by one when they do not.
fn assert_same(remapped: &Runner, fresh: &Runner) {
    let (a, b) = (stored(remapped), stored(fresh));
    assert_eq!(a.len(), b.len(), "as many findings");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "remapped (left) and synced fresh (right)");
    }
}

fn status_of(runner: &Runner, id: &str) -> Status {
    runner
        .store
        .findings(&ListQuery::default())
        .expect("findings")
        .into_iter()
        .find(|f| f.finding.external_id == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
        .finding
        .status
}

async fn ase_sync(runner: &Runner) -> RunReport {
    processed(
        runner
            .sync("ase", SyncOptions::default(), &Quiet)
            .await
            .expect("sync runs"),
    )
}

/// The audit's case: store A syncs with the default map, store B with the triage map;
/// the server drops issues; both sync; A is remapped onto the triage map. A finding
/// the scanner calls Noise or Passed (CLOSED under the default map) is NEW in both, one
/// gone from the server CLOSED in both; a remap through a map that calls it NONE and
/// back does not bring a gone finding back open; A's next sync reopens nothing.
#[tokio::test]
async fn an_ase_remap_gives_what_a_fresh_sync_with_the_map_gives() {
    let config = AseSimConfig {
        apps: 2,
        issues_per_app: 50,
        seed: 9,
        ..AseSimConfig::default()
    };
    let sim = AseSim::start(config.clone(), ([127, 0, 0, 1], 0).into())
        .await
        .expect("simulator starts");
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let (a, b) = (runner_in(dir_a.path()), runner_in(dir_b.path()));
    for r in [&a, &b] {
        r.add_connector(AddConnector {
            name: "ase".into(),
            kind: "ase".into(),
            url: Some(sim.base_url()),
            key_id: Some(config.key_id.clone()),
            secret: Some(SecretString::from(config.key_secret.clone())),
            settings: runner::Settings {
                rate_limit_per_minute: 0,
                retry_base_ms: 2,
                ..runner::Settings::default()
            },
        })
        .expect("connector added");
    }
    use_map(&b, "ase", "triage");
    ase_sync(&a).await;
    ase_sync(&b).await;
    let removed = sim.handle().remove_issues(10);
    assert!(!removed.is_empty());
    ase_sync(&a).await;
    ase_sync(&b).await;
    // The scenario holds what it is about: present findings the scanner called Noise
    // or Passed, CLOSED by A's default map.
    let triaged: Vec<String> = a
        .store
        .findings(&ListQuery::default())
        .expect("findings")
        .into_iter()
        .filter(|f| {
            matches!(f.finding.source_status.as_deref(), Some("Noise" | "Passed"))
                && !removed.contains(&f.finding.external_id)
        })
        .map(|f| f.finding.external_id)
        .collect();
    assert!(!triaged.is_empty(), "the simulator serves Noise or Passed");
    for id in &triaged {
        assert_eq!(
            status_of(&a, id),
            Status::Closed,
            "{id} under the default map"
        );
    }

    // Through a map that calls Noise NONE and Passed IGNORED, then the triage map.
    use_map(&a, "ase", "srcstat");
    remap(&a, "ase").await;
    for id in &removed {
        assert_eq!(
            status_of(&a, id),
            Status::Closed,
            "{id} is gone from the server"
        );
    }
    use_map(&a, "ase", "triage");
    remap(&a, "ase").await;
    for id in &triaged {
        assert_eq!(status_of(&a, id), Status::New, "{id} under the triage map");
    }
    assert_same(&a, &b);

    // Nothing changed on the server: A's next sync reopens and closes nothing.
    let next = ase_sync(&a).await;
    let c = next.run.counters;
    assert_eq!((c.updated, c.closed), (0, 0), "{c:?}");
    assert_same(&a, &b);
}

fn fixture(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/appscan-xml")
        .join(name);
    assert!(p.is_file(), "fixture {} is missing", p.display());
    p
}

async fn import(runner: &Runner, path: &Path) -> RunReport {
    processed(
        runner
            .import(
                Some("xml"),
                ImportInput {
                    allow_older: false,
                    path: path.to_path_buf(),
                    app: None,
                },
                SyncOptions::default(),
                &Quiet,
            )
            .await
            .expect("the import runs"),
    )
}

/// The report with its first issues' status (Open) replaced by `words`, in order.
fn with_words(text: &str, words: &[&str]) -> String {
    let mut text = text.to_string();
    for word in words {
        text = text.replacen(
            "<status>Open</status>",
            &format!("<status>{word}</status>"),
            1,
        );
    }
    text
}

/// The same for XML reports: a report whose issues the scanner called Fixed, Noise,
/// Passed, imported, then again without some of its issues (one Noise, one Open).
#[tokio::test]
async fn an_xml_remap_gives_what_a_fresh_import_with_the_map_gives() {
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let (a, b) = (runner_in(dir_a.path()), runner_in(dir_b.path()));
    for r in [&a, &b] {
        r.add_connector(AddConnector {
            name: "xml".into(),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: runner::Settings::default(),
        })
        .expect("connector");
    }
    use_map(&b, "xml", "triage");
    let text = std::fs::read_to_string(fixture("dast-many_findings.xml")).expect("read");
    let text = with_words(&text, &["Fixed", "Noise", "Passed", "Noise", "Passed"]);
    let full = dir_a.path().join("full.xml");
    std::fs::write(&full, &text).expect("write");
    // The smaller report: without the first and the fourth issue (Fixed and Noise) and
    // one still Open.
    let items: Vec<(usize, usize)> = item_spans(&text);
    assert_eq!(items.len(), 60);
    let drop = [items[0], items[3], items[10]];
    let mut smaller = String::new();
    let mut at = 0;
    for (start, end) in drop {
        smaller.push_str(&text[at..start]);
        at = end;
    }
    smaller.push_str(&text[at..]);
    let smaller = smaller
        .replace("<issue-group total=\"60\">", "<issue-group total=\"57\">")
        .replace(
            "<total-issues-in-application>60<",
            "<total-issues-in-application>57<",
        );
    let smaller_path = dir_a.path().join("smaller.xml");
    std::fs::write(&smaller_path, smaller).expect("write");
    for r in [&a, &b] {
        import(r, &full).await;
        import(r, &smaller_path).await;
    }
    let closed_a = a
        .store
        .findings(&ListQuery::default())
        .expect("findings")
        .iter()
        .filter(|f| f.finding.status == Status::Closed)
        .count();
    assert_eq!(
        closed_a,
        5 + 1,
        "the default map's CLOSED and one gone Open"
    );

    use_map(&a, "xml", "srcstat");
    remap(&a, "xml").await;
    use_map(&a, "xml", "triage");
    remap(&a, "xml").await;
    assert_same(&a, &b);
    let again = import(&a, &smaller_path).await;
    let c = again.run.counters;
    assert_eq!((c.updated, c.closed), (0, 0), "{c:?}");
    assert_same(&a, &b);
}

/// Where each issue item of the report's issue group is in `text`: from its `<item` to
/// the end of its `</item>` (the items' own indentation tells them from nested ones).
fn item_spans(text: &str) -> Vec<(usize, usize)> {
    let group = text.find("<issue-group").expect("an issue group");
    let group_end = text.find("</issue-group>").expect("its end");
    let (open, close) = ("\n    <item ", "\n    </item>");
    let mut spans = Vec::new();
    let mut from = group;
    while let Some(start) = text[from..group_end].find(open).map(|i| from + i) {
        let Some(end) = text[start..].find(close).map(|i| start + i + close.len()) else {
            break;
        };
        spans.push((start, end));
        from = end;
    }
    spans
}
