//! Faults a test can inject into the simulator ([`Fault`]), the endpoint
//! kinds they (and the request statistics) are keyed by ([`Endpoint`]), and
//! the bookkeeping of which faults are still armed.

use serde::{Deserialize, Serialize};

/// A kind of endpoint, for faults and statistics.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    /// `POST /api/v4/Account/ApiKeyLogin`.
    Login,
    /// `/api/v4/Apps…`.
    Apps,
    /// `/api/v4/Issues…` (but an issue's detail document).
    Issues,
    /// `/api/v4/Issues/{id}/Details`: an issue's detail document.
    Details,
    /// Every other `/api/v4` path (Logout, TenantInfo, IsAuthenticated, …).
    Other,
    /// Any of the above (faults only; never a statistics key).
    #[default]
    Any,
}

impl Endpoint {
    /// Whether a fault aimed at `self` applies to a request of kind `kind`.
    pub fn covers(self, kind: Endpoint) -> bool {
        self == Endpoint::Any || self == kind
    }

    /// Classifies a request path.
    pub fn of_path(path: &str) -> Endpoint {
        let p = path.trim_end_matches('/');
        if p.eq_ignore_ascii_case("/api/v4/Account/ApiKeyLogin") {
            Endpoint::Login
        } else if starts_with_ci(p, "/api/v4/Apps") {
            Endpoint::Apps
        } else if starts_with_ci(p, "/api/v4/Issues") && ends_with_ci(p, "/Details") {
            Endpoint::Details
        } else if starts_with_ci(p, "/api/v4/Issues") {
            Endpoint::Issues
        } else {
            Endpoint::Other
        }
    }
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
        && (s.len() == prefix.len() || s.as_bytes()[prefix.len()] == b'/')
}

fn one() -> usize {
    1
}

/// A misbehaviour to inject. In JSON (for `POST /sim/faults`) it is tagged
/// by `type`, e.g. `{"type":"status","status":429,"times":2,"endpoint":"issues","retry_after":5}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fault {
    /// The next `times` matching requests answer `status` (429 with the body
    /// `Too many requests.`, 401 with an empty body, anything else with an
    /// error body), with `Retry-After: <retry_after>` when given. Checked
    /// before authentication, like a gateway would.
    Status {
        /// The HTTP status to answer.
        status: u16,
        /// How many requests (default 1).
        #[serde(default = "one")]
        times: usize,
        /// Which requests (default any).
        #[serde(default)]
        endpoint: Endpoint,
        /// Seconds for a `Retry-After` header.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// The next `times` matching requests are held `millis` before being
    /// answered normally (to trip client timeouts).
    Delay {
        /// How long to hold each request.
        millis: u64,
        /// How many requests (default 1).
        #[serde(default = "one")]
        times: usize,
        /// Which requests (default any).
        #[serde(default)]
        endpoint: Endpoint,
    },
    /// This fraction of issues is served broken (`Cwe` as a name, an unknown
    /// `Severity`, an unparsable `LastUpdated`, or `Port` as a string) — never
    /// without their `Id`, which the spec guarantees — the same issues every
    /// time for one seed; sticky until cleared.
    Malformed {
        /// Share of issues broken, 0.0–1.0.
        fraction: f64,
        /// Picks which issues.
        #[serde(default)]
        seed: u64,
    },
    /// The next `times` issue pages answer 200 with an HTML body.
    NonJsonPage {
        /// How many pages (default 1).
        #[serde(default = "one")]
        times: usize,
    },
    /// Every matching request answers 403 with an error body (the key lacks
    /// permission); sticky until cleared.
    Forbidden {
        /// Which requests (default any).
        #[serde(default)]
        endpoint: Endpoint,
    },
    /// Every login answers 401 (a revoked or regenerated key); sticky.
    BadKey,
    /// The next `times` matching authorized requests answer 200 with this JSON body
    /// instead of the real one (a bad page from a corpus).
    Body {
        /// The body to serve.
        body: String,
        /// How many requests (default 1).
        #[serde(default = "one")]
        times: usize,
        /// Which requests (default any).
        #[serde(default)]
        endpoint: Endpoint,
    },
    /// The next `times` matching authorized requests answer 200 with the first half of
    /// the real body and a matching `Content-Length` (a page cut short).
    Truncate {
        /// How many requests (default 1).
        #[serde(default = "one")]
        times: usize,
        /// Which requests (default any).
        #[serde(default)]
        endpoint: Endpoint,
    },
    /// The next `times` matching authorized requests send half the real body and then
    /// drop the connection (the client sees a reset mid-response).
    Reset {
        /// How many requests (default 1).
        #[serde(default = "one")]
        times: usize,
        /// Which requests (default any).
        #[serde(default)]
        endpoint: Endpoint,
    },
    /// The next application whose issues are asked for is deleted just before (as a
    /// user deleting it between the client's application list and its issues): that
    /// request, and every later one, answers 404, and `GET /Apps` no longer lists it.
    RemoveAppOnIssues,
    /// The next request for a page of `GET /Apps` past the first deletes the application
    /// with the lowest id just before (as a user deleting one while the list is paged):
    /// the others move one place up, and `Count` goes down by one.
    RemoveAppDuringAppList,
    /// Listings asked without `$orderby` come in an order that changes from request to
    /// request, as a database's default order may: each such request serves the rows
    /// turned one place further than the last. Sticky until cleared.
    UnstableOrder,
}

