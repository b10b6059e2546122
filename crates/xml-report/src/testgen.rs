//! Writes large, AppScan-shaped reports for tests and memory benchmarks.
//!
//! The output follows the structure of the real reports in the fixtures: an ASoC export
//! (self-contained issue items with HTTP traffic, `article-group` after `issue-group`) or
//! an AppScan Standard report (reference-only items, group tables split before and
//! after `issue-group`). Content is deterministic: issue `n` has severity `n % 5`, issue
//! type `n % issue_types`, so tests can check counts and histograms exactly.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::meta::Family;

/// The generator's version: raise it whenever the output for a given [`GenSpec`] changes
/// (layout, content, sizes), so that a file kept by a caller (the benchmark names its
/// reports with it) is not taken for this generator's.
pub const GENERATOR_VERSION: u32 = 1;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenSpec {
    /// Which family's layout to write.
    pub family: Family,
    /// Number of `issue-group` items.
    pub issues: u64,
    /// Approximate bytes of HTTP traffic per issue (ASoC family only).
    pub traffic_bytes: usize,
    /// Distinct issue types.
    pub issue_types: usize,
    /// Write gzip instead of plain XML.
    pub gzip: bool,
}

impl GenSpec {
    /// An ASoC export with `issues` issues of about 4.9 KB each.
    pub fn asoc(issues: u64) -> GenSpec {
        GenSpec {
            family: Family::AsocExport,
            issues,
            traffic_bytes: 2500,
            issue_types: 13,
            gzip: false,
        }
    }

    /// An AppScan Standard report with `issues` issues (about 1.1 KB each, with their
    /// share of the URL and entity tables: two issues per URL, one entity per issue).
    pub fn standard(issues: u64) -> GenSpec {
        GenSpec {
            family: Family::Standard,
            issues,
            traffic_bytes: 0,
            issue_types: 13,
            gzip: false,
        }
    }

    /// Bytes one issue adds to a report, its share of the group tables included
    /// (measured), to size a report.
    pub fn bytes_per_issue(&self) -> u64 {
        const SAMPLE: u64 = 100;
        let size = |issues: u64| {
            let mut buf = Vec::new();
            let spec = GenSpec {
                issues,
                ..self.clone()
            };
            write_all(&mut buf, &spec).expect("writing to memory");
            buf.len() as u64
        };
        (size(SAMPLE) - size(0)).div_ceil(SAMPLE)
    }

    /// Issues needed for a report of about `bytes` bytes (uncompressed).
    pub fn issues_for_bytes(&self, bytes: u64) -> u64 {
        (bytes / self.bytes_per_issue()).max(1)
    }
}

/// The severity names of issue `n` (`n % 5`), as written.
pub const SEVERITIES: [&str; 5] = ["Informational", "Low", "Medium", "High", "Critical"];

/// Writes an ASoC-shaped report with `issues` issues to `path`; returns the XML bytes
/// written. About 4.9 KB per issue: 43 000 issues make a ~200 MiB file (or use
/// [`GenSpec::issues_for_bytes`]).
pub fn write_large_report(path: &Path, issues: u64) -> io::Result<u64> {
    write_report(path, &GenSpec::asoc(issues))
}

/// Writes a report as `spec` says; returns the XML bytes written (before compression).
pub fn write_report(path: &Path, spec: &GenSpec) -> io::Result<u64> {
    let file = BufWriter::with_capacity(256 * 1024, File::create(path)?);
    if spec.gzip {
        let mut gz = Counter::new(GzEncoder::new(file, Compression::fast()));
        write_all(&mut gz, spec)?;
        let n = gz.count;
        gz.inner.finish()?.flush()?;
        Ok(n)
    } else {
        let mut w = Counter::new(file);
        write_all(&mut w, spec)?;
        w.inner.flush()?;
        Ok(w.count)
    }
}

struct Counter<W> {
    inner: W,
    count: u64,
}

impl<W> Counter<W> {
    fn new(inner: W) -> Self {
        Counter { inner, count: 0 }
    }
}

impl<W: Write> Write for Counter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn type_id(n: u64, spec: &GenSpec) -> String {
    format!("attGenerated{}", n % spec.issue_types.max(1) as u64)
}

