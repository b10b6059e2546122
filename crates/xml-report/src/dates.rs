//! Dates as AppScan writes them in XML reports, parsed into UTC with the verbatim text kept.
//!
//! Forms seen: the long English date of ASoC exports (`Tuesday, October 3, 2023`), ISO
//! 8601 with or without a zone (`2023-10-03T12:44:56Z`, `scan-date-and-time-iso`), the
//! fix-group form `2024-10-16 18:13:44Z`, and US forms (`10/03/2023 13:00:06`,
//! `10/3/2023 1:00:06 PM`). A date without a zone is taken as UTC; a date without a time
//! as midnight UTC.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;

/// A date from the report: the text as written, and its UTC value when it could be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateValue {
    /// The text as written in the report.
    pub raw: String,
    /// The parsed value, `None` when the form is not recognised (the caller gets a field
    /// warning).
    pub utc: Option<DateTime<Utc>>,
}

impl DateValue {
    /// Parses `raw` (trimmed).
    pub fn parse(raw: &str) -> DateValue {
        let raw = raw.trim();
        DateValue {
            raw: raw.to_string(),
            utc: parse_date(raw),
        }
    }

    /// The parsed value as RFC 3339 (`2023-10-03T00:00:00Z`); `None` when unparsed.
    pub fn rfc3339(&self) -> Option<String> {
        self.utc
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

/// Date-time forms without a zone, taken as UTC. Two-digit years come first: `%Y` takes
/// `24` as the year 24 (`10/16/24 6:09 PM` was 0024-10-16), while `%y` refuses a
/// four-digit year (it reads two digits and finds two more).
const NAIVE_DATE_TIMES: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%A, %B %d, %Y %I:%M:%S %p",
    "%A, %B %d, %Y %H:%M:%S",
    "%A, %B %d, %Y %I:%M %p",
    "%A, %B %d, %Y %H:%M",
    "%B %d, %Y %I:%M:%S %p",
    "%B %d, %Y %H:%M:%S",
];

/// Date-only forms, taken as midnight UTC.
const DATES: &[&str] = &[
    "%A, %B %d, %Y",
    "%a, %b %d, %Y",
    "%B %d, %Y",
    "%d %B %Y",
    "%Y-%m-%d",
    "%m/%d/%y",
    "%m/%d/%Y",
];

/// Years a report's date may have: outside them a date is a mistake (`-0001-01-01`), and
/// one past 9999 in UTC (`9999-12-31T23:59:59-01:00`) cannot be written back as RFC 3339:
/// the map refused it and the whole import failed.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// Parses one of the forms above, in [`YEARS`]; `None` when none matches.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    parse_any(text).filter(|t| YEARS.contains(&t.year()))
}

fn parse_any(text: &str) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    // `2024-10-16 18:13:44Z` and ISO forms with a trailing `Z` but no seconds fraction
    // variants RFC 3339 refuses.
    if let Some(naive) = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC")) {
        for f in NAIVE_DATE_TIMES {
            if let Ok(n) = NaiveDateTime::parse_from_str(naive, f) {
                return Some(Utc.from_utc_datetime(&n));
            }
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, f) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for f in NAIVE_DATE_TIMES {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    for f in DATES {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<DateTime<Utc>> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single()
    }

    /// Two-digit years are this century's, not the first's; years no report has, or
    /// none RFC 3339 can write, are not dates.
    #[test]
    fn two_digit_years_and_years_out_of_range() {
        assert_eq!(parse_date("10/16/24 6:09 PM"), utc(2024, 10, 16, 18, 9, 0));
        assert_eq!(parse_date("10/16/24 18:09:05"), utc(2024, 10, 16, 18, 9, 5));
        assert_eq!(parse_date("10/16/24"), utc(2024, 10, 16, 0, 0, 0));
        assert_eq!(
            parse_date("10/16/2024 6:09 PM"),
            utc(2024, 10, 16, 18, 9, 0)
        );
        assert_eq!(parse_date("-0001-01-01"), None);
        assert_eq!(parse_date("9999-12-31T23:59:59-01:00"), None);
        assert_eq!(parse_date("0024-10-16"), None);
    }

    #[test]
    fn appscan_forms() {
        assert_eq!(
            parse_date("Tuesday, October 3, 2023"),
            utc(2023, 10, 3, 0, 0, 0)
        );
        assert_eq!(
            parse_date("Wednesday, October 16, 2024"),
            utc(2024, 10, 16, 0, 0, 0)
        );
        assert_eq!(
            parse_date("2024-10-16 18:13:44Z"),
            utc(2024, 10, 16, 18, 13, 44)
        );
        assert_eq!(
            parse_date("10/03/2023 13:00:06"),
            utc(2023, 10, 3, 13, 0, 6)
        );
        assert_eq!(
            parse_date("10/3/2023 1:00:06 PM"),
            utc(2023, 10, 3, 13, 0, 6)
        );
        assert_eq!(
            parse_date("2023-10-03T12:44:56Z"),
            utc(2023, 10, 3, 12, 44, 56)
        );
        assert_eq!(
            parse_date("2023-10-03T14:44:56+02:00"),
            utc(2023, 10, 3, 12, 44, 56)
        );
        assert_eq!(
            parse_date("2023-10-03T12:44:56"),
            utc(2023, 10, 3, 12, 44, 56)
        );
        assert_eq!(
            parse_date("2023-10-03T12:44:56.1234567"),
            parse_date("2023-10-03T12:44:56.1234567Z")
        );
        assert_eq!(parse_date("2023-10-03"), utc(2023, 10, 3, 0, 0, 0));
    }

    #[test]
    fn unparsable_is_none_and_kept_verbatim() {
        assert_eq!(parse_date("CENSURED"), None);
        assert_eq!(parse_date(""), None);
        // A weekday that does not match the date is refused, not guessed.
        assert_eq!(parse_date("Monday, October 3, 2023"), None);
        let d = DateValue::parse(" CENSURED ");
        assert_eq!(d.raw, "CENSURED");
        assert_eq!(d.rfc3339(), None);
        assert_eq!(
            DateValue::parse("Tuesday, October 3, 2023")
                .rfc3339()
                .as_deref(),
            Some("2023-10-03T00:00:00Z")
        );
    }
}
