//! Listing parameters shared by `/api/assets`, `/api/findings` and the dashboard:
//! `connector`, `filter`, `sort`, `limit`, `offset`, and for findings `cursor`.

use crate::error::ApiError;
use query::{Cursor, Entity, Filter, QueryError, Sort};
use serde::Deserialize;
use serde_json::json;
use store::ListQuery;
use utoipa::IntoParams;

/// Rows a listing returns when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 100;
/// The most rows one listing returns.
pub const MAX_LIMIT: u64 = 5000;

/// Which records a listing returns, and in which order.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only this connector's records.
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    pub connector: Option<String>,
    /// A query-language filter, e.g. `severity>=high and status:NEW,REOPENED`.
    pub filter: Option<String>,
    /// Sort keys, e.g. `-severity,lastFound:asc`.
    pub sort: Option<String>,
    /// At most this many rows (default 100, at most 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u64>,
    /// Skip this many rows.
    pub offset: Option<u64>,
    /// Findings: start after the last row of an earlier page (its `next_cursor`), with the
    /// same filter, sort and connector; not with `offset`.
    pub cursor: Option<String>,
}

/// Whether a listing is of assets or of findings (their fields differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Assets,
    Findings,
}

impl ListParams {
    /// The limit in force.
    pub fn limit(&self) -> u64 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// The store query these parameters ask for; a 400 names what is wrong (with the
    /// column of a mistake in the filter or sort).
    pub fn to_query(&self, kind: Kind) -> Result<ListQuery, ApiError> {
        let limit = self.limit();
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::bad_request(
                "invalid limit",
                json!({"parameter": "limit", "value": limit, "allowed": format!("1..={MAX_LIMIT}")}),
            ));
        }
        let entity = match kind {
            Kind::Assets => Entity::Assets,
            Kind::Findings => Entity::Findings,
        };
        let filter = parse_filter(entity, self.filter.as_deref())?;
        let sort = match self
            .sort
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(text) => Sort::parse_list(entity, text).map_err(|e| invalid("sort", text, e))?,
            None => Vec::new(),
        };
        let after = self.cursor()?;
        Ok(ListQuery {
            connector: self.connector.clone(),
            limit: Some(limit),
            offset: self.offset,
            filter,
            sort,
            after,
        })
    }

    /// The `cursor` parameter, decoded; whether it can continue this listing (findings,
    /// this sort) is the store's to say (a 400 too).
    fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        let Some(token) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        if self.offset.is_some() {
            return Err(ApiError::invalid_cursor(
                "give either cursor or offset, not both",
            ));
        }
        Cursor::decode(token)
            .map(Some)
            .map_err(ApiError::invalid_cursor)
    }
}

/// A 400 that names the parameter and the column of the mistake.
fn invalid(parameter: &str, text: &str, e: QueryError) -> ApiError {
    ApiError::bad_request(
        format!("invalid {parameter}: {}", e.message),
        json!({"parameter": parameter, "column": e.column, "message": e.message,
               "caret": e.caret(text)}),
    )
}

/// The `filter` parameter of a listing or an export; `None` when empty.
pub fn parse_filter(entity: Entity, text: Option<&str>) -> Result<Option<Filter>, ApiError> {
    match text.map(str::trim).filter(|f| !f.is_empty()) {
        Some(text) => Filter::parse(entity, text)
            .map(Some)
            .map_err(|e| invalid("filter", text, e)),
        None => Ok(None),
    }
}
