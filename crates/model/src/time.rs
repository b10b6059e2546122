//! Parsing the date-time forms AppScan writes into UTC.
//!
//! A date-time with an offset (RFC 3339) is the instant it says; one without (ISO 8601
//! without a zone, a bare date, ASE's locale forms) is a wall-clock time of the zone the
//! server runs in: UTC unless the caller names one ([`zone`], [`ServerDates`]).

pub mod zone;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
pub use zone::{Tz, local_to_utc, parse_zone};

/// The forms without a zone that every server may write, whatever its locale.
const NAIVE: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
];

/// How a server writes its date-times: in its locale's `format` (strftime; `None` for
/// the forms [`parse_datetime`] knows) and as wall-clock times of its `zone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerDates {
    pub format: Option<String>,
    pub zone: Tz,
}

impl Default for ServerDates {
    /// ASE's US form (`11/18/24 6:09 PM`) in UTC.
    fn default() -> Self {
        ServerDates {
            format: None,
            zone: Tz::UTC,
        }
    }
}

impl ServerDates {
    /// The instant `text` stands for (see [`parse_datetime_in`], [`parse_datetime_as_in`]).
    pub fn read(&self, text: &str) -> Option<DateTime<Utc>> {
        match &self.format {
            Some(f) => parse_datetime_as_in(text, f, self.zone),
            None => parse_datetime_in(text, self.zone),
        }
    }
}

/// Parses an AppScan date-time: RFC 3339 (`2024-11-18T18:09:14.123Z`), ISO 8601 without a
/// zone (taken as UTC), a bare date, or ASE's locale form `11/18/24 6:09 PM`.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    parse_datetime_in(text, Tz::UTC)
}

/// Parses as [`parse_datetime`] does, reading a date-time without a zone as a wall-clock
/// time of `zone` ([`local_to_utc`] says how a skipped or repeated hour reads); RFC 3339
/// keeps its own offset.
pub fn parse_datetime_in(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    NAIVE
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| midnight(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()))
        .map(|n| local_to_utc(n, zone))
}

/// Parses `text` with a server's own date-time format (strftime; a format without a time
/// reads a date at midnight), else as [`parse_datetime_in`] does for the forms that do
/// not depend on a locale (RFC 3339, ISO 8601); a date-time without an offset is a
/// wall-clock time of `zone`, and a format with an offset (`%z`) keeps the one it reads.
pub fn parse_datetime_as_in(text: &str, format: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if let Ok(dt) = DateTime::parse_from_str(s, format) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Some(n) = NaiveDateTime::parse_from_str(s, format)
        .ok()
        .or_else(|| midnight(NaiveDate::parse_from_str(s, format).ok()))
    {
        return Some(local_to_utc(n, zone));
    }
    parse_datetime_in(s, zone).filter(|_| !s.contains('/'))
}

/// A date's first instant on the wall clock.
fn midnight(date: Option<NaiveDate>) -> Option<NaiveDateTime> {
    date.and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Whether `format` is a strftime format that can read a date: its specifiers are known
/// and it names a day, a month and a year.
pub fn check_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
        return Err("not a strftime format (e.g. %d.%m.%y %H:%M)".into());
    }
    let has = |any: &[&str]| any.iter().any(|s| format.contains(s));
    if !(has(&["%d", "%e"]) && has(&["%m", "%b", "%B", "%h"]) && has(&["%y", "%Y"])) {
        return Err(
            "a date format needs a day (%d), a month (%m or %b) and a year (%y or %Y)".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn forms() {
        let want = Utc.with_ymd_and_hms(2024, 11, 18, 18, 9, 0).single();
        assert_eq!(parse_datetime("2024-11-18T18:09:00Z"), want);
        assert_eq!(parse_datetime("2024-11-18T19:09:00+01:00"), want);
        assert_eq!(parse_datetime("2024-11-18T18:09:00"), want);
        assert_eq!(parse_datetime("11/18/24 6:09 PM"), want);
        assert!(parse_datetime("yesterday").is_none());
    }

    /// A server's zone moves its wall-clock times to the instants they stand for; an
    /// offset the text carries wins.
    #[test]
    fn in_a_servers_zone() {
        let ny = Tz::America__New_York;
        let want = Utc.with_ymd_and_hms(2024, 11, 18, 23, 9, 0).single();
        assert_eq!(parse_datetime_in("11/18/24 6:09 PM", ny), want);
        assert_eq!(parse_datetime_in("2024-11-18T18:09:00", ny), want);
        assert_eq!(parse_datetime_in("2024-11-18T23:09:00Z", ny), want);
        assert_eq!(parse_datetime_in("2024-11-18T15:09:00-08:00", ny), want);
        assert_eq!(
            parse_datetime_in("2024-11-18", ny),
            Utc.with_ymd_and_hms(2024, 11, 18, 5, 0, 0).single()
        );
        let berlin = ServerDates {
            format: Some("%d.%m.%y %H:%M".into()),
            zone: Tz::Europe__Berlin,
        };
        assert_eq!(
            berlin.read("18.11.24 18:09"),
            Utc.with_ymd_and_hms(2024, 11, 18, 17, 9, 0).single()
        );
        assert_eq!(berlin.read("2024-11-18T23:09:00Z"), want);
        // The repeated hour at the end of summer time: the earlier instant.
        assert_eq!(
            berlin.read("27.10.24 02:30"),
            Utc.with_ymd_and_hms(2024, 10, 27, 0, 30, 0).single()
        );
        assert_eq!(
            parse_datetime_as_in(
                "18.11.24 18:09 -0500",
                "%d.%m.%y %H:%M %z",
                Tz::Europe__Berlin
            ),
            want
        );
        assert_eq!(
            ServerDates::default().read("11/18/24 6:09 PM"),
            parse_datetime("11/18/24 6:09 PM")
        );
    }

    #[test]
    fn a_servers_own_format() {
        let want = Utc.with_ymd_and_hms(2024, 11, 5, 18, 9, 0).single();
        assert_eq!(
            parse_datetime_as_in("05.11.24 18:09", "%d.%m.%y %H:%M", Tz::UTC),
            want
        );
        assert_eq!(
            parse_datetime_as_in("05/11/2024 18:09", "%d/%m/%Y %H:%M", Tz::UTC),
            want
        );
        // Read month first without the format: the wrong day, silently.
        assert_ne!(parse_datetime("05/11/24 6:09 PM"), want);
        assert_eq!(
            parse_datetime_as_in("2024-11-05T18:09:00Z", "%d.%m.%y %H:%M", Tz::UTC),
            want
        );
        let midnight = Utc.with_ymd_and_hms(2024, 11, 5, 0, 0, 0).single();
        assert_eq!(
            parse_datetime_as_in("05.11.2024", "%d.%m.%Y", Tz::UTC),
            midnight
        );
        // Another locale's slashes are not guessed at once a format is given.
        assert_eq!(
            parse_datetime_as_in("11/05/24 6:09 PM", "%d.%m.%y %H:%M", Tz::UTC),
            None
        );
        assert!(check_format("%d.%m.%y %H:%M").is_ok());
        assert!(check_format("%d.%m %H:%M").is_err());
        assert!(check_format("%d.%m.%y %Q").is_err());
    }
}
