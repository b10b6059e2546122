//! Turning one collected `issue-group/item` into an [`Issue`]: reading its own fields and
//! resolving its references through the group tables.
//!
//! Each field has an ordered list of places to look — the item itself first (ASoC items
//! are self-contained), then the tables an AppScan Standard item points into (issue
//! type, URL, entity, advisory, cause, ...), then the ASoC article of the issue type.
//! A field found nowhere, or a reference that resolves nowhere, is a warning on the
//! issue; it never fails the import.

use crate::dates::DateValue;
use crate::error::XmlError;
use crate::groups::{AdvisoryEntry, ArticleEntry, GroupTables, IssueTypeEntry, TextEntry, cwe_of};
use crate::issue::{Issue, KNOWN_STATUSES, Severity, Variant, is_known_status};
use crate::meta::{Family, ReportMeta, Technology};
use crate::options::ReaderOptions;
use crate::text::{bound, plain_text};
use crate::tree::{NodeId, Tree};

/// Children of an issue item never kept: HTTP traffic and history are large and not
/// part of an issue's fields.
pub(crate) const ISSUE_SKIP: &[&str] = &[
    "test-http-traffic",
    "original-http-traffic",
    "testResponseChunk",
    "changes-group",
    "user-image-group",
    "iast-info",
];

/// What an issue is resolved against.
pub(crate) struct Context<'a> {
    pub tables: &'a GroupTables,
    pub meta: &'a ReportMeta,
    pub opts: &'a ReaderOptions,
}

