//! The normalized fields a map can fill, with their types and which are required.

/// Which record a target belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Asset,
    Finding,
}

/// How a source value is converted for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Text,
    Int,
    Float,
    Date,
    Severity,
    Status,
    Tags,
}

/// One fillable field of the normalized model.
#[derive(Debug)]
pub struct Target {
    pub name: &'static str,
    pub kind: Kind,
    pub value_type: ValueType,
    /// A map that lacks this target is invalid.
    pub required: bool,
    pub doc: &'static str,
}

const fn t(
    name: &'static str,
    kind: Kind,
    value_type: ValueType,
    required: bool,
    doc: &'static str,
) -> Target {
    Target {
        name,
        kind,
        value_type,
        required,
        doc,
    }
}

use Kind::{Asset as A, Finding as F};
use ValueType::*;

/// Every target, in the order `map show` prints them.
pub const TARGETS: &[Target] = &[
    t(
        "externalAssetId",
        A,
        Text,
        true,
        "the source's id of the application",
    ),
    t("webAppUrl", A, Text, true, "the application's URL"),
    t("webAppName", A, Text, true, "the application's name"),
    t("assetDescription", A, Text, false, "free text"),
    t("businessUnit", A, Text, false, "owning business unit"),
    t("riskRating", A, Text, false, "the source's risk rating"),
    t(
        "assetLastUpdated",
        A,
        Date,
        false,
        "when the source last changed the application",
    ),
    t("assetTags", A, Tags, false, "tags of the application"),
    t(
        "externalFindingId",
        F,
        Text,
        true,
        "the source's id of the issue",
    ),
    t("findingName", F, Text, true, "issue type display name"),
    t(
        "findingSeverity",
        F,
        Severity,
        true,
        "severity, through the severity map",
    ),
    t(
        "findingStatus",
        F,
        Status,
        false,
        "status, through the status map",
    ),
    t(
        "findingSourceStatus",
        F,
        Text,
        false,
        "the source's own status word, where findingStatus reads another field (else the word findingStatus read)",
    ),
    t(
        "findingAssetId",
        F,
        Text,
        false,
        "application id (else the app being listed)",
    ),
    t("cveId", F, Text, false, "CVE identifier"),
    t("cvss3Base", F, Float, false, "CVSS base score"),
    t("cweId", F, Int, false, "CWE number"),
    t("findingFirstFoundOn", F, Date, false, "first found"),
    t("findingLastFoundOn", F, Date, false, "last found"),
    t(
        "findingLastUpdated",
        F,
        Date,
        false,
        "when the source last changed the issue",
    ),
    t("findingPort", F, Int, false, "port"),
    t("findingProtocol", F, Text, false, "scheme / protocol"),
    t("findingSubType", F, Text, false, "issue type id"),
    t("findingLocation", F, Text, false, "URL or source file"),
    t("findingElement", F, Text, false, "parameter or element"),
    t("detectionResult", F, Text, false, "detail document"),
    t("findingDescription", F, Text, false, "description"),
    t("findingSolution", F, Text, false, "fix recommendation"),
    t("findingTags", F, Tags, false, "tags"),
];

/// Looks a target up by name and kind.
pub fn find(kind: Kind, name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.kind == kind && t.name == name)
}
