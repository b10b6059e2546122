//! Export and import of whole tables (see [`crate::transfer`]).
//!
//! Export pages through each table by id (keyset), so no transaction stays open for a
//! whole table. Import writes each batch with binary `COPY ... FROM STDIN`, the fastest
//! way into PostgreSQL for rows that are known to be new; ids are kept, and each batch
//! moves its table's identity sequence past them in its own transaction, so a copy cut
//! midway through a table leaves a store that takes new rows ([`finish`] does it again
//! for every table).

use super::{connectors, read, runs};
use crate::Result;
use crate::transfer::*;
use crate::types::*;
use model::Asset;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{GenericClient, Transaction};

/// Tables with an identity id, whose sequences [`finish`] resets and [`import`] moves.
const ID_TABLES: &[&str] = &[
    "connectors",
    "runs",
    "run_issues",
    "assets",
    "findings",
    "finding_history",
    "api_tokens",
];

pub fn counts(c: &mut impl GenericClient) -> Result<TableCounts> {
    let mut out = TableCounts::default();
    let sql: Vec<String> = Table::ALL
        .iter()
        .map(|t| format!("(SELECT COUNT(*) FROM {})", t.as_str()))
        .collect();
    let row = c.query_one(&format!("SELECT {}", sql.join(", ")), &[])?;
    for (i, t) in Table::ALL.iter().enumerate() {
        out.set(*t, row.try_get::<_, i64>(i)?.max(0) as u64);
    }
    Ok(out)
}

pub fn clear(c: &mut impl GenericClient) -> Result<()> {
    let tables: Vec<&str> = Table::ALL.iter().map(|t| t.as_str()).collect();
    c.batch_execute(&format!(
        "TRUNCATE {}, connector_locks, due_runs RESTART IDENTITY CASCADE",
        tables.join(", ")
    ))?;
    Ok(())
}

pub fn finish(c: &mut impl GenericClient) -> Result<()> {
    for t in ID_TABLES {
        follow_ids(c, t)?;
    }
    Ok(())
}

/// Sets `table`'s id sequence to its highest id (or back to 1 when it is empty), so the
/// next row inserted without an id gets one after the copied rows.
fn follow_ids(c: &mut impl GenericClient, table: &str) -> Result<()> {
    c.execute(
        &format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                 COALESCE((SELECT MAX(id) FROM {table}), 1), (SELECT MAX(id) FROM {table}) IS NOT NULL)"
        ),
        &[],
    )?;
    Ok(())
}

/// One keyset page: `sql` takes the key to start after as `$1` and the limit as `$2`;
/// each row is read with `read`.
fn page<T>(
    c: &mut impl GenericClient,
    sql: &str,
    after: i64,
    limit: i64,
    read: impl FnMut(&postgres::Row) -> Result<T>,
) -> Result<Vec<T>> {
    c.query(sql, &[&after, &limit])?.iter().map(read).collect()
}

