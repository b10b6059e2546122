//! Locations as SARIF `artifactLocation.uri` values: RFC 3986 URI references that the
//! SARIF schema (`format: uri-reference`), Microsoft's validator and GitHub accept.
//!
//! - A URL with a host (a DAST finding's attacked URL) stays an absolute URI: what the
//!   WHATWG parser of the `url` crate leaves that RFC 3986 forbids (`[`, `]`, `|`, `{`,
//!   `^`, a `%` without two hex digits, a second `#`) is percent-encoded; an already
//!   valid URI is kept as it is.
//! - A file path (SAST) is a path, never a URI: every segment is percent-encoded as RFC
//!   3986 `segment` (so `%41` stays those three characters, `%2541`), `/` and `\` both
//!   separate segments, and a trailing `:LINE` or `:LINE:COLUMN` becomes the region.
//!   A relative path stays a relative reference (its first segment's `:` encoded, so it
//!   cannot read as a scheme); an absolute one — `/opt/app/…`, `C:/…`, `\\server\share\…`
//!   — becomes a `file:` URI, since SARIF forbids relative references that start with
//!   `/` (SARIF1004).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode, utf8_percent_encode};
use serde_json::{Value, json};

/// What RFC 3986 encodes in a path segment: everything but `pchar` minus `%`
/// (unreserved, sub-delims, `:` and `@`); bytes past ASCII are always encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// [`SEGMENT`] with `:` encoded too.
const SEGMENT_NO_COLON: &AsciiSet = &SEGMENT.add(b':');

/// `s` as one RFC 3986 path segment: everything but `pchar` percent-encoded (UTF-8),
/// `:` too when `colon` is false (the first segment of a relative reference, or a
/// component that must not be read as a scheme or split).
pub fn encode_segment(s: &str, colon: bool) -> String {
    let set = if colon { SEGMENT } else { SEGMENT_NO_COLON };
    utf8_percent_encode(s, set).to_string()
}

/// A URL with a host as a valid absolute RFC 3986 URI, or `None` when `text` is not one.
/// Its scheme and authority are the `url` crate's (host lower case, IDN as punycode);
/// its path, query and fragment are as written, with what RFC 3986 forbids encoded.
pub fn absolute_url(text: &str) -> Option<String> {
    let text = text.trim();
    let u = url::Url::parse(text).ok()?;
    if !u.has_host() || u.scheme().len() < 2 {
        // `C:/x` parses as scheme `c`: a Windows path, not a URL.
        return None;
    }
    let head = &u[..url::Position::BeforePath];
    let rest = match after_authority(text) {
        // A path-abempty that is empty: the parser's `/`, as before.
        Some(rest) if !rest.starts_with('/') && u.path().starts_with('/') => {
            format!("/{rest}")
        }
        Some(rest) => rest.to_string(),
        None => u.as_str()[head.len()..].to_string(),
    };
    let mut out = String::with_capacity(head.len() + rest.len() + 8);
    out.push_str(head);
    let bytes = rest.as_bytes();
    let mut in_fragment = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'/' | b'?' => out.push(b as char),
            b'#' if !in_fragment => {
                in_fragment = true;
                out.push('#');
            }
            b'%' if bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                out.push('%')
            }
            b => out.extend(percent_encode(std::slice::from_ref(&b), SEGMENT)),
        }
    }
    Some(out)
}

/// The path, query and fragment of `text` as written, after `scheme://authority`; `None`
/// when the text is not written that way (`http:host`, a `\` after the host), where
/// the parser's reading is taken. The parser resolves `.` and `..` segments, `%2e%2e`
/// too: a path-traversal finding's `/app/../../etc/passwd` became `/etc/passwd`.
fn after_authority(text: &str) -> Option<&str> {
    let (_, after) = text.split_once("://")?;
    let end = after.find(['/', '?', '#', '\\']).unwrap_or(after.len());
    let rest = &after[end..];
    (!rest.starts_with('\\')).then_some(rest)
}

/// A web finding's location written as a network-path reference (`//host/path`, RFC 3986
/// 4.2) as an absolute URL with the finding's scheme: its protocol when that is http(s),
/// else its application URL's. `None` for anything else, which stays as it is (`//srv/x`
/// of a SAST finding is a UNC path).
pub fn web_network_path(
    location: &str,
    protocol: Option<&str>,
    asset_url: Option<&str>,
) -> Option<String> {
    let loc = location.trim();
    let rest = loc.strip_prefix("//")?;
    if rest.is_empty() || rest.starts_with('/') || rest.starts_with('\\') {
        return None;
    }
    let web = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        matches!(s.as_str(), "http" | "https").then_some(s)
    };
    let scheme = protocol.and_then(web).or_else(|| {
        asset_url
            .and_then(|u| url::Url::parse(u.trim()).ok())
            .and_then(|u| web(u.scheme()))
    })?;
    let url = url::Url::parse(&format!("{scheme}:{loc}")).ok()?;
    url.has_host().then(|| url.to_string())
}

