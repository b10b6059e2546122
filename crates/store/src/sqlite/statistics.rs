//! Planner statistics: a full `ANALYZE` once the findings table is large and its size has
//! changed twofold since the statistics were taken (or it has none).
//!
//! Without statistics SQLite takes every index to be equally selective. With the index on
//! (connector, severity) it read one application's severe findings by walking every
//! severe finding of the application's connector (0.2 s at a million findings) instead
//! of the application's thousand through `findings_by_asset` (under a millisecond); a
//! status filter walked the wrong index too (0.4 s -> 1 ms). A full `ANALYZE` reads each
//! index once: 0.8 s at a million findings. It runs when a run ends, right after a first
//! load has built the indexes, so their pages are still cached; not when a store opens:
//! `ANALYZE` writes, and a listing must open a store while another process syncs into
//! it (a store from before the statistics gets them at its next run's end). A sampled
//! analysis (`analysis_limit`) is not enough: it sees only the first rows of each index,
//! all of one connector and one severity, and made the default listing slower (0.01 ->
//! 1.2 s at 1M).

use crate::Result;
use rusqlite::{Connection, OptionalExtension};

/// Below this many findings every plan is fast enough; tests of small stores see the
/// planner without statistics, the case of a store before its first large run.
const MIN_ROWS: i64 = 10_000;

/// Runs `ANALYZE` when the findings table needs (new) statistics. Other connections keep
/// the statistics they loaded until they notice ([`Seen::follow`]).
pub fn refresh(conn: &Connection) -> Result<()> {
    // The highest id stands for the size: exact after inserts, high after deletes,
    // and read from the end of the table instead of counting a million rows.
    let rows: i64 = conn.query_row("SELECT COALESCE(MAX(id), 0) FROM findings", [], |r| {
        r.get(0)
    })?;
    if rows < MIN_ROWS {
        return Ok(());
    }
    let analyzed = analyzed_rows(conn)?;
    let stale = analyzed.is_none_or(|n| rows >= n.saturating_mul(2) || rows.saturating_mul(2) <= n);
    if stale {
        conn.execute_batch("ANALYZE")?;
    }
    Ok(())
}

/// What a reading connection last saw of the database and of its statistics.
#[derive(Debug, Default)]
pub struct Seen {
    data_version: i64,
    stat: Option<String>,
}

impl Seen {
    /// Loads the statistics another connection — this process's writer, or another
    /// process's — took since `conn` last looked. A connection reads statistics with the
    /// schema, and `ANALYZE` does not change the schema, so without this a `serve` that
    /// only reads would plan with the statistics it opened with. Costs a pragma when
    /// nothing was committed meanwhile, and one indexed read when something was.
    pub fn follow(&mut self, conn: &Connection) -> Result<()> {
        let version: i64 = conn.pragma_query_value(None, "data_version", |r| r.get(0))?;
        if version == self.data_version {
            return Ok(());
        }
        let stat = taken(conn)?;
        if stat != self.stat {
            conn.execute_batch("ANALYZE sqlite_schema")?;
        }
        *self = Seen {
            data_version: version,
            stat,
        };
        Ok(())
    }
}

/// How many findings the statistics were taken over, if there are any.
fn analyzed_rows(conn: &Connection) -> Result<Option<i64>> {
    Ok(taken(conn)?.and_then(|s| s.split_whitespace().next()?.parse().ok()))
}

/// The statistics of the findings' severity index (`rows rows-per-severity`), which
/// every `ANALYZE` of a large store rewrites.
fn taken(conn: &Connection) -> Result<Option<String>> {
    let has_table: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if has_table.is_none() {
        return Ok(None);
    }
    let stat: Option<String> = conn
        .query_row(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'findings' AND idx = 'findings_by_severity'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(stat)
}
