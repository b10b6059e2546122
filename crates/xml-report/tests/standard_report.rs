//! A hand-written AppScan Standard 2.42 report in the shape of the real ones: reference-
//! only issue items, group tables on both sides of `issue-group`, advisory markup, no
//! `remediation-group` (the file another tool crashes on), a missing element, an unknown
//! severity and an unknown issue type. Everything reads; oddities are warnings.

mod common;

use common::{read, write};
use xml_report::{Family, Severity};

const REPORT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<xml-report name="AppScan Report" technology="DAST" xmlExportVersion="2.42">
  <layout>
    <title>Nightly</title>
    <report-date-and-time>3/14/2024 9:05:00 PM</report-date-and-time>
  </layout>
  <scan-information>
    <scan-name>demo.testfire.net</scan-name>
    <scan-date-and-time-iso>2024-03-14T20:00:00+01:00</scan-date-and-time-iso>
    <product-name>HCL AppScan Standard</product-name>
    <product-version>10.4.0</product-version>
  </scan-information>
  <issue-type-group>
    <item id="attCrossSiteScripting" maxIssueSeverity="3">
      <name>Cross-Site Scripting</name>
      <cve />
      <cwe>79</cwe>
      <advisory><ref>attCrossSiteScripting</ref></advisory>
      <threat-class><ref>catCrossSiteScripting</ref></threat-class>
      <fix-recommendation><ref>fixXss</ref></fix-recommendation>
      <causes><ref>sanitation</ref></causes>
      <security-risks><ref>xssRisk</ref></security-risks>
      <affected-products />
    </item>
  </issue-type-group>
  <url-group>
    <item id="7"><name>https://demo.testfire.net/search.jsp?query=x</name></item>
  </url-group>
  <issue-group>
    <item id="101" id-v2="-5">
      <severity>high</severity>
      <severity-id>3</severity-id>
      <cvss-score>7.1</cvss-score>
      <issue-type><ref>attCrossSiteScripting</ref></issue-type>
      <entity><ref>e1</ref></entity>
      <url original_request_method="GET"><ref>7</ref></url>
      <variant-group>
        <item id="1">
          <comments>Checked &amp; confirmed</comments>
          <reasoning id="2"><![CDATA[The response contains <script>alert(1)</script>]]></reasoning>
          <additional-data />
          <differences>
            <item altered="&lt;script&gt;" original="x" name="query" difference-type="changed" difference-element="parameter" />
          </differences>
          <test-http-traffic>GET /search.jsp?query=%3Cscript%3E HTTP/1.1</test-http-traffic>
        </item>
      </variant-group>
    </item>
    <item id="102">
      <severity>Severe</severity>
      <issue-type><ref>attNotInTheTable</ref></issue-type>
      <entity><ref>e404</ref></entity>
      <url><ref>404</ref></url>
    </item>
  </issue-group>
  <entity-group>
    <item id="e1"><name>query</name><url-name>https://demo.testfire.net/search.jsp</url-name><entity-type>Parameter</entity-type></item>
  </entity-group>
  <advisory-group>
    <item id="attCrossSiteScripting">
      <advisory>
        <name>Cross-Site Scripting</name>
        <threatClassification><name>Cross-site Scripting</name><reference>http://projects.webappsec.org/Cross-Site+Scripting</reference></threatClassification>
        <testTechnicalDescription>
          <text>The script can be <b>persistent</b> or reflected.</text>
          <text />
          <text>Example:</text>
          <code>  &lt;script&gt;alert(document.cookie)&lt;/script&gt;</code>
          <text>See <link target="https://owasp.org/xss">OWASP</link>.<br />Thanks.</text>
        </testTechnicalDescription>
        <causes><cause>Advisory cause (not used: the cause-group has it)</cause></causes>
        <securityRisks><securityRisk>Advisory risk</securityRisk></securityRisks>
        <affectedProducts><affectedProduct>All browsers</affectedProduct></affectedProducts>
        <cwe><link target="http://cwe.mitre.org/data/definitions/79.html" id="CWE-79">79</link></cwe>
      </advisory>
    </item>
  </advisory-group>
  <fix-recommendation-group>
    <item id="fixXss">
      <general><fixRecommendation type="General"><text>Encode output.</text><text>Validate input.</text></fixRecommendation></general>
      <dotNet><fixRecommendation type="ASP.NET"><text>Use HttpUtility.HtmlEncode.</text></fixRecommendation></dotNet>
    </item>
  </fix-recommendation-group>
  <threat-class-group>
    <item id="catCrossSiteScripting" href="http://projects.webappsec.org/Cross-Site+Scripting">Cross-site Scripting</item>
  </threat-class-group>
  <cause-group>
    <item id="sanitation">Sanitation of hazardous characters was not performed correctly on user input</item>
  </cause-group>
  <security-risk-group>
    <item id="xssRisk">It is possible to steal or manipulate customer session and cookies</item>
  </security-risk-group>
