//! Parsing the date-time forms AppScan writes into UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parses an AppScan date-time: RFC 3339 (`2024-11-18T18:09:14.123Z`), ISO 8601 without a
/// zone (taken as UTC), a bare date, or ASE's locale form `11/18/24 6:09 PM`.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    const NAIVE: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%m/%d/%y %I:%M %p",
        "%m/%d/%Y %I:%M %p",
        "%m/%d/%Y %H:%M:%S",
    ];
    for f in NAIVE {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| Utc.from_utc_datetime(&n))
}

/// Parses `text` with a server's own date-time format (strftime; a format without a time
/// reads a date at midnight), else as [`parse_datetime`] does for the forms that do not
/// depend on a locale (RFC 3339, ISO 8601).
pub fn parse_datetime_as(text: &str, format: &str) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if let Ok(n) = NaiveDateTime::parse_from_str(s, format) {
        return Some(Utc.from_utc_datetime(&n));
    }
    if let Some(n) = NaiveDate::parse_from_str(s, format)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Some(Utc.from_utc_datetime(&n));
    }
    parse_datetime(s).filter(|_| !s.contains('/'))
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

    #[test]
    fn forms() {
        let want = Utc.with_ymd_and_hms(2024, 11, 18, 18, 9, 0).single();
        assert_eq!(parse_datetime("2024-11-18T18:09:00Z"), want);
        assert_eq!(parse_datetime("2024-11-18T19:09:00+01:00"), want);
        assert_eq!(parse_datetime("2024-11-18T18:09:00"), want);
        assert_eq!(parse_datetime("11/18/24 6:09 PM"), want);
        assert!(parse_datetime("yesterday").is_none());
    }

    #[test]
    fn a_servers_own_format() {
        let want = Utc.with_ymd_and_hms(2024, 11, 5, 18, 9, 0).single();
        assert_eq!(parse_datetime_as("05.11.24 18:09", "%d.%m.%y %H:%M"), want);
        assert_eq!(
            parse_datetime_as("05/11/2024 18:09", "%d/%m/%Y %H:%M"),
            want
        );
        // Read month first without the format: the wrong day, silently.
        assert_ne!(parse_datetime("05/11/24 6:09 PM"), want);
        assert_eq!(
            parse_datetime_as("2024-11-05T18:09:00Z", "%d.%m.%y %H:%M"),
            want
        );
        let midnight = Utc.with_ymd_and_hms(2024, 11, 5, 0, 0, 0).single();
        assert_eq!(parse_datetime_as("05.11.2024", "%d.%m.%Y"), midnight);
        // Another locale's slashes are not guessed at once a format is given.
        assert_eq!(
            parse_datetime_as("11/05/24 6:09 PM", "%d.%m.%y %H:%M"),
            None
        );
        assert!(check_format("%d.%m.%y %H:%M").is_ok());
        assert!(check_format("%d.%m %H:%M").is_err());
        assert!(check_format("%d.%m.%y %Q").is_err());
    }
}
