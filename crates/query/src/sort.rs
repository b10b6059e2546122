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
            // Columns count characters, as filter errors do (a leading no-break space
            // counted its two bytes).
            let col = column + part.chars().take_while(|c| c.is_whitespace()).count();
            column += part.chars().count() + 1;
            if trimmed.is_empty() {
                return Err(QueryError::new(col, "empty sort key"));
            }
            let signed = match trimmed.strip_prefix('-') {
                Some(n) => Some((n, true)),
                None => trimmed.strip_prefix('+').map(|n| (n, false)),
            };
            let (name, dir) = if let Some((n, descending)) = signed {
                // `-risk:asc` was "unknown field 'risk:asc'": the key gives two directions.
                if let Some((field, _)) = n.split_once(':') {
                    let (sign, word) = if descending {
                        ('-', "desc")
                    } else {
                        ('+', "asc")
                    };
                    return Err(QueryError::new(
                        col,
                        format!(
                            "'{trimmed}' gives the direction twice: write it once \
                             ({sign}{field} or {field}:{word})"
                        ),
                    ));
                }
                (n, Some(descending))
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
                    .unwrap_or_else(|| " (appscan-bridge filter-help lists the fields)".into());
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
        // Nothing close: where the fields are listed, as --filter and --columns say.
        let e = Sort::parse_list(Entity::Findings, "bogus").expect_err("unknown");
        assert!(
            e.to_string().contains(
                "unknown field 'bogus' for findings (appscan-bridge filter-help lists the fields)"
            ),
            "{e}"
        );
        let e = Sort::parse_list(Entity::Findings, "risk:sideways").expect_err("dir");
        assert_eq!(e.column, 6);
        assert!(Sort::parse_list(Entity::Findings, "tag").is_err());
        // Columns count characters: two no-break spaces are two columns, not four.
        let e = Sort::parse_list(Entity::Findings, "risk,\u{a0}\u{a0}colour").expect_err("nbsp");
        assert_eq!(e.column, 8);
        assert_eq!(
            e.caret("risk,\u{a0}\u{a0}colour")
                .lines()
                .nth(1)
                .map(|l| l.chars().position(|c| c == '^')),
            Some(Some(7))
        );
        let e = Sort::parse_list(Entity::Findings, "é,risk").expect_err("unknown");
        assert_eq!(e.column, 1);
        // A sign and a `:direction` on one key is two directions, not an unknown field.
        let e = Sort::parse_list(Entity::Findings, "name, -risk:asc").expect_err("twice");
        assert_eq!(e.column, 7);
        assert_eq!(
            e.message,
            "'-risk:asc' gives the direction twice: write it once (-risk or risk:desc)"
        );
        let e = Sort::parse_list(Entity::Findings, "+name:DESC").expect_err("twice");
        assert!(e.message.contains("(+name or name:asc)"), "{}", e.message);
    }
}
