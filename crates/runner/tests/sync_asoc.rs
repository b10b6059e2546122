//! Full syncs of AppScan on Cloud against the simulator over loopback.

mod common;

use common::*;
use model::Map;
use std::collections::HashMap;
use store::RunState;

#[tokio::test]
async fn full_sync_stores_exactly_the_simulators_apps_and_issues() {
    let rig = rig(config(6, 40, 7), fast_settings()).await;
    let report = rig.sync().await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(report.run.counters.failed, 0);

    let sim_apps = rig.handle.apps();
    let sim_issues = rig.sim_issues();
    let assets = rig.assets();
    let findings = rig.findings();
    assert_eq!(assets.len(), sim_apps.len());
    assert_eq!(findings.len(), sim_issues.len());
    assert_eq!(
        report.run.counters.inserted as usize,
        sim_apps.len() + sim_issues.len()
    );

    // Field by field: what the store holds is the default map applied to what was served.
    let map = Map::default_map();
    let stored: HashMap<&str, &store::StoredFinding> = findings
        .iter()
        .map(|f| (f.finding.external_id.as_str(), f))
        .collect();
    for (app, raw) in sim_issues.iter().step_by(7) {
        let want = map
            .apply_finding(raw, app)
            .expect("the simulator serves valid issues")
            .value;
        let got = stored.get(want.external_id.as_str()).expect("issue stored");
        assert_eq!(got.finding, want);
    }
    for raw in &sim_apps {
        let want = map.apply_asset(raw).expect("valid app").value;
        let got = assets
            .iter()
            .find(|a| a.asset.external_id == want.external_id)
            .expect("app stored");
        assert_eq!(got.asset, want);
    }

    // A second full sync changes nothing.
    let again = rig.sync_full().await;
    assert_eq!(again.run.counters.inserted, 0);
    assert_eq!(again.run.counters.updated, 0);
    assert_eq!(
        again.run.counters.unchanged as usize,
        sim_apps.len() + sim_issues.len()
    );

    // An application deleted in ASoC: a full run closes nothing (only ASE and XML runs
    // do), but says which stored application it no longer saw.
    let gone = (1..100)
        .find_map(|seed| {
            let summary = rig.handle.mutate_now(0.05, seed);
            summary.removed_app_ids.first().cloned()
        })
        .expect("a mutation removes an app");
    let after = rig.sync_full().await;
    assert_eq!(after.run.state, RunState::Processed);
    assert_eq!(after.run.counters.closed, 0);
    let said = after
        .issues
        .iter()
        .find(|i| i.message.contains("no longer listed"))
        .unwrap_or_else(|| panic!("no warning: {:?}", after.issues));
    assert!(said.location.contains(&gone), "{said:?} names {gone}");
}

