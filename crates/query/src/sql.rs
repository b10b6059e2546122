//! Compiling an [`Expr`] to a SQL condition and its parameters, per [`Dialect`].
//!
//! Values only ever travel as parameters (`?N` in SQLite, `$N` in PostgreSQL); the SQL
//! text is made of the registry's fixed column expressions, operators and placeholders.
//! Every condition is two-valued — a NULL column is "no match" for `:`/`>`/… and "match"
//! for `!=` — so `not` means what users expect on fields that may be empty.
//!
//! Text matches are case-insensitive patterns, alike on both backends: an ASCII pattern
//! folds ASCII only (SQLite `LIKE`, whose prefixes indexes with `COLLATE NOCASE` serve;
//! PostgreSQL `ILIKE` under the "C" collation), any other compares [`fold_case`]d text.
//! `*` becomes `%`; `%`, `_` and `\` in the value are escaped.

use crate::ast::{Cond, Expr, Op, Value};
use crate::fields::FieldType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The SQL dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    /// A time; SQLite stores RFC 3339 text, PostgreSQL `TIMESTAMPTZ`: the backend binds it.
    Time(DateTime<Utc>),
}

/// Parameter `n`'s placeholder: `?N` in SQLite, `$N` cast to the value's type in
/// PostgreSQL (so the server never has to guess it from the column).
pub fn placeholder(dialect: Dialect, n: usize, p: &Param) -> String {
    let cast = match p {
        Param::Text(_) => "::text",
        Param::Int(_) => "::bigint",
        Param::Float(_) => "::float8",
        Param::Time(_) => "::timestamptz",
    };
    match dialect {
        Dialect::Sqlite => format!("?{n}"),
        Dialect::Postgres => format!("${n}{cast}"),
    }
}

/// A compiled condition: SQL text with placeholders, and the values for them in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub sql: String,
    pub params: Vec<Param>,
}

/// Compiles `expr`; placeholders are numbered from `first` (so callers can bind their own
/// parameters before).
pub fn compile(expr: &Expr, dialect: Dialect, first: usize) -> Compiled {
    let mut w = Writer {
        dialect,
        first,
        params: Vec::new(),
    };
    let sql = w.expr(expr);
    Compiled {
        sql,
        params: w.params,
    }
}

struct Writer {
    dialect: Dialect,
    first: usize,
    params: Vec<Param>,
}

impl Writer {
    /// Adds a parameter and returns its placeholder.
    fn bind(&mut self, p: Param) -> String {
        let n = self.first + self.params.len();
        let placeholder = placeholder(self.dialect, n, &p);
        self.params.push(p);
        placeholder
    }

    fn expr(&mut self, e: &Expr) -> String {
        match e {
            Expr::Cond(c) => self.cond(c),
            Expr::And(a, b) => format!("({} AND {})", self.expr(a), self.expr(b)),
            Expr::Or(a, b) => format!("({} OR {})", self.expr(a), self.expr(b)),
            Expr::Not(a) => format!("(NOT {})", self.expr(a)),
        }
    }

    fn cond(&mut self, c: &Cond) -> String {
        let col = c.field.column(self.dialect);
        match c.op {
            Op::Eq | Op::Ne => {
                let parts: Vec<String> = c.values.iter().map(|v| self.matches(c, col, v)).collect();
                let any = any_of(&parts);
                if c.op == Op::Ne {
                    format!("(NOT {any})")
                } else {
                    any
                }
            }
            op => {
                let v = c.values.first().cloned().unwrap_or(Value::Any);
                let cmp = self.ordering(op, col, &v);
                self.guard(c, col, cmp)
            }
        }
    }

    /// `col IS NOT NULL AND (cmp)` for nullable columns, so the result is never NULL.
    fn guard(&self, c: &Cond, col: &str, cmp: String) -> String {
        if c.field.nullable {
            format!("({col} IS NOT NULL AND {cmp})")
        } else {
            cmp
        }
    }

