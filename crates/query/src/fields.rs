//! The field registry: which fields each entity has, their types, SQL columns and help.
//!
//! Adding a filterable (and sortable) field is one entry here. Columns are SQL expressions
//! over the aliases the store's listings use — findings `f`, their asset `a`, the connector
//! `c`; assets `a`, the connector `c` — and may differ per dialect (SQLite keeps booleans
//! as integers and tags as JSON text; PostgreSQL has `BOOLEAN` and `JSONB`). They are fixed
//! text, never built from input.

use crate::sql::Dialect;

/// What a listing lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Findings,
    Assets,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Findings => "findings",
            Entity::Assets => "assets",
        }
    }

    /// The entity's fields, in the order `filter-help` lists them.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Entity::Findings => FINDING_FIELDS,
            Entity::Assets => ASSET_FIELDS,
        }
    }

    /// Finds a field by name or alias, case-insensitively.
    pub fn field(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| {
            f.name.eq_ignore_ascii_case(name)
                || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// The known field name closest to `name`, for "did you mean" hints.
    pub fn closest(self, name: &str) -> Option<&'static str> {
        let name = name.to_ascii_lowercase();
        self.fields()
            .iter()
            .flat_map(|f| {
                std::iter::once(f.name)
                    .chain(f.aliases.iter().copied())
                    .map(move |n| (f.name, n))
            })
            .map(|(canon, n)| (canon, edit_distance(&name, &n.to_ascii_lowercase())))
            .filter(|(_, d)| *d <= 2)
            .min_by_key(|(_, d)| *d)
            .map(|(canon, _)| canon)
    }
}

/// How a field's values are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Case-insensitive text with `*` wildcards; `:` and `!=` only.
    Text,
    Int,
    Float,
    /// Dates (`2026-01-01`, a day) or instants (RFC 3339, `now`, `-7d`).
    Date,
    /// Compared by rank: informational < low < medium < high < critical.
    Severity,
    /// Status names and the groups `open` / `closed`; `:` and `!=` only.
    Status,
    /// A list of tags: `:` matches when any tag matches.
    Tags,
    /// `true`/`false`, `yes`/`no`.
    Bool,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Int => "integer",
            FieldType::Float => "number",
            FieldType::Date => "date",
            FieldType::Severity => "severity",
            FieldType::Status => "status",
            FieldType::Tags => "tags",
            FieldType::Bool => "boolean",
        }
    }
}

/// One filterable field.
#[derive(Debug, PartialEq)]
pub struct Field {
    /// The name users type (camelCase).
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    pub ty: FieldType,
    /// SQL expression in SQLite.
    pub sqlite: &'static str,
    /// SQL expression in PostgreSQL.
    pub postgres: &'static str,
    /// Whether the column can be NULL (comparisons then treat NULL as "no match").
    pub nullable: bool,
    /// Whether an index serves a filter on it (SQLite backend).
    pub indexed: bool,
    pub description: &'static str,
}

impl Field {
    const fn new(
        name: &'static str,
        ty: FieldType,
        column: &'static str,
        description: &'static str,
    ) -> Field {
        Field {
            name,
            aliases: &[],
            ty,
            sqlite: column,
            postgres: column,
            nullable: false,
            indexed: false,
            description,
        }
    }
    const fn aliases(mut self, aliases: &'static [&'static str]) -> Field {
        self.aliases = aliases;
        self
    }
    const fn pg(mut self, column: &'static str) -> Field {
        self.postgres = column;
        self
    }
    const fn nullable(mut self) -> Field {
        self.nullable = true;
        self
    }
    const fn indexed(mut self) -> Field {
        self.indexed = true;
        self
    }

    /// The field's SQL expression in a dialect.
    pub fn column(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }

    /// Whether `--sort` accepts the field.
    pub fn sortable(&self) -> bool {
        self.ty != FieldType::Tags
    }
}

use FieldType::*;

/// Whether one of a finding's CVEs is in the known-exploited list; the stores' listings
/// select it too, so `--columns kev` and the API show what `kev:true` filters on. A
/// finding may hold several CVEs, comma-separated (`CVE-2021-44228,CVE-2022-22965`, as
/// the map stores them): the list's index answers a single CVE, and only a value with a
/// comma is matched element by element (spaces, which values stored before CVEs were
/// normalized may hold, left out).
pub const KEV_SQL: &str = "(f.cve IS NOT NULL AND (EXISTS (SELECT 1 FROM kev k WHERE k.cve = UPPER(f.cve)) \
     OR (f.cve LIKE '%,%' AND EXISTS (SELECT 1 FROM kev k \
     WHERE ',' || REPLACE(UPPER(f.cve), ' ', '') || ',' LIKE '%,' || k.cve || ',%'))))";

