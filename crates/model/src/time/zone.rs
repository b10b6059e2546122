//! Time zones of servers that write local times without an offset (AppScan Enterprise
//! writes `11/18/24 6:09 PM` in its own zone): naming one ([`parse_zone`]) and turning
//! a local time of it into UTC ([`local_to_utc`]).

use chrono::{DateTime, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
pub use chrono_tz::Tz;

/// A zone named as the IANA database names it (`Europe/Berlin`, `America/New_York`), or
/// `UTC`. The message of an unknown name says so, suggests the name in its right case
/// when only the case is wrong, and gives an example.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    let name = name.trim();
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    let same_but_case = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(name));
    Err(match same_but_case {
        Some(tz) => format!("unknown time zone '{name}' (did you mean '{}'?)", tz.name()),
        None => format!(
            "unknown time zone '{name}': give an IANA zone name such as 'Europe/Berlin' or \
             'America/New_York', or 'UTC'"
        ),
    })
}

/// The instant a wall-clock time of `zone` stands for.
///
/// - A time the clocks show twice (the hour repeated when daylight saving time ends) is
///   the earlier of the two instants: `2024-11-03 01:30` in `America/New_York` is
///   05:30 UTC (EDT), not 06:30 UTC (EST).
/// - A time the clocks skip (the hour lost when daylight saving time starts) is read with
///   the offset in force before the gap, i.e. shifted forward by the gap's length:
///   `2024-03-10 02:30` in `America/New_York` is 07:30 UTC, which the clocks show as
///   03:30 EDT.
pub fn local_to_utc(local: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    if let Some(earliest) = zone.from_local_datetime(&local).earliest() {
        return earliest.with_timezone(&Utc);
    }
    // In a gap: the offset a day before is the one in force before it (zones change
    // their offset months apart, never twice within a day).
    let before = local - TimeDelta::days(1);
    let offset = zone.offset_from_utc_datetime(&before).fix();
    Utc.from_utc_datetime(&(local - TimeDelta::seconds(i64::from(offset.local_minus_utc()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, 0))
            .expect("a valid test time")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(&at(y, mo, d, h, mi))
    }

    #[test]
    fn names() {
        assert_eq!(parse_zone("Europe/Berlin"), Ok(Tz::Europe__Berlin));
        assert_eq!(parse_zone(" UTC "), Ok(Tz::UTC));
        let e = parse_zone("Mars/Olympus").unwrap_err();
        assert!(
            e.contains("unknown time zone 'Mars/Olympus'") && e.contains("Europe/Berlin"),
            "{e}"
        );
        let e = parse_zone("europe/berlin").unwrap_err();
        assert!(e.contains("did you mean 'Europe/Berlin'"), "{e}");
        assert!(parse_zone("").is_err());
    }

    #[test]
    fn ordinary_times_and_utc() {
        let ny = Tz::America__New_York;
        assert_eq!(
            local_to_utc(at(2024, 11, 18, 18, 9), ny),
            utc(2024, 11, 18, 23, 9)
        );
        assert_eq!(
            local_to_utc(at(2024, 7, 1, 12, 0), ny),
            utc(2024, 7, 1, 16, 0)
        );
        assert_eq!(
            local_to_utc(at(2024, 7, 1, 12, 0), Tz::Europe__Berlin),
            utc(2024, 7, 1, 10, 0)
        );
        assert_eq!(
            local_to_utc(at(2024, 3, 10, 2, 30), Tz::UTC),
            utc(2024, 3, 10, 2, 30)
        );
    }

    #[test]
    fn a_repeated_hour_is_its_earlier_instant() {
        // New York, 3 Nov 2024: 01:00–02:00 EDT, then 01:00–02:00 EST again.
        let ny = Tz::America__New_York;
        assert_eq!(
            local_to_utc(at(2024, 11, 3, 1, 30), ny),
            utc(2024, 11, 3, 5, 30)
        );
        assert_eq!(
            local_to_utc(at(2024, 11, 3, 2, 0), ny),
            utc(2024, 11, 3, 7, 0)
        );
        // Berlin, 27 Oct 2024: 02:00–03:00 CEST, then CET.
        let berlin = Tz::Europe__Berlin;
        assert_eq!(
            local_to_utc(at(2024, 10, 27, 2, 30), berlin),
            utc(2024, 10, 27, 0, 30)
        );
    }

    #[test]
    fn a_skipped_hour_moves_forward_by_the_gap() {
        // New York, 10 Mar 2024: 02:00 EST became 03:00 EDT.
        let ny = Tz::America__New_York;
        assert_eq!(
            local_to_utc(at(2024, 3, 10, 2, 30), ny),
            utc(2024, 3, 10, 7, 30)
        );
        assert_eq!(
            local_to_utc(at(2024, 3, 10, 2, 0), ny),
            utc(2024, 3, 10, 7, 0)
        );
        assert_eq!(
            local_to_utc(at(2024, 3, 10, 3, 0), ny),
            utc(2024, 3, 10, 7, 0)
        );
        // Berlin, 31 Mar 2024: 02:00 CET became 03:00 CEST.
        let berlin = Tz::Europe__Berlin;
        assert_eq!(
            local_to_utc(at(2024, 3, 31, 2, 30), berlin),
            utc(2024, 3, 31, 1, 30)
        );
        // Samoa skipped 30 Dec 2011 whole (UTC−10 to UTC+14).
        let apia = Tz::Pacific__Apia;
        assert_eq!(
            local_to_utc(at(2011, 12, 30, 12, 0), apia),
            utc(2011, 12, 30, 22, 0)
        );
    }
}
