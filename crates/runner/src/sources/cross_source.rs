//! One weakness as each source reports it — a real AppScan Standard report's issue, and
//! the same issue as ASoC's and ASE's APIs list it — goes through each source's own
//! shaping, the default map and the fingerprint: the three findings must share one
//! fingerprint, or `findings --dedupe` would not link them.

use super::{ase, records};
use crate::full_run::FullRunOptions;
use chrono::Utc;
use model::fingerprint::fingerprint;
use model::map::Map;
use serde_json::{Map as Object, Value, json};
use std::path::Path;

/// The weakness: an unencrypted login request on the register page's
/// `passwordConfirmation` parameter (CWE-523), from `dast-many_findings.xml`.
const PAGE: &str = "http://mani-virtual-machine:9000/dvja-1.0-SNAPSHOT/register.action";
const ELEMENT: &str = "passwordConfirmation";

fn fingerprint_of(rec: Value, app: &str) -> String {
    let f = Map::default_map()
        .apply_finding(&rec, app)
        .unwrap_or_else(|e| panic!("{e}: {rec}"))
        .value;
    fingerprint(&f, app)
}

fn shaped(mut rec: Object<String, Value>, asset: &str) -> Value {
    let (keep, _) = records::shape_finding(&mut rec, asset, &FullRunOptions::default(), Utc::now());
    assert!(keep);
    Value::Object(rec)
}

fn from_xml_report() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/appscan-xml/dast-many_findings.xml");
    let report = xml_report::open(&path, xml_report::ReaderOptions::default(), |_, _| {})
        .expect("the fixture reads");
    let issue = report
        .issues()
        .expect("issues")
        .map(|i| i.expect("issue"))
        .find(|i| {
            let r = i.to_record();
            r["Location"] == PAGE && r["Element"] == ELEMENT
        })
        .expect("the report has the weakness");
    let Value::Object(rec) = issue.to_record() else {
        panic!("a record is an object")
    };
    fingerprint_of(shaped(rec, "dvja"), "dvja")
}

/// As `GET /api/v4/Issues/Application/{id}` lists it (records are mapped as served).
fn from_asoc() -> String {
    let rec = json!({
        "Id": "0b8e2f4c-6a51-4e0e-9d9e-3f1c2a7b5d10",
        "IssueType": "Unencrypted Login Request",
        "IssueTypeId": "attLoginNotOverSSL",
        "ApplicationId": "2f0c1d7e-5b6a-4c3d-8e9f-0a1b2c3d4e5f",
        "Severity": "High",
        "SeverityValue": 3,
        "Status": "Open",
        "Cwe": 523,
        "Location": PAGE,
        "Scheme": "http",
        "Host": "mani-virtual-machine",
        "Port": 9000,
        "Path": "/dvja-1.0-SNAPSHOT/register.action",
        "Element": ELEMENT,
        "ElementType": "Parameter",
        "DiscoveryMethod": "DAST",
        "DateCreated": "2023-10-03T00:00:00Z",
        "LastUpdated": "2023-10-03T00:00:00Z"
    });
    fingerprint_of(rec, "2f0c1d7e-5b6a-4c3d-8e9f-0a1b2c3d4e5f")
}

/// As `GET /ase/api/issues` lists it: display-name keys, HTML-escaped values, a locale
/// date and extra text after the URL.
fn from_ase(element: &str) -> String {
    let issue = json!({
        "id": "1042",
        "Application Name": "dvja",
        "Issue Type": "Unencrypted Login Request",
        "Severity": "High",
        "Status": "Open",
        "Location": format!("{PAGE} (parameter {element})"),
        "Element": element,
        "CWE": "523",
        "Date Created": "10/3/23 12:00 AM",
        "Discovery Method": "DAST",
        "Scanner": "AppScan Dynamic Analyzer"
    });
    let details = json!({"id": "1042", "issueTypeId": "attLoginNotOverSSL", "cwe": "CWE-523"});
    let rec = ase::ase_record(
        &issue,
        Some(&details),
        "dvja",
        &model::time::ServerDates::default(),
        &mut Vec::new(),
    );
    fingerprint_of(shaped(rec, "ase-app-7"), "ase-app-7")
}

#[test]
fn the_same_weakness_from_every_source_has_one_fingerprint() {
    let xml = from_xml_report();
    assert_eq!(from_asoc(), xml, "ASoC and the XML report");
    assert_eq!(from_ase(ELEMENT), xml, "ASE and the XML report");
    // Another parameter of the same page is another weakness.
    assert_ne!(from_ase("password"), xml);
}
