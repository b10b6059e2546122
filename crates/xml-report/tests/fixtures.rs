//! Every real report in the shared fixtures: issue counts, severity histograms, report
//! metadata, and a sample of fields checked by hand against the XML (the values below
//! were read off the files with grep, not produced by this reader).

mod common;

use std::collections::BTreeMap;

use common::{by_item, fixture, fixture_dir, read};
use xml_report::{Family, Issue, Severity, Technology};

fn histogram(issues: &[Issue]) -> BTreeMap<String, usize> {
    let mut h = BTreeMap::new();
    for i in issues {
        *h.entry(i.severity.clone().unwrap_or_else(|| "<none>".into()))
            .or_default() += 1;
    }
    h
}

fn hist(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn every_fixture_yields_one_issue_per_issue_group_item() {
    let expected = [
        ("dast-many_findings.xml", 60),
        ("dast-issue_10074.xml", 4),
        ("dast-no_findings.xml", 0),
        ("sast-many_issues.xml", 83),
        ("sast-one_issue.xml", 1),
        ("sast-no_issues.xml", 0),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            seen += 1;
            let name = path.file_name().unwrap().to_str().unwrap();
            let want = expected
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("a fixture without an expected count: {name}"))
                .1;
            let (meta, issues) = read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(issues.len(), want, "{name}");
            assert_eq!(meta.issue_count, want as u64, "{name}");
        }
    }
    assert_eq!(seen, expected.len(), "every fixture is covered");
}

#[test]
fn severity_histograms_match_the_issue_type_tables() {
    // The issue-type-group items carry per-type severity counts (high="4" ...); these
    // sums were taken from them.
    let (_, dast) = read(&fixture("dast-many_findings.xml")).unwrap();
    assert_eq!(
        histogram(&dast),
        hist(&[
            ("High", 4),
            ("Medium", 53),
            ("Low", 1),
            ("Informational", 2)
        ])
    );
    let (_, sast) = read(&fixture("sast-many_issues.xml")).unwrap();
    assert_eq!(
        histogram(&sast),
        hist(&[("High", 71), ("Medium", 10), ("Low", 2)])
    );
    // The first item's <severity /> is empty (and its severity-id censored).
    let (_, std) = read(&fixture("dast-issue_10074.xml")).unwrap();
    assert_eq!(histogram(&std), hist(&[("<none>", 1), ("High", 3)]));
    let (_, one) = read(&fixture("sast-one_issue.xml")).unwrap();
    assert_eq!(histogram(&one), hist(&[("High", 1)]));
}

#[test]
fn families_and_metadata_from_the_root_and_layout() {
    let (m, _) = read(&fixture("dast-many_findings.xml")).unwrap();
    assert_eq!(m.family, Family::AsocExport);
    assert_eq!(m.export_version, "1.7");
    assert_eq!(m.technology, Technology::Mixed);
    assert_eq!(m.application_name.as_deref(), Some("AltoroSAST"));
    assert_eq!(m.title.as_deref(), Some("demo_1"));
    assert_eq!(
        m.report_date.as_ref().unwrap().raw,
        "Tuesday, October 3, 2023"
    );
    assert_eq!(
        m.report_date.as_ref().unwrap().rfc3339().as_deref(),
        Some("2023-10-03T00:00:00Z")
    );
    assert_eq!(m.issue_group_total, Some(60));
    assert!(m.has_issue_group);
    assert_eq!(m.group_items.get("article-group"), Some(&13));
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);

    // Carries both version attributes: the ASoC one decides the family.
    let (m, _) = read(&fixture("dast-no_findings.xml")).unwrap();
    assert_eq!(m.family, Family::AsocExport);
    assert_eq!(m.xml_export_version.as_deref(), Some("2.7"));
    assert_eq!(m.technology, Technology::Dast);
    assert_eq!(m.application_name.as_deref(), Some("ABC"));
    assert_eq!(m.scan_name.as_deref(), Some("DAST"));
    // No issue-group at all (it declares 7 issues in its application).
    assert!(!m.has_issue_group);
    assert_eq!(m.total_issues_in_application, Some(7));

    let (m, _) = read(&fixture("dast-issue_10074.xml")).unwrap();
    assert_eq!(m.family, Family::Standard);
    assert_eq!(m.export_version, "2.7");
    assert_eq!(m.technology, Technology::Dast);
    assert_eq!(m.product_name.as_deref(), Some("CENSURED"));
    // issue-group total="384" but only 4 items were exported.
    assert_eq!((m.issue_group_total, m.issue_count), (Some(384), 4));
    // An unparsable date is a warning, kept verbatim.
    assert_eq!(m.scan_date.as_ref().unwrap().raw, "CENSURED");
    assert!(m.scan_date.as_ref().unwrap().utc.is_none());
    assert!(m.warnings.iter().any(|w| w.contains("scan date")));

    let (m, _) = read(&fixture("sast-one_issue.xml")).unwrap();
    assert_eq!(m.application_name.as_deref(), Some("sample-web"));
    assert_eq!(m.title, None, "a whitespace-only title is no title");

    let (m, issues) = read(&fixture("sast-no_issues.xml")).unwrap();
    assert_eq!((m.family, issues.len()), (Family::AsocExport, 0));
    assert!(m.has_issue_group, "<issue-group total=\"0\" />");
}

