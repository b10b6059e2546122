//! Whether this worker's clock agrees with the shared store's server.
//!
//! Leases of due runs and run locks are judged by each worker's own clock: a worker whose
//! clock is ahead takes other workers' live runs over, and one that is behind leaves a
//! dead worker's runs locked longer. `serve` on a shared store (PostgreSQL) reads the
//! server's clock at start and every few minutes, shows the difference as the
//! `appscan_bridge_clock_skew_seconds` gauge, and warns in its log while it is large.

use crate::metrics::Metrics;
use chrono::{Duration, Utc};
use std::sync::Arc;
use store::{Store, StoreError};
use tokio_util::sync::CancellationToken;

/// A difference from which the log warns: far above what NTP leaves, well below the
/// lease and lock times (two minutes by default) at which runs are taken over; a quarter
/// of a shorter lease (`serve --lease 3`: a worker 8 s ahead took live runs over
/// without a word).
pub const WARN_AT: Duration = Duration::seconds(10);

/// The difference from which the log warns, for leases of `lease`.
pub fn warn_at(lease: Duration) -> Duration {
    WARN_AT.min(lease / 4)
}

/// How often the clocks are compared.
const EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// This worker's clock minus the store server's (positive: this worker is ahead), from
/// one reading of the server's clock between two of this one (half the round trip
/// counted on each side); `None` when the store has no clock of its own.
pub fn measure(store: &dyn Store) -> Result<Option<Duration>, StoreError> {
    let before = Utc::now();
    let Some(server) = store.server_time()? else {
        return Ok(None);
    };
    let after = Utc::now();
    Ok(Some(before + (after - before) / 2 - server))
}

/// What the log says of a measurement, given whether the previous one was large.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Large: warn (again at every measurement while it stays so).
    Warn,
    /// Back within bounds after a warning.
    Recovered,
    /// Within bounds, as before.
    Fine,
}

pub fn judge(warned: bool, skew: Duration, lease: Duration) -> Verdict {
    match (skew.abs() >= warn_at(lease), warned) {
        (true, _) => Verdict::Warn,
        (false, true) => Verdict::Recovered,
        (false, false) => Verdict::Fine,
    }
}

/// The warning's words: which way, by how much, what it does and the fix.
pub fn warning(skew: Duration, lease: Duration) -> String {
    let way = if skew > Duration::zero() {
        "ahead of"
    } else {
        "behind"
    };
    format!(
        "this worker's clock is {:.1} s {way} the store's database server: leases and run \
         locks are judged by each worker's clock, so workers whose clocks differ by close \
         to the lease ({} s) take each other's live runs over; synchronize the clocks \
         (NTP)",
        skew.abs().num_milliseconds() as f64 / 1000.0,
        lease.num_seconds()
    )
}

/// Compares the clocks until `stop`, when the store has a server clock to compare with;
/// `lease` is the scheduler's.
pub async fn watch(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    lease: Duration,
    stop: CancellationToken,
) {
    let mut warned = false;
    loop {
        let s = store.clone();
        match tokio::task::spawn_blocking(move || measure(s.as_ref())).await {
            Ok(Ok(Some(skew))) => {
                metrics.clock_skew(skew);
                let verdict = judge(warned, skew, lease);
                warned = verdict == Verdict::Warn;
                match verdict {
                    Verdict::Warn => tracing::warn!("{}", warning(skew, lease)),
                    Verdict::Recovered => tracing::info!(
                        skew_ms = skew.num_milliseconds(),
                        "this worker's clock agrees with the store's database server again"
                    ),
                    Verdict::Fine => {}
                }
            }
            Ok(Ok(None)) => return,
            Ok(Err(e)) => tracing::debug!(error = %e, "could not read the store server's clock"),
            Err(e) => tracing::debug!(error = %e, "the clock comparison failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_while_large_and_once_when_it_recovers() {
        let s = Duration::seconds;
        let lease = s(120);
        assert_eq!(judge(false, s(2), lease), Verdict::Fine);
        assert_eq!(judge(false, s(150), lease), Verdict::Warn);
        assert_eq!(judge(true, s(-150), lease), Verdict::Warn);
        assert_eq!(judge(true, s(1), lease), Verdict::Recovered);
        assert_eq!(
            judge(false, Duration::milliseconds(9_999), lease),
            Verdict::Fine
        );
        assert!(warning(s(152), lease).contains("152.0 s ahead of"));
        assert!(warning(s(-12), lease).contains("12.0 s behind"));
        // A short lease is taken over sooner: 8 s ahead of a 3 s lease said nothing.
        assert_eq!(judge(false, s(8), s(3)), Verdict::Warn);
        assert_eq!(
            judge(false, Duration::milliseconds(500), s(3)),
            Verdict::Fine
        );
        assert!(warning(s(8), s(3)).contains("the lease (3 s)"));
    }
}
