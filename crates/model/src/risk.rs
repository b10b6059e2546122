//! The risk score: one number (0–1000) per finding, and one per asset, for sorting work.
//!
//! A pure function of what the store knows about a finding, so every backend and the
//! `rescore` command compute the same value. The formula is documented in the README
//! ("Risk score"); in short, for a finding:
//!
//! ```text
//! risk = 1000 × impact × exposure × exploit × age × status      (rounded, 0–1000)
//! impact   = severity weight (Info 0.05, Low 0.30, Medium 0.55, High 0.80, Critical 1.00),
//!            blended 60/40 with CVSS/10 when a CVSS score is known
//! exposure = 1.00 internet-facing host, 0.85 unknown, 0.70 internal host or private IP
//! exploit  = 1.00 when the CVE is known exploited (KEV list), else 0.80
//! age      = 0.85 rising linearly to 1.00 at 180 days since first found (unknown: 0.85)
//! status   = 1.00 open (NEW, ACTIVE, REOPENED), 0.10 FIXED or CLOSED, 0.05 IGNORED or NONE
//! ```
//! An asset's risk is its riskiest open finding plus a saturating share of the rest:
//! `top + (1000 − top) × rest / (rest + 5000)`, where `rest` sums the other open
//! findings' risks.

use crate::{Severity, Status};
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// The highest score.
pub const MAX: u16 = 1000;
/// Days after which age no longer raises the score.
pub const AGE_FULL_DAYS: f64 = 180.0;
/// The `rest` at which the rest of an asset's findings fill half the gap to 1000.
pub const ASSET_REST_HALF: f64 = 5000.0;

/// Where a finding can be reached from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// A public host name or a public IP address.
    Internet,
    /// A private, loopback or link-local address, a single-label host, or an internal
    /// domain (`.local`, `.internal`, `.lan`, `.corp`, `.intranet`, `.home.arpa`).
    Internal,
    /// No host to judge by (e.g. a source file).
    Unknown,
}

impl Exposure {
    /// Judges the host of the first URL given that has one (finding location, then the
    /// asset's URL).
    pub fn of_urls<'a>(urls: impl IntoIterator<Item = Option<&'a str>>) -> Exposure {
        for u in urls.into_iter().flatten() {
            let first = u.split_whitespace().next().unwrap_or(u);
            if let Ok(parsed) = url::Url::parse(first)
                && let Some(host) = parsed.host()
            {
                return match host {
                    url::Host::Domain(d) => Exposure::of_domain(d),
                    url::Host::Ipv4(ip) => Exposure::of_ip(IpAddr::V4(ip)),
                    url::Host::Ipv6(ip) => Exposure::of_ip(IpAddr::V6(ip)),
                };
            }
        }
        Exposure::Unknown
    }

    fn of_domain(d: &str) -> Exposure {
        let d = d.trim_end_matches('.').to_ascii_lowercase();
        const INTERNAL: [&str; 7] = [
            ".local",
            ".internal",
            ".lan",
            ".corp",
            ".intranet",
            ".home.arpa",
            ".localhost",
        ];
        if d == "localhost" || !d.contains('.') || INTERNAL.iter().any(|s| d.ends_with(s)) {
            Exposure::Internal
        } else {
            Exposure::Internet
        }
    }

    fn of_ip(ip: IpAddr) -> Exposure {
        let internal = match ip {
            IpAddr::V4(v4) => {
                v4.is_private()
                    || v4.is_loopback()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    // 100.64.0.0/10, carrier-grade NAT
                    || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
            }
            IpAddr::V6(v6) => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        };
        if internal {
            Exposure::Internal
        } else {
            Exposure::Internet
        }
    }

    fn factor(self) -> f64 {
        match self {
            Exposure::Internet => 1.0,
            Exposure::Unknown => 0.85,
            Exposure::Internal => 0.7,
        }
    }
}

/// What the score of a finding depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskInput {
    pub severity: Severity,
    pub cvss: Option<f64>,
    pub status: Status,
    pub first_found: Option<DateTime<Utc>>,
    pub exposure: Exposure,
    /// The finding's CVE is on the known-exploited list.
    pub known_exploited: bool,
}

fn severity_weight(s: Severity) -> f64 {
    match s {
        Severity::Informational => 0.05,
        Severity::Low => 0.30,
        Severity::Medium => 0.55,
        Severity::High => 0.80,
        Severity::Critical => 1.0,
    }
}

