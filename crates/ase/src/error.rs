//! The one error type of the crate, [`AseError`], and the helpers that turn an error
//! body into a short, printable message.
//!
//! Every variant that comes from a request names the endpoint (and the HTTP status when
//! there was one), because the people reading it run ASE themselves and need to know
//! which call their server refused. Nothing in it can hold the key secret or the
//! session: login bodies are never quoted, request headers never formatted, and
//! messages quoted from the server are scrubbed of the secret.

use serde_json::Value;

pub use apiclient::text::{EXCERPT_BYTES, error_chain, excerpt};

/// Everything that can go wrong talking to AppScan Enterprise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AseError {
    /// A setting is missing or out of range (caught before any request).
    #[error("configuration error: {0}")]
    Config(String),

    /// The key login was refused (`401`: wrong key id or secret, or a revoked key).
    #[error("authentication failed (HTTP {status}): {message}")]
    Auth {
        /// HTTP status of the refusal.
        status: u16,
        /// What went wrong.
        message: String,
    },

    /// `403` on a call: the user lacks permission for it.
    #[error("forbidden: {endpoint}: {message}")]
    Forbidden {
        /// Request path.
        endpoint: String,
        /// The server's message, or a body excerpt.
        message: String,
    },

    /// Any other unsuccessful status, or a retryable one (429, 5xx) still failing when
    /// the retries ran out.
    #[error("{method} {endpoint} failed with HTTP {status} after {attempts} attempt(s): {excerpt}")]
    Http {
        /// Request method.
        method: String,
        /// Request path.
        endpoint: String,
        /// Last HTTP status.
        status: u16,
        /// The server's message, or the first bytes of the body.
        excerpt: String,
        /// Attempts made, the first one included.
        attempts: u32,
    },

    /// No complete answer within the timeout, every attempt.
    #[error("request to {endpoint} timed out after {attempts} attempt(s)")]
    Timeout {
        /// Request path.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
    },

    /// The connection failed: DNS, refused, reset, or TLS.
    #[error("transport error on {endpoint}: {detail}")]
    Transport {
        /// Request path.
        endpoint: String,
        /// The source chain, flattened.
        detail: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// A successful answer that is not what the endpoint documents (not JSON, not an
    /// array, no session id, a `Content-Range` that does not add up).
    #[error("unexpected response from {endpoint}: {message}")]
    InvalidResponse {
        /// Request path.
        endpoint: String,
        /// What was wrong with it.
        message: String,
    },

    /// The extra CA file could not be read or parsed, or the HTTP client not built.
    #[error("TLS setup: {0}")]
    Tls(String),
}

impl AseError {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            AseError::Auth { status, .. } | AseError::Http { status, .. } => Some(*status),
            AseError::Forbidden { .. } => Some(403),
            _ => None,
        }
    }
}

/// A short account of an error body: ASE's `errorMessage`/`message`, else the first
/// [`EXCERPT_BYTES`] bytes; `"(empty body)"` when there is none.
pub fn body_message(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "(empty body)".to_string();
    }
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        for key in ["errorMessage", "message", "Message", "error"] {
            if let Some(m) = map
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                return m.to_string();
            }
        }
    }
    excerpt(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(body_message(b""), "(empty body)");
        assert_eq!(
            body_message(br#"{"errorMessage":"Invalid credentials","code":"CRWAS1"}"#),
            "Invalid credentials"
        );
        assert_eq!(body_message(b"<html>oops</html>"), "<html>oops</html>");
        let long = "é".repeat(300);
        assert!(excerpt(long.as_bytes()).ends_with('…'));
    }

    #[test]
    fn display_names_endpoint_and_status() {
        let e = AseError::Http {
            method: "GET".into(),
            endpoint: "/ase/api/issues".into(),
            status: 503,
            excerpt: "busy".into(),
            attempts: 3,
        };
        let s = e.to_string();
        assert!(
            s.contains("GET /ase/api/issues") && s.contains("503") && s.contains('3'),
            "{s}"
        );
        assert_eq!(e.status(), Some(503));
    }
}
