//! SARIF as GitHub code scanning and Microsoft's SARIF validator take it: valid RFC 3986
//! locations for every kind of path and URL, a location on every result, runs per
//! application with categories that do not move, files of at most 20 runs, and the
//! tool and rule metadata GitHub reads.

mod common;

use export::{ExportOptions, Format};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use store::SqliteStore;
use store::types::FindingRecord;

fn format_validator(format: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&json!({"type": "string", "format": format}))
        .expect("compiles")
}

fn assert_valid(doc: &Value, what: &str) {
    common::assert_valid(
        &common::validator("sarif-2.1.0-rtm.5.schema.json"),
        doc,
        what,
    );
}

fn export(store: &SqliteStore, out: &Path, f: impl FnOnce(&mut ExportOptions)) -> export::Report {
    let mut o = ExportOptions::new(Format::Sarif);
    o.out = Some(out.to_path_buf());
    f(&mut o);
    export::export(store, &o).expect("export")
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON")
}

fn results(doc: &Value) -> Vec<(&Value, &Value)> {
    doc["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .flat_map(|run| {
            run["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(move |r| (run, r))
        })
        .collect()
}

/// Findings `0..n` of one application each, with `location` changed.
fn at(i: usize, app: &str, location: Option<&str>) -> FindingRecord {
    let mut f = common::finding(i, app);
    f.finding.location = location.map(Into::into);
    f
}

const PATHS: [&str; 10] = [
    "src/über/Straße.java",
    "src/100%/a.java",
    "src/%41.java",
    "pages/[id].tsx",
    "src\\main\\My File.java:7",
    "C:/Users/dev/My Project/src/Login.java",
    "C:\\Users\\dev\\src\\Login.java:3",
    "/opt/app/src/Main.java",
    "src/Main.java:12:5",
    "lib/a b#c?d{e}|f^g`h.js",
];

#[test]
fn every_path_and_url_is_a_valid_uri_reference() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut findings: Vec<FindingRecord> = PATHS
        .iter()
        .enumerate()
        .map(|(i, p)| at(i, "app-1", Some(p)))
        .collect();
    let urls = [
        "https://shop.example.com/a%20b?q=1",
        "https://shop.example.com/p|[1]^?q={x}&r=%zz#f#g",
        "https://shop.example.com/über?q=ä ö",
    ];
    for (j, u) in urls.iter().enumerate() {
        findings.push(at(PATHS.len() + j, "app-1", Some(u)));
    }
    let store = common::store_with(
        tmp.path(),
        "scans",
        vec![common::asset("app-1", "Shop", None)],
        findings,
    );
    let out = tmp.path().join("out.sarif");
    export(&store, &out, |_| {});
    let doc = read(&out);
    assert_valid(&doc, "SARIF with unusual paths");
    let reference = format_validator("uri-reference");
    let absolute = format_validator("uri");
    let mut by_id = BTreeMap::new();
    for (_, r) in results(&doc) {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            reference.is_valid(&json!(uri)),
            "{uri} is not an RFC 3986 reference"
        );
        // SARIF1004: a relative reference must not start with a slash.
        assert!(!uri.starts_with('/'), "{uri}");
        let id = r["properties"]["externalId"]
            .as_str()
            .expect("id")
            .to_string();
        by_id.insert(id, loc.clone());
    }
    let loc = |i: usize| &by_id[&format!("issue-{i:03}")];
    let uri = |i: usize| {
        loc(i)["artifactLocation"]["uri"]
            .as_str()
            .expect("uri")
            .to_string()
    };
    assert_eq!(uri(0), "src/%C3%BCber/Stra%C3%9Fe.java");
    assert_eq!(uri(1), "src/100%25/a.java");
    assert_eq!(
        uri(2),
        "src/%2541.java",
        "%41 is a file name, not an encoded A"
    );
    assert_eq!(uri(3), "pages/%5Bid%5D.tsx");
    assert_eq!(uri(4), "src/main/My%20File.java");
    assert_eq!(loc(4)["region"], json!({"startLine": 7}));
    assert_eq!(uri(5), "file:///C:/Users/dev/My%20Project/src/Login.java");
    assert_eq!(uri(6), "file:///C:/Users/dev/src/Login.java");
    assert_eq!(loc(6)["region"], json!({"startLine": 3}));
    assert_eq!(uri(7), "file:///opt/app/src/Main.java");
    assert_eq!(
        uri(8),
        "src/Main.java",
        "line and column are not part of the file"
    );
    assert_eq!(loc(8)["region"], json!({"startLine": 12, "startColumn": 5}));
    assert_eq!(uri(9), "lib/a%20b%23c%3Fd%7Be%7D%7Cf%5Eg%60h.js");
    // URLs stay absolute URIs; a valid one is kept as it is.
    for j in 0..urls.len() {
        let u = uri(PATHS.len() + j);
        assert!(absolute.is_valid(&json!(u)), "{u} is not an absolute URI");
        assert!(u.starts_with("https://shop.example.com/"), "{u}");
    }
    assert_eq!(uri(PATHS.len()), urls[0]);
    assert_eq!(
        uri(PATHS.len() + 1),
        "https://shop.example.com/p%7C%5B1%5D%5E?q=%7Bx%7D&r=%25zz#f%23g"
    );
}

