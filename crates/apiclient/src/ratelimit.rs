//! Client-side pacing with `governor`, so a full sync stays under the server's
//! limit (ASoC: 500 requests per minute, sliding window) instead of discovering
//! it through 429s, and does not crowd out the people using the same server.
//!
//! The burst is a tenth of the per-minute rate: any 60-second window then
//! sees at most `rate + rate / 10` requests (495 for ASoC's default 450), where
//! a full-minute burst would allow nearly twice the rate in the first minute.
//!
//! The server counts per user, so clients of one user in one process (two connectors
//! on the same API key under `serve`) share one pace: [`RateLimiter::shared`].

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter as Governor};

/// A request pace, or none. Every attempt (retries and logins included)
/// passes through [`RateLimiter::acquire`].
pub struct RateLimiter {
    inner: Option<Arc<DefaultDirectRateLimiter>>,
}

/// The paces in use, by who the server counts (e.g. base URL and key id), with their rate.
type Paces = HashMap<String, (u32, Weak<DefaultDirectRateLimiter>)>;
static SHARED: LazyLock<Mutex<Paces>> = LazyLock::new(Mutex::default);

fn governor(rate: NonZeroU32) -> DefaultDirectRateLimiter {
    let burst = NonZeroU32::new(rate.get() / 10).unwrap_or(NonZeroU32::MIN);
    Governor::direct(Quota::per_minute(rate).allow_burst(burst))
}

impl RateLimiter {
    /// A pace of its own; `per_minute == 0` turns pacing off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            inner: NonZeroU32::new(per_minute).map(|rate| Arc::new(governor(rate))),
        }
    }

    /// The pace of everything in this process that the server counts as `who`: every
    /// client of one user draws from one budget, as the server's limit does, where each
    /// client pacing itself let two of them send twice the limit. Clients asking for
    /// different rates share the lowest: one asking for a higher rate joins the pace in
    /// use, one asking for a lower one starts a pace at its rate that later clients join.
    pub fn shared(who: &str, per_minute: u32) -> Self {
        let Some(rate) = NonZeroU32::new(per_minute) else {
            return Self { inner: None };
        };
        let mut paces = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        paces.retain(|_, (_, pace)| pace.strong_count() > 0);
        let in_use = paces
            .get(who)
            .filter(|(r, _)| *r <= per_minute)
            .and_then(|(_, pace)| pace.upgrade());
        let pace = match in_use {
            Some(pace) => pace,
            None => {
                let pace = Arc::new(governor(rate));
                paces.insert(who.to_string(), (per_minute, Arc::downgrade(&pace)));
                pace
            }
        };
        Self { inner: Some(pace) }
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
    async fn clients_of_one_user_share_a_pace() {
        let a = RateLimiter::shared("https://one user", 600);
        // A higher rate joins the pace in use (each its own let two send 1,300 a minute).
        let b = RateLimiter::shared("https://one user", 700);
        let other = RateLimiter::shared("https://another user", 600);
        for _ in 0..60 {
            assert!(a.acquire().await.is_none());
        }
        assert!(
            b.inner.as_ref().unwrap().check().is_err(),
            "a's burst is b's too"
        );
        assert!(other.inner.as_ref().unwrap().check().is_ok());
        drop((a, b));
        let fresh = RateLimiter::shared("https://one user", 600);
        assert!(
            fresh.inner.as_ref().unwrap().check().is_ok(),
            "a pace nobody holds any more is gone"
        );
    }

    #[tokio::test]
    async fn tiny_rate_has_burst_of_one() {
        let l = RateLimiter::new(5);
        assert!(l.acquire().await.is_none());
        assert!(l.inner.as_ref().unwrap().check().is_err());
    }
}
