//! Maps: data that says how raw source records become normalized assets and findings.
//!
//! A map is a TOML document (see `default.toml`, the built-in default): a list of field
//! rules per record kind (`target` ← first present of `source`), a status map and a
//! severity map. Loading validates it and reports *every* problem with its line.

mod apply;
pub mod targets;

pub use apply::{Mapped, RecordError};

use crate::{Severity, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use targets::Kind;
use toml::Spanned;

/// The built-in default map, as TOML.
pub const DEFAULT_MAP_TOML: &str = include_str!("default.toml");

/// One field rule: fill `target` from the first of `source` that is present and not null,
/// unless a field of `unless` holds one of its values (e.g. no `cvss3Base` from `Cvss`
/// when `CvssVersion` is `Cvss20`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub target: String,
    pub source: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Source field → values (compared without regard to case) that leave the target
    /// unfilled.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unless: BTreeMap<String, Vec<String>>,
    /// Source field → a field whose value follows it after a colon when the target was
    /// filled from that source (an ASoC SAST issue's `SourceFile` and its `Line`, as an
    /// XML report writes `file:line`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub suffix: BTreeMap<String, String>,
}

/// A validated map.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    pub name: String,
    pub description: Option<String>,
    pub asset: Vec<Rule>,
    pub finding: Vec<Rule>,
    /// Source status (as written in the map) → normalized status.
    pub status: BTreeMap<String, Status>,
    pub status_fallback: Status,
    /// Source severity (as written in the map) → normalized severity.
    pub severity: BTreeMap<String, Severity>,
    /// Normalized severity for a source severity the map does not know; `None` makes an
    /// unknown severity a record error. With a fallback the source's value is kept
    /// verbatim as the finding's source severity and the record is warned about.
    pub severity_fallback: Option<Severity>,
}

/// One problem found while loading a map.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}{}: {message}", line_part(*.line))]
pub struct MapError {
    pub origin: String,
    /// The line in the file, or 0 where there is none to name (a JSON map's problems
    /// found in its TOML form).
    pub line: usize,
    pub message: String,
}

/// `:N` for a line, nothing for none.
fn line_part(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

/// Every problem found while loading a map.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid map {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct MapLoadError(pub Vec<MapError>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    name: Spanned<String>,
    description: Option<String>,
    status_fallback: Option<Spanned<String>>,
    severity_fallback: Option<Spanned<String>>,
    #[serde(default)]
    asset: Vec<RuleFile>,
    #[serde(default)]
    finding: Vec<RuleFile>,
    #[serde(default)]
    status: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<String>>,
}

// `expecting`: a rule that is no table said "expected struct RuleFile".
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule: a table with `target` and `source`"
)]
struct RuleFile {
    target: Spanned<String>,
    source: Spanned<OneOrMany>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    unless: Option<Spanned<BTreeMap<String, Vec<String>>>>,
    #[serde(default)]
    suffix: Option<Spanned<BTreeMap<String, String>>>,
}

/// A rule's `source`: one field name or a list of them.
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Read by hand: serde's untagged enum said only "data did not match any variant of
/// untagged enum OneOrMany" for `source = 79`, naming neither what it takes nor, in a
/// list, which item was wrong.
impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> serde::de::Visitor<'de> for Names {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a source field's name or a list of names (\"Cwe\" or [\"Cwe\", \"CweId\"])",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(OneOrMany::Many(names))
            }
        }
        d.deserialize_any(Names)
    }
}

impl Map {
    /// The built-in default map.
    pub fn default_map() -> Map {
        // The default map is part of the binary and covered by tests; failing to load it
        // is a build defect, not an input error.
        match Map::from_toml(DEFAULT_MAP_TOML, "default.toml") {
            Ok(map) => map,
            Err(e) => panic!("the built-in default map is invalid: {e}"),
        }
    }

