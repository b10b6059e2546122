//! One issue of a report, with its references resolved, and its record form: a JSON
//! object shaped like an AppScan on Cloud API issue item, so that one normalized map
//! serves API and XML sources.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::dates::DateValue;

/// AppScan's severity scale (`severity-id` in reports, `SeverityValue` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    /// 0.
    Informational,
    /// 1.
    Low,
    /// 2.
    Medium,
    /// 3.
    High,
    /// 4.
    Critical,
}

impl Severity {
    /// From a severity name, any case (`High`, `high`, `Information`, `Info`).
    pub fn from_name(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "information" | "info" => Some(Severity::Informational),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    /// From a `severity-id` (0–4).
    pub fn from_id(id: i64) -> Option<Severity> {
        Some(match id {
            0 => Severity::Informational,
            1 => Severity::Low,
            2 => Severity::Medium,
            3 => Severity::High,
            4 => Severity::Critical,
            _ => return None,
        })
    }

    /// The `severity-id` / `SeverityValue`.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The name AppScan uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One variant of an issue (a distinct test that showed it), as plain text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// The variant item's `id`.
    pub id: Option<String>,
    /// `comments`.
    pub comments: Option<String>,
    /// `reasoning`.
    pub reasoning: Option<String>,
    /// `differences`, one line per change (`parameter x: "a" -> "b" (changed)`).
    pub test_difference: Option<String>,
    /// `additional-data`.
    pub additional_data: Option<String>,
    /// A variant-level `cwe`.
    pub cwe: Option<String>,
    /// `issue-information` (SAST: API, caller, code context).
    pub issue_information: Option<String>,
}

/// The status words AppScan writes on an issue (ASoC and ASE: `Open`, `New`,
/// `InProgress`, `Reopened`, `Noise`, `Fixed`, `Passed`; `Closed`; ASE's `In Progress`),
/// compared without regard to case. Another word is read with a warning.
pub const KNOWN_STATUSES: &[&str] = &[
    "Open",
    "New",
    "InProgress",
    "In Progress",
    "Reopened",
    "Noise",
    "Fixed",
    "Passed",
    "Closed",
];

/// Whether `word` is one of [`KNOWN_STATUSES`].
pub fn is_known_status(word: &str) -> bool {
    let word = word.trim();
    KNOWN_STATUSES.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// One `issue-group/item`, references resolved, texts flattened and bounded.
///
/// Text fields hold the value as written (trimmed); numbers that did not parse are `None`
/// with a warning. `warnings` lists every field that was missing, unresolvable or odd —
/// never a reason to drop the issue.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Issue {
    /// The item's `id` attribute (a signed 64-bit number as text).
    pub item_id: String,
    /// The item's `id-v2` attribute.
    pub item_id_v2: Option<String>,
    /// `asoc-issue-id`: the issue's `Id` in the ASoC API.
    pub asoc_issue_id: Option<String>,
    /// The issue type id (`issue-type/ref`).
    pub issue_type_id: Option<String>,
    /// The issue type's display name.
    pub issue_type_name: Option<String>,
    /// `severity`, verbatim (`High`, `high`, ...).
    pub severity: Option<String>,
    /// `severity-id`, verbatim.
    pub severity_id: Option<String>,
    /// The severity on AppScan's scale, from `severity-id` or else the name.
    pub severity_level: Option<Severity>,
    /// `cvss-score` (or `cvss`), verbatim.
    pub cvss_score: Option<String>,
    /// `cvss-vector/vector`.
    pub cvss_vector: Option<String>,
    /// The API's `CvssVersion` value (`Cvss20`, `Cvss30`, `Cvss31`), inferred.
    pub cvss_version: Option<String>,
    /// The CWE number.
    pub cwe: Option<u32>,
    /// A CVE id, when the report gives one.
    pub cve: Option<String>,
    /// The threat class id (`threat-class/ref`, e.g. `catCrossSiteScripting`).
    pub threat_class_id: Option<String>,
    /// The threat class (WASC) name, when the report's tables give it.
    pub threat_class: Option<String>,
    /// The threat class reference URL.
    pub threat_class_url: Option<String>,
    /// The full URL (DAST) or file location (SAST): `location`, else the URL table.
    pub location: Option<String>,
    /// `scheme`, else from the URL.
    pub scheme: Option<String>,
    /// `host`, else from the URL.
    pub host: Option<String>,
    /// `port`, else from the URL.
    pub port: Option<u16>,
    /// `path`, else from the URL.
    pub path: Option<String>,
    /// `domain`, else the host.
    pub domain: Option<String>,
    /// `element` (the parameter, header or cookie), else the entity name.
    pub element: Option<String>,
    /// `element-type`, else the entity type.
    pub element_type: Option<String>,
    /// `url/@original_request_method`.
    pub http_method: Option<String>,
    /// The entity id (`entity/ref`).
    pub entity_id: Option<String>,
    /// The entity's name, when the entity table has it.
    pub entity_name: Option<String>,
    /// `status`, verbatim.
    pub status: Option<String>,
    /// `date-created`.
    pub date_created: Option<DateValue>,
    /// `last-updated`.
    pub last_updated: Option<DateValue>,
    /// When the report last saw the issue: the scan date, else the report date, else
    /// `last-updated`.
    pub last_found: Option<DateValue>,
    /// `source-file` (SAST), else the item's `filename` attribute.
    pub source_file: Option<String>,
    /// `line` (SAST).
    pub line: Option<u32>,
    /// The item's `language` attribute (SAST).
    pub language: Option<String>,
    /// The item's `context` attribute (SAST: the line of code).
    pub context: Option<String>,
    /// `fix-group-id` (ASoC).
    pub fix_group_id: Option<String>,
    /// The item's `technology` (`DAST`, `SAST`), else the report's when not `Mixed`.
    pub technology: Option<String>,
    /// The remediation id (`remediation/ref`).
    pub remediation_id: Option<String>,
    /// The advisory id (`advisory/ref`).
    pub advisory_id: Option<String>,
    /// The scan the issue comes from (report metadata).
    pub scan_name: Option<String>,
    /// The application (report metadata, `layout/application-name`).
    pub application_name: Option<String>,
    /// Technical description (advisory).
    pub technical_description: Option<String>,
    /// Causes.
    pub causes: Option<String>,
    /// Security risks.
    pub security_risks: Option<String>,
    /// Affected products.
    pub affected_products: Option<String>,
    /// Fix recommendation.
    pub fix_recommendation: Option<String>,
    /// The fix's priority (`fix/item/priority`, SAST).
    pub fix_priority: Option<String>,
    /// The remediation's short text (remediation table, or the SAST fix's remediation).
    pub remediation: Option<String>,
    /// Variants kept (at most [`ReaderOptions::max_variants`](crate::ReaderOptions)).
    pub variants: Vec<Variant>,
    /// Variants in the item, kept or not.
    pub variant_count: usize,
    /// Problems with this issue's fields; the issue is still good.
    pub warnings: Vec<String>,
}

impl Issue {
    /// The external id: `asoc-issue-id` when present (links XML imports to API syncs),
    /// else the item id.
    pub fn external_id(&self) -> &str {
        self.asoc_issue_id.as_deref().unwrap_or(&self.item_id)
    }