    /// The two-valued condition "the field matches this one value".
    fn matches(&mut self, c: &Cond, col: &str, v: &Value) -> String {
        if let Value::Any = v {
            return match c.field.ty {
                FieldType::Tags => self.tags(col, None),
                _ if c.field.nullable => format!("({col} IS NOT NULL)"),
                _ => "(1 = 1)".to_string(),
            };
        }
        let cmp = match (c.field.ty, v) {
            (FieldType::Tags, Value::Text(t)) => return self.tags(col, Some(t)),
            (FieldType::Bool, Value::Bool(b)) => {
                return if *b {
                    format!("({col})")
                } else {
                    format!("(NOT ({col}))")
                };
            }
            (_, Value::Text(t)) => self.text_match(col, t),
            (_, Value::Status(list)) => {
                let ps: Vec<String> = list
                    .iter()
                    .map(|s| self.bind(Param::Text(s.as_str().into())))
                    .collect();
                if ps.len() == 1 {
                    format!("{col} = {}", ps[0])
                } else {
                    format!("{col} IN ({})", ps.join(", "))
                }
            }
            (_, Value::Time { from, to }) if from != to => {
                let a = self.bind(Param::Time(*from));
                let b = self.bind(Param::Time(*to));
                format!("{col} >= {a} AND {col} < {b}")
            }
            (_, other) => {
                let p = self.scalar(other);
                format!("{col} = {p}")
            }
        };
        self.guard(c, col, cmp)
    }

    /// `>`, `>=`, `<`, `<=` against one value. A day counts as its whole span.
    fn ordering(&mut self, op: Op, col: &str, v: &Value) -> String {
        if let Value::Time { from, to } = v
            && from != to
        {
            let (sym, t) = match op {
                Op::Gt => (">=", *to),
                Op::Ge => (">=", *from),
                Op::Lt => ("<", *from),
                _ => ("<", *to),
            };
            let p = self.bind(Param::Time(t));
            return format!("{col} {sym} {p}");
        }
        let p = self.scalar(v);
        let sym = match op {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            _ => "<=",
        };
        format!("{col} {sym} {p}")
    }

    fn scalar(&mut self, v: &Value) -> String {
        let p = match v {
            Value::Int(n) => Param::Int(*n),
            Value::Float(x) => Param::Float(*x),
            Value::Severity(s) => Param::Int(i64::from(s.score())),
            Value::Time { from, .. } => Param::Time(*from),
            Value::Bool(b) => Param::Int(i64::from(*b)),
            Value::Text(t) => Param::Text(t.clone()),
            Value::Status(s) => {
                Param::Text(s.first().map(|s| s.as_str()).unwrap_or_default().into())
            }
            Value::Any => Param::Text(String::new()),
        };
        self.bind(p)
    }

    /// `col` matches the pattern `t`, ignoring case, alike on both backends. A pattern
    /// with letters beyond ASCII (`Übersicht`) is folded by [`fold_case`] and compared
    /// with the column folded the same way: SQLite through [`CASE_FOLD`], PostgreSQL by
    /// its `lower` with the same two fixes. An ASCII pattern folds ASCII only, on SQLite
    /// with the plain LIKE an index can serve, on PostgreSQL with `ILIKE` under the "C"
    /// collation: under the database's own it also matched `istanbul` to `İstanbul`, which
    /// SQLite did not.
    fn text_match(&mut self, col: &str, t: &str) -> String {
        if t.is_ascii() {
            let p = self.bind(Param::Text(like_pattern(t)));
            return match self.dialect {
                Dialect::Sqlite => format!("{col} LIKE {p} ESCAPE '\\'"),
                Dialect::Postgres => format!("({col}) COLLATE \"C\" ILIKE {p} ESCAPE '\\'"),
            };
        }
        let p = self.bind(Param::Text(like_pattern(&fold_case(t))));
        match self.dialect {
            Dialect::Sqlite => format!("{CASE_FOLD}({col}) LIKE {p} ESCAPE '\\'"),
            // `lower` lowercases each letter (libc) or with context (ICU, which writes
            // a final sigma ς and İ as i + U+0307): ς becomes σ and i + U+0307 plain i,
            // as [`fold_case`] does.
            Dialect::Postgres => format!(
                "replace(translate(lower({col}), 'ς', 'σ'), 'i\u{307}', 'i') LIKE {p} ESCAPE '\\'"
            ),
        }
    }

    /// Whether any tag matches the pattern (or, with `None`, whether there is any tag).
    fn tags(&mut self, col: &str, pattern: Option<&str>) -> String {
        let (from, value) = match self.dialect {
            Dialect::Sqlite => (format!("json_each({col})"), "json_each.value"),
            Dialect::Postgres => (format!("jsonb_array_elements_text({col}) AS t(v)"), "t.v"),
        };
        match pattern {
            None => format!("EXISTS (SELECT 1 FROM {from})"),
            Some(t) => format!(
                "EXISTS (SELECT 1 FROM {from} WHERE {})",
                self.text_match(value, t)
            ),
        }
    }
}