    /// Parses and validates a map written in TOML or, when it starts with `{`, in JSON
    /// (the spec allows both; a JSON map failed as "invalid key-value pair"). A JSON map
    /// is validated in its TOML form: its syntax errors name the JSON's line, the other
    /// problems the file without a line (the TOML form's lines are not the file's).
    pub fn from_text(text: &str, origin: &str) -> Result<Map, MapLoadError> {
        let json = text.trim_start_matches('\u{feff}').trim_start();
        if !json.starts_with('{') {
            return Map::from_toml(text, origin);
        }
        let problem = |line: usize, message: String| {
            MapLoadError(vec![MapError {
                origin: origin.to_string(),
                line,
                message,
            }])
        };
        let value = json_without_repeats(json)
            .map_err(|e| problem(e.line(), format!("not a JSON map: {e}")))?;
        let as_toml = toml::to_string(&value)
            .map_err(|e| problem(0, format!("a JSON map holds what TOML cannot: {e}")))?;
        Map::from_toml(&as_toml, origin).map_err(|e| {
            let in_json = |p: MapError| MapError {
                message: match json_path(&as_toml, p.line) {
                    Some(path) => format!("{path}: {}", p.message),
                    None => p.message,
                },
                line: 0,
                ..p
            };
            MapLoadError(e.0.into_iter().map(in_json).collect())
        })
    }