/// Splits a trailing `:LINE` or `:LINE:COLUMN` off a path.
pub(crate) fn split_position(loc: &str) -> (&str, Option<u64>, Option<u64>) {
    fn number(s: &str) -> Option<u64> {
        (!s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    }
    let Some((head, last)) = loc.rsplit_once(':') else {
        return (loc, None, None);
    };
    let Some(n) = number(last) else {
        return (loc, None, None);
    };
    if let Some((path, line)) = head.rsplit_once(':')
        && let Some(l) = number(line)
        && !is_drive(path)
        && !path.is_empty()
    {
        return (path, Some(l), Some(n));
    }
    if head.is_empty() || is_drive(head) {
        // `C:12`, `:12`: no path to put a line on.
        return (loc, None, None);
    }
    (head, Some(n), None)
}

/// `C` of `C:…` alone.
fn is_drive(s: &str) -> bool {
    s.len() == 1 && s.as_bytes()[0].is_ascii_alphabetic()
}

/// Segments of an absolute path with `.` dropped and `..` applied (SARIF forbids `..`
/// in `file:` URIs, SARIF1002), each encoded.
fn absolute_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let mut out = String::new();
    for s in &kept {
        out.push('/');
        out.push_str(&encode_segment(s, true));
    }
    if path.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// A file path (`/` or `\` separated) as a URI reference, or `None` when empty.
pub fn path_uri(path: &str) -> Option<String> {
    let p = path.trim().replace('\\', "/");
    if p.is_empty() {
        return None;
    }
    let b = p.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b.len() == 2 || b[2] == b'/')
    {
        // A Windows drive: file:///C:/…
        let drive = &p[..1];
        return Some(format!(
            "file:///{}:{}",
            drive.to_ascii_uppercase(),
            absolute_segments(&p[2..])
        ));
    }
    if let Some(unc) = p.strip_prefix("//") {
        // \\server\share\… : file://server/share/…
        let (host, rest) = unc.split_once('/').unwrap_or((unc, ""));
        if !host.is_empty() {
            let host: String = encode_segment(host, false);
            return Some(format!("file://{host}{}", absolute_segments(rest)));
        }
    }
    if p.starts_with('/') {
        return Some(format!("file://{}", absolute_segments(&p)));
    }
    let mut rel = p.as_str();
    while let Some(r) = rel.strip_prefix("./") {
        rel = r;
    }
    if rel.is_empty() || rel == "." {
        return None;
    }
    let mut out = String::with_capacity(rel.len() + 8);
    for (i, seg) in rel.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&encode_segment(seg, i > 0));
    }
    Some(out)
}

/// A finding's location as a SARIF `physicalLocation`: a URL whole, a file path encoded,
/// with `region.startLine` (and `startColumn`) from a `:LINE[:COLUMN]` suffix. `None`
/// when nothing usable is left.
pub fn physical_location(loc: &str) -> Option<Value> {
    let loc = loc.trim();
    if let Some(u) = absolute_url(loc) {
        return Some(json!({ "artifactLocation": { "uri": u } }));
    }
    let (path, line, column) = split_position(loc);
    let uri = path_uri(path)?;
    let mut v = json!({ "artifactLocation": { "uri": uri } });
    if let Some(l) = line.filter(|n| *n > 0) {
        let mut region = json!({ "startLine": l });
        if let Some(c) = column.filter(|n| *n > 0) {
            region["startColumn"] = json!(c);
        }
        v["region"] = region;
    }
    Some(v)
}

