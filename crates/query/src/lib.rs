//! The filter language users type after `--filter`, over assets and findings.
//!
//! ```text
//! severity>=high and status:NEW and app:"Shop*" and cwe:79 and lastFound>2026-01-01
//! ```
//!
//! A filter is a boolean expression of *field tokens* (`field:value`, `field>=value`, `>`,
//! `<`, `<=`, `!=`) joined by `and` (also implied between adjacent tokens), `or` and `not`,
//! with parentheses. Values are words or quoted strings; `*` is a wildcard in text; `:` may
//! take a comma list (`status:NEW,REOPENED`). Each entity ([`Entity::Findings`],
//! [`Entity::Assets`]) has a registry of fields with a type that decides which operators and
//! values make sense: dates compare by time, severities by rank, statuses by name.
//!
//! Parsing checks everything the user typed — unknown fields, bad values, operators a type
//! does not have — and reports the 1-based column ([`QueryError`]). A parsed [`Filter`]
//! compiles to a SQL condition for a [`Dialect`] with **bound parameters only**: no value a
//! user typed is ever spliced into SQL text.
//!
//! # Layout
//! - [`fields`]: the field registry per entity (name, type, SQL column per dialect, help).
//! - [`lexer`]: characters to tokens, each with its column.
//! - [`ast`]: the parsed expression: conditions, operators, typed values.
//! - [`parser`]: tokens to a checked expression (precedence: `not` > `and` > `or`).
//! - [`value`]: reading a value for a field type (dates, severities, statuses, numbers).
//! - [`print`]: an [`Expr`] back to canonical filter text (`Display`); parsing it gives
//!   the same expression.
//! - [`sql`]: compiling to SQL text and parameters for SQLite or PostgreSQL.
//! - [`sort`]: `--sort` keys (`risk`, `lastFound:asc`, `-severity`).
//! - [`cursor`]: keyset cursors, where the next page of a findings listing starts.
//! - [`filter`]: [`Filter`], the parsed filter the store takes.
//! - [`error`]: [`QueryError`], with a caret line for the terminal.

pub mod ast;
pub mod cursor;
pub mod error;
pub mod fields;
pub mod filter;
pub mod lexer;
pub mod parser;
pub mod print;
pub mod sort;
pub mod sql;
pub mod value;

pub use ast::{Cond, Expr, Op, Value};
pub use cursor::{Cursor, CursorError};
pub use error::QueryError;
pub use fields::{Entity, Field, FieldType};
pub use filter::Filter;
pub use sort::Sort;
pub use sql::{Compiled, Dialect, Param};