#[test]
fn asoc_dast_issue_fields() {
    // dast-many_findings.xml lines 655-870, and article-group item attLoginNotOverSSL (line 11420).
    let (_, issues) = read(&fixture("dast-many_findings.xml")).unwrap();
    let i = by_item(&issues, "-7884510270036130816");
    assert_eq!(i.item_id_v2.as_deref(), Some("-4964452190666439936"));
    assert_eq!(
        i.asoc_issue_id.as_deref(),
        Some("b0479dc1-ec61-ee11-8457-14cb65725114")
    );
    assert_eq!(i.issue_type_id.as_deref(), Some("attLoginNotOverSSL"));
    assert_eq!(
        i.issue_type_name.as_deref(),
        Some("Unencrypted Login Request")
    );
    assert_eq!(i.severity.as_deref(), Some("High"));
    assert_eq!(i.severity_id.as_deref(), Some("3"));
    assert_eq!(i.severity_level, Some(Severity::High));
    assert_eq!(i.cvss_score.as_deref(), Some("8.2"));
    assert!(
        i.cvss_vector
            .as_deref()
            .unwrap()
            .starts_with("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N/")
    );
    assert_eq!(i.cwe, Some(523));
    assert_eq!(
        i.threat_class_id.as_deref(),
        Some("catInsufficientTransLayerProtection")
    );
    assert_eq!(
        i.location.as_deref(),
        Some("http://mani-virtual-machine:9000/dvja-1.0-SNAPSHOT/register.action")
    );
    assert_eq!(i.scheme.as_deref(), Some("http"));
    assert_eq!(i.host.as_deref(), Some("mani-virtual-machine"));
    assert_eq!(i.port, Some(9000));
    assert_eq!(
        i.path.as_deref(),
        Some("/dvja-1.0-SNAPSHOT/register.action")
    );
    assert_eq!(i.domain.as_deref(), Some("mani-virtual-machine"));
    assert_eq!(i.element.as_deref(), Some("passwordConfirmation"));
    assert_eq!(i.element_type.as_deref(), Some("Parameter"));
    assert_eq!(i.http_method.as_deref(), Some("POST"));
    assert_eq!(i.status.as_deref(), Some("Open"));
    assert_eq!(
        i.date_created.as_ref().unwrap().raw,
        "Tuesday, October 3, 2023"
    );
    assert_eq!(i.remediation_id.as_deref(), Some("fix_52720"));
    assert_eq!(i.technology.as_deref(), Some("DAST"));
    assert_eq!(i.variant_count, 1);
    assert_eq!(
        i.variants[0].reasoning.as_deref(),
        Some("AppScan identified a password parameter that was not sent over SSL.")
    );
    // From the article: <cause> and <recommendations>.
    assert!(i.causes.as_deref().unwrap().starts_with(
        "SSL (Secure Socket Layer) provides data confidentiality and integrity to HTTP."
    ));
    assert!(i.fix_recommendation.as_deref().unwrap().starts_with(
        "Enforce SSL use for the login page or any page used to transmit user credentials"
    ));
    // The article has no <risk>, and the report no security-risk-group.
    assert_eq!(i.security_risks, None);
    // Said in the same words on every issue (the run lists it once with a count).
    assert_eq!(
        i.warnings,
        ["security-risks: not known (the report has no security-risk-group)"]
    );
    // The HTTP traffic is not kept anywhere.
    assert!(!format!("{i:?}").contains("Damn Vulnerable Java Application"));

    let r = i.to_record();
    assert_eq!(r["Id"], "b0479dc1-ec61-ee11-8457-14cb65725114");
    assert_eq!(r["ReportItemId"], "-7884510270036130816");
    assert_eq!(r["IssueType"], "Unencrypted Login Request");
    assert_eq!(r["SeverityValue"], 3);
    assert_eq!(r["Cvss"], "8.2");
    assert_eq!(r["CvssVersion"], "Cvss31");
    assert_eq!(r["Cwe"], 523);
    assert_eq!(r["Port"], 9000);
    assert_eq!(r["DateCreated"], "2023-10-03T00:00:00Z");
    assert_eq!(r["DiscoveryMethod"], "DAST");
    assert!(
        r["Description"]
            .as_str()
            .unwrap()
            .starts_with("Causes: SSL (Secure Socket Layer)")
    );
    assert!(
        r["Solution"]
            .as_str()
            .unwrap()
            .starts_with("Fix Recommendation: Enforce SSL use")
    );
    assert!(r["Details"].as_str().unwrap().contains("CWE: CWE-523"));
    assert_eq!(r["Tags"], serde_json::json!(["AppScan", "DAST"]));
}

