//! Listings and reads of assets, findings, history and raw records.
//!
//! Orders match the SQLite backend's: text sorts bytewise (`COLLATE "C"`) and NULLs
//! first, as SQLite does.

use super::corrupt;
use crate::raw::decompress;
use crate::types::*;
use crate::{Result, StoreError};
use model::{Asset, Finding, Severity, Status};
use postgres::{GenericClient, Row};

pub const ASSET_COLUMNS: &str = "a.id, c.name, a.external_id, a.name, a.url, a.description, a.business_unit, \
     a.risk_rating, a.last_updated, a.tags, a.active, a.first_seen, a.last_seen, \
     (SELECT COUNT(*) FROM findings f WHERE f.connector_id = a.connector_id AND f.asset_external_id = a.external_id), \
     (SELECT COUNT(*) FROM findings f WHERE f.connector_id = a.connector_id AND f.asset_external_id = a.external_id \
        AND f.status IN ('NEW', 'ACTIVE', 'REOPENED')), a.risk";

pub fn tags_of(v: serde_json::Value) -> Vec<String> {
    serde_json::from_value(v).unwrap_or_default()
}

/// A stored risk score, kept within 0..=[`model::risk::MAX`].
pub fn risk_of(r: &Row, i: usize) -> Result<u16> {
    Ok(r.try_get::<_, i32>(i)?
        .clamp(0, i32::from(model::risk::MAX)) as u16)
}

fn count(r: &Row, i: usize) -> Result<u64> {
    Ok(r.try_get::<_, i64>(i)?.max(0) as u64)
}

pub fn asset_from_row(r: &Row) -> Result<StoredAsset> {
    Ok(StoredAsset {
        id: r.try_get(0)?,
        connector: r.try_get(1)?,
        asset: Asset {
            external_id: r.try_get(2)?,
            name: r.try_get(3)?,
            url: r.try_get(4)?,
            description: r.try_get(5)?,
            business_unit: r.try_get(6)?,
            risk_rating: r.try_get(7)?,
            last_updated: r.try_get(8)?,
            tags: tags_of(r.try_get(9)?),
        },
        active: r.try_get(10)?,
        first_seen: r.try_get(11)?,
        last_seen: r.try_get(12)?,
        findings: count(r, 13)?,
        open_findings: count(r, 14)?,
        risk: risk_of(r, 15)?,
    })
}

pub const FINDING_COLUMNS: &str = "f.id, c.name, a.name, a.url, f.external_id, f.asset_external_id, f.name, f.severity, \
     f.source_severity, f.status, f.source_status, f.cve, f.cvss, f.cwe, f.first_found, f.last_found, \
     f.last_updated, f.port, f.protocol, f.issue_type, f.location, f.element, f.detection, f.description, \
     f.solution, f.tags, f.fingerprint, f.active, f.first_seen, f.last_seen, f.risk, \
     (f.cve IS NOT NULL AND (EXISTS (SELECT 1 FROM kev k WHERE k.cve = UPPER(f.cve)) \
     OR (f.cve LIKE '%,%' AND EXISTS (SELECT 1 FROM kev k \
     WHERE ',' || REPLACE(UPPER(f.cve), ' ', '') || ',' LIKE '%,' || k.cve || ',%'))))";

pub const FINDING_FROM: &str = "findings f JOIN connectors c ON c.id = f.connector_id \
     LEFT JOIN assets a ON a.connector_id = f.connector_id AND a.external_id = f.asset_external_id";

pub fn status_of(column: &str, s: String) -> Result<Status> {
    s.parse().map_err(|e: String| corrupt(column, e))
}

/// The normalized finding in columns `at..at + 21` (external id .. tags) of a row.
pub fn finding_at(r: &Row, at: usize) -> Result<Finding> {
    let sev: i16 = r.try_get(at + 3)?;
    let cwe: Option<i64> = r.try_get(at + 9)?;
    let port: Option<i32> = r.try_get(at + 13)?;
    Ok(Finding {
        external_id: r.try_get(at)?,
        asset_external_id: r.try_get(at + 1)?,
        name: r.try_get(at + 2)?,
        severity: Severity::from_score(i64::from(sev))
            .ok_or_else(|| corrupt("findings.severity", sev.to_string()))?,
        source_severity: r.try_get(at + 4)?,
        status: status_of("findings.status", r.try_get(at + 5)?)?,
        source_status: r.try_get(at + 6)?,
        cve: r.try_get(at + 7)?,
        cvss: r.try_get(at + 8)?,
        cwe: cwe
            .map(|c| u32::try_from(c).map_err(|_| corrupt("findings.cwe", c.to_string())))
            .transpose()?,
        first_found: r.try_get(at + 10)?,
        last_found: r.try_get(at + 11)?,
        last_updated: r.try_get(at + 12)?,
        port: port
            .map(|p| u16::try_from(p).map_err(|_| corrupt("findings.port", p.to_string())))
            .transpose()?,
        protocol: r.try_get(at + 14)?,
        issue_type: r.try_get(at + 15)?,
        location: r.try_get(at + 16)?,
        element: r.try_get(at + 17)?,
        detection: r.try_get(at + 18)?,
        description: r.try_get(at + 19)?,
        solution: r.try_get(at + 20)?,
        tags: tags_of(r.try_get(at + 21)?),
    })
}

