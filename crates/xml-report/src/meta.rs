//! What a report says about itself: which family wrote it (told apart by the root's
//! attributes), export version, technology, application, dates, scan and product.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::dates::DateValue;
use crate::tree::Tree;

/// The root element every AppScan XML report has.
pub const ROOT_ELEMENT: &str = "xml-report";
/// Root attribute of the ASoC XML export family.
pub const ASOC_VERSION_ATTR: &str = "AsocXmlExportVersion";
/// Root attribute of the AppScan Standard family (ASoC DAST exports carry it too).
pub const STANDARD_VERSION_ATTR: &str = "xmlExportVersion";
/// ASoC export versions this reader was checked against.
pub const KNOWN_ASOC_VERSIONS: &[&str] = &["1.7"];
/// AppScan Standard export versions this reader was checked against.
pub const KNOWN_STANDARD_VERSIONS: &[&str] = &["2.7", "2.42"];
/// Major version of each family the reader accepts; another minor version of it is read
/// with a warning, another major version is refused.
pub const ASOC_MAJOR: &str = "1";
/// See [`ASOC_MAJOR`].
pub const STANDARD_MAJOR: &str = "2";

/// Which AppScan product family wrote the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Family {
    /// AppScan on Cloud XML export (`AsocXmlExportVersion`): issue items are
    /// self-contained (location, host, names inline) and carry `asoc-issue-id`.
    AsocExport,
    /// AppScan Standard report (`xmlExportVersion` only): issue items hold references
    /// resolved through the `*-group` tables.
    Standard,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::AsocExport => "ASoC XML export",
            Family::Standard => "AppScan Standard",
        })
    }
}

/// The root's `technology` attribute (serialized as AppScan writes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Technology {
    /// `Mixed`: an ASoC export that may hold DAST and SAST issues.
    Mixed,
    /// `DAST`.
    Dast,
    /// `SAST`.
    Sast,
    /// Anything else, verbatim (read with a warning).
    Other(String),
}

impl Technology {
    pub(crate) fn parse(s: &str) -> Technology {
        match s.trim().to_ascii_uppercase().as_str() {
            "MIXED" => Technology::Mixed,
            "DAST" => Technology::Dast,
            "SAST" => Technology::Sast,
            _ => Technology::Other(s.to_string()),
        }
    }

    /// The name as AppScan writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Technology::Mixed => "Mixed",
            Technology::Dast => "DAST",
            Technology::Sast => "SAST",
            Technology::Other(s) => s,
        }
    }
}