    /// Parses and validates a map; `origin` names the file in error messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Map, MapLoadError> {
        Map::parse(text, origin, false).map(|(map, _)| map)
    }

    /// Parses a map saved in a store, perhaps by an earlier version: what later versions
    /// refuse in a new map (a `suffix` on a target that is not text or on `cveId`,
    /// `required` on an optional target, no severities and no fallback) comes back as
    /// notes, and the map loads as earlier versions used it (the suffix left out,
    /// `required` ignored). Refused outright, a stored map that synced before stopped its
    /// connectors after an upgrade, and `map show`/`edit` could not open it to fix it.
    pub fn from_stored_toml(
        text: &str,
        origin: &str,
    ) -> Result<(Map, Vec<MapError>), MapLoadError> {
        Map::parse(text, origin, true)
    }

    /// [`Map::from_toml`], or with `stored` [`Map::from_stored_toml`].
    fn parse(text: &str, origin: &str, stored: bool) -> Result<(Map, Vec<MapError>), MapLoadError> {
        let mut notes: Vec<MapError> = Vec::new();
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let err = |offset: usize, message: String| MapError {
            origin: origin.to_string(),
            line: line_of(offset),
            message,
        };
        let file: MapFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            MapLoadError(vec![err(offset, e.message().to_string())])
        })?;
        let mut errors = Vec::new();
        if let Err(why) = check_name(file.name.get_ref()) {
            errors.push(err(file.name.span().start, why));
        }
        let mut rules_of = |kind: Kind, rules: Vec<RuleFile>| -> Vec<Rule> {
            let mut out: Vec<Rule> = Vec::new();
            for r in rules {
                let target = r.target.get_ref().clone();
                let at = r.target.span().start;
                let Some(spec) = targets::find(kind, &target) else {
                    let known: Vec<&str> = targets::TARGETS
                        .iter()
                        .filter(|t| t.kind == kind)
                        .map(|t| t.name)
                        .collect();
                    errors.push(err(
                        at,
                        format!(
                            "unknown {} target field '{target}' (known: {})",
                            kind_name(kind),
                            known.join(", ")
                        ),
                    ));
                    continue;
                };
                if out.iter().any(|o| o.target == target) {
                    errors.push(err(at, format!("duplicate target field '{target}'")));
                    continue;
                }
                let source = match r.source.get_ref() {
                    OneOrMany::One(s) => vec![s.clone()],
                    OneOrMany::Many(v) => v.clone(),
                };
                if source.is_empty() || source.iter().any(|s| s.trim().is_empty()) {
                    errors.push(err(
                        r.source.span().start,
                        format!("target '{target}' has an empty source"),
                    ));
                    continue;
                }
                let unless_at = r.unless.as_ref().map_or(at, |u| u.span().start);
                let unless = r.unless.map(Spanned::into_inner).unwrap_or_default();
                if unless.iter().any(|(field, values)| {
                    field.trim().is_empty()
                        || values.is_empty()
                        || values.iter().any(|v| v.trim().is_empty())
                }) {
                    errors.push(err(
                        unless_at,
                        format!("target '{target}': `unless` needs a field and at least one value"),
                    ));
                    continue;
                }
                let suffix_at = r.suffix.as_ref().map_or(at, |s| s.span().start);
                let suffix = r.suffix.map(Spanned::into_inner).unwrap_or_default();
                if let Some((field, _)) = suffix
                    .iter()
                    .find(|(field, after)| !source.contains(field) || after.trim().is_empty())
                {
                    errors.push(err(
                        suffix_at,
                        format!(
                            "target '{target}': `suffix` names a source of the rule and the \
                             field that follows it ('{field}' is not one of {source:?}, or \
                             names no field)"
                        ),
                    ));
                    continue;
                }
                // Kept in the rules either way: left out, the rule's target was also
                // reported as not mapped.
                let mut suffix = suffix;
                if let Some(why) = suffix_refused(spec, &suffix) {
                    let e = err(suffix_at, format!("target '{target}': {why}"));
                    match stored {
                        true => {
                            notes.push(e);
                            suffix.clear();
                        }
                        false => errors.push(e),
                    }
                }
                let mut required = r.required;
                if required && !spec.required {
                    let e = err(
                        at,
                        format!(
                            "target '{target}': `required = true` applies only to the required \
                             targets (see `map targets`); '{target}' is optional, and a record \
                             without it maps without it"
                        ),
                    );
                    match stored {
                        true => {
                            notes.push(e);
                            required = false;
                        }
                        false => errors.push(e),
                    }
                }
                out.push(Rule {
                    target,
                    source,
                    required,
                    unless,
                    suffix,
                });
            }
            out
        };
        let asset = rules_of(Kind::Asset, file.asset);
        let finding = rules_of(Kind::Finding, file.finding);
        for t in targets::TARGETS.iter().filter(|t| t.required) {
            let rules = if t.kind == Kind::Asset {
                &asset
            } else {
                &finding
            };
            if !rules.iter().any(|r| r.target == t.name) {
                // Of the whole map, not of a line (the end of the file was named, a
                // line past the last).
                errors.push(MapError {
                    line: 0,
                    ..err(
                        0,
                        format!(
                            "required {} target field '{}' is not mapped",
                            kind_name(t.kind),
                            t.name
                        ),
                    )
                });
            }
        }
        let mut status = BTreeMap::new();
        let mut seen = BTreeMap::new();
        for (k, v) in file.status {
            if let Some(first) = seen.insert(lookup_key(&k), k.clone()) {
                errors.push(err(
                    v.span().start,
                    format!("status '{k}' repeats '{first}' (keys match ignoring case and leading or trailing spaces)"),
                ));
                continue;
            }
            match v.get_ref().parse::<Status>() {
                Ok(s) => {
                    status.insert(k, s);
                }
                Err(e) => errors.push(err(v.span().start, format!("status '{k}': {e}"))),
            }
        }
        let status_fallback = match file.status_fallback {
            None => Status::Active,
            Some(v) => match v.get_ref().parse::<Status>() {
                Ok(s) => s,
                Err(e) => {
                    errors.push(err(v.span().start, format!("status_fallback: {e}")));
                    Status::Active
                }
            },
        };
        let mut severity = BTreeMap::new();
        let mut seen = BTreeMap::new();
        for (k, v) in file.severity {
            if let Some(first) = seen.insert(lookup_key(&k), k.clone()) {
                errors.push(err(
                    v.span().start,
                    format!(
                        "severity '{k}' repeats '{first}' (keys match ignoring case and leading or trailing spaces)"
                    ),
                ));
                continue;
            }
            match v.get_ref().parse::<Severity>() {
                Ok(s) => {
                    severity.insert(k, s);
                }
                Err(e) => errors.push(err(v.span().start, format!("severity '{k}': {e}"))),
            }
        }
        let severity_fallback = match file.severity_fallback {
            None => None,
            Some(v) => match v.get_ref().parse::<Severity>() {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.push(err(v.span().start, format!("severity_fallback: {e}")));
                    None
                }
            },
        };
        if severity.is_empty() && severity_fallback.is_none() && errors.is_empty() {
            // The table's own line when it is written (empty), else the whole map.
            let line = text
                .lines()
                .position(|l| l.trim() == "[severity]")
                .map_or(0, |n| n + 1);
            let e = MapError {
                origin: origin.to_string(),
                line,
                message: "the [severity] table is empty and there is no severity_fallback: \
                          every record would fail to map (add the source's severities, or \
                          severity_fallback = \"Informational\")"
                    .into(),
            };
            match stored {
                true => notes.push(e),
                false => errors.push(e),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(MapLoadError(errors));
        }
        let map = Map {
            name: file.name.into_inner(),
            description: file.description,
            asset,
            finding,
            status,
            status_fallback,
            severity,
            severity_fallback,
        };
        Ok((map, notes))
    }

    /// Writes the map back as TOML (loadable by [`Map::from_toml`]).
    pub fn to_toml(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            description: Option<&'a str>,
            status_fallback: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            severity_fallback: Option<&'a str>,
            asset: &'a [Rule],
            finding: &'a [Rule],
            status: BTreeMap<&'a str, &'a str>,
            severity: BTreeMap<&'a str, &'a str>,
        }
        let out = Out {
            name: &self.name,
            description: self.description.as_deref(),
            status_fallback: self.status_fallback.as_str(),
            severity_fallback: self.severity_fallback.map(Severity::as_str),
            asset: &self.asset,
            finding: &self.finding,
            status: self
                .status
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            severity: self
                .severity
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
        };
        toml::to_string_pretty(&out).unwrap_or_default()
    }

    /// Sets the sources of one target (adding the rule if it is not there yet).
    /// Accepts `FIELD=SOURCE[,SOURCE...]` as `map set` gets it.
    pub fn set_rule(&mut self, assignment: &str) -> Result<(), String> {
        let (target, sources) = assignment
            .split_once('=')
            .ok_or_else(|| format!("expected FIELD=SOURCE, got '{assignment}'"))?;
        let target = target.trim();
        let source: Vec<String> = sources
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if source.is_empty() {
            return Err(format!("no source given for '{target}'"));
        }
        let (kind, rules) = if targets::find(Kind::Asset, target).is_some() {
            (Kind::Asset, &mut self.asset)
        } else if targets::find(Kind::Finding, target).is_some() {
            (Kind::Finding, &mut self.finding)
        } else {
            return Err(format!(
                "unknown target field '{target}' (see `map targets`)"
            ));
        };
        let required = targets::find(kind, target).is_some_and(|t| t.required);
        match rules.iter_mut().find(|r| r.target == target) {
            Some(r) => r.source = source,
            None => rules.push(Rule {
                target: target.to_string(),
                source,
                required,
                unless: BTreeMap::new(),
                suffix: BTreeMap::new(),
            }),
        }
        Ok(())
    }

    /// The normalized status for a source status, or `None` when the map does not know it.
    pub fn status_of(&self, source: &str) -> Option<Status> {
        let s = source.trim();
        self.status
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(s))
            .map(|(_, v)| *v)
    }

    /// The normalized severity for a source severity, or `None` when the map does not know it.
    pub fn severity_of(&self, source: &str) -> Option<Severity> {
        let s = source.trim();
        self.severity
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(s))
            .map(|(_, v)| *v)
    }
}

