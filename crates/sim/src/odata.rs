//! OData v4 query options as ASoC understands them: a `$filter` tokenizer and
//! recursive-descent parser, a type checker that binds field names to a
//! [`FieldDef`] schema, an evaluator over any [`Record`], and the small
//! `$orderby` / `$select` parsers.
//!
//! The grammar, from loosest to tightest binding:
//!
//! ```text
//! or_expr   := and_expr  ( "or"  and_expr )*
//! and_expr  := cmp_expr  ( "and" cmp_expr )*
//! cmp_expr  := unary     ( ("eq"|"ne"|"gt"|"ge"|"lt"|"le") unary )?
//! unary     := "not" unary | primary
//! primary   := "(" or_expr ")" | literal | field | function "(" args ")"
//! literal   := 'string' (quote doubled inside) | integer | decimal
//!            | true | false | null | GUID (bare) | date-time (bare or quoted)
//! ```
//!
//! So `not` binds tighter than a comparison (`not (A eq B)` needs the
//! parentheses, as in OData proper), comparisons tighter than `and`, and
//! `and` tighter than `or`. Every error carries the byte position where the
//! problem was found.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};

/// The type of a field in a [`FieldDef`] schema; decides which literals it
/// can be compared with and how values are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text, compared ordinally.
    String,
    /// A whole number.
    Int,
    /// A number with a fraction.
    Decimal,
    /// `true` / `false`.
    Bool,
    /// An instant; literals may be bare or quoted ISO 8601.
    DateTime,
    /// A UUID; literals may be bare or quoted.
    Guid,
    /// A string enum whose members are ordered as listed (OData enums compare
    /// by their underlying value).
    Enum(&'static [&'static str]),
    /// Structured JSON: selectable, never filterable or sortable.
    Json,
}

/// One field of a record type: its served name and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The PascalCase name as served and as written in queries.
    pub name: &'static str,
    /// The field's type.
    pub ty: FieldType,
}

/// A field value as read from a record (or a literal once type-checked).
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Absent / JSON null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Decimal(f64),
    /// Text.
    Str(Cow<'a, str>),
    /// An instant, as milliseconds since the Unix epoch (UTC).
    DateTime(i64),
    /// A UUID as its 128-bit value.
    Guid(u128),
    /// The index of an enum member in `names`.
    Enum(u8, &'static [&'static str]),
    /// Structured JSON.
    Json(serde_json::Value),
}

impl Value<'_> {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Formats a millisecond timestamp as ISO 8601 UTC with a `Z` (fraction only
/// when non-zero), the way the simulator serves dates.
pub fn format_datetime(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => String::from("0001-01-01T00:00:00Z"),
    }
}

/// Formats a 128-bit UUID value in its usual hyphenated lower-case form.
pub fn format_guid(g: u128) -> String {
    uuid::Uuid::from_u128(g).hyphenated().to_string()
}

impl serde::Serialize for Value<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Decimal(d) => s.serialize_f64(*d),
            Value::Str(t) => s.serialize_str(t),
            Value::DateTime(ms) => s.serialize_str(&format_datetime(*ms)),
            Value::Guid(g) => s.serialize_str(&format_guid(*g)),
            Value::Enum(i, names) => s.serialize_str(names.get(*i as usize).copied().unwrap_or("")),
            Value::Json(v) => v.serialize(s),
        }
    }
}

/// Anything a compiled query can read fields from, by index into the schema
/// the query was compiled against.
pub trait Record {
    /// The value of field `index` (the position of its [`FieldDef`]).
    fn field(&self, index: usize) -> Value<'_>;
}

/// A query that could not be parsed or does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ODataError {
    /// Byte offset in the option's text where the problem was found.
    pub position: usize,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for ODataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at position {})", self.message, self.position)
    }
}

impl std::error::Error for ODataError {}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, ODataError> {
    Err(ODataError {
        position,
        message: message.into(),
    })
}

// ---------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------

/// A lexical token of a `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Ident(String),
    Str(String),
    Int(i64),
    Decimal(f64),
    DateTime(i64),
    Guid(u128),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    if !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// Tries to read an ISO 8601 date or date-time at `at`. Returns the instant
