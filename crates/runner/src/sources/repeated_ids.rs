//! Issue ids a report lists more than once. Within a connector a finding is its issue
//! id, so the writer keeps the last item listed under an id; a report that repeats one
//! lost the first item without a word (its history showed NEW -> CLOSED in one run when
//! the second said Fixed). Each repeated id is now warned about once, naming it.
//!
//! Only a 64-bit hash of each id is kept: about 18 MiB at a million issues, where the ids
//! themselves would take several times that (two ids that share a hash, one chance in
//! some 10^7 at a million, would be one false warning).

use foldhash::fast::FixedState;
use std::collections::HashSet;
use std::hash::BuildHasher;

/// The ids met so far in one report, and those already warned about.
#[derive(Debug, Default)]
pub struct RepeatedIds {
    seen: HashSet<u64, FixedState>,
    warned: HashSet<u64, FixedState>,
}

impl RepeatedIds {
    /// The warning for `id` when it was met before, the first time it is met again.
    pub fn check(&mut self, id: &str) -> Option<String> {
        let h = FixedState::with_seed(0).hash_one(id);
        if self.seen.insert(h) || !self.warned.insert(h) {
            return None;
        }
        Some(format!(
            "issue id \"{id}\" is listed more than once in the report: one finding per id, \
             the last item listed with it is kept"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_id_is_warned_about_once() {
        let mut ids = RepeatedIds::default();
        assert_eq!(ids.check("a"), None);
        assert_eq!(ids.check("b"), None);
        let w = ids.check("a").expect("repeated");
        assert!(w.contains("\"a\"") && w.contains("last item"), "{w}");
        assert_eq!(ids.check("a"), None, "once per id");
        assert!(ids.check("b").is_some());
    }
}