/// One issue item resolved against the tables; an error only when a table kept in a
/// temporary file cannot be read.
pub(crate) fn build_issue(t: &Tree, cx: &Context<'_>) -> Result<Issue, XmlError> {
    let r = Tree::ROOT;
    let tables = cx.tables;
    let mut w: Vec<String> = Vec::new();
    let mut issue = Issue::default();

    if t.truncated {
        w.push(format!(
            "item is larger than the collection limit ({} bytes) or has a field over {} bytes: some text was dropped",
            cx.opts.max_item_bytes, cx.opts.max_field_bytes
        ));
    }
    match t.attr_value(r, "id") {
        Some(id) => issue.item_id = id,
        None => w.push("id: the item has no id attribute".into()),
    }
    issue.item_id_v2 = t.attr_value(r, "id-v2");
    issue.asoc_issue_id = t.child_value(r, "asoc-issue-id");

    // Issue type, and the tables keyed by it.
    issue.issue_type_id = first(t.refs(r, "issue-type"));
    let itype: Option<&IssueTypeEntry> = issue
        .issue_type_id
        .as_ref()
        .and_then(|id| tables.issue_types.get(id));
    match (&issue.issue_type_id, itype) {
        (None, _) => w.push("issue-type: missing".into()),
        (Some(id), None) => w.push(format!(
            "issue-type: unknown issue type \"{id}\" (not in issue-type-group), kept verbatim"
        )),
        _ => {}
    }
    let from_type = |pick: fn(&IssueTypeEntry) -> &Vec<String>| -> Vec<String> {
        itype.map(|e| pick(e).clone()).unwrap_or_default()
    };
    issue.advisory_id = first(t.refs(r, "advisory")).or_else(|| first(from_type(|e| &e.advisory)));
    let advisory: Option<&AdvisoryEntry> = lookup(
        &tables.advisories,
        &[&issue.advisory_id, &issue.issue_type_id],
    );
    let article: Option<&ArticleEntry> = lookup(
        &tables.articles,
        &[&issue.issue_type_id, &issue.advisory_id],
    );

    issue.issue_type_name = t
        .child_value(r, "issue-type-name")
        .or_else(|| itype.and_then(|e| e.name.clone()))
        .or_else(|| article.and_then(|a| a.display_name.clone()))
        .or_else(|| advisory.and_then(|a| a.name.clone()));
    if issue.issue_type_name.is_none() {
        w.push("issue type name: not found (no issue-type-name, no issue-type-group name)".into());
    }

    read_severity(t, &mut issue, &mut w);

    // CVSS.
    issue.cvss_score = t
        .child_value(r, "cvss-score")
        .or_else(|| t.child_value(r, "cvss"));
    if let Some(c) = &issue.cvss_score
        && crate::issue::cvss_score(c).is_none()
    {
        w.push(format!(
            "cvss-score: \"{c}\" is not a CVSS score (a number from 0 to 10), kept verbatim"
        ));
    }
    issue.cvss_vector = t.child_value(r, "cvss-vector");
    issue.cvss_version = cvss_version(
        issue.cvss_vector.as_deref(),
        cx.meta.cvss_version.as_deref(),
    );

    // CWE and CVE.
    let cwe_raw = cwe_of(t, r)
        .or_else(|| itype.and_then(|e| e.cwe.clone()))
        .or_else(|| advisory.and_then(|a| a.cwe.clone()))
        .or_else(|| article.and_then(|a| a.cwe.clone()));
    if let Some(raw) = cwe_raw {
        issue.cwe = parse_cwe(&raw);
        if issue.cwe.is_none() {
            w.push(format!("cwe: \"{raw}\" is not a CWE number"));
        }
    }
    issue.cve = t
        .attr_value(r, "cve")
        .or_else(|| t.child_value(r, "cve"))
        .or_else(|| itype.and_then(|e| e.cve.clone()));

    // Threat class (WASC).
    issue.threat_class_id =
        first(t.refs(r, "threat-class")).or_else(|| first(from_type(|e| &e.threat_class)));
    if let Some(tc) = lookup(&tables.threat_classes, &[&issue.threat_class_id]) {
        issue.threat_class = non_empty(tc.text.clone());
        issue.threat_class_url = tc.href.clone();
    } else {
        issue.threat_class = advisory.and_then(|a| a.threat_class.clone());
        if let Some(id) = &issue.threat_class_id
            && !tables.threat_classes.is_empty()
            && issue.threat_class.is_none()
        {
            w.push(format!(
                "threat-class: \"{id}\" is not in threat-class-group"
            ));
        }
    }

    read_location(t, cx, &mut issue, &mut w)?;

    issue.status = t.child_value(r, "status");
    if let Some(word) = issue.status.as_deref().filter(|w| !is_known_status(w)) {
        // The same words for every issue with this word, so that the run lists it once
        // per word, with a count. An issue a report lists is open unless its word says
        // closed: an unknown word was taken as open without a word said.
        w.push(format!(
            "status: \"{word}\" is not a status AppScan writes ({}); the issue is taken as \
             open, the word kept as its source status",
            KNOWN_STATUSES.join(", ")
        ));
    }
    issue.date_created = date(t, "date-created", &mut w);
    issue.last_updated = date(t, "last-updated", &mut w);
    issue.last_found = cx
        .meta
        .scan_date
        .clone()
        .or_else(|| cx.meta.report_date.clone())
        .or_else(|| issue.last_updated.clone());

    // SAST.
    issue.source_file = t
        .child_value(r, "source-file")
        .or_else(|| t.attr_value(r, "filename"));
    if let Some(line) = t.child_value(r, "line") {
        issue.line = line.parse().ok();
        if issue.line.is_none() {
            w.push(format!("line: \"{line}\" is not a line number"));
        }
    }
    issue.language = t.attr_value(r, "language");
    issue.context = t.attr_value(r, "context");
    issue.fix_group_id = t.child_value(r, "fix-group-id");
    issue.technology = t
        .child_value(r, "technology")
        .or_else(|| match &cx.meta.technology {
            Technology::Dast | Technology::Sast => Some(cx.meta.technology.as_str().to_string()),
            _ => None,
        });
    issue.scan_name = cx.meta.scan_name.clone();
    issue.application_name = cx.meta.application_name.clone();

    // Remediation and fix.
    issue.remediation_id =
        first(t.refs(r, "remediation")).or_else(|| first(from_type(|e| &e.remediation)));
    issue.remediation = lookup(&tables.remediations, &[&issue.remediation_id])
        .and_then(|e| e.name.clone().or_else(|| non_empty(e.text.clone())));
    if let Some(fix) = t.find(r, &["fix", "item"]) {
        // SAST: the fix is inline.
        issue.fix_priority = t.child_value(fix, "priority");
        if issue.remediation.is_none() {
            issue.remediation = t.child_value(fix, "remediation");
        }
        issue.fix_recommendation = t.child(fix, "general").map(|g| plain_text(t, g));
    }
    if issue.fix_recommendation.is_none() {
        let mut keys: Vec<&Option<String>> = Vec::new();
        let type_fix: Vec<Option<String>> = from_type(|e| &e.fix_recommendation)
            .into_iter()
            .map(Some)
            .collect();
        keys.extend(type_fix.iter());
        keys.push(&issue.issue_type_id);
        keys.push(&issue.remediation_id);
        issue.fix_recommendation = lookup(&tables.fix_recommendations, &keys)
            .cloned()
            .or_else(|| advisory.and_then(|a| a.fix_recommendation.clone()))
            .or_else(|| article.and_then(|a| a.recommendations.clone()));
        if issue.fix_recommendation.is_none()
            && let Some(id) = type_fix.iter().flatten().next()
        {
            w.push(format!(
                "fix recommendation: \"{id}\" is not in fix-recommendation-group"
            ));
        }
    }

    // Description texts.
    issue.technical_description = advisory
        .and_then(|a| a.technical_description.clone())
        .or_else(|| article.and_then(|a| a.description.clone()));
    issue.causes = resolve_texts(
        "causes",
        refs_or(t.refs(r, "cause-id"), from_type(|e| &e.causes)),
        &tables.causes,
        "cause-group",
        advisory
            .and_then(|a| a.causes.clone())
            .or_else(|| article.and_then(|a| a.cause.clone())),
        &mut w,
    );
    issue.security_risks = resolve_texts(
        "security-risks",
        refs_or(
            t.refs(r, "security-risks"),
            from_type(|e| &e.security_risks),
        ),
        &tables.security_risks,
        "security-risk-group",
        advisory
            .and_then(|a| a.security_risks.clone())
            .or_else(|| article.and_then(|a| a.risk.clone())),
        &mut w,
    );
    issue.affected_products = resolve_texts(
        "affected-products",
        refs_or(
            t.refs(r, "affected-products"),
            from_type(|e| &e.affected_products),
        ),
        &tables.affected_products,
        "affected-product-group",
        advisory
            .and_then(|a| a.affected_products.clone())
            .or_else(|| article.and_then(|a| a.affected_products.clone())),
        &mut w,
    );

    read_variants(t, cx, &mut issue, &mut w);

    // Every kept text is bounded.
    let max = cx.opts.max_field_bytes;
    for (name, field) in [
        ("technical description", &mut issue.technical_description),
        ("causes", &mut issue.causes),
        ("security risks", &mut issue.security_risks),
        ("affected products", &mut issue.affected_products),
        ("fix recommendation", &mut issue.fix_recommendation),
        ("remediation", &mut issue.remediation),
        ("location", &mut issue.location),
        ("context", &mut issue.context),
    ] {
        if let Some(s) = field
            && bound(s, max)
        {
            w.push(format!("{name}: cut at {max} bytes"));
        }
    }
    issue.warnings = w;
    Ok(issue)
}

