//! `import`: every real AppScan XML report of the shared fixtures imported through
//! `Runner::import` into a real SQLite store, with counts, severities and a sample of
//! fields checked by hand against the files (values read off the XML with grep); gzip
//! files; bad files (truncated, not well formed, another tool's, an unknown schema
//! version) fail with their line and column and store nothing.

use model::{Severity, Status};
use runner::{ImportInput, MasterKey, Quiet, RunReport, Runner, SyncOptions};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::{ListQuery, RunState, StoredFinding};

#[path = "../../store/tests/pgtest/mod.rs"]
mod pgtest;

fn fixture(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/appscan-xml")
        .join(name);
    assert!(p.is_file(), "fixture {} is missing", p.display());
    p
}

struct Rig {
    runner: Runner,
    dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("store opens");
    rig_on(Arc::new(store), dir)
}

/// A rig over `store`, writing its files in `dir`.
fn rig_on(store: Arc<dyn store::Store>, dir: tempfile::TempDir) -> Rig {
    let key = MasterKey::from_hex(&"ef".repeat(32), "test").expect("key");
    Rig {
        runner: Runner::new(store, key),
        dir,
    }
}

impl Rig {
    async fn import(&self, path: &Path, app: Option<&str>) -> RunReport {
        self.import_into(None, path, app).await
    }

    async fn import_into(
        &self,
        connector: Option<&str>,
        path: &Path,
        app: Option<&str>,
    ) -> RunReport {
        self.import_with(connector, path, app, SyncOptions::default())
            .await
    }

    async fn import_with(
        &self,
        connector: Option<&str>,
        path: &Path,
        app: Option<&str>,
        opts: SyncOptions,
    ) -> RunReport {
        self.runner
            .import(
                connector,
                ImportInput {
                    allow_older: false,
                    path: path.to_path_buf(),
                    app: app.map(str::to_string),
                },
                opts,
                &Quiet,
            )
            .await
            .expect("the import runs")
    }

    async fn remap(&self, connector: &str) -> RunReport {
        self.runner
            .remap(connector, SyncOptions::default(), &Quiet)
            .await
            .expect("the remap runs")
    }

    fn findings(&self) -> Vec<StoredFinding> {
        self.runner
            .store
            .findings(&ListQuery::default())
            .expect("findings")
    }

    fn assets(&self) -> usize {
        self.runner
            .store
            .assets(&ListQuery::default())
            .expect("assets")
            .len()
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("write");
        p
    }
}

fn severities(findings: &[StoredFinding]) -> BTreeMap<Severity, usize> {
    let mut h = BTreeMap::new();
    for f in findings {
        *h.entry(f.finding.severity).or_default() += 1;
    }
    h
}

fn by_id<'a>(findings: &'a [StoredFinding], id: &str) -> &'a StoredFinding {
    findings
        .iter()
        .find(|f| f.finding.external_id == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

#[tokio::test]
async fn asoc_dast_export() {
    let r = rig();
    let report = r.import(&fixture("dast-many_findings.xml"), None).await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    let f = r.findings();
    assert_eq!(f.len(), 60);
    assert_eq!(
        severities(&f),
        BTreeMap::from([
            (Severity::High, 4),
            (Severity::Medium, 53),
            (Severity::Low, 1),
            (Severity::Informational, 2)
        ])
    );
    assert!(f.iter().all(|f| f.connector == "xml"));
    assert_eq!(r.assets(), 1);
    // Lines 655-870 of the file.
    let i = by_id(&f, "b0479dc1-ec61-ee11-8457-14cb65725114");
    assert_eq!(i.finding.name, "Unencrypted Login Request");
    assert_eq!(i.finding.severity, Severity::High);
    assert_eq!(i.finding.cwe, Some(523));
    assert_eq!(i.finding.cvss, Some(8.2));
    assert_eq!(i.finding.port, Some(9000));
    assert_eq!(i.finding.element.as_deref(), Some("passwordConfirmation"));
    assert_eq!(
        i.finding.location.as_deref(),
        Some("http://mani-virtual-machine:9000/dvja-1.0-SNAPSHOT/register.action")
    );
    assert_eq!(i.finding.asset_external_id, "application:AltoroSAST");
    assert_eq!(i.finding.status, Status::New);
    assert!(
        i.finding
            .solution
            .as_deref()
            .unwrap_or_default()
            .starts_with("Fix Recommendation: Enforce SSL use")
    );
    assert_eq!(i.asset_name.as_deref(), Some("AltoroSAST"));
}

#[tokio::test]
async fn asoc_sast_exports() {
    let r = rig();
    let report = r.import(&fixture("sast-many_issues.xml"), None).await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    // The export has no cause- or security-risk-group: said once each with a count,
    // not twice per issue (166 warnings).
    let messages: Vec<&str> = report.issues.iter().map(|i| i.message.as_str()).collect();
    assert!(messages.len() <= 6, "{messages:#?}");
    assert!(
        messages.iter().any(|m| m
            .starts_with("security-risks: not known (the report has no security-risk-group)")
            && m.ends_with("more times)")),
        "{messages:#?}"
    );
    let f = r.findings();
    assert_eq!(f.len(), 83);
    assert_eq!(
        severities(&f),
        BTreeMap::from([
            (Severity::High, 71),
            (Severity::Medium, 10),
            (Severity::Low, 2)
        ])
    );
    // Lines 6585-6646.
    let i = by_id(&f, "4a8355ff-748d-ef11-8473-000d3a0fc910");
    assert_eq!(i.finding.name, "Missing Encryption of Sensitive Data");
    assert_eq!(i.finding.severity, Severity::Low);
    assert_eq!(i.finding.cwe, Some(311));

    let r = rig();
    let report = r.import(&fixture("sast-one_issue.xml"), None).await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    let f = r.findings();
    assert_eq!(f.len(), 1);
    let i = &f[0];
    assert_eq!(
        i.finding.external_id,
        "5a2deb60-ea8b-ef11-8473-000d3a0fc910"
    );
    assert_eq!(i.finding.name, "PrivilegeEscalation");
    assert_eq!(i.finding.severity, Severity::High);
    assert_eq!(i.finding.cwe, Some(266));
    assert_eq!(
        i.finding.location.as_deref(),
        Some(r"sample-web\Dockerfile:1")
    );
    assert_eq!(i.finding.asset_external_id, "application:sample-web");
}

#[tokio::test]
async fn appscan_standard_report_with_a_missing_severity() {
    let r = rig();
    let report = r
        .import(&fixture("dast-issue_10074.xml"), Some("Legacy portal"))
        .await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    let f = r.findings();
    assert_eq!(f.len(), 4);
    // The first item's <severity /> is empty: the connector's unknown_severity (Medium
    // by default), warned about — not Informational, which would hide an unrated finding
    // from every `severity>=medium` view.
    assert_eq!(
        severities(&f),
        BTreeMap::from([(Severity::High, 3), (Severity::Medium, 1)])
    );
    let first = by_id(&f, "-4714581656683135232");
    assert_eq!(first.finding.severity, Severity::Medium);
    assert_eq!(first.finding.source_severity, "");
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.message.contains("no severity, mapped to Medium")),
        "{:?}",
        report.issues
    );
    let i = by_id(&f, "1444716459353270272");
    assert_eq!(i.finding.cwe, Some(123));
    assert_eq!(i.finding.severity, Severity::High);
    assert_eq!(i.finding.asset_external_id, "application:Legacy portal");
    assert!(report.run.counters.warnings > 0);
}

