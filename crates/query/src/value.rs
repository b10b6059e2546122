//! Reading a typed value for a field: numbers, dates, severities, statuses, booleans.
//!
//! Dates are a day (`2026-01-01`, the whole UTC day), an instant (RFC 3339), `now`, or an
//! offset from now (`-7d`, `now-12h`, units `m` `h` `d` `w`). A day compares as a span:
//! `lastFound>2026-01-01` means after that day, `lastFound:2026-01-01` means during it.
//! Status groups are the lower-case words `open` and `closed`; status names match in any
//! other casing, so `status:CLOSED` is the one status and `status:closed` the group.
//! Dates lie in years 1 to 9999, the range both backends compare alike; a date outside
//! it is refused, not clamped, since a user who typed one most likely mistyped it.

use crate::ast::{Op, Value};
use crate::fields::{Field, FieldType};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use model::{Severity, Status};

/// Reads `text` as a value of `field`'s type for `op`; the error is the message only
/// (the parser adds the column).
pub fn read(
    field: &Field,
    op: Op,
    text: &str,
    quoted: bool,
    now: DateTime<Utc>,
) -> Result<Value, String> {
    let name = field.name;
    if text == "*" && !quoted {
        return if op.is_ordering() {
            Err(format!(
                "'*' (any value) cannot be compared with {}",
                op.as_str()
            ))
        } else {
            Ok(Value::Any)
        };
    }
    match field.ty {
        FieldType::Text | FieldType::Tags => {
            if op.is_ordering() {
                return Err(format!(
                    "{name} is {}: use ':' or '!=' (with * wildcards)",
                    field.ty.as_str()
                ));
            }
            Ok(Value::Text(text.to_string()))
        }
        FieldType::Int => {
            // `cwe:CWE-79` reads as 79.
            let t = text
                .strip_prefix("CWE-")
                .or_else(|| text.strip_prefix("cwe-"))
                .unwrap_or(text);
            t.parse::<i64>()
                .map(Value::Int)
                .map_err(|_| format!("{name} takes a whole number, not '{text}'"))
        }
        FieldType::Float => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Value::Float)
            .ok_or_else(|| format!("{name} takes a number, not '{text}'")),
        FieldType::Date => {
            // `now` and `-7d` name one instant, which no stored time equals: the filter
            // matched nothing without a word.
            let lower = text.to_ascii_lowercase();
            let relative = lower == "now" || lower.starts_with("now-") || text.starts_with('-');
            if relative && !op.is_ordering() {
                return Err(format!(
                    "{name}{} '{text}' compares with one instant, which no time equals: \
                     use {name}>={text} (since then) or {name}<{text} (before)",
                    op.as_str()
                ));
            }
            date(text, now).map_err(|e| format!("{name}: {e}"))
        }
        FieldType::Severity => {
            if let Ok(n) = text.parse::<i64>() {
                return Severity::from_score(n).map(Value::Severity).ok_or_else(|| {
                    format!("severity numbers are 1 (informational) to 5 (critical), not {n}")
                });
            }
            text.parse::<Severity>().map(Value::Severity).map_err(|_| {
                format!("unknown severity '{text}' (expected informational, low, medium, high or critical)")
            })
        }
        FieldType::Status => {
            if op.is_ordering() {
                return Err("status has no order: use ':' or '!='".into());
            }
            // The groups are lower-case words; `CLOSED` (any other casing) is the status
            // of that name, so `status:CLOSED` can still single it out.
            match text {
                "open" => Ok(Value::Status(
                    Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
                )),
                "closed" => Ok(Value::Status(
                    Status::ALL.into_iter().filter(|s| !s.is_open()).collect(),
                )),
                _ => text
                    .parse::<Status>()
                    .map(|s| Value::Status(vec![s]))
                    .map_err(|_| {
                        format!(
                            "unknown status '{text}' (expected {}, open or closed)",
                            Status::ALL.map(|s| s.as_str()).join(", ")
                        )
                    }),
            }
        }
        FieldType::Bool => {
            if op.is_ordering() {
                return Err(format!("{name} is true or false: use ':' or '!='"));
            }
            match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Value::Bool(true)),
                "false" | "no" | "0" => Ok(Value::Bool(false)),
                _ => Err(format!("{name} takes true or false, not '{text}'")),
            }
        }
    }
}