/// Why a rule's `suffix` cannot be kept for its target, if it cannot: a suffix is text
/// written after the value, so a number, date, severity or status target would drop it
/// (it did, silently), and a CVE id is stored normalized for KDI and the KEV list
/// (`CVE-2020-1938:https` matched nothing).
fn suffix_refused(target: &targets::Target, suffix: &BTreeMap<String, String>) -> Option<String> {
    if suffix.is_empty() {
        return None;
    }
    if target.value_type != targets::ValueType::Text {
        return Some(format!(
            "`suffix` applies only to text targets; '{}' is {}, and a suffix would be dropped",
            target.name,
            value_type_name(target.value_type)
        ));
    }
    (target.name == "cveId").then(|| {
        "`suffix` cannot follow a CVE id: CVE ids are stored normalized (CVE-YYYY-NNNN, \
         comma-separated) for KDI, OCSF and the KEV list"
            .to_string()
    })
}

/// What a target's value is, as an error message says it.
fn value_type_name(t: targets::ValueType) -> &'static str {
    use targets::ValueType as V;
    match t {
        V::Text => "text",
        V::Int => "a number",
        V::Float => "a number",
        V::Date => "a date",
        V::Severity => "a severity",
        V::Status => "a status",
        V::Tags => "a list of tags",
    }
}

