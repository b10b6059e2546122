//! The cross-source identity of a weakness.
//!
//! ASoC, ASE and an XML report can all see the same cross-site scripting on the same
//! parameter of the same page; their issue ids differ, so findings are linked by a
//! fingerprint of what the weakness *is* and *where*: the locator (scheme-less host and
//! port of the URL, else the asset), the issue type, the URL path, the element, and the
//! CWE. Query strings, fragments, case of the host and default ports do not matter.
//!
//! The issue type is taken by its display name (case and runs of whitespace ignored),
//! falling back to the type id only when a record has no name: the name is the one key
//! all three sources carry (ASE's issue lists have no type id), and AppScan uses the
//! same names in ASoC, ASE and its XML reports.

use crate::Finding;
use sha2::{Digest, Sha256};

/// Returns a stable hex fingerprint (first 16 bytes of a SHA-256) for a finding.
///
/// `asset_locator` is used when the finding has no parseable URL (e.g. SAST findings):
/// pass the asset's URL or name.
pub fn fingerprint(finding: &Finding, asset_locator: &str) -> String {
    let (locator, path) = match finding
        .location
        .as_deref()
        .and_then(|l| url::Url::parse(l.split_whitespace().next().unwrap_or(l)).ok())
    {
        Some(u) if u.host_str().is_some() => {
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            let locator = match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            };
            (locator, u.path().to_string())
        }
        _ => (
            asset_locator.trim().to_ascii_lowercase(),
            finding.location.clone().unwrap_or_default(),
        ),
    };
    let name = finding
        .name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let issue_type = if name.is_empty() {
        finding.issue_type.clone().unwrap_or_default()
    } else {
        name
    };
    let element = finding.element.as_deref().unwrap_or_default();
    let cwe = finding.cwe.map(|c| c.to_string()).unwrap_or_default();
    let mut h = Sha256::new();
    for part in [
        locator.as_str(),
        issue_type.as_str(),
        path.as_str(),
        element,
        &cwe,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Severity, Status};

    fn finding(location: &str) -> Finding {
        Finding {
            external_id: "1".into(),
            asset_external_id: "a".into(),
            name: "Cross-Site Scripting".into(),
            severity: Severity::High,
            source_severity: "High".into(),
            status: Status::New,
            source_status: None,
            cve: None,
            cvss: None,
            cwe: Some(79),
            first_found: None,
            last_found: None,
            last_updated: None,
            port: None,
            protocol: None,
            issue_type: Some("attCrossSiteScripting".into()),
            location: Some(location.into()),
            element: Some("q".into()),
            detection: None,
            description: None,
            solution: None,
            tags: vec![],
        }
    }

    #[test]
    fn same_weakness_same_fingerprint() {
        let a = fingerprint(&finding("https://Shop.example.com/search?q=1"), "x");
        let b = fingerprint(&finding("https://shop.example.com:443/search"), "y");
        assert_eq!(a, b);
        let c = fingerprint(&finding("https://shop.example.com/other"), "x");
        assert_ne!(a, c);
        let mut d = finding("https://shop.example.com/search");
        d.element = Some("name".into());
        assert_ne!(a, fingerprint(&d, "x"));
    }

    #[test]
    fn issue_type_by_name_whatever_the_id() {
        // ASE lists issue types by name only; ASoC and XML reports carry the id too.
        let a = finding("https://shop.example.com/search");
        let mut b = a.clone();
        b.issue_type = None;
        b.name = "cross-site  scripting".into();
        assert_eq!(fingerprint(&a, "x"), fingerprint(&b, "x"));
        let mut c = a.clone();
        c.name = "SQL Injection".into();
        assert_ne!(fingerprint(&a, "x"), fingerprint(&c, "x"));
    }
}
