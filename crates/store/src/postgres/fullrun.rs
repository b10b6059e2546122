//! Queries of full-run sources (ASE, XML reports): marking assets inactive, and findings
//! grouped by fingerprint across connectors (the same results as the SQLite backend).

use super::corrupt;
use super::listing::Clause;
use super::read::FINDING_FROM;
use crate::Result;
use crate::fingerprints::FingerprintGroup;
use crate::types::*;
use chrono::{DateTime, Utc};
use model::Severity;
use postgres::GenericClient;

/// Marks the connector's assets not seen since `before` inactive, with their findings.
/// Returns (assets, findings) newly marked.
pub fn mark_inactive(
    c: &mut impl GenericClient,
    connector_id: i64,
    before: DateTime<Utc>,
) -> Result<(u64, u64)> {
    super::asset_risk::assets_first(c)?;
    let findings = c.execute(
        "UPDATE findings SET active = FALSE
         WHERE connector_id = $1 AND active AND asset_external_id IN
             (SELECT external_id FROM assets WHERE connector_id = $1 AND last_seen < $2)",
        &[&connector_id, &before],
    )?;
    let assets = c.execute(
        "UPDATE assets SET active = FALSE WHERE connector_id = $1 AND active AND last_seen < $2",
        &[&connector_id, &before],
    )?;
    Ok((assets, findings))
}

/// One row per fingerprint, most severe first; with a connector or a filter, only the
/// groups with a finding they select (each still counting and listing all its findings
/// and sources).
pub fn dedupe(c: &mut impl GenericClient, q: &ListQuery) -> Result<Vec<FingerprintGroup>> {
    let selected = super::listing::selected(q)?;
    let mut statement = Clause {
        sql: format!(
            "SELECT g.fingerprint, g.n, g.sev, g.open, g.sources, g.ids, g.first_seen, g.last_seen,
                 f2.name, a2.name, f2.location, f2.element, f2.cwe
             FROM (SELECT f.fingerprint AS fingerprint, COUNT(*) AS n, MAX(f.severity) AS sev,
                       COUNT(*) FILTER (WHERE f.status IN ('NEW', 'ACTIVE', 'REOPENED')) AS open,
                       array_agg(DISTINCT c.name) AS sources, array_agg(f.id ORDER BY f.id) AS ids,
                       MIN(f.first_seen) AS first_seen, MAX(f.last_seen) AS last_seen, MIN(f.id) AS first_id
                   FROM {FINDING_FROM}
                   GROUP BY f.fingerprint
                   HAVING bool_or(COALESCE({}, FALSE))) g
             JOIN findings f2 ON f2.id = g.first_id
             LEFT JOIN assets a2 ON a2.connector_id = f2.connector_id AND a2.external_id = f2.asset_external_id
             ORDER BY g.sev DESC, g.first_id",
            selected.sql
        ),
        params: selected.params,
    };
    statement.page(q);
    let rows = c.query(&statement.sql, &statement.refs())?;
    rows.iter()
        .map(|r| {
            let sev: i16 = r.try_get(2)?;
            let mut sources: Vec<String> = r.try_get(4)?;
            sources.sort();
            let cwe: Option<i64> = r.try_get(12)?;
            Ok(FingerprintGroup {
                fingerprint: r.try_get(0)?,
                findings: r.try_get::<_, i64>(1)?.max(0) as u64,
                severity: Severity::from_score(i64::from(sev))
                    .ok_or_else(|| corrupt("findings.severity", sev.to_string()))?,
                open: r.try_get::<_, i64>(3)?.max(0) as u64,
                sources,
                finding_ids: r.try_get(5)?,
                name: r.try_get(8)?,
                asset: r.try_get(9)?,
                location: r.try_get(10)?,
                element: r.try_get(11)?,
                cwe: cwe.and_then(|c| u32::try_from(c).ok()),
                first_seen: r.try_get(6)?,
                last_seen: r.try_get(7)?,
            })
        })
        .collect()
}
