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
    if let Some(parameter) = not_utf8(query) {
        let message = format!("{parameter}: not valid UTF-8 once percent-decoded");
        return Err(ApiError::bad_request(
            format!("invalid query parameter {message}"),
            json!({"parameter": parameter, "message": message}),
        ));
    }
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

/// The first parameter whose value is not UTF-8 once percent-decoded (`filter=app%3A%FF`):
/// decoded lossily, it became U+FFFD, matched nothing and answered 200 with no rows.
fn not_utf8(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let bytes: Vec<u8> = percent_encoding::percent_decode_str(value).collect();
        std::str::from_utf8(&bytes).is_err().then(|| {
            percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .into_owned()
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Params {
        filter: Option<String>,
    }

    #[test]
    fn a_value_that_is_not_utf8_is_refused() {
        let ok: Params = parse_query("filter=app%3A%C3%A9cole+x").expect("UTF-8");
        assert_eq!(ok.filter.as_deref(), Some("app:école x"));
        for bad in ["filter=app%3A%FF", "filter=%C3", "x=1&filter=%ED%A0%80"] {
            let e = parse_query::<Params>(bad).expect_err(bad);
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
            assert!(
                e.error.contains("filter: not valid UTF-8"),
                "{bad}: {}",
                e.error
            );
        }
    }
}
