//! Tokens to a checked [`Expr`].
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary (["and"] unary)*      -- adjacent terms are joined by and
//! unary   := "not" unary | primary
//! primary := "(" expr ")" | FIELD OP VALUE ("," VALUE)*
//! ```
//! `not` binds tighter than `and`, which binds tighter than `or`. Keywords are
//! case-insensitive. Every field and value is checked against the entity's registry here,
//! so compiling never fails.
//!
//! A filter is bounded — [`MAX_DEPTH`] levels of `(` and `not`, [`MAX_CONDITIONS`]
//! conditions, [`MAX_VALUES`] values in one list, [`MAX_TOTAL_VALUES`] in all — because
//! it arrives from anyone who can reach the HTTP API: 3,000 nested parentheses overflowed
//! the parser's stack and took the server down, and a thousand `or`s (or eleven lists of
//! a thousand values) passed the parser only for the database to refuse the statement.

use crate::ast::{Cond, Expr, Op};
use crate::error::QueryError;
use crate::fields::Entity;
use crate::lexer::{Tok, Token, lex};
use crate::value;
use chrono::{DateTime, Utc};

/// How deep `(` and `not` may nest.
pub const MAX_DEPTH: usize = 32;
/// How many conditions one filter may hold (a SQL expression is at most 1,000 deep).
pub const MAX_CONDITIONS: usize = 200;
/// How many values one `field:a,b,…` list may hold.
pub const MAX_VALUES: usize = 1_000;
/// How many values one filter may hold in all: each is a bound parameter or a few (a
/// status group is up to four), and SQLite takes at most 32,766 in one statement.
pub const MAX_TOTAL_VALUES: usize = 5_000;

/// Parses a filter for an entity; `now` anchors relative dates (`-7d`).
pub fn parse(entity: Entity, input: &str, now: DateTime<Utc>) -> Result<Expr, QueryError> {
    let tokens = lex(input)?;
    if tokens.is_empty() {
        return Err(QueryError::new(1, "the filter is empty"));
    }
    let mut p = Parser {
        entity,
        tokens,
        pos: 0,
        end: input.chars().count() + 1,
        now,
        depth: 0,
        conditions: 0,
        values: 0,
    };
    let e = p.or()?;
    if let Some(t) = p.peek() {
        let msg = match t.tok {
            Tok::RParen => "unmatched ')'".to_string(),
            _ => "expected 'and', 'or' or the end of the filter".to_string(),
        };
        return Err(QueryError::new(t.column, msg));
    }
    Ok(e)
}

struct Parser {
    entity: Entity,
    tokens: Vec<Token>,
    pos: usize,
    /// Column just past the input, for "unexpected end" errors.
    end: usize,
    now: DateTime<Utc>,
    /// `(` and `not` open around the current token.
    depth: usize,
    /// Conditions read so far.
    conditions: usize,
    /// Values read so far, in all lists.
    values: usize,
}

