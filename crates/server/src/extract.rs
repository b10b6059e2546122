//! `Query` and `Path` extractors whose rejections are our JSON errors, so a bad parameter
//! is a 400 with `{"error": ..., "detail": ...}` like every other error, not axum's plain
//! text.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::json;

/// Query parameters, parsed into `T`.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// Parses a query string into `T` as axum's `Query` does; a 400 says which parameter is
/// wrong and what it takes (`offset: expected a whole number, got 'abc'`), where axum's
/// rejection said "Failed to deserialize query string: offset: invalid digit found in
/// string".
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let parser = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(parser).map_err(|e| {
        let parameter = e.path().to_string();
        let reason = e.inner().to_string();
        // The path of an error that belongs to no one parameter is `.`; serde's words
        // then name what is wrong.
        if parameter == "." || parameter.is_empty() {
            let message = reason.replacen("field", "parameter", 1);
            return ApiError::bad_request(
                format!("invalid query parameters: {message}"),
                json!({"message": message}),
            );
        }
        let value = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| *k == parameter)
            .map(|(_, v)| v.into_owned());
        let unknown = format!("unknown field `{parameter}`,");
        let message = match (expected(&reason), &value) {
            (Some(takes), Some(v)) => format!("{parameter}: expected {takes}, got '{v}'"),
            (Some(takes), None) => format!("{parameter}: expected {takes}"),
            (None, _) => match reason.strip_prefix(&unknown) {
                Some(known) => format!(
                    "{parameter}: unknown parameter,{}",
                    known.replace("no fields", "no parameters")
                ),
                None => format!("{parameter}: {reason}"),
            },
        };
        ApiError::bad_request(
            format!("invalid query parameter {message}"),
            json!({"parameter": parameter, "value": value, "message": message}),
        )
    })
}

/// What a parameter takes, in words, from the error its value gave: query values are
/// parsed with `str::parse`, whose errors say only what went wrong with the text. The
/// messages are the standard library's own, made here rather than copied.
fn expected(reason: &str) -> Option<&'static str> {
    let int_errors = [
        "x".parse::<u8>().err(),
        "".parse::<u8>().err(),
        "256".parse::<u8>().err(),
        "-129".parse::<i8>().err(),
    ];
    if int_errors.iter().flatten().any(|e| e.to_string() == reason) {
        return Some("a whole number");
    }
    if "x"
        .parse::<f64>()
        .err()
        .is_some_and(|e| e.to_string() == reason)
    {
        return Some("a number");
    }
    if "x"
        .parse::<bool>()
        .err()
        .is_some_and(|e| e.to_string() == reason)
    {
        return Some("true or false");
    }
    None
}

/// Path parameters, parsed into `T`.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::bad_request("invalid path parameter", e.body_text()))
    }
}

/// A query parameter given empty (`connector=`, as a form sends an empty field) is one
/// not given: `#[serde(default, deserialize_with = "crate::extract::empty_as_none")]`.
pub fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}