const OPEN_SQL: &str = "f.status IN ('NEW', 'ACTIVE', 'REOPENED')";

/// Fields of `findings`.
pub static FINDING_FIELDS: &[Field] = &[
    Field::new("id", Int, "f.id", "The finding's id in this store").indexed(),
    Field::new("connector", Text, "c.name", "The connector that synced it"),
    Field::new("externalId", Text, "f.external_id", "The source's issue id")
        .aliases(&["external_id", "issueId"]),
    Field::new("app", Text, "a.name", "The application's name")
        .aliases(&["application", "asset", "asset_name"])
        .nullable()
        .indexed(),
    Field::new(
        "appId",
        Text,
        "f.asset_external_id",
        "The application's id at the source",
    )
    .aliases(&["assetId", "app_id", "asset_external_id"]),
    Field::new("appUrl", Text, "a.url", "The application's URL")
        .aliases(&["app_url", "asset_url"])
        .nullable(),
    Field::new("name", Text, "f.name", "The issue type's display name")
        .aliases(&["title"])
        .indexed(),
    Field::new(
        "issueType",
        Text,
        "f.issue_type",
        "The issue type id, e.g. attCrossSiteScripting",
    )
    .aliases(&["type", "issue_type"])
    .nullable()
    .indexed(),
    Field::new(
        "severity",
        Severity,
        "f.severity",
        "Informational < Low < Medium < High < Critical",
    )
    .aliases(&["sev"])
    .indexed(),
    Field::new(
        "sourceSeverity",
        Text,
        "f.source_severity",
        "The severity as the source wrote it",
    )
    .aliases(&["source_severity"]),
    Field::new(
        "status",
        Status,
        "f.status",
        "NEW ACTIVE REOPENED FIXED IGNORED NONE CLOSED, or the groups open / closed (lower case)",
    )
    .indexed(),
    Field::new(
        "sourceStatus",
        Text,
        "f.source_status",
        "The status as the source wrote it",
    )
    .aliases(&["source_status"])
    .nullable(),
    Field::new(
        "open",
        Bool,
        OPEN_SQL,
        "Whether the status is NEW, ACTIVE or REOPENED",
    ),
    Field::new("cve", Text, "f.cve", "CVE id")
        .nullable()
        .indexed(),
    Field::new(
        "kev",
        Bool,
        KEV_SQL,
        "Whether the CVE is in the known-exploited list (`kev import`)",
    ),
    Field::new("cvss", Float, "f.cvss", "CVSS base score, 0–10")
        .nullable()
        .indexed(),
    Field::new("cwe", Int, "f.cwe", "CWE number (79 or CWE-79)")
        .nullable()
        .indexed(),
    Field::new("port", Int, "f.port", "Port").nullable(),
    Field::new("protocol", Text, "f.protocol", "Protocol or scheme").nullable(),
    Field::new(
        "location",
        Text,
        "f.location",
        "The URL or file of the weakness",
    )
    .aliases(&["url"])
    .nullable(),
    Field::new(
        "element",
        Text,
        "f.element",
        "The parameter, cookie or element attacked",
    )
    .aliases(&["parameter"])
    .nullable(),
    Field::new("description", Text, "f.description", "Description text").nullable(),
    Field::new("solution", Text, "f.solution", "Fix recommendation").nullable(),
    Field::new(
        "detection",
        Text,
        "f.detection",
        "How the scanner found it (the detection result)",
    )
    .nullable(),
    Field::new("tag", Tags, "f.tags", "Any of the finding's tags").aliases(&["tags"]),
    Field::new(
        "fingerprint",
        Text,
        "f.fingerprint",
        "Cross-source fingerprint",
    )
    .indexed(),
    Field::new(
        "firstFound",
        Date,
        "f.first_found",
        "When the source first found it",
    )
    .aliases(&["first_found", "created"])
    .nullable(),
    Field::new(
        "lastFound",
        Date,
        "f.last_found",
        "When the source last found it",
    )
    .aliases(&["last_found"])
    .nullable()
    .indexed(),
    Field::new(
        "lastUpdated",
        Date,
        "f.last_updated",
        "When the source last changed it",
    )
    .aliases(&["last_updated", "updated"])
    .nullable(),
    Field::new(
        "firstSeen",
        Date,
        "f.first_seen",
        "When this store first synced it",
    )
    .aliases(&["first_seen"]),
    Field::new("lastSeen", Date, "f.last_seen", "When a sync last saw it").aliases(&["last_seen"]),
    Field::new(
        "active",
        Bool,
        "f.active = 1",
        "False once its application went unseen past asset_inactivity_days",
    )
    .pg("f.active"),
    Field::new(
        "risk",
        Int,
        "f.risk",
        "Risk score 0–1000 (see README, Risk score)",
    )
    .indexed(),
];

