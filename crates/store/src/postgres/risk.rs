//! Keeping risk scores stored (see the SQLite backend's `risk` module for the rules):
//! per batch, after auto-close, and on `rescore`; plus the known-exploited (KEV) list.
//!
//! Scores are computed here with [`model::risk`] from rows read in bulk, and written back
//! with one `UPDATE ... FROM UNNEST(...)` per table per batch; a batch's assets' risks
//! follow their findings' in [`super::asset_risk`].

use super::corrupt;
use super::read::risk_of;
use crate::Result;
use crate::types::*;
use chrono::{DateTime, Utc};
use model::kev::{KevEntry, cve_ids};
use model::risk::{Exposure, OpenRisks, RiskInput, finding_risk};
use model::{Severity, Status};
use postgres::GenericClient;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Findings scored per read on `rescore`.
const CHUNK: i64 = 10_000;

/// The upper-cased CVEs of `cves` that the KEV list holds.
fn known(c: &mut impl GenericClient, cves: &[String]) -> Result<HashSet<String>> {
    if cves.is_empty() {
        return Ok(HashSet::new());
    }
    c.query("SELECT cve FROM kev WHERE cve = ANY($1)", &[&cves])?
        .iter()
        .map(|r| Ok(r.try_get::<_, String>(0)?))
        .collect()
}

/// The CVE ids of a finding's `cve` (one, or several comma-separated), upper-cased.
fn norm(cve: Option<&str>) -> Vec<String> {
    cve.map(cve_ids).unwrap_or_default()
}

/// Writes finding scores by id.
fn write_finding_risks(c: &mut impl GenericClient, ids: &[i64], risks: &[i32]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    c.execute(
        "UPDATE findings f SET risk = t.r FROM UNNEST($1::int8[], $2::int4[]) AS t(id, r)
         WHERE f.id = t.id",
        &[&ids, &risks],
    )?;
    Ok(())
}

