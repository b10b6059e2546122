//! A seeded SQLite store for the export tests: two connectors, three applications
//! (one without a URL) and findings of every severity and status, with descriptions
//! holding commas, quotes and line breaks, CVEs, CWEs, SAST and DAST locations.

#![allow(dead_code)]

use chrono::{Duration, TimeZone, Utc};
use model::{Asset, Finding, Severity, Status};
use serde_json::{Value, json};
use std::path::Path;
use store::types::*;
use store::{SqliteStore, Store};

/// A connector secret that must never appear in an export.
pub const SECRET: &str = "connector-key-secret-DO-NOT-EXPORT";

/// Findings in the seeded store.
pub const FINDINGS: usize = 40;

pub fn asset(id: &str, name: &str, url: Option<&str>) -> AssetRecord {
    AssetRecord {
        asset: Asset {
            external_id: id.into(),
            name: Some(name.into()),
            url: url.map(Into::into),
            description: None,
            business_unit: Some("Retail".into()),
            risk_rating: None,
            last_updated: None,
            tags: vec!["pci".into()],
        },
        raw: json!({"Id": id}),
        prepared: Default::default(),
    }
}

pub fn finding(i: usize, app: &str) -> FindingRecord {
    let severity = Severity::ALL[i % 5];
    let status = Status::ALL[i % Status::ALL.len()];
    let base = Utc
        .with_ymd_and_hms(2026, 1, 15, 10, 0, 0)
        .single()
        .expect("date");
    let sast = i % 7 == 3;
    let (name, issue_type, cwe) = match i % 3 {
        0 => ("Cross-Site Scripting", "attCrossSiteScripting", Some(79)),
        1 => ("SQL Injection", "attBlindSqlInjection", Some(89)),
        _ => (
            "Missing \"Secure\" attribute, cookie",
            "attCookieSecure",
            None,
        ),
    };
    FindingRecord {
        finding: Finding {
            external_id: format!("issue-{i:03}"),
            asset_external_id: app.into(),
            name: name.into(),
            severity,
            source_severity: severity.as_str().into(),
            status,
            source_status: Some(status.as_str().into()),
            cve: i
                .is_multiple_of(4)
                .then(|| format!("CVE-2021-{:04}", 44228 + i)),
            cvss: i.is_multiple_of(2).then_some(1.5 + (i % 8) as f64),
            cwe,
            first_found: Some(base - Duration::days(i as i64)),
            last_found: (!i.is_multiple_of(5)).then_some(base + Duration::days(i as i64)),
            last_updated: Some(base + Duration::days(i as i64 + 1)),
            port: (!sast).then_some(443),
            protocol: (!sast).then(|| "https".into()),
            issue_type: Some(issue_type.into()),
            location: Some(if sast {
                format!("src\\main\\java\\Login {i}.java:{}", 10 + i)
            } else {
                format!("https://shop.example.com/cart?item={i}&q=a b")
            }),
            element: Some(format!("param{i}")),
            detection: Some("GET /cart HTTP/1.1\r\nHost: shop".into()),
            description: Some(format!(
                "Line one, with a comma and \"quotes\".\nLine two; ümlaut #{i}\r\nend"
            )),
            solution: Some("Encode output, validate input.".into()),
            tags: if i.is_multiple_of(2) {
                vec!["prod".into(), "a,b".into()]
            } else {
                vec![]
            },
        },
        raw: json!({"Id": i}),
        fingerprint: format!("fp-{i:03}"),
        prepared: Default::default(),
    }
}

fn end() -> RunEnd {
    RunEnd {
        state: RunState::Processed,
        connector_state: ConnectorState::Processed,
        reason: None,
        counters: RunCounters::default(),
        cursor: None,
        scope: None,
    }
}

