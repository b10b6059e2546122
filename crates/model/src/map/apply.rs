//! Applying a map to one raw record.
//!
//! Errors name the JSON path of the offending field within the record (`$.Severity`);
//! the caller prefixes where the record came from (endpoint, app id, page).

use super::targets::{self, Kind, ValueType};
use super::{Map, Rule};
use crate::kev::CveList;
use crate::text::storable;
use crate::{Asset, Finding, Severity, Status, time::parse_datetime};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;

/// A mapped record with the warnings the mapping raised (e.g. an unknown status).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped<T> {
    pub value: T,
    pub warnings: Vec<String>,
}

/// A record that cannot be mapped: which field (JSON path) and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RecordError {
    pub path: String,
    pub message: String,
}

/// A converted field value.
enum Converted {
    Text(String),
    Int(i64),
    Float(f64),
    Date(DateTime<Utc>),
    Severity(Severity, String),
    Status(Status, String),
    Tags(Vec<String>),
}

struct Fields {
    values: HashMap<&'static str, Converted>,
    warnings: Vec<String>,
}

impl Fields {
    fn text(&mut self, target: &str) -> Option<String> {
        match self.values.remove(target)? {
            Converted::Text(s) => Some(s),
            Converted::Int(i) => Some(i.to_string()),
            Converted::Float(f) => Some(f.to_string()),
            Converted::Date(d) => Some(d.to_rfc3339()),
            Converted::Severity(_, s) | Converted::Status(_, s) => Some(s),
            Converted::Tags(t) => Some(t.join(",")),
        }
    }
    fn int(&mut self, target: &str) -> Option<i64> {
        match self.values.remove(target)? {
            Converted::Int(i) => Some(i),
            _ => None,
        }
    }
    fn float(&mut self, target: &str) -> Option<f64> {
        match self.values.remove(target)? {
            Converted::Float(f) => Some(f),
            Converted::Int(i) => Some(i as f64),
            _ => None,
        }
    }
    fn date(&mut self, target: &str) -> Option<DateTime<Utc>> {
        match self.values.remove(target)? {
            Converted::Date(d) => Some(d),
            _ => None,
        }
    }
    fn tags(&mut self, target: &str) -> Vec<String> {
        match self.values.remove(target) {
            Some(Converted::Tags(t)) => t,
            _ => Vec::new(),
        }
    }
}

impl Map {
    /// Maps a raw application record onto an [`Asset`].
    pub fn apply_asset(&self, raw: &Value) -> Result<Mapped<Asset>, RecordError> {
        let mut f = self.convert(Kind::Asset, &self.asset, raw)?;
        let external_id = f
            .text("externalAssetId")
            .ok_or_else(|| missing(&self.asset, "externalAssetId"))?;
        let url = f.text("webAppUrl").filter(|u| !u.trim().is_empty());
        let name = f.text("webAppName").filter(|n| !n.trim().is_empty());
        if url.is_none() && name.is_none() {
            return Err(RecordError {
                path: "$".into(),
                message: "application has neither a usable URL nor a name".into(),
            });
        }
        let asset = Asset {
            external_id,
            name,
            url,
            description: f.text("assetDescription"),
            business_unit: f.text("businessUnit"),
            risk_rating: f.text("riskRating"),
            last_updated: f.date("assetLastUpdated"),
            tags: f.tags("assetTags"),
        };
        Ok(Mapped {
            value: asset,
            warnings: f.warnings,
        })
    }

