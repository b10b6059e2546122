//! Text as every store can hold it, and as a reader can see it.
//!
//! Scanned sites put anything in names, URLs and texts: [`storable`] keeps what a store
//! refuses out of a write; [`visible`] shows what would act on a terminal or reorder a
//! line (the CLI's tables and the dashboard's pages both use it, so a hostile value reads
//! the same in each).

use std::borrow::Cow;
use std::fmt::Write;

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

/// The formatting characters of Unicode's bidirectional algorithm (marks, embeddings,
/// overrides, isolates): invisible, they reorder what is shown around them, so that
/// `x.test/\u{202E}gnp.exe` reads `x.test/exe.png`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every control character (ESC, BEL, BS, CR, LF, NUL, DEL, C1) shown escaped
/// (`\x1b`) and every bidirectional control named (`<U+202E>`); with `keep_lines`, line
/// breaks and tabs stay (a text of several lines).
pub fn visible(s: &str, keep_lines: bool) -> Cow<'_, str> {
    let hidden = |c: char| {
        let kept = keep_lines && (c == '\n' || c == '\t');
        (c.is_control() && !kept) || is_bidi_control(c)
    };
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !hidden(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "<U+{:04X}>", c as u32);
        }
    }
    Cow::Owned(out)
}

/// [`visible`] on one line, cut to at most `n` characters with `…` at the cut: a table
/// cell's text (a scanned site's 60,000-character name made a page 90,000 px tall).
pub fn cut(s: &str, n: usize) -> Cow<'_, str> {
    let s = visible(s, false);
    match s.char_indices().nth(n) {
        None => s,
        Some(_) => {
            let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
            out.push('…');
            Cow::Owned(out)
        }
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

    #[test]
    fn controls_and_bidi_overrides_are_shown_not_acted_on() {
        assert!(is_bidi_control('\u{202E}') && is_bidi_control('\u{2066}'));
        assert!(!is_bidi_control('a') && !is_bidi_control('\u{200B}'));
        assert_eq!(
            visible("https://x.test/\u{202E}gnp.exe\0\u{1b}[2J", false),
            "https://x.test/<U+202E>gnp.exe\\x00\\x1b[2J"
        );
        assert_eq!(visible("a\nb\tc\r", true), "a\nb\tc\\x0d");
        assert_eq!(visible("a\nb", false), "a\\x0ab");
        assert!(matches!(visible("plain — ü", false), Cow::Borrowed(_)));
    }
}