/// Writes the seeded data into a new SQLite store under `dir`.
pub fn seeded(dir: &Path) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("store.sqlite3")).expect("open store");
    let plan: [(&str, &str, Vec<AssetRecord>, std::ops::Range<usize>); 2] = [
        (
            "cloud",
            "asoc",
            vec![
                asset("app-1", "Shop, \"Main\"", Some("https://shop.example.com")),
                asset("app-2", "Payroll", Some("http://10.0.0.5/payroll")),
            ],
            0..30,
        ),
        (
            "reports",
            "xml",
            vec![asset("app-3", "Legacy", None)],
            30..FINDINGS,
        ),
    ];
    for (name, kind, assets, range) in plan {
        let c = store
            .create_connector(&NewConnector {
                name: name.into(),
                kind: kind.into(),
                url: Some("http://127.0.0.1:1".into()),
                key_id: Some("key-id".into()),
                secret: Some(SECRET.as_bytes().to_vec()),
                settings: json!({}),
            })
            .expect("connector");
        let apps: Vec<String> = assets.iter().map(|a| a.asset.external_id.clone()).collect();
        let findings = range.map(|i| finding(i, &apps[i % apps.len()])).collect();
        write_run(&store, &c, assets, findings);
    }
    store
}

/// One full run of `c` that writes `assets` and `findings`.
pub fn write_run(
    store: &SqliteStore,
    c: &Connector,
    assets: Vec<AssetRecord>,
    findings: Vec<FindingRecord>,
) {
    let run = store
        .begin_run(c.id, RunMode::Full, "test", Duration::minutes(5))
        .expect("begin run");
    let batch = Batch {
        assets,
        findings,
        issues: vec![],
    };
    store.finish_run(&run, &batch, &end()).expect("write");
}

/// Writes one run per `(connector, app ids, findings)` into a new SQLite store under
/// `dir` (a connector named again gets another run); the findings are spread over the
/// apps, which have no URL, and numbered on from the connector's earlier runs.
pub fn seeded_runs(dir: &Path, runs: &[(&str, &[&str], usize)]) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("store.sqlite3")).expect("open store");
    let mut numbered = std::collections::HashMap::new();
    for (name, apps, n) in runs {
        let c = match store.connector(name).expect("connector") {
            Some(c) => c,
            None => store
                .create_connector(&NewConnector {
                    name: (*name).into(),
                    kind: "xml".into(),
                    url: None,
                    key_id: None,
                    secret: None,
                    settings: json!({}),
                })
                .expect("connector"),
        };
        let first: &mut usize = numbered.entry(*name).or_default();
        let findings = (*first..*first + n)
            .map(|i| finding(i, apps[i % apps.len()]))
            .collect();
        *first += n;
        let assets = apps.iter().map(|a| asset(a, a, None)).collect();
        write_run(&store, &c, assets, findings);
    }
    store
}

/// Every file under `dir`, sorted by name.
pub fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

/// A new SQLite store under `dir` with one `xml` connector `connector` holding `assets`
/// and `findings` (built with [`asset`] and [`finding`], changed as a test needs).
pub fn store_with(
    dir: &Path,
    connector: &str,
    assets: Vec<AssetRecord>,
    findings: Vec<FindingRecord>,
) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("store.sqlite3")).expect("open store");
    let c = store
        .create_connector(&NewConnector {
            name: connector.into(),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: json!({}),
        })
        .expect("connector");
    write_run(&store, &c, assets, findings);
    store
}

/// The validator of a vendored schema in `tests/data`, with format checks.
pub fn validator(file: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("schema file");
    // The SARIF schema's `language` pattern ends in a stray `]?`: a literal `]` in
    // ECMA-262 (which JSON Schema patterns follow), an error in Rust's regex engines.
    // Escaping it keeps the meaning; the vendored file stays as published.
    let text = text.replace("[a-zA-Z]{2}]?$", r"[a-zA-Z]{2}\\]?$");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{file} does not compile: {e}"))
}

/// Fails with the first errors of `doc` against `v`, naming `what`.
pub fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .take(20)
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is invalid:\n{}",
        errors.join("\n")
    );
}
