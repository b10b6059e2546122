//! Client-side pacing with `governor`: a burst of a tenth of the per-minute rate, then
//! an even pace, so a sync does not crowd out the people using the same ASE server.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter as Governor};

/// A request pace, or none. Every attempt (retries and logins too) goes through it.
pub(crate) struct RateLimiter {
    inner: Option<DefaultDirectRateLimiter>,
}

impl RateLimiter {
    /// `per_minute == 0` turns pacing off.
    pub(crate) fn new(per_minute: u32) -> Self {
        let inner = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(per_minute / 10).unwrap_or(NonZeroU32::MIN);
            Governor::direct(Quota::per_minute(rate).allow_burst(burst))
        });
        Self { inner }
    }

    /// Waits for a slot; returns how long it waited.
    pub(crate) async fn acquire(&self) -> Option<Duration> {
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
    async fn off_never_waits_and_on_paces() {
        let off = RateLimiter::new(0);
        for _ in 0..100 {
            assert!(off.acquire().await.is_none());
        }
        let on = RateLimiter::new(600);
        for _ in 0..60 {
            assert!(on.acquire().await.is_none());
        }
        assert!(on.acquire().await.is_some());
    }
}
