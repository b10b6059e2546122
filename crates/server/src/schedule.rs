//! When a connector runs next: its schedule (a cron expression or an interval) turned into
//! a due time, with jitter, and with missed runs coalesced.
//!
//! Everything here is a pure function of the schedule, the start of the last run and the
//! current time, so tests move a [`crate::clock::ManualClock`] instead of sleeping.
//!
//! - The next slot is the first one **after the last run started**. A connector that never
//!   ran on an interval schedule is due at once; on a cron schedule, at its next slot.
//! - If that slot has already passed (the service was down), the run is due now — once:
//!   the following slot is computed from this run's start, so the slots missed while down
//!   are not run one after another.
//! - Jitter delays a run (but not a new interval connector's first) by up to a tenth of the schedule's period, at most
//!   [`MAX_JITTER_SECONDS`], so connectors on the same schedule (and several workers) do
//!   not all call AppScan in the same second. It never makes a run early.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use std::str::FromStr;

/// The largest jitter added to a due time (5 minutes); used by [`Schedule::max_jitter`].
pub const MAX_JITTER_SECONDS: i64 = 300;

/// The shortest interval a schedule may have; shorter ones are refused by
/// [`Schedule::parse`] (AppScan's rate limit is per minute).
pub const MIN_INTERVAL_SECONDS: i64 = 60;

/// Why a schedule was refused; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "invalid schedule '{text}': {reason} (expected an interval such as 30m, 6h or 1d12h, or a cron expression such as '0 */6 * * *')"
    )]
    Invalid { text: String, reason: String },
}

/// A connector's schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A cron expression (5 or 6 fields, or an alias like `@daily`), in UTC.
    Cron(Box<croner::Cron>),
    /// A fixed interval between run starts.
    Every(Duration),
}

/// When a run is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The slot of the schedule this run stands for.
    pub slot: DateTime<Utc>,
    /// When to start it: the slot (or now, if the slot passed) plus jitter.
    pub at: DateTime<Utc>,
    /// The slot had passed when this was computed (the service was not running then).
    pub missed: bool,
}

impl Schedule {
    /// A schedule as it is given (`connector add/edit`, a config file): [`Self::parse`],
    /// and a cron expression must still have a slot to come. The scheduler parses
    /// without that check, so that a cron whose last slot (its year's) is due now runs it
    /// instead of being found never to fire at that moment.
    pub fn check(text: &str) -> Result<Schedule, ScheduleError> {
        let schedule = Schedule::parse(text)?;
        if schedule.next_after(Utc::now()).is_none() {
            return Err(ScheduleError::Invalid {
                text: text.to_string(),
                reason: "it never fires".into(),
            });
        }
        Ok(schedule)
    }

