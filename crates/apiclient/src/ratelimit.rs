//! Client-side pacing with `governor`, so a full sync stays under the server's
//! limit (ASoC: 500 requests per minute, sliding window) instead of discovering
//! it through 429s, and does not crowd out the people using the same server.
//!
//! The burst is a tenth of the per-minute rate: any 60-second window then
//! sees at most `rate + rate / 10` requests (495 for ASoC's default 450), where
//! a full-minute burst would allow nearly twice the rate in the first minute.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter as Governor};

/// A request pace, or none. Every attempt (retries and logins included)
/// passes through [`RateLimiter::acquire`].
pub struct RateLimiter {
    inner: Option<DefaultDirectRateLimiter>,
}

impl RateLimiter {
    /// `per_minute == 0` turns pacing off.
    pub fn new(per_minute: u32) -> Self {
        let inner = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(per_minute / 10).unwrap_or(NonZeroU32::MIN);
            Governor::direct(Quota::per_minute(rate).allow_burst(burst))
        });
        Self { inner }
    }

    /// Waits for a slot; returns how long it waited (`None`: no wait).
    pub async fn acquire(&self) -> Option<Duration> {
        let limiter = self.inner.as_ref()?;
        if limiter.check().is_ok() {
            return None;
        }
        let start = Instant::now();
        limiter.until_ready().await;
        Some(start.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn off_never_waits() {
        let l = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(l.acquire().await.is_none());
        }
    }

    #[tokio::test]
    async fn burst_then_paced() {
        // 600/min = one per 100 ms, burst 60.
        let l = RateLimiter::new(600);
        for _ in 0..60 {
            assert!(l.acquire().await.is_none());
        }
        let waited = l.acquire().await.expect("61st request waits");
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
    }

    #[tokio::test]
    async fn tiny_rate_has_burst_of_one() {
        let l = RateLimiter::new(5);
        assert!(l.acquire().await.is_none());
        assert!(l.inner.as_ref().unwrap().check().is_err());
    }
}