/// A report read whole is its application's latest full run even with no issue in it:
/// what the application had is closed. (An empty report was "no data" and aborted, so an
/// application that became clean kept its findings open for ever.)
#[tokio::test]
async fn a_report_without_findings_closes_what_its_application_had() {
    for name in ["dast-no_findings.xml", "sast-no_issues.xml"] {
        let r = rig();
        let report = r.import(&fixture(name), None).await;
        assert_eq!(
            report.run.state,
            RunState::Processed,
            "{name}: {:?}",
            report.run.reason
        );
        assert_eq!((r.findings().len(), r.assets()), (0, 1), "{name}");
    }

    let r = rig();
    r.import(&fixture("sast-one_issue.xml"), Some("sample-web"))
        .await;
    let before = r.findings();
    assert_eq!(before.len(), 1);
    assert!(before[0].finding.status.is_open());
    let report = r
        .import(&fixture("sast-no_issues.xml"), Some("sample-web"))
        .await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    let after = r.findings();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].finding.status, Status::Closed, "{after:?}");
}

/// A report that holds fewer issues than its application has, by its own count (ASoC
/// writes `total-issues-in-application`: here a report of one scan that found none, of
/// an application with 7), closed every finding of the application it did not list.
/// It closes none now, and the run says why.
#[tokio::test]
async fn a_report_of_part_of_its_application_closes_nothing() {
    let r = rig();
    r.import(&fixture("dast-many_findings.xml"), Some("shop"))
        .await;
    let open = |r: &Rig| {
        r.findings()
            .iter()
            .filter(|f| f.finding.status.is_open())
            .count()
    };
    let before = open(&r);
    assert!(before > 0);
    let report = r
        .import(&fixture("dast-no_findings.xml"), Some("shop"))
        .await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(report.run.counters.closed, 0);
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.message.contains("holds 0 of its application's 7 issues")),
        "{:?}",
        report.issues
    );
    assert_eq!(open(&r), before);
}

fn open_count(r: &Rig) -> usize {
    r.findings()
        .iter()
        .filter(|f| f.finding.status.is_open())
        .count()
}

/// A report with no `issue-group` that declares no count of issues lists nothing and
/// does not say it found nothing (a bare root, a Standard report cut down by hand): it
/// was taken for a clean scan and closed every finding of its application, silently. It
/// closes nothing now, and says so; a report that declares zero issues still closes.
#[tokio::test]
async fn a_report_without_an_issue_group_closes_nothing_unless_it_declares_zero() {
    let r = rig();
    r.import(&fixture("sast-one_issue.xml"), Some("sample-web"))
        .await;
    assert_eq!(open_count(&r), 1);
    let bare = r.write(
        "bare.xml",
        r#"<xml-report AsocXmlExportVersion="1.7" technology="Mixed"/>"#,
    );
    let report = r.import(&bare, Some("sample-web")).await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(report.run.counters.closed, 0);
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.message.contains("the report has no issue-group")
                && i.message.contains("nothing closed")),
        "{:?}",
        report.issues
    );
    assert_eq!(open_count(&r), 1);

    // A Standard report without its issue-group.
    let text = std::fs::read_to_string(fixture("dast-issue_10074.xml")).expect("read");
    let start = text.find("<issue-group").expect("issue-group");
    let end = text.find("</issue-group>").expect("issue-group end") + "</issue-group>".len();
    let stripped = r.write(
        "stripped.xml",
        format!("{}{}", &text[..start], &text[end..]),
    );
    let standard = fixture("dast-issue_10074.xml");
    r.import(&standard, Some("portal")).await;
    let before = open_count(&r);
    assert_eq!(before, 5);
    let report = r.import(&stripped, Some("portal")).await;
    assert_eq!(report.run.counters.closed, 0, "{:?}", report.issues);
    assert_eq!(open_count(&r), before);
    // With an empty issue-group it is a clean scan: the portal's 4 are closed.
    let empty = r.write(
        "empty.xml",
        format!("{}<issue-group />{}", &text[..start], &text[end..]),
    );
    let report = r.import(&empty, Some("portal")).await;
    assert_eq!(report.run.counters.closed, 4, "{:?}", report.issues);

    // A report that declares zero issues closes what its application had.
    let zero = r.write(
        "zero.xml",
        r#"<xml-report AsocXmlExportVersion="1.7" technology="Mixed"><layout><total-issues-in-application>0</total-issues-in-application></layout></xml-report>"#,
    );
    let report = r.import(&zero, Some("sample-web")).await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(report.run.counters.closed, 1, "{:?}", report.issues);
    assert_eq!(open_count(&r), 0);
}

