//! The one error type of the crate, [`AsocError`], and the helpers that turn
//! an error response body into a short, printable message.
//!
//! The error is shaped for the people who read it in a run log or in the
//! "test connection" screen: every variant names the endpoint it happened on,
//! HTTP failures carry the status and what the server said (its `Message` /
//! RFC 7807 `detail`, else the first bytes of the body), and the variants
//! follow the checks a connection test makes (transport and TLS, then
//! authentication, then authorization, then data). Nothing in it can hold the
//! key secret or a bearer token: bodies of login responses are never quoted,
//! and request headers are never formatted.

use serde_json::Value;

pub use apiclient::text::{EXCERPT_BYTES, error_chain, excerpt};

/// Everything that can go wrong talking to AppScan on Cloud.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsocError {
    /// A setting is missing or out of range (caught before any request).
    #[error("configuration error: {0}")]
    Config(String),

    /// The login was refused. `401` means the key id or secret is wrong, or
    /// the key was revoked or regenerated; `403` carries the server's reason.
    #[error("authentication failed (HTTP {status}): {message}")]
    Auth {
        /// HTTP status of the refusal.
        status: u16,
        /// What went wrong, from the server when it said.
        message: String,
    },

    /// `403` on a call: the key is valid but lacks permission for this
    /// endpoint (or the older rate-limit answer, after retries).
    #[error("forbidden: {endpoint}: {message}")]
    Forbidden {
        /// Path of the request.
        endpoint: String,
        /// The server's message, or a body excerpt.
        message: String,
    },

    /// Any other unsuccessful HTTP status, or a retryable one (429, 5xx)
    /// still failing when the retries ran out.
    #[error("{method} {endpoint} failed with HTTP {status} after {attempts} attempt(s): {excerpt}")]
    Http {
        /// Request method.
        method: String,
        /// Path of the request.
        endpoint: String,
        /// Last HTTP status.
        status: u16,
        /// The server's message, or the first bytes of the body.
        excerpt: String,
        /// Attempts made, the first one included.
        attempts: u32,
    },

    /// No complete answer within the configured timeout, every attempt.
    #[error("request to {endpoint} timed out after {attempts} attempt(s)")]
    Timeout {
        /// Path of the request.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
    },

    /// The connection failed: DNS ("unknown host"), refused, reset, or TLS.
    #[error("transport error on {endpoint}: {detail}")]
    Transport {
        /// Path of the request.
        endpoint: String,
        /// The whole source chain, flattened (e.g. "dns error: failed to lookup address").
        detail: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// One page of a listing could not be read (not JSON, or no `Items`).
    /// Yielded in the page stream; the listing goes on with the next page.
    #[error(
        "bad page from {endpoint} (app {}, $skip={skip}): {message}; body starts: {excerpt:?}",
        app_id.as_deref().unwrap_or("-")
    )]
    BadPage {
        /// Path of the request.
        endpoint: String,
        /// The app whose issues were listed, if any.
        app_id: Option<String>,
        /// `$skip` of the page.
        skip: usize,
        /// Why it was rejected.
        message: String,
        /// The first bytes of the body.
        excerpt: String,
        /// The listing gave up here (unreadable pages in a row): the records after this
        /// page were not read either. With `Count` as last known, if any.
        gave_up: Option<Option<u64>>,
    },

    /// A successful answer that is not what the endpoint documents (e.g. a
    /// login answer without `Token`). The excerpt is empty for login answers.
    #[error("unexpected response from {endpoint}: {message}")]
    InvalidResponse {
        /// Path of the request.
        endpoint: String,
        /// What was wrong with it.
        message: String,
    },

    /// The extra CA certificate file could not be read or parsed, or the
    /// HTTP client could not be built.
    #[error("TLS setup: {0}")]
    Tls(String),
}

impl AsocError {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            AsocError::Auth { status, .. } | AsocError::Http { status, .. } => Some(*status),
            AsocError::Forbidden { .. } => Some(403),
            _ => None,
        }
    }
}

/// A short, printable account of an error body: `Message` from the usual
/// `{"Key","Message","FormatParams"}` body, `title: detail` from an RFC 7807
/// problem, else the first [`EXCERPT_BYTES`] bytes (lossy UTF-8); `"(empty body)"`
/// when there is none.
pub fn body_message(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "(empty body)".to_string();
    }
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        let get = |k: &str| {
            map.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if let Some(m) = get("Message").or_else(|| get("message")) {
            return match get("Key") {
                Some(key) => format!("{m} [{key}]"),
                None => m.to_string(),
            };
        }
        if let Some(d) = get("detail") {
            return match get("title") {
                Some(t) => format!("{t}: {d}"),
                None => d.to_string(),
            };
        }
        if let Some(t) = get("title") {
            return t.to_string();
        }
    }
    excerpt(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_from_asoc_body() {
        let b =
            br#"{"Key":"InvalidFilter","Message":"The $filter is malformed","FormatParams":[]}"#;
        assert_eq!(body_message(b), "The $filter is malformed [InvalidFilter]");
    }

    #[test]
    fn message_from_problem_details() {
        let b = br#"{"type":"about:blank","title":"Bad Request","status":400,"detail":"$top must be <= 5000"}"#;
        assert_eq!(body_message(b), "Bad Request: $top must be <= 5000");
        assert_eq!(
            body_message(br#"{"title":"Not Found","status":404}"#),
            "Not Found"
        );
    }

    #[test]
    fn message_falls_back_to_excerpt() {
        assert_eq!(body_message(b""), "(empty body)");
        assert_eq!(body_message(b"  \n"), "(empty body)");
        assert_eq!(
            body_message(b"<html>Bad gateway</html>"),
            "<html>Bad gateway</html>"
        );
        assert_eq!(body_message(br#"{"Other":1}"#), r#"{"Other":1}"#);
        let long = "x".repeat(1000);
        let m = body_message(long.as_bytes());
        assert_eq!(m.len(), EXCERPT_BYTES + '…'.len_utf8());
    }

    #[test]
    fn display_names_endpoint_status_and_excerpt() {
        let e = AsocError::Http {
            method: "GET".into(),
            endpoint: "/api/v4/Apps".into(),
            status: 503,
            excerpt: "Service Unavailable".into(),
            attempts: 6,
        };
        let s = e.to_string();
        assert!(s.contains("GET /api/v4/Apps"), "{s}");
        assert!(
            s.contains("503") && s.contains("Service Unavailable") && s.contains('6'),
            "{s}"
        );
        assert_eq!(e.status(), Some(503));
        let e = AsocError::BadPage {
            endpoint: "/api/v4/Issues/Application/a1".into(),
            app_id: Some("a1".into()),
            skip: 100,
            message: "not JSON".into(),
            excerpt: "<html>".into(),
            gave_up: None,
        };
        let s = e.to_string();
        assert!(
            s.contains("a1") && s.contains("$skip=100") && s.contains("<html>"),
            "{s}"
        );
    }

    #[test]
    fn chain_dedupes() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer: inner")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("inner")]
        struct Inner;
        assert_eq!(error_chain(&Outer(Inner)), "outer: inner");
    }
}