fn write_all(w: &mut impl Write, spec: &GenSpec) -> io::Result<()> {
    w.write_all(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n")?;
    match spec.family {
        Family::AsocExport => {
            writeln!(
                w,
                r#"<xml-report name="AppScan Report" AsocXmlExportVersion="1.7" technology="Mixed">"#
            )?;
            writeln!(
                w,
                "  <layout>\n    <title>generated</title>\n    <application-name>GeneratedApp</application-name>\n    <report-date>Tuesday, October 3, 2023</report-date>\n    <total-issues-in-application>{}</total-issues-in-application>\n    <deployment>ASoC</deployment>\n  </layout>",
                spec.issues
            )?;
            writeln!(w, "  <issue-type-group total=\"{}\">", spec.issue_types)?;
            for t in 0..spec.issue_types as u64 {
                writeln!(
                    w,
                    "    <item id=\"{}\" technology=\"DAST\"><name>Generated issue type {t}</name></item>",
                    type_id(t, spec)
                )?;
            }
            writeln!(w, "  </issue-type-group>\n  <payload-group />")?;
        }
        Family::Standard => {
            writeln!(
                w,
                r#"<xml-report name="AppScan Report" technology="DAST" xmlExportVersion="2.7">"#
            )?;
            writeln!(
                w,
                "  <layout>\n    <title />\n    <report-date-and-time>2023-10-03 12:00:00</report-date-and-time>\n  </layout>\n  <scan-information>\n    <scan-name>generated scan</scan-name>\n    <scan-date-and-time-iso>2023-10-03T12:00:00Z</scan-date-and-time-iso>\n    <product-name>AppScan Standard</product-name>\n    <product-version>10.2.0</product-version>\n    <cvss-version>3.1</cvss-version>\n  </scan-information>"
            )?;
            // As in real reports (and what other parsers, e.g. faraday-plugins, index
            // issues by): the scanned host with its port and servers.
            writeln!(
                w,
                "  <scan-configuration>\n    <scanned-hosts>\n      <item><host>standard.example.test</host><port>443</port><operating-system>Linux</operating-system><web-server>nginx</web-server><application-server>Tomcat</application-server></item>\n    </scanned-hosts>\n  </scan-configuration>"
            )?;
            writeln!(w, "  <issue-type-group>")?;
            for t in 0..spec.issue_types as u64 {
                let id = type_id(t, spec);
                writeln!(
                    w,
                    "    <item id=\"{id}\"><name>Generated issue type {t}</name><cve /><cwe>{}</cwe><remediation><ref>fix_{t}</ref></remediation><advisory><ref>{id}</ref></advisory><threat-class><ref>catGenerated{t}</ref></threat-class><fix-recommendation><ref>{id}</ref></fix-recommendation><causes><ref>cause{t}</ref></causes><security-risks><ref>risk{t}</ref></security-risks><affected-products /></item>",
                    100 + t
                )?;
            }
            writeln!(w, "  </issue-type-group>\n  <url-group>")?;
            // Two issues per URL, one entity per issue.
            for u in 0..spec.issues.div_ceil(2) {
                writeln!(
                    w,
                    "    <item id=\"{u}\"><name>https://standard.example.test/app/page{u}.jsp</name></item>"
                )?;
            }
            writeln!(w, "  </url-group>\n  <entity-group>")?;
            for n in 0..spec.issues {
                writeln!(
                    w,
                    "    <item id=\"e{n}\"><name>param{n}</name><url-name>https://standard.example.test/app/page{}.jsp</url-name><entity-type>Parameter</entity-type></item>",
                    n / 2
                )?;
            }
            writeln!(w, "  </entity-group>")?;
        }
    }
    writeln!(w, "  <issue-group total=\"{}\">", spec.issues)?;
    for n in 0..spec.issues {
        write_issue(w, spec, n)?;
    }
    writeln!(w, "  </issue-group>")?;
    match spec.family {
        Family::AsocExport => {
            writeln!(w, "  <fix-group-group />\n  <article-group>")?;
            for t in 0..spec.issue_types as u64 {
                writeln!(
                    w,
                    "    <item id=\"{}\"><displayName type=\"string\">Generated issue type {t}</displayName><cwe type=\"number\">{}</cwe><cause type=\"array\"><item type=\"string\">Generated cause {t}</item></cause><risk type=\"array\"><item type=\"string\">Generated risk {t}</item></risk><recommendations type=\"array\"><item type=\"string\">Generated recommendation {t}</item></recommendations></item>",
                    type_id(t, spec),
                    100 + t
                )?;
            }
            writeln!(w, "  </article-group>")?;
        }
        Family::Standard => {
            // Groups after issue-group: a streaming reader must still resolve them.
            writeln!(w, "  <advisory-group>")?;
            for t in 0..spec.issue_types as u64 {
                writeln!(
                    w,
                    "    <item id=\"{}\"><advisory><name>Generated issue type {t}</name><testTechnicalDescription><text>Generated technical description {t}.</text><text>Second paragraph.</text></testTechnicalDescription><causes><cause>Generated advisory cause {t}</cause></causes><securityRisks><securityRisk>Generated advisory risk {t}</securityRisk></securityRisks><affectedProducts><affectedProduct>Generated product {t}</affectedProduct></affectedProducts></advisory></item>",
                    type_id(t, spec)
                )?;
            }
            writeln!(w, "  </advisory-group>\n  <fix-recommendation-group>")?;
            for t in 0..spec.issue_types as u64 {
                writeln!(
                    w,
                    "    <item id=\"{}\"><general><fixRecommendation type=\"General\"><text>Generated fix {t}</text><link target=\"https://fix.example.test/{t}\">fix link</link></fixRecommendation></general></item>",
                    type_id(t, spec)
                )?;
            }
            writeln!(w, "  </fix-recommendation-group>\n  <threat-class-group>")?;
            for t in 0..spec.issue_types as u64 {
                writeln!(
                    w,
                    "    <item id=\"catGenerated{t}\" href=\"http://projects.webappsec.org/g{t}\">Generated threat class {t}</item>"
                )?;
            }
            writeln!(w, "  </threat-class-group>\n  <cause-group>")?;
            for t in 0..spec.issue_types as u64 {
                writeln!(w, "    <item id=\"cause{t}\">Generated cause {t}</item>")?;
            }
            writeln!(w, "  </cause-group>\n  <security-risk-group>")?;
            for t in 0..spec.issue_types as u64 {
                writeln!(w, "    <item id=\"risk{t}\">Generated risk {t}</item>")?;
            }
            writeln!(w, "  </security-risk-group>\n  <remediation-group>")?;
            for t in 0..spec.issue_types as u64 {
                writeln!(
                    w,
                    "    <item id=\"fix_{t}\"><name>Generated remediation {t}</name></item>"
                )?;
            }
            writeln!(w, "  </remediation-group>")?;
        }
    }
    writeln!(w, "</xml-report>")?;
    Ok(())
}

fn write_issue(w: &mut impl Write, spec: &GenSpec, n: u64) -> io::Result<()> {
    let sev = (n % 5) as usize;
    let t = n % spec.issue_types.max(1) as u64;
    let tid = type_id(n, spec);
    // A signed 64-bit id, as AppScan writes them.
    let id = (n as i64).wrapping_mul(-7_884_510_270_036_130_817);
    match spec.family {
        Family::AsocExport => {
            writeln!(w, "    <item id=\"{id}\" id-v2=\"{}\">", id.wrapping_add(1))?;
            writeln!(
                w,
                "      <severity>{}</severity>\n      <severity-id>{sev}</severity-id>\n      <cvss-score>{}.{}</cvss-score>\n      <cvss-vector>\n        <vector>AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N</vector>\n      </cvss-vector>\n      <cwe>{}</cwe>",
                SEVERITIES[sev],
                2 * sev,
                n % 10,
                100 + t
            )?;
            writeln!(
                w,
                "      <issue-type>\n        <ref>{tid}</ref>\n      </issue-type>\n      <remediation>\n        <ref>fix_{t}</ref>\n      </remediation>\n      <advisory>\n        <ref>{tid}</ref>\n      </advisory>\n      <threat-class>\n        <ref>catGenerated{t}</ref>\n      </threat-class>\n      <entity>\n        <ref>{id}</ref>\n      </entity>\n      <url original_request_method=\"POST\">\n        <ref>{n}</ref>\n      </url>\n      <security-risks>\n        <ref>risk{t}</ref>\n      </security-risks>\n      <cause-id>\n        <ref>cause{t}</ref>\n      </cause-id>\n      <user-image-group />"
            )?;
            writeln!(
                w,
                "      <variant-group>\n        <item id=\"{n}\">\n          <comments />\n          <reasoning id=\"3256\">The test result shows issue {n}.</reasoning>\n          <additional-data />\n          <cwe />\n          <differences>\n            <item altered=\"%27\" original=\"abc\" name=\"param{n}\" difference-type=\"changed\" difference-element=\"parameter\" />\n          </differences>\n          <test-http-traffic>"
            )?;
            write_traffic(w, n, spec.traffic_bytes)?;
            writeln!(
                w,
                "</test-http-traffic>\n        </item>\n      </variant-group>"
            )?;
            writeln!(
                w,
                "      <technology>DAST</technology>\n      <status>Open</status>\n      <date-created>Tuesday, October 3, 2023</date-created>\n      <last-updated>Tuesday, October 3, 2023</last-updated>\n      <issue-type-name>Generated issue type {t}</issue-type-name>\n      <cvss>{}.{}</cvss>\n      <location>https://app.example.test:8443/path/{n}.action</location>\n      <domain>app.example.test</domain>\n      <element>param{n}</element>\n      <element-type>Parameter</element-type>\n      <path>/path/{n}.action</path>\n      <scheme>https</scheme>\n      <host>app.example.test</host>\n      <port>8443</port>\n      <asoc-issue-id>{:08x}-0000-4000-8000-{:012x}</asoc-issue-id>",
                2 * sev,
                n % 10,
                n >> 32,
                n
            )?;
            writeln!(
                w,
                "      <changes-group>\n        <item>\n          <date-created>10/03/2023 13:00:06</date-created>\n          <details>\n            <item>Severity:  → {}</item>\n          </details>\n        </item>\n      </changes-group>\n    </item>",
                SEVERITIES[sev]
            )?;
        }
        Family::Standard => {
            writeln!(
                w,
                "    <item id=\"{id}\" id-v2=\"{}\">\n      <severity>{}</severity>\n      <severity-id>{sev}</severity-id>\n      <cvss-score>{}.{}</cvss-score>\n      <cvss-vector><vector>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N</vector></cvss-vector>\n      <cwe>{}</cwe>\n      <issue-type><ref>{tid}</ref></issue-type>\n      <remediation><ref>fix_{t}</ref></remediation>\n      <entity><ref>e{n}</ref></entity>\n      <url original_request_method=\"GET\"><ref>{}</ref></url>\n      <variant-group>\n        <item id=\"{n}\"><comments /><reasoning id=\"1\">Reasoning {n}</reasoning><additional-data /><differences><item altered=\"1'\" original=\"1\" name=\"param{n}\" difference-type=\"changed\" difference-element=\"parameter\" /></differences><test-http-traffic>GET /app/page{n}.jsp HTTP/1.1</test-http-traffic></item>\n      </variant-group>\n    </item>",
                id.wrapping_add(1),
                SEVERITIES[sev].to_ascii_lowercase(),
                2 * sev,
                n % 10,
                100 + t,
                n / 2,
            )?;
        }
    }
    Ok(())
}

/// An HTTP request and an HTML response, escaped as AppScan writes them.
fn write_traffic(w: &mut impl Write, n: u64, bytes: usize) -> io::Result<()> {
    write!(
        w,
        "POST https://app.example.test:8443/path/{n}.action HTTP/1.1\nHost: app.example.test:8443\nContent-Type: application/x-www-form-urlencoded\n\nname=&amp;param{n}=%27\n\nHTTP/1.1 200 OK\nContent-Type: text/html\n\n"
    )?;
    const LINE: &str = "&lt;div class=\"row\"&gt;&lt;span&gt;Generated response body line&lt;/span&gt;&lt;/div&gt;\n";
    for _ in 0..bytes / LINE.len() {
        w.write_all(LINE.as_bytes())?;
    }
    Ok(())
}
