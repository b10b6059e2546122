//! `filter-help`: the fields of `--filter`, `--sort` and `--columns`, with the syntax.

use crate::args::FilterHelpArgs;
use crate::output;
use anyhow::bail;
use query::{Entity, FieldType};
use serde_json::json;
use std::process::ExitCode;

const SYNTAX: &str = "\
Syntax:
  field:value          equals (text: case-insensitive, * is a wildcard: app:\"Shop*\")
  field:a,b,c          any of the values (status:NEW,REOPENED)
  field!=value         not equal (also: none of a list)
  field>value  >=  <  <=   numbers, dates, severities (severity>=high, cvss>7, lastFound>-30d)
  field:*              the field has a value (cve:*); not cve:* for none
  a and b, a b         both (and is implied between terms)
  a or b               either; not a (or !a); ( ) to group. not > and > or
  \"...\" or '...'       quoted values keep spaces and keywords (name:\"a and b\")
Dates: 2026-01-01 (the whole day, UTC), 2026-01-01T10:00:00Z, now, -7d, now-12h (m h d w).
Severities: informational < low < medium < high < critical (or 1-5).
Statuses: NEW ACTIVE REOPENED FIXED IGNORED NONE CLOSED; open and closed are groups.
Sort: --sort risk,-lastFound,name:asc (numbers/dates/severities default to descending).
Example: appscan-bridge findings --filter 'severity>=high and status:NEW and app:\"Shop*\" and cwe:79 and lastFound>2026-01-01' --sort risk";

fn entities(which: Option<&str>) -> anyhow::Result<Vec<Entity>> {
    Ok(match which.map(str::to_ascii_lowercase).as_deref() {
        None => vec![Entity::Findings, Entity::Assets],
        Some("findings" | "finding") => vec![Entity::Findings],
        Some("assets" | "asset" | "apps") => vec![Entity::Assets],
        Some(other) => bail!("filter-help: '{other}' is not findings or assets"),
    })
}

pub fn run(a: FilterHelpArgs) -> anyhow::Result<ExitCode> {
    let list = entities(a.entity.as_deref())?;
    if a.json {
        let mut out = serde_json::Map::new();
        for e in &list {
            let fields: Vec<_> = e
                .fields()
                .iter()
                .map(|f| {
                    json!({
                        "name": f.name,
                        "aliases": f.aliases,
                        "type": f.ty.as_str(),
                        "sortable": f.sortable(),
                        "indexed": f.indexed,
                        "description": f.description,
                    })
                })
                .collect();
            out.insert(e.as_str().into(), json!(fields));
        }
        output::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    for e in &list {
        println!("Fields of {} (--filter, --sort, --columns):", e.as_str());
        let mut t = output::table(&["field", "type", "operators", "aliases", "description"]);
        for f in e.fields() {
            let ops = match f.ty {
                FieldType::Text | FieldType::Tags | FieldType::Status | FieldType::Bool => ": !=",
                _ => ": != > >= < <=",
            };
            let name = if f.indexed {
                format!("{} (indexed)", f.name)
            } else {
                f.name.to_string()
            };
            t.add_row(vec![
                name,
                f.ty.as_str().to_string(),
                ops.to_string(),
                f.aliases.join(", "),
                f.description.to_string(),
            ]);
        }
        println!("{t}\n");
    }
    println!("{SYNTAX}");
    Ok(ExitCode::SUCCESS)
}