    /// Maps a raw issue record onto a [`Finding`]; `app_id` is the application being
    /// listed, used when the record does not name its application.
    pub fn apply_finding(&self, raw: &Value, app_id: &str) -> Result<Mapped<Finding>, RecordError> {
        let mut f = self.convert(Kind::Finding, &self.finding, raw)?;
        let external_id = f
            .text("externalFindingId")
            .ok_or_else(|| missing(&self.finding, "externalFindingId"))?;
        let name = f
            .text("findingName")
            .ok_or_else(|| missing(&self.finding, "findingName"))?;
        let (severity, source_severity) = match f.values.remove("findingSeverity") {
            Some(Converted::Severity(s, src)) => (s, src),
            _ => return Err(missing(&self.finding, "findingSeverity")),
        };
        let (status, status_word) = match f.values.remove("findingStatus") {
            Some(Converted::Status(s, src)) => (s, Some(src)),
            _ => (Status::New, None),
        };
        // Full-run sources (ASE, XML reports) hand the status map Open or Closed and keep
        // their own word apart: that word is the finding's source status.
        let source_status = f
            .text("findingSourceStatus")
            .filter(|s| !s.trim().is_empty())
            .or(status_word);
        let port = match f.int("findingPort") {
            Some(p) => Some(u16::try_from(p).map_err(|_| RecordError {
                path: path_of(&self.finding, "findingPort"),
                message: format!("port {p} is out of range"),
            })?),
            None => None,
        };
        let cwe = match f.int("cweId") {
            Some(c) => Some(u32::try_from(c).map_err(|_| RecordError {
                path: path_of(&self.finding, "cweId"),
                message: format!("CWE {c} is out of range"),
            })?),
            None => None,
        };
        let finding = Finding {
            external_id,
            asset_external_id: f
                .text("findingAssetId")
                .unwrap_or_else(|| storable(app_id).into_owned()),
            name,
            severity,
            source_severity,
            status,
            source_status,
            cve: f.text("cveId").filter(|c| !c.trim().is_empty()),
            cvss: f.float("cvss3Base"),
            cwe,
            first_found: f.date("findingFirstFoundOn"),
            last_found: f.date("findingLastFoundOn"),
            last_updated: f.date("findingLastUpdated"),
            port,
            protocol: f.text("findingProtocol"),
            issue_type: f.text("findingSubType"),
            location: f.text("findingLocation"),
            element: f.text("findingElement"),
            detection: f.text("detectionResult"),
            description: f.text("findingDescription"),
            solution: f.text("findingSolution"),
            tags: f.tags("findingTags"),
        };
        Ok(Mapped {
            value: finding,
            warnings: f.warnings,
        })
    }

