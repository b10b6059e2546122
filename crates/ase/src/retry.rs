//! What is retried, and how long to wait before the next try.
//!
//! One function decides whether a failed attempt is worth another: [`is_retryable`]
//! (over [`is_retryable_status`] and [`is_retryable_transport`]). The wait is
//! exponential with jitter from `backon` ([`backoff`]), replaced by the server's
//! `Retry-After` when it sent one ([`parse_retry_after`]).

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use backon::ExponentialBuilder;

use crate::config::MAX_RETRY_DELAY;

/// Longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// One failed attempt of a request, as the retry loop sees it.
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// A status [`is_retryable_status`] accepts.
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: bytes::Bytes,
    },
    /// Sending or reading failed.
    Transport(reqwest::Error),
}

impl AttemptError {
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            AttemptError::Status { retry_after, .. } => *retry_after,
            AttemptError::Transport(_) => None,
        }
    }
}

/// The one place that says whether an attempt is tried again.
pub(crate) fn is_retryable(err: &AttemptError) -> bool {
    match err {
        AttemptError::Status { status, .. } => is_retryable_status(*status),
        AttemptError::Transport(e) => is_retryable_transport(e),
    }
}

/// `429`, `500`, `502`, `503` and `504` are retried; everything else is final (`401`
/// has its own re-login path).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Timeouts, refused or reset connections and broken bodies are retried; TLS failures,
/// bad URLs, redirects and decoding errors are not.
pub fn is_retryable_transport(err: &reqwest::Error) -> bool {
    if err.is_builder() || err.is_redirect() || err.is_decode() || err.is_status() {
        return false;
    }
    if is_tls_error(err) {
        return false;
    }
    err.is_timeout() || err.is_connect() || err.is_request() || err.is_body()
}

/// Whether a `rustls` error is anywhere in the source chain (looking into `io::Error`s,
/// whose `source()` skips the error they wrap).
pub(crate) fn is_tls_error(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<rustls::Error>() {
            return true;
        }
        cur = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    false
}

/// Parses `Retry-After`: seconds or an HTTP date (relative to `now`), capped at
/// [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let wait = if v.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// `base`, then doubling with jitter, capped at [`MAX_RETRY_DELAY`], at most
/// `max_retries` times.
pub fn backoff(base: Duration, max_retries: usize) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(base)
        .with_max_delay(MAX_RETRY_DELAY.max(base))
        .with_factor(2.0)
        .with_max_times(max_retries)
        .with_jitter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 416, 501] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn retry_after() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
