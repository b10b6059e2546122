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
}