#[test]
fn asoc_dast_issue_without_element() {
    // dast-many_findings.xml line 11028: the one item of 60 with no <element>.
    let (_, issues) = read(&fixture("dast-many_findings.xml")).unwrap();
    let i = by_item(&issues, "-1235874971598007808");
    assert_eq!(i.issue_type_name.as_deref(), Some("Java Stack Trace"));
    assert_eq!(i.severity_level, Some(Severity::Low));
    assert_eq!(i.cvss_score.as_deref(), Some("2.2"));
    assert_eq!(i.cwe, Some(209));
    assert_eq!(
        i.location.as_deref(),
        Some("http://mani-virtual-machine:9000/dvja-1.0-SNAPSHOT/~root/")
    );
    assert_eq!(i.element, None);
    assert_eq!(i.element_type.as_deref(), Some("Page"));
    assert_eq!(i.http_method.as_deref(), Some("GET"));
    // Article JavaStackTraceIssue (line 13070).
    assert_eq!(
        i.description(),
        "Causes: There is a Java stack trace payload in the response\n\n\
         Security Risks: Sensitive data is exposed to all clients"
    );
    assert_eq!(
        i.solution(),
        "Fix Recommendation: Display a generic error message"
    );
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
}

#[test]
fn asoc_sast_issue_fields() {
    // sast-one_issue.xml lines 633-693.
    let (_, issues) = read(&fixture("sast-one_issue.xml")).unwrap();
    let i = &issues[0];
    assert_eq!(i.item_id, "-37975643");
    assert_eq!(
        i.asoc_issue_id.as_deref(),
        Some("5a2deb60-ea8b-ef11-8473-000d3a0fc910")
    );
    assert_eq!(i.issue_type_id.as_deref(), Some("PrivilegeEscalation"));
    assert_eq!(i.issue_type_name.as_deref(), Some("PrivilegeEscalation"));
    assert_eq!(i.cwe, Some(266));
    assert_eq!(i.location.as_deref(), Some(r"sample-web\Dockerfile:1"));
    assert_eq!(i.source_file.as_deref(), Some(r"sample-web\Dockerfile"));
    assert_eq!(i.line, Some(1));
    assert_eq!(i.port, Some(0));
    assert_eq!(i.language.as_deref(), Some("Infrastructure-As-Code"));
    assert_eq!(
        i.fix_group_id.as_deref(),
        Some("522deb60-ea8b-ef11-8473-000d3a0fc910")
    );
    assert_eq!(i.fix_priority.as_deref(), Some("High"));
    assert_eq!(
        i.fix_recommendation.as_deref(),
        Some("No non-root USER specified in Dockerfile configuration")
    );
    assert_eq!(
        i.threat_class_id.as_deref(),
        Some("catInsufficientAuthentication")
    );
    assert_eq!(i.technology.as_deref(), Some("SAST"));
    assert_eq!(i.scheme, None, "a file location is not a URL");
    let info = i.variants[0].issue_information.as_deref().unwrap();
    assert!(
        info.contains("FROM public.ecr.aws/docker/library/python:latest"),
        "{info}"
    );
    // No cause-group or security-risk-group in ASoC SAST exports: warned, not failed.
    assert!(
        i.warnings
            .iter()
            .any(|w| w == "causes: not known (the report has no cause-group)"),
        "{:?}",
        i.warnings
    );
    let r = i.to_record();
    assert_eq!(r["Id"], "5a2deb60-ea8b-ef11-8473-000d3a0fc910");
    assert_eq!(r["Line"], "1");
    assert_eq!(r["SourceFile"], r"sample-web\Dockerfile");
    assert_eq!(r["DateCreated"], "2024-10-16T00:00:00Z");
    assert_eq!(
        r["Solution"],
        "Priority: High\n\nFix Recommendation: No non-root USER specified in Dockerfile configuration"
    );
}