/// AppScan Standard reports name no application: two applications served by one host
/// under different paths were one asset (the starting URL's origin), and each one's
/// report closed the other's findings. The starting URL's path tells them apart.
#[tokio::test]
async fn standard_reports_of_two_paths_on_one_host_are_two_applications() {
    let r = rig();
    let text = std::fs::read_to_string(fixture("dast-issue_10074.xml")).expect("read");
    let report = |path: &str, ids: &str| {
        let (head, issues) = text.split_at(text.find("<issue-group").expect("issue group"));
        let head = head.replace(
            "<starting-url>CENSURED",
            &format!("<starting-url>http://intranet.example:8080/{path}/"),
        );
        let issues = issues.replacen("<item id=\"", &format!("<item id=\"{ids}"), usize::MAX);
        r.write(&format!("{path}.xml"), format!("{head}{issues}"))
    };
    let a = r.import(&report("appA", "a-"), None).await;
    assert_eq!(a.run.state, RunState::Processed, "{:?}", a.run.reason);
    let b = r.import(&report("appB", "b-"), None).await;
    assert_eq!(b.run.state, RunState::Processed, "{:?}", b.run.reason);
    assert_eq!(
        b.run.counters.closed, 0,
        "appB's report closed appA's findings"
    );
    assert_eq!(r.assets(), 2);
    assert!(
        r.findings()
            .iter()
            .any(|f| f.finding.asset_external_id == "url:http://intranet.example:8080/appA")
    );
}

/// Adds an `xml` connector with these locators.
fn connector_with_locators(r: &Rig, name: &str, locators: &str) {
    let mut settings = runner::Settings::default();
    settings.full_run.locators = runner::FullRunOptions::parse_locators(locators);
    r.runner
        .add_connector(runner::AddConnector {
            name: name.into(),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings,
        })
        .expect("connector");
}

/// `--app` names the application whatever the connector's locators. Under
/// `url,application` it was ignored: two Standard reports of one starting URL imported
/// as Foo and Bar were one asset (renamed Bar), and the second closed Foo's findings.
/// Under `host` an ASoC report (no starting URL) failed with "pass --app NAME" even
/// with --app.
#[tokio::test]
async fn app_names_the_application_whatever_the_locators() {
    let r = rig();
    connector_with_locators(&r, "rep", "url,application");
    let text = std::fs::read_to_string(fixture("dast-issue_10074.xml")).expect("read");
    let report = |name: &str, ids: &str| {
        let (head, issues) = text.split_at(text.find("<issue-group").expect("issue group"));
        let head = head.replace(
            "<starting-url>CENSURED",
            "<starting-url>http://intranet.example:8080/",
        );
        let issues = issues.replacen("<item id=\"", &format!("<item id=\"{ids}"), usize::MAX);
        r.write(name, format!("{head}{issues}"))
    };
    let a = r
        .import_into(Some("rep"), &report("stA.xml", "a-"), Some("Foo"))
        .await;
    assert_eq!(a.run.state, RunState::Processed, "{:?}", a.run.reason);
    let b = r
        .import_into(Some("rep"), &report("stB.xml", "b-"), Some("Bar"))
        .await;
    assert_eq!(b.run.state, RunState::Processed, "{:?}", b.run.reason);
    assert_eq!(
        b.run.counters.closed, 0,
        "Bar's report closed Foo's findings"
    );
    assert_eq!(r.assets(), 2);
    let f = r.findings();
    assert!(f.iter().all(|f| f.finding.status.is_open()));
    assert_eq!(
        by_id(&f, "a-1444716459353270272").finding.asset_external_id,
        "application:Foo"
    );
    assert_eq!(
        by_id(&f, "b-1444716459353270272").finding.asset_external_id,
        "application:Bar"
    );
    // Without --app the locators decide: the starting URL.
    let c = r
        .import_into(Some("rep"), &report("stC.xml", "c-"), None)
        .await;
    assert_eq!(c.run.state, RunState::Processed, "{:?}", c.run.reason);
    assert_eq!(
        by_id(&r.findings(), "c-1444716459353270272")
            .finding
            .asset_external_id,
        "url:http://intranet.example:8080"
    );

    // `host` only, and a report without a starting URL: the hint is true.
    connector_with_locators(&r, "hosts", "host");
    let sast = fixture("sast-one_issue.xml");
    let refused = r.import_into(Some("hosts"), &sast, None).await;
    assert_eq!(refused.run.state, RunState::Errored);
    let reason = refused.run.reason.unwrap_or_default();
    assert!(reason.contains("pass --app NAME"), "{reason}");
    let named = r.import_into(Some("hosts"), &sast, Some("web")).await;
    assert_eq!(
        named.run.state,
        RunState::Processed,
        "{:?}",
        named.run.reason
    );
}

#[tokio::test]
async fn every_fixture_imports() {
    let expected = [
        ("dast-many_findings.xml", 60),
        ("dast-issue_10074.xml", 4),
        ("dast-no_findings.xml", 0),
        ("sast-many_issues.xml", 83),
        ("sast-one_issue.xml", 1),
        ("sast-no_issues.xml", 0),
    ];
    let dir = fixture("dast-many_findings.xml")
        .parent()
        .map(Path::to_path_buf)
        .expect("dir");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        expected.len(),
        "every fixture has an expected count"
    );
    let r = rig();
    let mut total = 0;
    for name in files {
        let want = expected.iter().find(|(n, _)| *n == name).map(|e| e.1);
        let want = want.unwrap_or_else(|| panic!("no expected count for {name}"));
        // Each into its own connector: a report is one application's full run.
        let connector = name.trim_end_matches(".xml").replace('_', "-");
        r.runner
            .add_connector(runner::AddConnector {
                name: connector.clone(),
                kind: "xml".into(),
                url: None,
                key_id: None,
                secret: None,
                settings: runner::Settings::default(),
            })
            .expect("connector");
        let report = r
            .import_into(Some(&connector), &dir.join(&name), None)
            .await;
        assert_eq!(
            report.run.state,
            RunState::Processed,
            "{name}: {:?}",
            report.run.reason
        );
        total += want;
        let stored = r
            .runner
            .store
            .findings(&ListQuery {
                connector: Some(connector),
                ..Default::default()
            })
            .expect("findings");
        assert_eq!(stored.len(), want, "{name}");
    }
    assert_eq!(r.findings().len(), total);
}