/// The first instant a filter date may name: the start of year 1. chrono reads years
/// back to about 262,000 BC, PostgreSQL's `timestamptz` only to 4713 BC: a filter that
/// parsed (`lastFound>-3000000d`) was a store error there (a 500) and matched every
/// finding on SQLite. Both backends get this one range.
fn first_instant() -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The last instant a filter date may name: the end of year 9999. Past it a time is no
/// longer four-digit-year text, and SQLite, comparing stored times as text, found every
/// finding after "+10000-01-01" (which sorts before any digit) while PostgreSQL found none.
fn last_instant() -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 999_999_999))
        .map(|t| t.and_utc())
}

/// `t` when it lies in years 1 to 9999, else the message that says so about `text`.
fn in_range(text: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let (first, last) = first_instant().zip(last_instant()).ok_or("bad date")?;
    if t < first {
        Err(format!(
            "'{text}' is too far back (dates go back to year 1)"
        ))
    } else if t > last {
        Err(format!(
            "'{text}' is too far ahead (dates go up to year 9999)"
        ))
    } else {
        Ok(t)
    }
}

/// Reads a date value: a day, an RFC 3339 instant, `now`, or an offset from now, in
/// years 1 to 9999 ([`in_range`]).
pub fn date(text: &str, now: DateTime<Utc>) -> Result<Value, String> {
    let instant = |t: DateTime<Utc>| Value::Time { from: t, to: t };
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let from = d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or("bad date")?;
        // chrono reads a signed year of any length (`+10000-01-01`, `-4714-01-01`).
        let from = in_range(text, from)?;
        // The day's end, at most the last instant of year 9999 (`lastFound>9999-12-31`
        // matched all on SQLite).
        let last = last_instant().ok_or("bad date")?;
        let to = from
            .checked_add_signed(Duration::days(1))
            .map_or(last, |to| to.min(last));
        return Ok(Value::Time { from, to });
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant(in_range(text, t.with_timezone(&Utc))?));
    }
    let lower = text.to_ascii_lowercase();
    if lower == "now" {
        return Ok(instant(now));
    }
    if let Some(rel) = lower
        .strip_prefix("now-")
        .or_else(|| lower.strip_prefix('-'))
    {
        let not_a_date = || {
            format!("'{text}' is not a date (expected 2026-01-01, an RFC 3339 time, now, or -7d)")
        };
        // The unit is the last character, which may take more than one byte: splitting
        // at the last byte (`-7é`) panicked inside it.
        let Some(unit) = rel.chars().next_back() else {
            return Err(not_a_date());
        };
        // Units are read in lower case, and `M` would be minutes to someone who meant
        // months.
        if text.ends_with('M') {
            return Err(format!(
                "'{text}': m is minutes and there is no month unit; write days (e.g. -90d)"
            ));
        }
        let num = &rel[..rel.len() - unit.len_utf8()];
        let n: i64 = num.parse().map_err(|_| not_a_date())?;
        let span: fn(i64) -> Option<Duration> = match unit {
            'm' => Duration::try_minutes,
            'h' => Duration::try_hours,
            'd' => Duration::try_days,
            'w' => Duration::try_weeks,
            _ => return Err(format!("'{text}': the unit is m, h, d or w (e.g. -30d)")),
        };
        let then = span(n)
            .and_then(|span| now.checked_sub_signed(span))
            .ok_or_else(|| format!("'{text}' is too far back (dates go back to year 1)"))?;
        return Ok(instant(in_range(text, then)?));
    }
    Err(format!(
        "'{text}' is not a date (expected 2026-01-01, an RFC 3339 time, now, or -7d)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Entity;

    fn f(name: &str) -> &'static Field {
        Entity::Findings.field(name).expect("field")
    }
    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z")
            .expect("t")
            .with_timezone(&Utc)
    }

    #[test]
    fn numbers_severities_statuses() {
        assert_eq!(
            read(f("cwe"), Op::Eq, "CWE-79", false, now()),
            Ok(Value::Int(79))
        );
        assert_eq!(
            read(f("cvss"), Op::Ge, "7.5", false, now()),
            Ok(Value::Float(7.5))
        );
        assert!(read(f("cvss"), Op::Ge, "NaN", false, now()).is_err());
        // An offset past chrono's range is an error, not a panic (it was one, and `serve`
        // dropped the connection of an unauthenticated request that sent it).
        // The last day there is: its end is the last instant of year 9999.
        match read(f("lastFound"), Op::Gt, "9999-12-31", false, now()) {
            Ok(Value::Time { to, .. }) => {
                assert_eq!(to.to_rfc3339(), "9999-12-31T23:59:59.999999999+00:00")
            }
            other => panic!("{other:?}"),
        }
        for far in [
            "-99999999999d",
            "-100000000d",
            "now-10000000000000h",
            "-99999999999999999w",
        ] {
            let err = read(f("lastFound"), Op::Gt, far, false, now()).unwrap_err();
            assert!(err.contains("too far back"), "{far}: {err}");
        }
        assert_eq!(
            read(f("severity"), Op::Ge, "HIGH", false, now()),
            Ok(Value::Severity(Severity::High))
        );
        assert_eq!(
            read(f("severity"), Op::Ge, "4", false, now()),
            Ok(Value::Severity(Severity::High))
        );
        assert!(
            read(f("severity"), Op::Ge, "hgh", false, now())
                .unwrap_err()
                .contains("unknown severity")
        );
        assert_eq!(
            read(f("status"), Op::Eq, "open", false, now()),
            Ok(Value::Status(vec![
                Status::New,
                Status::Active,
                Status::Reopened
            ]))
        );
        assert!(read(f("status"), Op::Gt, "NEW", false, now()).is_err());
        // Found by the parse-of-print property test: CLOSED is a status, closed a group.
        assert_eq!(
            read(f("status"), Op::Eq, "CLOSED", false, now()),
            Ok(Value::Status(vec![Status::Closed]))
        );
        assert_eq!(
            read(f("status"), Op::Eq, "closed", false, now()),
            Ok(Value::Status(vec![
                Status::Fixed,
                Status::Ignored,
                Status::None,
                Status::Closed
            ]))
        );
        assert!(read(f("name"), Op::Gt, "x", false, now()).is_err());
        assert_eq!(read(f("name"), Op::Eq, "*", false, now()), Ok(Value::Any));
        assert_eq!(
            read(f("name"), Op::Eq, "*", true, now()),
            Ok(Value::Text("*".into()))
        );
    }

    #[test]
    fn dates() {
        let day = date("2026-01-01", now()).expect("day");
        assert_eq!(
            day,
            Value::Time {
                from: DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                    .expect("t")
                    .with_timezone(&Utc),
                to: DateTime::parse_from_rfc3339("2026-01-02T00:00:00Z")
                    .expect("t")
                    .with_timezone(&Utc),
            }
        );
        assert_eq!(
            date("-7d", now()),
            Ok(Value::Time {
                from: now() - Duration::days(7),
                to: now() - Duration::days(7)
            })
        );
        assert_eq!(date("now-2w", now()), date("-14d", now()));
        assert!(date("2026-13-01", now()).is_err());
        assert!(date("-7y", now()).is_err());
        // A unit of more than one byte is refused, not split inside (it panicked).
        for bad in ["-7é", "now-1日", "-é", "-", "now-"] {
            assert!(date(bad, now()).is_err(), "{bad}");
        }
        assert_eq!(
            date("-7é", now()),
            Err("'-7é': the unit is m, h, d or w (e.g. -30d)".into())
        );
        assert!(date("2026-01-01T10:00:00+02:00", now()).is_ok());
    }

    /// Dates outside years 1 to 9999 are refused: SQLite found every finding after
    /// `+10000-01-01` and PostgreSQL none, and PostgreSQL failed on dates before 4713 BC.
    #[test]
    fn dates_outside_years_1_to_9999_are_refused() {
        for (text, says) in [
            (
                "+10000-01-01",
                "'+10000-01-01' is too far ahead (dates go up to year 9999)",
            ),
            ("+200000-06-30", "too far ahead"),
            ("9999-12-31T23:00:00-05:00", "too far ahead"),
            (
                "-4714-01-01",
                "'-4714-01-01' is too far back (dates go back to year 1)",
            ),
            ("0000-12-31", "too far back"),
            ("0000-12-31T23:59:59Z", "too far back"),
            (
                "-3000000d",
                "'-3000000d' is too far back (dates go back to year 1)",
            ),
            ("now-800000w", "too far back"),
            (
                "--3000000d",
                "'--3000000d' is too far ahead (dates go up to year 9999)",
            ),
        ] {
            let err = date(text, now()).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
        // The bounds themselves are in.
        assert!(date("0001-01-01", now()).is_ok());
        assert!(date("9999-12-31", now()).is_ok());
        assert!(date("0001-01-01T00:00:00Z", now()).is_ok());
        assert!(date("-700000d", now()).is_ok());
        // The parser puts the value's column in front and the field in the message.
        let e = crate::parser::parse(Entity::Findings, "lastFound>=+10000-01-01", now())
            .expect_err("far");
        assert_eq!(e.column, 12);
        assert!(e.message.starts_with("lastFound: "), "{}", e.message);
    }
}