fn read_severity(t: &Tree, issue: &mut Issue, w: &mut Vec<String>) {
    let r = Tree::ROOT;
    issue.severity = t.child_value(r, "severity");
    issue.severity_id = t.child_value(r, "severity-id");
    let by_id = issue.severity_id.as_deref().map(|s| {
        let level = s.parse::<i64>().ok().and_then(Severity::from_id);
        if level.is_none() {
            w.push(format!(
                "severity-id: \"{s}\" is not on AppScan's 0-4 scale, ignored"
            ));
        }
        level
    });
    let by_name = issue.severity.as_deref().map(|s| {
        let level = Severity::from_name(s);
        if level.is_none() {
            w.push(format!("severity: unknown severity \"{s}\", kept verbatim"));
        }
        level
    });
    let (by_id, by_name) = (by_id.flatten(), by_name.flatten());
    if let (Some(a), Some(b)) = (by_id, by_name)
        && a != b
    {
        w.push(format!(
            "severity: \"{}\" and severity-id {} disagree; using severity-id",
            issue.severity.as_deref().unwrap_or_default(),
            a.id()
        ));
    }
    issue.severity_level = by_id.or(by_name);
    if issue.severity.is_none() {
        match issue.severity_level {
            Some(l) => w.push(format!("severity: missing, {l} taken from severity-id")),
            None => w.push("severity: missing".into()),
        }
    }
}