pub fn finding_from_row(r: &Row) -> Result<StoredFinding> {
    Ok(StoredFinding {
        id: r.try_get(0)?,
        connector: r.try_get(1)?,
        asset_name: r.try_get(2)?,
        asset_url: r.try_get(3)?,
        finding: finding_at(r, 4)?,
        fingerprint: r.try_get(26)?,
        active: r.try_get(27)?,
        first_seen: r.try_get(28)?,
        last_seen: r.try_get(29)?,
        risk: risk_of(r, 30)?,
        kev: r.try_get(31)?,
    })
}

pub fn finding(c: &mut impl GenericClient, id: i64) -> Result<Option<StoredFinding>> {
    c.query_opt(
        &format!("SELECT {FINDING_COLUMNS} FROM {FINDING_FROM} WHERE f.id = $1"),
        &[&id],
    )?
    .map(|r| finding_from_row(&r))
    .transpose()
}

pub fn history_from_row(r: &Row, at: usize) -> Result<HistoryEntry> {
    let old: Option<String> = r.try_get(at + 2)?;
    Ok(HistoryEntry {
        run_id: r.try_get(at)?,
        at: r.try_get(at + 1)?,
        old_status: old
            .map(|o| status_of("finding_history.old_status", o))
            .transpose()?,
        new_status: status_of("finding_history.new_status", r.try_get(at + 3)?)?,
    })
}

pub fn history(c: &mut impl GenericClient, finding_id: i64) -> Result<Vec<HistoryEntry>> {
    c.query(
        "SELECT run_id, at, old_status, new_status FROM finding_history WHERE finding_id = $1 ORDER BY id",
        &[&finding_id],
    )?
    .iter()
    .map(|r| history_from_row(r, 0))
    .collect()
}

/// How many raw records one round trip of [`raw_page`] fetches.
pub const RAW_PAGE: i64 = 1000;

/// One stored record: its row id, its asset's external id, the raw record and, for a
/// finding, its status.
pub type RawRow = (i64, String, serde_json::Value, Option<StoredStatus>);

/// The highest row id of a kind's table now: [`raw_page`] reads up to it, so a remap
/// that inserts rows (a map whose ids differ) does not read them again after those it
/// was mapping.
pub fn last_raw_id(c: &mut impl GenericClient, kind: RawKind) -> Result<i64> {
    let sql = match kind {
        RawKind::Asset => "SELECT COALESCE(MAX(id), 0)::int8 FROM assets",
        RawKind::Finding => "SELECT COALESCE(MAX(id), 0)::int8 FROM findings",
    };
    Ok(c.query_one(sql, &[])?.try_get(0)?)
}

/// One page of a connector's raw records of one kind after row id `after`, up to row id
/// `last`.
pub fn raw_page(
    c: &mut impl GenericClient,
    kind: RawKind,
    connector_id: i64,
    after: i64,
    last: i64,
) -> Result<Vec<RawRow>> {
    let sql = match kind {
        RawKind::Asset => {
            "SELECT id, external_id, raw, NULL::text, NULL::text FROM assets
             WHERE connector_id = $1 AND id > $2 AND id <= $4 AND raw IS NOT NULL
             ORDER BY id LIMIT $3"
        }
        RawKind::Finding => {
            "SELECT id, asset_external_id, raw, status, content_hash FROM findings
             WHERE connector_id = $1 AND id > $2 AND id <= $4 AND raw IS NOT NULL
             ORDER BY id LIMIT $3"
        }
    };
    c.query(sql, &[&connector_id, &after, &RAW_PAGE, &last])?
        .iter()
        .map(|r| {
            let bytes: Vec<u8> = r.try_get(2)?;
            let raw = decompress(&bytes).map_err(|message| StoreError::Corrupt {
                column: "raw".into(),
                message,
            })?;
            let status = r
                .try_get::<_, Option<&str>>(3)?
                .map(str::parse::<Status>)
                .transpose()
                .map_err(|message| StoreError::Corrupt {
                    column: "findings.status".into(),
                    message,
                })?
                .map(|s| {
                    let hash = r.try_get::<_, Option<&str>>(4)?.unwrap_or_default();
                    Ok::<_, StoreError>(StoredStatus::from_row(s, hash))
                })
                .transpose()?;
            Ok((r.try_get(0)?, r.try_get(1)?, raw, status))
        })
        .collect()
}

/// The counts of the overview: one scan of the findings gives their number and both
/// breakdowns (three scans before, ~0.45 s each at 1M findings).
pub fn summary(c: &mut impl GenericClient, connector: Option<&str>) -> Result<Summary> {
    let mut out = Summary {
        assets: c
            .query_one(
                "SELECT COUNT(*) FROM assets a JOIN connectors c ON c.id = a.connector_id
                 WHERE ($1::text IS NULL OR c.name = $1)",
                &[&connector],
            )
            .map(|r| count(&r, 0))??,
        ..Summary::default()
    };
    for r in c.query(
        "SELECT f.severity, f.status, COUNT(*) FROM findings f
         JOIN connectors c ON c.id = f.connector_id
         WHERE ($1::text IS NULL OR c.name = $1) GROUP BY f.severity, f.status",
        &[&connector],
    )? {
        let n = count(&r, 2)?;
        out.findings += n;
        out.add_severity(i64::from(r.try_get::<_, i16>(0)?), n);
        out.add_status(r.try_get(1)?, n);
    }
    Ok(out.sorted())
}

pub fn counts(c: &mut impl GenericClient, connector_id: i64) -> Result<(u64, u64)> {
    let r = c.query_one(
        "SELECT (SELECT COUNT(*) FROM assets WHERE connector_id = $1),
                (SELECT COUNT(*) FROM findings WHERE connector_id = $1)",
        &[&connector_id],
    )?;
    Ok((count(&r, 0)?, count(&r, 1)?))
}
