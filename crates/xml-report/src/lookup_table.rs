//! The table a site-sized group section (`url-group`, `entity-group`) is read into:
//! compact and in memory while it is small, moved into a temporary file once it grows
//! past [`ReaderOptions::table_memory_bytes`](crate::ReaderOptions::table_memory_bytes),
//! so that the reader's memory stays flat whatever the size of the scanned site.

use crate::compact_table::CompactTable;
use crate::disk_table::DiskTable;
use crate::error::XmlError;

/// Records of `fields` optional strings keyed by a string; the first insert of a key
/// wins.
#[derive(Debug)]
pub(crate) struct LookupTable {
    /// The group section, for errors.
    section: &'static str,
    fields: usize,
    budget: usize,
    place: Place,
}

#[derive(Debug)]
enum Place {
    Memory(CompactTable),
    Disk(DiskTable),
}

impl LookupTable {
    pub fn new(section: &'static str, fields: usize, budget: usize) -> LookupTable {
        LookupTable {
            section,
            fields,
            budget,
            place: Place::Memory(CompactTable::new(fields)),
        }
    }

    /// Adds a record unless its key is already present.
    pub fn insert(&mut self, key: &str, values: &[Option<&str>]) -> Result<(), XmlError> {
        match &mut self.place {
            Place::Memory(t) => {
                t.insert(key, values);
                if t.memory_bytes() > self.budget {
                    self.move_to_disk()?;
                }
            }
            Place::Disk(t) => {
                t.insert(key, values).map_err(|e| self.error(e))?;
            }
        }
        Ok(())
    }

    /// Ends pass 1: releases spare memory, or commits the file's inserts.
    pub fn finish(&mut self) -> Result<(), XmlError> {
        match &mut self.place {
            Place::Memory(t) => {
                t.shrink();
                Ok(())
            }
            Place::Disk(t) => t.finish().map_err(|e| self.error(e)),
        }
    }

    /// The record's fields, `None` for an absent key.
    pub fn get(&self, key: &str) -> Result<Option<Vec<Option<String>>>, XmlError> {
        match &self.place {
            Place::Memory(t) => Ok(t
                .get(key)
                .map(|r| r.into_iter().map(|v| v.map(str::to_string)).collect())),
            Place::Disk(t) => t.get(key).map_err(|e| self.error(e)),
        }
    }

    /// Whether the table lives in a temporary file.
    #[cfg(test)]
    pub fn on_disk(&self) -> bool {
        matches!(self.place, Place::Disk(_))
    }

    fn move_to_disk(&mut self) -> Result<(), XmlError> {
        let Place::Memory(memory) = &self.place else {
            return Ok(());
        };
        let mut disk = DiskTable::new(self.fields).map_err(|e| self.error(e))?;
        for (key, values) in memory.records() {
            disk.insert(key, &values).map_err(|e| self.error(e))?;
        }
        self.place = Place::Disk(disk);
        Ok(())
    }

    fn error(&self, e: rusqlite::Error) -> XmlError {
        XmlError::TableFile {
            section: self.section.to_string(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(v: &[Option<&str>]) -> Option<Vec<Option<String>>> {
        Some(v.iter().map(|s| s.map(str::to_string)).collect())
    }

    #[test]
    fn moves_to_a_file_past_its_budget_and_keeps_every_record() {
        let mut t = LookupTable::new("entity-group", 2, 4096);
        t.insert("first", &[Some("kept"), None]).expect("insert");
        assert!(!t.on_disk(), "a small table stays in memory");
        for n in 0..2_000 {
            t.insert(
                &format!("e{n}"),
                &[Some(&format!("param{n}")), Some("https://site/")],
            )
            .expect("insert");
        }
        assert!(t.on_disk(), "past its budget the table moved to a file");
        t.insert("first", &[Some("replaced"), None])
            .expect("insert");
        t.finish().expect("finish");
        assert_eq!(t.get("first").expect("get"), owned(&[Some("kept"), None]));
        assert_eq!(
            t.get("e1999").expect("get"),
            owned(&[Some("param1999"), Some("https://site/")])
        );
        assert_eq!(t.get("e2000").expect("get"), None);
    }

    #[test]
    fn a_table_within_its_budget_stays_in_memory() {
        let mut t = LookupTable::new("url-group", 1, 1 << 20);
        t.insert("1", &[Some("https://site/a")]).expect("insert");
        t.finish().expect("finish");
        assert!(!t.on_disk());
        assert_eq!(t.get("1").expect("get"), owned(&[Some("https://site/a")]));
    }
}
