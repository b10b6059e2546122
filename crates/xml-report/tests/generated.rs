//! Generated reports: a ~20 MB ASoC export read in full (count, severity histogram,
//! progress), a gzip one, and an AppScan Standard one whose group tables come partly
//! after `issue-group` — references must still resolve.

mod common;

use std::collections::BTreeMap;

use common::read;
use xml_report::testgen::{GenSpec, SEVERITIES, write_large_report, write_report};
use xml_report::{Family, ReaderOptions, Severity, open};

#[test]
fn a_20_mb_generated_report_is_read_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.xml");
    let issues = GenSpec::asoc(0).issues_for_bytes(20 * 1024 * 1024);
    let written = write_large_report(&path, issues).unwrap();
    assert!(written > 19 * 1024 * 1024, "{written} bytes");

    let mut calls = Vec::new();
    let report = open(&path, ReaderOptions::default(), |read, total| {
        calls.push((read, total))
    })
    .unwrap();
    assert_eq!(report.issue_count(), issues);
    assert_eq!(report.meta().family, Family::AsocExport);
    // Progress: from 0, never backwards, ends at the file size.
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(calls.first(), Some(&(0, size)));
    assert_eq!(calls.last(), Some(&(size, size)));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(calls.len() > 10);

    let mut histogram: BTreeMap<Severity, u64> = BTreeMap::new();
    let mut count = 0u64;
    for issue in report.issues().unwrap() {
        let issue = issue.unwrap();
        *histogram.entry(issue.severity_level.unwrap()).or_default() += 1;
        if count == 7 {
            assert_eq!(issue.severity.as_deref(), Some(SEVERITIES[2]));
            assert_eq!(
                issue.issue_type_name.as_deref(),
                Some("Generated issue type 7")
            );
            assert_eq!(
                issue.location.as_deref(),
                Some("https://app.example.test:8443/path/7.action")
            );
            assert_eq!(issue.causes.as_deref(), Some("Generated cause 7"));
            assert!(issue.warnings.is_empty(), "{:?}", issue.warnings);
        }
        count += 1;
    }
    assert_eq!(count, issues);
    for (i, level) in [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .into_iter()
    .enumerate()
    {
        let want = issues / 5 + u64::from((i as u64) < issues % 5);
        assert_eq!(histogram[&level], want, "{level}");
    }
}

#[test]
fn a_generated_gzip_report_reads_the_same_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.xml.gz");
    let spec = GenSpec {
        gzip: true,
        ..GenSpec::asoc(3000)
    };
    write_report(&path, &spec).unwrap();
    let (meta, issues) = read(&path).unwrap();
    assert!(meta.compressed);
    assert_eq!(issues.len(), 3000);
}

#[test]
fn standard_references_resolve_through_groups_before_and_after_issue_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("standard.xml");
    write_report(&path, &GenSpec::standard(500)).unwrap();
    let (meta, issues) = read(&path).unwrap();
    assert_eq!(meta.family, Family::Standard);
    assert_eq!(meta.scan_name.as_deref(), Some("generated scan"));
    assert_eq!(meta.product_version.as_deref(), Some("10.2.0"));
    assert_eq!(issues.len(), 500);
    let i = &issues[16];
    // Before issue-group: issue type, URL, entity.
    assert_eq!(i.issue_type_id.as_deref(), Some("attGenerated3"));
    assert_eq!(i.issue_type_name.as_deref(), Some("Generated issue type 3"));
    // Issues 16 and 17 share URL 8.
    assert_eq!(
        i.location.as_deref(),
        Some("https://standard.example.test/app/page8.jsp")
    );
    assert_eq!(issues[17].location, i.location);
    assert_eq!(
        (i.scheme.as_deref(), i.port, i.path.as_deref()),
        (Some("https"), Some(443), Some("/app/page8.jsp"))
    );
    assert_eq!(i.element.as_deref(), Some("param16"));
    assert_eq!(i.element_type.as_deref(), Some("Parameter"));
    // Lower-case severity kept verbatim, understood.
    assert_eq!(i.severity.as_deref(), Some("low"));
    assert_eq!(i.severity_level, Some(Severity::Low));
    assert_eq!(i.cwe, Some(103));
    assert_eq!(i.cvss_version.as_deref(), Some("Cvss31"));
    // After issue-group: advisory, fix recommendation, threat class, causes, risks, remediation.
    assert_eq!(
        i.technical_description.as_deref(),
        Some("Generated technical description 3.\nSecond paragraph.")
    );
    assert_eq!(
        i.fix_recommendation.as_deref(),
        Some("Generated fix 3\nfix link (https://fix.example.test/3)")
    );
    assert_eq!(i.threat_class.as_deref(), Some("Generated threat class 3"));
    assert_eq!(
        i.threat_class_url.as_deref(),
        Some("http://projects.webappsec.org/g3")
    );
    assert_eq!(i.causes.as_deref(), Some("Generated cause 3"));
    assert_eq!(i.security_risks.as_deref(), Some("Generated risk 3"));
    assert_eq!(i.affected_products.as_deref(), Some("Generated product 3"));
    assert_eq!(i.remediation.as_deref(), Some("Generated remediation 3"));
    assert_eq!(
        i.last_found.as_ref().and_then(|d| d.rfc3339()).as_deref(),
        Some("2023-10-03T12:00:00Z")
    );
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    let r = i.to_record();
    assert_eq!(r["ThreatClassId"], "catGenerated3");
    assert_eq!(r["ScanName"], "generated scan");
    assert!(
        r["Solution"]
            .as_str()
            .unwrap()
            .starts_with("Fix Recommendation:\nGenerated remediation 3\n\nGenerated fix 3")
    );
    assert!(
        r["Tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "Generated threat class 3")
    );
}

#[test]
fn lookup_tables_moved_to_a_temporary_file_resolve_like_tables_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("standard.xml");
    write_report(&path, &GenSpec::standard(2_000)).unwrap();
    let (_, in_memory) = read(&path).unwrap();
    // A budget of a few kilobytes moves url-group and entity-group to disk early.
    let small = ReaderOptions {
        table_memory_bytes: 4 * 1024,
        ..ReaderOptions::default()
    };
    let (_, on_disk) = common::read_with(&path, small).unwrap();
    assert_eq!(on_disk.len(), 2_000);
    assert_eq!(on_disk, in_memory);
    let last = &on_disk[1_999];
    assert_eq!(last.element.as_deref(), Some("param1999"));
    assert!(
        last.location.is_some() && last.warnings.is_empty(),
        "{last:?}"
    );
}
