//! How writing findings moves their assets' open-risk totals, for both backends.
//!
//! An asset's risk comes from all of its open findings ([`model::risk`]). Each asset keeps
//! what its score needs ([`OpenRisks`], columns `open_risk_*`, NULL while not known) so
//! that a store does not read all of an asset's findings again for every write: it
//! collects what its findings brought and took away ([`Moves`]) and applies that to the
//! kept totals ([`Moves::apply`]). The findings are read only for an asset whose totals
//! are not known (a new asset, one of an earlier version or one copied in by `migrate`)
//! or whose top finding went.

use model::risk::OpenRisks;
use std::collections::BTreeMap;

/// A finding's place in its asset's score: the asset and, while open, its risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub asset: &'a str,
    pub open_risk: Option<u16>,
}

/// Per asset, the risks its findings brought (opened, or rescored to) and those they took
/// away (closed, rescored from, moved to another asset).
#[derive(Debug, Default)]
pub struct Moves {
    per_asset: BTreeMap<String, (Vec<u16>, Vec<u16>)>,
}

/// An asset's totals after its moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Totals {
    /// Nothing moved: the kept totals (and risk) stand.
    Same,
    /// The new totals.
    Known(OpenRisks),
    /// Not known: read the asset's findings.
    Unknown,
}

impl Moves {
    /// One finding written, from where it was (`None`: new) to where it is.
    pub fn finding(&mut self, was: Option<Place<'_>>, now: Place<'_>) {
        if was == Some(now) {
            return;
        }
        if let Some(r) = now.open_risk {
            self.note(now.asset, r, true);
        }
        if let Some(Place {
            asset,
            open_risk: Some(r),
        }) = was
        {
            self.note(asset, r, false);
        }
    }

    /// One finding of `asset` closed; `open_risk` is its risk while it was open (`None`: it
    /// was not open, and counted for nothing).
    pub fn closed(&mut self, asset: &str, open_risk: Option<u16>) {
        let now = Place {
            asset,
            open_risk: None,
        };
        self.finding(Some(Place { asset, open_risk }), now);
    }

    /// Notes `risk` as brought to `asset` (`added`) or taken from it. A first load notes
    /// every finding, so a known asset costs no allocation.
    fn note(&mut self, asset: &str, risk: u16, added: bool) {
        let lists = match self.per_asset.get_mut(asset) {
            Some(lists) => lists,
            None => self.per_asset.entry(asset.to_string()).or_default(),
        };
        match added {
            true => lists.0.push(risk),
            false => lists.1.push(risk),
        }
    }

    /// The assets something moved in or out of.
    pub fn assets(&self) -> impl Iterator<Item = &str> {
        self.per_asset.keys().map(String::as_str)
    }

    /// `asset`'s totals after the moves, from those it kept (`None`: not known). The
    /// additions go first, so a finding rescored at the top stays known.
    pub fn apply(&self, asset: &str, kept: Option<OpenRisks>) -> Totals {
        let Some(mut open) = kept else {
            return Totals::Unknown;
        };
        let Some((added, taken)) = self.per_asset.get(asset) else {
            return Totals::Same;
        };
        added.iter().for_each(|&risk| open.add(risk));
        match taken.iter().all(|&risk| open.remove(risk)) {
            true => Totals::Known(open),
            false => Totals::Unknown,
        }
    }
}

/// The totals as a row stores them (sum, top, how many share it), `None` while not known
/// or out of range.
pub fn stored(sum: Option<i64>, top: Option<i64>, top_count: Option<i64>) -> Option<OpenRisks> {
    Some(OpenRisks {
        sum: u64::try_from(sum?).ok()?,
        top: u16::try_from(top?).ok()?,
        top_count: u32::try_from(top_count?).ok()?,
    })
}

/// The totals as a row stores them: (sum, top, how many share it).
pub fn columns(open: &OpenRisks) -> (i64, i64, i64) {
    (
        i64::try_from(open.sum).unwrap_or(i64::MAX),
        i64::from(open.top),
        i64::from(open.top_count),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(asset: &str, open_risk: Option<u16>) -> Place<'_> {
        Place { asset, open_risk }
    }

    #[test]
    fn moves_apply_to_kept_totals() {
        let mut m = Moves::default();
        m.finding(None, place("a", Some(300)));
        m.finding(Some(place("a", Some(100))), place("a", None));
        m.finding(Some(place("b", Some(50))), place("a", Some(50)));
        m.finding(Some(place("c", Some(7))), place("c", Some(7)));
        let kept = OpenRisks::of([100, 200]);
        assert_eq!(
            m.apply("a", Some(kept)),
            Totals::Known(OpenRisks::of([200, 300, 50]))
        );
        assert_eq!(
            m.apply("b", Some(OpenRisks::of([50, 60]))),
            Totals::Known(OpenRisks::of([60]))
        );
        assert_eq!(m.apply("c", Some(kept)), Totals::Same, "nothing moved in c");
        assert_eq!(m.apply("a", None), Totals::Unknown);
        assert_eq!(m.assets().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_closed_finding_takes_its_risk_only_if_it_was_open() {
        let mut m = Moves::default();
        m.closed("a", Some(40));
        m.closed("b", None);
        assert_eq!(
            m.apply("a", Some(OpenRisks::of([40, 90]))),
            Totals::Known(OpenRisks::of([90]))
        );
        assert_eq!(m.apply("b", Some(OpenRisks::of([5]))), Totals::Same);
    }

    #[test]
    fn the_top_finding_going_leaves_the_totals_unknown() {
        let mut m = Moves::default();
        m.finding(Some(place("a", Some(900))), place("a", None));
        assert_eq!(
            m.apply("a", Some(OpenRisks::of([900, 10]))),
            Totals::Unknown
        );
    }
}