const ASSET_FINDINGS_SQL: &str = "(SELECT COUNT(*) FROM findings f WHERE f.connector_id = a.connector_id AND f.asset_external_id = a.external_id)";
const ASSET_OPEN_SQL: &str = "(SELECT COUNT(*) FROM findings f WHERE f.connector_id = a.connector_id \
     AND f.asset_external_id = a.external_id AND f.status IN ('NEW', 'ACTIVE', 'REOPENED'))";

/// Fields of `assets`.
pub static ASSET_FIELDS: &[Field] = &[
    Field::new("id", Int, "a.id", "The asset's id in this store").indexed(),
    Field::new("connector", Text, "c.name", "The connector that synced it"),
    Field::new(
        "externalId",
        Text,
        "a.external_id",
        "The application's id at the source",
    )
    .aliases(&["appId", "external_id"]),
    Field::new("name", Text, "a.name", "The application's name")
        .aliases(&["app"])
        .nullable()
        .indexed(),
    Field::new("url", Text, "a.url", "The application's URL").nullable(),
    Field::new("description", Text, "a.description", "Description").nullable(),
    Field::new("businessUnit", Text, "a.business_unit", "Business unit")
        .aliases(&["business_unit"])
        .nullable(),
    Field::new(
        "riskRating",
        Text,
        "a.risk_rating",
        "The source's risk rating",
    )
    .aliases(&["risk_rating"])
    .nullable(),
    Field::new("tag", Tags, "a.tags", "Any of the asset's tags").aliases(&["tags"]),
    Field::new("findings", Int, ASSET_FINDINGS_SQL, "Number of findings"),
    Field::new(
        "openFindings",
        Int,
        ASSET_OPEN_SQL,
        "Number of open findings",
    )
    .aliases(&["open", "open_findings"]),
    Field::new(
        "lastUpdated",
        Date,
        "a.last_updated",
        "When the source last changed it",
    )
    .aliases(&["last_updated"])
    .nullable(),
    Field::new(
        "firstSeen",
        Date,
        "a.first_seen",
        "When this store first synced it",
    )
    .aliases(&["first_seen"]),
    Field::new("lastSeen", Date, "a.last_seen", "When a sync last saw it").aliases(&["last_seen"]),
    Field::new(
        "active",
        Bool,
        "a.active = 1",
        "False once unseen past its connector's asset_inactivity_days",
    )
    .pg("a.active"),
    Field::new(
        "risk",
        Int,
        "a.risk",
        "Asset risk 0–1000 from its open findings (see README)",
    )
    .indexed(),
];

/// Levenshtein distance, for suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_name_alias_and_case() {
        assert_eq!(
            Entity::Findings.field("LASTFOUND").map(|f| f.name),
            Some("lastFound")
        );
        assert_eq!(
            Entity::Findings.field("application").map(|f| f.name),
            Some("app")
        );
        assert!(Entity::Assets.field("cwe").is_none());
        assert_eq!(Entity::Findings.closest("severty"), Some("severity"));
        assert_eq!(Entity::Findings.closest("zzzzzzzz"), None);
    }

    #[test]
    fn names_are_unique() {
        for e in [Entity::Findings, Entity::Assets] {
            let mut seen = std::collections::HashSet::new();
            for f in e.fields() {
                for n in std::iter::once(f.name).chain(f.aliases.iter().copied()) {
                    assert!(
                        seen.insert(n.to_ascii_lowercase()),
                        "{n} twice in {}",
                        e.as_str()
                    );
                }
            }
        }
    }
}
