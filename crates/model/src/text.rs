//! Text as every store can hold it.

use std::borrow::Cow;

/// `s` without NUL characters, which PostgreSQL's text cannot hold: one NUL in a scanned
/// page's text failed the whole write, and with it every sync of the connector. Each
/// becomes U+FFFD, so that something visibly stood there, the same on both backends.
pub fn storable(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_becomes_a_replacement_character_and_the_rest_stays() {
        assert_eq!(storable("a\0b\0"), "a\u{FFFD}b\u{FFFD}");
        assert!(matches!(storable("plain"), Cow::Borrowed("plain")));
    }
}
