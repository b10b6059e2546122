//! Dry runs: how the findings a run is about to write compare with what the connector
//! has stored, read without writing anything (`import --dry-run`).
//!
//! The rule is the writers' own: a stored finding that is active and whose content hash
//! equals the record's is only touched; any other stored finding is rewritten; a record
//! with no stored finding is inserted. A full run closes the stored findings of its
//! applications that are not CLOSED and that it did not see.

use crate::FindingRecord;
use serde::Serialize;

/// What the store holds of the finding a record would be written to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredState {
    pub id: i64,
    pub asset_external_id: String,
    /// The record is what is stored: the run would only touch the finding.
    pub same: bool,
    /// Not CLOSED: a full run of its application that did not see it would close it.
    pub open: bool,
}

/// The writers' rule: a stored row that is active and holds the same content hash is
/// only touched; any other is rewritten.
pub(crate) fn unchanged(active: bool, stored_hash: &str, hash: &str) -> bool {
    active && stored_hash == hash
}

/// The stored finding's columns as the writers compare them.
pub(crate) struct StoredRow<'a> {
    pub id: i64,
    pub asset_external_id: String,
    pub content_hash: &'a str,
    pub active: bool,
    pub status: &'a str,
}

impl StoredRow<'_> {
    /// How `record` compares with this stored finding.
    pub fn state(self, record: &FindingRecord) -> StoredState {
        StoredState {
            id: self.id,
            asset_external_id: self.asset_external_id,
            same: unchanged(self.active, self.content_hash, &record.encoded().hash),
            open: self.status != model::Status::Closed.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Finding, Severity, Status};

    fn record(status: Status) -> FindingRecord {
        let finding = Finding {
            external_id: "f1".into(),
            asset_external_id: "a1".into(),
            name: "XSS".into(),
            severity: Severity::High,
            source_severity: "High".into(),
            status,
            source_status: None,
            cve: None,
            cvss: None,
            cwe: None,
            first_found: None,
            last_found: None,
            last_updated: None,
            port: None,
            protocol: None,
            issue_type: None,
            location: None,
            element: None,
            detection: None,
            description: None,
            solution: None,
            tags: Vec::new(),
        };
        FindingRecord::new(finding, serde_json::json!({"Id": "f1"}), "fp".into())
    }

    #[test]
    fn same_only_when_active_and_of_the_same_content() {
        let rec = record(Status::Active);
        let hash = rec.encoded().hash.clone();
        fn row<'a>(hash: &'a str, active: bool, status: &'a str) -> StoredRow<'a> {
            StoredRow {
                id: 7,
                asset_external_id: "a1".into(),
                content_hash: hash,
                active,
                status,
            }
        }
        let s = row(&hash, true, "ACTIVE").state(&rec);
        assert!(s.same && s.open);
        assert!(!row(&hash, false, "ACTIVE").state(&rec).same);
        assert!(!row("other", true, "ACTIVE").state(&rec).same);
        let closed = row("", true, "CLOSED").state(&rec);
        assert!(!closed.same && !closed.open);
    }
}