/// How status and severity keys are compared: trimmed, ASCII case ignored. Two keys of a
/// map that compare equal would make a lookup ambiguous, so loading refuses them.
fn lookup_key(k: &str) -> String {
    k.trim().to_ascii_lowercase()
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Asset => "asset",
        Kind::Finding => "finding",
    }
}

/// A map's name, as `map clone`, `map import` and a map file give it: not empty, and with
/// no spaces or `/`, like a connector's (a name is typed on command lines and shown in
/// listings).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("map name is empty".into());
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c == '/' || c.is_control())
    {
        return Err(format!(
            "map name '{name}' must be without spaces, '/' or control characters"
        ));
    }
    Ok(())
}

/// Parses a JSON map, refusing a key an object repeats: JSON parsers keep the last of
/// them, so `"Fixed": "FIXED", "Fixed": "NEW"` (or a second `name`) silently won over
/// the first, where a TOML map refuses the repeat. The error names the key's JSON path
/// (serde_json adds its line and column).
fn json_without_repeats(json: &str) -> Result<serde_json::Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(json);
    let value = NoRepeats("$").deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A JSON value at the path it holds, read by [`json_without_repeats`].
struct NoRepeats<'p>(&'p str);

impl<'de> serde::de::DeserializeSeed<'de> for NoRepeats<'_> {
    type Value = serde_json::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NoRepeats<'_> {
    type Value = serde_json::Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) =
            seq.next_element_seed(NoRepeats(&format!("{}[{}]", self.0, items.len())))?
        {
            items.push(v);
        }
        Ok(items.into())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = format!("{}.{key}", self.0);
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "{path}: the key '{key}' is repeated (a map says each key once)"
                )));
            }
            let value = map.next_value_seed(NoRepeats(&path))?;
            object.insert(key, value);
        }
        Ok(object.into())
    }
}

