//! ASE serves attribute values HTML-escaped (`Location` as `https://h/a?x=1&amp;y=2`);
//! [`unescape`] gives the text back.

/// Replaces `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`/`&#39;` and numeric references
/// (`&#233;`, `&#xE9;`); anything else is left as it is.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        // Bytes, not a slice of the text: byte 12 may fall inside a character (`&` then
        // Japanese text panicked). `;` is ASCII, so where it is found is a boundary.
        let end = tail.bytes().take(12).position(|b| b == b';');
        let decoded = end.and_then(|e| {
            let name = &tail[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities() {
        assert_eq!(
            unescape("https://h/a?x=1&amp;y=&lt;b&gt; &quot;q&quot; &#39;s&#39; &#233;&#xE9;"),
            "https://h/a?x=1&y=<b> \"q\" 's' éé"
        );
        assert_eq!(unescape("a & b &unknown; &"), "a & b &unknown; &");
        assert_eq!(unescape("plain"), "plain");
        // `&` before text whose twelfth byte falls inside a character: it panicked.
        assert_eq!(unescape("&日本語の説明"), "&日本語の説明");
        assert_eq!(unescape("&amp;日本語&lt;"), "&日本語<");
    }
}