    /// Parses `6h`, `30m`, `1d12h`, `90s`, `2w`, or a cron expression.
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let t = text.trim();
        let invalid = |reason: String| ScheduleError::Invalid {
            text: text.to_string(),
            reason,
        };
        if t.is_empty() {
            return Err(invalid("it is empty".into()));
        }
        if t.starts_with('@') || t.contains(char::is_whitespace) {
            numeric_time_fields(t).map_err(invalid)?;
            let cron = croner::Cron::from_str(t).map_err(|e| invalid(e.to_string()))?;
            let schedule = Schedule::Cron(Box::new(cron));
            schedule.at_most_once_a_minute().map_err(invalid)?;
            return Ok(schedule);
        }
        let d = parse_interval(t).map_err(invalid)?;
        if d.num_seconds() < MIN_INTERVAL_SECONDS {
            return Err(invalid(format!(
                "the interval is shorter than {MIN_INTERVAL_SECONDS} seconds"
            )));
        }
        Ok(Schedule::Every(d))
    }

    /// A cron expression with seconds may fire more often than once a minute (`* * * * *
    /// *` ran a sync every two seconds), where an interval under a minute is refused:
    /// AppScan's rate limit is per minute. It fires at most once a minute exactly when its
    /// seconds field names one second: any more fire within one minute whenever that
    /// minute fires. (The gaps between the next two days' slots were compared, so
    /// `0,1 0 0 * * THU` passed on a Monday, and the scheduler refused it by Thursday.)
    fn at_most_once_a_minute(&self) -> Result<(), String> {
        let Schedule::Cron(c) = self else {
            return Ok(());
        };
        let fields: Vec<&str> = c.as_str().split_whitespace().collect();
        // Without a seconds field slots are a minute apart at least.
        if fields.len() < 6 {
            return Ok(());
        }
        let seconds = fields[0];
        if !seconds.is_empty() && seconds.chars().all(|ch| ch.is_ascii_digit()) {
            return Ok(());
        }
        Err(format!(
            "its seconds field '{seconds}' fires more often than once every \
             {MIN_INTERVAL_SECONDS} seconds: name one second (e.g. 30)"
        ))
    }

    /// The first slot strictly after `t`; `None` when a cron expression has no more.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Every(d) => t.checked_add_signed(*d),
            Schedule::Cron(c) => c.find_next_occurrence(&t, false).ok(),
        }
    }

    /// The most jitter a run of the slot `slot` gets: a tenth of the period, at most
    /// [`MAX_JITTER_SECONDS`].
    pub fn max_jitter(&self, slot: DateTime<Utc>) -> Duration {
        let period = match self {
            Schedule::Every(d) => *d,
            Schedule::Cron(_) => match self.next_after(slot) {
                Some(next) => next - slot,
                None => Duration::zero(),
            },
        };
        (period / 10).clamp(Duration::zero(), Duration::seconds(MAX_JITTER_SECONDS))
    }

    /// When the next run is due, given the start of the last run (`None`: never ran), the
    /// current time and a jitter fraction in `0.0..1.0` ([`jitter_fraction`]).
    pub fn due(
        &self,
        last_start: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Option<Due> {
        self.due_since(last_start, now, now, jitter)
    }

    /// Like [`Schedule::due`], but a connector that never ran on an interval schedule
    /// stands for the slot `first` (when it was registered) rather than `now`: every
    /// worker of a shared store computes the same slot, so the store records it once.
    pub fn due_since(
        &self,
        last_start: Option<DateTime<Utc>>,
        first: DateTime<Utc>,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Option<Due> {
        let slot = match (last_start, self) {
            (Some(last), _) => self.next_after(last)?,
            (None, Schedule::Every(_)) => first.min(now),
            (None, Schedule::Cron(_)) => self.next_after(now)?,
        };
        let missed = last_start.is_some() && slot < now;
        // A new interval connector runs at once: its first run gets no jitter.
        let max = match (last_start, self) {
            (None, Schedule::Every(_)) => Duration::zero(),
            _ => self.max_jitter(slot),
        };
        let fraction = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let jitter_ms = (max.num_milliseconds() as f64 * fraction) as i64;
        let at = slot.max(now) + Duration::milliseconds(jitter_ms);
        Some(Due { slot, at, missed })
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Cron(c) => write!(f, "cron '{}'", c.pattern),
            Schedule::Every(d) => write!(f, "every {}", format_interval(*d)),
        }
    }
}

/// `1d12h30m` → 36.5 hours. Units: s, m, h, d, w.
/// The cron fields that hold numbers only — seconds (of a 6- or 7-field expression),
/// minutes, hours and the year —: the parser took a weekday's or month's name in any
/// field, so `FRI 9 * * *` ran daily at 09:05.
fn numeric_time_fields(t: &str) -> Result<(), String> {
    if t.starts_with('@') {
        return Ok(());
    }
    let fields: Vec<&str> = t.split_whitespace().collect();
    let (names, numeric): (&[&str], &[usize]) = match fields.len() {
        5 => (&["minute", "hour"], &[0, 1]),
        6 => (&["second", "minute", "hour"], &[0, 1, 2]),
        7 => (&["second", "minute", "hour", "year"], &[0, 1, 2, 6]),
        _ => return Ok(()),
    };
    for (name, &i) in names.iter().zip(numeric) {
        let field = fields[i];
        if !field
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '*' | '/' | ',' | '-'))
        {
            return Err(format!("the {name} field '{field}' takes numbers only"));
        }
    }
    Ok(())
}

fn parse_interval(t: &str) -> Result<Duration, String> {
    let mut total = Duration::zero();
    let mut digits = String::new();
    for ch in t.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let n: i64 = digits
            .parse()
            .map_err(|_| format!("a number must come before '{ch}'"))?;
        digits.clear();
        let unit = match ch.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            other => return Err(format!("unknown unit '{other}'")),
        };
        let secs = n
            .checked_mul(unit)
            .filter(|s| *s <= 366 * 86_400)
            .ok_or_else(|| "the interval is longer than a year".to_string())?;
        total += Duration::seconds(secs);
    }
    if !digits.is_empty() {
        return Err(format!("'{digits}' has no unit (s, m, h, d or w)"));
    }
    Ok(total)
}