/// Where a result without a usable location points: the application's URL when it has
/// one, else a relative reference naming the application (its id, as one encoded
/// segment), so that every result has the location GitHub requires.
pub fn application_location(app_url: Option<&str>, app_id: &str) -> Value {
    let uri =
        app_url
            .and_then(absolute_url)
            .unwrap_or_else(|| match encode_segment(app_id, false) {
                s if s.is_empty() || s == "." || s == ".." => format!("application-{s}"),
                s => s,
            });
    json!({ "artifactLocation": { "uri": uri } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(loc: &str) -> String {
        physical_location(loc).expect("location")["artifactLocation"]["uri"]
            .as_str()
            .expect("uri")
            .to_string()
    }

    #[test]
    fn urls() {
        assert_eq!(
            uri("https://shop.example.com/a b?q=1"),
            "https://shop.example.com/a%20b?q=1"
        );
        assert_eq!(
            uri("https://shop.example.com/a%20b?q=1"),
            "https://shop.example.com/a%20b?q=1"
        );
        assert_eq!(
            uri("https://x.example/p|[1]^?q={a}&r=%zz#f#g"),
            "https://x.example/p%7C%5B1%5D%5E?q=%7Ba%7D&r=%25zz#f%23g"
        );
        assert_eq!(uri("http://[::1]:8080/a"), "http://[::1]:8080/a");
        assert_eq!(
            uri("https://Shop.Example.com?q=1"),
            "https://shop.example.com/?q=1"
        );
    }

    /// A valid URI is kept as written: the `url` crate resolved dot segments, and a
    /// path-traversal finding lost the path it attacked.
    #[test]
    fn dot_segments_stay() {
        for (loc, want) in [
            (
                "http://h:9000/app/../../etc/passwd",
                "http://h:9000/app/../../etc/passwd",
            ),
            (
                "http://h/img/%2e%2e/%2e%2e/etc/passwd",
                "http://h/img/%2e%2e/%2e%2e/etc/passwd",
            ),
            ("http://h/a/./b", "http://h/a/./b"),
            ("http://h/ü/../x", "http://h/%C3%BC/../x"),
            ("http://h\\a", "http://h/a"),
        ] {
            assert_eq!(uri(loc), want, "{loc}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(
            uri("src/über/Straße.java"),
            "src/%C3%BCber/Stra%C3%9Fe.java"
        );
        assert_eq!(uri("src/100%/a.java"), "src/100%25/a.java");
        assert_eq!(uri("src/%41.java"), "src/%2541.java");
        assert_eq!(uri("pages/[id].tsx"), "pages/%5Bid%5D.tsx");
        assert_eq!(uri("src\\main\\Login.java"), "src/main/Login.java");
        assert_eq!(
            uri("C:/Users/dev/My Project/src/Login.java"),
            "file:///C:/Users/dev/My%20Project/src/Login.java"
        );
        assert_eq!(
            uri("c:\\Users\\dev\\Login.java"),
            "file:///C:/Users/dev/Login.java"
        );
        assert_eq!(
            uri("/opt/app/src/Main.java"),
            "file:///opt/app/src/Main.java"
        );
        assert_eq!(uri("/opt/app/../x/./Main.java"), "file:///opt/x/Main.java");
        assert_eq!(uri("\\\\srv\\share\\a b.c"), "file://srv/share/a%20b.c");
        assert_eq!(uri("./src/a.java"), "src/a.java");
        assert_eq!(uri("C:x"), "C%3Ax");
        assert_eq!(uri("a:b/c:d"), "a%3Ab/c:d");
    }

    #[test]
    fn lines_and_columns() {
        assert_eq!(
            physical_location("src\\main\\Login.java:42"),
            Some(
                json!({"artifactLocation": {"uri": "src/main/Login.java"}, "region": {"startLine": 42}})
            )
        );
        assert_eq!(
            physical_location("src/Main.java:12:5"),
            Some(json!({"artifactLocation": {"uri": "src/Main.java"},
                "region": {"startLine": 12, "startColumn": 5}}))
        );
        assert_eq!(
            physical_location("C:/a/Main.java:7"),
            Some(
                json!({"artifactLocation": {"uri": "file:///C:/a/Main.java"}, "region": {"startLine": 7}})
            )
        );
        assert_eq!(
            physical_location("C:12"),
            Some(json!({"artifactLocation": {"uri": "C%3A12"}}))
        );
        assert_eq!(physical_location("  "), None);
    }

    /// `//host/path` of a web finding (its protocol or its application's URL http/https)
    /// is a network-path reference: a URL with that scheme, not a UNC file path.
    #[test]
    fn network_path_references_of_web_findings() {
        let loc = "//shop.example.com/login?next=/admin";
        let want = Some("http://shop.example.com/login?next=/admin".to_string());
        assert_eq!(web_network_path(loc, Some("http"), None), want);
        assert_eq!(
            web_network_path(loc, None, Some("https://shop.example.com/")),
            Some("https://shop.example.com/login?next=/admin".to_string())
        );
        assert_eq!(web_network_path(loc, Some("HTTP"), Some("ftp://x")), want);
        assert_eq!(web_network_path(loc, None, None), None, "not a web finding");
        assert_eq!(web_network_path("//srv/share/a.c", Some("ftp"), None), None);
        assert_eq!(web_network_path("src/a.java", Some("http"), None), None);
        assert_eq!(web_network_path("///x", Some("http"), None), None);
    }

    #[test]
    fn applications() {
        assert_eq!(
            application_location(Some("https://shop.example.com"), "app-1"),
            json!({"artifactLocation": {"uri": "https://shop.example.com/"}})
        );
        assert_eq!(
            application_location(None, "application:支払/x"),
            json!({"artifactLocation": {"uri": "application%3A%E6%94%AF%E6%89%95%2Fx"}})
        );
    }
}