/// A cancelled import of a report stored as one transaction is rolled back whole: its
/// reason says so, and no longer also "records read so far were kept".
#[tokio::test]
async fn a_cancelled_small_import_says_only_that_it_was_rolled_back() {
    let r = rig();
    let opts = SyncOptions::default();
    opts.cancel.stop("stopped by SIGTERM");
    let report = r
        .runner
        .import(
            None,
            ImportInput {
                allow_older: false,
                path: fixture("dast-many_findings.xml"),
                app: None,
            },
            opts,
            &Quiet,
        )
        .await
        .expect("the import runs");
    assert_eq!(report.run.state, RunState::Cancelled);
    let reason = report.run.reason.unwrap_or_default();
    assert!(
        reason.starts_with("stopped by SIGTERM")
            && reason.contains("rolled back: nothing from this run was stored")
            && !reason.contains("kept"),
        "{reason}"
    );
    assert!(r.findings().is_empty());
}

/// The stored source status is the report's own word (Fixed, Noise, Passed,
/// InProgress), as the ASoC API source keeps it; it was always Open or Closed. The
/// normalized status is what it was, a remap gives the same, and a store written before
/// (a map without `findingSourceStatus`) sees only the findings whose word changed as
/// updated.
#[tokio::test]
async fn the_source_status_is_the_reports_own_word() {
    let r = rig();
    let mut text = std::fs::read_to_string(fixture("dast-many_findings.xml")).expect("read");
    for word in ["Fixed", "Noise", "Passed", "InProgress"] {
        text = text.replacen(
            "<status>Open</status>",
            &format!("<status>{word}</status>"),
            1,
        );
    }
    let path = r.write("statuses.xml", text);
    // As before: a map without the rule (a clone of the old default).
    let block = "[[finding]]\ntarget = \"findingSourceStatus\"\nsource = [\"SourceStatus\"]\n";
    assert!(model::map::DEFAULT_MAP_TOML.contains(block));
    let old = model::map::DEFAULT_MAP_TOML
        .replacen(block, "", 1)
        .replacen("name = \"default\"", "name = \"old\"", 1);
    r.runner.store.save_map("old", &old).expect("save map");
    let settings = runner::Settings {
        map: "old".into(),
        ..runner::Settings::default()
    };
    r.runner
        .add_connector(runner::AddConnector {
            name: "xml".into(),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings,
        })
        .expect("connector");
    let first = r.import(&path, None).await;
    assert_eq!(
        first.run.state,
        RunState::Processed,
        "{:?}",
        first.run.reason
    );
    let words = |r: &Rig| {
        let mut h: BTreeMap<(String, bool), usize> = BTreeMap::new();
        for f in r.findings() {
            let word = f.finding.source_status.clone().unwrap_or_default();
            *h.entry((word, f.finding.status.is_open())).or_default() += 1;
        }
        h
    };
    let pair = |w: &str, open: bool, n: usize| ((w.to_string(), open), n);
    assert_eq!(
        words(&r),
        BTreeMap::from([pair("Closed", false, 3), pair("Open", true, 57)])
    );

    r.runner
        .edit_connector("xml", runner::connectors::EditConnector::default(), |s| {
            s.map = "default".to_string()
        })
        .expect("edit");
    let want = BTreeMap::from([
        pair("Fixed", false, 1),
        pair("InProgress", true, 1),
        pair("Noise", false, 1),
        pair("Open", true, 56),
        pair("Passed", false, 1),
    ]);
    let again = r.import(&path, None).await;
    assert_eq!(
        again.run.state,
        RunState::Processed,
        "{:?}",
        again.run.reason
    );
    assert_eq!(words(&r), want);
    let c = again.run.counters;
    assert_eq!(
        (c.inserted, c.updated, c.unchanged, c.closed),
        (0, 4, 57, 0),
        "only the findings whose word changed are updated (the rest and the asset are unchanged): {c:?}"
    );
    let closed: Vec<Status> = r
        .findings()
        .iter()
        .filter(|f| !f.finding.status.is_open())
        .map(|f| f.finding.status)
        .collect();
    assert_eq!(closed, [Status::Closed; 3], "normalized as before");

    let remapped = r.remap("xml").await;
    assert_eq!(remapped.run.state, RunState::Processed);
    assert_eq!(
        remapped.run.counters.updated, 0,
        "{:?}",
        remapped.run.counters
    );
    assert_eq!(words(&r), want);
    let third = r.import(&path, None).await;
    assert_eq!(third.run.counters.updated, 0, "{:?}", third.run.counters);
}

