//! Saying that something failing over and over (the store, for the scheduler that reads
//! it every second) fails — once when it starts, again when the error changes or every
//! few minutes while it lasts, and once when it is over — instead of a line per try: a
//! store that stopped answering wrote 3,600 identical warnings an hour per worker.

use std::time::{Duration, Instant};

/// How often a failure that goes on is said again.
pub const REPEAT: Duration = Duration::from_secs(300);

/// What to log about one more try.
#[derive(Debug, Clone, PartialEq)]
pub enum Say {
    /// The first failure, or one with another error than the last said.
    Failing,
    /// The same failure, [`REPEAT`] after it was last said: `tries` failed over `lasting`.
    Still { tries: u64, lasting: Duration },
    /// Nothing: said recently.
    Nothing,
    /// It works again after `tries` failures over `lasting`.
    Recovered { tries: u64, lasting: Duration },
}

/// One thing that may fail over and over.
#[derive(Debug, Default)]
pub struct Outage {
    /// When the failures began, how many there were, when and what was last said.
    since: Option<Instant>,
    tries: u64,
    said_at: Option<Instant>,
    said: String,
}

impl Outage {
    /// A try failed with `error` at `now`.
    pub fn failed(&mut self, error: &str, now: Instant) -> Say {
        let since = *self.since.get_or_insert(now);
        self.tries += 1;
        let say = if self.said != error {
            Say::Failing
        } else if self
            .said_at
            .is_none_or(|at| now.saturating_duration_since(at) >= REPEAT)
        {
            Say::Still {
                tries: self.tries,
                lasting: now.saturating_duration_since(since),
            }
        } else {
            return Say::Nothing;
        };
        self.said_at = Some(now);
        self.said = error.to_string();
        say
    }

    /// Logs how a try of `who` (`scheduler`, `metrics`) to read the store went, as
    /// [`Self::failed`] and [`Self::worked`] decide: the error with its causes when a
    /// failure starts, changes or lasts another [`REPEAT`], and the recovery.
    pub fn observe(&mut self, who: &str, outcome: Result<(), &str>) {
        let now = Instant::now();
        let (say, error) = match outcome {
            Ok(()) => (self.worked(now), ""),
            Err(error) => (self.failed(error, now), error),
        };
        match say {
            Say::Failing => tracing::warn!(%error, "{who} could not read the store"),
            Say::Still { tries, lasting } => tracing::warn!(%error, tries,
                minutes = lasting.as_secs() / 60, "{who} still cannot read the store"),
            Say::Recovered { tries, lasting } => tracing::info!(
                tries,
                seconds = lasting.as_secs(),
                "{who} reads the store again"
            ),
            Say::Nothing => {}
        }
    }

    /// A try worked at `now`.
    pub fn worked(&mut self, now: Instant) -> Say {
        let Some(since) = self.since.take() else {
            return Say::Nothing;
        };
        let tries = std::mem::take(&mut self.tries);
        self.said_at = None;
        self.said.clear();
        Say::Recovered {
            tries,
            lasting: now.saturating_duration_since(since),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lasting_failure_is_said_at_its_start_on_a_change_every_few_minutes_and_at_its_end() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut o = Outage::default();
        assert_eq!(o.worked(at(0)), Say::Nothing);
        assert_eq!(o.failed("refused", at(1)), Say::Failing);
        for s in 2..301 {
            assert_eq!(o.failed("refused", at(s)), Say::Nothing, "at {s} s");
        }
        assert_eq!(
            o.failed("refused", at(301)),
            Say::Still {
                tries: 301,
                lasting: Duration::from_secs(300)
            }
        );
        assert_eq!(o.failed("timed out", at(302)), Say::Failing);
        assert_eq!(o.failed("timed out", at(303)), Say::Nothing);
        assert_eq!(
            o.worked(at(311)),
            Say::Recovered {
                tries: 303,
                lasting: Duration::from_secs(310)
            }
        );
        assert_eq!(o.worked(at(312)), Say::Nothing);
        // A new outage starts counting anew.
        assert_eq!(o.failed("refused", at(400)), Say::Failing);
    }
}