#[test]
fn every_result_has_a_location() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store = common::store_with(
        tmp.path(),
        "scans",
        vec![
            common::asset("app-1", "Shop", Some("https://shop.example.com")),
            common::asset("application:支払/x", "Payments", None),
        ],
        vec![
            at(0, "app-1", None),
            at(1, "application:支払/x", None),
            at(2, "app-1", Some("   ")),
        ],
    );
    let out = tmp.path().join("out.sarif");
    export(&store, &out, |_| {});
    let doc = read(&out);
    assert_valid(&doc, "SARIF of findings without locations");
    let reference = format_validator("uri-reference");
    let mut seen = BTreeMap::new();
    for (_, r) in results(&doc) {
        let locations = r["locations"]
            .as_array()
            .expect("GitHub requires locations");
        assert!(!locations.is_empty());
        let uri = locations[0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert!(reference.is_valid(&json!(uri)), "{uri}");
        seen.insert(
            r["properties"]["externalId"]
                .as_str()
                .expect("id")
                .to_string(),
            uri.to_string(),
        );
    }
    assert_eq!(
        seen["issue-000"], "https://shop.example.com/",
        "the application's URL"
    );
    assert_eq!(seen["issue-002"], "https://shop.example.com/");
    assert_eq!(
        seen["issue-001"], "application%3A%E6%94%AF%E6%89%95%2Fx",
        "no URL: the application's id, as one relative segment"
    );
}

/// Fingerprint → category of every result of `out`'s files.
fn categories(files: &[PathBuf]) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for f in files {
        let doc = read(f);
        for (run, r) in results(&doc) {
            m.insert(
                r["partialFingerprints"]["appscanBridge/v1"]
                    .as_str()
                    .expect("fp")
                    .to_string(),
                run["automationDetails"]["id"]
                    .as_str()
                    .expect("category")
                    .to_string(),
            );
        }
    }
    m
}

fn spread(range: std::ops::Range<usize>, apps: &[&str]) -> Vec<FindingRecord> {
    range
        .map(|i| common::finding(i, apps[i % apps.len()]))
        .collect()
}

#[test]
fn categories_follow_the_application_not_the_position() {
    let apps = ["app-a", "app-b", "app-c"];
    let assets = || {
        apps.iter()
            .map(|a| common::asset(a, a, None))
            .collect::<Vec<_>>()
    };
    let (t1, t2) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let before = common::store_with(t1.path(), "scans", assets(), spread(0..12, &apps));
    // One finding more (it sorts among the others by severity).
    let after = common::store_with(t2.path(), "scans", assets(), spread(0..13, &apps));
    let (a, b) = (t1.path().join("a.sarif"), t2.path().join("b.sarif"));
    let ra = export(&before, &a, |o| o.sarif_max_results = 5);
    let rb = export(&after, &b, |o| o.sarif_max_results = 5);
    let (ca, cb) = (categories(&ra.files), categories(&rb.files));
    assert_eq!(ca.len(), 12);
    assert_eq!(cb.len(), 13);
    for (fp, cat) in &ca {
        assert_eq!(&cb[fp], cat, "{fp} moved to another category");
    }
    // One run per application, named by connector and application.
    let doc = read(&a);
    let ids: Vec<&str> = doc["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "appscan-bridge/scans/app-a/",
            "appscan-bridge/scans/app-b/",
            "appscan-bridge/scans/app-c/"
        ]
    );
    assert_valid(&doc, "runs per application");

    // A filtered export has categories of its own, so that uploading it does not
    // replace an unfiltered (or otherwise filtered) export's alerts.
    let f = t1.path().join("f.sarif");
    let rf = export(&before, &f, |o| {
        o.filter = Some(query::Filter::parse(query::Entity::Findings, "severity>=high").expect("f"))
    });
    let filtered: HashSet<String> = categories(&rf.files).into_values().collect();
    assert!(!filtered.is_empty());
    for c in &filtered {
        assert!(
            c.starts_with("appscan-bridge/scans/app-") && c.contains("/filter-"),
            "{c}"
        );
        assert!(!ca.values().any(|u| u == c), "{c}");
    }
}

