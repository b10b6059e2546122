//! Printing: tables for people, JSON for scripts, and the formats both share.
//!
//! Text that comes from scanned sites, AppScan or files (names, URLs, reasons, record
//! issues, error pages) goes through [`line`] or [`text`] before it reaches a terminal:
//! an escape sequence in an issue name cleared the screen, set the window title or hid a
//! link, and a newline in a severity forged a line of the import's warnings.

use chrono::{DateTime, Utc};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use std::borrow::Cow;

/// A one-line value made safe to print: every control character (ESC, BEL, BS, CR, LF,
/// NUL, DEL, C1) is shown escaped (`\x1b`), as are the invisible bidirectional
/// controls that reorder what is shown (`<U+202E>`).
pub fn line(s: &str) -> Cow<'_, str> {
    model::text::visible(s, false)
}

/// [`line`] for a text of several lines: its line breaks and tabs are kept.
pub fn text(s: &str) -> Cow<'_, str> {
    model::text::visible(s, true)
}

/// Prints a table; its cells' text is made visible by [`text`] (cells may hold lines).
pub fn print_table(t: &Table) {
    println!("{}", text(&t.to_string()));
}

/// A table with the project's look.
pub fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.iter().copied());
    t
}

/// Prints a value as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `2026-11-23 09:51:06Z`: UTC, and marked so (tables showed the bare time, which read as
/// local time to whoever was not on UTC; `--json`, the API and the dashboard say `Z`).
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

pub fn time_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(time).unwrap_or_else(|| "-".into())
}

/// `1.2 s`, `3 min 4 s`.
/// What a run wrote and asked, in words: `5 inserted, 0 updated, … ; 3 requests, 0 retries`.
pub fn counters(c: &store::RunCounters) -> String {
    format!(
        "{} inserted, {} updated, {} unchanged, {} failed, {} warnings, {} closed; {} requests, {} retries",
        c.inserted, c.updated, c.unchanged, c.failed, c.warnings, c.closed, c.requests, c.retries
    )
}

pub fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{} min {} s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// Cuts text to `n` characters for a table cell, made visible first ([`line`]).
pub fn cut(s: &str, n: usize) -> String {
    model::text::cut(s, n).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_say_they_are_utc() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 9, 51, 6).single();
        assert_eq!(time_opt(t), "2026-11-23 09:51:06Z");
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_shown_not_acted_on() {
        let hostile = "CTL\u{1b}[2J\u{1b}]0;PWNED\u{7}\r\u{8}x\nforged\u{202E}gpj.exe\u{9b}";
        assert_eq!(
            line(hostile),
            "CTL\\x1b[2J\\x1b]0;PWNED\\x07\\x0d\\x08x\\x0aforged<U+202E>gpj.exe\\x9b"
        );
        assert_eq!(text("a\nb\tc\u{1b}"), "a\nb\tc\\x1b");
        assert!(matches!(line("plain — ü"), Cow::Borrowed(_)));
        assert_eq!(cut("\u{1b}[31mred", 6), "\\x1b[…");
    }
}
