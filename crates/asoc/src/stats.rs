//! Request counters, kept in atomics so the request path pays one relaxed
//! add per event and [`crate::AsocClient::stats`] can be called at any time
//! (progress display, metrics, run summary) without locking.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

/// Lowest HTTP status counted by status (100 Continue).
const STATUS_MIN: u16 = 100;
/// Statuses counted one by one: 100..=599. Anything outside is counted as 0.
const STATUS_SLOTS: usize = 500;

/// Live counters of one [`crate::AsocClient`] (shared by its clones).
pub(crate) struct Stats {
    by_status: Box<[AtomicU64]>,
    other_status: AtomicU64,
    transport_errors: AtomicU64,
    timeouts: AtomicU64,
    retries: AtomicU64,
    rate_limit_waits: AtomicU64,
    rate_limit_wait_micros: AtomicU64,
    logins: AtomicU64,
    token_refreshes: AtomicU64,
    relogins_after_401: AtomicU64,
    pages: AtomicU64,
    items: AtomicU64,
    bad_pages: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            by_status: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            other_status: AtomicU64::new(0),
            transport_errors: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            rate_limit_waits: AtomicU64::new(0),
            rate_limit_wait_micros: AtomicU64::new(0),
            logins: AtomicU64::new(0),
            token_refreshes: AtomicU64::new(0),
            relogins_after_401: AtomicU64::new(0),
            pages: AtomicU64::new(0),
            items: AtomicU64::new(0),
            bad_pages: AtomicU64::new(0),
        }
    }
}

impl Stats {
    pub(crate) fn status(&self, status: u16) {
        match status.checked_sub(STATUS_MIN).map(usize::from) {
            Some(i) if i < STATUS_SLOTS => self.by_status[i].fetch_add(1, Relaxed),
            _ => self.other_status.fetch_add(1, Relaxed),
        };
    }
    pub(crate) fn transport_error(&self, timeout: bool) {
        self.transport_errors.fetch_add(1, Relaxed);
        if timeout {
            self.timeouts.fetch_add(1, Relaxed);
        }
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }
    pub(crate) fn rate_limit_wait(&self, waited: Duration) {
        self.rate_limit_waits.fetch_add(1, Relaxed);
        let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.rate_limit_wait_micros.fetch_add(micros, Relaxed);
    }
    pub(crate) fn login(&self) {
        self.logins.fetch_add(1, Relaxed);
    }
    pub(crate) fn token_refresh(&self) {
        self.token_refreshes.fetch_add(1, Relaxed);
    }
    pub(crate) fn relogin_after_401(&self) {
        self.relogins_after_401.fetch_add(1, Relaxed);
    }
    pub(crate) fn page(&self, items: usize) {
        self.pages.fetch_add(1, Relaxed);
        self.items.fetch_add(items as u64, Relaxed);
    }
    pub(crate) fn bad_page(&self) {
        self.bad_pages.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ClientStats {
        let mut by_status = BTreeMap::new();
        let mut requests = 0;
        for (i, c) in self.by_status.iter().enumerate() {
            let n = c.load(Relaxed);
            if n > 0 {
                // i < STATUS_SLOTS (500), so this fits in u16.
                by_status.insert(STATUS_MIN + i as u16, n);
                requests += n;
            }
        }
        let other = self.other_status.load(Relaxed);
        if other > 0 {
            by_status.insert(0, other);
            requests += other;
        }
        ClientStats {
            requests,
            requests_by_status: by_status,
            transport_errors: self.transport_errors.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            retries: self.retries.load(Relaxed),
            rate_limit_waits: self.rate_limit_waits.load(Relaxed),
            rate_limit_wait_ms: self.rate_limit_wait_micros.load(Relaxed) / 1000,
            logins: self.logins.load(Relaxed),
            token_refreshes: self.token_refreshes.load(Relaxed),
            relogins_after_401: self.relogins_after_401.load(Relaxed),
            pages: self.pages.load(Relaxed),
            items: self.items.load(Relaxed),
            bad_pages: self.bad_pages.load(Relaxed),
        }
    }
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClientStats {
    /// Requests that got an HTTP answer (all statuses, retries included).
    pub requests: u64,
    /// Answers per HTTP status (`0` collects statuses outside 100..=599).
    pub requests_by_status: BTreeMap<u16, u64>,
    /// Attempts that got no HTTP answer (connect, reset, TLS, timeout).
    pub transport_errors: u64,
    /// Of those, timeouts.
    pub timeouts: u64,
    /// Attempts repeated after a retryable failure (429, 5xx, transport).
    pub retries: u64,
    /// Requests that had to wait for the client-side rate limiter.
    pub rate_limit_waits: u64,
    /// Total time spent in those waits, in milliseconds.
    pub rate_limit_wait_ms: u64,
    /// Successful logins (the first one, refreshes and re-logins).
    pub logins: u64,
    /// Logins made because the token was about to expire.
    pub token_refreshes: u64,
    /// Logins made because a call was answered `401`.
    pub relogins_after_401: u64,
    /// List pages read successfully.
    pub pages: u64,
    /// Items in those pages.
    pub items: u64,
    /// Pages rejected as unreadable (yielded as `BadPage` errors).
    pub bad_pages: u64,
}

impl ClientStats {
    /// Answers with this status.
    pub fn status_count(&self, status: u16) -> u64 {
        self.requests_by_status.get(&status).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_serializes() {
        let s = Stats::default();
        s.status(200);
        s.status(200);
        s.status(429);
        s.status(599);
        s.status(42);
        s.retry();
        s.rate_limit_wait(Duration::from_millis(1500));
        s.login();
        s.token_refresh();
        s.page(50);
        s.page(3);
        s.transport_error(true);
        let c = s.snapshot();
        assert_eq!(c.requests, 5);
        assert_eq!(c.status_count(200), 2);
        assert_eq!(c.status_count(429), 1);
        assert_eq!(c.status_count(599), 1);
        assert_eq!(c.status_count(0), 1);
        assert_eq!(c.status_count(404), 0);
        assert_eq!(
            (c.retries, c.rate_limit_waits, c.rate_limit_wait_ms),
            (1, 1, 1500)
        );
        assert_eq!((c.logins, c.token_refreshes), (1, 1));
        assert_eq!((c.pages, c.items, c.timeouts), (2, 53, 1));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["requests_by_status"]["200"], 2);
        assert_eq!(json["retries"], 1);
    }
}
