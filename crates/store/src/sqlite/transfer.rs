//! Export and import of whole tables (see [`crate::transfer`]), keeping ids.

use super::time::{parse, parse_opt, to_sql_err, ts};
use super::{connectors, runs};
use crate::transfer::*;
use crate::types::*;
use crate::{Result, StoreError};
use model::{Asset, Finding, Severity, Status};
use rusqlite::{Connection, Row, params};

pub fn counts(conn: &Connection) -> Result<TableCounts> {
    let mut out = TableCounts::default();
    for t in Table::ALL {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {}", t.as_str()), [], |r| {
            r.get(0)
        })?;
        out.set(t, n.max(0) as u64);
    }
    Ok(out)
}

pub fn clear(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        "DELETE FROM due_runs; DELETE FROM connector_locks; DELETE FROM finding_history;
         DELETE FROM findings; DELETE FROM assets; DELETE FROM run_issues; DELETE FROM runs;
         DELETE FROM maps; DELETE FROM connectors; DELETE FROM kev; DELETE FROM api_tokens;",
    )?;
    tx.commit()?;
    Ok(())
}

fn corrupt(column: &str, message: impl Into<String>) -> rusqlite::Error {
    to_sql_err(StoreError::Corrupt {
        column: column.into(),
        message: message.into(),
    })
}

fn time(r: &Row<'_>, i: usize, column: &str) -> rusqlite::Result<chrono::DateTime<chrono::Utc>> {
    parse(column, &r.get::<_, String>(i)?).map_err(to_sql_err)
}

fn time_opt(
    r: &Row<'_>,
    i: usize,
    column: &str,
) -> rusqlite::Result<Option<chrono::DateTime<chrono::Utc>>> {
    parse_opt(column, r.get(i)?).map_err(to_sql_err)
}

fn tags(r: &Row<'_>, i: usize) -> rusqlite::Result<Vec<String>> {
    Ok(serde_json::from_str(&r.get::<_, String>(i)?).unwrap_or_default())
}

fn status(s: String, column: &str) -> rusqlite::Result<Status> {
    s.parse().map_err(|e: String| corrupt(column, e))
}

fn asset_row(r: &Row<'_>) -> rusqlite::Result<AssetRow> {
    Ok(AssetRow {
        id: r.get(0)?,
        connector_id: r.get(1)?,
        asset: Asset {
            external_id: r.get(2)?,
            name: r.get(3)?,
            url: r.get(4)?,
            description: r.get(5)?,
            business_unit: r.get(6)?,
            risk_rating: r.get(7)?,
            last_updated: time_opt(r, 8, "assets.last_updated")?,
            tags: tags(r, 9)?,
        },
        raw: r.get(10)?,
        content_hash: r.get(11)?,
        active: r.get::<_, i64>(12)? == 1,
        first_seen: time(r, 13, "assets.first_seen")?,
        last_seen: time(r, 14, "assets.last_seen")?,
        last_run_id: r.get(15)?,
        risk: super::risk::clamp_risk(r.get(16)?),
    })
}

fn finding_row(r: &Row<'_>) -> rusqlite::Result<FindingRow> {
    let sev: i64 = r.get(5)?;
    Ok(FindingRow {
        id: r.get(0)?,
        connector_id: r.get(1)?,
        finding: Finding {
            external_id: r.get(2)?,
            asset_external_id: r.get(3)?,
            name: r.get(4)?,
            severity: Severity::from_score(sev)
                .ok_or_else(|| corrupt("findings.severity", sev.to_string()))?,
            source_severity: r.get(6)?,
            status: status(r.get(7)?, "findings.status")?,
            source_status: r.get(8)?,
            cve: r.get(9)?,
            cvss: r.get(10)?,
            cwe: r.get(11)?,
            first_found: time_opt(r, 12, "findings.first_found")?,
            last_found: time_opt(r, 13, "findings.last_found")?,
            last_updated: time_opt(r, 14, "findings.last_updated")?,
            port: r.get(15)?,
            protocol: r.get(16)?,
            issue_type: r.get(17)?,
            location: r.get(18)?,
            element: r.get(19)?,
            detection: r.get(20)?,
            description: r.get(21)?,
            solution: r.get(22)?,
            tags: tags(r, 23)?,
        },
        fingerprint: r.get(24)?,
        raw: r.get(25)?,
        content_hash: r.get(26)?,
        active: r.get::<_, i64>(27)? == 1,
        first_seen: time(r, 28, "findings.first_seen")?,
        last_seen: time(r, 29, "findings.last_seen")?,
        last_run_id: r.get(30)?,
        risk: super::risk::clamp_risk(r.get(31)?),
    })
}

