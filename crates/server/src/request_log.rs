//! How a request is named in the service's debug log: its method, and its path and query
//! with the values of parameters that hold credentials hidden. Tokens belong in the
//! `Authorization` header, but a client that puts one in the address
//! (`?token=abt_…`, refused) had it written to the log whole.

use axum::http::{Request, Uri};
use tracing::Span;

/// Query parameters whose values are hidden (compared without case).
const HIDDEN: [&str; 7] = [
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "password",
];

/// The span of one request, as tower-http's default but with [`shown`]'s address.
pub fn span<B>(request: &Request<B>) -> Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        uri = %shown(request.uri()),
        version = ?request.version(),
    )
}

/// The path and query of `uri`, credentials' values as `***`.
pub fn shown(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_hidden(key) => format!("{key}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{}?{}", uri.path(), pairs.join("&"))
}

fn is_hidden(key: &str) -> bool {
    let key = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
    HIDDEN.iter().any(|h| key.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_query_are_hidden() {
        let uri: Uri = "/api/connectors/a/sync?token=abt_SEKRIT&x=1&Access%5FToken=SEKRIT"
            .parse()
            .expect("uri");
        assert_eq!(
            shown(&uri),
            "/api/connectors/a/sync?token=***&x=1&Access%5FToken=***"
        );
        let uri: Uri = "/api/findings?filter=severity%3Dhigh".parse().expect("uri");
        assert_eq!(shown(&uri), "/api/findings?filter=severity%3Dhigh");
        assert_eq!(shown(&"/".parse().expect("uri")), "/");
    }
}
