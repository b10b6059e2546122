//! One line of text for what went wrong: a bounded excerpt of a response body and the
//! chain of an error's causes. Each client builds its own messages from these (which
//! body fields carry the server's message differs between the two APIs).

use std::borrow::Cow;
use std::error::Error as StdError;

/// How many bytes of a body an error quotes when the server gave no message.
pub const EXCERPT_BYTES: usize = 200;

/// The first [`EXCERPT_BYTES`] bytes of `body` as one line of text, cut on a character
/// boundary, with `…` when cut. An HTML page (a proxy's or a web server's error page) is
/// its `<title>`, and line breaks become spaces: the excerpt goes into one-line reasons.
pub fn excerpt(body: &[u8]) -> String {
    let raw = String::from_utf8_lossy(body);
    let text = match html_title(&raw) {
        Some(title) => format!("an HTML page: {title}"),
        None => raw.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    if text.len() <= EXCERPT_BYTES {
        return text;
    }
    let mut end = EXCERPT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `body` with each of `secrets` — the credentials its request carried (key secret,
/// token, session) — replaced by `[REDACTED]`. A server or proxy that echoes requests
/// back ("Forbidden for request with headers authorization: Bearer …") had them quoted
/// in errors, run reasons, the dashboard and logs. Done to the whole body before it is
/// quoted, so a credential that an excerpt's end would cut is not left half shown.
pub fn hide<'a>(body: &'a [u8], secrets: &[&str]) -> Cow<'a, [u8]> {
    let text = String::from_utf8_lossy(body);
    let found: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| !s.is_empty() && text.contains(s))
        .collect();
    if found.is_empty() {
        return Cow::Borrowed(body);
    }
    let mut text = text.into_owned();
    for secret in found {
        text = text.replace(secret, "[REDACTED]");
    }
    Cow::Owned(text.into_bytes())
}

/// The title of an HTML page, whitespace collapsed; `None` when `text` is no HTML page or
/// has no title.
fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.trim_start();
    if !(start.starts_with("<!doctype html") || start.starts_with("<html")) {
        return None;
    }
    let open = lower.find("<title")?;
    let from = open + lower[open..].find('>')? + 1;
    let to = from + lower[from..].find("</title")?;
    let title: Vec<&str> = text.get(from..to)?.split_whitespace().collect();
    (!title.is_empty()).then(|| title.join(" "))
}

/// An error and its sources joined with `: `, leaving out a source whose text an
/// earlier part already holds (reqwest and hyper repeat their causes) or that only puts
/// a prefix before the text of the cause it wraps (SQLite's "Error code 26: file is not
/// a database" under rusqlite's "file is not a database").
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut previous: Option<String> = None;
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        let repeated = parts.iter().any(|p| p.contains(&s))
            || previous
                .as_deref()
                .is_some_and(|p| !p.is_empty() && s.ends_with(p));
        if !repeated {
            parts.push(s.clone());
        }
        previous = Some(s);
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_one_line_and_an_html_page_its_title() {
        let page = b"<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<title>Error response</title>\n</head>\n<body><h1>Error 501</h1></body></html>\n";
        assert_eq!(excerpt(page), "an HTML page: Error response");
        assert_eq!(excerpt(b"line one\r\n  line two\n"), "line one line two");
        assert_eq!(
            excerpt(b"<html><body>no title</body></html>"),
            "<html><body>no title</body></html>"
        );
    }

    /// A credential echoed in a body is hidden wherever it is, also where an excerpt
    /// would have cut it.
    #[test]
    fn hidden_credentials_are_hidden_before_the_excerpt_cuts() {
        let secret = "SEKRIT-0123456789abcdef";
        let body = format!(
            "{}{secret} and Bearer tok-1",
            "x".repeat(EXCERPT_BYTES - 10)
        );
        let quoted = excerpt(&hide(body.as_bytes(), &[secret, "tok-1", ""]));
        assert!(!quoted.contains("SEKRIT"), "{quoted}");
        let echoed = hide(b"authorization: Bearer tok-1", &["tok-1"]);
        assert_eq!(&*echoed, b"authorization: Bearer [REDACTED]");
        assert!(matches!(hide(b"nothing", &["tok-1", ""]), Cow::Borrowed(_)));
    }

    #[test]
    fn excerpt_cuts_on_char_boundary() {
        let s = "é".repeat(300); // 2 bytes each
        let e = excerpt(s.as_bytes());
        assert!(e.ends_with('…'));
        assert!(e.len() <= EXCERPT_BYTES + 3);
        let invalid = [0xff_u8; 10];
        assert_eq!(excerpt(&invalid).chars().count(), 10);
    }

    #[test]
    fn error_chain_says_each_cause_once() {
        #[derive(Debug)]
        struct Wrap(&'static str, Option<Box<Wrap>>);
        impl std::fmt::Display for Wrap {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl StdError for Wrap {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                self.1.as_deref().map(|w| w as &(dyn StdError + 'static))
            }
        }
        let reset = Wrap("connection reset", None);
        let hyper = Wrap("request failed: connection reset", Some(Box::new(reset)));
        let top = Wrap("error sending request", Some(Box::new(hyper)));
        assert_eq!(
            error_chain(&top),
            "error sending request: request failed: connection reset"
        );
        let code = Wrap("Error code 26: file is not a database", None);
        let sqlite = Wrap("file is not a database", Some(Box::new(code)));
        let store = Wrap(
            "cannot open the store at s.db: file is not a database",
            Some(Box::new(sqlite)),
        );
        assert_eq!(
            error_chain(&store),
            "cannot open the store at s.db: file is not a database"
        );
    }
}
