//! A lookup table kept in a private temporary SQLite database: what a site-sized group
//! table (`url-group`, `entity-group`) becomes once it outgrows its memory budget.
//!
//! SQLite deletes the database file when the connection closes; only a small page
//! cache stays in memory, the rest lives in the file (and the OS page cache, which the
//! kernel can reclaim). Records are stored as their fields joined by NUL, as in
//! [`CompactTable`](crate::compact_table::CompactTable). The inserts of pass 1 run in
//! one transaction, committed by [`DiskTable::finish`].

use crate::compact_table::split_fields;
use rusqlite::{Connection, OptionalExtension, params};

/// SQLite's page cache for one table, in KiB.
const CACHE_KIB: i64 = 2 * 1024;

/// Records of `fields` optional strings on disk, keyed by a string; the first insert of
/// a key wins.
pub(crate) struct DiskTable {
    conn: Connection,
    fields: usize,
    open_transaction: bool,
}

impl std::fmt::Debug for DiskTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskTable")
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl DiskTable {
    /// An empty table in a new temporary file (in `$SQLITE_TMPDIR`, `$TMPDIR` or `/tmp`).
    pub fn new(fields: usize) -> rusqlite::Result<DiskTable> {
        // An empty file name is SQLite's private temporary on-disk database.
        let conn = Connection::open("")?;
        conn.pragma_update(None, "journal_mode", "OFF")?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.execute_batch(
            "CREATE TABLE records(key TEXT PRIMARY KEY NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
             BEGIN;",
        )?;
        Ok(DiskTable {
            conn,
            fields,
            open_transaction: true,
        })
    }

    /// Adds a record; `false` (and nothing stored) when the key is already present.
    pub fn insert(&mut self, key: &str, values: &[Option<&str>]) -> rusqlite::Result<bool> {
        debug_assert_eq!(values.len(), self.fields);
        let record = join(values);
        let added = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO records(key, record) VALUES (?1, ?2)")?
            .execute(params![key, record])?;
        Ok(added == 1)
    }

    /// Ends the inserts (commits them).
    pub fn finish(&mut self) -> rusqlite::Result<()> {
        if self.open_transaction {
            self.conn.execute_batch("COMMIT")?;
            self.open_transaction = false;
        }
        Ok(())
    }

    /// The record's fields, `None` for an absent key.
    pub fn get(&self, key: &str) -> rusqlite::Result<Option<Vec<Option<String>>>> {
        let record: Option<String> = self
            .conn
            .prepare_cached("SELECT record FROM records WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        Ok(record.map(|r| split(&r, self.fields)))
    }
}

/// The fields joined by NUL (XML text cannot contain it; stripped from other callers).
fn join(values: &[Option<&str>]) -> String {
    let mut record = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            record.push('\0');
        }
        record.extend(v.unwrap_or_default().chars().filter(|&c| c != '\0'));
    }
    record
}

/// The `fields` fields of a joined record; empty ones are `None`.
fn split(record: &str, fields: usize) -> Vec<Option<String>> {
    split_fields(record, fields)
        .into_iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_finds_records_first_insert_wins() {
        let mut t = DiskTable::new(3).expect("temporary database");
        assert!(
            t.insert("e1", &[Some("q"), Some("https://x/"), Some("Parameter")])
                .expect("insert")
        );
        assert!(
            t.insert("e2", &[None, Some(""), Some("Pa\0ge")])
                .expect("insert")
        );
        assert!(
            !t.insert("e1", &[Some("other"), None, None])
                .expect("insert")
        );
        t.finish().expect("commit");
        assert_eq!(
            t.get("e1").expect("get"),
            Some(vec![
                Some("q".into()),
                Some("https://x/".into()),
                Some("Parameter".into())
            ])
        );
        assert_eq!(
            t.get("e2").expect("get"),
            Some(vec![None, None, Some("Page".into())])
        );
        assert_eq!(t.get("e3").expect("get"), None);
    }
}