/// What to do to the body of an authorized answer.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyFault {
    /// Serve this body instead.
    Replace(String),
    /// Serve the first half, with a matching length.
    Truncate,
    /// Send the first half, then drop the connection.
    Reset,
}

/// A status fault still armed.
#[derive(Debug, Clone)]
pub struct StatusFault {
    /// Status to answer.
    pub status: u16,
    /// Requests left.
    pub remaining: usize,
    /// Which requests.
    pub endpoint: Endpoint,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
}

/// The faults currently armed.
#[derive(Debug, Clone, Default)]
pub struct FaultState {
    status: Vec<StatusFault>,
    delays: Vec<(u64, usize, Endpoint)>,
    /// `(fraction, seed)` of a sticky `Malformed`.
    pub malformed: Option<(f64, u64)>,
    non_json: usize,
    forbidden: Vec<Endpoint>,
    /// Body faults with their remaining uses.
    bodies: Vec<(BodyFault, usize, Endpoint)>,
    /// Logins always fail.
    pub bad_key: bool,
    /// The next application whose issues are asked for is deleted first.
    remove_app_on_issues: bool,
    /// The next app-list page past the first deletes the lowest-id application.
    remove_app_during_app_list: bool,
    /// Unordered listings turn by the number of requests served so far.
    unstable_order: Option<usize>,
}