fn keyword(t: &Token) -> Option<&'static str> {
    match &t.tok {
        Tok::Word(w) if w.eq_ignore_ascii_case("and") => Some("and"),
        Tok::Word(w) if w.eq_ignore_ascii_case("or") => Some("or"),
        Tok::Word(w) if w.eq_ignore_ascii_case("not") => Some("not"),
        _ => None,
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.peek().and_then(keyword) == Some("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                Some(t) if keyword(t) == Some("and") => self.pos += 1,
                // Implicit and: another term or group follows.
                Some(t)
                    if keyword(t) == Some("not") || matches!(t.tok, Tok::Word(_) | Tok::LParen) =>
                {
                    if keyword(t) == Some("or") {
                        break;
                    }
                }
                _ => break,
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if let Some(t) = self.peek()
            && keyword(t) == Some("not")
        {
            let column = t.column;
            self.pos += 1;
            let inner = self.nested(column, Parser::unary)?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    /// Reads `read` one level deeper (inside a `(` or a `not` at `column`), refusing to go
    /// past [`MAX_DEPTH`].
    fn nested(
        &mut self,
        column: usize,
        read: fn(&mut Parser) -> Result<Expr, QueryError>,
    ) -> Result<Expr, QueryError> {
        if self.depth >= MAX_DEPTH {
            return Err(QueryError::new(
                column,
                format!("parentheses and 'not' nest more than {MAX_DEPTH} deep here"),
            ));
        }
        self.depth += 1;
        let e = read(self);
        self.depth -= 1;
        e
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let Some(t) = self.next() else {
            return Err(QueryError::new(
                self.end,
                "unexpected end of the filter: expected a field or '('",
            ));
        };
        match t.tok {
            Tok::LParen => {
                let e = self.nested(t.column, Parser::or)?;
                match self.next() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => Ok(e),
                    Some(other) => Err(QueryError::new(other.column, "expected ')'")),
                    None => Err(QueryError::new(t.column, "unclosed '('")),
                }
            }
            Tok::Word(ref w) if keyword(&t).is_some() => Err(QueryError::new(
                t.column,
                format!("'{w}' needs a field token before it, e.g. severity:high {w} status:NEW"),
            )),
            Tok::Word(name) => self.condition(name, t.column),
            Tok::RParen => Err(QueryError::new(t.column, "unexpected ')'")),
            Tok::Op(op) => Err(QueryError::new(
                t.column,
                format!("'{}' needs a field before it", op.as_str()),
            )),
            Tok::Value { .. } | Tok::Comma => Err(QueryError::new(t.column, "expected a field")),
        }
    }

    fn condition(&mut self, name: String, column: usize) -> Result<Expr, QueryError> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(QueryError::new(
                column,
                format!(
                    "a filter holds at most {MAX_CONDITIONS} conditions (a list such as \
                     externalId:a,b,c counts once)"
                ),
            ));
        }
        let Some(field) = self.entity.field(&name) else {
            let hint = match self.entity.closest(&name) {
                Some(s) => format!(" (did you mean '{s}'?)"),
                None => " (appscan-bridge filter-help lists the fields)".into(),
            };
            return Err(QueryError::new(
                column,
                format!("unknown field '{name}' for {}{hint}", self.entity.as_str()),
            ));
        };
        let op = match self.next() {
            Some(Token {
                tok: Tok::Op(op), ..
            }) => op,
            Some(other) => {
                return Err(QueryError::new(
                    other.column,
                    format!("expected an operator (: != > >= < <=) after '{name}'"),
                ));
            }
            None => {
                return Err(QueryError::new(
                    self.end,
                    format!("expected an operator (: != > >= < <=) after '{name}'"),
                ));
            }
        };
        let mut values = Vec::new();
        loop {
            let Some(Token {
                tok: Tok::Value { text, quoted },
                column: vcol,
            }) = self.next()
            else {
                return Err(QueryError::new(self.end, "expected a value"));
            };
            let v = value::read(field, op, &text, quoted, self.now)
                .map_err(|m| QueryError::new(vcol, m))?;
            if values.len() == MAX_VALUES {
                return Err(QueryError::new(
                    vcol,
                    format!("a list holds at most {MAX_VALUES} values"),
                ));
            }
            self.values += 1;
            if self.values > MAX_TOTAL_VALUES {
                return Err(QueryError::new(
                    vcol,
                    format!("a filter holds at most {MAX_TOTAL_VALUES} values in all"),
                ));
            }
            values.push(v);
            match self.peek() {
                Some(Token {
                    tok: Tok::Comma,
                    column: ccol,
                }) => {
                    if !matches!(op, Op::Eq | Op::Ne) {
                        return Err(QueryError::new(
                            *ccol,
                            format!("a list of values needs ':' or '!=', not '{}'", op.as_str()),
                        ));
                    }
                    self.pos += 1;
                }
                _ => break,
            }
        }
        Ok(Expr::Cond(Cond {
            field,
            op,
            values,
            column,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Value;
    use model::Severity;

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    /// A compact rendering of the tree: `(a & b) | !c`.
    fn shape(e: &Expr) -> String {
        match e {
            Expr::Cond(c) => c.field.name.to_string(),
            Expr::And(a, b) => format!("({} & {})", shape(a), shape(b)),
            Expr::Or(a, b) => format!("({} | {})", shape(a), shape(b)),
            Expr::Not(a) => format!("!{}", shape(a)),
        }
    }

    fn p(s: &str) -> String {
        shape(&parse(Entity::Findings, s, now()).expect(s))
    }

    fn err(s: &str) -> QueryError {
        parse(Entity::Findings, s, now()).expect_err(s)
    }

    #[test]
    fn precedence_not_and_or() {
        assert_eq!(p("cwe:1 or cwe:2 and cwe:3"), "(cwe | (cwe & cwe))");
        assert_eq!(
            p("severity:high and status:NEW or port:80"),
            "((severity & status) | port)"
        );
        assert_eq!(p("not severity:high and port:80"), "(!severity & port)");
        assert_eq!(p("not (severity:high and port:80)"), "!(severity & port)");
        assert_eq!(p("(cwe:1 or cwe:2) and port:80"), "((cwe | cwe) & port)");
        assert_eq!(p("NOT NOT cwe:1"), "!!cwe");
    }

    #[test]
    fn implicit_and_and_case_insensitive_keywords() {
        assert_eq!(p("severity:high status:NEW"), "(severity & status)");
        assert_eq!(
            p("severity:high AND status:NEW Or cwe:79"),
            "((severity & status) | cwe)"
        );
        assert_eq!(p("cwe:79 not port:80"), "(cwe & !port)");
        assert_eq!(p("!cwe:79"), "!cwe");
    }

    #[test]
    fn the_issue_example() {
        let e = parse(
            Entity::Findings,
            r#"severity>=high and status:NEW and app:"Shop*" and cwe:79 and lastFound>2026-01-01"#,
            now(),
        )
        .expect("parse");
        assert_eq!(
            shape(&e),
            "((((severity & status) & app) & cwe) & lastFound)"
        );
        let Expr::And(left, _) = &e else {
            panic!("and")
        };
        let Expr::And(left, _) = &**left else {
            panic!("and")
        };
        let Expr::And(_, app) = &**left else {
            panic!("and")
        };
        let Expr::Cond(c) = &**app else {
            panic!("cond")
        };
        assert_eq!(c.values, vec![Value::Text("Shop*".into())]);
        let sev = parse(Entity::Findings, "severity>=high", now()).expect("sev");
        assert!(
            matches!(sev, Expr::Cond(Cond { op: Op::Ge, ref values, .. }) if values == &vec![Value::Severity(Severity::High)])
        );
    }

    #[test]
    fn quoting_keeps_keywords_and_spaces_as_text() {
        let e = parse(
            Entity::Findings,
            r#"name:"a and b" or name:'not (x)'"#,
            now(),
        )
        .expect("parse");
        let Expr::Or(a, b) = e else { panic!("or") };
        assert!(matches!(*a, Expr::Cond(ref c) if c.values == vec![Value::Text("a and b".into())]));
        assert!(matches!(*b, Expr::Cond(ref c) if c.values == vec![Value::Text("not (x)".into())]));
        let list = parse(Entity::Findings, r#"status:NEW,"REOPENED""#, now()).expect("list");
        assert!(matches!(list, Expr::Cond(ref c) if c.values.len() == 2));
    }

    #[test]
    fn errors_carry_the_column() {
        let e = err("severity>=high and colour:red");
        assert_eq!(e.column, 20);
        assert!(
            e.message.contains("unknown field 'colour'"),
            "{}",
            e.message
        );
        assert!(
            err("severty:high")
                .message
                .contains("did you mean 'severity'")
        );
        assert_eq!(err("severity>=hgh").column, 11);
        assert_eq!(err("(cwe:79 or port:80").column, 1);
        assert!(err("(cwe:79 or port:80").message.contains("unclosed"));
        assert_eq!(err("cwe:79)").column, 7);
        assert_eq!(err("cwe:79 and").column, 11);
        assert_eq!(err("and cwe:79").column, 1);
        assert_eq!(err("cwe 79").column, 5);
        assert_eq!(err("cwe>=1,2").column, 7);
        assert_eq!(err("name>x").column, 6);
        assert_eq!(err("").column, 1);
        assert_eq!(err("lastFound>yesterday").column, 11);
        // One instant, which no stored time equals: it matched nothing without a word.
        for eq in ["lastFound:-7d", "lastSeen:now", "lastFound!=now-1w"] {
            let e = err(eq);
            assert!(e.message.contains(">="), "{eq}: {}", e.message);
        }
        // `M` read as minutes by someone who meant months.
        assert!(err("lastFound>-3M").message.contains("no month unit"));
        // A relative date ending in a character of several bytes panicked.
        let e = err("severity:high lastFound>-7é");
        assert_eq!(e.column, 25);
        assert_eq!(
            e.message,
            "lastFound: '-7é': the unit is m, h, d or w (e.g. -30d)"
        );
        assert_eq!(err("lastFound>now-1日").column, 11);
        let shown = err("cwe:79 and colour:red").caret("cwe:79 and colour:red");
        assert_eq!(shown.lines().nth(1).map(|l| l.find('^')), Some(Some(11)));
    }

    /// Anyone who reaches the API writes filters: none may exhaust the stack or build a
    /// statement the database refuses; each is told where it went too far.
    #[test]
    fn filters_are_bounded() {
        let deep = |n: usize| format!("{}cwe:79{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(Entity::Findings, &deep(MAX_DEPTH), now()).is_ok());
        let e = err(&deep(3_000));
        assert_eq!(e.column, MAX_DEPTH + 1);
        assert!(
            e.message.contains("nest more than 32 deep"),
            "{}",
            e.message
        );
        let nots = "not ".repeat(10_000) + "cwe:79";
        assert_eq!(err(&nots).column, 4 * MAX_DEPTH + 1);
        let ors = |n: usize| {
            (0..n)
                .map(|i| format!("id:{i}"))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        assert!(parse(Entity::Findings, &ors(MAX_CONDITIONS), now()).is_ok());
        let e = err(&ors(1_000));
        assert!(
            e.message.contains("at most 200 conditions"),
            "{}",
            e.message
        );
        let list = |n: usize| {
            let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            format!("id:{}", ids.join(","))
        };
        assert!(parse(Entity::Findings, &list(MAX_VALUES), now()).is_ok());
        assert!(
            err(&list(MAX_VALUES + 1))
                .message
                .contains("at most 1000 values")
        );
        // Lists within their bounds, too many values in all: eleven lists of 1,000
        // `open` (three statuses each) passed the parser and SQLite refused the statement
        // (HTTP 500 with its SQL), past 32,766 parameters.
        let lists = |n: usize, value: &str| {
            (0..n)
                .map(|_| format!("status:{}", vec![value; MAX_VALUES].join(",")))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        assert!(
            err(&lists(11, "open"))
                .message
                .contains("at most 5000 values in all")
        );
        // The most a filter may hold, of the value with the most parameters, fits.
        let most = lists(MAX_TOTAL_VALUES / MAX_VALUES, "closed");
        let expr = parse(Entity::Findings, &most, now()).expect("within the bounds");
        let compiled = crate::sql::compile(&expr, crate::Dialect::Sqlite, 2);
        assert!(compiled.params.len() < 32_766, "{}", compiled.params.len());
    }

    #[test]
    fn assets_have_their_own_fields() {
        assert!(parse(Entity::Assets, "risk>=500 and name:Shop*", now()).is_ok());
        assert!(parse(Entity::Assets, "cwe:79", now()).is_err());
    }
}
