//! OData v4 literals for `$filter` expressions, so callers never splice raw
//! text into a filter: `format!("Name eq {}", odata_string(name))`,
//! `format!("LastUpdated ge {}", odata_datetime(cursor))`.

use chrono::{DateTime, SecondsFormat, Timelike, Utc};

/// A date-time literal, written bare as the API documents
/// (`2024-11-18T18:09:14Z`).
///
/// Fractions of a second are dropped (rounded down), so `LastUpdated ge
/// <literal>` selects a superset of the records updated since `dt`: a delta
/// run may re-read up to one second of updates (upserts absorb them) but
/// never misses one.
pub fn odata_datetime(dt: DateTime<Utc>) -> String {
    let whole = dt.with_nanosecond(0).unwrap_or(dt);
    whole.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A string literal: single-quoted, with each `'` doubled (`O'Brien` →
/// `'O''Brien'`).
pub fn odata_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn datetime_literal() {
        let dt = Utc.with_ymd_and_hms(2024, 11, 18, 18, 9, 14).unwrap();
        assert_eq!(odata_datetime(dt), "2024-11-18T18:09:14Z");
        let with_ms = dt + chrono::Duration::milliseconds(999);
        assert_eq!(odata_datetime(with_ms), "2024-11-18T18:09:14Z");
        assert_eq!(
            format!("LastUpdated ge {}", odata_datetime(dt)),
            "LastUpdated ge 2024-11-18T18:09:14Z"
        );
    }

    #[test]
    fn string_literal() {
        assert_eq!(odata_string("plain"), "'plain'");
        assert_eq!(odata_string("O'Brien"), "'O''Brien'");
        assert_eq!(odata_string("''"), "''''''");
        assert_eq!(odata_string(""), "''");
        assert_eq!(odata_string("é ' x"), "'é '' x'");
    }
}
