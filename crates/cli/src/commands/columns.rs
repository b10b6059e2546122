//! `--columns` of `assets` and `findings`: a cell per field of the filter language.
//!
//! Columns are named like filter fields (`filter-help` lists them; aliases work), so one
//! vocabulary selects, sorts and shows. A cell is text for the table and a JSON value for
//! `--json --columns`.

use anyhow::bail;
use chrono::{DateTime, Utc};
use query::{Entity, Field, FieldType};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};
use store::{StoredAsset, StoredFinding};

/// The findings table without `--columns`.
pub const FINDING_DEFAULT: &[&str] = &[
    "id", "severity", "status", "risk", "name", "app", "location", "cwe",
];
/// The assets table without `--columns`.
pub const ASSET_DEFAULT: &[&str] = &[
    "id",
    "connector",
    "name",
    "url",
    "findings",
    "openFindings",
    "risk",
    "lastSeen",
];

/// Resolves column names (or the defaults) to fields, naming the first unknown one. An
/// empty list and a field named twice (by two of its names too) are refused: the one
/// showed empty rows, the other wrote JSON objects with a key twice.
pub fn resolve(
    entity: Entity,
    asked: &[String],
    default: &[&str],
) -> anyhow::Result<Vec<&'static Field>> {
    let names: Vec<&str> = if asked.is_empty() {
        default.to_vec()
    } else {
        asked
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect()
    };
    if names.is_empty() {
        bail!("--columns names no field (appscan-bridge filter-help lists the fields)");
    }
    let mut out: Vec<(&str, &'static Field)> = Vec::new();
    for n in names {
        let Some(f) = entity.field(n) else {
            let hint = entity
                .closest(n)
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_else(|| " (appscan-bridge filter-help lists the fields)".into());
            bail!("--columns: unknown {} field '{n}'{hint}", entity.as_str());
        };
        if let Some((first, _)) = out.iter().find(|(_, g)| std::ptr::eq(*g, f)) {
            bail!(
                "--columns names the {} field '{}' twice ('{first}' and '{n}')",
                entity.as_str(),
                f.name
            );
        }
        out.push((n, f));
    }
    Ok(out.into_iter().map(|(_, f)| f).collect())
}

/// A time as `findings --json` writes it, to the microsecond: a value cut to the second
/// and pasted into `lastSeen:<value>` matched nothing. Tables show seconds ([`cell`]).
fn time(t: DateTime<Utc>) -> Value {
    json!(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map(time).unwrap_or(Value::Null)
}

/// A finding's value of one field.
pub fn finding_value(field: &Field, r: &StoredFinding) -> Value {
    let f = &r.finding;
    match field.name {
        "id" => json!(r.id),
        "connector" => json!(r.connector),
        "externalId" => json!(f.external_id),
        "app" => json!(r.asset_name.as_deref().unwrap_or(&f.asset_external_id)),
        "appId" => json!(f.asset_external_id),
        "appUrl" => json!(r.asset_url),
        "name" => json!(f.name),
        "issueType" => json!(f.issue_type),
        "severity" => json!(f.severity.as_str()),
        "sourceSeverity" => json!(f.source_severity),
        "status" => json!(f.status.as_str()),
        "sourceStatus" => json!(f.source_status),
        "open" => json!(f.status.is_open()),
        "cve" => json!(f.cve),
        "cvss" => json!(f.cvss),
        "cwe" => json!(f.cwe),
        "port" => json!(f.port),
        "protocol" => json!(f.protocol),
        "location" => json!(f.location),
        "element" => json!(f.element),
        "description" => json!(f.description),
        "solution" => json!(f.solution),
        "detection" => json!(f.detection),
        "tag" => json!(f.tags),
        "fingerprint" => json!(r.fingerprint),
        "firstFound" => opt_time(f.first_found),
        "lastFound" => opt_time(f.last_found),
        "lastUpdated" => opt_time(f.last_updated),
        "firstSeen" => time(r.first_seen),
        "lastSeen" => time(r.last_seen),
        "active" => json!(r.active),
        "risk" => json!(r.risk),
        "kev" => json!(r.kev),
        _ => Value::Null,
    }
}

/// An asset's value of one field.
pub fn asset_value(field: &Field, r: &StoredAsset) -> Value {
    let a = &r.asset;
    match field.name {
        "id" => json!(r.id),
        "connector" => json!(r.connector),
        "externalId" => json!(a.external_id),
        "name" => json!(a.name),
        "url" => json!(a.url),
        "description" => json!(a.description),
        "businessUnit" => json!(a.business_unit),
        "riskRating" => json!(a.risk_rating),
        "tag" => json!(a.tags),
        "findings" => json!(r.findings),
        "openFindings" => json!(r.open_findings),
        "lastUpdated" => opt_time(a.last_updated),
        "firstSeen" => time(r.first_seen),
        "lastSeen" => time(r.last_seen),
        "active" => json!(r.active),
        "risk" => json!(r.risk),
        _ => Value::Null,
    }
}

/// A value as table text: strings bare, lists joined, empty as nothing, long text cut.
pub fn cell(field: &Field, v: &Value) -> String {
    if field.ty == FieldType::Date
        && let Some(t) = v
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    {
        return t
            .with_timezone(&Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    }
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| cell(field, i))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    crate::output::cut(&text.replace(['\n', '\r'], " "), 60)
}

/// One row of `--json --columns`: the chosen fields as keys, in the order asked for
/// (a `serde_json::Map` would sort them).
pub struct Row(Vec<(&'static str, Value)>);

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// One JSON object per row with the chosen columns as keys.
pub fn objects<T>(
    rows: &[T],
    fields: &[&'static Field],
    value: impl Fn(&Field, &T) -> Value,
) -> Vec<Row> {
    rows.iter()
        .map(|r| Row(fields.iter().map(|f| (f.name, value(f, r))).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_value_arm() {
        // Columns come from the filter registry; a field added there without a cell here
        // would show as empty.
        let probe = |name: &str| -> bool {
            let src = include_str!("columns.rs");
            src.contains(&format!("\"{name}\" =>"))
        };
        for e in [Entity::Findings, Entity::Assets] {
            for f in e.fields() {
                assert!(probe(f.name), "{} has no column value", f.name);
            }
        }
    }

    #[test]
    fn unknown_columns_are_named() {
        let e =
            resolve(Entity::Findings, &["id".into(), "sevrity".into()], &[]).expect_err("unknown");
        assert!(e.to_string().contains("did you mean 'severity'"), "{e}");
        let f = resolve(Entity::Assets, &[], ASSET_DEFAULT).expect("defaults");
        assert_eq!(f.len(), ASSET_DEFAULT.len());
    }

    #[test]
    fn no_columns_and_a_column_twice_are_refused() {
        let e = resolve(Entity::Findings, &[" ".into()], FINDING_DEFAULT).expect_err("none");
        assert!(e.to_string().contains("names no field"), "{e}");
        let e = resolve(Entity::Findings, &["id".into(), "ID".into()], &[]).expect_err("twice");
        assert!(e.to_string().contains("'id' twice"), "{e}");
        let e = resolve(Entity::Findings, &["app".into(), "asset".into()], &[]).expect_err("alias");
        assert!(
            e.to_string().contains("'app' twice ('app' and 'asset')"),
            "{e}"
        );
    }
}