/// The rarer values ASoC serves, synced and stored as the default map says: a CVSS 2.0
/// score is no `cvss3Base` (`unless CvssVersion = Cvss20`) while a 3.0 or 3.1 one is; a
/// null `Cwe` stores no CWE; `Severity` Undetermined, whose `SeverityValue` (-1) the map
/// does not know, is Informational by its name and kept verbatim as the source severity.
#[tokio::test]
async fn cvss_versions_null_cwe_and_undetermined_are_stored_as_the_default_map_says() {
    let rig = rig(config(4, 150, 7), fast_settings()).await;
    let report = rig.sync_processed().await;
    assert_eq!(report.run.counters.failed, 0);
    assert!(
        report
            .issues
            .iter()
            .all(|i| !i.message.contains("severity")),
        "{:?}",
        report.issues
    );
    let stored: HashMap<String, store::StoredFinding> = rig
        .findings()
        .into_iter()
        .map(|f| (f.finding.external_id.clone(), f))
        .collect();
    let served = rig.sim_issues();
    assert_eq!(stored.len(), served.len());
    let (mut cvss2, mut cvss3, mut no_cwe, mut undetermined) = (0, 0, 0, 0);
    for (_, raw) in &served {
        let id = raw["Id"].as_str().expect("served with an Id");
        let f = &stored.get(id).expect("stored").finding;
        let score: Option<f64> = raw["Cvss"]
            .as_str()
            .map(|s| s.parse().expect("Cvss is a number in a string"));
        match raw["CvssVersion"].as_str() {
            Some("Cvss20") => {
                assert!(score.is_some(), "{raw}");
                assert_eq!(f.cvss, None, "a CVSS 2.0 score is no cvss3Base: {raw}");
                cvss2 += 1;
            }
            Some("Cvss30" | "Cvss31") => {
                assert!(score.is_some(), "{raw}");
                assert_eq!(f.cvss, score, "{raw}");
                cvss3 += 1;
            }
            _ => assert_eq!(f.cvss, None, "{raw}"),
        }
        if raw["Cwe"].is_null() {
            assert_eq!(f.cwe, None, "{raw}");
            no_cwe += 1;
        } else {
            assert_eq!(f.cwe.map(u64::from), raw["Cwe"].as_u64(), "{raw}");
        }
        if raw["Severity"] == "Undetermined" {
            assert_eq!(f.severity, model::Severity::Informational, "{raw}");
            assert_eq!(f.source_severity, "Undetermined");
            undetermined += 1;
        }
    }
    // Each variant is there to be checked (the simulator serves them at a small share).
    assert!(
        cvss2 > 0 && cvss3 > 0 && no_cwe > 0 && undetermined > 0,
        "Cvss20 {cvss2}, Cvss30/31 {cvss3}, null Cwe {no_cwe}, Undetermined {undetermined}"
    );
}

/// A warning that comes for several applications is listed once and then folded into
/// one line with its count; that line names where the others came from (only the first
/// application was named, and the others could not be found from the run's record).
/// Mutates the simulator until it has removed at least `n` applications; their ids.
fn remove_apps(rig: &Rig, n: usize) -> Vec<String> {
    let mut gone = Vec::new();
    for seed in 1..200 {
        gone.extend(rig.handle.mutate_now(0.05, seed).removed_app_ids);
        if gone.len() >= n {
            break;
        }
    }
    assert!(gone.len() >= n, "mutations removed {gone:?}");
    gone
}

#[tokio::test]
async fn folded_warnings_name_every_application_they_are_about() {
    let rig = rig(config(30, 3, 11), fast_settings()).await;
    assert_eq!(rig.sync().await.run.state, RunState::Processed);
    let gone = remove_apps(&rig, 3);
    let after = rig.sync_full().await;
    let about: Vec<&store::RecordIssue> = after
        .issues
        .iter()
        .filter(|i| i.message.contains("no longer listed"))
        .collect();
    assert_eq!(about.len(), 2, "listed once, then folded: {about:?}");
    let named = format!("{} {}", about[0].location, about[1].location);
    for id in &gone {
        assert!(named.contains(id.as_str()), "{id} not named in {about:?}");
    }
}

/// A delta asks no deleted application for its issues. Deltas asked every stored
/// application, so each one deleted cost a 404 and an existence check on every delta,
/// for ever (a service's deltas grew from 25 requests to 91, and 0 to 6 s, as the
/// simulator deleted 17 applications). They read the applications' ids instead and say
/// a deleted one is no longer listed, as full runs do.
#[tokio::test]
async fn a_delta_asks_deleted_applications_nothing() {
    let rig = rig(config(30, 3, 11), fast_settings()).await;
    rig.sync_processed().await;
    let gone = remove_apps(&rig, 3);
    let before = rig.handle.stats().count(sim::asoc::Endpoint::Issues, 404);
    for _ in 0..2 {
        let delta = rig.sync_processed().await;
        assert_eq!(delta.run.mode, store::RunMode::Delta);
        let named: Vec<&str> = delta
            .issues
            .iter()
            .filter(|i| i.message.contains("no longer listed"))
            .map(|i| i.location.as_str())
            .collect();
        for id in &gone {
            assert!(
                named.iter().any(|l| l.contains(id.as_str())),
                "{id} not named in {:?}",
                delta.issues
            );
        }
    }
    let asked = rig.handle.stats().count(sim::asoc::Endpoint::Issues, 404) - before;
    assert_eq!(asked, 0, "deleted applications were asked for their issues");
    let listed = rig
        .findings()
        .iter()
        .filter(|f| !gone.contains(&f.finding.asset_external_id))
        .count();
    assert_eq!(
        listed,
        rig.sim_issues().len(),
        "the listed apps' issues, all of them"
    );
}

