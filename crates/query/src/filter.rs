//! [`Filter`]: a parsed filter for one entity, ready to compile for the store's dialect.

use crate::ast::Expr;
use crate::error::QueryError;
use crate::fields::Entity;
use crate::sql::{Compiled, Dialect, compile};
use chrono::{DateTime, Utc};

/// A checked filter expression over one entity, with the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub entity: Entity,
    pub text: String,
    pub expr: Expr,
}

impl Filter {
    /// Parses `text`; relative dates (`-7d`) count from now.
    pub fn parse(entity: Entity, text: &str) -> Result<Filter, QueryError> {
        Filter::parse_at(entity, text, Utc::now())
    }

    /// Parses `text` with relative dates counted from `now`.
    pub fn parse_at(entity: Entity, text: &str, now: DateTime<Utc>) -> Result<Filter, QueryError> {
        Ok(Filter {
            entity,
            text: text.to_string(),
            expr: crate::parser::parse(entity, text, now)?,
        })
    }

    /// The SQL condition and its parameters, placeholders numbered from `first`.
    pub fn compile(&self, dialect: Dialect, first: usize) -> Compiled {
        compile(&self.expr, dialect, first)
    }
}
