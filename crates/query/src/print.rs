//! Printing an [`Expr`] back to filter text, the inverse of [`crate::parser`].
//!
//! The text is canonical rather than what the user typed: canonical field names, explicit
//! `and`, text values always in double quotes, days as `2026-01-01`, instants in RFC 3339,
//! severities and status groups by name, and only the parentheses precedence needs. Parsing
//! the printed text gives back the same expression (columns aside), which the property
//! tests in `tests/proptest_print.rs` check.

use crate::ast::{Cond, Expr, Value};
use chrono::{DateTime, Duration, SecondsFormat, Timelike, Utc};
use model::Status;
use std::fmt;

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self, Level::Or)
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.field.name, self.op.as_str())?;
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write_value(f, v)?;
        }
        Ok(())
    }
}

/// How tightly the surrounding context binds: what may appear without parentheses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Or,
    And,
    Unary,
}

fn level(e: &Expr) -> Level {
    match e {
        Expr::Or(..) => Level::Or,
        Expr::And(..) => Level::And,
        Expr::Not(_) | Expr::Cond(_) => Level::Unary,
    }
}

/// Writes `e` where the context needs at least `min`; looser expressions get parentheses.
fn write_expr(f: &mut fmt::Formatter<'_>, e: &Expr, min: Level) -> fmt::Result {
    if level(e) < min {
        f.write_str("(")?;
        write_expr(f, e, Level::Or)?;
        return f.write_str(")");
    }
    match e {
        Expr::Cond(c) => write!(f, "{c}"),
        // Both operators are left-associative: a right operand of the same kind needs
        // parentheses to keep its shape.
        Expr::Or(a, b) => {
            write_expr(f, a, Level::Or)?;
            f.write_str(" or ")?;
            write_expr(f, b, Level::And)
        }
        Expr::And(a, b) => {
            write_expr(f, a, Level::And)?;
            f.write_str(" and ")?;
            write_expr(f, b, Level::Unary)
        }
        Expr::Not(a) => {
            f.write_str("not ")?;
            write_expr(f, a, Level::Unary)
        }
    }
}

fn write_value(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    match v {
        Value::Text(t) => write_quoted(f, t),
        Value::Any => f.write_str("*"),
        Value::Int(n) => write!(f, "{n}"),
        Value::Float(x) => write!(f, "{x}"),
        Value::Time { from, to } => write_time(f, *from, *to),
        Value::Severity(s) => f.write_str(&s.as_str().to_ascii_lowercase()),
        Value::Status(list) => write_statuses(f, list),
        Value::Bool(b) => write!(f, "{b}"),
    }
}

/// Double quotes, with `"` and `\` escaped the way the lexer reads them.
fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

/// A whole UTC day as `YYYY-MM-DD`; anything else as the instant it starts at.
fn write_time(f: &mut fmt::Formatter<'_>, from: DateTime<Utc>, to: DateTime<Utc>) -> fmt::Result {
    let midnight = from.num_seconds_from_midnight() == 0 && from.nanosecond() == 0;
    if midnight && to - from == Duration::days(1) {
        write!(f, "{}", from.format("%Y-%m-%d"))
    } else {
        f.write_str(&from.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// A status group by its name (`open`, `closed`), a single status by its own.
fn write_statuses(f: &mut fmt::Formatter<'_>, list: &[Status]) -> fmt::Result {
    let group = |open: bool| -> Vec<Status> {
        Status::ALL
            .into_iter()
            .filter(|s| s.is_open() == open)
            .collect()
    };
    if list == group(true).as_slice() {
        return f.write_str("open");
    }
    if list == group(false).as_slice() {
        return f.write_str("closed");
    }
    let names: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
    f.write_str(&names.join(","))
}

#[cfg(test)]
mod tests {
    use crate::fields::Entity;
    use crate::parser::parse;
    use chrono::Utc;

    fn round(s: &str) -> String {
        parse(Entity::Findings, s, Utc::now()).expect(s).to_string()
    }

    #[test]
    fn prints_canonical_text() {
        assert_eq!(
            round(r#"severity>=HIGH status:NEW app:'Shop*' cwe:CWE-79 lastFound>2026-01-01"#),
            r#"severity>=high and status:NEW and app:"Shop*" and cwe:79 and lastFound>2026-01-01"#
        );
        assert_eq!(round("status:open,closed"), "status:open,closed");
        assert_eq!(round(r#"name:"a \"b\" \\ c""#), r#"name:"a \"b\" \\ c""#);
        assert_eq!(round("name:*"), "name:*");
        assert_eq!(
            round("lastFound>=2026-01-01T10:00:00+02:00"),
            "lastFound>=2026-01-01T08:00:00Z"
        );
    }

    #[test]
    fn parentheses_only_where_precedence_needs_them() {
        assert_eq!(
            round("cwe:1 or cwe:2 and cwe:3"),
            "cwe:1 or cwe:2 and cwe:3"
        );
        assert_eq!(
            round("(cwe:1 or cwe:2) and cwe:3"),
            "(cwe:1 or cwe:2) and cwe:3"
        );
        assert_eq!(
            round("cwe:1 or (cwe:2 or cwe:3)"),
            "cwe:1 or (cwe:2 or cwe:3)"
        );
        assert_eq!(round("not (cwe:1 and cwe:2)"), "not (cwe:1 and cwe:2)");
        assert_eq!(round("!!cwe:1"), "not not cwe:1");
    }
}