fn status_factor(s: Status) -> f64 {
    match s {
        Status::New | Status::Active | Status::Reopened => 1.0,
        Status::Fixed | Status::Closed => 0.10,
        Status::Ignored | Status::None => 0.05,
    }
}

/// The risk of one finding at time `now`, 0–1000.
pub fn finding_risk(input: &RiskInput, now: DateTime<Utc>) -> u16 {
    let sev = severity_weight(input.severity);
    let impact = match input.cvss {
        Some(c) if c.is_finite() => 0.6 * sev + 0.4 * (c.clamp(0.0, 10.0) / 10.0),
        _ => sev,
    };
    let exploit = if input.known_exploited { 1.0 } else { 0.8 };
    let age = match input.first_found {
        Some(t) => {
            let days = (now - t).num_seconds().max(0) as f64 / 86_400.0;
            0.85 + 0.15 * (days / AGE_FULL_DAYS).min(1.0)
        }
        None => 0.85,
    };
    let score = f64::from(MAX)
        * impact
        * input.exposure.factor()
        * exploit
        * age
        * status_factor(input.status);
    score.round().clamp(0.0, f64::from(MAX)) as u16
}

/// The risk of an asset from its **open** findings' risks, 0–1000.
pub fn asset_risk(open_finding_risks: impl IntoIterator<Item = u16>) -> u16 {
    OpenRisks::of(open_finding_risks).score()
}

/// What an asset's score needs of its open findings' risks — their sum, the highest and
/// how many share it — kept so that a store can follow findings as they open, close and
/// are rescored without reading all of the asset's findings again.
///
/// Removing the last finding at the top leaves the new top unknown (the next highest is
/// not kept): [`OpenRisks::remove`] then says so, and the store reads the asset's
/// findings. Apply a batch's additions before its removals: a finding rescored at the
/// top then stays known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenRisks {
    /// Sum of the open findings' risks (each at most [`MAX`]).
    pub sum: u64,
    /// The highest open finding's risk; 0 when none is above 0.
    pub top: u16,
    /// How many open findings have the risk `top` (not kept while `top` is 0).
    pub top_count: u32,
}

impl OpenRisks {
    /// From all of an asset's open findings' risks.
    pub fn of(risks: impl IntoIterator<Item = u16>) -> OpenRisks {
        let mut open = OpenRisks::default();
        for r in risks {
            open.add(r);
        }
        open
    }

    /// A finding opened, or an open one's new risk.
    pub fn add(&mut self, risk: u16) {
        let r = risk.min(MAX);
        self.sum += u64::from(r);
        if r > self.top {
            self.top = r;
            self.top_count = 1;
        } else if r == self.top && r > 0 {
            self.top_count += 1;
        }
    }

    /// A finding closed, or an open one's old risk. `false` when the top is no longer
    /// known (or the risk was never added): read the asset's findings again.
    #[must_use]
    pub fn remove(&mut self, risk: u16) -> bool {
        let r = risk.min(MAX);
        if r > self.top || u64::from(r) > self.sum {
            return false;
        }
        self.sum -= u64::from(r);
        if r == self.top && r > 0 {
            self.top_count = self.top_count.saturating_sub(1);
            if self.top_count == 0 {
                if self.sum > 0 {
                    return false;
                }
                self.top = 0;
            }
        }
        true
    }

    /// The asset's risk, 0–1000: `top + (1000 − top) × rest / (rest + 5000)`.
    pub fn score(&self) -> u16 {
        let top = f64::from(self.top);
        let rest = (self.sum as f64 - top).max(0.0);
        let score = top + (f64::from(MAX) - top) * rest / (rest + ASSET_REST_HALF);
        score.round().clamp(0.0, f64::from(MAX)) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .expect("t")
            .with_timezone(&Utc)
    }

    fn base() -> RiskInput {
        RiskInput {
            severity: Severity::High,
            cvss: Some(7.5),
            status: Status::New,
            first_found: Some(now() - Duration::days(30)),
            exposure: Exposure::Internet,
            known_exploited: false,
        }
    }

    fn score(f: impl FnOnce(&mut RiskInput)) -> u16 {
        let mut i = base();
        f(&mut i);
        finding_risk(&i, now())
    }