/// (ms) and the number of bytes consumed, `Ok(None)` when the text does not
/// start like a date, or an error when it starts like one but is invalid.
fn lex_datetime(b: &[u8], at: usize) -> Result<Option<(i64, usize)>, ODataError> {
    // YYYY-MM-DD
    let (Some(y), Some(mo), Some(d)) =
        (digits(b, at, 4), digits(b, at + 5, 2), digits(b, at + 8, 2))
    else {
        return Ok(None);
    };
    if b.get(at + 4) != Some(&b'-') || b.get(at + 7) != Some(&b'-') {
        return Ok(None);
    }
    let Some(date) = NaiveDate::from_ymd_opt(y as i32, mo, d) else {
        return err(at, "invalid date in date-time literal");
    };
    let mut i = at + 10;
    let mut time = NaiveTime::MIN;
    let mut offset_secs: i64 = 0;
    if matches!(b.get(i), Some(b'T') | Some(b't')) {
        i += 1;
        let (Some(h), Some(mi)) = (digits(b, i, 2), digits(b, i + 3, 2)) else {
            return err(at, "invalid time in date-time literal");
        };
        if b.get(i + 2) != Some(&b':') {
            return err(at, "invalid time in date-time literal");
        }
        i += 5;
        let mut s = 0;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b':') {
            let Some(sec) = digits(b, i + 1, 2) else {
                return err(at, "invalid seconds in date-time literal");
            };
            s = sec;
            i += 3;
            if b.get(i) == Some(&b'.') {
                i += 1;
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                if i == start {
                    return err(at, "invalid fractional seconds in date-time literal");
                }
                // Keep up to nanosecond precision.
                let mut scale = 100_000_000u32;
                for &c in &b[start..i] {
                    nanos += u32::from(c - b'0') * scale;
                    scale /= 10;
                }
            }
        }
        let Some(t) = NaiveTime::from_hms_nano_opt(h, mi, s, nanos) else {
            return err(at, "invalid time in date-time literal");
        };
        time = t;
        match b.get(i) {
            Some(b'Z') | Some(b'z') => i += 1,
            // A space stands for a '+' that a client did not percent-encode.
            Some(&sign @ (b'+' | b'-' | b' ')) => {
                if let (Some(oh), Some(om), Some(b':')) =
                    (digits(b, i + 1, 2), digits(b, i + 4, 2), b.get(i + 3))
                {
                    if oh > 23 || om > 59 {
                        return err(i, "invalid offset in date-time literal");
                    }
                    let secs = i64::from(oh * 3600 + om * 60);
                    offset_secs = if sign == b'-' { secs } else { -secs };
                    i += 6;
                } else if sign != b' ' {
                    return err(i, "invalid offset in date-time literal");
                }
            }
            _ => {}
        }
    }
    if b.get(i)
        .is_some_and(|&c| is_ident_char(c) || c == b'.' || c == b':')
    {
        return err(at, "invalid date-time literal");
    }
    let ms = date.and_time(time).and_utc().timestamp_millis() + offset_secs * 1000;
    Ok(Some((ms, i - at)))
}

/// Parses a whole string as an ISO 8601 date or date-time (as accepted by
/// `$filter`), returning milliseconds since the epoch.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    match lex_datetime(s.as_bytes(), 0) {
        Ok(Some((ms, n))) if n == s.len() => Some(ms),
        _ => None,
    }
}

fn lex_guid(b: &[u8], at: usize) -> Option<(u128, usize)> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = at;
    let mut v: u128 = 0;
    for (g, &len) in GROUPS.iter().enumerate() {
        if g > 0 {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
        for _ in 0..len {
            let c = *b.get(i)?;
            let d = (c as char).to_digit(16)?;
            v = (v << 4) | u128::from(d);
            i += 1;
        }
    }
    if b.get(i).is_some_and(|&c| is_ident_char(c) || c == b'-') {
        return None;
    }
    Some((v, i - at))
}

/// Parses a whole string as a GUID (hyphenated, optionally in braces).
pub fn parse_guid(s: &str) -> Option<u128> {
    let s = s.trim();
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    match lex_guid(s.as_bytes(), 0) {
        Some((g, n)) if n == s.len() => Some(g),
        _ => None,
    }
}

fn lex_string(src: &str, at: usize) -> Result<(String, usize), ODataError> {
    let b = src.as_bytes();
    let mut out = String::new();
    let mut i = at + 1;
    let mut run = i;
    loop {
        match b.get(i) {
            None => return err(at, "unterminated string literal"),
            Some(b'\'') => {
                out.push_str(&src[run..i]);
                if b.get(i + 1) == Some(&b'\'') {
                    out.push('\'');
                    i += 2;
                    run = i;
                } else {
                    return Ok((out, i + 1 - at));
                }
            }
            Some(_) => i += 1,
        }
    }
}

fn tokenize(src: &str) -> Result<Vec<Token>, ODataError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let pos = i;
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(tok) = single {
            out.push(Token { tok, pos });
            i += 1;
            continue;
        }
        if c == b'\'' {
            let (s, n) = lex_string(src, i)?;
            out.push(Token {
                tok: Tok::Str(s),
                pos,
            });
            i += n;
            continue;
        }
        if c.is_ascii_digit()
            && let Some((ms, n)) = lex_datetime(b, i)?
        {
            out.push(Token {
                tok: Tok::DateTime(ms),
                pos,
            });
            i += n;
            continue;
        }
        if c.is_ascii_hexdigit()
            && let Some((g, n)) = lex_guid(b, i)
        {
            out.push(Token {
                tok: Tok::Guid(g),
                pos,
            });
            i += n;
            continue;
        }
        if c.is_ascii_digit() || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let mut j = i + 1;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            let mut is_dec = false;
            if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                is_dec = true;
                j += 1;
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
            }
            if matches!(b.get(j), Some(b'e') | Some(b'E')) {
                let mut k = j + 1;
                if matches!(b.get(k), Some(b'+') | Some(b'-')) {
                    k += 1;
                }
                if b.get(k).is_some_and(u8::is_ascii_digit) {
                    is_dec = true;
                    j = k;
                    while b.get(j).is_some_and(u8::is_ascii_digit) {
                        j += 1;
                    }
                }
            }
            if b.get(j).is_some_and(|&c| is_ident_char(c) || c == b'.') {
                return err(pos, "invalid number literal");
            }
            let text = &src[i..j];
            let tok = if is_dec {
                match text.parse::<f64>() {
                    Ok(v) => Tok::Decimal(v),
                    Err(_) => return err(pos, "invalid number literal"),
                }
            } else {
                match text.parse::<i64>() {
                    Ok(v) => Tok::Int(v),
                    Err(_) => return err(pos, "integer literal out of range"),
                }
            };
            out.push(Token { tok, pos });
            i = j;
            continue;
        }
        if is_ident_start(c) {
            let mut j = i + 1;
            while b.get(j).is_some_and(|&c| is_ident_char(c)) {
                j += 1;
            }
            let word = &src[i..j];
            // OData v3 style typed literals: datetime'...', guid'...'.
            if b.get(j) == Some(&b'\'') {
                let lower = word.to_ascii_lowercase();
                if matches!(lower.as_str(), "datetime" | "datetimeoffset" | "guid") {
                    let (s, n) = lex_string(src, j)?;
                    let tok = if lower == "guid" {
                        match parse_guid(&s) {
                            Some(g) => Tok::Guid(g),
                            None => return err(pos, "invalid GUID literal"),
                        }
                    } else {
                        match parse_datetime(&s) {
                            Some(ms) => Tok::DateTime(ms),
                            None => return err(pos, "invalid date-time literal"),
                        }
                    };
                    out.push(Token { tok, pos });
                    i = j + n;
                    continue;
                }
            }
            out.push(Token {
                tok: Tok::Ident(word.to_string()),
                pos,
            });
            i = j;
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('?');
        return err(pos, format!("unexpected character '{ch}'"));
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: b.len(),
    });
    Ok(out)
}