#[test]
fn asoc_sast_many_sample() {
    let (_, issues) = read(&fixture("sast-many_issues.xml")).unwrap();
    // First item (line 669): its context attribute holds &quot;.
    let i = by_item(&issues, "-2135641095");
    assert_eq!(i.issue_type_id.as_deref(), Some("AccessControl.Bypass"));
    assert_eq!(i.issue_type_name.as_deref(), Some("Authentication Bypass"));
    assert_eq!(i.cwe, Some(288));
    assert_eq!(
        i.location.as_deref(),
        Some("sample-php/config/php.ini:1309")
    );
    assert_eq!(i.line, Some(1309));
    assert_eq!(
        i.context.as_deref(),
        Some(r#"session.save_path = "N;/path""#)
    );
    assert_eq!(i.language.as_deref(), Some("PHP"));
    assert_eq!(
        i.date_created.as_ref().unwrap().raw,
        "Friday, October 18, 2024"
    );

    // sast-many_issues.xml lines 6585-6646: the first Communications.Unencrypted item.
    let i = issues
        .iter()
        .find(|i| i.asoc_issue_id.as_deref() == Some("4a8355ff-748d-ef11-8473-000d3a0fc910"))
        .unwrap();
    assert_eq!(
        i.issue_type_name.as_deref(),
        Some("Missing Encryption of Sensitive Data")
    );
    assert_eq!(
        (i.severity.as_deref(), i.severity_level),
        (Some("Low"), Some(Severity::Low))
    );
    assert_eq!(i.cwe, Some(311));
    assert_eq!(i.line, Some(44));
    assert_eq!(i.source_file.as_deref(), Some("sample-php/src/about.php"));
    assert_eq!(i.fix_priority.as_deref(), Some("Low"));
    assert_eq!(
        i.fix_recommendation.as_deref(),
        Some("Open communications scheme detected")
    );
    assert!(
        i.variants[0]
            .issue_information
            .as_deref()
            .unwrap()
            .contains("\"http://wenzhixin.net.cn/\"")
    );
    // All 83 have an asoc-issue-id, all distinct.
    let mut ids: Vec<_> = issues.iter().map(|i| i.external_id().to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 83);
}

#[test]
fn standard_issue_with_censored_references() {
    // dast-issue_10074.xml: AppScan Standard 2.7, items hold references only, and the
    // references are censored: every unresolvable one is a warning, none an error.
    let (_, issues) = read(&fixture("dast-issue_10074.xml")).unwrap();
    let first = by_item(&issues, "-4714581656683135232");
    assert_eq!(first.severity, None, "<severity /> is empty");
    assert!(
        first
            .warnings
            .iter()
            .any(|w| w.starts_with("severity: missing"))
    );
    let i = by_item(&issues, "1444716459353270272");
    assert_eq!(i.item_id_v2.as_deref(), Some("-7755935851978403328"));
    assert_eq!(i.severity.as_deref(), Some("High"));
    assert_eq!(
        i.severity_level,
        Some(Severity::High),
        "from the name: severity-id is censored"
    );
    assert_eq!(i.cwe, Some(123));
    assert_eq!(i.issue_type_id.as_deref(), Some("CENSURED"));
    assert_eq!(i.http_method.as_deref(), Some("POST"));
    assert_eq!(i.variants[0].id.as_deref(), Some("75906"));
    assert_eq!(
        i.variants[0].test_difference.as_deref(),
        Some("parameter cklValidTypes$RB3: \"C\" -> \"%00\" (changed)")
    );
    for needle in [
        "unknown issue type \"CENSURED\"",
        "location:",
        "element: entity",
        "severity-id:",
        "cvss-score:",
    ] {
        assert!(
            i.warnings.iter().any(|w| w.contains(needle)),
            "{needle}: {:?}",
            i.warnings
        );
    }
    let r = i.to_record();
    assert_eq!(
        r["Id"], "1444716459353270272",
        "no asoc-issue-id: the item id"
    );
    assert!(r["Cvss"].is_null(), "a censored score is not passed on");
    assert!(
        r["LastFound"].is_null(),
        "an unparsable scan date is not passed on"
    );
    assert_eq!(r["Severity"], "High");
}

#[test]
fn records_have_the_api_shape() {
    let keys = [
        "Id",
        "IssueTypeId",
        "IssueType",
        "Severity",
        "SeverityValue",
        "Cvss",
        "CvssVersion",
        "Cwe",
        "Cve",
        "Status",
        "Location",
        "Scheme",
        "Host",
        "Port",
        "Path",
        "Domain",
        "Element",
        "ElementType",
        "DateCreated",
        "LastUpdated",
        "LastFound",
        "SourceFile",
        "Line",
        "ThreatClassId",
        "ScanName",
        "DiscoveryMethod",
        "Description",
        "Solution",
        "Details",
        "Tags",
        "ReportItemId",
    ];
    for name in [
        "dast-many_findings.xml",
        "sast-many_issues.xml",
        "dast-issue_10074.xml",
    ] {
        let (_, issues) = read(&fixture(name)).unwrap();
        for i in &issues {
            let r = i.to_record();
            let obj = r.as_object().unwrap();
            for k in keys {
                assert!(obj.contains_key(k), "{name}: record lacks {k}");
            }
            assert!(r["Tags"].is_array());
            assert!(r["Id"].is_string());
        }
    }
}

/// A status word AppScan does not write is read as written, with a warning in the same
/// words on every issue that has it (the run lists it once per word, with a count); the
/// words AppScan writes, in any case, raise none. Such an issue was taken as open
/// without a word said.
#[test]
fn an_unknown_status_word_is_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = std::fs::read_to_string(fixture("dast-many_findings.xml")).expect("read");
    for word in [
        "Triaged",
        "Triaged",
        "Pending",
        "in progress",
        "REOPENED",
        "Fixed",
    ] {
        text = text.replacen(
            "<status>Open</status>",
            &format!("<status>{word}</status>"),
            1,
        );
    }
    let path = common::write(dir.path(), "statuses.xml", text);
    let (_, issues) = read(&path).expect("read");
    let status_warnings = |i: &Issue| -> Vec<String> {
        i.warnings
            .iter()
            .filter(|w| w.starts_with("status:"))
            .cloned()
            .collect()
    };
    let mut by_word: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for i in &issues {
        by_word
            .entry(i.status.clone().unwrap_or_default())
            .or_default()
            .push(status_warnings(i));
    }
    let triaged = &by_word["Triaged"];
    assert_eq!(triaged.len(), 2);
    assert_eq!(triaged[0], triaged[1], "the same words, folded by the run");
    assert_eq!(triaged[0].len(), 1, "{triaged:?}");
    assert!(
        triaged[0][0].starts_with("status: \"Triaged\" is not a status AppScan writes")
            && triaged[0][0].contains("taken as open"),
        "{triaged:?}"
    );
    assert!(by_word["Pending"][0][0].starts_with("status: \"Pending\""));
    for word in ["Open", "in progress", "REOPENED", "Fixed"] {
        assert!(
            by_word[word].iter().all(Vec::is_empty),
            "{word}: {:?}",
            by_word[word]
        );
    }
    let record = issues
        .iter()
        .find(|i| i.status.as_deref() == Some("Triaged"))
        .expect("a triaged issue")
        .to_record();
    assert_eq!(record["Status"], "Triaged", "the word itself goes on");
}