/// Where in a JSON map the line `line` of its TOML form is, as a JSON path
/// (`$.finding[10].source`): a problem found in the TOML form has that form's line,
/// which the JSON file does not have, and was said with no place at all. `None` for
/// line 0 (a problem of the whole map) or a line that holds no key.
fn json_path(toml: &str, line: usize) -> Option<String> {
    let mut table = String::from("$");
    // The last array table's name and path: `[finding.unless]` under the tenth
    // `[[finding]]` is `$.finding[9].unless`.
    let mut array = (String::new(), String::from("$"));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (n, text) in toml.lines().enumerate() {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("[[").and_then(|t| t.strip_suffix("]]")) {
            let i = seen.entry(name.to_string()).or_default();
            table = format!("$.{name}[{i}]");
            array = (name.to_string(), table.clone());
            *i += 1;
        } else if let Some(name) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            table = match name.split_once('.') {
                Some((outer, inner)) if outer == array.0 => format!("{}.{inner}", array.1),
                _ => format!("$.{name}"),
            };
        }
        if n + 1 == line {
            let (key, _) = text.split_once('=')?;
            return Some(format!("{table}.{}", key.trim().trim_matches('"')));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key a JSON map repeats is refused with its path and line, as TOML refuses it
    /// (JSON parsers keep the last: `"Fixed": "NEW"` after `"Fixed": "FIXED"` won).
    #[test]
    fn a_json_map_refuses_a_repeated_key_with_its_path() {
        let toml_value: toml::Value = toml::from_str(DEFAULT_MAP_TOML).expect("toml");
        let json = serde_json::to_string_pretty(&toml_value).expect("json");
        Map::from_text(&json, "m.json").expect("valid as written");
        let fixed = "\"Fixed\": \"FIXED\"";
        assert!(json.contains(fixed));
        let repeated = json.replacen(fixed, &format!("{fixed},\n    \"Fixed\": \"NEW\""), 1);
        let line = repeated
            .lines()
            .position(|l| l.contains("\"NEW\"") && l.contains("Fixed"));
        let e = Map::from_text(&repeated, "m.json").expect_err("refused");
        let text = e.to_string();
        assert!(
            text.contains("$.status.Fixed: the key 'Fixed' is repeated"),
            "{text}"
        );
        assert_eq!(e.0[0].line, line.map_or(0, |l| l + 1), "{text}");
        let named = json.replacen(
            "\"name\": \"default\"",
            "\"name\": \"default\", \"name\": \"other\"",
            1,
        );
        assert_ne!(named, json);
        let e = Map::from_text(&named, "m.json").expect_err("refused");
        assert!(
            e.to_string().contains("$.name: the key 'name' is repeated"),
            "{e}"
        );
        let in_rule = json.replacen(
            "\"target\": \"cweId\"",
            "\"target\": \"cweId\", \"target\": \"cveId\"",
            1,
        );
        assert_ne!(in_rule, json);
        let e = Map::from_text(&in_rule, "m.json").expect_err("refused");
        assert!(e.to_string().contains("$.finding["), "{e}");
    }

    /// Rule options that did nothing or broke normalization are refused at their line:
    /// a `suffix` on a number, date or severity target (dropped) or on `cveId` (stored
    /// `CVE-2020-1938:https`, which the KEV list never matched), `required = true` on an
    /// optional target (ignored), and an empty `[severity]` without a fallback (every
    /// record failed).
    #[test]
    fn rule_options_that_do_nothing_are_refused_where_they_are() {
        let line_of = |text: &str, needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(0, |n| n + 1)
        };
        for (target, source) in [
            ("findingPort", "source = [\"Port\"]"),
            (
                "findingSeverity",
                "source = [\"SeverityValue\", \"Severity\"]",
            ),
            ("findingFirstFoundOn", "source = [\"DateCreated\"]"),
            ("cvss3Base", "source = [\"Cvss\"]"),
            ("cveId", "source = [\"Cve\", \"CveId\"]"),
        ] {
            let first = source.split('"').nth(1).expect("a source name");
            let bad = DEFAULT_MAP_TOML.replacen(
                source,
                &format!("{source}\nsuffix = {{ {first} = \"Scheme\" }}"),
                1,
            );
            assert_ne!(bad, DEFAULT_MAP_TOML, "{target}");
            let e = Map::from_toml(&bad, "m.toml").expect_err(target);
            let want = format!("target '{target}': `suffix`");
            assert!(
                e.0.iter().any(|p| p.message.starts_with(&want)
                    && bad
                        .lines()
                        .nth(p.line - 1)
                        .is_some_and(|l| l.starts_with("suffix"))),
                "{target}: {e}"
            );
            // The one problem: the rule left out, its target was also "not mapped".
            assert_eq!(e.0.len(), 1, "{target}: {e}");
            // Saved by an earlier version: it loads as that version used it.
            let (stored, notes) = Map::from_stored_toml(&bad, "'m'").expect(target);
            assert_eq!(notes.len(), 1, "{target}: {notes:?}");
            let rule = stored.finding.iter().find(|r| r.target == target);
            assert!(rule.is_some_and(|r| r.suffix.is_empty()), "{target}");
        }
        let required = DEFAULT_MAP_TOML.replacen(
            "source = [\"Cve\", \"CveId\"]",
            "source = [\"Cve\", \"CveId\"]\nrequired = true",
            1,
        );
        let e = Map::from_toml(&required, "m.toml").expect_err("required on cveId");
        assert!(
            e.to_string().contains(&format!(
                "m.toml:{}: target 'cveId': `required = true` applies only",
                line_of(&required, "target = \"cveId\"")
            )),
            "{e}"
        );
        let start = DEFAULT_MAP_TOML.find("[severity]").expect("severity table");
        let empty = format!("{}[severity]\n", &DEFAULT_MAP_TOML[..start]);
        let e = Map::from_toml(&empty, "m.toml").expect_err("empty severity");
        assert!(
            e.to_string().contains(&format!(
                "m.toml:{}: the [severity] table is empty",
                line_of(&empty, "[severity]")
            )),
            "{e}"
        );
        let with_fallback = empty.replacen(
            "status_fallback = \"ACTIVE\"",
            "status_fallback = \"ACTIVE\"\nseverity_fallback = \"Low\"",
            1,
        );
        Map::from_toml(&with_fallback, "m.toml").expect("a fallback maps every record");
        // The default map's own suffix, on a text target, stays valid.
        Map::from_toml(DEFAULT_MAP_TOML, "m.toml").expect("default");
    }

    /// A `source` of the wrong type says what it takes, and in a JSON map where it is.
    #[test]
    fn a_wrong_source_says_what_it_takes_and_where() {
        let bad = DEFAULT_MAP_TOML.replacen("source = [\"Cwe\"]", "source = 79", 1);
        assert_ne!(bad, DEFAULT_MAP_TOML);
        let e = Map::from_toml(&bad, "m.toml").expect_err("refused");
        assert!(
            e.to_string().contains("a source field's name or a list"),
            "{e}"
        );
        assert!(!e.to_string().contains("untagged"), "{e}");
        let in_list = DEFAULT_MAP_TOML.replacen("source = [\"Cwe\"]", "source = [\"Cwe\", 7]", 1);
        let e = Map::from_toml(&in_list, "m.toml").expect_err("refused");
        assert!(e.to_string().contains("expected a string"), "{e}");

        let mut json: serde_json::Value =
            serde_json::to_value(toml::from_str::<toml::Value>(DEFAULT_MAP_TOML).expect("toml"))
                .expect("json");
        json["finding"][3]["source"] = serde_json::json!(79);
        let text = serde_json::to_string_pretty(&json).expect("text");
        let e = Map::from_text(&text, "m.json").expect_err("refused");
        assert!(e.to_string().contains("$.finding[3].source: "), "{e}");
        json["finding"][3]["source"] = serde_json::json!("Cwe");
        json["finding"][7]["unless"] = serde_json::json!({"CvssVersion": ["a", 1]});
        let text = serde_json::to_string_pretty(&json).expect("text");
        let e = Map::from_text(&text, "m.json").expect_err("refused");
        assert!(
            e.to_string().contains("$.finding[7].unless.CvssVersion: "),
            "{e}"
        );
        json["finding"][7]
            .as_object_mut()
            .expect("a rule")
            .remove("unless");
        // A rule that is no table says what a rule is.
        let mut rules = json.clone();
        rules["asset"] = serde_json::json!(["x"]);
        let text = serde_json::to_string_pretty(&rules).expect("text");
        let e = Map::from_text(&text, "m.json").expect_err("refused");
        assert!(
            e.to_string().contains("expected a rule: a table with"),
            "{e}"
        );
        json["finding"][5]["target"] = serde_json::json!(5);
        let text = serde_json::to_string_pretty(&json).expect("text");
        let e = Map::from_text(&text, "m.json").expect_err("refused");
        assert!(e.to_string().contains("$.finding[5].target: "), "{e}");
    }

    /// The spec allows a map in TOML or JSON; a JSON map failed with a TOML syntax error.
    #[test]
    fn a_json_map_loads_as_its_toml_form() {
        let toml_value: toml::Value = toml::from_str(DEFAULT_MAP_TOML).expect("toml");
        let json = serde_json::to_string_pretty(&toml_value).expect("json");
        let map = Map::from_text(&json, "map.json").expect("a JSON map");
        assert_eq!(map, Map::default_map());
        // Syntax errors name the JSON's line; other problems their JSON path.
        let e = Map::from_text("{\n\"name\": \"x\",\n,}", "bad.json").expect_err("syntax");
        assert!(e.0[0].to_string().starts_with("bad.json:3: "), "{e}");
        let e = Map::from_text(&json.replacen("findingName", "nope", 1), "m.json")
            .expect_err("unknown target");
        assert!(
            e.0.iter().any(|p| p
                .to_string()
                .starts_with("m.json: $.finding[1].target: unknown finding target field 'nope'")),
            "{e}"
        );
        // A required target left out is the map's problem, not a line's (the line past
        // the file's last was named).
        let e = Map::from_toml(
            &DEFAULT_MAP_TOML.replacen("findingName", "nope", 1),
            "d.toml",
        )
        .expect_err("unmapped");
        let unmapped = e.0.iter().find(|p| p.message.contains("is not mapped"));
        assert_eq!(unmapped.map(|p| p.line), Some(0), "{e}");
        // TOML is read as before, lines and all.
        assert_eq!(
            Map::from_text(DEFAULT_MAP_TOML, "d.toml").expect("toml"),
            Map::default_map()
        );
    }

    /// `suffix` names one of the rule's sources and the field that follows it.
    #[test]
    fn a_suffix_must_follow_a_source_of_its_rule() {
        let bad = DEFAULT_MAP_TOML.replacen(
            "suffix = { SourceFile = \"Line\" }",
            "suffix = { Path = \"Line\" }",
            1,
        );
        assert_ne!(bad, DEFAULT_MAP_TOML);
        let e = Map::from_toml(&bad, "m.toml").expect_err("refused");
        assert!(e.to_string().contains("`suffix` names a source"), "{e}");
    }

    #[test]
    fn default_map_loads_and_round_trips() {
        let map = Map::default_map();
        assert_eq!(map.name, "default");
        assert_eq!(map.status_of("open"), Some(Status::New));
        assert_eq!(map.status_of("In Progress"), Some(Status::Active));
        assert_eq!(map.severity_of("3"), Some(Severity::High));
        let again = Map::from_toml(&map.to_toml(), "again").expect("round trip");
        assert_eq!(map, again);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "name = \"x\"\n\
            [[asset]]\ntarget = \"webAppUrl\"\nsource = \"Url\"\n\
            [[asset]]\ntarget = \"webAppUrl\"\nsource = \"Url2\"\n\
            [[finding]]\ntarget = \"bogus\"\nsource = \"X\"\n\
            [status]\nOpen = \"OPENISH\"\n";
        let err = Map::from_toml(text, "m.toml").unwrap_err();
        let msgs: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("m.toml:6: duplicate target field 'webAppUrl'")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("m.toml:9: unknown finding target field 'bogus'")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("m.toml:12: status 'Open'")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m
                    .contains("required finding target field 'externalFindingId' is not mapped")),
            "{msgs:?}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = Map::from_toml("name = \"x\"\n[[asset]\n", "bad.toml").unwrap_err();
        assert_eq!(err.0[0].line, 2, "{err}");
    }

    #[test]
    fn set_rule_edits_and_adds() {
        let mut map = Map::default_map();
        map.set_rule("findingName=IssueTypeId").expect("set");
        assert_eq!(
            map.finding
                .iter()
                .find(|r| r.target == "findingName")
                .map(|r| r.source.clone()),
            Some(vec!["IssueTypeId".to_string()])
        );
        assert!(map.set_rule("nope=X").is_err());
    }
}