#[test]
fn a_large_application_is_split_by_fingerprint() {
    let (t1, t2) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let assets = || {
        vec![
            common::asset("big", "Big", None),
            common::asset("small", "Small", None),
        ]
    };
    let mut f1 = spread(0..60, &["big"]);
    f1.push(common::finding(1000, "small"));
    let mut f2 = spread(0..61, &["big"]);
    f2.push(common::finding(1000, "small"));
    let s1 = common::store_with(t1.path(), "scans", assets(), f1);
    let s2 = common::store_with(t2.path(), "scans", assets(), f2);
    let (a, b) = (t1.path().join("a.sarif"), t2.path().join("b.sarif"));
    let ra = export(&s1, &a, |o| o.sarif_max_results = 25);
    let rb = export(&s2, &b, |o| o.sarif_max_results = 25);
    let doc = read(&a);
    assert_valid(&doc, "a split application");
    let runs = doc["runs"].as_array().expect("runs");
    let mut ids = HashSet::new();
    for run in runs {
        let id = run["automationDetails"]["id"].as_str().expect("id");
        assert!(ids.insert(id.to_string()), "{id} twice");
        assert!(run["results"].as_array().expect("results").len() <= 25);
        if id.contains("/big/") {
            assert!(id.contains("/part-"), "{id}");
        } else {
            assert_eq!(id, "appscan-bridge/scans/small/");
        }
    }
    let (ca, cb) = (categories(&ra.files), categories(&rb.files));
    assert_eq!(ca.len(), 61);
    for (fp, cat) in &ca {
        assert_eq!(&cb[fp], cat, "{fp} moved to another part");
    }
}

#[test]
fn more_than_twenty_runs_go_to_several_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let apps: Vec<String> = (0..25).map(|i| format!("app-{i:02}")).collect();
    let names: Vec<&str> = apps.iter().map(String::as_str).collect();
    let store = common::store_with(
        tmp.path(),
        "scans",
        names.iter().map(|a| common::asset(a, a, None)).collect(),
        spread(0..50, &names),
    );
    let out = tmp.path().join("out").join("findings.sarif");
    let r = export(&store, &out, |_| {});
    assert_eq!(
        r.files,
        [out.clone(), tmp.path().join("out").join("findings-2.sarif")]
    );
    assert_eq!(r.findings, 50);
    let mut total = 0;
    let mut ids = HashSet::new();
    for (f, want) in r.files.iter().zip([20, 5]) {
        let doc = read(f);
        assert_valid(&doc, &f.display().to_string());
        let runs = doc["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), want);
        for run in runs {
            assert!(ids.insert(run["automationDetails"]["id"].to_string()));
        }
        total += results(&doc).len();
    }
    assert_eq!(total, 50);
    let bytes: u64 = r
        .files
        .iter()
        .map(|f| std::fs::metadata(f).expect("file").len())
        .sum();
    assert_eq!(r.bytes, bytes);
    assert_eq!(export::sarif::file_path(&out, 2), r.files[1]);

    // Standard output is one file: such an export fails before writing anything.
    let mut o = ExportOptions::new(Format::Sarif);
    o.out = None;
    let err = export::export(&store, &o).expect_err("25 runs do not fit one file");
    assert!(err.to_string().contains("--out"), "{err}");
}

#[test]
fn tool_and_rules_carry_what_github_reads() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut no_type = common::finding(1, "app-1");
    no_type.finding.issue_type = None;
    no_type.finding.description = None;
    no_type.finding.solution = None;
    no_type.finding.cwe = None;
    let store = common::store_with(
        tmp.path(),
        "scans",
        vec![common::asset("app-1", "Shop", None)],
        vec![
            common::finding(0, "app-1"),
            no_type,
            common::finding(2, "app-1"),
        ],
    );
    let out = tmp.path().join("out.sarif");
    export(&store, &out, |_| {});
    let doc = read(&out);
    assert_valid(&doc, "SARIF");
    let driver = &doc["runs"][0]["tool"]["driver"];
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 3);
    for rule in rules {
        assert_ne!(rule.get("name"), Some(&rule["id"]), "SARIF1001: {rule}");
        assert!(
            rule["fullDescription"]["text"].is_string(),
            "GH2012: {rule}"
        );
        assert!(rule["help"]["text"].is_string(), "GH2012: {rule}");
        let sev = rule["properties"]["problem.severity"]
            .as_str()
            .expect("severity");
        assert!(
            ["error", "warning", "recommendation"].contains(&sev),
            "{sev}"
        );
    }
    let untyped = rules
        .iter()
        .find(|r| r["id"] == "SQL Injection")
        .expect("the rule named by the finding's name");
    assert!(untyped.get("name").is_none());
}
