//! Faults a test can inject into the ASE simulator ([`AseFault`]) and the endpoint
//! kinds they and the statistics are keyed by ([`AseEndpoint`]).

use serde::{Deserialize, Serialize};

/// A kind of ASE endpoint.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AseEndpoint {
    /// `POST /ase/api/keylogin/apikeylogin`.
    Login,
    /// `GET /ase/api/logout`.
    Logout,
    /// `/ase/api/applications…`.
    Applications,
    /// `GET /ase/api/issues` (the list).
    Issues,
    /// `details_v2`, one issue, `aboutthisissue`.
    Details,
    /// Everything else (`version`, unknown paths).
    Other,
    /// Any of the above (faults only).
    #[default]
    Any,
}

impl AseEndpoint {
    /// Whether a fault aimed at `self` applies to a request of kind `kind`.
    pub fn covers(self, kind: AseEndpoint) -> bool {
        self == AseEndpoint::Any || self == kind
    }

    /// Classifies a request path.
    pub fn of_path(path: &str) -> AseEndpoint {
        let p = path.trim_end_matches('/');
        match p {
            "/ase/api/keylogin/apikeylogin" => AseEndpoint::Login,
            "/ase/api/logout" => AseEndpoint::Logout,
            "/ase/api/issues" => AseEndpoint::Issues,
            _ if p.starts_with("/ase/api/applications") => AseEndpoint::Applications,
            _ if p.starts_with("/ase/api/issues/") => AseEndpoint::Details,
            _ => AseEndpoint::Other,
        }
    }
}

fn one() -> usize {
    1
}

/// A misbehaviour to inject; as JSON (`POST /sim/faults`) tagged by `type`, e.g.
/// `{"type":"status","status":503,"times":3,"endpoint":"issues","retry_after":1}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AseFault {
    /// The next `times` matching requests answer `status` (before the session check,
    /// like a proxy in front of ASE would), with `Retry-After` when given.
    Status {
        /// Status to answer.
        status: u16,
        /// How many requests (default 1).
        #[serde(default = "one")]
        times: usize,
        /// Which requests (default any).
        #[serde(default)]
        endpoint: AseEndpoint,
        /// Seconds for `Retry-After`.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// The next `times` matching requests are held `millis` first.
    Delay {
        /// How long.
        millis: u64,
        /// How many requests (default 1).
        #[serde(default = "one")]
        times: usize,
        /// Which requests (default any).
        #[serde(default)]
        endpoint: AseEndpoint,
    },
    /// Every key login answers 401 (a wrong or revoked key); sticky.
    BadKey,
    /// The next `times` issue pages answer 200 with an HTML body.
    NonJsonPage {
        /// How many pages (default 1).
        #[serde(default = "one")]
        times: usize,
    },
    /// Lists answer without `Content-Range` (older servers); sticky.
    NoContentRange,
    /// Lists answer the whole list whatever `Range` asks, without `Content-Range` (a
    /// proxy that drops the header); sticky.
    IgnoreRange,
    /// Lists answer as if no `Range` were sent — the first page, capped, with its true
    /// `Content-Range` — whatever `Range` asks (a proxy that drops the header); sticky.
    DropRange,
    /// `details_v2` answers 404 (older servers: details per issue); sticky.
    NoDetailsV2,
    /// A session the server does not know (expired, forgotten) is refused with `403`
    /// instead of `401`, as the API allows; sticky.
    #[serde(rename = "expired_session_403", alias = "expired_session403")]
    ExpiredSession403,
    /// Every session is forgotten now (as after a server restart): the next call gets a
    /// 401 and must log in again.
    DropSessions,
    /// A rescan finishes while an application's issues are being listed: right after the
    /// next issue page that starts at item 0 (and leaves items after it), the first
    /// `count` issues of that application are removed, so the later items move to
    /// places the client has already read. One-shot.
    RescanDuringListing {
        /// How many issues the rescan no longer finds (default 1).
        #[serde(default = "one")]
        count: usize,
    },
}

