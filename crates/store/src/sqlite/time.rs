//! Times are stored as RFC 3339 UTC text with microseconds, so text order is time order.

use crate::StoreError;
use chrono::{DateTime, SecondsFormat, Utc};

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse(column: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            column: column.to_string(),
            message: format!("'{text}': {e}"),
        })
}

pub fn parse_opt(column: &str, text: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|t| parse(column, &t)).transpose()
}

/// Turns a store error into a rusqlite error inside a row-mapping closure.
pub fn to_sql_err(e: StoreError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}
