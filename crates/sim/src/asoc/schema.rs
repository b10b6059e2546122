//! The served shapes of `ApplicationModel` and `IssueModel`: their field
//! lists (the schemas OData queries are bound to), how each field is read
//! from the compact store, and the serializer that writes a record (or a
//! `$select`ed part of it, possibly deliberately broken) straight to JSON.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::catalog::*;
use super::data::{App, Issue, NO_DATE};
use crate::odata::{FieldDef, FieldType, Record, Value};

macro_rules! schema {
    ($(#[$m:meta])* $enum:ident, $schema:ident { $($f:ident : $ty:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $enum { $(#[allow(missing_docs)] $f),* }
        impl $enum {
            /// Every field, in served order (the schema's order).
            pub const ALL: &'static [$enum] = &[$($enum::$f),*];
        }
        /// The fields as an OData schema, in served order.
        pub const $schema: &[FieldDef] = &[$(FieldDef { name: stringify!($f), ty: $ty }),*];
    };
}

use FieldType::{Bool, DateTime, Decimal, Guid, Int, Json, String as Str};

// `Decimal` is part of the OData vocabulary even if no field here uses it.
const _: FieldType = Decimal;

schema!(
    /// Fields of an app item (`ApplicationModel`).
    AppField, APP_SCHEMA {
        Id: Guid,
        Name: Str,
        Url: Str,
        Description: Str,
        RiskRating: FieldType::Enum(RISK_RATINGS),
        MaxSeverity: FieldType::Enum(SEVERITIES),
        BusinessImpact: FieldType::Enum(BUSINESS_IMPACTS),
        BusinessUnit: Str,
        BusinessUnitId: Guid,
        AssetGroupId: Guid,
        AssetGroupName: Str,
        DateCreated: DateTime,
        LastUpdated: DateTime,
        LastComment: Str,
        CreatedBy: Str,
        CriticalIssues: Int,
        HighIssues: Int,
        MediumIssues: Int,
        LowIssues: Int,
        InformationalIssues: Int,
        IssuesInProgress: Int,
        NewIssues: Int,
        OpenIssues: Int,
        TotalIssues: Int,
        TotalScans: Int,
        ScanTechnologies: Str,
        CustomFields: Json,
    }
);

schema!(
    /// Fields of an issue item (`IssueModel`).
    IssueField, ISSUE_SCHEMA {
        Id: Guid,
        IssueTypeId: Str,
        IssueTypeGuid: Guid,
        IssueType: Str,
        ApplicationId: Guid,
        Severity: FieldType::Enum(SEVERITIES),
        SeverityValue: Int,
        Cvss: Str,
        CvssVersion: FieldType::Enum(CVSS_VERSIONS),
        Cwe: Int,
        Cve: Str,
        Status: FieldType::Enum(STATUSES),
        DateCreated: DateTime,
        LastUpdated: DateTime,
        LastFound: DateTime,
        LastComment: Str,
        IsNewInScope: Bool,
        DiffResult: FieldType::Enum(DIFF_RESULTS),
        Location: Str,
        Scheme: Str,
        Host: Str,
        Port: Int,
        Path: Str,
        Domain: Str,
        Element: Str,
        ElementType: Str,
        DiscoveryMethod: Str,
        Scanner: Str,
        ScanName: Str,
        FixGroupId: Guid,
    }
);

fn s(v: &str) -> Value<'_> {
    Value::Str(Cow::Borrowed(v))
}

fn date(ms: i64) -> Value<'static> {
    if ms == NO_DATE {
        Value::Null
    } else {
        Value::DateTime(ms)
    }
}

/// An app as a [`Record`].
#[derive(Debug, Clone, Copy)]
pub struct AppRow<'a>(pub &'a App);