/// `parts` joined by `OR` as a balanced tree of parentheses: a flat chain of a thousand
/// values was an expression a thousand deep, past SQLite's limit ("Expression tree is too
/// large"); halves nest only log2(n) deep.
fn any_of(parts: &[String]) -> String {
    match parts {
        [] => "(1 = 0)".to_string(),
        [one] => one.clone(),
        _ if parts.len() <= 8 => format!("({})", parts.join(" OR ")),
        _ => {
            let (left, right) = parts.split_at(parts.len() / 2);
            format!("({} OR {})", any_of(left), any_of(right))
        }
    }
}

/// The SQL function a SQLite store registers on its connections: its text argument
/// folded by [`fold_case`] (SQLite's own `lower` and `LIKE` fold ASCII only).
pub const CASE_FOLD: &str = "case_fold";

/// Text in the form case-insensitive matches compare, the same on both backends: each
/// letter in lower case on its own (no context rules: `str::to_lowercase` wrote Σ at the
/// end of a word as ς, so `ΟΔΟΣ*` could not match "οδοστες"), final ς as σ, and İ as
/// plain i (also when written i + U+0307), as PostgreSQL's `lower` gives it.
pub fn fold_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'İ' => out.push('i'),
            'ς' => out.push('σ'),
            c => out.extend(c.to_lowercase()),
        }
    }
    // As PostgreSQL's `replace` does it: left to right, each pair once.
    out.replace("i\u{307}", "i")
}

