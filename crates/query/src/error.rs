//! [`QueryError`]: what went wrong in a filter or sort, and where.
//!
//! One shape for every mistake (syntax, unknown field, bad value, wrong operator) because
//! users fix all of them the same way: look at the column, read the message. The column is
//! counted in characters from 1, so [`QueryError::caret`] can point under it.

/// A mistake in a filter or sort expression, at a 1-based character column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    /// 1-based character column of the offending token.
    pub column: usize,
    pub message: String,
}

impl QueryError {
    pub fn new(column: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            column,
            message: message.into(),
        }
    }

    /// The input with a caret under the column and the message after it:
    ///
    /// ```text
    /// severity>=hgh
    ///           ^ unknown severity 'hgh' ...
    /// ```
    pub fn caret(&self, input: &str) -> String {
        let pad = " ".repeat(self.column.saturating_sub(1));
        format!("{input}\n{pad}^ {}", self.message)
    }
}