impl AppRow<'_> {
    /// Reads one field.
    pub fn get(&self, f: AppField) -> Value<'_> {
        let a = self.0;
        let c = &a.counters;
        let n = |x: u32| Value::Int(i64::from(x));
        match f {
            AppField::Id => Value::Guid(a.id),
            AppField::Name => s(&a.name),
            AppField::Url => a.url().map_or(Value::Null, |u| Value::Str(Cow::Owned(u))),
            AppField::Description => s(&a.description),
            AppField::RiskRating => Value::Enum(c.risk_rating(), RISK_RATINGS),
            AppField::MaxSeverity => c
                .max_severity()
                .map_or(Value::Null, |m| Value::Enum(m, SEVERITIES)),
            AppField::BusinessImpact => Value::Enum(a.business_impact, BUSINESS_IMPACTS),
            AppField::BusinessUnit => {
                s(BUSINESS_UNITS[a.business_unit as usize % BUSINESS_UNITS.len()].0)
            }
            AppField::BusinessUnitId => {
                Value::Guid(BUSINESS_UNITS[a.business_unit as usize % BUSINESS_UNITS.len()].1)
            }
            AppField::AssetGroupId => Value::Guid(ASSET_GROUP.1),
            AppField::AssetGroupName => s(ASSET_GROUP.0),
            AppField::DateCreated => date(a.date_created),
            AppField::LastUpdated => date(a.last_updated),
            AppField::LastComment => Value::Null,
            AppField::CreatedBy => s(CREATORS[a.creator as usize % CREATORS.len()]),
            AppField::CriticalIssues => n(c.by_severity[SEV_CRITICAL as usize]),
            AppField::HighIssues => n(c.by_severity[SEV_HIGH as usize]),
            AppField::MediumIssues => n(c.by_severity[SEV_MEDIUM as usize]),
            AppField::LowIssues => n(c.by_severity[SEV_LOW as usize]),
            AppField::InformationalIssues => n(c.by_severity[SEV_INFO as usize]),
            AppField::IssuesInProgress => n(c.in_progress),
            AppField::NewIssues => n(c.new),
            AppField::OpenIssues => n(c.open),
            AppField::TotalIssues => n(c.total),
            AppField::TotalScans => n(u32::from(a.total_scans)),
            AppField::ScanTechnologies => s("DAST"),
            AppField::CustomFields => Value::Json(serde_json::Value::Array(Vec::new())),
        }
    }
}

impl Record for AppRow<'_> {
    fn field(&self, index: usize) -> Value<'_> {
        AppField::ALL
            .get(index)
            .map_or(Value::Null, |f| self.get(*f))
    }
}

/// An issue with its app, as a [`Record`].
#[derive(Debug, Clone, Copy)]
pub struct IssueRow<'a> {
    /// The app it belongs to.
    pub app: &'a App,
    /// The issue.
    pub issue: &'a Issue,
}

/// A fixed GUID per issue type.
fn type_guid(kind: u8) -> u128 {
    let hi = super::data::splitmix64(0x7479_7065 ^ u64::from(kind));
    let lo = super::data::splitmix64(hi);
    let bytes = (u128::from(hi) << 64 | u128::from(lo)).to_be_bytes();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .as_u128()
}