impl FaultState {
    /// Arms a fault.
    pub fn add(&mut self, fault: Fault) {
        match fault {
            Fault::Status {
                status,
                times,
                endpoint,
                retry_after,
            } => {
                if times > 0 {
                    self.status.push(StatusFault {
                        status,
                        remaining: times,
                        endpoint,
                        retry_after,
                    });
                }
            }
            Fault::Delay {
                millis,
                times,
                endpoint,
            } => {
                if times > 0 {
                    self.delays.push((millis, times, endpoint));
                }
            }
            Fault::Malformed { fraction, seed } => {
                let f = if fraction.is_finite() {
                    fraction.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                self.malformed = Some((f, seed));
            }
            Fault::NonJsonPage { times } => self.non_json += times,
            Fault::RemoveAppOnIssues => self.remove_app_on_issues = true,
            Fault::UnstableOrder => self.unstable_order = Some(0),
            Fault::RemoveAppDuringAppList => self.remove_app_during_app_list = true,
            Fault::Forbidden { endpoint } => self.forbidden.push(endpoint),
            Fault::BadKey => self.bad_key = true,
            Fault::Body {
                body,
                times,
                endpoint,
            } => self.add_body(BodyFault::Replace(body), times, endpoint),
            Fault::Truncate { times, endpoint } => {
                self.add_body(BodyFault::Truncate, times, endpoint)
            }
            Fault::Reset { times, endpoint } => self.add_body(BodyFault::Reset, times, endpoint),
        }
    }

    fn add_body(&mut self, fault: BodyFault, times: usize, endpoint: Endpoint) {
        if times > 0 {
            self.bodies.push((fault, times, endpoint));
        }
    }

    /// Consumes one use of the first body fault covering `kind`.
    pub fn take_body(&mut self, kind: Endpoint) -> Option<BodyFault> {
        let i = self.bodies.iter().position(|b| b.2.covers(kind))?;
        let b = &mut self.bodies[i];
        b.1 -= 1;
        let out = b.0.clone();
        if b.1 == 0 {
            self.bodies.remove(i);
        }
        Some(out)
    }

    /// Consumes one use of the first delay covering `kind`.
    pub fn take_delay(&mut self, kind: Endpoint) -> Option<u64> {
        let i = self.delays.iter().position(|d| d.2.covers(kind))?;
        let d = &mut self.delays[i];
        d.1 -= 1;
        let millis = d.0;
        if d.1 == 0 {
            self.delays.remove(i);
        }
        Some(millis)
    }

    /// Consumes one use of the first status fault covering `kind`.
    pub fn take_status(&mut self, kind: Endpoint) -> Option<StatusFault> {
        let i = self.status.iter().position(|f| f.endpoint.covers(kind))?;
        let f = &mut self.status[i];
        f.remaining -= 1;
        let out = f.clone();
        if f.remaining == 0 {
            self.status.remove(i);
        }
        Some(out)
    }

    /// Consumes the armed deletion of an application while the list is paged.
    pub fn take_remove_app_during_app_list(&mut self) -> bool {
        std::mem::take(&mut self.remove_app_during_app_list)
    }

    /// Consumes the armed deletion of the next application whose issues are asked for.
    pub fn take_remove_app(&mut self) -> bool {
        std::mem::take(&mut self.remove_app_on_issues)
    }

    /// How far an unordered listing's rows are turned this time, when
    /// [`Fault::UnstableOrder`] is armed (one more with each call).
    pub fn take_turn(&mut self) -> Option<usize> {
        let turns = self.unstable_order.as_mut()?;
        *turns += 1;
        Some(*turns)
    }

    /// Consumes one armed non-JSON page.
    pub fn take_non_json(&mut self) -> bool {
        if self.non_json > 0 {
            self.non_json -= 1;
            true
        } else {
            false
        }
    }

    /// Whether requests of `kind` are forbidden.
    pub fn forbidden(&self, kind: Endpoint) -> bool {
        self.forbidden.iter().any(|e| e.covers(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        assert_eq!(
            Endpoint::of_path("/api/v4/Account/ApiKeyLogin"),
            Endpoint::Login
        );
        assert_eq!(Endpoint::of_path("/api/v4/Apps"), Endpoint::Apps);
        assert_eq!(Endpoint::of_path("/api/v4/Apps/x"), Endpoint::Apps);
        assert_eq!(Endpoint::of_path("/api/v4/AppsX"), Endpoint::Other);
        assert_eq!(
            Endpoint::of_path("/api/v4/Issues/Application/x"),
            Endpoint::Issues
        );
        assert_eq!(
            Endpoint::of_path("/api/v4/Account/TenantInfo"),
            Endpoint::Other
        );
    }

    #[test]
    fn faults_round_trip_as_tagged_json() {
        let f: Fault = serde_json::from_str(
            r#"{"type":"status","status":429,"endpoint":"issues","retry_after":3}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            Fault::Status {
                status: 429,
                times: 1,
                endpoint: Endpoint::Issues,
                retry_after: Some(3)
            }
        );
        let f: Fault = serde_json::from_str(r#"{"type":"bad_key"}"#).unwrap();
        assert_eq!(f, Fault::BadKey);
        let f: Fault = serde_json::from_str(r#"{"type":"non_json_page"}"#).unwrap();
        assert_eq!(f, Fault::NonJsonPage { times: 1 });
        let back: Fault = serde_json::from_value(
            serde_json::to_value(Fault::Malformed {
                fraction: 0.1,
                seed: 2,
            })
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            back,
            Fault::Malformed {
                fraction: 0.1,
                seed: 2
            }
        );
    }

    #[test]
    fn status_faults_count_down() {
        let mut s = FaultState::default();
        s.add(Fault::Status {
            status: 503,
            times: 2,
            endpoint: Endpoint::Apps,
            retry_after: None,
        });
        assert!(s.take_status(Endpoint::Issues).is_none());
        assert_eq!(s.take_status(Endpoint::Apps).map(|f| f.status), Some(503));
        assert!(s.take_status(Endpoint::Apps).is_some());
        assert!(s.take_status(Endpoint::Apps).is_none());
    }
}