#[tokio::test]
async fn an_account_with_no_apps_syncs_to_an_empty_store() {
    let rig = rig(config(0, 0, 1), fast_settings()).await;
    let report = rig.sync().await;
    assert_eq!(report.run.state, RunState::Processed);
    assert_eq!(report.run.counters.fetched, 0);
    assert!(rig.assets().is_empty());
}

#[tokio::test]
async fn pages_that_end_exactly_on_the_page_size_and_apps_without_issues() {
    // 10 apps with a page size of 5: the app list ends exactly on a page boundary.
    let mut settings = fast_settings();
    settings.page_size = 5;
    let rig = rig(config(10, 15, 3), settings).await;
    let report = rig.sync().await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(rig.assets().len(), 10);
    assert_eq!(rig.findings().len(), rig.handle.total_issues());
    let per_app: Vec<usize> = rig
        .handle
        .app_ids()
        .iter()
        .map(|a| rig.handle.issues(a).len())
        .collect();
    assert!(
        per_app.iter().any(|n| n % 5 == 0),
        "some app ends on a page boundary: {per_app:?}"
    );
    let empty: Vec<_> = rig
        .assets()
        .into_iter()
        .filter(|a| a.findings == 0)
        .collect();
    assert_eq!(
        per_app.contains(&0),
        !empty.is_empty(),
        "apps without issues are stored too"
    );
}

#[tokio::test]
async fn a_page_size_above_the_servers_maximum_fails_with_a_clear_reason() {
    let mut cfg = config(3, 10, 1);
    cfg.max_page_size = 10;
    let rig = rig(cfg, fast_settings()).await;
    let report = rig.sync().await;
    assert_eq!(report.run.state, RunState::Errored);
    let reason = report.run.reason.unwrap_or_default();
    assert!(reason.contains("400"), "{reason}");
    assert!(reason.contains("Apps"), "{reason}");
}

#[tokio::test]
async fn tokens_expiring_mid_sync_are_renewed_without_failures() {
    let rig = rig(config(8, 60, 5), fast_settings()).await;
    // Revoke every token again and again while the sync runs: after every 12 pages
    // served successfully (counted, not timed, so a slow machine sees the same pattern
    // and a fresh token always gets to serve pages before it is revoked).
    let h = rig.handle.clone();
    let revoker = tokio::spawn(async move {
        let mut revoked_at = 0;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            let stats = h.stats();
            let served = stats.count(sim::asoc::Endpoint::Issues, 200)
                + stats.count(sim::asoc::Endpoint::Apps, 200);
            if served >= revoked_at + 12 {
                revoked_at = served;
                h.revoke_tokens();
            }
        }
    });
    let report = rig.sync().await;
    revoker.abort();
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(report.run.counters.failed, 0);
    assert_eq!(rig.findings().len(), rig.handle.total_issues());
    assert!(rig.handle.stats().logins > 1, "no token was ever renewed");
}

#[tokio::test]
async fn storms_of_429_and_503_are_retried_and_counted() {
    let rig = rig(config(5, 40, 9), fast_settings()).await;
    rig.handle.inject(sim::Fault::Status {
        status: 429,
        times: 4,
        endpoint: sim::asoc::Endpoint::Issues,
        retry_after: Some(0),
    });
    rig.handle.inject(sim::Fault::Status {
        status: 503,
        times: 4,
        endpoint: sim::asoc::Endpoint::Issues,
        retry_after: None,
    });
    rig.handle.inject(sim::Fault::Status {
        status: 503,
        times: 2,
        endpoint: sim::asoc::Endpoint::Apps,
        retry_after: None,
    });
    let report = rig.sync().await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(report.run.counters.failed, 0);
    assert!(
        report.run.counters.retries >= 10,
        "retries counted: {:?}",
        report.run.counters
    );
    assert_eq!(rig.findings().len(), rig.handle.total_issues());
}