// ---------------------------------------------------------------------------
// Syntax tree
// ---------------------------------------------------------------------------

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl CmpOp {
    fn from_word(w: &str) -> Option<CmpOp> {
        Some(match w {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::Ne => ord != Ordering::Equal,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::Ge => ord != Ordering::Less,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::Le => ord != Ordering::Greater,
        }
    }
}

/// A literal as written in a filter, before it is bound to a field type.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// `42`, `-7`
    Int(i64),
    /// `7.5`, `1e3`
    Decimal(f64),
    /// `'text'`
    Str(String),
    /// A bare date-time, as ms since the epoch.
    DateTime(i64),
    /// A bare GUID.
    Guid(u128),
}

/// The parsed, untyped form of a `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `not a` (`pos` is where `not` was)
    Not(Box<Expr>, usize),
    /// `a op b`
    Compare {
        /// The operator.
        op: CmpOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
        /// Where the operator was.
        pos: usize,
    },
    /// A field name.
    Field(String, usize),
    /// A literal.
    Literal(Literal, usize),
    /// A function call such as `contains(Name,'shop')`.
    Call {
        /// Function name.
        name: String,
        /// Arguments.
        args: Vec<Expr>,
        /// Where the name was.
        pos: usize,
    },
}

impl Expr {
    fn pos(&self) -> usize {
        match self {
            Expr::Or(a, _) | Expr::And(a, _) => a.pos(),
            Expr::Not(_, p) | Expr::Field(_, p) | Expr::Literal(_, p) => *p,
            Expr::Compare { left, .. } => left.pos(),
            Expr::Call { pos, .. } => *pos,
        }
    }
}

struct Parser {
    toks: Vec<Token>,
    at: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::Ident(w) => format!("'{w}'"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Int(i) => format!("number {i}"),
        Tok::Decimal(d) => format!("number {d}"),
        Tok::DateTime(ms) => format!("date-time {}", format_datetime(*ms)),
        Tok::Guid(g) => format!("GUID {}", format_guid(*g)),
        Tok::Eof => "end of expression".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `at` never passes it.
        &self.toks[self.at.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.at += 1;
        }
        t
    }