/// A user's text with `*` wildcards as a LIKE pattern with `\` escapes.
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '\\' | '%' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '*' => out.push('%'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Entity;
    use crate::parser::parse;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z")
            .expect("t")
            .with_timezone(&Utc)
    }
    fn t(s: &str) -> Param {
        Param::Time(
            DateTime::parse_from_rfc3339(s)
                .expect("t")
                .with_timezone(&Utc),
        )
    }
    fn c(s: &str, d: Dialect) -> Compiled {
        compile(&parse(Entity::Findings, s, now()).expect(s), d, 2)
    }

    #[test]
    fn the_issue_example_in_sqlite() {
        let got = c(
            r#"severity>=high and status:NEW and app:"Shop*" and cwe:79 and lastFound>2026-01-01"#,
            Dialect::Sqlite,
        );
        assert_eq!(
            got.sql,
            "((((f.severity >= ?2 AND f.status = ?3) AND (a.name IS NOT NULL AND a.name LIKE ?4 ESCAPE '\\')) \
             AND (f.cwe IS NOT NULL AND f.cwe = ?5)) AND (f.last_found IS NOT NULL AND f.last_found >= ?6))"
        );
        assert_eq!(
            got.params,
            vec![
                Param::Int(4),
                Param::Text("NEW".into()),
                Param::Text("Shop%".into()),
                Param::Int(79),
                t("2026-01-02T00:00:00Z"),
            ]
        );
    }

    #[test]
    fn the_issue_example_in_postgres() {
        let got = c(
            r#"severity>=high and app:"Shop*" or not cwe:79"#,
            Dialect::Postgres,
        );
        assert_eq!(
            got.sql,
            "((f.severity >= $2::bigint AND (a.name IS NOT NULL AND (a.name) COLLATE \"C\" ILIKE $3::text ESCAPE '\\')) \
             OR (NOT (f.cwe IS NOT NULL AND f.cwe = $4::bigint)))"
        );
        assert_eq!(
            got.params,
            vec![Param::Int(4), Param::Text("Shop%".into()), Param::Int(79)]
        );
    }

    #[test]
    fn values_never_reach_the_sql_text() {
        let evil = r#"name:"x' OR 1=1; DROP TABLE findings; --" or app:'%_\\'"#;
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let got = c(evil, d);
            assert!(!got.sql.contains("DROP"), "{}", got.sql);
            assert!(!got.sql.contains("1=1"), "{}", got.sql);
            assert_eq!(
                got.params[0],
                Param::Text("x' OR 1=1; DROP TABLE findings; --".into())
            );
            assert_eq!(got.params[1], Param::Text("\\%\\_\\\\".into()));
        }
    }

    #[test]
    fn lists_not_equal_and_any() {
        let got = c("status:open", Dialect::Sqlite);
        assert_eq!(got.sql, "f.status IN (?2, ?3, ?4)");
        let got = c("cwe!=79,89", Dialect::Sqlite);
        assert_eq!(
            got.sql,
            "(NOT ((f.cwe IS NOT NULL AND f.cwe = ?2) OR (f.cwe IS NOT NULL AND f.cwe = ?3)))"
        );
        assert_eq!(c("cve:*", Dialect::Sqlite).sql, "(f.cve IS NOT NULL)");
        assert_eq!(
            c("not cve:*", Dialect::Sqlite).sql,
            "(NOT (f.cve IS NOT NULL))"
        );
        assert_eq!(c("name:*", Dialect::Sqlite).sql, "(1 = 1)");
    }

    #[test]
    fn days_are_spans() {
        let day = |s: &str| c(s, Dialect::Sqlite);
        let g = day("lastSeen:2026-01-01");
        assert_eq!(g.sql, "f.last_seen >= ?2 AND f.last_seen < ?3");
        assert_eq!(
            g.params,
            vec![t("2026-01-01T00:00:00Z"), t("2026-01-02T00:00:00Z")]
        );
        assert_eq!(
            day("lastSeen>=2026-01-01").params,
            vec![t("2026-01-01T00:00:00Z")]
        );
        assert_eq!(day("lastSeen<2026-01-01").sql, "f.last_seen < ?2");
        assert_eq!(
            day("lastSeen<=2026-01-01").params,
            vec![t("2026-01-02T00:00:00Z")]
        );
        let g = day("lastSeen>-7d");
        assert_eq!(g.sql, "f.last_seen > ?2");
        assert_eq!(g.params, vec![t("2026-03-03T12:00:00Z")]);
    }

    #[test]
    fn tags_and_booleans_per_dialect() {
        let g = c("tag:pci* and open:true and active:false", Dialect::Sqlite);
        assert_eq!(
            g.sql,
            "((EXISTS (SELECT 1 FROM json_each(f.tags) WHERE json_each.value LIKE ?2 ESCAPE '\\') \
             AND (f.status IN ('NEW', 'ACTIVE', 'REOPENED'))) AND (NOT (f.active = 1)))"
        );
        let g = c("tag:pci* and active:false", Dialect::Postgres);
        assert_eq!(
            g.sql,
            "(EXISTS (SELECT 1 FROM jsonb_array_elements_text(f.tags) AS t(v) WHERE (t.v) COLLATE \"C\" ILIKE $2::text ESCAPE '\\') \
             AND (NOT (f.active)))"
        );
    }

    #[test]
    fn like_patterns() {
        assert_eq!(like_pattern("Shop*"), "Shop%");
        assert_eq!(like_pattern("50%_off\\"), "50\\%\\_off\\\\");
    }

    /// One fold for both backends: letter by letter, final sigma as σ, İ as plain i.
    #[test]
    fn case_folding_has_no_context_rules() {
        assert_eq!(fold_case("ΟΔΟΣ*"), "οδοσ*");
        assert_eq!(fold_case("οδοστες"), "οδοστεσ");
        assert_eq!(fold_case("ΟΔΟΣΤΕΣ"), "οδοστεσ");
        assert_eq!(fold_case("İstanbul"), "istanbul");
        assert_eq!(fold_case("i\u{307}stanbul"), "istanbul");
        assert_eq!(fold_case("Übersicht ÄRZTE"), "übersicht ärzte");
        assert_eq!(fold_case("ı"), "ı");
        let e = parse(Entity::Findings, "app:ΟΔΟΣ* or app:Shop", now()).expect("parse");
        let pg = compile(&e, Dialect::Postgres, 1);
        assert_eq!(pg.params[0], Param::Text("οδοσ%".into()));
        assert!(
            pg.sql.contains("translate(lower(a.name), 'ς', 'σ')"),
            "{}",
            pg.sql
        );
        assert!(
            pg.sql.contains("(a.name) COLLATE \"C\" ILIKE $2::text"),
            "{}",
            pg.sql
        );
        let lite = compile(&e, Dialect::Sqlite, 1);
        assert!(
            lite.sql.contains("case_fold(a.name) LIKE ?1"),
            "{}",
            lite.sql
        );
        assert!(lite.sql.contains("a.name LIKE ?2"), "{}", lite.sql);
    }
}