#[tokio::test]
async fn a_non_json_page_is_a_page_error_and_the_rest_is_kept() {
    let mut settings = fast_settings();
    settings.failure_threshold = 0.5;
    let rig = rig(config(4, 50, 2), settings).await;
    // Once (a proxy's page, a body cut short): the page is fetched again, nothing lost.
    rig.handle.inject(sim::Fault::NonJsonPage { times: 1 });
    let report = rig.sync().await;
    assert_eq!(report.run.state, RunState::Processed);
    assert_eq!(report.run.counters.failed, 0, "{:?}", report.issues);
    assert!(report.run.counters.retries > 0);
    assert_eq!(rig.findings().len(), rig.handle.total_issues());

    // Every time: after the retries the page is an error, the rest is kept, and the
    // cursor does not move, so the next sync asks for the missing issues again (it
    // moved, and a delta never fetched them).
    let mut settings = fast_settings();
    settings.failure_threshold = 0.5;
    // One app at a time, so that every bad answer goes to the same page.
    settings.concurrency = 1;
    let rig = common::rig(config(4, 50, 2), settings.clone()).await;
    rig.handle.inject(sim::Fault::NonJsonPage {
        times: settings.max_retries + 1,
    });
    let report = rig.sync().await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert!(report.run.counters.failed > 0);
    let issue = report
        .issues
        .iter()
        .find(|i| i.location.contains("/Issues/Application/"))
        .expect("page error recorded");
    assert!(issue.message.to_lowercase().contains("json"), "{issue:?}");
    let stored = rig.findings().len();
    assert!(stored > 0 && stored < rig.handle.total_issues());
    assert!(
        report
            .run
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("the cursor did not move")),
        "{:?}",
        report.run.reason
    );
    assert!(rig.runner.connector("sim").expect("c").cursor.is_none());
    rig.handle.clear_faults();
    let next = rig.sync().await;
    assert_eq!(next.run.state, RunState::Processed);
    assert_eq!(rig.findings().len(), rig.handle.total_issues());
}