    fn peek_word(&self, w: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(x) if x == w)
    }

    fn or_expr(&mut self) -> Result<Expr, ODataError> {
        let mut left = self.and_expr()?;
        while self.peek_word("or") {
            self.bump();
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, ODataError> {
        let mut left = self.cmp_expr()?;
        while self.peek_word("and") {
            self.bump();
            let right = self.cmp_expr()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn cmp_expr(&mut self) -> Result<Expr, ODataError> {
        let left = self.unary()?;
        if let Tok::Ident(w) = &self.peek().tok
            && let Some(op) = CmpOp::from_word(w)
        {
            let pos = self.bump().pos;
            let right = self.unary()?;
            return Ok(Expr::Compare {
                op,
                left: Box::new(left),
                right: Box::new(right),
                pos,
            });
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ODataError> {
        if self.peek_word("not") {
            let pos = self.bump().pos;
            let inner = self.unary()?;
            return Ok(Expr::Not(Box::new(inner), pos));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ODataError> {
        let t = self.bump();
        let pos = t.pos;
        Ok(match t.tok {
            Tok::LParen => {
                let e = self.or_expr()?;
                let close = self.bump();
                if close.tok != Tok::RParen {
                    return err(
                        close.pos,
                        format!(
                            "expected ')' to close '(' at position {pos}, found {}",
                            describe(&close.tok)
                        ),
                    );
                }
                e
            }
            Tok::Str(s) => Expr::Literal(Literal::Str(s), pos),
            Tok::Int(i) => Expr::Literal(Literal::Int(i), pos),
            Tok::Decimal(d) => Expr::Literal(Literal::Decimal(d), pos),
            Tok::DateTime(ms) => Expr::Literal(Literal::DateTime(ms), pos),
            Tok::Guid(g) => Expr::Literal(Literal::Guid(g), pos),
            Tok::Ident(w) => match w.as_str() {
                "true" => Expr::Literal(Literal::Bool(true), pos),
                "false" => Expr::Literal(Literal::Bool(false), pos),
                "null" => Expr::Literal(Literal::Null, pos),
                "and" | "or" | "eq" | "ne" | "gt" | "ge" | "lt" | "le" => {
                    return err(pos, format!("expected an operand, found operator '{w}'"));
                }
                _ if self.peek().tok == Tok::LParen => {
                    self.bump();
                    let mut args = Vec::new();
                    if self.peek().tok != Tok::RParen {
                        loop {
                            args.push(self.or_expr()?);
                            let sep = self.bump();
                            match sep.tok {
                                Tok::Comma => continue,
                                Tok::RParen => break,
                                other => {
                                    return err(
                                        sep.pos,
                                        format!(
                                            "expected ',' or ')' in call to '{w}', found {}",
                                            describe(&other)
                                        ),
                                    );
                                }
                            }
                        }
                    } else {
                        self.bump();
                    }
                    Expr::Call { name: w, args, pos }
                }
                _ => Expr::Field(w, pos),
            },
            other => {
                return err(
                    pos,
                    format!("expected an operand, found {}", describe(&other)),
                );
            }
        })
    }
}

/// Parses a `$filter` expression into its untyped syntax tree.
pub fn parse_filter(src: &str) -> Result<Expr, ODataError> {
    let toks = tokenize(src)?;
    let mut p = Parser { toks, at: 0 };
    if p.peek().tok == Tok::Eof {
        return err(0, "empty $filter expression");
    }
    let e = p.or_expr()?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        let what = match &t.tok {
            Tok::Ident(w) => format!(
                "unexpected '{w}': expected a comparison operator (eq, ne, gt, ge, lt, le), 'and', 'or' or the end of the expression"
            ),
            Tok::RParen => "unbalanced ')'".to_string(),
            other => format!("unexpected {} after a complete expression", describe(other)),
        };
        return err(t.pos, what);
    }
    Ok(e)
}

// ---------------------------------------------------------------------------
// Type checking and evaluation
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Bool,
    Null,
    Field(FieldType),
    // Literals keep their own kind until bound to a field type.
    StrLit,
    NumLit,
}

#[derive(Debug, Clone)]
enum Operand {
    Field(usize),
    Const(Value<'static>),
    Bool(Box<Node>),
}

#[derive(Debug, Clone, Copy)]
enum StrFn {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone)]
enum Node {
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cmp(CmpOp, Operand, Operand),
    Const(bool),
    BoolField(usize),
    Str(StrFn, Operand, String),
}

/// A `$filter` bound to a schema, ready to test records.
#[derive(Debug, Clone)]
pub struct Filter {
    root: Node,
    fields: Vec<usize>,
}

struct Binder<'s> {
    schema: &'s [FieldDef],
    used: Vec<usize>,
}

fn type_name(t: Ty) -> &'static str {
    match t {
        Ty::Bool => "a boolean",
        Ty::Null => "null",
        Ty::StrLit => "a string",
        Ty::NumLit => "a number",
        Ty::Field(f) => match f {
            FieldType::String => "a string",
            FieldType::Int => "an integer",
            FieldType::Decimal => "a decimal",
            FieldType::Bool => "a boolean",
            FieldType::DateTime => "a date-time",
            FieldType::Guid => "a GUID",
            FieldType::Enum(_) => "an enum",
            FieldType::Json => "a structured value",
        },
    }
}

impl Binder<'_> {
    fn field(&mut self, name: &str, pos: usize) -> Result<(usize, FieldType), ODataError> {
        match self.schema.iter().position(|f| f.name == name) {
            Some(i) => {
                if !self.used.contains(&i) {
                    self.used.push(i);
                }
                Ok((i, self.schema[i].ty))
            }
            None => err(pos, format!("could not find a property named '{name}'")),
        }
    }

    /// Binds an expression that must be boolean.
    fn predicate(&mut self, e: &Expr) -> Result<Node, ODataError> {
        match e {
            Expr::Or(a, b) => Ok(Node::Or(
                Box::new(self.predicate(a)?),
                Box::new(self.predicate(b)?),
            )),
            Expr::And(a, b) => Ok(Node::And(
                Box::new(self.predicate(a)?),
                Box::new(self.predicate(b)?),
            )),
            Expr::Not(a, _) => Ok(Node::Not(Box::new(self.predicate(a)?))),
            Expr::Literal(Literal::Bool(b), _) => Ok(Node::Const(*b)),
            Expr::Field(name, pos) => match self.field(name, *pos)? {
                (i, FieldType::Bool) => Ok(Node::BoolField(i)),
                (_, ty) => err(
                    *pos,
                    format!(
                        "'{name}' is {}, not a boolean condition",
                        type_name(Ty::Field(ty))
                    ),
                ),
            },
            Expr::Compare {
                op,
                left,
                right,
                pos,
            } => self.compare(*op, left, right, *pos),
            Expr::Call { name, args, pos } => self.call(name, args, *pos),
            Expr::Literal(_, pos) => err(*pos, "a literal is not a boolean condition"),
        }
    }

    fn operand(&mut self, e: &Expr) -> Result<(Operand, Ty, Option<String>), ODataError> {
        Ok(match e {
            Expr::Field(name, pos) => {
                let (i, ty) = self.field(name, *pos)?;
                (Operand::Field(i), Ty::Field(ty), None)
            }
            Expr::Literal(l, _) => match l {
                Literal::Null => (Operand::Const(Value::Null), Ty::Null, None),
                Literal::Bool(b) => (Operand::Const(Value::Bool(*b)), Ty::Bool, None),
                Literal::Int(i) => (Operand::Const(Value::Int(*i)), Ty::NumLit, None),
                Literal::Decimal(d) => (Operand::Const(Value::Decimal(*d)), Ty::NumLit, None),
                Literal::Str(s) => (
                    Operand::Const(Value::Str(Cow::Owned(s.clone()))),
                    Ty::StrLit,
                    Some(s.clone()),
                ),
                Literal::DateTime(ms) => (
                    Operand::Const(Value::DateTime(*ms)),
                    Ty::Field(FieldType::DateTime),
                    None,
                ),
                Literal::Guid(g) => (
                    Operand::Const(Value::Guid(*g)),
                    Ty::Field(FieldType::Guid),
                    None,
                ),
            },
            other => (
                Operand::Bool(Box::new(self.predicate(other)?)),
                Ty::Bool,
                None,
            ),
        })
    }

    /// Converts a string literal to the type of the field it is compared with.
    fn coerce_str(
        &self,
        s: &str,
        to: FieldType,
        pos: usize,
    ) -> Result<Option<(Operand, Ty)>, ODataError> {
        Ok(match to {
            FieldType::DateTime => match parse_datetime(s) {
                Some(ms) => Some((Operand::Const(Value::DateTime(ms)), Ty::Field(to))),
                None => return err(pos, format!("'{s}' is not a valid date-time")),
            },
            FieldType::Guid => match parse_guid(s) {
                Some(g) => Some((Operand::Const(Value::Guid(g)), Ty::Field(to))),
                None => return err(pos, format!("'{s}' is not a valid GUID")),
            },
            FieldType::Enum(names) => match names.iter().position(|n| *n == s) {
                Some(i) => Some((Operand::Const(Value::Enum(i as u8, names)), Ty::Field(to))),
                None => {
                    return err(
                        pos,
                        format!(
                            "'{s}' is not a valid value; expected one of: {}",
                            names.join(", ")
                        ),
                    );
                }
            },
            FieldType::String => Some((
                Operand::Const(Value::Str(Cow::Owned(s.to_string()))),
                Ty::Field(to),
            )),
            _ => None,
        })
    }

    fn compare(
        &mut self,
        op: CmpOp,
        left: &Expr,
        right: &Expr,
        pos: usize,
    ) -> Result<Node, ODataError> {
        let (mut lo, mut lt, ls) = self.operand(left)?;
        let (mut ro, mut rt, rs) = self.operand(right)?;
        // Bind string literals to the other side's field type.
        if let (Some(s), Ty::Field(ft)) = (&ls, rt)
            && let Some((o, t)) = self.coerce_str(s, ft, left.pos())?
        {
            lo = o;
            lt = t;
        }
        if let (Some(s), Ty::Field(ft)) = (&rs, lt)
            && let Some((o, t)) = self.coerce_str(s, ft, right.pos())?
        {
            ro = o;
            rt = t;
        }
        let numeric = |t: Ty| {
            matches!(
                t,
                Ty::NumLit | Ty::Field(FieldType::Int) | Ty::Field(FieldType::Decimal)
            )
        };
        let stringy = |t: Ty| matches!(t, Ty::StrLit | Ty::Field(FieldType::String));
        let booly = |t: Ty| matches!(t, Ty::Bool | Ty::Field(FieldType::Bool));
        let ok = match (lt, rt) {
            (Ty::Field(FieldType::Json), _) | (_, Ty::Field(FieldType::Json)) => false,
            (Ty::Null, _) | (_, Ty::Null) => true,
            (a, b) if numeric(a) && numeric(b) => true,
            (a, b) if stringy(a) && stringy(b) => true,
            (a, b) if booly(a) && booly(b) => true,
            (Ty::Field(FieldType::DateTime), Ty::Field(FieldType::DateTime)) => true,
            (Ty::Field(FieldType::Guid), Ty::Field(FieldType::Guid)) => true,
            (Ty::Field(FieldType::Enum(a)), Ty::Field(FieldType::Enum(b))) => {
                std::ptr::eq(a, b) || a == b
            }
            _ => false,
        };
        if !ok {
            return err(
                pos,
                format!("cannot compare {} with {}", type_name(lt), type_name(rt)),
            );
        }
        Ok(Node::Cmp(op, lo, ro))
    }

    fn call(&mut self, name: &str, args: &[Expr], pos: usize) -> Result<Node, ODataError> {
        let f = match name {
            "contains" | "substringof" => StrFn::Contains,
            "startswith" => StrFn::StartsWith,
            "endswith" => StrFn::EndsWith,
            _ => return err(pos, format!("unknown function '{name}'")),
        };
        if args.len() != 2 {
            return err(pos, format!("'{name}' takes two arguments"));
        }
        // substringof(needle, haystack) is the OData v3 argument order.
        let (hay, needle) = if name == "substringof" {
            (&args[1], &args[0])
        } else {
            (&args[0], &args[1])
        };
        let (o, t, _) = self.operand(hay)?;
        if !matches!(t, Ty::Field(FieldType::String) | Ty::StrLit) {
            return err(
                hay.pos(),
                format!("'{name}' needs a string, found {}", type_name(t)),
            );
        }
        let Expr::Literal(Literal::Str(s), _) = needle else {
            return err(
                needle.pos(),
                format!("'{name}' needs a string literal to search for"),
            );
        };
        Ok(Node::Str(f, o, s.clone()))
    }
}

/// Orders two values of one field (or a field and a bound literal). `None`
/// when they cannot be ordered (a null, or kinds that do not mix).
pub fn compare_values(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    use Value as V;
    match (a, b) {
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        (V::Int(x), V::Decimal(y)) => (*x as f64).partial_cmp(y),
        (V::Decimal(x), V::Int(y)) => x.partial_cmp(&(*y as f64)),
        (V::Decimal(x), V::Decimal(y)) => x.partial_cmp(y),
        (V::Str(x), V::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::DateTime(x), V::DateTime(y)) => Some(x.cmp(y)),
        (V::Guid(x), V::Guid(y)) => Some(x.cmp(y)),
        (V::Enum(x, _), V::Enum(y, _)) => Some(x.cmp(y)),
        // Served enum values read as strings when compared to a literal.
        (V::Enum(x, names), V::Str(s)) => names.get(*x as usize).map(|n| (*n).cmp(s.as_ref())),
        (V::Str(s), V::Enum(y, names)) => names.get(*y as usize).map(|n| s.as_ref().cmp(*n)),
        _ => None,
    }
}

/// The order used by `$orderby`: nulls first, then [`compare_values`].
pub fn sort_order(a: &Value<'_>, b: &Value<'_>) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => compare_values(a, b).unwrap_or(Ordering::Equal),
    }
}

