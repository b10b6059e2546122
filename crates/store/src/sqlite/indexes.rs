//! Bulk loading: the first sync into an empty store writes its findings without their
//! indexes and builds them once at the run's end.
//!
//! Every finding a sync writes updates each index of `findings`; most are keyed on values
//! in no particular order (the source's random GUIDs, fingerprints, dates), so at a
//! million findings each batch dirties thousands of index pages scattered over the file,
//! and the write-ahead log carries every one of them. Sorting the finished table into an
//! index is several times cheaper than maintaining it row by row, but only pays when the
//! table starts empty: otherwise the rebuild would cost as much as the rows already
//! there. The application index (closing and risk read it while the run ends) and the
//! history's per-finding index (written in id order anyway) are never dropped.
//!
//! Without the unique external-id index a writer cannot look a finding up, so a bulk
//! load remembers the ids it wrote ([`LoadedIds`]): a new id is inserted at once, and the
//! first id seen twice builds the index from what is there and ends the bulk load for the
//! rest of the run. A run that starts while another's bulk load is under way builds the
//! indexes before it writes (see `SqliteStore::begin_run`).
//!
//! [`ensure`] runs at every run's end and when the store opens, so a run that crashed
//! mid-load leaves a store whose indexes come back on the next start.

use crate::Result;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// An index dropped for a bulk load, as the migrations create it
/// (`migrations_and_this_list_agree` checks).
pub struct Deferrable {
    pub name: &'static str,
    pub unique: bool,
    /// Table and columns: `findings(status)`.
    pub on: &'static str,
}

impl Deferrable {
    fn create_sql(&self) -> String {
        let unique = if self.unique { "UNIQUE " } else { "" };
        format!(
            "CREATE {unique}INDEX IF NOT EXISTS {} ON {}",
            self.name, self.on
        )
    }
}

const fn index(name: &'static str, on: &'static str) -> Deferrable {
    Deferrable {
        name,
        unique: false,
        on,
    }
}

/// The unique (connector, external id) key of findings.
pub const EXTERNAL_ID: Deferrable = Deferrable {
    name: "findings_by_external_id",
    unique: true,
    on: "findings(connector_id, external_id)",
};

/// The indexes dropped for a bulk load.
pub const DEFERRABLE: &[Deferrable] = &[
    EXTERNAL_ID,
    index("findings_by_severity", "findings(severity DESC)"),
    index(
        "findings_by_connector_severity",
        "findings(connector_id, severity DESC)",
    ),
    index("findings_by_status", "findings(status)"),
    index("findings_by_fingerprint", "findings(fingerprint)"),
    index("findings_by_cwe", "findings(cwe)"),
    index("findings_by_last_found", "findings(last_found)"),
    index("findings_by_risk", "findings(risk)"),
    index("findings_by_cve", "findings(cve COLLATE NOCASE)"),
    index("findings_by_cvss", "findings(cvss)"),
    index("findings_by_name", "findings(name COLLATE NOCASE)"),
    index(
        "findings_by_issue_type",
        "findings(issue_type COLLATE NOCASE)",
    ),
    index("finding_history_by_run", "finding_history(run_id)"),
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
    for d in DEFERRABLE {
        tx.execute_batch(&format!("DROP INDEX IF EXISTS {}", d.name))?;
    }
    tx.commit()?;
    Ok(true)
}

/// The external ids a bulk load has written, as 64-bit hashes (8 bytes an id, not the
/// id itself: a million findings cost ~16 MiB). Two ids of the same hash are taken for a
/// repeat, which only ends the bulk load early.
#[derive(Default)]
pub struct LoadedIds(HashSet<u64>);

impl LoadedIds {
    /// Records `external_id`; false when it (or an id of the same hash) was seen before.
    pub fn first_sight(&mut self, external_id: &str) -> bool {
        let mut h = DefaultHasher::new();
        external_id.hash(&mut h);
        self.0.insert(h.finish())
    }
}

/// Builds the unique external-id index inside the caller's transaction (a bulk load
/// that met an id twice needs it from then on).
pub fn build_external_id(conn: &Connection) -> Result<()> {
    conn.execute_batch(&EXTERNAL_ID.create_sql())?;
    Ok(())
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
    // The sorter may also hand sorting to helper threads: an index build is the one
    // time the store's writer has a core's worth of CPU work to share. With runs of
    // BUILD_CACHE_KIB each thread adds ~2 MiB, so imports (which favour low memory) use
    // them too: a 1 GB report's import peaked at the same 89 MiB with and without.
    let cache: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -BUILD_CACHE_KIB)?;
    conn.pragma_update(None, "threads", BUILD_THREADS)?;
    let built = build(conn, &missing);
    conn.pragma_update(None, "threads", 0)?;
    conn.pragma_update(None, "cache_size", cache)?;
    built
}

/// Creates `indexes` in one transaction (rolled back if one fails).
fn build(conn: &Connection, indexes: &[&Deferrable]) -> Result<()> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    for d in indexes {
        tx.execute_batch(&d.create_sql())?;
    }
    tx.commit()?;
    Ok(())
}

/// Helper threads of SQLite's sorter while indexes are built.
const BUILD_THREADS: i64 = 2;

/// Page cache (and so sorter memory) while indexes are built. The sorter sorts runs of
/// this size in memory and merges them from disk: small runs stay in the CPU's caches.
/// The twelve indexes of a million findings built in 7.2 s with 2 MiB (13 MiB peak)
/// against 9.1 s with 16 MiB (71 MiB peak), and 9.3 against 10.7 s with one thread.
const BUILD_CACHE_KIB: i64 = 2 * 1024;

fn missing(conn: &Connection) -> Result<Vec<&'static Deferrable>> {
    let mut st =
        conn.prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1")?;
    let mut out = Vec::new();
    for d in DEFERRABLE {
        if st.query_row([d.name], |_| Ok(())).optional()?.is_none() {
            out.push(d);
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
        for d in DEFERRABLE {
            let sql = &migrated
                .iter()
                .find(|(n, _)| n == d.name)
                .unwrap_or_else(|| panic!("{} is not created by the migrations", d.name))
                .1;
            assert_eq!(normalized(sql), normalized(&d.create_sql()), "{}", d.name);
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