/// A status word AppScan does not write keeps its issue open and is kept as the source
/// status, as before, but is now said: once per distinct word, with how many more issues
/// had it. It was taken as open without a warning.
#[tokio::test]
async fn an_unknown_status_word_is_said_once_per_word() {
    let r = rig();
    let mut text = std::fs::read_to_string(fixture("dast-many_findings.xml")).expect("read");
    for word in ["Triaged", "Triaged", "Triaged", "Pending", "Fixed"] {
        text = text.replacen(
            "<status>Open</status>",
            &format!("<status>{word}</status>"),
            1,
        );
    }
    let path = r.write("statuses.xml", text);
    let report = r.import(&path, None).await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    let about = |word: &str| -> Vec<String> {
        let start = format!("status: \"{word}\"");
        report
            .issues
            .iter()
            .map(|i| i.message.clone())
            .filter(|m| m.starts_with(&start))
            .collect()
    };
    let triaged = about("Triaged");
    assert_eq!(triaged.len(), 2, "the first, then its count: {triaged:#?}");
    assert!(triaged[0].contains("taken as open"), "{triaged:#?}");
    assert!(triaged[1].ends_with("(and 2 more times)"), "{triaged:#?}");
    assert_eq!(about("Pending").len(), 1);
    assert!(about("Fixed").is_empty() && about("Open").is_empty());
    let words: BTreeMap<(String, bool), usize> =
        r.findings().iter().fold(BTreeMap::new(), |mut h, f| {
            let word = f.finding.source_status.clone().unwrap_or_default();
            *h.entry((word, f.finding.status.is_open())).or_default() += 1;
            h
        });
    assert_eq!(
        words.get(&("Triaged".to_string(), true)),
        Some(&3),
        "{words:?}"
    );
    assert_eq!(
        words.get(&("Pending".to_string(), true)),
        Some(&1),
        "{words:?}"
    );
    assert_eq!(
        words.get(&("Fixed".to_string(), false)),
        Some(&1),
        "{words:?}"
    );
}

/// Where the Unencrypted Login Request item (the report's first) is in `text`: from its
/// `<item` to the end of its `</item>`.
fn login_request_item(text: &str) -> (usize, usize) {
    let start = text
        .find("<item id=\"-7884510270036130816\"")
        .expect("item start");
    let end =
        start + text[start..].find("\n    </item>").expect("item end") + "\n    </item>".len();
    (start, end)
}

/// `full` without its Unencrypted Login Request item (finding
/// b0479dc1-ec61-ee11-8457-14cb65725114), written beside the store.
/// The report of the next scan, which no longer found one issue: the item gone and the
/// report's counts of issues one lower (a report still counting 60 holds only part of
/// its application, and closes nothing).
fn without_login_request(r: &Rig, full: &Path) -> PathBuf {
    let text = std::fs::read_to_string(full).expect("read");
    let (start, end) = login_request_item(&text);
    let smaller = format!("{}{}", &text[..start], &text[end..])
        .replace("<issue-group total=\"60\">", "<issue-group total=\"59\">")
        .replace(
            "<total-issues-in-application>60<",
            "<total-issues-in-application>59<",
        );
    r.write("smaller.xml", smaller)
}

/// A report older than the last one imported for its application is refused: as a full
/// run it would close what the newer report found (and bring back what that one no
/// longer had), silently. `allow_older` imports it; an undated report is not compared.
#[tokio::test]
async fn an_older_report_is_refused_unless_allowed() {
    let r = rig();
    let full = fixture("dast-many_findings.xml");
    assert_eq!(r.import(&full, None).await.run.state, RunState::Processed);
    let text = std::fs::read_to_string(without_login_request(&r, &full)).expect("read");
    let older = r.write(
        "older.xml",
        text.replace(
            "<report-date>Tuesday, October 3, 2023</report-date>",
            "<report-date>Monday, October 2, 2023</report-date>",
        ),
    );
    let refused = r.import(&older, None).await;
    assert_eq!(refused.run.state, RunState::Errored);
    let reason = refused.run.reason.unwrap_or_default();
    assert!(
        reason.contains("older.xml is dated 2023-10-02")
            && reason.contains("older than the last report imported")
            && reason.contains("--allow-older"),
        "{reason}"
    );
    let kept = by_id(&r.findings(), "b0479dc1-ec61-ee11-8457-14cb65725114").clone();
    assert_ne!(
        kept.finding.status,
        Status::Closed,
        "the refused report closed it"
    );
    // Asked for, it is imported, and closes what it no longer has.
    let allowed = r
        .runner
        .import(
            None,
            ImportInput {
                allow_older: true,
                path: older.clone(),
                app: None,
            },
            SyncOptions::default(),
            &Quiet,
        )
        .await
        .expect("the import runs");
    assert_eq!(
        allowed.run.state,
        RunState::Processed,
        "{:?}",
        allowed.run.reason
    );
    assert_eq!(allowed.run.counters.closed, 1);
    // The same date again is not older.
    assert_eq!(r.import(&older, None).await.run.state, RunState::Processed);
}

/// An undated report between two dated ones wrote "no date" over the stored one, and
/// an older report was then imported without `--allow-older`.
#[tokio::test]
async fn an_undated_report_keeps_the_last_reports_date() {
    let r = rig();
    let full = fixture("dast-many_findings.xml");
    assert_eq!(r.import(&full, None).await.run.state, RunState::Processed);
    let text = std::fs::read_to_string(&full).expect("read");
    let dated = "<report-date>Tuesday, October 3, 2023</report-date>";
    assert!(text.contains(dated));
    let undated = r.write("undated.xml", text.replace(dated, ""));
    assert_eq!(
        r.import(&undated, None).await.run.state,
        RunState::Processed
    );
    let older = r.write(
        "older.xml",
        text.replace(dated, "<report-date>Monday, October 2, 2023</report-date>"),
    );
    assert_eq!(r.import(&older, None).await.run.state, RunState::Errored);
}

#[tokio::test]
async fn reimport_closes_what_is_gone_with_the_run_in_history() {
    let r = rig();
    let full = fixture("dast-many_findings.xml");
    assert_eq!(r.import(&full, None).await.run.state, RunState::Processed);
    let smaller = without_login_request(&r, &full);
    let second = r.import(&smaller, None).await;
    assert_eq!(
        second.run.state,
        RunState::Processed,
        "{:?}",
        second.run.reason
    );
    assert_eq!(second.run.counters.closed, 1);
    let gone = by_id(&r.findings(), "b0479dc1-ec61-ee11-8457-14cb65725114").clone();
    assert_eq!(gone.finding.status, Status::Closed);
    let history = r.runner.store.finding_history(gone.id).expect("history");
    assert_eq!(history.last().map(|h| h.run_id), Some(Some(second.run.id)));
}