    fn convert(&self, kind: Kind, rules: &[Rule], raw: &Value) -> Result<Fields, RecordError> {
        if !raw.is_object() {
            return Err(RecordError {
                path: "$".into(),
                message: format!("expected a JSON object, found {}", type_name(raw)),
            });
        }
        let mut fields = Fields {
            values: HashMap::with_capacity(rules.len()),
            warnings: Vec::new(),
        };
        for rule in rules {
            let Some(target) = targets::find(kind, &rule.target) else {
                continue;
            };
            let excluded = rule.unless.iter().any(|(field, values)| {
                lookup(raw, field)
                    .filter(|v| !v.is_null())
                    .is_some_and(|v| {
                        let text = scalar_text(v);
                        values.iter().any(|x| x.eq_ignore_ascii_case(&text))
                    })
            });
            let found = rule
                .source
                .iter()
                .filter(|_| !excluded)
                .find_map(|s| lookup(raw, s).filter(|v| !v.is_null()).map(|v| (s, v)));
            let Some((source, value)) = found else {
                if target.required && rule.required && target.kind == Kind::Finding {
                    return Err(missing(rules, target.name));
                }
                continue;
            };
            // Only a problem names the path (a record has dozens of fields).
            let path = || format!("$.{source}");
            let bad = |message: String| RecordError {
                path: path(),
                message,
            };
            let converted = match target.value_type {
                // CVE ids as KDI, OCSF and the KEV list read them: upper-case, several
                // comma-separated without spaces; what is no CVE id is dropped and warned.
                ValueType::Text if target.name == "cveId" => {
                    let list = CveList::parse(&scalar_text(value));
                    for token in &list.dropped {
                        let token: String = token.chars().take(80).collect();
                        fields.warnings.push(format!(
                            "{}: '{token}' is not a CVE id (CVE-YYYY-NNNN), dropped",
                            path()
                        ));
                    }
                    match list.stored() {
                        Some(ids) => Converted::Text(ids),
                        None => continue,
                    }
                }
                ValueType::Text => match value {
                    Value::String(s) => Converted::Text(storable(s).into_owned()),
                    Value::Number(n) => Converted::Text(n.to_string()),
                    Value::Bool(b) => Converted::Text(b.to_string()),
                    other => Converted::Text(other.to_string()),
                },
                ValueType::Int => match as_int(value, target.name == "cweId") {
                    Some(Some(i)) => Converted::Int(i),
                    Some(None) => continue,
                    None => return Err(bad(format!("expected an integer, found {value}"))),
                },
                ValueType::Float => match as_float(value) {
                    // A CVSS base score is finite, 0 to 10, as the XML reader requires:
                    // 99 outscored every real score, -5 scored below none, and NaN and
                    // infinity were stored and filtered differently by the two stores.
                    Some(Some(x)) if target.name == "cvss3Base" && !is_cvss_score(x) => {
                        fields.warnings.push(format!(
                            "{}: {value} is not a CVSS score (0 to 10), left out",
                            path()
                        ));
                        continue;
                    }
                    Some(Some(x)) => Converted::Float(x),
                    Some(None) => continue,
                    None => return Err(bad(format!("expected a number, found {value}"))),
                },
                ValueType::Date => match value.as_str() {
                    Some(s) if s.trim().is_empty() => continue,
                    Some(s) => match parse_datetime(s) {
                        Some(d) => Converted::Date(d),
                        None => {
                            return Err(bad(format!("malformed date-time '{}'", storable(s))));
                        }
                    },
                    None => return Err(bad(format!("expected a date-time string, found {value}"))),
                },
                ValueType::Severity => {
                    let text = scalar_text(value);
                    match self.severity_of(&text) {
                        Some(s) => Converted::Severity(s, text),
                        None => {
                            // A numeric SeverityValue the map does not know may still have a
                            // usable name in a later source field.
                            let named = rule
                                .source
                                .iter()
                                .skip_while(|s| *s != source)
                                .skip(1)
                                .find_map(|s| {
                                    let t = scalar_text(lookup(raw, s)?);
                                    self.severity_of(&t).map(|sev| (sev, t))
                                });
                            match (named, self.severity_fallback) {
                                (Some((s, t)), _) => Converted::Severity(s, t),
                                // Kept verbatim as the source severity, warned about.
                                (None, Some(fallback)) => {
                                    fields.warnings.push(if text.trim().is_empty() {
                                        format!("{}: no severity, mapped to {fallback}", path())
                                    } else {
                                        format!(
                                            "{}: unknown severity '{text}', kept verbatim and mapped to {fallback}",
                                            path()
                                        )
                                    });
                                    Converted::Severity(fallback, text)
                                }
                                (None, None) => {
                                    return Err(bad(format!("unknown severity '{text}'")));
                                }
                            }
                        }
                    }
                }
                ValueType::Status => {
                    let text = scalar_text(value);
                    match self.status_of(&text) {
                        Some(s) => Converted::Status(s, text),
                        None => {
                            fields.warnings.push(format!(
                                "{}: unknown status '{text}', mapped to {}",
                                path(),
                                self.status_fallback
                            ));
                            Converted::Status(self.status_fallback, text)
                        }
                    }
                }
                ValueType::Tags => match value {
                    Value::Array(items) => Converted::Tags(items.iter().map(scalar_text).collect()),
                    other => Converted::Tags(
                        scalar_text(other)
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    ),
                },
            };
            let converted = match (converted, rule.suffix.get(source.as_str())) {
                (Converted::Text(text), Some(field)) => {
                    let after = lookup(raw, field)
                        .filter(|v| !v.is_null())
                        .map(scalar_text)
                        .filter(|t| !t.trim().is_empty());
                    match after {
                        Some(after) => Converted::Text(format!("{text}:{}", after.trim())),
                        None => Converted::Text(text),
                    }
                }
                (other, _) => other,
            };
            fields.values.insert(target.name, converted);
        }
        Ok(fields)
    }
}

/// Reads a dotted path (`A.B`) from a JSON object.
fn lookup<'a>(raw: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(raw, |v, key| v.get(key))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => storable(s).into_owned(),
        other => other.to_string(),
    }
}

/// `Some(Some(i))` an integer, `Some(None)` empty, `None` not an integer.
/// With `cwe`, `"CWE-79"` and `"79"` are read as 79.
fn as_int(v: &Value, cwe: bool) -> Option<Option<i64>> {
    match v {
        Value::Number(n) => n.as_i64().map(Some),
        // Only CWE ids come as text (`CWE-79` in reports); a port or other integer
        // served as a string is type drift in the source and is reported.
        Value::String(s) if cwe => {
            let s = s.trim();
            // `CWE-79` in any case (`Cwe-79` failed the record).
            let s = match s.get(..4) {
                Some(prefix) if prefix.eq_ignore_ascii_case("cwe-") => &s[4..],
                _ => s,
            };
            if s.is_empty() {
                Some(None)
            } else {
                s.parse().ok().map(Some)
            }
        }
        _ => None,
    }
}

/// Whether `x` can be a CVSS base score: finite, 0 to 10.
pub fn is_cvss_score(x: f64) -> bool {
    x.is_finite() && (0.0..=10.0).contains(&x)
}