impl IssueRow<'_> {
    /// `Location`: the full URL of the finding.
    pub fn location(&self) -> String {
        let i = self.issue;
        let default_port = if i.https { 443 } else { 80 };
        let scheme = if i.https { "https" } else { "http" };
        let path = PATHS[i.path as usize % PATHS.len()];
        if i.port == default_port {
            format!("{scheme}://{}{path}", self.app.host)
        } else {
            format!("{scheme}://{}:{}{path}", self.app.host, i.port)
        }
    }

    /// Reads one field.
    pub fn get(&self, f: IssueField) -> Value<'_> {
        let i = self.issue;
        let t = i.issue_type();
        match f {
            IssueField::Id => Value::Guid(i.id),
            IssueField::IssueTypeId => s(t.id),
            IssueField::IssueTypeGuid => Value::Guid(type_guid(i.kind)),
            IssueField::IssueType => s(t.name),
            IssueField::ApplicationId => Value::Guid(self.app.id),
            IssueField::Severity => Value::Enum(i.severity, SEVERITIES),
            IssueField::SeverityValue => Value::Int(i64::from(i.severity) - 1),
            IssueField::Cvss => match i.cvss {
                0 => Value::Null,
                c => Value::Str(Cow::Owned(format!("{}.{}", c / 10, c % 10))),
            },
            IssueField::CvssVersion => {
                Value::Enum(if i.cvss == 0 { 0 } else { i.cvss_version }, CVSS_VERSIONS)
            }
            IssueField::Cwe if i.no_cwe => Value::Null,
            IssueField::Cwe => Value::Int(t.cwe),
            IssueField::Cve => match i.cve {
                0 => Value::Null,
                c => CVES
                    .get(c as usize - 1)
                    .map_or(Value::Null, |(id, _)| s(id)),
            },
            IssueField::Status => Value::Enum(i.status, STATUSES),
            IssueField::DateCreated => date(i.date_created),
            IssueField::LastUpdated => date(i.last_updated),
            IssueField::LastFound => date(i.last_found),
            IssueField::LastComment => Value::Null,
            IssueField::IsNewInScope => Value::Bool(i.new_in_scope),
            IssueField::DiffResult => Value::Enum(i.diff, DIFF_RESULTS),
            IssueField::Location => Value::Str(Cow::Owned(self.location())),
            IssueField::Scheme => s(if i.https { "https" } else { "http" }),
            IssueField::Host => s(&self.app.host),
            IssueField::Port => Value::Int(i64::from(i.port)),
            IssueField::Path => s(PATHS[i.path as usize % PATHS.len()]),
            IssueField::Domain => s(self.app.domain()),
            IssueField::Element => {
                let pool = t.element.pool();
                s(pool[i.element as usize % pool.len()])
            }
            IssueField::ElementType => s(t.element.label()),
            IssueField::DiscoveryMethod => s("DAST"),
            IssueField::Scanner => s(SCANNER),
            IssueField::ScanName => Value::Str(Cow::Owned(format!(
                "{} - DAST scan {}",
                self.app.name, i.scan
            ))),
            IssueField::FixGroupId => {
                // Same app, type, path and element => same fix group.
                let key = u64::from(i.kind) | u64::from(i.path) << 8 | u64::from(i.element) << 16;
                let hi = super::data::splitmix64(self.app.id as u64 ^ key);
                let lo = super::data::splitmix64(hi);
                let bytes = (u128::from(hi) << 64 | u128::from(lo)).to_be_bytes();
                Value::Guid(
                    uuid::Builder::from_random_bytes(bytes)
                        .into_uuid()
                        .as_u128(),
                )
            }
        }
    }
}

impl Record for IssueRow<'_> {
    fn field(&self, index: usize) -> Value<'_> {
        IssueField::ALL
            .get(index)
            .map_or(Value::Null, |f| self.get(*f))
    }
}

/// How a record is deliberately served broken (the `Malformed` fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malform {
    /// `Cwe` is a weakness's name instead of its number (the spec's "int or null").
    /// `Id`, which the spec guarantees, is always served.
    CweAsName,
    /// `Severity` is a value outside the enum (and `SeverityValue` outside the scale).
    UnknownSeverity,
    /// `LastUpdated` is not a date.
    BadDate,
    /// `Port` is a string.
    PortAsString,
}

/// Whether (and how) the issue `id` is broken under `Malformed{fraction, seed}`.
pub fn malform_for(id: u128, fraction: f64, seed: u64) -> Option<Malform> {
    let h =
        super::data::splitmix64(seed ^ (id as u64) ^ super::data::splitmix64((id >> 64) as u64));
    let unit = (h >> 11) as f64 / (1u64 << 53) as f64;
    if unit >= fraction {
        return None;
    }
    Some(match h & 3 {
        0 => Malform::CweAsName,
        1 => Malform::UnknownSeverity,
        2 => Malform::BadDate,
        _ => Malform::PortAsString,
    })
}

