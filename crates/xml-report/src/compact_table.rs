//! A compact string table for the group sections that grow with the scanned site rather
//! than with the number of issue types (`url-group`, `entity-group`).
//!
//! A `HashMap<String, Entry>` costs several allocations and ~250 bytes of overhead per
//! entry; a report of a large site has hundreds of thousands of URLs and entities. Here
//! every record lives in one string arena (`key\0field\0field\0`: XML text cannot
//! contain NUL, so it is a safe separator), found through a map from the key's 64-bit
//! hash to the record's index — about 30 bytes per entry on top of the text itself.
//! A hash collision between two different keys (vanishingly rare) goes to a small
//! ordinary map, so lookups are always exact.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Records of `fields` optional strings, keyed by a string; the first insert of a key
/// wins.
#[derive(Debug)]
pub(crate) struct CompactTable {
    fields: usize,
    arena: String,
    starts: Vec<usize>,
    index: HashMap<u64, u32>,
    overflow: HashMap<String, u32>,
}

impl CompactTable {
    pub fn new(fields: usize) -> CompactTable {
        CompactTable {
            fields,
            arena: String::new(),
            starts: Vec::new(),
            index: HashMap::new(),
            overflow: HashMap::new(),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.starts.len()
    }

    /// Adds a record; `false` (and nothing stored) when the key is already present.
    /// Missing and empty values are stored alike, as `None`.
    pub fn insert(&mut self, key: &str, values: &[Option<&str>]) -> bool {
        debug_assert_eq!(values.len(), self.fields);
        let h = hash(key);
        let slot = match self.index.get(&h) {
            None => Slot::Index,
            Some(&i) if self.key_at(i) == key => return false,
            Some(_) if self.overflow.contains_key(key) => return false,
            Some(_) => Slot::Overflow,
        };
        let i = self.starts.len() as u32;
        self.starts.push(self.arena.len());
        for s in std::iter::once(key).chain(values.iter().map(|v| v.unwrap_or_default())) {
            // NUL cannot occur in XML text; strip it defensively from other callers.
            if s.contains('\0') {
                self.arena.push_str(&s.replace('\0', ""));
            } else {
                self.arena.push_str(s);
            }
            self.arena.push('\0');
        }
        match slot {
            Slot::Index => {
                self.index.insert(h, i);
            }
            Slot::Overflow => {
                self.overflow.insert(key.to_string(), i);
            }
        }
        true
    }

    /// The record's fields, `None` for an absent key.
    pub fn get(&self, key: &str) -> Option<Vec<Option<&str>>> {
        let i = match self.index.get(&hash(key)) {
            Some(&i) if self.key_at(i) == key => i,
            _ => *self.overflow.get(key)?,
        };
        Some(self.entry(i).1)
    }

    /// Bytes the table holds on the heap (capacities: what it costs, not what it uses).
    pub fn memory_bytes(&self) -> usize {
        // A hashbrown slot of (u64, u32) is 16 bytes plus a control byte.
        self.arena.capacity()
            + self.starts.capacity() * std::mem::size_of::<usize>()
            + (self.index.capacity() + self.overflow.capacity()) * 17
    }

    /// Every record as its key and fields, in insertion order.
    pub fn records(&self) -> impl Iterator<Item = (&str, Vec<Option<&str>>)> + '_ {
        (0..self.starts.len() as u32).map(|i| self.entry(i))
    }

    /// Record `i` as its key and fields.
    fn entry(&self, i: u32) -> (&str, Vec<Option<&str>>) {
        let (key, fields) = self.record(i).split_once('\0').unwrap_or_default();
        (key, split_fields(fields, self.fields))
    }

    /// Releases spare capacity once the table is complete.
    pub fn shrink(&mut self) {
        self.arena.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.index.shrink_to_fit();
    }

    fn record(&self, i: u32) -> &str {
        let start = self.starts[i as usize];
        let end = self
            .starts
            .get(i as usize + 1)
            .copied()
            .unwrap_or(self.arena.len());
        &self.arena[start..end]
    }

    fn key_at(&self, i: u32) -> &str {
        let r = self.record(i);
        &r[..r.find('\0').unwrap_or(r.len())]
    }
}

/// The first `n` fields of NUL-joined text; empty and missing ones are `None`.
pub(crate) fn split_fields(joined: &str, n: usize) -> Vec<Option<&str>> {
    let mut parts = joined.split('\0');
    (0..n)
        .map(|_| parts.next().filter(|s| !s.is_empty()))
        .collect()
}

enum Slot {
    Index,
    Overflow,
}

fn hash(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_finds_records() {
        let mut t = CompactTable::new(3);
        assert!(t.insert(
            "e1",
            &[Some("query"), Some("https://x/"), Some("Parameter")]
        ));
        assert!(t.insert("e2", &[None, Some(""), Some("Page")]));
        assert!(
            !t.insert("e1", &[Some("other"), None, None]),
            "first insert wins"
        );
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.get("e1"),
            Some(vec![Some("query"), Some("https://x/"), Some("Parameter")])
        );
        assert_eq!(t.get("e2"), Some(vec![None, None, Some("Page")]));
        assert_eq!(t.get("e3"), None);
    }

    #[test]
    fn colliding_hashes_stay_exact() {
        // Force the overflow path by planting a different key under a key's hash.
        let mut t = CompactTable::new(1);
        t.insert("a", &[Some("1")]);
        let h = hash("b");
        t.index.insert(h, 0); // "b" now hashes to the record of "a"
        assert!(t.insert("b", &[Some("2")]));
        assert_eq!(t.get("b"), Some(vec![Some("2")]));
        assert_eq!(t.get("a"), Some(vec![Some("1")]));
        assert!(!t.insert("b", &[Some("3")]));
    }

    #[test]
    fn lists_its_records_and_counts_its_memory() {
        let mut t = CompactTable::new(2);
        let empty = t.memory_bytes();
        t.insert("k1", &[Some("a"), None]);
        t.insert("k2", &[None, Some("b")]);
        assert!(t.memory_bytes() > empty);
        let all: Vec<_> = t.records().collect();
        assert_eq!(
            all,
            vec![("k1", vec![Some("a"), None]), ("k2", vec![None, Some("b")])]
        );
    }

    #[test]
    fn many_entries() {
        let mut t = CompactTable::new(1);
        for n in 0..10_000 {
            t.insert(&n.to_string(), &[Some(&format!("https://site/{n}"))]);
        }
        t.shrink();
        assert_eq!(t.get("9999"), Some(vec![Some("https://site/9999")]));
        assert_eq!(t.get("10000"), None);
    }
}