impl Serialize for Technology {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Report-level facts, collected in the validating pass.
#[derive(Debug, Clone, Serialize)]
pub struct ReportMeta {
    /// Which family wrote the report.
    pub family: Family,
    /// The family's export version (`AsocXmlExportVersion` or `xmlExportVersion`).
    pub export_version: String,
    /// `AsocXmlExportVersion`, when present.
    pub asoc_export_version: Option<String>,
    /// `xmlExportVersion`, when present (ASoC DAST exports carry both).
    pub xml_export_version: Option<String>,
    /// The root's `technology`.
    pub technology: Technology,
    /// The root's `name` (`AppScan Report`).
    pub report_name: Option<String>,
    /// `layout/title`.
    pub title: Option<String>,
    /// `layout/application-name` (ASoC).
    pub application_name: Option<String>,
    /// `layout/company`.
    pub company: Option<String>,
    /// `layout/department`.
    pub department: Option<String>,
    /// `layout/business-impact`.
    pub business_impact: Option<String>,
    /// `layout/deployment` (`ASoC`).
    pub deployment: Option<String>,
    /// `layout/report-date` or `layout/report-date-and-time`.
    pub report_date: Option<DateValue>,
    /// `scan-information/scan-name` or `layout/asoc-scan-name`.
    pub scan_name: Option<String>,
    /// `scan-information/scan-date-and-time-iso`, else `scan-date-and-time`.
    pub scan_date: Option<DateValue>,
    /// `scan-information/product-name`.
    pub product_name: Option<String>,
    /// `scan-information/product-version`.
    pub product_version: Option<String>,
    /// `scan-information/cvss-version`.
    pub cvss_version: Option<String>,
    /// `scan-configuration/starting-url`.
    pub starting_url: Option<String>,
    /// `layout/total-issues-in-application`.
    pub total_issues_in_application: Option<u64>,
    /// `layout/issues-count-limit-message` is `True`: ASoC cut the report at its limit
    /// of issues (`layout/issues-count-limit`).
    pub issues_count_limit_reached: bool,
    /// The `total` attribute of `issue-group`.
    pub issue_group_total: Option<u64>,
    /// Whether the report has an `issue-group` element at all (a report without one
    /// lists no issue, and may not say whether it found none).
    pub has_issue_group: bool,
    /// Items counted in `issue-group` (what the issue pass yields).
    pub issue_count: u64,
    /// Items collected per group table (`issue-type-group`, `url-group`, ...).
    pub group_items: BTreeMap<String, u64>,
    /// Whether the file was gzip-compressed.
    pub compressed: bool,
    /// Size of the file.
    pub file_bytes: u64,
    /// Report-level warnings (untested version, unknown technology, group items without
    /// an id, ...).
    pub warnings: Vec<String>,
}

impl ReportMeta {
    /// Reads the root's attributes: family, version, technology. `Err` holds the message
    /// of an unknown schema.
    pub(crate) fn from_root(attrs: &[(String, String)]) -> Result<ReportMeta, String> {
        let get = |k: &str| {
            attrs
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.trim().to_string())
        };
        let asoc = get(ASOC_VERSION_ATTR);
        let standard = get(STANDARD_VERSION_ATTR);
        let mut warnings = Vec::new();
        let (family, version) = match (&asoc, &standard) {
            (Some(v), _) => (Family::AsocExport, v.clone()),
            (None, Some(v)) => (Family::Standard, v.clone()),
            (None, None) => {
                return Err(format!(
                    "<{ROOT_ELEMENT}> has neither {ASOC_VERSION_ATTR} nor {STANDARD_VERSION_ATTR}"
                ));
            }
        };
        let (attr, major, known) = match family {
            Family::AsocExport => (ASOC_VERSION_ATTR, ASOC_MAJOR, KNOWN_ASOC_VERSIONS),
            Family::Standard => (
                STANDARD_VERSION_ATTR,
                STANDARD_MAJOR,
                KNOWN_STANDARD_VERSIONS,
            ),
        };
        let mut parts = version.split('.');
        let ok = parts.next() == Some(major)
            && parts.clone().count() <= 2
            && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(format!(
                "{attr}=\"{version}\" (this reader knows {family} {major}.x: {})",
                known.join(", ")
            ));
        }
        if !known.contains(&version.as_str()) {
            warnings.push(format!(
                "{attr}=\"{version}\" was not tested (tested: {}); reading it as {family} {major}.x",
                known.join(", ")
            ));
        }
        let technology_raw = get("technology").unwrap_or_default();
        let technology = Technology::parse(&technology_raw);
        if let Technology::Other(t) = &technology {
            warnings.push(format!(
                "unknown technology \"{t}\" on <{ROOT_ELEMENT}>, kept verbatim"
            ));
        }
        Ok(ReportMeta {
            family,
            export_version: version,
            asoc_export_version: asoc,
            xml_export_version: standard,
            technology,
            report_name: get("name").filter(|s| !s.is_empty()),
            title: None,
            application_name: None,
            company: None,
            department: None,
            business_impact: None,
            deployment: None,
            report_date: None,
            scan_name: None,
            scan_date: None,
            product_name: None,
            product_version: None,
            cvss_version: None,
            starting_url: None,
            total_issues_in_application: None,
            issues_count_limit_reached: false,
            issue_group_total: None,
            has_issue_group: false,
            issue_count: 0,
            group_items: BTreeMap::new(),
            compressed: false,
            file_bytes: 0,
            warnings,
        })
    }

    /// Takes what it needs from the `layout` section.
    pub(crate) fn apply_layout(&mut self, t: &Tree) {
        let r = Tree::ROOT;
        self.title = self.title.take().or_else(|| t.child_value(r, "title"));
        self.application_name = t.child_value(r, "application-name");
        self.company = t.child_value(r, "company");
        self.department = t.child_value(r, "department");
        self.business_impact = t.child_value(r, "business-impact");
        self.deployment = t.child_value(r, "deployment");
        let date = t
            .child_value(r, "report-date")
            .or_else(|| t.child_value(r, "report-date-and-time"));
        if let Some(d) = date {
            let d = DateValue::parse(&d);
            if d.utc.is_none() {
                self.warnings.push(format!(
                    "report date \"{}\" is not a known date form",
                    d.raw
                ));
            }
            self.report_date = Some(d);
        }
        if self.scan_name.is_none() {
            self.scan_name = t.child_value(r, "asoc-scan-name");
        }
        self.issues_count_limit_reached = t
            .child_value(r, "issues-count-limit-message")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if let Some(n) = t.child_value(r, "total-issues-in-application") {
            match n.parse() {
                Ok(v) => self.total_issues_in_application = Some(v),
                Err(_) => self.warnings.push(format!(
                    "layout/total-issues-in-application \"{n}\" is not a number"
                )),
            }
        }
    }

    /// Takes what it needs from the `scan-information` section (AppScan Standard).
    pub(crate) fn apply_scan_information(&mut self, t: &Tree) {
        let r = Tree::ROOT;
        if let Some(n) = t.child_value(r, "scan-name") {
            self.scan_name = Some(n);
        }
        let date = t
            .child_value(r, "scan-date-and-time-iso")
            .or_else(|| t.child_value(r, "scan-date-and-time"));
        if let Some(d) = date {
            let d = DateValue::parse(&d);
            if d.utc.is_none() {
                self.warnings
                    .push(format!("scan date \"{}\" is not a known date form", d.raw));
            }
            self.scan_date = Some(d);
        }
        self.product_name = t.child_value(r, "product-name");
        self.product_version = t.child_value(r, "product-version");
        self.cvss_version = t.child_value(r, "cvss-version");
    }

    /// Takes the starting URL from the `scan-configuration` section.
    pub(crate) fn apply_scan_configuration(&mut self, t: &Tree) {
        self.starting_url = t.child_value(Tree::ROOT, "starting-url");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn families_from_root_attributes() {
        let m = ReportMeta::from_root(&attrs(&[
            ("AsocXmlExportVersion", "1.7"),
            ("technology", "Mixed"),
        ]))
        .unwrap();
        assert_eq!(
            (m.family, m.technology),
            (Family::AsocExport, Technology::Mixed)
        );
        assert!(m.warnings.is_empty());

        let m = ReportMeta::from_root(&attrs(&[
            ("AsocXmlExportVersion", "1.7"),
            ("technology", "DAST"),
            ("xmlExportVersion", "2.7"),
        ]))
        .unwrap();
        assert_eq!(m.family, Family::AsocExport);
        assert_eq!(m.xml_export_version.as_deref(), Some("2.7"));

        let m = ReportMeta::from_root(&attrs(&[
            ("technology", "DAST"),
            ("xmlExportVersion", "2.42"),
        ]))
        .unwrap();
        assert_eq!(
            (m.family, m.export_version.as_str()),
            (Family::Standard, "2.42")
        );

        let m = ReportMeta::from_root(&attrs(&[
            ("xmlExportVersion", "2.9"),
            ("technology", "IAST"),
        ]))
        .unwrap();
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
    }

    #[test]
    fn unknown_versions_are_refused() {
        for a in [
            attrs(&[("xmlExportVersion", "3.0")]),
            attrs(&[("AsocXmlExportVersion", "2.0")]),
            attrs(&[("AsocXmlExportVersion", "1.x")]),
            attrs(&[("technology", "DAST")]),
        ] {
            assert!(ReportMeta::from_root(&a).is_err(), "{a:?}");
        }
    }
}