    /// Technical Description + Causes + Security Risks + Affected Products, as headed
    /// paragraphs (empty sections left out).
    pub fn description(&self) -> String {
        sections(&[
            (
                "Technical Description",
                self.technical_description.as_deref(),
            ),
            ("Causes", self.causes.as_deref()),
            ("Security Risks", self.security_risks.as_deref()),
            ("Affected Products", self.affected_products.as_deref()),
        ])
    }

    /// Priority + Fix Recommendation.
    pub fn solution(&self) -> String {
        let fix = match (&self.remediation, &self.fix_recommendation) {
            (Some(r), Some(f)) if !f.contains(r.as_str()) => Some(format!("{r}\n\n{f}")),
            (_, Some(f)) => Some(f.clone()),
            (Some(r), None) => Some(r.clone()),
            (None, None) => None,
        };
        sections(&[
            ("Priority", self.fix_priority.as_deref()),
            ("Fix Recommendation", fix.as_deref()),
        ])
    }

    /// Variant + CWE + Comments + Reasoning + Test Difference, one block per variant
    /// kept.
    pub fn details(&self) -> String {
        let cwe = self.cwe.map(|c| format!("CWE-{c}"));
        let mut blocks = Vec::new();
        for (i, v) in self.variants.iter().enumerate() {
            let head = match &v.id {
                Some(id) => format!("{} of {} (id {id})", i + 1, self.variant_count),
                None => format!("{} of {}", i + 1, self.variant_count),
            };
            let vcwe = v.cwe.as_ref().map(|c| {
                if c.to_ascii_uppercase().starts_with("CWE") {
                    c.clone()
                } else {
                    format!("CWE-{c}")
                }
            });
            blocks.push(sections(&[
                ("Variant", Some(head.as_str())),
                ("CWE", vcwe.as_deref().or(cwe.as_deref())),
                ("Comments", v.comments.as_deref()),
                ("Reasoning", v.reasoning.as_deref()),
                ("Test Difference", v.test_difference.as_deref()),
                ("Additional Data", v.additional_data.as_deref()),
                ("Issue Information", v.issue_information.as_deref()),
            ]));
        }
        if blocks.is_empty() {
            return sections(&[("CWE", cwe.as_deref())]);
        }
        blocks.join("\n\n")
    }