fn eval_operand<'r, R: Record>(o: &'r Operand, r: &'r R) -> Value<'r> {
    match o {
        Operand::Field(i) => r.field(*i),
        Operand::Const(v) => v.clone(),
        Operand::Bool(n) => Value::Bool(eval(n, r)),
    }
}

fn eval<R: Record>(n: &Node, r: &R) -> bool {
    match n {
        Node::Or(a, b) => eval(a, r) || eval(b, r),
        Node::And(a, b) => eval(a, r) && eval(b, r),
        Node::Not(a) => !eval(a, r),
        Node::Const(b) => *b,
        Node::BoolField(i) => matches!(r.field(*i), Value::Bool(true)),
        Node::Cmp(op, a, b) => {
            let (x, y) = (eval_operand(a, r), eval_operand(b, r));
            match (x.is_null(), y.is_null()) {
                (true, true) => matches!(op, CmpOp::Eq | CmpOp::Ge | CmpOp::Le),
                (true, false) | (false, true) => *op == CmpOp::Ne,
                _ => compare_values(&x, &y).is_some_and(|o| op.holds(o)),
            }
        }
        Node::Str(f, o, needle) => match eval_operand(o, r) {
            Value::Str(s) => match f {
                StrFn::Contains => s.contains(needle.as_str()),
                StrFn::StartsWith => s.starts_with(needle.as_str()),
                StrFn::EndsWith => s.ends_with(needle.as_str()),
            },
            _ => false,
        },
    }
}

