//! Reading JSON bodies as AppScan's servers write them. Their .NET serializers write a
//! string cut in the middle of a character, or a scanned page's stray half of a UTF-16
//! pair, as a lone surrogate escape (`"\ud800"`): valid JSON syntax that no Rust string
//! can hold. serde_json refuses the whole body, so one such string lost its page (fifty
//! records) on every sync. Such an escape reads as U+FFFD instead.

use serde::de::DeserializeOwned;

/// `serde_json::from_slice`, reading a lone surrogate escape as U+FFFD.
pub fn from_slice<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match serde_json::from_slice(body) {
        Err(e) if e.is_syntax() => match without_lone_surrogates(body) {
            Some(repaired) => serde_json::from_slice(&repaired),
            None => Err(e),
        },
        other => other,
    }
}

/// `body` with each lone surrogate escape (a high one not followed by a low one, or a
/// low one alone) written as `\ufffd`; `None` when it has none. Backslashes occur only
/// inside JSON strings, so each escape is read where it starts.
fn without_lone_surrogates(body: &[u8]) -> Option<Vec<u8>> {
    let unit = |at: usize| -> Option<u16> {
        let hex = body.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out = Vec::with_capacity(body.len());
    let mut changed = false;
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            out.push(body[i]);
            i += 1;
            continue;
        }
        let escape = match unit(i) {
            Some(0xD800..=0xDBFF) if matches!(unit(i + 6), Some(0xDC00..=0xDFFF)) => 12,
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                changed = true;
                i += 6;
                continue;
            }
            Some(_) => 6,
            // `\"`, `\\`, `\n`…: two bytes, so that an escaped backslash before a `u` is
            // not read as the start of an escape.
            None => 2,
        };
        let end = (i + escape).min(body.len());
        out.extend_from_slice(&body[i..end]);
        i = end;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_lone_surrogate_reads_as_a_replacement_character() {
        let body = br#"{"Items":[{"Element":"el \ud800 x","Pair":"\ud83d\ude00","Low":"\udc00","Bs":"\\ud800"}]}"#;
        let v: Value = from_slice(body).expect("read");
        assert_eq!(v["Items"][0]["Element"], "el \u{FFFD} x");
        assert_eq!(v["Items"][0]["Pair"], "\u{1F600}", "a pair is kept");
        assert_eq!(v["Items"][0]["Low"], "\u{FFFD}");
        assert_eq!(
            v["Items"][0]["Bs"], "\\ud800",
            "an escaped backslash is text"
        );
        // Other broken bodies stay errors.
        assert!(from_slice::<Value>(b"{\"a\":").is_err());
        assert_eq!(
            from_slice::<Value>(b"{\"a\":1}").expect("plain"),
            json!({"a": 1})
        );
    }
}