/// The next page of `table` after the key `after` (an id; maps are read whole); the
/// rows and the key to continue from.
pub fn export_page(
    c: &mut impl GenericClient,
    table: Table,
    after: i64,
    limit: usize,
) -> Result<(Rows, i64)> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Ok(match table {
        Table::Connectors => {
            let rows: Vec<Connector> = page(
                c,
                &format!(
                    "SELECT {} FROM connectors WHERE id > $1 ORDER BY id LIMIT $2",
                    connectors::COLUMNS
                ),
                after,
                limit,
                connectors::from_row,
            )?;
            let next = next_key(&rows, |r| r.id, after);
            (Rows::Connectors(rows), next)
        }
        Table::Maps => {
            // Maps have no id; there are few, so the first page is all of them.
            if after > 0 {
                return Ok((Rows::Maps(Vec::new()), after));
            }
            let rows: Vec<MapRow> = c
                .query(
                    "SELECT name, toml, updated_at FROM maps ORDER BY name COLLATE \"C\"",
                    &[],
                )?
                .iter()
                .map(|r| {
                    Ok(MapRow {
                        name: r.try_get(0)?,
                        toml: r.try_get(1)?,
                        updated_at: r.try_get(2)?,
                    })
                })
                .collect::<Result<_>>()?;
            (Rows::Maps(rows), 1)
        }
        Table::Runs => {
            let rows: Vec<Run> = page(
                c,
                &format!(
                    "SELECT {} FROM runs r JOIN connectors c ON c.id = r.connector_id
                         WHERE r.id > $1 ORDER BY r.id LIMIT $2",
                    runs::COLUMNS
                ),
                after,
                limit,
                runs::from_row,
            )?;
            let next = next_key(&rows, |r| r.id, after);
            (Rows::Runs(rows), next)
        }
        Table::RunIssues => {
            let rows: Vec<RunIssueRow> = page(
                c,
                "SELECT id, run_id, level, location, message FROM run_issues
                     WHERE id > $1 ORDER BY id LIMIT $2",
                after,
                limit,
                |r| {
                    Ok(RunIssueRow {
                        id: r.try_get(0)?,
                        run_id: r.try_get(1)?,
                        issue: RecordIssue {
                            level: runs::level_of(r.try_get(2)?),
                            location: r.try_get(3)?,
                            message: r.try_get(4)?,
                        },
                    })
                },
            )?;
            let next = next_key(&rows, |r| r.id, after);
            (Rows::RunIssues(rows), next)
        }
        Table::Assets => {
            let rows: Vec<AssetRow> = page(
                c,
                    "SELECT id, connector_id, external_id, name, url, description, business_unit, risk_rating,
                         last_updated, tags, raw, content_hash, active, first_seen, last_seen, last_run_id, risk
                     FROM assets WHERE id > $1 ORDER BY id LIMIT $2",
                after,
                limit,
                |r| {
                    Ok(AssetRow {
                        id: r.try_get(0)?,
                        connector_id: r.try_get(1)?,
                        asset: Asset {
                            external_id: r.try_get(2)?,
                            name: r.try_get(3)?,
                            url: r.try_get(4)?,
                            description: r.try_get(5)?,
                            business_unit: r.try_get(6)?,
                            risk_rating: r.try_get(7)?,
                            last_updated: r.try_get(8)?,
                            tags: read::tags_of(r.try_get(9)?),
                        },
                        raw: r.try_get(10)?,
                        content_hash: r.try_get(11)?,
                        active: r.try_get(12)?,
                        first_seen: r.try_get(13)?,
                        last_seen: r.try_get(14)?,
                        last_run_id: r.try_get(15)?,
                        risk: read::risk_of(r, 16)?,
                    })
                },
            )?;
            let next = next_key(&rows, |r| r.id, after);
            (Rows::Assets(rows), next)
        }
        Table::Findings => {
            let rows: Vec<FindingRow> = page(
                c,
                    "SELECT id, connector_id, external_id, asset_external_id, name, severity, source_severity,
                         status, source_status, cve, cvss, cwe, first_found, last_found, last_updated, port,
                         protocol, issue_type, location, element, detection, description, solution, tags,
                         fingerprint, raw, content_hash, active, first_seen, last_seen, last_run_id, risk
                     FROM findings WHERE id > $1 ORDER BY id LIMIT $2",
                after,
                limit,
                |r| {
                    Ok(FindingRow {
                        id: r.try_get(0)?,
                        connector_id: r.try_get(1)?,
                        finding: read::finding_at(r, 2)?,
                        fingerprint: r.try_get(24)?,
                        raw: r.try_get(25)?,
                        content_hash: r.try_get(26)?,
                        active: r.try_get(27)?,
                        first_seen: r.try_get(28)?,
                        last_seen: r.try_get(29)?,
                        last_run_id: r.try_get(30)?,
                        risk: read::risk_of(r, 31)?,
                    })
                },
            )?;
            let next = next_key(&rows, |r| r.id, after);
            (Rows::Findings(rows), next)
        }
        Table::History => {
            let rows: Vec<HistoryRow> = page(
                c,
                "SELECT id, finding_id, run_id, at, old_status, new_status FROM finding_history
                     WHERE id > $1 ORDER BY id LIMIT $2",
                after,
                limit,
                |r| {
                    Ok(HistoryRow {
                        id: r.try_get(0)?,
                        finding_id: r.try_get(1)?,
                        entry: read::history_from_row(r, 2)?,
                    })
                },
            )?;
            let next = next_key(&rows, |r| r.id, after);
            (Rows::History(rows), next)
        }
        Table::Kev => {
            // The list holds a few thousand CVEs: the first page is all of them.
            if after > 0 {
                return Ok((Rows::Kev(Vec::new()), after));
            }
            let rows: Vec<KevRow> = c
                .query(
                    "SELECT cve, added, name, imported_at FROM kev ORDER BY cve COLLATE \"C\"",
                    &[],
                )?
                .iter()
                .map(|r| {
                    Ok(KevRow {
                        cve: r.try_get(0)?,
                        added: r.try_get(1)?,
                        name: r.try_get(2)?,
                        imported_at: r.try_get(3)?,
                    })
                })
                .collect::<Result<_>>()?;
            (Rows::Kev(rows), 1)
        }
        Table::ApiTokens => {
            let rows: Vec<TokenRow> = page(
                c,
                "SELECT id, name, hint, created_at, last_used_at, revoked_at, hash FROM api_tokens
                     WHERE id > $1 ORDER BY id LIMIT $2",
                after,
                limit,
                |r| {
                    Ok(TokenRow {
                        token: ApiToken {
                            id: r.try_get(0)?,
                            name: r.try_get(1)?,
                            hint: r.try_get(2)?,
                            created_at: r.try_get(3)?,
                            last_used_at: r.try_get(4)?,
                            revoked_at: r.try_get(5)?,
                        },
                        hash: r.try_get(6)?,
                    })
                },
            )?;
            let next = next_key(&rows, |r| r.token.id, after);
            (Rows::ApiTokens(rows), next)
        }
    })
}