    /// Tags from the scanner metadata: technology, language, threat class.
    pub fn tags(&self) -> Vec<String> {
        let mut tags = vec!["AppScan".to_string()];
        for t in [&self.technology, &self.language, &self.threat_class]
            .into_iter()
            .flatten()
        {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        tags
    }

    /// The issue as a JSON object shaped like an AppScan on Cloud API issue item
    /// (PascalCase keys; absent values are `null`), plus `Description`, `Solution`,
    /// `Details`, `Tags` and `ReportItemId`.
    ///
    /// `Status` is `Open` when the item has none: an issue listed in a report is open
    /// (issues missing from a later full report are closed by the runner). Dates are
    /// RFC 3339 in UTC, and `Cvss` a numeric string, or `null` when the report's text
    /// could not be read as one (the verbatim text stays on the [`Issue`], with a
    /// warning), so that a record never carries a value a map cannot convert. `Line` is
    /// a string, as in the API.
    pub fn to_record(&self) -> Value {
        let s = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let d = |v: &Option<DateValue>| {
            v.as_ref()
                .and_then(DateValue::rfc3339)
                .map_or(Value::Null, Value::String)
        };
        let text = |v: String| {
            if v.is_empty() {
                Value::Null
            } else {
                Value::String(v)
            }
        };
        let severity = self
            .severity
            .clone()
            .or_else(|| self.severity_level.map(|l| l.as_str().to_string()));
        let mut m = Map::new();
        m.insert("Id".into(), json!(self.external_id()));
        m.insert("ReportItemId".into(), json!(self.item_id));
        m.insert("IssueTypeId".into(), s(&self.issue_type_id));
        m.insert("IssueType".into(), s(&self.issue_type_name));
        m.insert("Severity".into(), s(&severity));
        m.insert(
            "SeverityValue".into(),
            self.severity_level.map_or(Value::Null, |l| json!(l.id())),
        );
        let cvss = self.cvss_score.clone().filter(|c| cvss_score(c).is_some());
        m.insert("Cvss".into(), s(&cvss));
        m.insert("CvssVector".into(), s(&self.cvss_vector));
        m.insert("CvssVersion".into(), s(&self.cvss_version));
        m.insert("Cwe".into(), self.cwe.map_or(Value::Null, |c| json!(c)));
        m.insert("Cve".into(), s(&self.cve));
        m.insert(
            "Status".into(),
            json!(self.status.as_deref().unwrap_or("Open")),
        );
        m.insert("Location".into(), s(&self.location));
        m.insert("Scheme".into(), s(&self.scheme));
        m.insert("Host".into(), s(&self.host));
        m.insert("Port".into(), self.port.map_or(Value::Null, |p| json!(p)));
        m.insert("Path".into(), s(&self.path));
        m.insert("Domain".into(), s(&self.domain));
        m.insert("Element".into(), s(&self.element));
        m.insert("ElementType".into(), s(&self.element_type));
        m.insert("DateCreated".into(), d(&self.date_created));
        m.insert("LastUpdated".into(), d(&self.last_updated));
        m.insert("LastFound".into(), d(&self.last_found));
        m.insert("SourceFile".into(), s(&self.source_file));
        m.insert(
            "Line".into(),
            self.line.map_or(Value::Null, |l| json!(l.to_string())),
        );
        m.insert("Language".into(), s(&self.language));
        m.insert("Context".into(), s(&self.context));
        m.insert("ThreatClassId".into(), s(&self.threat_class_id));
        m.insert("RemediationId".into(), s(&self.remediation_id));
        m.insert("FixGroupId".into(), s(&self.fix_group_id));
        m.insert("ScanName".into(), s(&self.scan_name));
        m.insert("ApplicationName".into(), s(&self.application_name));
        m.insert("DiscoveryMethod".into(), s(&self.technology));
        m.insert("Description".into(), text(self.description()));
        m.insert("Solution".into(), text(self.solution()));
        m.insert("Details".into(), text(self.details()));
        m.insert("Tags".into(), json!(self.tags()));
        Value::Object(m)
    }
}

/// `Heading:\ntext` blocks separated by blank lines; empty sections left out. A one-line
/// text goes on the heading's line.
fn sections(parts: &[(&str, Option<&str>)]) -> String {
    let mut out = String::new();
    for (head, body) in parts {
        let Some(body) = body.map(str::trim).filter(|b| !b.is_empty()) else {
            continue;
        };
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(head);
        out.push(':');
        out.push(if body.contains('\n') { '\n' } else { ' ' });
        out.push_str(body);
    }
    out
}

/// A CVSS base score as a report writes it: a finite number from 0 to 10. `NaN`, `inf`
/// and `1e400` parse as numbers; they went out as `inf` in CSV and `null` in JSON, and
/// `99` as a score.
pub fn cvss_score(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && (0.0..=10.0).contains(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_scores_are_finite_and_in_range() {
        assert_eq!(cvss_score(" 7.5 "), Some(7.5));
        assert_eq!(cvss_score("0"), Some(0.0));
        assert_eq!(cvss_score("10"), Some(10.0));
        for bad in ["NaN", "inf", "-infinity", "1e400", "99", "-1", "high"] {
            assert_eq!(cvss_score(bad), None, "{bad}");
        }
    }

    #[test]
    fn severity_scale() {
        assert_eq!(Severity::from_name("high"), Some(Severity::High));
        assert_eq!(
            Severity::from_name("Information"),
            Some(Severity::Informational)
        );
        assert_eq!(Severity::from_id(4).map(Severity::id), Some(4));
        assert_eq!(Severity::from_id(6), None);
        assert_eq!(Severity::from_name("Severe"), None);
    }

    #[test]
    fn record_defaults_and_sections() {
        let issue = Issue {
            item_id: "-1".into(),
            technical_description: Some("td".into()),
            causes: Some("a\nb".into()),
            fix_priority: Some("High".into()),
            fix_recommendation: Some("Do it".into()),
            cwe: Some(79),
            ..Issue::default()
        };
        let r = issue.to_record();
        assert_eq!(r["Id"], "-1");
        assert_eq!(r["Status"], "Open");
        assert_eq!(r["Cwe"], 79);
        assert_eq!(
            r["Description"],
            "Technical Description: td\n\nCauses:\na\nb"
        );
        assert_eq!(r["Solution"], "Priority: High\n\nFix Recommendation: Do it");
        assert_eq!(r["Details"], "CWE: CWE-79");
        assert!(r["Port"].is_null());
    }
}
