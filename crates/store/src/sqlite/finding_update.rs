//! Updates of stored findings that name only the indexed columns whose values changed.
//!
//! SQLite rewrites a row's entry in every index over a column an UPDATE names, even when
//! the value stays the same. A finding has a dozen indexes, each at its own place in the
//! file, so a delta sync that named every column dirtied some thirty pages for each
//! changed finding, and the write-ahead log carried them all. Reading the indexed values
//! with the lookup that precedes every update costs nothing extra (the row is read
//! anyway); comparing them keeps an update of a status to the status indexes.

use super::risk::clamp_risk;
use super::time::ts;
use crate::Result;
use crate::open_risks::Place;
use model::{Finding, Status};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use std::sync::LazyLock;

/// The columns of `findings` some index holds, besides the (connector, external id)
/// key an update never changes.
const INDEXED: [&str; 11] = [
    "asset_external_id",
    "name",
    "severity",
    "status",
    "cve",
    "cvss",
    "cwe",
    "last_found",
    "issue_type",
    "fingerprint",
    "risk",
];

/// What is stored of a finding about to be written again.
pub struct Stored {
    pub id: i64,
    pub content_hash: String,
    pub status: String,
    pub active: bool,
    /// The run that last wrote it: the current run's id means this run wrote the id
    /// before (a record that repeats an earlier one's id).
    pub last_run_id: Option<i64>,
    /// The values of [`INDEXED`], in that order.
    indexed: Vec<Value>,
}

impl Stored {
    fn risk(&self) -> Option<&Value> {
        self.indexed.last()
    }

    /// The asset the stored finding belongs to.
    fn asset(&self) -> Option<&str> {
        match self.indexed.first() {
            Some(Value::Text(asset)) => Some(asset),
            _ => None,
        }
    }

    /// Its place in its asset's score: the asset and, while open, its risk.
    pub fn place(&self) -> Option<Place<'_>> {
        let open = self.status.parse::<Status>().is_ok_and(Status::is_open);
        let risk = match self.risk() {
            Some(Value::Integer(r)) => clamp_risk(*r),
            _ => 0,
        };
        Some(Place {
            asset: self.asset()?,
            open_risk: open.then_some(risk),
        })
    }
}

static SELECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT id, content_hash, status, active, last_run_id, {} FROM findings
         WHERE connector_id = ?1 AND external_id = ?2",
        INDEXED.join(", ")
    )
});

/// The stored finding of `connector_id` with `external_id`, if any.
pub fn stored(tx: &Connection, connector_id: i64, external_id: &str) -> Result<Option<Stored>> {
    Ok(tx
        .prepare_cached(&SELECT)?
        .query_row(params![connector_id, external_id], |r| {
            let indexed = (0..INDEXED.len())
                .map(|i| r.get::<_, Value>(5 + i))
                .collect::<rusqlite::Result<_>>()?;
            Ok(Stored {
                id: r.get(0)?,
                content_hash: r.get(1)?,
                status: r.get(2)?,
                active: r.get::<_, i64>(3)? == 1,
                last_run_id: r.get(4)?,
                indexed,
            })
        })
        .optional()?)
}

/// A finding seen again unchanged: when and by which run, and its score (which changes
/// with age; its indexes are touched only when it did).
pub fn touch(
    tx: &Connection,
    stored: &Stored,
    seen: Option<&str>,
    run_id: i64,
    risk: u16,
) -> Result<()> {
    if stored.risk() == Some(&Value::from(risk)) {
        tx.prepare_cached(
            "UPDATE findings SET last_seen = COALESCE(?2, last_seen), last_run_id = ?3 WHERE id = ?1",
        )?
        .execute(params![stored.id, seen, run_id])?;
    } else {
        tx.prepare_cached(
            "UPDATE findings SET last_seen = COALESCE(?2, last_seen), last_run_id = ?3, risk = ?4
             WHERE id = ?1",
        )?
        .execute(params![stored.id, seen, run_id, risk])?;
    }
    Ok(())
}

/// What an update writes besides the normalized finding.
pub struct Written<'a> {
    pub tags: String,
    pub fingerprint: &'a str,
    pub raw: &'a [u8],
    pub content_hash: &'a str,
    /// When the source last reported it: now for a run, `None` for a remap (which
    /// fetched nothing, so it keeps when the finding was seen and whether it was).
    pub seen: Option<&'a str>,
    pub run_id: i64,
    pub risk: u16,
}

/// Rewrites a stored finding: every column that no index holds, and the indexed ones
/// whose value changed.
pub fn update(tx: &Connection, stored: &Stored, f: &Finding, w: Written<'_>) -> Result<()> {
    let indexed: [Value; INDEXED.len()] = [
        f.asset_external_id.clone().into(),
        f.name.clone().into(),
        i64::from(f.severity.score()).into(),
        f.status.as_str().to_string().into(),
        f.cve.clone().into(),
        f.cvss.into(),
        f.cwe.into(),
        f.last_found.map(ts).into(),
        f.issue_type.clone().into(),
        w.fingerprint.to_string().into(),
        w.risk.into(),
    ];
    let mut columns: Vec<(&str, Value)> = vec![
        ("source_severity", f.source_severity.clone().into()),
        ("source_status", f.source_status.clone().into()),
        ("first_found", f.first_found.map(ts).into()),
        ("last_updated", f.last_updated.map(ts).into()),
        ("port", f.port.into()),
        ("protocol", f.protocol.clone().into()),
        ("location", f.location.clone().into()),
        ("element", f.element.clone().into()),
        ("detection", f.detection.clone().into()),
        ("description", f.description.clone().into()),
        ("solution", f.solution.clone().into()),
        ("tags", w.tags.into()),
        ("raw", w.raw.to_vec().into()),
        ("content_hash", w.content_hash.to_string().into()),
        ("last_run_id", w.run_id.into()),
    ];
    if let Some(seen) = w.seen {
        columns.extend([
            ("active", 1i64.into()),
            ("last_seen", seen.to_string().into()),
        ]);
    }
    columns.extend(
        INDEXED
            .iter()
            .zip(indexed)
            .zip(&stored.indexed)
            .filter(|((_, new), old)| new != *old)
            .map(|((name, new), _)| (*name, new)),
    );
    let set: Vec<String> = columns.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let sql = format!("UPDATE findings SET {} WHERE id = ?", set.join(", "));
    let values = columns
        .into_iter()
        .map(|(_, v)| v)
        .chain([Value::Integer(stored.id)]);
    tx.prepare_cached(&sql)?.execute(params_from_iter(values))?;
    Ok(())
}