    #[test]
    fn higher_severity_ranks_above_lower_all_else_equal() {
        for cvss in [None, Some(0.0), Some(5.0), Some(10.0)] {
            let scores: Vec<u16> = Severity::ALL
                .iter()
                .map(|s| {
                    score(|i| {
                        i.severity = *s;
                        i.cvss = cvss;
                    })
                })
                .collect();
            assert!(scores.windows(2).all(|w| w[0] < w[1]), "{scores:?}");
        }
    }

    #[test]
    fn fixed_and_closed_rank_far_below_open() {
        let open = score(|_| {});
        for st in [Status::Fixed, Status::Closed, Status::Ignored, Status::None] {
            let closed = score(|i| i.status = st);
            assert!(closed * 5 < open, "{st}: {closed} vs open {open}");
        }
        for st in [Status::Active, Status::Reopened] {
            assert_eq!(score(|i| i.status = st), open);
        }
    }

    #[test]
    fn known_exploited_raises() {
        assert!(score(|i| i.known_exploited = true) > score(|_| {}));
    }

    #[test]
    fn monotonic_in_cvss() {
        let mut last = 0;
        for tenth in 0..=100 {
            let s = score(|i| i.cvss = Some(f64::from(tenth) / 10.0));
            assert!(s >= last, "cvss {tenth}: {s} < {last}");
            last = s;
        }
        assert!(score(|i| i.cvss = Some(9.0)) > score(|i| i.cvss = Some(4.0)));
    }

    #[test]
    fn exposure_and_age() {
        assert!(
            score(|i| i.exposure = Exposure::Internet) > score(|i| i.exposure = Exposure::Unknown)
        );
        assert!(
            score(|i| i.exposure = Exposure::Unknown) > score(|i| i.exposure = Exposure::Internal)
        );
        assert!(score(|i| i.first_found = Some(now() - Duration::days(365))) > score(|_| {}));
        assert_eq!(
            score(|i| i.first_found = Some(now() - Duration::days(400))),
            score(|i| i.first_found = Some(now() - Duration::days(180)))
        );
    }

    #[test]
    fn bounds() {
        let top = score(|i| {
            i.severity = Severity::Critical;
            i.cvss = Some(10.0);
            i.known_exploited = true;
            i.first_found = Some(now() - Duration::days(365));
        });
        assert_eq!(top, 1000);
        let low = score(|i| {
            i.severity = Severity::Informational;
            i.cvss = Some(0.0);
            i.status = Status::None;
            i.exposure = Exposure::Internal;
        });
        assert!(low <= 2, "{low}");
        assert_eq!(score(|i| i.cvss = Some(f64::NAN)), score(|i| i.cvss = None));
    }

    #[test]
    fn exposure_from_urls() {
        let e = |u: &str| Exposure::of_urls([Some(u)]);
        assert_eq!(e("https://shop.example.com/a"), Exposure::Internet);
        assert_eq!(e("http://10.1.2.3:8080/"), Exposure::Internal);
        assert_eq!(e("http://192.168.0.10/"), Exposure::Internal);
        assert_eq!(e("http://intranet/"), Exposure::Internal);
        assert_eq!(e("https://wiki.corp/"), Exposure::Internal);
        assert_eq!(e("http://[::1]/"), Exposure::Internal);
        assert_eq!(e("http://8.8.8.8/"), Exposure::Internet);
        assert_eq!(e("src/Main.java"), Exposure::Unknown);
        assert_eq!(
            Exposure::of_urls([None, Some("https://x.example.org")]),
            Exposure::Internet
        );
        assert_eq!(
            Exposure::of_urls([Some("Main.java"), Some("http://10.0.0.1")]),
            Exposure::Internal
        );
    }

    #[test]
    fn asset_risk_is_top_plus_a_share_of_the_rest() {
        assert_eq!(asset_risk([]), 0);
        assert_eq!(asset_risk([700]), 700);
        let two = asset_risk([700, 500]);
        assert!(two > 700 && two < 1000, "{two}");
        assert!(asset_risk([700, 500, 500]) > two);
        assert!(asset_risk(std::iter::repeat_n(900, 10_000)) <= 1000);
        // One critical outranks many lows.
        assert!(asset_risk([950]) > asset_risk([200, 200, 200]));
    }
}