impl Filter {
    /// Parses `src` and binds it to `schema`: unknown fields, type mismatches
    /// and malformed syntax are errors with a position.
    pub fn compile(src: &str, schema: &[FieldDef]) -> Result<Filter, ODataError> {
        let expr = parse_filter(src)?;
        Filter::bind(&expr, schema)
    }

    /// Binds an already parsed expression to `schema`.
    pub fn bind(expr: &Expr, schema: &[FieldDef]) -> Result<Filter, ODataError> {
        let mut b = Binder {
            schema,
            used: Vec::new(),
        };
        let root = b.predicate(expr)?;
        Ok(Filter {
            root,
            fields: b.used,
        })
    }

    /// Whether `record` satisfies the filter.
    pub fn matches<R: Record>(&self, record: &R) -> bool {
        eval(&self.root, record)
    }

    /// Indices of the schema fields the filter reads.
    pub fn fields(&self) -> &[usize] {
        &self.fields
    }
}

// ---------------------------------------------------------------------------
// $orderby and $select
// ---------------------------------------------------------------------------

/// One `$orderby` key: a field index and whether it sorts descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    /// Index of the field in the schema.
    pub field: usize,
    /// `desc` when true.
    pub descending: bool,
}

/// Splits a comma list, yielding each non-empty-or-not item with its byte offset.
fn comma_items(src: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    src.split(',').map(move |part| {
        let at = start;
        start += part.len() + 1;
        let lead = part.len() - part.trim_start().len();
        (at + lead, part.trim())
    })
}

/// Parses `$orderby` (`Field [asc|desc], ...`) against `schema`.
pub fn parse_orderby(src: &str, schema: &[FieldDef]) -> Result<Vec<OrderKey>, ODataError> {
    let mut keys = Vec::new();
    for (pos, item) in comma_items(src) {
        if item.is_empty() {
            return err(pos, "empty $orderby item");
        }
        let mut words = item.split_whitespace();
        let name = words.next().unwrap_or_default();
        let descending = match words.next() {
            None => false,
            Some(d) if d.eq_ignore_ascii_case("asc") => false,
            Some(d) if d.eq_ignore_ascii_case("desc") => true,
            Some(d) => {
                return err(
                    pos + name.len() + 1,
                    format!("expected 'asc' or 'desc', found '{d}'"),
                );
            }
        };
        if let Some(extra) = words.next() {
            return err(
                pos,
                format!("unexpected '{extra}' in $orderby item '{item}'"),
            );
        }
        let Some(field) = schema.iter().position(|f| f.name == name) else {
            return err(pos, format!("could not find a property named '{name}'"));
        };
        if schema[field].ty == FieldType::Json {
            return err(pos, format!("'{name}' cannot be ordered by"));
        }
        keys.push(OrderKey { field, descending });
    }
    Ok(keys)
}