/// A server that answers an empty page where its Count says there is more ends that
/// application's listing; what it did not list is said, and the cursor stays so that the
/// next sync asks again (it ended quietly, Processed with nothing to show).
#[tokio::test]
async fn an_empty_page_short_of_count_is_said_and_keeps_the_cursor() {
    let mut settings = fast_settings();
    settings.concurrency = 1;
    let rig = rig(config(4, 50, 2), settings).await;
    rig.handle.inject(sim::Fault::Body {
        body: r#"{"Items":[],"Count":452}"#.into(),
        times: 1,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    let report = rig.sync().await;
    let said = report
        .issues
        .iter()
        .find(|i| i.message.contains("an empty page where Count says 452"))
        .unwrap_or_else(|| panic!("{:?}", report.issues));
    assert!(said.location.contains("/Issues/Application/"), "{said:?}");
    assert!(rig.runner.connector("sim").expect("c").cursor.is_none());
    let next = rig.sync().await;
    assert_eq!(next.run.state, RunState::Processed);
    assert_eq!(rig.findings().len(), rig.handle.total_issues());
}

/// A lone UTF-16 surrogate escape in one issue (`"\ud800"`, which .NET serializers write
/// for a string cut mid-character) is valid JSON syntax that no Rust string holds: the
/// whole page was refused, its fifty records lost on every sync and the run Errored.
/// It reads as U+FFFD, and the page is stored.
#[tokio::test]
async fn a_lone_surrogate_in_one_issue_loses_nothing() {
    let rig = rig(config(1, 5, 3), fast_settings()).await;
    let app = rig.handle.app_ids()[0].clone();
    let mut items = rig.handle.issues(&app);
    items[0]["Element"] = serde_json::json!("el LONE x");
    let page = serde_json::json!({"Items": items, "Count": items.len()})
        .to_string()
        .replace("LONE", "\\ud800");
    rig.handle.inject(sim::Fault::Body {
        body: page,
        times: 1,
        endpoint: sim::asoc::Endpoint::Issues,
    });
    let report = rig.sync().await;
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert_eq!(report.run.counters.failed, 0);
    let findings = rig.findings();
    assert_eq!(findings.len(), 5);
    assert!(
        findings
            .iter()
            .any(|f| f.finding.element.as_deref() == Some("el \u{FFFD} x")),
        "{:?}",
        findings
            .iter()
            .map(|f| &f.finding.element)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_batch_the_store_rejects_ends_the_run_errored_and_nothing_after_it_is_written() {
    let rig = rig(config(6, 40, 7), fast_settings()).await;
    let issues = rig.sim_issues();
    // The first issue of one app: an app's issues are listed in Id order, so if a batch
    // after the failed one were written, some of that app's later issues would be stored.
    let app = rig.handle.app_ids()[3].clone();
    let poisoned = rig
        .handle
        .issues(&app)
        .iter()
        .filter_map(|i| i["Id"].as_str())
        .min()
        .expect("issue id")
        .to_string();
    // The store refuses one finding, as a full disk would refuse a batch: batches are
    // encoded and queued behind the write under way, and none of them may land after it.
    let db = rusqlite::Connection::open(rig.dir.path().join("store.sqlite3")).expect("db");
    db.execute_batch(&format!(
        "CREATE TRIGGER poison BEFORE INSERT ON findings WHEN NEW.external_id = '{poisoned}'
         BEGIN SELECT RAISE(ABORT, 'the disk is full (test)'); END;"
    ))
    .expect("trigger");
    let options = || runner::SyncOptions {
        batch_size: 10,
        ..runner::SyncOptions::default()
    };
    let report = rig
        .runner
        .sync("sim", options(), &runner::Quiet)
        .await
        .expect("the run ends");
    assert_eq!(report.run.state, RunState::Errored);
    let reason = report.run.reason.clone().unwrap_or_default();
    assert!(reason.contains("the disk is full (test)"), "{reason}");
    let stored = rig.findings();
    assert!(stored.len() < issues.len(), "{}", stored.len());
    assert!(stored.iter().all(|f| f.finding.external_id != poisoned));
    let connector = rig
        .runner
        .store
        .connector("sim")
        .expect("read")
        .expect("exists");
    assert_eq!(
        connector.cursor, None,
        "a failed run never moves the cursor"
    );

    assert!(
        stored.iter().all(|f| f.finding.asset_external_id != app),
        "a batch after the failed one was written"
    );

    db.execute_batch("DROP TRIGGER poison").expect("drop");
    let again = rig
        .runner
        .sync("sim", options(), &runner::Quiet)
        .await
        .expect("the run ends");
    assert_eq!(
        again.run.state,
        RunState::Processed,
        "{:?}",
        again.run.reason
    );
    assert_eq!(rig.findings().len(), issues.len());
}

/// An application deleted between the application list and its issues (404) is a
/// warning in a full run as in a delta: the full run ended Errored on it, and its other
/// applications' findings were not counted as a success.
#[tokio::test]
async fn an_application_deleted_during_a_full_run_is_a_warning() {
    let rig = rig(config(3, 10, 4), fast_settings()).await;
    rig.handle.inject(sim::Fault::RemoveAppOnIssues);
    let report = rig.sync().await;
    assert_eq!(report.run.mode, store::RunMode::Full);
    assert_eq!(
        report.run.state,
        RunState::Processed,
        "{:?}",
        report.run.reason
    );
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.message.contains("application no longer exists (404)")),
        "{:?}",
        report.issues
    );
    assert_eq!(report.run.counters.failed, 0);
}

/// `$skip` counts positions: over a server whose default order moves between requests
/// (as a database's may), a listing without `$orderby` skipped some records and served
/// others twice, and the run ended Processed. Listings name their order.
#[tokio::test]
async fn paging_holds_when_the_servers_default_order_moves() {
    let rig = rig(config(45, 70, 9), fast_settings()).await;
    rig.handle.inject(sim::Fault::UnstableOrder);
    rig.sync_processed().await;
    assert_eq!(rig.assets().len(), rig.handle.apps().len());
    assert_eq!(rig.findings().len(), rig.sim_issues().len());
}

/// An application deleted while the application list is paged moves the others one
/// place up: the one at the page boundary was never listed, by this run or by a delta
/// (it had not changed), and the run ended Processed. The list's Count changed on the
/// way, so the list is read again.
#[tokio::test]
async fn an_application_deleted_while_the_list_is_paged_skips_no_other() {
    let rig = rig(config(45, 2, 13), fast_settings()).await;
    rig.handle.inject(sim::Fault::RemoveAppDuringAppList);
    rig.sync_processed().await;
    let served = rig.handle.app_ids();
    assert_eq!(served.len(), 44, "one was deleted");
    let stored: std::collections::HashSet<String> = rig
        .assets()
        .iter()
        .map(|a| a.asset.external_id.clone())
        .collect();
    for id in &served {
        assert!(stored.contains(id), "{id} was never listed");
    }
}

/// `fetch_details`: each issue the list gave without `IssueXml` gets its detail document
/// (`/Issues/{id}/Details?format=xml`) as `detectionResult` — ASoC findings had none —;
/// a delta asks for the changed issues' documents only. Off (the default), nothing more
/// is asked.
#[tokio::test]
async fn fetch_details_fills_the_detail_document() {
    let plain = rig(config(3, 25, 7), fast_settings()).await;
    let detailed = rig(
        config(3, 25, 7),
        runner::Settings {
            fetch_details: true,
            ..fast_settings()
        },
    )
    .await;
    let documents = |r: &Rig| r.handle.stats().count(sim::asoc::Endpoint::Details, 200);
    let (p, d) = (plain.sync().await, detailed.sync().await);
    assert_eq!(d.run.state, RunState::Processed, "{:?}", d.run.reason);
    assert!(
        plain
            .findings()
            .iter()
            .all(|f| f.finding.detection.is_none())
    );
    let findings = detailed.findings();
    for f in &findings {
        let doc = f.finding.detection.as_deref().unwrap_or_default();
        assert!(
            doc.contains(&format!("<issue id=\"{}\"", f.finding.external_id)),
            "{}: {doc:?}",
            f.finding.external_id
        );
    }
    assert_eq!(
        d.run.counters.requests,
        p.run.counters.requests + findings.len() as u64
    );

    let before = documents(&detailed);
    assert_eq!(before, findings.len() as u64);
    assert_eq!(documents(&plain), 0);
    plain.handle.mutate_now(0.1, 3);
    detailed.handle.mutate_now(0.1, 3);
    let (p, d) = (plain.sync().await, detailed.sync().await);
    assert_eq!(d.run.state, RunState::Processed, "{:?}", d.run.reason);
    let documents = documents(&detailed) - before;
    assert_eq!(p.run.counters.fetched, d.run.counters.fetched);
    assert!(
        documents > 0 && documents < findings.len() as u64,
        "a delta fetched {documents} documents for {} stored findings",
        findings.len()
    );
    assert!(
        detailed
            .findings()
            .iter()
            .all(|f| f.finding.detection.is_some())
    );
}

/// A detail document that cannot be fetched (a failing endpoint, a proxy's HTML page)
/// leaves the issue as stored: its record without the document had replaced the stored
/// one, erasing its detection, and the delta after it never asked again.
#[tokio::test]
async fn a_detail_document_that_fails_keeps_what_was_stored() {
    let rig = rig(
        config(2, 10, 7),
        runner::Settings {
            fetch_details: true,
            max_retries: 0,
            failure_threshold: 1.0,
            ..fast_settings()
        },
    )
    .await;
    rig.sync().await;
    assert!(rig.findings().iter().all(|f| f.finding.detection.is_some()));
    let cursor = rig.runner.connector("sim").expect("c").cursor;
    rig.handle.mutate_now(0.5, 4);
    // Every detail document answers a proxy's page; lists are served as before.
    rig.handle.inject(sim::Fault::Body {
        body: "<!DOCTYPE html><html><body>Proxy error</body></html>".into(),
        times: 1000,
        endpoint: sim::asoc::Endpoint::Details,
    });
    let report = rig.sync().await;
    assert!(report.run.counters.failed > 0, "{:?}", report.run.counters);
    assert!(
        rig.findings().iter().all(|f| f
            .finding
            .detection
            .as_deref()
            .is_some_and(|d| d.contains("<issue "))),
        "a stored document was erased or replaced"
    );
    assert_eq!(
        rig.runner.connector("sim").expect("c").cursor,
        cursor,
        "the next sync asks for them again"
    );
}

/// A map that does not know a status the server sends warns about every record: the
/// warning is listed once with its count (it was a row per record, in memory and in
/// the store: a million for a large tenant), and the counters still count them all.
#[tokio::test]
async fn a_warning_every_record_repeats_is_listed_once() {
    let rig = rig(config(3, 40, 7), fast_settings()).await;
    let mut map = model::Map::default_map();
    map.name = "nostat".into();
    map.status.retain(|k, _| k != "Open" && k != "New");
    rig.runner
        .store
        .save_map("nostat", &map.to_toml())
        .expect("save map");
    rig.runner
        .edit_connector(
            "sim",
            runner::connectors::EditConnector {
                url: None,
                key_id: None,
            },
            |s| s.map = "nostat".into(),
        )
        .expect("edit");
    let report = rig.sync().await;
    let unknown: Vec<&str> = report
        .issues
        .iter()
        .map(|i| i.message.as_str())
        .filter(|m| m.contains("unknown status 'Open'"))
        .collect();
    assert_eq!(unknown.len(), 2, "once, then its count: {unknown:?}");
    assert!(unknown[1].contains("more times)"), "{unknown:?}");
    assert!(report.run.counters.warnings as usize > report.issues.len());
}

/// A 404 on an application's issues while the application list still has it (a
/// gateway's passing error) loses that application's changes: it was taken for a deleted
/// application, nothing counted lost, and the delta moved the cursor past its changes for
/// good. The cursor now stays, and the next delta brings them.
#[tokio::test]
async fn a_passing_404_on_a_listed_application_keeps_the_cursor() {
    let rig = rig(config(3, 10, 4), fast_settings()).await;
    rig.sync().await;
    let cursor = rig.runner.connector("sim").expect("c").cursor;
    let changed = rig.handle.mutate_now(0.5, 9);
    assert!(
        changed.status_changed > 0 && changed.apps_removed == 0,
        "{changed:?}"
    );
    rig.handle.inject(sim::Fault::Status {
        status: 404,
        times: 1,
        endpoint: sim::asoc::Endpoint::Issues,
        retry_after: None,
    });
    let report = rig.sync().await;
    assert_eq!(report.run.mode, store::RunMode::Delta);
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.message.contains("while the application is still listed")),
        "{:?}",
        report.issues
    );
    assert_eq!(
        rig.runner.connector("sim").expect("c").cursor,
        cursor,
        "the next delta asks for the application's changes again"
    );
    let next = rig.sync().await;
    assert_eq!(next.run.state, RunState::Processed, "{:?}", next.run.reason);
    let stored: std::collections::HashMap<String, String> = rig
        .findings()
        .into_iter()
        .map(|f| {
            (
                f.finding.external_id,
                f.finding.source_status.unwrap_or_default(),
            )
        })
        .collect();
    for app in rig.handle.app_ids() {
        for issue in rig.handle.issues(&app) {
            let id = issue["Id"].as_str().unwrap_or_default();
            assert_eq!(
                stored.get(id).map(String::as_str),
                issue["Status"].as_str(),
                "{id}"
            );
        }
    }
}

/// A connector Errored for a schedule `serve` refused leaves Errored when its schedule is
/// removed, with no `serve` running (it stayed Errored until one ran).
#[tokio::test]
async fn removing_a_refused_schedule_clears_its_error() {
    let rig = rig(config(1, 1, 4), fast_settings()).await;
    let c = rig.runner.connector("sim").expect("c");
    rig.runner
        .store
        .set_connector_state(
            c.id,
            store::ConnectorState::Errored,
            Some("invalid schedule '* * * * * *': it fires 1 s apart"),
        )
        .expect("state");
    rig.runner
        .edit_connector("sim", runner::connectors::EditConnector::default(), |s| {
            s.schedule = None
        })
        .expect("edit");
    assert_eq!(
        rig.runner.connector("sim").expect("c").state,
        store::ConnectorState::Registered
    );
}
