//! What the ASE simulator counts, so tests see how a client behaved: requests by
//! endpoint and status, logins, logouts, refusals for a missing cookie or XSRF header,
//! pages and records served.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fault::AseEndpoint;

/// Counts since start (or the last reset); `/sim/…` requests are not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AseSimStats {
    /// Requests by endpoint kind and status.
    pub requests: BTreeMap<AseEndpoint, BTreeMap<u16, u64>>,
    /// Successful key logins.
    pub logins: u64,
    /// Logouts of a live session.
    pub logouts: u64,
    /// Requests refused for a missing or unknown session cookie (401).
    pub refused_no_session: u64,
    /// Requests refused for a missing or wrong `asc_xsrf_token` header (403).
    pub refused_no_xsrf: u64,
    /// List pages served (applications and issues).
    pub pages: u64,
    /// Issues served in lists.
    pub issues_served: u64,
    /// Issue details served (`details_v2` items and single issues).
    pub details_served: u64,
    /// `Range` headers seen on list requests.
    pub ranged_requests: u64,
}

impl AseSimStats {
    /// Requests of `endpoint` answered `status`.
    pub fn count(&self, endpoint: AseEndpoint, status: u16) -> u64 {
        self.requests
            .get(&endpoint)
            .and_then(|m| m.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// All requests of `endpoint` (`Any`: all).
    pub fn total(&self, endpoint: AseEndpoint) -> u64 {
        self.requests
            .iter()
            .filter(|(e, _)| endpoint.covers(**e))
            .flat_map(|(_, m)| m.values())
            .sum()
    }

    pub(crate) fn record(&mut self, endpoint: AseEndpoint, status: u16) {
        *self
            .requests
            .entry(endpoint)
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
}