/// Orders two records by `keys`.
pub fn order_records<R: Record>(keys: &[OrderKey], a: &R, b: &R) -> Ordering {
    for k in keys {
        let o = sort_order(&a.field(k.field), &b.field(k.field));
        let o = if k.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Parses `$select` (`Field, Field` or `*`) against `schema`; returns one
/// flag per schema field saying whether it is served.
pub fn parse_select(src: &str, schema: &[FieldDef]) -> Result<Vec<bool>, ODataError> {
    let mut mask = vec![false; schema.len()];
    for (pos, item) in comma_items(src) {
        if item.is_empty() {
            return err(pos, "empty $select item");
        }
        if item == "*" {
            mask.iter_mut().for_each(|m| *m = true);
            continue;
        }
        match schema.iter().position(|f| f.name == item) {
            Some(i) => mask[i] = true,
            None => return err(pos, format!("could not find a property named '{item}'")),
        }
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEV: &[&str] = &["Informational", "Low", "Medium", "High", "Critical"];

    const SCHEMA: &[FieldDef] = &[
        FieldDef {
            name: "Name",
            ty: FieldType::String,
        },
        FieldDef {
            name: "Port",
            ty: FieldType::Int,
        },
        FieldDef {
            name: "Score",
            ty: FieldType::Decimal,
        },
        FieldDef {
            name: "Active",
            ty: FieldType::Bool,
        },
        FieldDef {
            name: "LastUpdated",
            ty: FieldType::DateTime,
        },
        FieldDef {
            name: "Id",
            ty: FieldType::Guid,
        },
        FieldDef {
            name: "Severity",
            ty: FieldType::Enum(SEV),
        },
        FieldDef {
            name: "Tags",
            ty: FieldType::Json,
        },
    ];

    struct Row {
        name: Option<&'static str>,
        port: i64,
        score: f64,
        active: bool,
        updated: &'static str,
        id: &'static str,
        sev: u8,
    }

    impl Record for Row {
        fn field(&self, i: usize) -> Value<'_> {
            match i {
                0 => self
                    .name
                    .map_or(Value::Null, |n| Value::Str(Cow::Borrowed(n))),
                1 => Value::Int(self.port),
                2 => Value::Decimal(self.score),
                3 => Value::Bool(self.active),
                4 => Value::DateTime(parse_datetime(self.updated).unwrap()),
                5 => Value::Guid(parse_guid(self.id).unwrap()),
                6 => Value::Enum(self.sev, SEV),
                _ => Value::Json(serde_json::json!([])),
            }
        }
    }

    fn row() -> Row {
        Row {
            name: Some("O'Brien"),
            port: 443,
            score: 7.5,
            active: true,
            updated: "2024-11-18T18:09:14Z",
            id: "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            sev: 3,
        }
    }

    fn m(f: &str) -> bool {
        Filter::compile(f, SCHEMA)
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .matches(&row())
    }

    fn bad(f: &str) -> ODataError {
        match Filter::compile(f, SCHEMA) {
            Ok(_) => panic!("{f} should be rejected"),
            Err(e) => e,
        }
    }

    #[test]
    fn comparisons() {
        assert!(m("Port eq 443"));
        assert!(m("Port ne 80"));
        assert!(m(
            "Port gt 442 and Port ge 443 and Port lt 444 and Port le 443"
        ));
        assert!(!m("Port gt 443"));
        assert!(m("Score ge 7.5 and Score lt 8"));
        assert!(m("Port eq 443.0"));
        assert!(m("443 eq Port"));
        assert!(m("Active eq true"));
        assert!(m("Active"));
        assert!(!m("not Active"));
    }

    #[test]
    fn precedence_and_over_or() {
        // true or (false and false) = true; (true or false) and false = false
        assert!(m("Port eq 443 or Port eq 1 and Port eq 2"));
        assert!(!m("(Port eq 443 or Port eq 1) and Port eq 2"));
        assert!(m("Port eq 1 and Port eq 2 or Port eq 443"));
    }

    #[test]
    fn precedence_not_binds_tighter_than_comparison() {
        // `not Active eq false` is `(not Active) eq false`.
        assert!(m("not Active eq false"));
        assert!(m("not (Port eq 80)"));
        assert!(!m("not (Port eq 443)"));
        assert!(m("not not Active"));
        // `not Port eq 80` would apply `not` to an integer.
        let e = bad("not Port eq 80");
        assert_eq!(e.position, 4);
    }

    #[test]
    fn tree_shape() {
        let e = parse_filter("A eq 1 or B eq 2 and not C").unwrap();
        let Expr::Or(_, right) = e else {
            panic!("or at the top: {e:?}")
        };
        let Expr::And(_, not) = *right else {
            panic!("and under or")
        };
        assert!(matches!(*not, Expr::Not(..)));
    }

    #[test]
    fn string_escaping() {
        assert!(m("Name eq 'O''Brien'"));
        assert!(!m("Name eq 'OBrien'"));
        assert!(m(
            "contains(Name,'''B') and startswith(Name,'O') and endswith(Name,'ien')"
        ));
        assert_eq!(
            parse_filter("Name eq ''''").unwrap(),
            Expr::Compare {
                op: CmpOp::Eq,
                left: Box::new(Expr::Field("Name".into(), 0)),
                right: Box::new(Expr::Literal(Literal::Str("'".into()), 8)),
                pos: 5
            }
        );
        assert!(m("Name ne null"));
        assert!(!m("Name eq null"));
    }

    #[test]
    fn null_semantics() {
        let r = Row {
            name: None,
            ..row()
        };
        let f = |s: &str| Filter::compile(s, SCHEMA).unwrap().matches(&r);
        assert!(f("Name eq null"));
        assert!(!f("Name ne null"));
        assert!(!f("Name eq 'x'"));
        assert!(f("Name ne 'x'"));
        assert!(!f("Name gt 'a'"));
    }

    #[test]
    fn datetime_literals() {
        assert!(m("LastUpdated ge 2024-11-18T18:09:14Z"));
        assert!(!m("LastUpdated gt 2024-11-18T18:09:14Z"));
        assert!(m("LastUpdated ge '2024-11-18T18:09:14Z'"));
        assert!(m("LastUpdated lt 2024-11-18T18:09:14.001Z"));
        assert!(m("LastUpdated eq 2024-11-18T18:09:14.0000000Z"));
        assert!(m("LastUpdated eq 2024-11-18T19:09:14+01:00"));
        assert!(m("LastUpdated eq 2024-11-18T17:09:14-01:00"));
        // A '+' that arrived as a space after form decoding.
        assert!(m("LastUpdated eq 2024-11-18T19:09:14 01:00"));
        assert!(m("LastUpdated gt 2024-11-18"));
        assert!(m("LastUpdated gt datetime'2024-11-18T00:00:00Z'"));
        assert_eq!(bad("LastUpdated ge 2024-13-18T18:09:14Z").position, 15);
        assert_eq!(bad("LastUpdated ge 'yesterday'").position, 15);
        assert!(
            bad("LastUpdated ge 2024-11-18T25:00:00Z")
                .message
                .contains("time")
        );
        bad("LastUpdated ge 42");
    }

    #[test]
    fn guid_literals() {
        assert!(m("Id eq 3fa85f64-5717-4562-b3fc-2c963f66afa6"));
        assert!(m("Id eq '3FA85F64-5717-4562-B3FC-2C963F66AFA6'"));
        assert!(m("Id ne 00000000-0000-0000-0000-000000000000"));
        assert!(m("Id eq guid'3fa85f64-5717-4562-b3fc-2c963f66afa6'"));
        bad("Id eq 'not-a-guid'");
    }

    #[test]
    fn enums_compare_by_member_order() {
        assert!(m("Severity eq 'High'"));
        assert!(m("Severity gt 'Medium'"));
        assert!(m("Severity lt 'Critical'"));
        assert!(m("Severity ge 'High' and Severity le 'High'"));
        assert!(
            bad("Severity eq 'Severe'")
                .message
                .contains("not a valid value")
        );
    }

    #[test]
    fn rejects_unknown_field() {
        let e = bad("Nmae eq 'x'");
        assert_eq!(e.position, 0);
        assert!(e.message.contains("Nmae"));
        bad("Tags eq 'x'");
    }

    #[test]
    fn rejects_unbalanced_parens() {
        let e = bad("(Port eq 443");
        assert_eq!(e.position, 12);
        assert!(e.message.contains("')'"));
        let e = bad("Port eq 443)");
        assert_eq!(e.position, 11);
        assert!(e.message.contains("unbalanced"));
        bad("()");
    }

    #[test]
    fn rejects_trailing_tokens() {
        let e = bad("Port eq 443 'x'");
        assert_eq!(e.position, 12);
        let e = bad("Port eq 443 Port");
        assert_eq!(e.position, 12);
        bad("Port eq 443 and");
        bad("Port eq 1 eq 2");
    }

    #[test]
    fn rejects_unterminated_string() {
        let e = bad("Name eq 'abc");
        assert_eq!(e.position, 8);
        assert!(e.message.contains("unterminated"));
        bad("Name eq 'it''s");
    }

    #[test]
    fn rejects_unknown_operator() {
        let e = bad("Name like 'x'");
        assert_eq!(e.position, 5);
        assert!(e.message.contains("like"));
        assert_eq!(bad("Port == 443").position, 5);
        assert_eq!(bad("Port eq").position, 7);
        bad("eq 443");
        bad("Port eq 443 && Active");
        bad("frobnicate(Name,'x')");
    }

    #[test]
    fn rejects_type_mismatches() {
        bad("Port eq 'x'");
        bad("Name eq 4");
        bad("Port");
        bad("Active and Port");
        bad("");
        bad("   ");
    }

    #[test]
    fn numbers() {
        assert!(m("Port eq 4.43e2"));
        assert!(m("Port gt -1"));
        bad("Port eq 12abc");
        bad("Port eq 99999999999999999999");
    }

    #[test]
    fn orderby_and_select() {
        let k = parse_orderby("Severity desc, Name", SCHEMA).unwrap();
        assert_eq!(
            k,
            vec![
                OrderKey {
                    field: 6,
                    descending: true
                },
                OrderKey {
                    field: 0,
                    descending: false
                }
            ]
        );
        assert_eq!(
            parse_orderby("Name, Bogus", SCHEMA).unwrap_err().position,
            6
        );
        assert!(parse_orderby("Name sideways", SCHEMA).is_err());
        assert!(parse_orderby("Name,", SCHEMA).is_err());
        assert!(parse_orderby("Tags", SCHEMA).is_err());
        let s = parse_select("Name, Port", SCHEMA).unwrap();
        assert_eq!(
            s,
            vec![true, true, false, false, false, false, false, false]
        );
        assert!(parse_select("*", SCHEMA).unwrap().iter().all(|x| *x));
        assert_eq!(parse_select("Name,Nope", SCHEMA).unwrap_err().position, 5);
    }
}
