//! The parsed, checked expression: conditions on fields joined by `and`, `or`, `not`.

use crate::fields::Field;
use chrono::{DateTime, Utc};
use model::{Severity, Status};

/// A comparison operator as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `:` — equals, matches a pattern, or falls on a day.
    Eq,
    /// `!=`
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => ":",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }

    /// Whether the operator orders values (`>`, `>=`, `<`, `<=`).
    pub fn is_ordering(self) -> bool {
        matches!(self, Op::Gt | Op::Ge | Op::Lt | Op::Le)
    }
}

/// A value read for its field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, where `*` is a wildcard.
    Text(String),
    /// `*` alone: the field has a value.
    Any,
    Int(i64),
    Float(f64),
    /// A time span `[from, to)`; `from == to` for an instant.
    Time {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    Severity(Severity),
    /// A status name, or a group (`open`, `closed`) standing for several.
    Status(Vec<Status>),
    Bool(bool),
}

/// One field token: `field op value[,value...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    pub field: &'static Field,
    pub op: Op,
    /// One value, or several with `:` / `!=` (any of them matches / none of them matches).
    pub values: Vec<Value>,
    /// 1-based column of the field name.
    pub column: usize,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Cond(Cond),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}