/// The faults armed.
#[derive(Debug, Clone, Default)]
pub struct AseFaultState {
    status: Vec<(u16, usize, AseEndpoint, Option<u64>)>,
    delays: Vec<(u64, usize, AseEndpoint)>,
    non_json: usize,
    /// Logins always fail.
    pub bad_key: bool,
    /// Lists omit `Content-Range`.
    pub no_content_range: bool,
    /// Lists ignore `Range` (and omit `Content-Range`).
    pub ignore_range: bool,
    /// Lists answer as if no `Range` were sent.
    pub drop_range: bool,
    /// `details_v2` is missing.
    pub no_details_v2: bool,
    /// Unknown sessions get `403`.
    pub expired_session_403: bool,
    /// Issues a rescan removes after the next first page of a listing.
    rescan_during_listing: Option<usize>,
}

impl AseFaultState {
    /// Arms a fault (`DropSessions` is applied by the caller).
    pub fn add(&mut self, fault: AseFault) {
        match fault {
            AseFault::Status {
                status,
                times,
                endpoint,
                retry_after,
            } if times > 0 => self.status.push((status, times, endpoint, retry_after)),
            AseFault::Delay {
                millis,
                times,
                endpoint,
            } if times > 0 => self.delays.push((millis, times, endpoint)),
            AseFault::NonJsonPage { times } => self.non_json += times,
            AseFault::BadKey => self.bad_key = true,
            AseFault::NoContentRange => self.no_content_range = true,
            AseFault::IgnoreRange => self.ignore_range = true,
            AseFault::DropRange => self.drop_range = true,
            AseFault::NoDetailsV2 => self.no_details_v2 = true,
            AseFault::ExpiredSession403 => self.expired_session_403 = true,
            AseFault::RescanDuringListing { count } => self.rescan_during_listing = Some(count),
            _ => {}
        }
    }

    /// Consumes one use of the first status fault covering `kind`: (status, retry after).
    pub fn take_status(&mut self, kind: AseEndpoint) -> Option<(u16, Option<u64>)> {
        let i = self.status.iter().position(|f| f.2.covers(kind))?;
        let f = &mut self.status[i];
        f.1 -= 1;
        let out = (f.0, f.3);
        if f.1 == 0 {
            self.status.remove(i);
        }
        Some(out)
    }

    /// Consumes one use of the first delay covering `kind`.
    pub fn take_delay(&mut self, kind: AseEndpoint) -> Option<u64> {
        let i = self.delays.iter().position(|d| d.2.covers(kind))?;
        let d = &mut self.delays[i];
        d.1 -= 1;
        let ms = d.0;
        if d.1 == 0 {
            self.delays.remove(i);
        }
        Some(ms)
    }

    /// Consumes the armed rescan: how many issues it removes.
    pub fn take_rescan(&mut self) -> Option<usize> {
        self.rescan_during_listing.take()
    }

    /// Consumes one armed non-JSON page.
    pub fn take_non_json(&mut self) -> bool {
        let armed = self.non_json > 0;
        self.non_json = self.non_json.saturating_sub(1);
        armed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_json() {
        assert_eq!(AseEndpoint::of_path("/ase/api/issues"), AseEndpoint::Issues);
        assert_eq!(
            AseEndpoint::of_path("/ase/api/issues/details_v2"),
            AseEndpoint::Details
        );
        assert_eq!(
            AseEndpoint::of_path("/ase/api/applications/3"),
            AseEndpoint::Applications
        );
        let f: AseFault =
            serde_json::from_str(r#"{"type":"status","status":503,"endpoint":"issues"}"#).unwrap();
        assert_eq!(
            f,
            AseFault::Status {
                status: 503,
                times: 1,
                endpoint: AseEndpoint::Issues,
                retry_after: None
            }
        );
        let mut s = AseFaultState::default();
        s.add(f);
        assert!(s.take_status(AseEndpoint::Login).is_none());
        assert_eq!(s.take_status(AseEndpoint::Issues), Some((503, None)));
        assert!(s.take_status(AseEndpoint::Issues).is_none());
    }
}
