//! Normalized finding status.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a finding stands in its lifecycle, whatever the source called it.
///
/// `New`, `Active`, `Reopened` are open; `Fixed`, `Ignored`, `None` (noise) and `Closed`
/// (closed by a full run that no longer saw it) are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    New,
    Active,
    Reopened,
    Fixed,
    Ignored,
    None,
    Closed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::New,
        Status::Active,
        Status::Reopened,
        Status::Fixed,
        Status::Ignored,
        Status::None,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "NEW",
            Status::Active => "ACTIVE",
            Status::Reopened => "REOPENED",
            Status::Fixed => "FIXED",
            Status::Ignored => "IGNORED",
            Status::None => "NONE",
            Status::Closed => "CLOSED",
        }
    }

    /// Whether the weakness is still there to be dealt with.
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::Active | Status::Reopened)
    }

    /// The status a stored finding takes when its source reports it `reported`: one
    /// that was fixed or closed (or already reopened) and is reported open — NEW or
    /// ACTIVE, whichever word the connector's map gives the source's plain open — is
    /// REOPENED. Full-run sources (ASE, XML reports) know only open and closed, so a
    /// weakness that came back would otherwise look like a first sighting (or, under a
    /// map that calls open ACTIVE, like one long open); a source's own statuses are kept
    /// otherwise.
    pub fn reported_again(self, reported: Status) -> Status {
        match (self, reported) {
            (Status::Fixed | Status::Closed | Status::Reopened, r) if r.is_plain_open() => {
                Status::Reopened
            }
            _ => reported,
        }
    }

    /// An open status that does not say the finding came back: what a map calls a
    /// source's open, new or in-progress issue.
    fn is_plain_open(self) -> bool {
        matches!(self, Status::New | Status::Active)
    }

    /// The status a stored finding takes when `remap` maps its stored raw record to
    /// `mapped`: the map's word, except for what the runs found. A finding a full run
    /// closed because it was no longer seen (`closed_unseen`) stays CLOSED whatever its
    /// record (the source's last word, from before) maps to, as a fresh run with the map
    /// would close it; and one a run saw come back stays REOPENED (also under a map that
    /// calls open ACTIVE). A finding CLOSED by its own record's status (ASE's and XML
    /// reports' Closed: the scanner said Fixed, Noise or Passed) follows the new map like
    /// any other. A map's change is no sighting: a finding an earlier map called FIXED is
    /// NEW again under a map that calls it open, not REOPENED.
    pub fn remapped(self, mapped: Status, closed_unseen: bool) -> Status {
        match (self, mapped) {
            (Status::Closed, _) if closed_unseen => Status::Closed,
            (Status::Reopened, m) if m.is_plain_open() => Status::Reopened,
            _ => mapped,
        }
    }

    /// What a writer stores over `self`: a remap's status as given (the remap applied
    /// [`Status::remapped`], knowing the stored status), a run's as
    /// [`Status::reported_again`].
    pub fn written_over(self, incoming: Status, remap: bool) -> Status {
        if remap {
            incoming
        } else {
            self.reported_again(incoming)
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown normalized status '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn a_weakness_that_comes_back_is_reopened_not_new() {
        for stored in [Status::Fixed, Status::Closed, Status::Reopened] {
            assert_eq!(
                stored.reported_again(Status::New),
                Status::Reopened,
                "{stored}"
            );
        }
        for stored in [Status::New, Status::Active, Status::Ignored, Status::None] {
            assert_eq!(stored.reported_again(Status::New), Status::New, "{stored}");
        }
        assert_eq!(Status::Closed.reported_again(Status::Fixed), Status::Fixed);
        // Under a map that calls the source's open ACTIVE, a weakness that came back is
        // reopened too, and a reopened one stays so (it became ACTIVE, the regression
        // gone from `status:REOPENED`).
        for stored in [Status::Fixed, Status::Closed, Status::Reopened] {
            assert_eq!(
                stored.reported_again(Status::Active),
                Status::Reopened,
                "{stored}"
            );
        }
        assert_eq!(Status::New.reported_again(Status::Active), Status::Active);
        assert_eq!(
            Status::Ignored.reported_again(Status::Active),
            Status::Active
        );
    }

    #[test]
    fn a_remap_keeps_what_the_runs_closed() {
        for mapped in Status::ALL {
            assert_eq!(
                Status::Closed.remapped(mapped, true),
                Status::Closed,
                "closed unseen, {mapped}"
            );
        }
        assert_eq!(
            Status::Reopened.remapped(Status::New, false),
            Status::Reopened
        );
        assert_eq!(
            Status::Reopened.remapped(Status::Active, false),
            Status::Reopened
        );
        assert_eq!(
            Status::Reopened.remapped(Status::Fixed, false),
            Status::Fixed
        );
        assert_eq!(Status::New.remapped(Status::Active, false), Status::Active);
        // A map that called open findings FIXED, then the default again: NEW, not
        // REOPENED (no run saw them come back).
        assert_eq!(Status::Fixed.remapped(Status::New, false), Status::New);
        for stored in Status::ALL {
            for mapped in Status::ALL {
                for unseen in [false, true] {
                    let once = stored.remapped(mapped, unseen);
                    assert_eq!(
                        once.remapped(mapped, unseen),
                        once,
                        "{stored} {mapped}: idempotent"
                    );
                }
            }
        }
    }

    /// ASE's and XML reports' CLOSED from the record's own status (the scanner said
    /// Noise or Passed) is the map's word, not a run's: a map that calls those NEW makes
    /// the finding NEW, as a fresh sync with that map does.
    #[test]
    fn a_remap_follows_the_map_for_what_the_record_closed() {
        assert_eq!(Status::Closed.remapped(Status::New, false), Status::New);
        assert_eq!(
            Status::Closed.remapped(Status::Active, false),
            Status::Active
        );
        assert_eq!(Status::Closed.remapped(Status::None, false), Status::None);
    }
}