</xml-report>
"#;

#[test]
fn standard_report_resolves_and_warns_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "standard.xml", REPORT);
    let (meta, issues) = read(&path).unwrap();
    assert_eq!(meta.family, Family::Standard);
    assert_eq!(meta.export_version, "2.42");
    assert!(
        meta.warnings.is_empty(),
        "2.42 is a known version: {:?}",
        meta.warnings
    );
    assert_eq!(meta.scan_name.as_deref(), Some("demo.testfire.net"));
    assert_eq!(
        meta.scan_date.as_ref().unwrap().rfc3339().as_deref(),
        Some("2024-03-14T19:00:00Z")
    );
    assert_eq!(
        meta.report_date.as_ref().unwrap().rfc3339().as_deref(),
        Some("2024-03-14T21:05:00Z")
    );
    assert_eq!(issues.len(), 2);

    let xss = &issues[0];
    assert!(xss.warnings.is_empty(), "{:?}", xss.warnings);
    assert_eq!(xss.issue_type_name.as_deref(), Some("Cross-Site Scripting"));
    assert_eq!(xss.severity.as_deref(), Some("high"));
    assert_eq!(xss.severity_level, Some(Severity::High));
    assert_eq!(xss.cwe, Some(79));
    assert_eq!(
        xss.location.as_deref(),
        Some("https://demo.testfire.net/search.jsp?query=x")
    );
    assert_eq!(xss.path.as_deref(), Some("/search.jsp"));
    assert_eq!(xss.host.as_deref(), Some("demo.testfire.net"));
    assert_eq!(xss.element.as_deref(), Some("query"));
    assert_eq!(xss.element_type.as_deref(), Some("Parameter"));
    assert_eq!(xss.threat_class.as_deref(), Some("Cross-site Scripting"));
    assert_eq!(
        xss.technical_description.as_deref(),
        Some(
            "The script can be persistent or reflected.\n\nExample:\n  <script>alert(document.cookie)</script>\nSee OWASP (https://owasp.org/xss).\nThanks."
        )
    );
    assert_eq!(
        xss.causes.as_deref(),
        Some("Sanitation of hazardous characters was not performed correctly on user input")
    );
    assert_eq!(
        xss.security_risks.as_deref(),
        Some("It is possible to steal or manipulate customer session and cookies")
    );
    assert_eq!(xss.affected_products.as_deref(), Some("All browsers"));
    assert_eq!(
        xss.fix_recommendation.as_deref(),
        Some("Encode output.\nValidate input.\n\nUse HttpUtility.HtmlEncode.")
    );
    let v = &xss.variants[0];
    assert_eq!(v.comments.as_deref(), Some("Checked & confirmed"));
    assert_eq!(
        v.reasoning.as_deref(),
        Some("The response contains <script>alert(1)</script>")
    );
    assert_eq!(
        v.test_difference.as_deref(),
        Some("parameter query: \"x\" -> \"<script>\" (changed)")
    );
    let r = xss.to_record();
    assert_eq!(r["Id"], "101");
    assert_eq!(r["Status"], "Open");
    assert_eq!(r["LastFound"], "2024-03-14T19:00:00Z");
    assert_eq!(r["Port"], 443);
    let description = r["Description"].as_str().unwrap();
    assert!(description.starts_with("Technical Description:\nThe script can be persistent"));
    assert!(description.contains("\n\nCauses: Sanitation of hazardous characters"));
    assert!(description.ends_with("Affected Products: All browsers"));
    assert!(
        !format!("{xss:?}").contains("GET /search.jsp"),
        "traffic is not kept"
    );

    // The odd item: unknown severity and issue type, unresolvable URL and entity, most
    // elements missing. Kept, with warnings (the entity's was silent: element null).
    let odd = &issues[1];
    assert_eq!(odd.item_id, "102");
    assert_eq!(odd.severity.as_deref(), Some("Severe"));
    assert_eq!(odd.severity_level, None);
    assert_eq!(odd.issue_type_id.as_deref(), Some("attNotInTheTable"));
    for needle in [
        "unknown severity \"Severe\"",
        "unknown issue type \"attNotInTheTable\"",
        "url \"404\" is not in url-group",
        "element: entity \"e404\" is not in entity-group",
    ] {
        assert!(
            odd.warnings.iter().any(|w| w.contains(needle)),
            "{needle}: {:?}",
            odd.warnings
        );
    }
    assert_eq!(odd.element, None);
    let r = odd.to_record();
    assert_eq!(r["Severity"], "Severe");
    assert!(r["SeverityValue"].is_null());
}