fn page<T>(
    conn: &Connection,
    sql: &str,
    after: i64,
    limit: usize,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut st = conn.prepare_cached(sql)?;
    let rows = st
        .query_map(params![after, i64::try_from(limit).unwrap_or(i64::MAX)], f)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The next page of `table` after id `after` (maps are read whole); the rows and the key
/// to continue from.
pub fn export_page(
    conn: &Connection,
    table: Table,
    after: i64,
    limit: usize,
) -> Result<(Rows, i64)> {
    Ok(match table {
        Table::Connectors => {
            let rows = page(
                conn,
                &format!(
                    "SELECT {} FROM connectors WHERE id > ?1 ORDER BY id LIMIT ?2",
                    connectors::COLUMNS
                ),
                after,
                limit,
                connectors::from_row,
            )?;
            let n = next_key(&rows, |r| r.id, after);
            (Rows::Connectors(rows), n)
        }
        Table::Maps => {
            if after > 0 {
                return Ok((Rows::Maps(Vec::new()), after));
            }
            let mut st = conn.prepare("SELECT name, toml, updated_at FROM maps ORDER BY name")?;
            let rows = st
                .query_map([], |r| {
                    Ok(MapRow {
                        name: r.get(0)?,
                        toml: r.get(1)?,
                        updated_at: time(r, 2, "maps.updated_at")?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            (Rows::Maps(rows), 1)
        }
        Table::Runs => {
            let rows = page(
                conn,
                &format!(
                    "SELECT {} FROM runs r JOIN connectors c ON c.id = r.connector_id
                     WHERE r.id > ?1 ORDER BY r.id LIMIT ?2",
                    runs::COLUMNS
                ),
                after,
                limit,
                runs::from_row,
            )?;
            let n = next_key(&rows, |r| r.id, after);
            (Rows::Runs(rows), n)
        }
        Table::RunIssues => {
            let rows = page(
                conn,
                "SELECT id, run_id, level, location, message FROM run_issues
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
                after,
                limit,
                |r| {
                    let level: String = r.get(2)?;
                    Ok(RunIssueRow {
                        id: r.get(0)?,
                        run_id: r.get(1)?,
                        issue: RecordIssue {
                            level: if level == "error" {
                                IssueLevel::Error
                            } else {
                                IssueLevel::Warning
                            },
                            location: r.get(3)?,
                            message: r.get(4)?,
                        },
                    })
                },
            )?;
            let n = next_key(&rows, |r| r.id, after);
            (Rows::RunIssues(rows), n)
        }
        Table::Assets => {
            let rows = page(
                conn,
                "SELECT id, connector_id, external_id, name, url, description, business_unit, risk_rating,
                     last_updated, tags, raw, content_hash, active, first_seen, last_seen, last_run_id, risk
                 FROM assets WHERE id > ?1 ORDER BY id LIMIT ?2",
                after,
                limit,
                asset_row,
            )?;
            let n = next_key(&rows, |r| r.id, after);
            (Rows::Assets(rows), n)
        }
        Table::Findings => {
            let rows = page(
                conn,
                "SELECT id, connector_id, external_id, asset_external_id, name, severity, source_severity,
                     status, source_status, cve, cvss, cwe, first_found, last_found, last_updated, port,
                     protocol, issue_type, location, element, detection, description, solution, tags,
                     fingerprint, raw, content_hash, active, first_seen, last_seen, last_run_id, risk
                 FROM findings WHERE id > ?1 ORDER BY id LIMIT ?2",
                after,
                limit,
                finding_row,
            )?;
            let n = next_key(&rows, |r| r.id, after);
            (Rows::Findings(rows), n)
        }
        Table::History => {
            let rows = page(
                conn,
                "SELECT id, finding_id, run_id, at, old_status, new_status FROM finding_history
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
                after,
                limit,
                |r| {
                    let old: Option<String> = r.get(4)?;
                    Ok(HistoryRow {
                        id: r.get(0)?,
                        finding_id: r.get(1)?,
                        entry: HistoryEntry {
                            run_id: r.get(2)?,
                            at: time(r, 3, "finding_history.at")?,
                            old_status: old
                                .map(|o| status(o, "finding_history.old_status"))
                                .transpose()?,
                            new_status: status(r.get(5)?, "finding_history.new_status")?,
                        },
                    })
                },
            )?;
            let n = next_key(&rows, |r| r.id, after);
            (Rows::History(rows), n)
        }
        Table::Kev => {
            if after > 0 {
                return Ok((Rows::Kev(Vec::new()), after));
            }
            let mut st =
                conn.prepare("SELECT cve, added, name, imported_at FROM kev ORDER BY cve")?;
            let rows = st
                .query_map([], |r| {
                    Ok(KevRow {
                        cve: r.get(0)?,
                        added: r.get(1)?,
                        name: r.get(2)?,
                        imported_at: time(r, 3, "kev.imported_at")?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            (Rows::Kev(rows), 1)
        }
        Table::ApiTokens => {
            let rows = page(
                conn,
                "SELECT id, name, hint, created_at, last_used_at, revoked_at, hash FROM api_tokens
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
                after,
                limit,
                |r| {
                    Ok(TokenRow {
                        token: ApiToken {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            hint: r.get(2)?,
                            created_at: time(r, 3, "api_tokens.created_at")?,
                            last_used_at: time_opt(r, 4, "api_tokens.last_used_at")?,
                            revoked_at: time_opt(r, 5, "api_tokens.revoked_at")?,
                        },
                        hash: r.get(6)?,
                    })
                },
            )?;
            let n = next_key(&rows, |r| r.token.id, after);
            (Rows::ApiTokens(rows), n)
        }
    })
}

fn n(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn tags_text(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

/// Writes one batch in one transaction, keeping ids.
pub fn import(conn: &mut Connection, rows: &Rows) -> Result<()> {
    let tx = conn.transaction()?;
    match rows {
        Rows::Connectors(rows) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO connectors(id, name, kind, url, key_id, secret, settings, state, state_reason,
                     cursor, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(id) DO UPDATE SET state = excluded.state,
                     state_reason = excluded.state_reason, cursor = excluded.cursor",
            )?;
            for c in rows {
                st.execute(params![
                    c.id,
                    c.name,
                    c.kind,
                    c.url,
                    c.key_id,
                    c.secret,
                    c.settings.to_string(),
                    c.state.as_str(),
                    c.state_reason,
                    c.cursor.map(ts),
                    ts(c.created_at),
                    ts(c.updated_at)
                ])?;
            }
        }
        Rows::Maps(rows) => {
            let mut st =
                tx.prepare_cached("INSERT INTO maps(name, toml, updated_at) VALUES (?1, ?2, ?3)")?;
            for m in rows {
                st.execute(params![m.name, m.toml, ts(m.updated_at)])?;
            }
        }
        Rows::Runs(rows) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO runs(id, connector_id, mode, state, started_at, ended_at, fetched, inserted,
                     updated, unchanged, failed, warnings, retries, requests, closed, reason, cursor_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?;
            for r in rows {
                let k = &r.counters;
                st.execute(params![
                    r.id,
                    r.connector_id,
                    r.mode.as_str(),
                    r.state.as_str(),
                    ts(r.started_at),
                    r.ended_at.map(ts),
                    n(k.fetched),
                    n(k.inserted),
                    n(k.updated),
                    n(k.unchanged),
                    n(k.failed),
                    n(k.warnings),
                    n(k.retries),
                    n(k.requests),
                    n(k.closed),
                    r.reason,
                    r.cursor_from.map(ts)
                ])?;
            }
        }
        Rows::RunIssues(rows) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO run_issues(id, run_id, level, location, message) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for r in rows {
                let level = match r.issue.level {
                    IssueLevel::Error => "error",
                    IssueLevel::Warning => "warning",
                };
                st.execute(params![
                    r.id,
                    r.run_id,
                    level,
                    r.issue.location,
                    r.issue.message
                ])?;
            }
        }
        Rows::Assets(rows) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO assets(id, connector_id, external_id, name, url, description, business_unit,
                     risk_rating, last_updated, tags, raw, content_hash, active, first_seen, last_seen,
                     last_run_id, risk)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?;
            for r in rows {
                let a = &r.asset;
                st.execute(params![
                    r.id,
                    r.connector_id,
                    a.external_id,
                    a.name,
                    a.url,
                    a.description,
                    a.business_unit,
                    a.risk_rating,
                    a.last_updated.map(ts),
                    tags_text(&a.tags),
                    r.raw,
                    r.content_hash,
                    i64::from(r.active),
                    ts(r.first_seen),
                    ts(r.last_seen),
                    r.last_run_id,
                    i64::from(r.risk)
                ])?;
            }
        }
        Rows::Findings(rows) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO findings(id, connector_id, external_id, asset_external_id, name, severity,
                     source_severity, status, source_status, cve, cvss, cwe, first_found, last_found,
                     last_updated, port, protocol, issue_type, location, element, detection, description,
                     solution, tags, fingerprint, raw, content_hash, active, first_seen, last_seen, last_run_id,
                     risk)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)",
            )?;
            for r in rows {
                let f = &r.finding;
                st.execute(params![
                    r.id,
                    r.connector_id,
                    f.external_id,
                    f.asset_external_id,
                    f.name,
                    i64::from(f.severity.score()),
                    f.source_severity,
                    f.status.as_str(),
                    f.source_status,
                    f.cve,
                    f.cvss,
                    f.cwe,
                    f.first_found.map(ts),
                    f.last_found.map(ts),
                    f.last_updated.map(ts),
                    f.port,
                    f.protocol,
                    f.issue_type,
                    f.location,
                    f.element,
                    f.detection,
                    f.description,
                    f.solution,
                    tags_text(&f.tags),
                    r.fingerprint,
                    r.raw,
                    r.content_hash,
                    i64::from(r.active),
                    ts(r.first_seen),
                    ts(r.last_seen),
                    r.last_run_id,
                    i64::from(r.risk)
                ])?;
            }
        }
        Rows::History(rows) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO finding_history(id, finding_id, run_id, at, old_status, new_status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for r in rows {
                st.execute(params![
                    r.id,
                    r.finding_id,
                    r.entry.run_id,
                    ts(r.entry.at),
                    r.entry.old_status.map(|s| s.as_str()),
                    r.entry.new_status.as_str()
                ])?;
            }
        }
        Rows::Kev(rows) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO kev(cve, added, name, imported_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for k in rows {
                st.execute(params![k.cve, k.added, k.name, ts(k.imported_at)])?;
            }
        }
        Rows::ApiTokens(rows) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO api_tokens(id, name, hash, hint, created_at, last_used_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for t in rows {
                let k = &t.token;
                st.execute(params![
                    k.id,
                    k.name,
                    t.hash,
                    k.hint,
                    ts(k.created_at),
                    k.last_used_at.map(ts),
                    k.revoked_at.map(ts)
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}