#[tokio::test]
async fn gzip_reports_import_the_same() {
    let r = rig();
    let raw = std::fs::read(fixture("dast-many_findings.xml")).expect("read");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).expect("gzip");
    let path = r.write("report.xml.gz", gz.finish().expect("gzip"));
    let report = r.import(&path, None).await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(r.findings().len(), 60);
}

/// Imports a bad file into a store that already holds a good import: the run is
/// Errored, the reason names the line and column, and nothing changed.
async fn refused(r: &Rig, name: &str, content: &str, needle: &str) {
    let before: Vec<(String, Status)> = r
        .findings()
        .into_iter()
        .map(|f| (f.finding.external_id, f.finding.status))
        .collect();
    let path = r.write(name, content);
    let report = r.import(&path, None).await;
    assert_eq!(
        report.run.state,
        RunState::Errored,
        "{name}: {:?}",
        report.run.reason
    );
    let reason = report.run.reason.clone().unwrap_or_default();
    assert!(reason.contains(needle), "{name}: {reason}");
    assert!(
        reason.contains("line ") && reason.contains("column "),
        "{name}: {reason}"
    );
    assert_eq!(report.run.counters.closed, 0);
    let after: Vec<(String, Status)> = r
        .findings()
        .into_iter()
        .map(|f| (f.finding.external_id, f.finding.status))
        .collect();
    assert_eq!(before, after, "{name}: nothing stored or closed");
    assert_eq!(r.assets(), 1, "{name}");
}

#[tokio::test]
async fn bad_files_store_nothing() {
    let r = rig();
    let good = std::fs::read_to_string(fixture("dast-many_findings.xml")).expect("read");
    assert_eq!(
        r.import(&fixture("dast-many_findings.xml"), None)
            .await
            .run
            .state,
        RunState::Processed
    );
    // Truncated in the middle of the issue group (after some complete items).
    let cut = good
        .find("<item id=\"-1235874971598007808\"")
        .expect("an item")
        + 40;
    refused(&r, "truncated.xml", &good[..cut], "truncated.xml").await;
    // Not well formed: a closing tag that does not match, after complete items.
    let bad = good.replacen("</cwe>", "</cve>", 5);
    refused(&r, "malformed.xml", &bad, "malformed.xml").await;
    // Another tool's report.
    refused(
        &r,
        "zap.xml",
        "<?xml version=\"1.0\"?>\n<OWASPZAPReport version=\"2.11.1\">\n<site name=\"http://a\"/>\n</OWASPZAPReport>\n",
        "OWASPZAPReport",
    )
    .await;
    // An unknown schema version.
    let v9 = good.replacen(
        r#"AsocXmlExportVersion="1.7""#,
        r#"AsocXmlExportVersion="9.0""#,
        1,
    );
    refused(&r, "v9.xml", &v9, "9.0").await;
    assert_eq!(r.findings().len(), 60);
}