fn read_location(
    t: &Tree,
    cx: &Context<'_>,
    issue: &mut Issue,
    w: &mut Vec<String>,
) -> Result<(), XmlError> {
    let r = Tree::ROOT;
    let tables = cx.tables;
    issue.entity_id = first(t.refs(r, "entity"));
    let entity = match &issue.entity_id {
        Some(id) => tables.entity(id)?,
        None => None,
    };
    let entity = entity.as_ref();
    issue.entity_name = entity.and_then(|e| e.name.clone());
    let url_id = first(t.refs(r, "url"));
    issue.http_method = t
        .child(r, "url")
        .and_then(|u| t.attr_value(u, "original_request_method"));
    issue.location = match (t.child_value(r, "location"), &url_id) {
        (Some(l), _) => Some(l),
        (None, Some(id)) => tables.url(id)?,
        (None, None) => None,
    }
    .or_else(|| entity.and_then(|e| e.url_name.clone()));
    if issue.location.is_none() {
        w.push(match &url_id {
            Some(id) => {
                format!("location: url \"{id}\" is not in url-group and the item has no location")
            }
            None => "location: missing (no location, no url reference)".into(),
        });
    }
    let parts = issue.location.as_deref().and_then(UrlParts::parse);
    issue.scheme = t
        .child_value(r, "scheme")
        .or_else(|| parts.as_ref().map(|p| p.scheme.clone()));
    issue.host = t
        .child_value(r, "host")
        .or_else(|| parts.as_ref().map(|p| p.host.clone()));
    issue.port = match t.child_value(r, "port") {
        Some(p) => {
            let port = p.parse().ok();
            if port.is_none() {
                w.push(format!("port: \"{p}\" is not a port number"));
            }
            port.or_else(|| parts.as_ref().and_then(|p| p.port))
        }
        None => parts.as_ref().and_then(|p| p.port),
    };
    issue.path = t
        .child_value(r, "path")
        .or_else(|| parts.as_ref().map(|p| p.path.clone()));
    issue.domain = t.child_value(r, "domain").or_else(|| issue.host.clone());
    issue.element = t
        .child_value(r, "element")
        .or_else(|| issue.entity_name.clone());
    // An AppScan Standard item names its element only through entity-group (an ASoC
    // item, self-contained, writes `element` when it has one and refers to no table).
    if issue.element.is_none()
        && entity.is_none()
        && cx.meta.family == Family::Standard
        && let Some(id) = &issue.entity_id
    {
        w.push(format!(
            "element: entity \"{id}\" is not in entity-group and the item has no element"
        ));
    }
    issue.element_type = t
        .child_value(r, "element-type")
        .or_else(|| entity.and_then(|e| e.entity_type.clone()));
    Ok(())
}

fn read_variants(t: &Tree, cx: &Context<'_>, issue: &mut Issue, w: &mut Vec<String>) {
    let r = Tree::ROOT;
    let Some(group) = t.child(r, "variant-group") else {
        issue.variant_count = 0;
        return;
    };
    let items: Vec<NodeId> = t.children(group, "item").collect();
    let declared = t
        .child_value(r, "variants-count")
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    issue.variant_count = items.len().max(declared);
    let max = cx.opts.max_field_bytes;
    let mut cut = false;
    let mut text = |node: Option<NodeId>| -> Option<String> {
        let mut s = plain_text(t, node?);
        cut |= bound(&mut s, max);
        non_empty(s)
    };
    for &v in items.iter().take(cx.opts.max_variants) {
        let info = t
            .child(v, "issue-information")
            .filter(|&i| t.has_child(i, "method-signature") || t.has_child(i, "call-trace"));
        issue.variants.push(Variant {
            id: t.attr_value(v, "id"),
            comments: text(t.child(v, "comments")),
            reasoning: text(t.child(v, "reasoning")),
            test_difference: differences(t, v).or_else(|| text(t.child(v, "differences"))),
            additional_data: text(t.child(v, "additional-data")),
            cwe: t.child_value(v, "cwe"),
            issue_information: text(info),
        });
    }
    if cut {
        w.push(format!("variants: a text was cut at {max} bytes"));
    }
}