/// The risk of each of the batch's findings (inserted, updated and unchanged alike, so
/// each sync also refreshes the age part), by external id, scored from its last
/// occurrence in the batch; and the assets whose risk the batch changes (its own and its
/// findings'). The writer stores each score with the row it writes or touches: a second
/// `UPDATE` would write every row of the batch twice, and `risk` being indexed, through
/// every index (PostgreSQL's HOT updates do not apply).
pub fn batch_risks<'a>(
    c: &mut impl GenericClient,
    run: &Run,
    batch: &'a Batch,
) -> Result<(HashMap<&'a str, i32>, Vec<&'a str>)> {
    let now = Utc::now();
    // The last occurrence of an external id is what the row holds now.
    let mut last: HashMap<&str, &FindingRecord> = HashMap::new();
    for rec in &batch.findings {
        last.insert(rec.finding.external_id.as_str(), rec);
    }
    let mut touched: BTreeSet<&str> = batch
        .assets
        .iter()
        .map(|a| a.asset.external_id.as_str())
        .collect();
    let assets: Vec<&str> = last
        .values()
        .map(|r| r.finding.asset_external_id.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut urls: HashMap<String, Option<String>> = HashMap::new();
    if !assets.is_empty() {
        for r in c.query(
            "SELECT external_id, url FROM assets WHERE connector_id = $1 AND external_id = ANY($2)",
            &[&run.connector_id, &assets],
        )? {
            urls.insert(r.try_get(0)?, r.try_get(1)?);
        }
    }
    let cves: Vec<String> = last
        .values()
        .flat_map(|r| norm(r.finding.cve.as_deref()))
        .collect();
    let kev = known(c, &cves)?;
    let mut risks = HashMap::with_capacity(last.len());
    for (id, rec) in last {
        let f = &rec.finding;
        let asset_url = urls
            .get(f.asset_external_id.as_str())
            .and_then(|u| u.as_deref());
        let input = RiskInput {
            severity: f.severity,
            cvss: f.cvss,
            status: f.status,
            first_found: f.first_found,
            exposure: Exposure::of_urls([f.location.as_deref(), asset_url]),
            known_exploited: norm(f.cve.as_deref()).iter().any(|c| kev.contains(c)),
        };
        risks.insert(id, i32::from(finding_risk(&input, now)));
        touched.insert(f.asset_external_id.as_str());
    }
    Ok((risks, touched.into_iter().collect()))
}

/// Column 9 is [`query::fields::KEV_SQL`] written out (a `const` cannot `format!` it; a
/// test checks that the two agree).
pub(crate) const SCORE_SELECT: &str = "SELECT f.id, f.severity, f.cvss, f.status, f.first_found, f.location, \
     upper(trim(f.cve)), a.url, f.risk, \
     (f.cve IS NOT NULL AND (EXISTS (SELECT 1 FROM kev k WHERE k.cve = UPPER(f.cve)) \
     OR (f.cve LIKE '%,%' AND EXISTS (SELECT 1 FROM kev k \
     WHERE ',' || REPLACE(UPPER(f.cve), ' ', '') || ',' LIKE '%,' || k.cve || ',%')))) \
     FROM findings f LEFT JOIN assets a ON a.connector_id = f.connector_id AND a.external_id = f.asset_external_id";

/// Scores rows of [`SCORE_SELECT`]: (id, old risk, new risk).
fn score_rows(rows: &[postgres::Row], now: DateTime<Utc>) -> Result<Vec<(i64, i32, i32)>> {
    rows.iter()
        .map(|r| {
            let sev: i16 = r.try_get(1)?;
            let status: String = r.try_get(3)?;
            let location: Option<String> = r.try_get(5)?;
            let url: Option<String> = r.try_get(7)?;
            let input = RiskInput {
                severity: Severity::from_score(i64::from(sev))
                    .ok_or_else(|| corrupt("findings.severity", sev.to_string()))?,
                cvss: r.try_get(2)?,
                status: status
                    .parse::<Status>()
                    .map_err(|e| corrupt("findings.status", e))?,
                first_found: r.try_get(4)?,
                exposure: Exposure::of_urls([location.as_deref(), url.as_deref()]),
                known_exploited: r.try_get(9)?,
            };
            Ok((
                r.try_get(0)?,
                r.try_get(8)?,
                i32::from(finding_risk(&input, now)),
            ))
        })
        .collect()
}

/// Recomputes the scores of some findings from their stored rows (after a status change).
pub fn rescore_findings(c: &mut impl GenericClient, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows = c.query(&format!("{SCORE_SELECT} WHERE f.id = ANY($1)"), &[&ids])?;
    let scored = score_rows(&rows, Utc::now())?;
    let ids: Vec<i64> = scored.iter().map(|s| s.0).collect();
    let risks: Vec<i32> = scored.iter().map(|s| s.2).collect();
    write_finding_risks(c, &ids, &risks)
}

/// Rescores every finding of the connector's `assets` from its stored row, and leaves
/// those assets' kept totals unknown, for the batch's asset update to read them from
/// their findings. For assets whose URL changed: a finding without a host of its own (a
/// SAST issue's `file:line`) is exposed as its asset's URL says, and a delta rewrote only
/// the findings that changed, so the others kept the old URL's score until a `rescore`.
pub fn rescore_assets(
    c: &mut impl GenericClient,
    connector_id: i64,
    assets: &[&str],
) -> Result<()> {
    if assets.is_empty() {
        return Ok(());
    }
    let rows = c.query(
        &format!("{SCORE_SELECT} WHERE f.connector_id = $1 AND f.asset_external_id = ANY($2)"),
        &[&connector_id, &assets],
    )?;
    let changed: Vec<(i64, i32, i32)> = score_rows(&rows, Utc::now())?
        .into_iter()
        .filter(|s| s.1 != s.2)
        .collect();
    let ids: Vec<i64> = changed.iter().map(|s| s.0).collect();
    let risks: Vec<i32> = changed.iter().map(|s| s.2).collect();
    write_finding_risks(c, &ids, &risks)?;
    c.execute(
        "UPDATE assets SET open_risk_sum = NULL, open_risk_top = NULL, open_risk_top_count = NULL
         WHERE connector_id = $1 AND external_id = ANY($2)",
        &[&connector_id, &assets],
    )?;
    Ok(())
}

/// Recomputes every finding's and asset's score as of `now`, in chunks.
pub fn rescore_all(c: &mut impl GenericClient, now: DateTime<Utc>) -> Result<RescoreCounts> {
    // Runs' batches wait while the findings are rescored (readers do not): row by row, a
    // batch holding one finding and waiting for another that the rescore held, while the
    // rescore waited for the batch's, was a deadlock that failed the sync (or the
    // rescore). Held to the commit, it also keeps a batch from writing assets' totals it
    // read before the recount below over it. Assets first, as every writer of both
    // locks them ([`super::asset_risk::assets_first`]): with findings first, a batch
    // holding its assets' rows and waiting for findings deadlocked with this.
    c.batch_execute("LOCK TABLE assets, findings IN SHARE ROW EXCLUSIVE MODE")?;
    let mut counts = RescoreCounts::default();
    let mut last_id = 0i64;
    loop {
        let rows = c.query(
            &format!("{SCORE_SELECT} WHERE f.id > $1 ORDER BY f.id LIMIT $2"),
            &[&last_id, &CHUNK],
        )?;
        let scored = score_rows(&rows, now)?;
        let Some(last) = scored.last() else { break };
        last_id = last.0;
        counts.findings += scored.len() as u64;
        let changed: Vec<&(i64, i32, i32)> = scored.iter().filter(|s| s.1 != s.2).collect();
        counts.changed += changed.len() as u64;
        let ids: Vec<i64> = changed.iter().map(|s| s.0).collect();
        let risks: Vec<i32> = changed.iter().map(|s| s.2).collect();
        write_finding_risks(c, &ids, &risks)?;
    }
    c.execute(
        "UPDATE assets SET risk = 0, open_risk_sum = 0, open_risk_top = 0, open_risk_top_count = 0",
        &[],
    )?;
    let mut open: BTreeMap<(i64, String), OpenRisks> = BTreeMap::new();
    for r in c.query(
        "SELECT connector_id, asset_external_id, risk FROM findings
         WHERE status IN ('NEW', 'ACTIVE', 'REOPENED')",
        &[],
    )? {
        open.entry((r.try_get(0)?, r.try_get(1)?))
            .or_default()
            .add(risk_of(&r, 2)?);
    }
    counts.assets = open.len() as u64;
    let rows: Vec<(i64, &str, OpenRisks)> = open
        .iter()
        .map(|((connector, asset), o)| (*connector, asset.as_str(), *o))
        .collect();
    super::asset_risk::write_all(c, &rows)?;
    Ok(counts)
}

/// Whether some open finding has no score yet (rows written before scores existed).
pub fn needs_rescore(c: &mut impl GenericClient) -> Result<bool> {
    Ok(c.query_opt(
        "SELECT 1 FROM findings WHERE risk = 0 AND status IN ('NEW', 'ACTIVE', 'REOPENED') LIMIT 1",
        &[],
    )?
    .is_some())
}

/// Adds (or, with `replace`, replaces the list with) known-exploited CVEs.
pub fn import_kev(
    c: &mut impl GenericClient,
    entries: &[KevEntry],
    replace: bool,
) -> Result<KevImport> {
    let before: i64 = c.query_one("SELECT COUNT(*) FROM kev", &[])?.try_get(0)?;
    if replace {
        c.execute("DELETE FROM kev", &[])?;
    }
    // The last entry of a CVE listed twice wins, as row-by-row upserts would have it.
    let mut by_cve: BTreeMap<&str, &KevEntry> = BTreeMap::new();
    for e in entries {
        by_cve.insert(e.cve.as_str(), e);
    }
    let cves: Vec<&str> = by_cve.keys().copied().collect();
    let added: Vec<Option<&str>> = by_cve.values().map(|e| e.added.as_deref()).collect();
    let names: Vec<Option<&str>> = by_cve.values().map(|e| e.name.as_deref()).collect();
    if !cves.is_empty() {
        c.execute(
            "INSERT INTO kev(cve, added, name, imported_at)
             SELECT cve, added, name, $4 FROM UNNEST($1::text[], $2::text[], $3::text[]) AS t(cve, added, name)
             ON CONFLICT (cve) DO UPDATE SET added = COALESCE(EXCLUDED.added, kev.added),
                 name = COALESCE(EXCLUDED.name, kev.name), imported_at = EXCLUDED.imported_at",
            &[&cves, &added, &names, &Utc::now()],
        )?;
    }
    let total: i64 = c.query_one("SELECT COUNT(*) FROM kev", &[])?.try_get(0)?;
    let matching: i64 = c
        .query_one(
            &format!(
                "SELECT COUNT(*) FROM findings f WHERE {}",
                query::fields::KEV_SQL
            ),
            &[],
        )?
        .try_get(0)?;
    Ok(KevImport {
        read: entries.len() as u64,
        before: before.max(0) as u64,
        total: total.max(0) as u64,
        matching_findings: matching.max(0) as u64,
    })
}

pub fn kev_count(c: &mut impl GenericClient) -> Result<u64> {
    let n: i64 = c.query_one("SELECT COUNT(*) FROM kev", &[])?.try_get(0)?;
    Ok(n.max(0) as u64)
}
