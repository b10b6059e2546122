//! Request counters in atomics, readable at any time ([`crate::AseClient::stats`]).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Live counters of one client (shared by its clones).
#[derive(Default)]
pub(crate) struct Stats {
    by_status: Mutex<BTreeMap<u16, u64>>,
    transport_errors: AtomicU64,
    retries: AtomicU64,
    rate_limit_waits: AtomicU64,
    logins: AtomicU64,
    relogins_after_401: AtomicU64,
    logouts: AtomicU64,
    pages: AtomicU64,
    items: AtomicU64,
    detail_requests: AtomicU64,
}

impl Stats {
    pub(crate) fn status(&self, status: u16) {
        let mut m = self.by_status.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(status).or_default() += 1;
    }
    pub(crate) fn transport_error(&self) {
        self.transport_errors.fetch_add(1, Relaxed);
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }
    pub(crate) fn rate_limit_wait(&self) {
        self.rate_limit_waits.fetch_add(1, Relaxed);
    }
    pub(crate) fn login(&self, after_401: bool) {
        self.logins.fetch_add(1, Relaxed);
        if after_401 {
            self.relogins_after_401.fetch_add(1, Relaxed);
        }
    }
    pub(crate) fn logout(&self) {
        self.logouts.fetch_add(1, Relaxed);
    }
    pub(crate) fn page(&self, items: usize) {
        self.pages.fetch_add(1, Relaxed);
        self.items.fetch_add(items as u64, Relaxed);
    }
    pub(crate) fn details(&self) {
        self.detail_requests.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ClientStats {
        let by_status = self
            .by_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        ClientStats {
            requests: by_status.values().sum(),
            requests_by_status: by_status,
            transport_errors: self.transport_errors.load(Relaxed),
            retries: self.retries.load(Relaxed),
            rate_limit_waits: self.rate_limit_waits.load(Relaxed),
            logins: self.logins.load(Relaxed),
            relogins_after_401: self.relogins_after_401.load(Relaxed),
            logouts: self.logouts.load(Relaxed),
            pages: self.pages.load(Relaxed),
            items: self.items.load(Relaxed),
            detail_requests: self.detail_requests.load(Relaxed),
        }
    }
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClientStats {
    /// Requests that got an HTTP answer (retries included).
    pub requests: u64,
    /// Answers per HTTP status.
    pub requests_by_status: BTreeMap<u16, u64>,
    /// Attempts without an HTTP answer.
    pub transport_errors: u64,
    /// Attempts repeated after a retryable failure.
    pub retries: u64,
    /// Requests that waited for the client-side pace.
    pub rate_limit_waits: u64,
    /// Successful key logins.
    pub logins: u64,
    /// Of which made because a call was answered `401`.
    pub relogins_after_401: u64,
    /// Logouts sent.
    pub logouts: u64,
    /// List pages read.
    pub pages: u64,
    /// Items in those pages.
    pub items: u64,
    /// Issue detail requests.
    pub detail_requests: u64,
}

impl ClientStats {
    /// Answers with this status.
    pub fn status_count(&self, status: u16) -> u64 {
        self.requests_by_status.get(&status).copied().unwrap_or(0)
    }
}