/// `differences/item` attributes as lines: `parameter x: "a" -> "b" (changed)`.
fn differences(t: &Tree, variant: NodeId) -> Option<String> {
    let d = t.child(variant, "differences")?;
    let lines: Vec<String> = t
        .children(d, "item")
        .map(|i| {
            let a = |k: &str| t.attr(i, k).unwrap_or_default().to_string();
            let mut line = String::new();
            let element = a("difference-element");
            if !element.is_empty() {
                line.push_str(&element);
                line.push(' ');
            }
            line.push_str(&a("name"));
            line.push_str(&format!(": \"{}\" -> \"{}\"", a("original"), a("altered")));
            let kind = a("difference-type");
            if !kind.is_empty() {
                line.push_str(&format!(" ({kind})"));
            }
            line
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Texts of the referenced table entries, joined; else the fallback; a warning when
/// references were given and none resolved and there is no fallback.
fn resolve_texts(
    field: &str,
    refs: Vec<String>,
    table: &std::collections::HashMap<String, TextEntry>,
    table_name: &str,
    fallback: Option<String>,
    w: &mut Vec<String>,
) -> Option<String> {
    let found: Vec<&str> = refs
        .iter()
        .filter_map(|id| table.get(id))
        .map(|e| e.text.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    if !found.is_empty() {
        return Some(found.join("\n"));
    }
    if fallback.is_some() {
        return fallback;
    }
    if refs.is_empty() {
        return None;
    }
    // A report without the section at all (ASoC SAST exports have no cause- or
    // security-risk-group) says so in the same words on every issue, so that the run
    // lists it once with a count.
    w.push(if table.is_empty() {
        format!("{field}: not known (the report has no {table_name})")
    } else {
        let ids: Vec<String> = refs.iter().map(|r| format!("\"{r}\"")).collect();
        format!("{field}: {} not in {table_name}", ids.join(", "))
    });
    None
}

fn date(t: &Tree, name: &str, w: &mut Vec<String>) -> Option<DateValue> {
    let raw = t.child_value(Tree::ROOT, name)?;
    let d = DateValue::parse(&raw);
    if d.utc.is_none() {
        w.push(format!(
            "{name}: \"{raw}\" is not a known date form, kept verbatim"
        ));
    }
    Some(d)
}

/// The API's `CvssVersion` from a vector, else from the report's CVSS version. A v3
/// vector without a `CVSS:3.x/` prefix (ASoC writes them so) is taken as 3.1 — AppScan's
/// current scoring; 3.0 and 3.1 share the base metrics — unless the report says 3.0.
pub(crate) fn cvss_version(vector: Option<&str>, report: Option<&str>) -> Option<String> {
    let report = report.map(str::trim).filter(|s| !s.is_empty());
    let from_report = report.and_then(|v| {
        let v = v.trim_start_matches(['v', 'V']);
        Some(
            match v {
                _ if v.starts_with("3.1") => "Cvss31",
                _ if v.starts_with("3.0") || v == "3" => "Cvss30",
                _ if v.starts_with('2') => "Cvss20",
                _ if v.starts_with('4') => "Cvss40",
                _ => return None,
            }
            .to_string(),
        )
    });
    let Some(v) = vector.map(str::trim).filter(|s| !s.is_empty()) else {
        return from_report;
    };
    let version = if v.starts_with("CVSS:3.1") {
        "Cvss31"
    } else if v.starts_with("CVSS:3.0") {
        "Cvss30"
    } else if v.starts_with("CVSS:4") {
        "Cvss40"
    } else if v.contains("Au:") {
        "Cvss20"
    } else if v.contains("PR:") && v.contains("UI:") {
        return Some(
            from_report
                .filter(|r| r == "Cvss30")
                .unwrap_or_else(|| "Cvss31".into()),
        );
    } else {
        return from_report;
    };
    Some(version.to_string())
}

/// `79`, `CWE-79`, `cwe79` → 79.
fn parse_cwe(raw: &str) -> Option<u32> {
    let s = raw.trim();
    let s = s
        .strip_prefix("CWE-")
        .or_else(|| s.strip_prefix("cwe-"))
        .or_else(|| s.strip_prefix("CWE"))
        .or_else(|| s.strip_prefix("cwe"))
        .unwrap_or(s);
    s.trim().parse().ok()
}

/// Parts of an absolute URL, enough for scheme/host/port/path.
struct UrlParts {
    scheme: String,
    host: String,
    port: Option<u16>,
    path: String,
}

impl UrlParts {
    fn parse(url: &str) -> Option<UrlParts> {
        let (scheme, rest) = url.trim().split_once("://")?;
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
            // [v6]:port
            let (h, after) = stripped.split_once(']')?;
            (
                h.to_string(),
                after.strip_prefix(':').and_then(|p| p.parse().ok()),
            )
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
                    (h.to_string(), p.parse().ok())
                }
                _ => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return None;
        }
        let scheme = scheme.to_ascii_lowercase();
        let port = port.or(match scheme.as_str() {
            "http" | "ws" => Some(80),
            "https" | "wss" => Some(443),
            _ => None,
        });
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        let path = if tail[..path_end].is_empty() {
            "/".to_string()
        } else {
            tail[..path_end].to_string()
        };
        Some(UrlParts {
            scheme,
            host,
            port,
            path,
        })
    }
}

fn first(v: Vec<String>) -> Option<String> {
    v.into_iter().next()
}

fn refs_or(own: Vec<String>, from_type: Vec<String>) -> Vec<String> {
    if own.is_empty() { from_type } else { own }
}

fn non_empty(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

fn lookup<'a, T>(
    table: &'a std::collections::HashMap<String, T>,
    keys: &[&Option<String>],
) -> Option<&'a T> {
    keys.iter()
        .filter_map(|k| k.as_ref())
        .find_map(|k| table.get(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_versions() {
        let v3 = "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N";
        assert_eq!(cvss_version(Some(v3), None).as_deref(), Some("Cvss31"));
        assert_eq!(
            cvss_version(Some(v3), Some("3.0")).as_deref(),
            Some("Cvss30")
        );
        assert_eq!(
            cvss_version(Some("CVSS:3.0/AV:N"), None).as_deref(),
            Some("Cvss30")
        );
        assert_eq!(
            cvss_version(Some("AV:N/AC:L/Au:N/C:P/I:P/A:P"), None).as_deref(),
            Some("Cvss20")
        );
        assert_eq!(cvss_version(None, Some("2.0")).as_deref(), Some("Cvss20"));
        assert_eq!(cvss_version(Some("CENSURED"), None), None);
    }

    #[test]
    fn cwe_forms() {
        assert_eq!(parse_cwe("79"), Some(79));
        assert_eq!(parse_cwe("CWE-79"), Some(79));
        assert_eq!(parse_cwe("n/a"), None);
    }

    #[test]
    fn url_parts() {
        let p = UrlParts::parse(
            "http://mani-virtual-machine:9000/dvja-1.0-SNAPSHOT/register.action?x=1",
        )
        .unwrap();
        assert_eq!(
            (p.scheme.as_str(), p.host.as_str(), p.port, p.path.as_str()),
            (
                "http",
                "mani-virtual-machine",
                Some(9000),
                "/dvja-1.0-SNAPSHOT/register.action"
            )
        );
        let p = UrlParts::parse("https://demo.testfire.net").unwrap();
        assert_eq!((p.port, p.path.as_str()), (Some(443), "/"));
        let p = UrlParts::parse("https://[::1]:8443/a").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", Some(8443)));
        assert!(UrlParts::parse("sample-web\\Dockerfile:1").is_none());
    }
}