/// A file that cannot be imported is refused with why — the OS's reason, a directory, a
/// pipe (the report is read twice) — before a connector is created or a run recorded: it
/// said "PATH is not a readable file", and a file without read permission passed that
/// check, then made the `xml` connector and recorded an Errored run.
#[tokio::test]
async fn a_file_that_cannot_be_read_says_why_before_anything_is_recorded() {
    let r = rig();
    let fifo = r.dir.path().join("report.pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // A file without read permission (root reads any such file: then a write-only
    // attribute of sysfs, which nobody can open to read).
    let locked = r.write("locked.xml", "<xml-report/>");
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
        .expect("chmod");
    let unreadable = [locked, PathBuf::from("/sys/bus/pci/rescan")]
        .into_iter()
        .find(|p| {
            p.is_file()
                && std::fs::File::open(p)
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
        });
    let mut cases = vec![
        (
            r.dir.path().join("missing.xml"),
            "No such file or directory".to_string(),
        ),
        (r.dir.path().to_path_buf(), "is a directory".to_string()),
        (fifo, "reads the report twice".to_string()),
        (
            PathBuf::from("-"),
            "cannot import from standard input".to_string(),
        ),
    ];
    match unreadable {
        Some(p) => cases.push((p, "Permission denied".to_string())),
        None => eprintln!("no unreadable file here: the permission case is not checked"),
    }
    for (path, why) in cases {
        let input = ImportInput {
            allow_older: false,
            path: path.clone(),
            app: None,
        };
        let err = r
            .runner
            .import(None, input.clone(), SyncOptions::default(), &Quiet)
            .await
            .expect_err("refused");
        assert!(err.to_string().contains(&why), "{}: {err}", path.display());
        let err = r
            .runner
            .dry_run_import(None, input, runner::Stop::default(), &Quiet)
            .await
            .expect_err("refused");
        assert!(err.to_string().contains(&why), "{}: {err}", path.display());
    }
    let connectors = r.runner.store.connectors().expect("connectors");
    assert!(connectors.is_empty(), "{connectors:?}");
}

/// `remap` after imports: what the runs found stands, and a map's change is no sighting.
/// A finding a re-import closed stays CLOSED through a remap with the risk of a closed
/// finding (it was scored and counted in its asset as open), and the next import that
/// reports it reopens it (the remap's row looked unchanged beside the open record, so it
/// stayed CLOSED for good). A map that calls open findings FIXED, and the default again,
/// leave them NEW, not REOPENED.
#[tokio::test]
async fn remap_keeps_what_imports_found_and_a_map_change_reopens_nothing() {
    let r = rig();
    let full = fixture("dast-many_findings.xml");
    r.import(&full, None).await;
    let smaller = without_login_request(&r, &full);
    r.import(&smaller, None).await;
    let gone_id = "b0479dc1-ec61-ee11-8457-14cb65725114";
    let closed = by_id(&r.findings(), gone_id).clone();
    assert_eq!(closed.finding.status, Status::Closed);
    let asset_risk = |r: &Rig| {
        r.runner
            .store
            .assets(&ListQuery::default())
            .expect("assets")
            .iter()
            .map(|a| a.risk)
            .collect::<Vec<_>>()
    };
    let risks_before = asset_risk(&r);
    let name = r.runner.store.connectors().expect("connectors")[0]
        .name
        .clone();

    let first = r.remap(&name).await;
    assert_eq!(first.run.state, RunState::Processed);
    // Nothing changed: the finding the import closed is unchanged too (it was counted
    // updated, its content hash emptied by the close).
    assert_eq!(first.run.counters.updated, 0, "{:?}", first.run.counters);
    let after = by_id(&r.findings(), gone_id).clone();
    assert_eq!(after.finding.status, Status::Closed);
    assert_eq!(
        after.risk, closed.risk,
        "scored as the closed finding it is"
    );
    assert_eq!(
        asset_risk(&r),
        risks_before,
        "no closed finding counted in its asset"
    );

    let back = r.import(&full, None).await;
    assert_eq!(back.run.state, RunState::Processed);
    let reopened = by_id(&r.findings(), gone_id).clone();
    assert_eq!(reopened.finding.status, Status::Reopened, "reported again");
    // Nothing changed since: a remap keeps the REOPENED finding and counts nothing as
    // updated, nor does the next import of the same report (it counted the finding
    // updated in both: the remap hashed the kept status, the import the reported one).
    let same = r.remap(&name).await;
    assert_eq!(same.run.counters.updated, 0, "{:?}", same.run.counters);
    assert_eq!(
        by_id(&r.findings(), gone_id).finding.status,
        Status::Reopened
    );
    let again = r.import(&full, None).await;
    assert_eq!(again.run.counters.updated, 0, "{:?}", again.run.counters);

    // A map that calls open findings FIXED, then the default again.
    let fixing = model::map::DEFAULT_MAP_TOML
        .replacen("name = \"default\"", "name = \"fixing\"", 1)
        .replacen("Open = \"NEW\"", "Open = \"FIXED\"", 1)
        .replacen("New = \"NEW\"", "New = \"FIXED\"", 1);
    r.runner
        .store
        .save_map("fixing", &fixing)
        .expect("save map");
    let use_map = |map: &str| {
        r.runner
            .edit_connector(&name, runner::connectors::EditConnector::default(), |s| {
                s.map = map.to_string()
            })
            .expect("edit")
    };
    let open_before: Vec<String> = r
        .findings()
        .iter()
        .filter(|f| f.finding.status == Status::New)
        .map(|f| f.finding.external_id.clone())
        .collect();
    assert!(!open_before.is_empty());
    use_map("fixing");
    r.remap(&name).await;
    let findings = r.findings();
    for id in &open_before {
        assert_eq!(by_id(&findings, id).finding.status, Status::Fixed, "{id}");
    }
    use_map("default");
    r.remap(&name).await;
    let findings = r.findings();
    for id in &open_before {
        let f = by_id(&findings, id);
        assert_eq!(
            f.finding.status,
            Status::New,
            "{id}: a map's change is no sighting"
        );
        let history = r.runner.store.finding_history(f.id).expect("history");
        assert!(
            history.iter().all(|h| h.new_status != Status::Reopened),
            "{id}: {history:?}"
        );
    }
    assert!(by_id(&findings, gone_id).finding.status.is_open());
}

/// A report item without a severity imports with the connector's unknown_severity; a
/// remap of its stored record maps it the same way (it failed: "unknown severity ''").
#[tokio::test]
async fn remap_maps_a_missing_severity_as_the_import_did() {
    let r = rig();
    let report = r.import(&fixture("dast-issue_10074.xml"), None).await;
    assert_eq!(report.run.state, RunState::Processed);
    let before: Vec<_> = r.findings().iter().map(|f| f.finding.severity).collect();
    let name = r.runner.store.connectors().expect("connectors")[0]
        .name
        .clone();
    let remapped = r.remap(&name).await;
    assert_eq!(
        remapped.run.state,
        RunState::Processed,
        "{:?}",
        remapped.issues
    );
    let after: Vec<_> = r.findings().iter().map(|f| f.finding.severity).collect();
    assert_eq!(after, before);
}

/// A finding without a URL (SAST) is located in its fingerprint by its asset's URL or
/// name, as the import that listed the asset did; a remap located it by the asset's id
/// instead, so its fingerprint changed and `--dedupe` no longer joined it with the same
/// weakness from another source.
#[tokio::test]
async fn a_remap_keeps_the_fingerprints_of_findings_without_a_url() {
    let r = rig();
    let report = r.import(&fixture("sast-many_issues.xml"), None).await;
    assert_eq!(report.run.state, RunState::Processed);
    let fingerprints = |r: &Rig| {
        let mut v: Vec<(String, String)> = r
            .findings()
            .into_iter()
            .map(|f| (f.finding.external_id, f.fingerprint))
            .collect();
        v.sort();
        v
    };
    let before = fingerprints(&r);
    assert!(!before.is_empty());
    let name = r.runner.store.connectors().expect("connectors")[0]
        .name
        .clone();
    // A map that changes each finding (so the remap writes it) but nothing the
    // fingerprint reads.
    let described = model::map::DEFAULT_MAP_TOML
        .replacen("name = \"default\"", "name = \"described\"", 1)
        .replacen(
            "target = \"findingDescription\"\nsource = [\"Description\"]",
            "target = \"findingDescription\"\nsource = [\"Solution\"]",
            1,
        );
    assert_ne!(described, model::map::DEFAULT_MAP_TOML);
    r.runner
        .store
        .save_map("described", &described)
        .expect("save map");
    r.runner
        .edit_connector(&name, runner::connectors::EditConnector::default(), |s| {
            s.map = "described".to_string()
        })
        .expect("edit");
    let remapped = r.remap(&name).await;
    assert_eq!(remapped.run.state, RunState::Processed);
    assert!(
        remapped.run.counters.updated > 0,
        "{:?}",
        remapped.run.counters
    );
    assert_eq!(fingerprints(&r), before);
}

/// A report that names no application and no URL the locators take is known by its file
/// name; the import says so, since the same application's next report saved under
/// another name becomes another application and closes nothing. Named with `--app`, it
/// is not said.
#[tokio::test]
async fn an_application_known_only_by_its_file_name_is_warned_about() {
    let r = rig();
    let report = r.import(&fixture("dast-issue_10074.xml"), None).await;
    assert_eq!(report.run.state, RunState::Processed);
    let said: Vec<_> = report
        .issues
        .iter()
        .filter(|i| i.message.contains("its application is its file name"))
        .collect();
    assert_eq!(said.len(), 1, "{:?}", report.issues);
    assert!(
        said[0].message.contains("'dast-issue_10074.xml'") && said[0].message.contains("--app"),
        "{said:?}"
    );
    let named = r
        .import(&fixture("dast-issue_10074.xml"), Some("Legacy portal"))
        .await;
    assert!(
        named
            .issues
            .iter()
            .all(|i| !i.message.contains("its application is its file name")),
        "{:?}",
        named.issues
    );
}

/// `full` with its Unencrypted Login Request item (issue
/// b0479dc1-ec61-ee11-8457-14cb65725114, the report's first item) listed twice more at
/// the end of its issue group, the copies' element changed to `copy-1` and `copy-2`: one
/// issue id, three listings.
fn login_request_listed_thrice(r: &Rig, full: &Path) -> PathBuf {
    let text = std::fs::read_to_string(full).expect("read");
    let (start, end) = login_request_item(&text);
    let item = &text[start..end];
    let copy = |n: u32| {
        let changed = item.replace(
            "<element>passwordConfirmation</element>",
            &format!("<element>copy-{n}</element>"),
        );
        assert_ne!(changed, item, "the copy differs");
        format!("    {changed}\n")
    };
    let close = text.rfind("  </issue-group>").expect("group end");
    let repeated = format!("{}{}{}{}", &text[..close], copy(1), copy(2), &text[close..]);
    r.write("repeated.xml", repeated)
}

/// What a run says of the login request listed three times.
const LISTED_THRICE: &str = "2 issues repeat an issue id listed earlier in the report \
     (first: b0479dc1-ec61-ee11-8457-14cb65725114); one finding per id was stored, from its \
     last listing";

fn said_of_repeats(issues: &[store::RecordIssue]) -> Vec<String> {
    issues
        .iter()
        .map(|i| i.message.clone())
        .filter(|m| m.contains("repeat an issue id") || m.contains("repeats an issue id"))
        .collect()
}

/// A report that lists one issue id more than once is stored as one finding, its last
/// listing's, and the run says so in one warning naming the first repeated id (it was
/// silent). The repeats are told by the store's lookup of each finding (the row's last
/// run), so they are found across batches and in the run's last one, on an empty store
/// (SQLite's bulk load) as on a filled one; a re-import of the report without the
/// copies, which writes every id once more, repeats nothing. A dry run says the same.
async fn an_issue_id_listed_three_times(r: &Rig) {
    let full = fixture("dast-many_findings.xml");
    let repeated = login_request_listed_thrice(r, &full);
    let id = "b0479dc1-ec61-ee11-8457-14cb65725114";

    let dry = r
        .runner
        .dry_run_import(
            None,
            ImportInput {
                allow_older: false,
                path: repeated.clone(),
                app: None,
            },
            runner::Stop::default(),
            &Quiet,
        )
        .await
        .expect("the dry run");
    assert_eq!(
        said_of_repeats(&dry.issues),
        [LISTED_THRICE],
        "{:?}",
        dry.issues
    );
    // What an import would store: 60 findings, not one per listing (it said 62).
    assert_eq!(dry.findings, 60);

    // Batches of 25: the first listing in the first batch, the copies in the last.
    let small = SyncOptions {
        batch_size: 25,
        ..SyncOptions::default()
    };
    let report = r.import_with(None, &repeated, None, small).await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    let f = r.findings();
    assert_eq!(f.len(), 60, "one finding per issue id");
    assert_eq!(
        by_id(&f, id).finding.element.as_deref(),
        Some("copy-2"),
        "the last listing is the one kept"
    );
    assert_eq!(said_of_repeats(&report.issues), [LISTED_THRICE]);
    let c = report.run.counters;
    assert_eq!(
        (c.inserted, c.updated),
        (61, 2),
        "the app and 60 findings; the login request twice more: {c:?}"
    );
    let stored = r.runner.store.run_issues(report.run.id).expect("issues");
    assert_eq!(
        said_of_repeats(&stored),
        [LISTED_THRICE],
        "kept with the run"
    );
    assert!(c.warnings >= 1, "{c:?}");
    assert!(
        report
            .run
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("warnings")),
        "{:?}",
        report.run.reason
    );

    let again = r.import(&full, None).await;
    assert_eq!(
        again.run.state,
        RunState::Processed,
        "{:?}",
        again.run.reason
    );
    assert!(
        said_of_repeats(&again.issues).is_empty(),
        "{:?}",
        again.issues
    );
    assert_eq!(
        by_id(&r.findings(), id).finding.element.as_deref(),
        Some("passwordConfirmation")
    );

    // A filled store, in one batch: the same.
    let once_more = r.import(&repeated, None).await;
    assert_eq!(said_of_repeats(&once_more.issues), [LISTED_THRICE]);
}

#[tokio::test]
async fn an_issue_id_listed_three_times_is_one_finding_and_one_warning() {
    an_issue_id_listed_three_times(&rig()).await;
}

/// The same on PostgreSQL, whose batches find a repeat by the row's last run too, or in
/// the batch's own lookup.
#[test]
fn an_issue_id_listed_three_times_is_one_finding_and_one_warning_on_postgres() {
    let Some(db) = pgtest::TestDb::new("import_repeats") else {
        return;
    };
    let r = rig_on(Arc::new(db.open()), tempfile::tempdir().expect("tempdir"));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(an_issue_id_listed_three_times(&r));
}