/// A record written as a JSON object: only the fields in `mask` (all when
/// `None`), with `malform` applied.
pub struct Projected<'a, R> {
    /// The record.
    pub row: R,
    /// Its schema.
    pub schema: &'static [FieldDef],
    /// `$select` flags per field, or all.
    pub mask: Option<&'a [bool]>,
    /// Deliberate breakage (issues only).
    pub malform: Option<Malform>,
}

impl<R: Record> Serialize for Projected<'_, R> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(None)?;
        for (i, def) in self.schema.iter().enumerate() {
            if let Some(mask) = self.mask
                && !mask.get(i).copied().unwrap_or(false)
            {
                continue;
            }
            match (self.malform, def.name) {
                (Some(Malform::CweAsName), "Cwe") => {
                    map.serialize_entry(def.name, "Improper Input Validation")?
                }
                (Some(Malform::UnknownSeverity), "Severity") => {
                    map.serialize_entry(def.name, "Catastrophic")?
                }
                // A severity outside the enum comes with a value outside the scale.
                (Some(Malform::UnknownSeverity), "SeverityValue") => {
                    map.serialize_entry(def.name, &9)?
                }
                (Some(Malform::BadDate), "LastUpdated") => {
                    map.serialize_entry(def.name, "31/02/2024 25:61")?
                }
                (Some(Malform::PortAsString), "Port") => {
                    let port = match self.row.field(i) {
                        Value::Int(p) => p.to_string(),
                        _ => String::from("443"),
                    };
                    map.serialize_entry(def.name, &port)?
                }
                _ => map.serialize_entry(def.name, &self.row.field(i))?,
            }
        }
        map.end()
    }
}

/// A list response: `{"Items":[...],"Count":n|null}`.
pub struct Envelope<'a, R, F> {
    /// The page's rows.
    pub rows: &'a [R],
    /// Their schema.
    pub schema: &'static [FieldDef],
    /// `$select` flags.
    pub mask: Option<&'a [bool]>,
    /// `Count`, when `$count=true`.
    pub count: Option<usize>,
    /// Deliberate breakage per row.
    pub malform: F,
}

struct Items<'a, R, F> {
    env: &'a Envelope<'a, R, F>,
}

impl<R: Record + Copy, F: Fn(&R) -> Option<Malform>> Serialize for Items<'_, R, F> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let e = self.env;
        let mut seq = ser.serialize_seq(Some(e.rows.len()))?;
        for r in e.rows {
            seq.serialize_element(&Projected {
                row: *r,
                schema: e.schema,
                mask: e.mask,
                malform: (e.malform)(r),
            })?;
        }
        seq.end()
    }
}

impl<R: Record + Copy, F: Fn(&R) -> Option<Malform>> Serialize for Envelope<'_, R, F> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(Some(2))?;
        map.serialize_entry("Items", &Items { env: self })?;
        map.serialize_entry("Count", &self.count)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_match_their_enums() {
        assert_eq!(APP_SCHEMA.len(), AppField::ALL.len());
        assert_eq!(ISSUE_SCHEMA.len(), IssueField::ALL.len());
        for (i, f) in IssueField::ALL.iter().enumerate() {
            assert_eq!(ISSUE_SCHEMA[i].name, format!("{f:?}"));
        }
        for (i, f) in AppField::ALL.iter().enumerate() {
            assert_eq!(APP_SCHEMA[i].name, format!("{f:?}"));
        }
    }

    #[test]
    fn malformed_fraction_is_roughly_right() {
        let hits = (0..100_000u128)
            .filter(|&i| malform_for(i * 7919 + (i << 70), 0.1, 5).is_some())
            .count();
        assert!((9_000..11_000).contains(&hits), "{hits}");
        assert!((0..1000u128).all(|i| malform_for(i, 0.0, 5).is_none()));
    }
}
