//! Bearer-token authentication of write endpoints.
//!
//! A handler that takes an [`Authorized`] argument needs `Authorization: Bearer <token>`
//! with a live token; anything else is a 401 with the usual JSON error body. The token is
//! hashed and looked up; it is never logged.

use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use store::ApiToken;

/// The token a write request was made with.
#[derive(Debug, Clone)]
pub struct Authorized(pub ApiToken);

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("this endpoint needs a bearer token"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                let (scheme, rest) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header is not 'Bearer <token>'")
            })?;
        let hash = tokens::hash(token);
        match state.store(move |s| s.use_token(&hash)).await? {
            Some(t) => Ok(Authorized(t)),
            None => Err(ApiError::unauthorized("unknown or revoked token")),
        }
    }
}
