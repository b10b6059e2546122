//! `--sort` keys: a field name with an optional direction.
//!
//! `risk`, `risk:desc`, `-risk` (descending), `name:asc`, `+name`; several keys are
//! separated by commas. Without a direction, numbers, dates and severities sort
//! descending (largest, latest, worst first) and text ascending.

use crate::error::QueryError;
use crate::fields::{Entity, Field, FieldType};
use crate::sql::Dialect;

/// One sort key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sort {
    pub field: &'static Field,
    pub descending: bool,
}

impl Sort {
    /// Parses a comma-separated list of keys for an entity.
    pub fn parse_list(entity: Entity, input: &str) -> Result<Vec<Sort>, QueryError> {
        let mut out = Vec::new();
        let mut column = 1;
        for part in input.split(',') {
            let trimmed = part.trim();
            let col = column + (part.len() - part.trim_start().len());
            column += part.chars().count() + 1;
            if trimmed.is_empty() {
                return Err(QueryError::new(col, "empty sort key"));
            }
            let (name, dir) = if let Some(n) = trimmed.strip_prefix('-') {
                (n, Some(true))
            } else if let Some(n) = trimmed.strip_prefix('+') {
                (n, Some(false))
            } else if let Some((n, d)) = trimmed.split_once(':') {
                match d.to_ascii_lowercase().as_str() {
                    "desc" => (n, Some(true)),
                    "asc" => (n, Some(false)),
                    _ => {
                        return Err(QueryError::new(
                            col + n.chars().count() + 1,
                            format!("sort direction is asc or desc, not '{d}'"),
                        ));
                    }
                }
            } else {
                (trimmed, None)
            };
            let Some(field) = entity.field(name) else {
                let hint = entity
                    .closest(name)
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                return Err(QueryError::new(
                    col,
                    format!("unknown field '{name}' for {}{hint}", entity.as_str()),
                ));
            };
            if !field.sortable() {
                return Err(QueryError::new(
                    col,
                    format!("{} cannot be sorted", field.name),
                ));
            }
            let descending =
                dir.unwrap_or(!matches!(field.ty, FieldType::Text | FieldType::Status));
            out.push(Sort { field, descending });
        }
        Ok(out)
    }

    /// A findings listing's keys when none are asked for: the worst severity first (ties,
    /// as always, by id).
    pub fn findings_default() -> Vec<Sort> {
        Entity::Findings
            .field("severity")
            .map(|field| Sort {
                field,
                descending: true,
            })
            .into_iter()
            .collect()
    }

    /// The `ORDER BY` term; nullable fields put empty values last either way, and text
    /// orders by its bytes on both backends ([`crate::cursor::compared`]).
    pub fn sql(&self, dialect: Dialect) -> String {
        self.term(&crate::cursor::compared(self.field, dialect))
    }

    /// The `ORDER BY` term of this key's direction over `expr` (e.g. a selected alias).
    pub fn term(&self, expr: &str) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        if self.field.nullable {
            format!("{expr} {dir} NULLS LAST")
        } else {
            format!("{expr} {dir}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_directions() {
        let s =
            Sort::parse_list(Entity::Findings, "risk, name:asc,-lastFound,+cvss").expect("sort");
        let got: Vec<String> = s.iter().map(|k| k.sql(Dialect::Sqlite)).collect();
        assert_eq!(
            got,
            vec![
                "f.risk DESC",
                "f.name ASC",
                "f.last_found DESC NULLS LAST",
                "f.cvss ASC NULLS LAST"
            ]
        );
        assert_eq!(
            Sort::parse_list(Entity::Assets, "risk").expect("a")[0].sql(Dialect::Postgres),
            "a.risk DESC"
        );
    }

    #[test]
    fn errors_point_at_the_key() {
        let e = Sort::parse_list(Entity::Findings, "risk,colour").expect_err("unknown");
        assert_eq!(e.column, 6);
        let e = Sort::parse_list(Entity::Findings, "risk:sideways").expect_err("dir");
        assert_eq!(e.column, 6);
        assert!(Sort::parse_list(Entity::Findings, "tag").is_err());
    }
}
