//! Characters to tokens, each carrying the 1-based column it starts at.
//!
//! The lexer knows one piece of context: after an operator comes a *value*, which runs to
//! whitespace, `)` or `,` (so `2026-01-01T10:00:00Z` and `https://x/y` need no quotes) —
//! or is a quoted string (`"..."` or `'...'`, with `\"` and `\\` escapes).

use crate::ast::Op;
use crate::error::QueryError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare word where a field name, `and`, `or` or `not` may stand.
    Word(String),
    Op(Op),
    /// A value after an operator; `quoted` when it was written in quotes.
    Value {
        text: String,
        quoted: bool,
    },
    Comma,
    LParen,
    RParen,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// 1-based character column.
    pub column: usize,
}

/// Splits a filter into tokens.
pub fn lex(input: &str) -> Result<Vec<Token>, QueryError> {
    // A NUL is looked for as the stores keep it (PostgreSQL refused the whole statement).
    let chars: Vec<char> = model::text::storable(input).chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Whether the previous token was an operator or a comma inside a value list.
    let mut want_value = false;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if want_value {
            want_value = false;
            let (text, quoted, next) = if c == '"' || c == '\'' {
                let (t, n) = quoted_string(&chars, i)?;
                (t, true, n)
            } else {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && chars[i] != ')'
                    && chars[i] != ','
                {
                    i += 1;
                }
                if i == start {
                    return Err(QueryError::new(column, "expected a value"));
                }
                (chars[start..i].iter().collect(), false, i)
            };
            out.push(Token {
                tok: Tok::Value { text, quoted },
                column,
            });
            i = next;
            // A comma right after a value continues the list.
            if i < chars.len() && chars[i] == ',' {
                out.push(Token {
                    tok: Tok::Comma,
                    column: i + 1,
                });
                i += 1;
                want_value = true;
            }
            continue;
        }
        match c {
            '(' => {
                out.push(Token {
                    tok: Tok::LParen,
                    column,
                });
                i += 1;
            }
            ')' => {
                out.push(Token {
                    tok: Tok::RParen,
                    column,
                });
                i += 1;
            }
            ':' | '=' | '<' | '>' | '!' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    (':', _) => (Op::Eq, 1),
                    ('=', Some('=')) => (Op::Eq, 2),
                    ('=', _) => (Op::Eq, 1),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('>', _) => (Op::Gt, 1),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('<', Some('>')) => (Op::Ne, 2),
                    ('<', _) => (Op::Lt, 1),
                    _ => {
                        // A lone `!` is `not`.
                        out.push(Token {
                            tok: Tok::Word("not".into()),
                            column,
                        });
                        i += 1;
                        continue;
                    }
                };
                out.push(Token {
                    tok: Tok::Op(op),
                    column,
                });
                i += len;
                want_value = true;
            }
            '"' | '\'' => {
                return Err(QueryError::new(
                    column,
                    "a quoted string must follow a field and an operator, e.g. app:\"My App\"",
                ));
            }
            ',' => {
                return Err(QueryError::new(
                    column,
                    "a comma only separates values, e.g. status:NEW,REOPENED",
                ));
            }
            _ if is_word_char(c) => {
                let start = i;
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Word(chars[start..i].iter().collect()),
                    column,
                });
            }
            _ => {
                return Err(QueryError::new(
                    column,
                    format!("unexpected character '{c}'"),
                ));
            }
        }
    }
    if want_value {
        return Err(QueryError::new(
            chars.len() + 1,
            "expected a value after the operator",
        ));
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || c == '-' || c == '*'
}

/// Reads a quoted string starting at `chars[start]` (the quote); returns it and the index after.
fn quoted_string(chars: &[char], start: usize) -> Result<(String, usize), QueryError> {
    let quote = chars[start];
    let mut s = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() && (chars[i + 1] == quote || chars[i + 1] == '\\') => {
                s.push(chars[i + 1]);
                i += 2;
            }
            c if c == quote => return Ok((s, i + 1)),
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err(QueryError::new(start + 1, "unterminated quoted string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).expect("lex").into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn values_run_to_space_paren_or_comma() {
        assert_eq!(
            toks("(lastFound>2026-01-01T10:00:00Z)"),
            vec![
                Tok::LParen,
                Tok::Word("lastFound".into()),
                Tok::Op(Op::Gt),
                Tok::Value {
                    text: "2026-01-01T10:00:00Z".into(),
                    quoted: false
                },
                Tok::RParen
            ]
        );
        assert_eq!(
            toks("status:NEW,ACTIVE"),
            vec![
                Tok::Word("status".into()),
                Tok::Op(Op::Eq),
                Tok::Value {
                    text: "NEW".into(),
                    quoted: false
                },
                Tok::Comma,
                Tok::Value {
                    text: "ACTIVE".into(),
                    quoted: false
                },
            ]
        );
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            toks(r#"app:"My \"big\" app""#)[2],
            Tok::Value {
                text: "My \"big\" app".into(),
                quoted: true
            }
        );
        assert_eq!(
            toks("app:'a b'")[2],
            Tok::Value {
                text: "a b".into(),
                quoted: true
            }
        );
        let e = lex("app:\"open").expect_err("unterminated");
        assert_eq!(e.column, 5);
    }

    #[test]
    fn columns_count_characters() {
        let t = lex("é:x and cwe>=79").expect("lex");
        assert_eq!(t[3].column, 5);
        assert_eq!(t[4].column, 9);
        assert_eq!(t[5].column, 12);
        assert_eq!(lex("cwe>=").expect_err("no value").column, 6);
        assert_eq!(lex("cwe:1 # x").expect_err("bad char").column, 7);
    }
}