fn as_float(v: &Value) -> Option<Option<f64>> {
    match v {
        Value::Number(n) => n.as_f64().map(Some),
        Value::String(s) if s.trim().is_empty() => Some(None),
        Value::String(s) => s.trim().parse().ok().map(Some),
        _ => None,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn path_of(rules: &[Rule], target: &str) -> String {
    rules
        .iter()
        .find(|r| r.target == target)
        .and_then(|r| r.source.first())
        .map(|s| format!("$.{s}"))
        .unwrap_or_else(|| "$".into())
}

fn missing(rules: &[Rule], target: &str) -> RecordError {
    let sources = rules
        .iter()
        .find(|r| r.target == target)
        .map(|r| r.source.join(" or "))
        .unwrap_or_default();
    RecordError {
        path: path_of(rules, target),
        message: format!("required field {sources} (for {target}) is missing"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issue() -> Value {
        json!({
            "Id": "i-1", "IssueTypeId": "attCrossSiteScripting", "IssueType": "Cross-Site Scripting",
            "Severity": "High", "SeverityValue": 3, "Status": "Open", "Cvss": "7.5", "Cwe": 79,
            "DateCreated": "2024-11-18T18:09:14Z", "LastFound": null, "Port": 443, "Scheme": "https",
            "Location": "https://shop.example.com/search?q=1", "Element": "q", "ApplicationId": "app-1",
            "Unknown": {"kept": true}
        })
    }

    /// A NUL in a scanned page's text (which PostgreSQL cannot store, failing every run
    /// of the connector) reaches no field: it becomes U+FFFD, in warnings too.
    #[test]
    fn no_field_holds_a_nul() {
        let mut raw = issue();
        raw["IssueType"] = json!("Cross\u{0}Site");
        raw["Status"] = json!("Od\u{0}d");
        raw["ApplicationId"] = json!("app\u{0}1");
        let m = Map::default_map().apply_finding(&raw, "x").expect("maps");
        assert_eq!(m.value.name, "Cross\u{FFFD}Site");
        assert_eq!(m.value.asset_external_id, "app\u{FFFD}1");
        assert!(
            m.warnings.iter().all(|w| !w.contains('\0')),
            "{:?}",
            m.warnings
        );
        assert!(
            m.warnings.iter().any(|w| w.contains("Od\u{FFFD}d")),
            "{:?}",
            m.warnings
        );
    }

    /// An ASoC SAST issue has no `Location`, but `SourceFile` and `Line`: the default map
    /// locates it at `file:line`, as an XML report does. Without the line, every issue of
    /// one type in one file shared a fingerprint (`--dedupe` joined them) and none
    /// matched the same issue from a report.
    #[test]
    fn a_sast_issue_is_located_at_its_file_and_line() {
        let map = Map::default_map();
        let mut raw = issue();
        raw["Location"] = Value::Null;
        raw["SourceFile"] = json!("src/main/java/com/shop/Dao.java");
        raw["Line"] = json!("42");
        let f = map.apply_finding(&raw, "x").expect("maps").value;
        assert_eq!(
            f.location.as_deref(),
            Some("src/main/java/com/shop/Dao.java:42")
        );
        raw["Line"] = Value::Null;
        let f = map.apply_finding(&raw, "x").expect("maps").value;
        assert_eq!(
            f.location.as_deref(),
            Some("src/main/java/com/shop/Dao.java")
        );
        // A DAST location is taken as it is.
        let f = map.apply_finding(&issue(), "x").expect("maps").value;
        assert_eq!(
            f.location.as_deref(),
            Some("https://shop.example.com/search?q=1")
        );
    }

    /// A CWE id as text, its prefix in any case.
    #[test]
    fn a_cwe_id_reads_with_its_prefix_in_any_case() {
        let map = Map::default_map();
        for cwe in ["CWE-79", "cwe-79", "Cwe-79", " 79 ", "79"] {
            let mut raw = issue();
            raw["Cwe"] = json!(cwe);
            assert_eq!(
                map.apply_finding(&raw, "x").expect("maps").value.cwe,
                Some(79),
                "{cwe}"
            );
        }
    }

    /// A CVSS score outside 0–10 (or NaN, infinity) is left out with a warning: 99
    /// outscored every real score, -5 scored below none, and the two stores filtered
    /// NaN and infinity differently.
    #[test]
    fn a_cvss_out_of_range_is_left_out_with_a_warning() {
        let map = Map::default_map();
        for bad in [
            json!("99"),
            json!(-5),
            json!("NaN"),
            json!("inf"),
            json!(10.5),
        ] {
            let mut raw = issue();
            raw["Cvss"] = bad.clone();
            let m = map.apply_finding(&raw, "x").expect("maps");
            assert_eq!(m.value.cvss, None, "{bad}");
            assert!(
                m.warnings.iter().any(|w| w.contains("not a CVSS score")),
                "{bad}: {:?}",
                m.warnings
            );
        }
        for good in [json!("0"), json!(10), json!("9.8")] {
            let mut raw = issue();
            raw["Cvss"] = good.clone();
            assert!(
                map.apply_finding(&raw, "x")
                    .expect("maps")
                    .value
                    .cvss
                    .is_some()
            );
        }
    }

    /// `Cvss` / `CvssVersion` → `cvss3Base` (the spec's default map): a CVSS 2 score is
    /// not taken for a CVSS 3 base score, which risk and SARIF read.
    #[test]
    fn a_cvss_2_score_is_no_cvss_3_base() {
        let map = Map::default_map();
        let cvss = |version: Option<&str>| {
            let mut raw = issue();
            if let Some(v) = version {
                raw["CvssVersion"] = json!(v);
            }
            map.apply_finding(&raw, "x").expect("maps").value.cvss
        };
        assert_eq!(cvss(None), Some(7.5));
        assert_eq!(cvss(Some("Cvss31")), Some(7.5));
        assert_eq!(cvss(Some("Cvss20")), None);
        assert_eq!(cvss(Some("cvss20")), None, "without regard to case");
        // A map keeps the condition through `map show` and back.
        let again = Map::from_toml(&map.to_toml(), "x.toml").expect("round trip");
        assert_eq!(again.finding, map.finding);
        let bad = Map::from_toml(
            &map.to_toml()
                .replace("CvssVersion = [\"Cvss20\"]", "CvssVersion = []"),
            "x.toml",
        )
        .expect_err("an empty value list");
        assert!(bad.to_string().contains("`unless` needs"), "{bad}");
        let blank = map
            .to_toml()
            .replace("CvssVersion = [\"Cvss20\"]", "CvssVersion = [\"\"]");
        assert!(Map::from_toml(&blank, "x.toml").is_err(), "a blank value");
    }

    #[test]
    fn maps_an_issue() {
        let map = Map::default_map();
        let m = map.apply_finding(&issue(), "fallback").expect("maps");
        let f = m.value;
        assert_eq!(f.external_id, "i-1");
        assert_eq!(f.asset_external_id, "app-1");
        assert_eq!(f.name, "Cross-Site Scripting");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.status, Status::New);
        assert_eq!(f.cvss, Some(7.5));
        assert_eq!(f.cwe, Some(79));
        assert_eq!(f.port, Some(443));
        assert_eq!(f.issue_type.as_deref(), Some("attCrossSiteScripting"));
        assert!(f.last_found.is_none());
        assert!(m.warnings.is_empty());
    }

    #[test]
    fn record_errors_name_the_field() {
        let map = Map::default_map();
        let mut raw = issue();
        raw["Severity"] = json!("Catastrophic");
        raw["SeverityValue"] = json!(9);
        let e = map.apply_finding(&raw, "a").unwrap_err();
        assert_eq!(e.path, "$.SeverityValue");
        assert!(e.message.contains("unknown severity '9'"), "{e}");

        let mut raw = issue();
        raw["DateCreated"] = json!("not a date");
        let e = map.apply_finding(&raw, "a").unwrap_err();
        assert_eq!(
            e.to_string(),
            "$.DateCreated: malformed date-time 'not a date'"
        );

        let mut raw = issue();
        raw.as_object_mut().map(|o| o.remove("Id"));
        let e = map.apply_finding(&raw, "a").unwrap_err();
        assert_eq!(e.path, "$.Id");

        let mut raw = issue();
        raw["Port"] = json!("443");
        assert_eq!(map.apply_finding(&raw, "a").unwrap_err().path, "$.Port");

        let mut raw = issue();
        raw["Cwe"] = json!("CWE-89");
        assert_eq!(
            map.apply_finding(&raw, "a").expect("maps").value.cwe,
            Some(89)
        );
    }

    #[test]
    fn unknown_severity_with_a_fallback_is_kept_and_warned() {
        let mut map = Map::default_map();
        map.severity_fallback = Some(Severity::Medium);
        let mut raw = issue();
        raw.as_object_mut().map(|o| o.remove("SeverityValue"));
        raw["Severity"] = json!("Severe");
        let m = map.apply_finding(&raw, "a").expect("maps");
        assert_eq!(m.value.severity, Severity::Medium);
        assert_eq!(m.value.source_severity, "Severe");
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(m.warnings[0].contains("unknown severity 'Severe'"));
    }

    #[test]
    fn an_empty_severity_with_a_fallback_takes_it_and_says_none_was_given() {
        let mut map = Map::default_map();
        map.severity_fallback = Some(Severity::High);
        let mut raw = issue();
        raw.as_object_mut().map(|o| o.remove("SeverityValue"));
        raw["Severity"] = json!("");
        let m = map.apply_finding(&raw, "a").expect("maps");
        assert_eq!(m.value.severity, Severity::High);
        assert_eq!(m.value.source_severity, "");
        assert_eq!(m.warnings, ["$.Severity: no severity, mapped to High"]);
    }

    /// A report's CVE text is stored as KDI's `cve_identifiers` and the KEV list read it:
    /// upper-case ids, several comma-separated without spaces; the rest is dropped with a
    /// warning naming the field.
    #[test]
    fn cve_ids_are_normalized_and_garbage_is_dropped_with_a_warning() {
        let map = Map::default_map();
        let cve = |text: &str| {
            let mut raw = issue();
            raw["Cve"] = json!(text);
            let m = map.apply_finding(&raw, "a").expect("maps");
            (m.value.cve, m.warnings)
        };
        assert_eq!(
            cve("CVE-2021-44228"),
            (Some("CVE-2021-44228".into()), vec![])
        );
        assert_eq!(
            cve(" cve-2021-44228 "),
            (Some("CVE-2021-44228".into()), vec![])
        );
        assert_eq!(
            cve("CVE-2021-44228, CVE-2022-22965;cve-2023-1234 CVE-2021-44228"),
            (
                Some("CVE-2021-44228,CVE-2022-22965,CVE-2023-1234".into()),
                vec![]
            )
        );
        let (ids, warnings) = cve("CVE-2021-44228;DROP");
        assert_eq!(ids.as_deref(), Some("CVE-2021-44228"));
        assert_eq!(
            warnings,
            ["$.Cve: 'DROP' is not a CVE id (CVE-YYYY-NNNN), dropped"]
        );
        let (ids, warnings) = cve("not-a-cve");
        assert_eq!(ids, None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(cve("CVE-2024-1").0, None);
        assert_eq!(cve("  "), (None, vec![]));
    }

    #[test]
    fn asset_tags_are_mapped() {
        let map = Map::default_map();
        let a = map
            .apply_asset(&json!({"Id": "a", "Name": "Shop", "Tags": ["AppScan", "DAST"]}))
            .expect("ok")
            .value;
        assert_eq!(a.tags, vec!["AppScan".to_string(), "DAST".to_string()]);
    }

    #[test]
    fn unknown_status_falls_back_with_a_warning() {
        let map = Map::default_map();
        let mut raw = issue();
        raw["Status"] = json!("Triaged");
        let m = map.apply_finding(&raw, "a").expect("maps");
        assert_eq!(m.value.status, Status::Active);
        assert_eq!(m.value.source_status.as_deref(), Some("Triaged"));
        assert_eq!(m.warnings.len(), 1);
    }

    #[test]
    fn the_source_status_is_the_sources_own_word_where_it_keeps_one_apart() {
        let map = Map::default_map();
        let mut raw = issue();
        raw["Status"] = json!("Closed");
        raw["SourceStatus"] = json!("Noise");
        let m = map.apply_finding(&raw, "a").expect("maps");
        assert_eq!(m.value.status, Status::Closed, "from Status");
        assert_eq!(m.value.source_status.as_deref(), Some("Noise"));
        raw["SourceStatus"] = json!(null);
        let m = map.apply_finding(&raw, "a").expect("maps");
        assert_eq!(m.value.source_status.as_deref(), Some("Closed"));
    }

    #[test]
    fn asset_needs_a_url_or_a_name() {
        let map = Map::default_map();
        let a = map
            .apply_asset(&json!({"Id": "a", "Name": "Shop", "Url": null}))
            .expect("ok")
            .value;
        assert_eq!(a.label(), "Shop");
        let e = map
            .apply_asset(&json!({"Id": "a", "Name": "", "Url": null}))
            .unwrap_err();
        assert!(e.message.contains("neither"));
    }
}
