//! Property tests for `OpenRisks`, the running form of an asset's score: after any
//! sequence of batches of findings opening, closing and being rescored, applied as a
//! store applies them (a batch's additions, then its removals, reading the asset's
//! findings again whenever `remove` says the top is unknown), it scores the asset exactly
//! as `asset_risk` over the asset's open findings does.

use model::risk::{MAX, OpenRisks, asset_risk};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A finding's state: `Some(risk)` while open. Few distinct risks, so ties at the top
/// are common; some above `MAX`, which both clamp.
fn state() -> impl Strategy<Value = Option<u16>> {
    prop_oneof![
        1 => Just(None),
        4 => (0u16..5).prop_map(Some),
        1 => prop::sample::select(vec![MAX, MAX + 200]).prop_map(Some),
    ]
}

/// A batch: new states for some of the asset's 12 findings (each at most once).
fn batch() -> impl Strategy<Value = BTreeMap<usize, Option<u16>>> {
    prop::collection::btree_map(0usize..12, state(), 0..6)
}

fn open(findings: &[Option<u16>]) -> impl Iterator<Item = u16> + '_ {
    findings.iter().flatten().copied()
}

proptest! {
    #[test]
    fn running_totals_score_like_all_open_findings(
        batches in prop::collection::vec(batch(), 1..20),
    ) {
        let mut findings: Vec<Option<u16>> = vec![None; 12];
        let mut kept = OpenRisks::default();
        for changes in batches {
            let mut known = true;
            for r in changes.values().flatten() {
                kept.add(*r);
            }
            for &k in changes.keys() {
                if let Some(r) = findings[k] {
                    known &= kept.remove(r);
                }
            }
            for (&k, new) in &changes {
                findings[k] = *new;
            }
            if !known {
                kept = OpenRisks::of(open(&findings));
            }
            prop_assert_eq!(kept.score(), asset_risk(open(&findings)));
            let all = OpenRisks::of(open(&findings));
            prop_assert_eq!((kept.sum, kept.top), (all.sum, all.top));
            if all.top > 0 {
                prop_assert_eq!(kept.top_count, all.top_count);
            }
        }
    }
}

#[test]
fn the_top_is_unknown_only_when_its_last_finding_goes() {
    let mut a = OpenRisks::of([700, 700, 300]);
    assert!(a.remove(700));
    assert_eq!((a.top, a.top_count, a.sum), (700, 1, 1000));
    assert!(!a.remove(700), "300 remains, below a top no one holds");
    let mut b = OpenRisks::of([700]);
    assert!(b.remove(700));
    assert_eq!(b, OpenRisks::default());
    let mut c = OpenRisks::of([700, 300]);
    assert!(!c.remove(900), "never added");
}
