//! How a request is named in the service's log: its method, and its path and query
//! with the values of parameters that hold credentials hidden. Tokens belong in the
//! `Authorization` header, but a client that puts one in the address
//! (`?token=abt_…`, refused) had it written to the log whole.

use axum::http::{Request, Uri};
use tracing::Span;

/// Parts of a query parameter's name that make its value hidden (compared without
/// case): `token`, `api_token`, `key_secret`, `passwd`, `session_id`, `auth`, ….
const HIDDEN: [&str; 6] = ["token", "key", "secret", "pass", "session", "auth"];

/// The span of one request, as tower-http's default but with [`shown`]'s address, and at
/// info level: at debug, a failed request's log line (`response failed … 503`) named
/// neither its method nor its path unless the whole log was at debug.
pub fn span<B>(request: &Request<B>) -> Span {
    tracing::info_span!(
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
    // Pairs end at `&`, and at `;` too, which some servers also take.
    let mut shown = String::with_capacity(query.len());
    for pair in query.split_inclusive(['&', ';']) {
        let (pair, end) = match pair.strip_suffix(['&', ';']) {
            Some(p) => (p, &pair[p.len()..]),
            None => (pair, ""),
        };
        match pair.split_once('=') {
            Some((key, _)) if is_hidden(key) => shown.push_str(&format!("{key}=***")),
            _ => shown.push_str(pair),
        }
        shown.push_str(end);
    }
    format!("{}?{shown}", uri.path())
}

fn is_hidden(key: &str) -> bool {
    let key = percent_encoding::percent_decode_str(key)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    HIDDEN.iter().any(|h| key.contains(h))
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
        let uri: Uri = "/api/findings?api_token=S1&limit=1;key_secret=S2&passwd=S3"
            .parse()
            .expect("uri");
        assert_eq!(
            shown(&uri),
            "/api/findings?api_token=***&limit=1;key_secret=***&passwd=***"
        );
        let uri: Uri = "/api/findings?filter=severity%3Dhigh".parse().expect("uri");
        assert_eq!(shown(&uri), "/api/findings?filter=severity%3Dhigh");
        assert_eq!(shown(&"/".parse().expect("uri")), "/");
    }
}
