//! Every export format checked against the official schema of its format (vendored in
//! `tests/data`, see its README): SARIF 2.1.0, OCSF 1.8.0 classes 2002 and 2007, and the
//! KDI structure of `shared/spec/kdi.md`. JSON Lines and CSV have no schema of their
//! own; `formats.rs` reads them back instead.

mod common;

use common::{assert_valid, validator};
use export::{ExportOptions, Format, OcsfClass};
use serde_json::Value;
use std::path::Path;

fn run(format: Format, out: &Path, f: impl FnOnce(&mut ExportOptions)) -> export::Report {
    let dir = tempfile::tempdir().expect("tmp");
    let store = common::seeded(dir.path());
    let mut o = ExportOptions::new(format);
    o.out = Some(out.to_path_buf());
    f(&mut o);
    export::export(&store, &o).expect("export")
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect()
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let v = validator("sarif-2.1.0-rtm.5.schema.json");
    let tmp = tempfile::tempdir().expect("tmp");
    // Small runs so the split into several runs is validated too.
    let path = tmp.path().join("out.sarif");
    let r = run(Format::Sarif, &path, |o| o.sarif_max_results = 15);
    assert_eq!(r.findings, common::FINDINGS as u64);
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    assert_valid(&v, &doc, "SARIF");
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "40 results in runs of 15");
    let results: usize = runs
        .iter()
        .map(|r| r["results"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(results, common::FINDINGS);
    for run in runs {
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        for res in run["results"].as_array().expect("results") {
            let i = res["ruleIndex"].as_u64().expect("index") as usize;
            assert_eq!(
                rules[i]["id"], res["ruleId"],
                "ruleIndex points at its rule"
            );
            assert!(res["partialFingerprints"]["appscanBridge/v1"].is_string());
        }
    }
    // An empty export is still a valid log.
    let empty = tmp.path().join("empty.sarif");
    run(Format::Sarif, &empty, |o| {
        o.filter = Some(query::Filter::parse(query::Entity::Findings, "cwe:1").expect("f"))
    });
    let doc: Value = serde_json::from_slice(&std::fs::read(&empty).expect("read")).expect("JSON");
    assert_valid(&v, &doc, "empty SARIF");
}

#[test]
fn ocsf_events_validate_against_the_ocsf_1_8_0_class_schemas() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (class, file) in [
        (
            OcsfClass::VulnerabilityFinding,
            "ocsf-1.8.0-vulnerability_finding.schema.json",
        ),
        (
            OcsfClass::ApplicationSecurityPosture,
            "ocsf-1.8.0-application_security_posture_finding.schema.json",
        ),
    ] {
        let v = validator(file);
        let path = tmp.path().join(format!("{}.jsonl", class.uid()));
        run(Format::Ocsf, &path, |o| o.ocsf_class = class);
        let events = lines(&path);
        assert_eq!(events.len(), common::FINDINGS);
        for (i, e) in events.iter().enumerate() {
            assert_valid(&v, e, &format!("OCSF {} event {i}", class.uid()));
            assert_eq!(e["class_uid"], class.uid());
            let type_uid = e["type_uid"].as_u64().expect("type_uid");
            let activity = e["activity_id"].as_u64().expect("activity");
            assert_eq!(type_uid, u64::from(class.uid()) * 100 + activity);
            // A web address is `src_url` (a url_t, encoded); a file with its line (SAST)
            // is the vulnerability's affected code, never `src_url`.
            match e["finding_info"]["src_url"].as_str() {
                Some(url) => {
                    assert!(url.starts_with("https://") && !url.contains(' '), "{url}");
                    assert!(e["vulnerabilities"][0].get("affected_code").is_none());
                }
                None => {
                    let code = &e["vulnerabilities"][0]["affected_code"][0];
                    let path = code["file"]["path"].as_str().expect("a file path");
                    assert!(path.starts_with("src\\main\\java\\Login "), "{path}");
                    assert!(
                        code["file"]["name"]
                            .as_str()
                            .is_some_and(|n| n.ends_with(".java"))
                    );
                    assert!(
                        code["start_line"].as_u64().is_some_and(|l| l >= 10),
                        "{code}"
                    );
                }
            }
        }
    }
}

#[test]
fn kdi_files_validate_against_the_documented_structure() {
    let v = validator("kdi.schema.json");
    let tmp = tempfile::tempdir().expect("tmp");
    for findings_mode in [false, true] {
        let dir = tmp.path().join(format!("kdi-{findings_mode}"));
        // Small files, so splitting is exercised as well.
        let r = run(Format::Kdi, &dir, |o| {
            o.kdi_vulns = !findings_mode;
            o.max_file_size = 8_000;
        });
        assert!(r.files.len() > 3, "{:?}", r.files);
        let mut items = 0;
        for f in common::files(&dir) {
            let doc: Value =
                serde_json::from_slice(&std::fs::read(&f).expect("read")).expect("JSON");
            assert_valid(&v, &doc, &f.display().to_string());
            let asset = &doc["assets"][0];
            items += if findings_mode {
                asset["findings"].as_array().expect("findings").len()
            } else {
                // A vuln is the issues of one type its details list.
                asset["vulns"]
                    .as_array()
                    .expect("vulns")
                    .iter()
                    .map(|v| {
                        v["details"]
                            .as_str()
                            .unwrap_or_default()
                            .lines()
                            .filter(|l| l.starts_with("Issue: "))
                            .count()
                    })
                    .sum()
            };
        }
        assert_eq!(items, common::FINDINGS);
    }
}

#[test]
fn the_schemas_reject_what_they_should() {
    // A guard against a schema that accepts anything (e.g. a broken $ref).
    let kdi = validator("kdi.schema.json");
    assert!(!kdi.is_valid(&serde_json::json!({"version": 2, "assets": []})));
    let bad_vuln = serde_json::json!({"skip_autoclose": false, "version": 2, "vuln_defs": [],
        "assets": [{"url": "https://x", "vulns": [{"scanner_identifier": "a", "scanner_type": "b",
        "last_seen_at": "2026-01-01T00:00:00Z", "status": "opened", "scanner_score": 11}]}]});
    assert!(!kdi.is_valid(&bad_vuln));
    let ocsf = validator("ocsf-1.8.0-vulnerability_finding.schema.json");
    assert!(!ocsf.is_valid(&serde_json::json!({"class_uid": 2002})));
    let sarif = validator("sarif-2.1.0-rtm.5.schema.json");
    assert!(!sarif.is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{}]})));
}

/// OCSF's `cwe.uid` is a CWE identifier (`CWE-79`, the dictionary says), in either class
/// and inside a `cve` too; a bare `79` matched nothing a SIEM joined on.
#[test]
fn ocsf_cwe_uids_are_cwe_identifiers() {
    let tmp = tempfile::tempdir().expect("tmp");
    for class in [
        OcsfClass::VulnerabilityFinding,
        OcsfClass::ApplicationSecurityPosture,
    ] {
        let path = tmp.path().join(format!("{}.jsonl", class.uid()));
        run(Format::Ocsf, &path, |o| o.ocsf_class = class);
        let mut seen = 0;
        for e in lines(&path) {
            let vuln = &e["vulnerabilities"][0];
            for cwe in [&vuln["cwe"], &vuln["cve"]["cwe"]] {
                if cwe.is_null() {
                    continue;
                }
                seen += 1;
                let uid = cwe["uid"].as_str().expect("uid");
                assert!(
                    uid.strip_prefix("CWE-")
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
                    "{uid}"
                );
            }
        }
        assert!(seen > 0, "the seeded store has CWEs");
    }
}