/// Streams rows into `table(cols)` with binary COPY.
fn copy_rows<'r, const N: usize>(
    tx: &mut Transaction<'_>,
    table: &str,
    cols: [(&str, Type); N],
    rows: impl Iterator<Item = [&'r (dyn ToSql + Sync); N]>,
) -> Result<()> {
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let types: Vec<Type> = cols.iter().map(|c| c.1.clone()).collect();
    let sink = tx.copy_in(&format!(
        "COPY {table} ({}) FROM STDIN (FORMAT binary)",
        names.join(", ")
    ))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    for row in rows {
        writer.write(&row)?;
    }
    writer.finish()?;
    Ok(())
}

fn i(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Writes one batch, keeping its ids, and moves its table's id sequence past them: a
/// copy cut before the end of the table left the sequence at 1 under thousands of copied
/// rows, and every later insert (each sync of the target) failed on the primary key.
pub fn import(tx: &mut Transaction<'_>, rows: &Rows) -> Result<()> {
    write_rows(tx, rows)?;
    let table = rows.table().as_str();
    if !rows.is_empty() && ID_TABLES.contains(&table) {
        follow_ids(tx, table)?;
    }
    Ok(())
}

/// Writes one batch, keeping its ids.
fn write_rows(tx: &mut Transaction<'_>, rows: &Rows) -> Result<()> {
    match rows {
        Rows::Connectors(rows) => {
            for c in rows {
                tx.execute(
                    "INSERT INTO connectors(id, name, kind, url, key_id, secret, settings, state, state_reason,
                         cursor, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT(id) DO UPDATE SET state = excluded.state,
                         state_reason = excluded.state_reason, cursor = excluded.cursor",
                    &[
                        &c.id,
                        &c.name,
                        &c.kind,
                        &c.url,
                        &c.key_id,
                        &c.secret,
                        &c.settings,
                        &c.state.as_str(),
                        &c.state_reason,
                        &c.cursor,
                        &c.created_at,
                        &c.updated_at,
                    ],
                )?;
            }
        }
        Rows::Maps(rows) => {
            for m in rows {
                tx.execute(
                    "INSERT INTO maps(name, toml, updated_at) VALUES ($1, $2, $3)",
                    &[&m.name, &m.toml, &m.updated_at],
                )?;
            }
        }
        Rows::Runs(rows) => {
            let counters: Vec<[i64; 9]> = rows
                .iter()
                .map(|r| {
                    let k = &r.counters;
                    [
                        i(k.fetched),
                        i(k.inserted),
                        i(k.updated),
                        i(k.unchanged),
                        i(k.failed),
                        i(k.warnings),
                        i(k.retries),
                        i(k.requests),
                        i(k.closed),
                    ]
                })
                .collect();
            let modes: Vec<&str> = rows.iter().map(|r| r.mode.as_str()).collect();
            let states: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
            copy_rows(
                tx,
                "runs",
                [
                    ("id", Type::INT8),
                    ("connector_id", Type::INT8),
                    ("mode", Type::TEXT),
                    ("state", Type::TEXT),
                    ("started_at", Type::TIMESTAMPTZ),
                    ("ended_at", Type::TIMESTAMPTZ),
                    ("fetched", Type::INT8),
                    ("inserted", Type::INT8),
                    ("updated", Type::INT8),
                    ("unchanged", Type::INT8),
                    ("failed", Type::INT8),
                    ("warnings", Type::INT8),
                    ("retries", Type::INT8),
                    ("requests", Type::INT8),
                    ("closed", Type::INT8),
                    ("reason", Type::TEXT),
                    ("cursor_from", Type::TIMESTAMPTZ),
                ],
                rows.iter().enumerate().map(|(n, r)| {
                    let k = &counters[n];
                    [
                        &r.id as &(dyn ToSql + Sync),
                        &r.connector_id,
                        &modes[n],
                        &states[n],
                        &r.started_at,
                        &r.ended_at,
                        &k[0],
                        &k[1],
                        &k[2],
                        &k[3],
                        &k[4],
                        &k[5],
                        &k[6],
                        &k[7],
                        &k[8],
                        &r.reason,
                        &r.cursor_from,
                    ]
                }),
            )?;
        }
        Rows::RunIssues(rows) => {
            let levels: Vec<&str> = rows
                .iter()
                .map(|r| runs::level_str(r.issue.level))
                .collect();
            copy_rows(
                tx,
                "run_issues",
                [
                    ("id", Type::INT8),
                    ("run_id", Type::INT8),
                    ("level", Type::TEXT),
                    ("location", Type::TEXT),
                    ("message", Type::TEXT),
                ],
                rows.iter().enumerate().map(|(n, r)| {
                    [
                        &r.id as &(dyn ToSql + Sync),
                        &r.run_id,
                        &levels[n],
                        &r.issue.location,
                        &r.issue.message,
                    ]
                }),
            )?;
        }
        Rows::Assets(rows) => {
            let risks: Vec<i32> = rows.iter().map(|r| i32::from(r.risk)).collect();
            let tags: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| serde_json::json!(r.asset.tags))
                .collect();
            copy_rows(
                tx,
                "assets",
                [
                    ("id", Type::INT8),
                    ("connector_id", Type::INT8),
                    ("external_id", Type::TEXT),
                    ("name", Type::TEXT),
                    ("url", Type::TEXT),
                    ("description", Type::TEXT),
                    ("business_unit", Type::TEXT),
                    ("risk_rating", Type::TEXT),
                    ("last_updated", Type::TIMESTAMPTZ),
                    ("tags", Type::JSONB),
                    ("raw", Type::BYTEA),
                    ("content_hash", Type::TEXT),
                    ("active", Type::BOOL),
                    ("first_seen", Type::TIMESTAMPTZ),
                    ("last_seen", Type::TIMESTAMPTZ),
                    ("last_run_id", Type::INT8),
                    ("risk", Type::INT4),
                ],
                rows.iter().enumerate().map(|(n, r)| {
                    [
                        &r.id as &(dyn ToSql + Sync),
                        &r.connector_id,
                        &r.asset.external_id,
                        &r.asset.name,
                        &r.asset.url,
                        &r.asset.description,
                        &r.asset.business_unit,
                        &r.asset.risk_rating,
                        &r.asset.last_updated,
                        &tags[n],
                        &r.raw,
                        &r.content_hash,
                        &r.active,
                        &r.first_seen,
                        &r.last_seen,
                        &r.last_run_id,
                        &risks[n],
                    ]
                }),
            )?;
        }
        Rows::Findings(rows) => {
            struct Extra {
                tags: serde_json::Value,
                severity: i16,
                cwe: Option<i64>,
                port: Option<i32>,
                status: &'static str,
                risk: i32,
            }
            let extra: Vec<Extra> = rows
                .iter()
                .map(|r| Extra {
                    tags: serde_json::json!(r.finding.tags),
                    severity: i16::from(r.finding.severity.score()),
                    cwe: r.finding.cwe.map(i64::from),
                    port: r.finding.port.map(i32::from),
                    status: r.finding.status.as_str(),
                    risk: i32::from(r.risk),
                })
                .collect();
            copy_rows(
                tx,
                "findings",
                [
                    ("id", Type::INT8),
                    ("connector_id", Type::INT8),
                    ("external_id", Type::TEXT),
                    ("asset_external_id", Type::TEXT),
                    ("name", Type::TEXT),
                    ("severity", Type::INT2),
                    ("source_severity", Type::TEXT),
                    ("status", Type::TEXT),
                    ("source_status", Type::TEXT),
                    ("cve", Type::TEXT),
                    ("cvss", Type::FLOAT8),
                    ("cwe", Type::INT8),
                    ("first_found", Type::TIMESTAMPTZ),
                    ("last_found", Type::TIMESTAMPTZ),
                    ("last_updated", Type::TIMESTAMPTZ),
                    ("port", Type::INT4),
                    ("protocol", Type::TEXT),
                    ("issue_type", Type::TEXT),
                    ("location", Type::TEXT),
                    ("element", Type::TEXT),
                    ("detection", Type::TEXT),
                    ("description", Type::TEXT),
                    ("solution", Type::TEXT),
                    ("tags", Type::JSONB),
                    ("fingerprint", Type::TEXT),
                    ("raw", Type::BYTEA),
                    ("content_hash", Type::TEXT),
                    ("active", Type::BOOL),
                    ("first_seen", Type::TIMESTAMPTZ),
                    ("last_seen", Type::TIMESTAMPTZ),
                    ("last_run_id", Type::INT8),
                    ("risk", Type::INT4),
                ],
                rows.iter().enumerate().map(|(n, r)| {
                    let f = &r.finding;
                    let x = &extra[n];
                    [
                        &r.id as &(dyn ToSql + Sync),
                        &r.connector_id,
                        &f.external_id,
                        &f.asset_external_id,
                        &f.name,
                        &x.severity,
                        &f.source_severity,
                        &x.status,
                        &f.source_status,
                        &f.cve,
                        &f.cvss,
                        &x.cwe,
                        &f.first_found,
                        &f.last_found,
                        &f.last_updated,
                        &x.port,
                        &f.protocol,
                        &f.issue_type,
                        &f.location,
                        &f.element,
                        &f.detection,
                        &f.description,
                        &f.solution,
                        &x.tags,
                        &r.fingerprint,
                        &r.raw,
                        &r.content_hash,
                        &r.active,
                        &r.first_seen,
                        &r.last_seen,
                        &r.last_run_id,
                        &x.risk,
                    ]
                }),
            )?;
        }
        Rows::History(rows) => {
            let olds: Vec<Option<&str>> = rows
                .iter()
                .map(|r| r.entry.old_status.map(|s| s.as_str()))
                .collect();
            let news: Vec<&str> = rows.iter().map(|r| r.entry.new_status.as_str()).collect();
            copy_rows(
                tx,
                "finding_history",
                [
                    ("id", Type::INT8),
                    ("finding_id", Type::INT8),
                    ("run_id", Type::INT8),
                    ("at", Type::TIMESTAMPTZ),
                    ("old_status", Type::TEXT),
                    ("new_status", Type::TEXT),
                ],
                rows.iter().enumerate().map(|(n, r)| {
                    [
                        &r.id as &(dyn ToSql + Sync),
                        &r.finding_id,
                        &r.entry.run_id,
                        &r.entry.at,
                        &olds[n],
                        &news[n],
                    ]
                }),
            )?;
        }
        Rows::Kev(rows) => {
            for k in rows {
                tx.execute(
                    "INSERT INTO kev(cve, added, name, imported_at) VALUES ($1, $2, $3, $4)",
                    &[&k.cve, &k.added, &k.name, &k.imported_at],
                )?;
            }
        }
        Rows::ApiTokens(rows) => {
            for t in rows {
                let k = &t.token;
                tx.execute(
                    "INSERT INTO api_tokens(id, name, hash, hint, created_at, last_used_at, revoked_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[&k.id, &k.name, &t.hash, &k.hint, &k.created_at, &k.last_used_at, &k.revoked_at],
                )?;
            }
        }
    }
    Ok(())
}