/// `Duration` → `1d12h`, `30m`.
pub fn format_interval(d: Duration) -> String {
    let mut s = d.num_seconds();
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push_str(&format!("{}{unit}", s / len));
            s %= len;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// The jitter fraction (`0.0..1.0`) of a connector's next slot, from its name and the
/// start of its last run: the same in every worker of a shared store (each drew its own,
/// so the next run a connector showed depended on the worker that planned it last), and
/// spread across connectors and from one slot to the next.
pub fn jitter_fraction(connector: &str, last_start: Option<DateTime<Utc>>) -> f64 {
    let mut h = Sha256::new();
    h.update(connector.as_bytes());
    h.update([0]);
    if let Some(t) = last_start {
        h.update(t.timestamp_millis().to_be_bytes());
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 53 bits: every value is exact in an f64, and the largest stays below 1.
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0)
            .single()
            .expect("valid time")
    }

    /// Every worker plans a connector's slot with the same jitter; connectors and slots
    /// are spread over the whole range.
    #[test]
    fn jitter_is_the_same_in_every_worker_and_spread() {
        let last = Some(at(12, 0));
        assert_eq!(
            jitter_fraction("cloud", last),
            jitter_fraction("cloud", last)
        );
        assert_ne!(
            jitter_fraction("cloud", last),
            jitter_fraction("cloud", Some(at(18, 0)))
        );
        assert_ne!(
            jitter_fraction("cloud", last),
            jitter_fraction("cloud", None)
        );
        let fractions: Vec<f64> = (0..1000)
            .map(|i| jitter_fraction(&format!("c{i}"), last))
            .collect();
        assert!(fractions.iter().all(|f| (0.0..1.0).contains(f)));
        let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
        assert!((0.45..0.55).contains(&mean), "{mean}");
        let below_a_tenth = fractions.iter().filter(|f| **f < 0.1).count();
        assert!((60..140).contains(&below_a_tenth), "{below_a_tenth}");
    }

    #[test]
    fn parses_intervals_and_cron() {
        assert!(matches!(Schedule::parse("6h"), Ok(Schedule::Every(d)) if d == Duration::hours(6)));
        assert!(
            matches!(Schedule::parse("1d12h30m"), Ok(Schedule::Every(d)) if d == Duration::minutes(36 * 60 + 30))
        );
        assert!(matches!(
            Schedule::parse("0 */6 * * *"),
            Ok(Schedule::Cron(_))
        ));
        assert!(matches!(Schedule::parse("@daily"), Ok(Schedule::Cron(_))));
        for bad in [
            "",
            "6",
            "6x",
            "h",
            "10s",
            "99999d",
            "61 * * * *",
            "every day",
        ] {
            let e = Schedule::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("invalid schedule"), "{bad}: {e}");
        }
        assert_eq!(format_interval(Duration::minutes(36 * 60 + 30)), "1d12h30m");
        // Names of weekdays and months belong to their fields: `FRI 9 * * *` was taken
        // as minute 5 and ran daily at 09:05.
        for bad in [
            "FRI 9 * * *",
            "0 JAN * * *",
            "MON * * * * *",
            "0 0 0 1 1 * MAR",
        ] {
            let e = Schedule::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("takes numbers only"), "{bad}: {e}");
        }
        assert!(Schedule::parse("0 9 * JAN-MAR MON-FRI").is_ok());
        assert!(Schedule::parse("0 0 9 L * *").is_ok());
        // Seconds may not bring a schedule under a minute (an interval under a minute is
        // refused): `* * * * * *` ran a sync every two seconds.
        // Whatever the day: `0,1 0 0 * * THU` passed on a Monday (the next two days'
        // slots were compared) and was refused by Thursday.
        for bad in [
            "* * * * * *",
            "*/30 * * * * *",
            "0,30 * * * * *",
            "0,1 0 0 * * THU",
            "0-1 0 0 1 1 *",
            "0,30 0 0 1 * *",
        ] {
            let e = Schedule::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("more often than once"), "{bad}: {e}");
        }
        assert!(Schedule::parse("30 * * * * *").is_ok());
        assert!(Schedule::parse("0 */5 * * * *").is_ok());
    }

    /// A cron whose last slot is past is refused where it is given, but the scheduler
    /// still parses it: its last slot was found never to fire at the moment it was due.
    #[test]
    fn a_schedule_with_no_slot_left_is_refused_only_where_given() {
        let past = "0 0 0 1 1 * 2020";
        assert!(
            Schedule::check(past)
                .expect_err("past")
                .to_string()
                .contains("never fires")
        );
        let s = Schedule::parse(past).expect("parses");
        assert_eq!(s.next_after(Utc::now()), None);
        let last_slot = Utc
            .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
            .single()
            .expect("t");
        assert_eq!(
            s.next_after(last_slot - Duration::seconds(1)),
            Some(last_slot)
        );
        assert!(Schedule::check("0 0 0 1 1 * 2999").is_ok());
    }

    #[test]
    fn interval_due_time_counts_from_the_last_start() {
        let s = Schedule::parse("1h").expect("parse");
        let clock = ManualClock::new(at(10, 0));
        // Never ran: due now.
        let d = s.due(None, clock.now(), 0.0).expect("due");
        assert_eq!((d.slot, d.at, d.missed), (at(10, 0), at(10, 0), false));
        // Ran at 10:00: due at 11:00, not before.
        let d = s.due(Some(at(10, 0)), clock.now(), 0.0).expect("due");
        assert_eq!((d.at, d.missed), (at(11, 0), false));
        clock.advance(Duration::minutes(59));
        assert!(s.due(Some(at(10, 0)), clock.now(), 0.0).expect("due").at > clock.now());
        clock.advance(Duration::minutes(1));
        assert!(s.due(Some(at(10, 0)), clock.now(), 0.0).expect("due").at <= clock.now());
    }

    #[test]
    fn a_new_interval_connector_stands_for_its_registration_slot_without_jitter() {
        let s = Schedule::parse("1h").expect("parse");
        let created = at(9, 0);
        // Every worker, whenever it looks, computes the same slot: the registration time.
        for now in [at(9, 0), at(9, 1), at(12, 0)] {
            let d = s.due_since(None, created, now, 1.0).expect("due");
            assert_eq!((d.slot, d.at, d.missed), (created, now, false), "{now}");
        }
        // Registered "after" the clock (clocks differ a little): the slot is now.
        let d = s.due_since(None, at(10, 0), at(9, 59), 0.5).expect("due");
        assert_eq!(d.slot, at(9, 59));
    }

    #[test]
    fn cron_due_time_is_the_next_slot() {
        let s = Schedule::parse("0 */6 * * *").expect("parse");
        let clock = ManualClock::new(at(7, 30));
        let d = s.due(None, clock.now(), 0.0).expect("due");
        assert_eq!((d.slot, d.missed), (at(12, 0), false));
        let d = s.due(Some(at(12, 0)), at(12, 1), 0.0).expect("due");
        assert_eq!(d.slot, at(18, 0));
        // Jitter of a 6-hour cron is capped at 5 minutes.
        assert_eq!(s.max_jitter(at(12, 0)), Duration::minutes(5));
        let d = s.due(Some(at(12, 0)), at(12, 1), 0.5).expect("due");
        assert_eq!(d.at, at(18, 0) + Duration::seconds(150));
    }

    #[test]
    fn missed_slots_after_downtime_run_once() {
        let s = Schedule::parse("1h").expect("parse");
        // Last run at 02:00; the service was down until 09:20: seven slots were missed.
        let clock = ManualClock::new(at(9, 20));
        let d = s.due(Some(at(2, 0)), clock.now(), 0.0).expect("due");
        assert!(d.missed);
        assert_eq!((d.slot, d.at), (at(3, 0), at(9, 20)), "due once, now");
        // It runs now; the next one is an hour after this run, not the 04:00 slot.
        let d = s.due(Some(clock.now()), clock.now(), 0.0).expect("due");
        assert!(!d.missed);
        assert_eq!(d.at, at(10, 20));

        // Same with cron: the 06:00 and 12:00 slots were missed; one run now, then 18:00.
        let c = Schedule::parse("0 */6 * * *").expect("parse");
        clock.set(at(13, 5));
        let d = c.due(Some(at(0, 0)), clock.now(), 0.0).expect("due");
        assert!(d.missed);
        assert_eq!(d.at, at(13, 5));
        let d = c.due(Some(at(13, 5)), clock.now(), 0.0).expect("due");
        assert_eq!((d.slot, d.missed), (at(18, 0), false));
    }

    #[test]
    fn jitter_stays_within_bounds_and_never_runs_early() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for text in ["1m", "10m", "1h", "6h", "1d", "*/5 * * * *", "0 3 * * *"] {
            let s = Schedule::parse(text).expect("parse");
            let last = at(1, 0);
            let now = at(1, 1);
            let slot = s.next_after(last).expect("slot");
            let max = s.max_jitter(slot);
            assert!(max <= Duration::seconds(MAX_JITTER_SECONDS), "{text}");
            for _ in 0..500 {
                let d = s.due(Some(last), now, rng.random::<f64>()).expect("due");
                assert!(d.at >= d.slot.max(now), "{text}: early");
                assert!(d.at <= d.slot.max(now) + max, "{text}: jitter beyond {max}");
            }
            // The extremes.
            assert_eq!(s.due(Some(last), now, 0.0).expect("due").at, slot.max(now));
            let top = s.due(Some(last), now, 1.0).expect("due").at;
            assert_eq!(top, slot.max(now) + max, "{text}");
            assert_eq!(
                s.due(Some(last), now, f64::NAN).expect("due").at,
                slot.max(now)
            );
        }
        assert_eq!(
            Schedule::parse("1m").expect("parse").max_jitter(at(0, 0)),
            Duration::seconds(6)
        );
    }
}
