//! Request statistics the simulator keeps, so tests and benchmarks can check
//! how a client behaved (how many pages, retries, logins…).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fault::Endpoint;

/// Counts since start (or the last reset). Admin (`/sim/…`) requests are not
/// counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    /// Requests by endpoint kind (login, apps, issues, other) and status.
    pub requests: BTreeMap<Endpoint, BTreeMap<u16, u64>>,
    /// Items served in list pages and single-item responses.
    pub records_served: u64,
    /// Of which apps.
    pub apps_served: u64,
    /// Of which issues.
    pub issues_served: u64,
    /// Successful logins (tokens issued).
    pub logins: u64,
}

impl SimStats {
    /// Requests of `endpoint` answered with `status`.
    pub fn count(&self, endpoint: Endpoint, status: u16) -> u64 {
        self.requests
            .get(&endpoint)
            .and_then(|m| m.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// All requests of `endpoint` (`Any` = all requests).
    pub fn total(&self, endpoint: Endpoint) -> u64 {
        self.requests
            .iter()
            .filter(|(e, _)| endpoint.covers(**e))
            .flat_map(|(_, m)| m.values())
            .sum()
    }

    /// Requests of `endpoint` answered with `status` over all kinds.
    pub fn with_status(&self, status: u16) -> u64 {
        self.requests.values().filter_map(|m| m.get(&status)).sum()
    }

    pub(crate) fn record(&mut self, endpoint: Endpoint, status: u16) {
        *self
            .requests
            .entry(endpoint)
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_round_trips() {
        let mut s = SimStats::default();
        s.record(Endpoint::Issues, 200);
        s.record(Endpoint::Issues, 200);
        s.record(Endpoint::Issues, 429);
        s.record(Endpoint::Login, 200);
        assert_eq!(s.count(Endpoint::Issues, 200), 2);
        assert_eq!(s.total(Endpoint::Issues), 3);
        assert_eq!(s.total(Endpoint::Any), 4);
        assert_eq!(s.with_status(200), 3);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""issues":{"200":2,"429":1}"#), "{json}");
        assert_eq!(serde_json::from_str::<SimStats>(&json).unwrap(), s);
    }
}
