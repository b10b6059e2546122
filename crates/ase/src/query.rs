//! ASE's `query` filter syntax: `Attribute Name=value` terms joined by commas; a comma
//! (or a backslash) inside a value is escaped with a backslash.

/// One `Attribute=value` term, the value escaped.
pub fn term(attribute: &str, value: &str) -> String {
    let mut out = String::with_capacity(attribute.len() + value.len() + 1);
    out.push_str(attribute);
    out.push('=');
    for c in value.chars() {
        if c == ',' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The query selecting one application's issues.
pub fn application(name: &str) -> String {
    term("Application Name", name)
}

/// Splits a query into (attribute, value) terms, undoing the escapes (what a server
/// does with it; used by the simulator and tests).
pub fn parse(query: &str) -> Vec<(String, String)> {
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut chars = query.chars();
    let mut push = |cur: &mut String| {
        if let Some((k, v)) = cur.split_once('=') {
            terms.push((k.trim().to_string(), v.to_string()));
        }
        cur.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' => push(&mut cur),
            c => cur.push(c),
        }
    }
    push(&mut cur);
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let q = application(r"Shop, EU \ prod");
        assert_eq!(q, r"Application Name=Shop\, EU \\ prod");
        assert_eq!(
            parse(&format!("{q},Severity=High")),
            vec![
                (
                    "Application Name".to_string(),
                    r"Shop, EU \ prod".to_string()
                ),
                ("Severity".to_string(), "High".to_string())
            ]
        );
    }
}
