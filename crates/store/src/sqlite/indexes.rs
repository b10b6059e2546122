//! Bulk loading: the first sync into an empty store writes its findings without the
//! secondary indexes and builds them once at the run's end.
//!
//! Every finding a sync writes updates each index of `findings`; several are keyed on
//! values in no particular order (fingerprints, dates), so at a million findings each
//! batch dirties thousands of index pages scattered over the file, and the write-ahead
//! log carries every one of them. Sorting the finished table into an index is several
//! times cheaper than maintaining it row by row, but only pays when the table starts
//! empty: otherwise the rebuild would cost as much as the rows already there. The indexes
//! a run needs while it writes (the unique external id and the application index, which
//! upserts, closing and risk read) are never dropped.
//!
//! [`ensure`] runs at every run's end and when the store opens, so a run that crashed
//! mid-load leaves a store whose indexes come back on the next start.

use crate::Result;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

/// The indexes dropped for a bulk load: name and definition, as the migrations leave
/// them (`migrations_and_this_list_agree` checks).
pub const DEFERRABLE: &[(&str, &str)] = &[
    ("findings_by_severity", "findings(severity DESC)"),
    ("findings_by_status", "findings(status)"),
    ("findings_by_fingerprint", "findings(fingerprint)"),
    ("findings_by_cwe", "findings(cwe)"),
    ("findings_by_last_found", "findings(last_found)"),
    ("findings_by_risk", "findings(risk)"),
    ("findings_by_cve", "findings(cve COLLATE NOCASE)"),
    ("findings_by_cvss", "findings(cvss)"),
    ("findings_by_name", "findings(name COLLATE NOCASE)"),
    (
        "findings_by_issue_type",
        "findings(issue_type COLLATE NOCASE)",
    ),
    ("finding_history_by_run", "finding_history(run_id)"),
];

/// Drops the deferrable indexes when no finding is stored yet; returns whether it did.
pub fn begin_bulk_load(conn: &Connection) -> Result<bool> {
    let any: Option<i64> = conn
        .query_row("SELECT 1 FROM findings LIMIT 1", [], |r| r.get(0))
        .optional()?;
    if any.is_some() {
        return Ok(false);
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    for (name, _) in DEFERRABLE {
        tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
    }
    tx.commit()?;
    Ok(true)
}

/// Builds whichever deferrable index is missing (none, unless a bulk load ran).
pub fn ensure(conn: &Connection) -> Result<()> {
    let missing = missing(conn)?;
    if missing.is_empty() {
        return Ok(());
    }
    // SQLite's sorter may hold as much as the page cache; a small cache while building
    // keeps the run's peak memory where the writing left it (the pages the cache gives
    // up are reused by the sorter).
    let cache: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -BUILD_CACHE_KIB)?;
    let built = build(conn, &missing);
    conn.pragma_update(None, "cache_size", cache)?;
    built
}

/// Creates `indexes` in one transaction (rolled back if one fails).
fn build(conn: &Connection, indexes: &[(&str, &str)]) -> Result<()> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    for (name, def) in indexes {
        tx.execute_batch(&format!("CREATE INDEX IF NOT EXISTS {name} ON {def}"))?;
    }
    tx.commit()?;
    Ok(())
}

/// Page cache (and so sorter memory) while indexes are built.
const BUILD_CACHE_KIB: i64 = 16 * 1024;

fn missing(conn: &Connection) -> Result<Vec<(&'static str, &'static str)>> {
    let mut st =
        conn.prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1")?;
    let mut out = Vec::new();
    for &(name, def) in DEFERRABLE {
        if st.query_row([name], |_| Ok(())).optional()?.is_none() {
            out.push((name, def));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_sql(conn: &Connection) -> Vec<(String, String)> {
        let mut st = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn normalized(sql: &str) -> String {
        sql.replace("IF NOT EXISTS ", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn migrations_and_this_list_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let _store = super::super::SqliteStore::open(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        let migrated = index_sql(&conn);
        for (name, def) in DEFERRABLE {
            let sql = &migrated
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{name} is not created by the migrations"))
                .1;
            assert_eq!(
                normalized(sql),
                format!("CREATE INDEX {name} ON {def}"),
                "{name}"
            );
        }
        // Dropped and rebuilt, the schema is the migrated one again.
        assert!(begin_bulk_load(&conn).unwrap());
        assert_eq!(missing(&conn).unwrap().len(), DEFERRABLE.len());
        ensure(&conn).unwrap();
        let rebuilt: Vec<_> = index_sql(&conn)
            .into_iter()
            .map(|(n, s)| (n, normalized(&s)))
            .collect();
        let migrated: Vec<_> = migrated
            .into_iter()
            .map(|(n, s)| (n, normalized(&s)))
            .collect();
        assert_eq!(rebuilt, migrated);
    }
}
