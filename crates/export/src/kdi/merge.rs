//! `--kdi-vulns`: the issues of one application that share a weakness type (one KDI
//! identifier) become one vuln, since the platform keeps one vuln per asset and
//! identifier — written one per issue, the last one of a type decided its status (an
//! open weakness could end up closed or a false positive).
//!
//! A merged vuln is open when any of its issues is, else closed when any is, else a false
//! positive; it has the highest score, the earliest `created_at`, the latest
//! `last_seen_at` (and `closed_at`), the first port, and details listing its issues (the
//! first [`MAX_LISTED`], then how many more).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The issues one merged vuln's details list one by one.
pub const MAX_LISTED: usize = 100;

struct Merged {
    vuln: Map<String, Value>,
    def: Vec<u8>,
    issues: usize,
    details: Vec<String>,
}

/// The vulns of the application being written, by identifier.
#[derive(Default)]
pub struct Vulns {
    by_identifier: BTreeMap<String, Merged>,
}

/// How a status ranks when issues of one type disagree: open wins, then closed.
fn rank(status: Option<&Value>) -> u8 {
    match status.and_then(Value::as_str) {
        Some("open") => 3,
        Some("closed") => 2,
        _ => 1,
    }
}

fn text(v: &Map<String, Value>, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

impl Vulns {
    /// Adds one issue's vuln (with its vuln_def's text, kept from the first issue).
    pub fn add(&mut self, identifier: String, vuln: Value, def: Vec<u8>) {
        let Value::Object(vuln) = vuln else {
            return;
        };
        let details = text(&vuln, "details");
        match self.by_identifier.get_mut(&identifier) {
            None => {
                self.by_identifier.insert(
                    identifier,
                    Merged {
                        vuln,
                        def,
                        issues: 1,
                        details: details.into_iter().collect(),
                    },
                );
            }
            Some(m) => {
                m.issues += 1;
                if let Some(d) = details
                    && m.details.len() < MAX_LISTED
                {
                    m.details.push(d);
                }
                merge(&mut m.vuln, &vuln);
            }
        }
    }

    /// The merged vulns, each with its identifier and vuln_def; empties the set.
    pub fn drain(&mut self) -> Vec<(String, Value, Vec<u8>)> {
        std::mem::take(&mut self.by_identifier)
            .into_iter()
            .map(|(identifier, mut m)| {
                let mut details = m.details.join("\n\n");
                let more = m.issues.saturating_sub(m.details.len());
                if more > 0 {
                    details.push_str(&format!("\n\n… and {more} more issues of this type"));
                }
                if !details.is_empty() {
                    m.vuln.insert("details".into(), Value::String(details));
                }
                (identifier, Value::Object(m.vuln), m.def)
            })
            .collect()
    }
}

/// Folds one more issue's vuln into `into`.
fn merge(into: &mut Map<String, Value>, other: &Map<String, Value>) {
    let (was, now) = (rank(into.get("status")), rank(other.get("status")));
    if now > was {
        into.insert("status".into(), other["status"].clone());
    }
    let status_rank = was.max(now);
    let score = |v: &Map<String, Value>| v.get("scanner_score").and_then(Value::as_u64);
    if score(other) > score(into)
        && let Some(s) = other.get("scanner_score")
    {
        into.insert("scanner_score".into(), s.clone());
    }
    let mut keep = |key: &str, later: bool| {
        if let Some(theirs) = text(other, key) {
            let replace = match text(into, key) {
                None => true,
                Some(ours) => (theirs > ours) == later && theirs != ours,
            };
            if replace {
                into.insert(key.into(), Value::String(theirs));
            }
        }
    };
    keep("created_at", false);
    keep("last_seen_at", true);
    if status_rank == 2 {
        keep("closed_at", true);
    } else {
        into.remove("closed_at");
    }
    if !into.contains_key("port")
        && let Some(p) = other.get("port")
    {
        into.insert("port".into(), p.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issues_of_one_type_are_one_vuln_open_if_any_is() {
        let mut v = Vulns::default();
        let issue = |status: &str, score: u64, created: &str, seen: &str, id: &str| {
            let mut m = json!({"status": status, "scanner_score": score,
                "created_at": created, "last_seen_at": seen, "details": format!("Issue: {id}")});
            if status == "closed" {
                m["closed_at"] = json!(seen);
            }
            m
        };
        v.add(
            "xss".into(),
            issue(
                "false_positive",
                3,
                "2026-01-05T00:00:00Z",
                "2026-02-01T00:00:00Z",
                "a",
            ),
            b"def".to_vec(),
        );
        v.add(
            "xss".into(),
            issue(
                "closed",
                9,
                "2026-01-01T00:00:00Z",
                "2026-03-01T00:00:00Z",
                "b",
            ),
            b"x".to_vec(),
        );
        v.add(
            "xss".into(),
            issue(
                "open",
                6,
                "2026-01-09T00:00:00Z",
                "2026-02-15T00:00:00Z",
                "c",
            ),
            b"x".to_vec(),
        );
        v.add(
            "sqli".into(),
            issue(
                "closed",
                9,
                "2026-01-01T00:00:00Z",
                "2026-03-01T00:00:00Z",
                "d",
            ),
            b"s".to_vec(),
        );
        let out = v.drain();
        assert_eq!(out.len(), 2);
        let (_, sqli, _) = &out[0];
        assert_eq!(sqli["status"], "closed");
        assert_eq!(sqli["closed_at"], "2026-03-01T00:00:00Z");
        let (id, xss, def) = &out[1];
        assert_eq!(id, "xss");
        assert_eq!(def, b"def");
        assert_eq!(xss["status"], "open");
        assert!(xss.get("closed_at").is_none(), "{xss}");
        assert_eq!(xss["scanner_score"], 9);
        assert_eq!(xss["created_at"], "2026-01-01T00:00:00Z");
        assert_eq!(xss["last_seen_at"], "2026-03-01T00:00:00Z");
        assert_eq!(xss["details"], "Issue: a\n\nIssue: b\n\nIssue: c");
        assert!(v.drain().is_empty());
    }
}
