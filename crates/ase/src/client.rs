//! [`AseClient`]: the request path (pace → send → classify → retry), the session around
//! it, and the listings built on top.
//!
//! Every request goes through `send`, which paces the attempt, sends it, counts the
//! answer and retries what [`apiclient::retry`] calls retryable (honouring `Retry-After`).
//! Calls that need a session add the cookie and the XSRF header, and on a `401` drop
//! the session, log in again and repeat the call once. Listings are streams of
//! [`Page`]s that fetch the next page only when the consumer asks for it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

use bytes::Bytes;
use futures::Stream;
use reqwest::header::{CONTENT_RANGE, COOKIE, RANGE, SET_COOKIE};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;

use crate::config::AseConfig;
use crate::error::{AseError, body_message, error_chain, excerpt};
use crate::paging::{Page, Pager, parse_content_range, range_header, starts_elsewhere};
use crate::session::{self, KeyLogin, SESSION_COOKIE, Session, SessionCache, XSRF_HEADER};
use crate::stats::{ClientStats, Stats};
use apiclient::RateLimiter;
use apiclient::retry::{self, AttemptError};

/// `User-Agent` of every request.
const USER_AGENT: &str = concat!("appscan-bridge-ase/", env!("CARGO_PKG_VERSION"));

/// Issue ids asked for in one `details_v2` request.
pub const DETAILS_BATCH: usize = 50;

/// An AppScan Enterprise client. Cheap to clone; clones share the session, the pace and
/// the counters, and the streams it returns own a clone (they are `'static`).
#[derive(Clone)]
pub struct AseClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: AseConfig,
    /// `…/ase/api`.
    api: Url,
    http: reqwest::Client,
    session: SessionCache,
    limiter: RateLimiter,
    stats: Stats,
    /// Whether `issues/details_v2` exists (older servers answer 404; then the client
    /// asks per issue).
    details_v2: AtomicBool,
}

/// A final answer (success, or a status not worth retrying).
struct Answer {
    status: u16,
    /// The body; a non-2xx one with the request's credentials hidden (see [`Inner::hidden`]).
    body: Bytes,
    content_range: Option<String>,
    set_cookies: Vec<String>,
    attempts: u32,
    /// The session the request carried, to hide it when a 2xx body is quoted.
    session: Option<Session>,
}

impl Inner {
    /// `body` with the credentials a request carried (the key secret, the session id
    /// and XSRF token) hidden, for a body that is quoted: a server or proxy echoing the
    /// request had them shown in errors, run reasons and the dashboard.
    fn hidden(&self, body: Bytes, session: Option<&Session>) -> Bytes {
        let secrets = [
            self.cfg.key_secret.expose_secret(),
            session.map_or("", |s| s.cookie.expose_secret()),
            session.map_or("", |s| s.xsrf.expose_secret()),
        ];
        match apiclient::text::hide(&body, &secrets) {
            std::borrow::Cow::Borrowed(_) => body,
            std::borrow::Cow::Owned(hidden) => Bytes::from(hidden),
        }
    }

    /// The start of a 2xx body that could not be read, for an error.
    fn quote(&self, a: &Answer) -> String {
        excerpt(&self.hidden(a.body.clone(), a.session.as_ref()))
    }

    /// A 2xx answer's JSON.
    fn json_of(&self, endpoint: &str, a: &Answer) -> Result<Value, AseError> {
        apiclient::json::from_slice(&a.body).map_err(|e| AseError::InvalidResponse {
            endpoint: endpoint.to_string(),
            message: format!("not JSON ({e}); body starts: {:?}", self.quote(a)),
        })
    }
}

/// What one request sends besides its URL.
struct Req<'a, B: Serialize + Sync + ?Sized> {
    query: &'a [(&'static str, String)],
    session: Option<&'a Session>,
    range: Option<String>,
    json: Option<&'a B>,
}

impl<B: Serialize + Sync + ?Sized> Default for Req<'_, B> {
    fn default() -> Self {
        Req {
            query: &[],
            session: None,
            range: None,
            json: None,
        }
    }
}

impl AseClient {
    /// Checks the configuration and builds the HTTP client (system roots plus
    /// `ca_file`). Sends nothing.
    pub fn new(cfg: AseConfig) -> Result<Self, AseError> {
        cfg.validate()?;
        let api = cfg.api_base()?;
        apiclient::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(std::time::Duration::from_secs(30)))
            .redirect(apiclient::redirect::policy())
            .user_agent(USER_AGENT);
        if let Some(path) = &cfg.ca_file {
            let certs = apiclient::ca_file::read(path).map_err(AseError::Tls)?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| AseError::Tls(format!("building the HTTP client: {}", error_chain(&e))))?;
        let limiter = RateLimiter::new(cfg.rate_limit_per_minute);
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                api,
                http,
                session: SessionCache::default(),
                limiter,
                stats: Stats::default(),
                details_v2: AtomicBool::new(true),
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &AseConfig {
        &self.inner.cfg
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> ClientStats {
        self.inner.stats.snapshot()
    }

    /// `GET /ase/api/version`: needs no session (a reachability check).
    pub async fn version(&self) -> Result<Value, AseError> {
        let (url, endpoint) = self.url(&["version"]);
        let a = self
            .send(Method::GET, &url, &endpoint, Req::<()>::default())
            .await?;
        if !(200..300).contains(&a.status) {
            return Err(http_error("GET", &endpoint, &a));
        }
        self.inner.json_of(&endpoint, &a)
    }

    /// Logs in now (replacing any session). Other calls log in by themselves.
    pub async fn login(&self) -> Result<(), AseError> {
        self.inner.session.force(|again| self.do_login(again)).await
    }

    /// `GET /ase/api/logout` when logged in, and forgets the session. Failures are
    /// logged and otherwise ignored (the session times out on the server anyway).
    pub async fn logout(&self) {
        let Some(session) = self.inner.session.take().await else {
            return;
        };
        let (url, endpoint) = self.url(&["logout"]);
        let req = Req::<()> {
            session: Some(&session),
            ..Req::default()
        };
        self.inner.stats.logout();
        let logout = self.send(Method::GET, &url, &endpoint, req);
        match tokio::time::timeout(apiclient::retry::LOGOUT_WAIT, logout).await {
            Ok(Ok(a)) if (200..300).contains(&a.status) => tracing::debug!("logged out"),
            Ok(Ok(a)) => tracing::debug!(status = a.status, "logout answered an error"),
            Ok(Err(e)) => tracing::debug!(error = %e, "logout failed"),
            Err(_) => tracing::debug!("logout given up: no answer in time"),
        }
    }

    /// `GET /ase/api/applications`, every page: the applications the user can see.
    pub async fn applications(&self) -> Result<Vec<Value>, AseError> {
        use futures::TryStreamExt;
        let pages: Vec<Page> = self.application_pages().try_collect().await?;
        Ok(pages.into_iter().flat_map(|p| p.items).collect())
    }

    /// `GET /ase/api/applications`, page by page.
    pub fn application_pages(&self) -> impl Stream<Item = Result<Page, AseError>> + Send + use<> {
        let (url, endpoint) = self.url(&["applications"]);
        self.list(url, endpoint, Vec::new(), None)
    }

    /// `GET /ase/api/issues?query=Application Name=<name>&compactResponse=false`, page
    /// by page (issues keyed by attribute display names).
    pub fn issues(
        &self,
        app_name: &str,
    ) -> impl Stream<Item = Result<Page, AseError>> + Send + use<> {
        let (url, endpoint) = self.url(&["issues"]);
        let query = vec![
            ("query", crate::query::application(app_name)),
            ("compactResponse", "false".to_string()),
        ];
        self.list(url, endpoint, query, Some(app_name.to_string()))
    }

    /// Security details of some issues of one application: `GET
    /// /ase/api/issues/details_v2?appId=…&ids=[…]` in batches of [`DETAILS_BATCH`];
    /// on a server without it (404), `GET /ase/api/issues/{id}/application/{appId}` per
    /// issue. Returns one object per issue found (each with its `id`).
    pub async fn details(&self, app_id: &str, ids: &[String]) -> Result<Vec<Value>, AseError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(DETAILS_BATCH) {
            if self.inner.details_v2.load(Relaxed) {
                let (url, endpoint) = self.url(&["issues", "details_v2"]);
                let query = [
                    ("appId", app_id.to_string()),
                    ("ids", serde_json::to_string(chunk).unwrap_or_default()),
                ];
                self.inner.stats.details();
                let a = self.get_authed(&url, &endpoint, &query, None).await?;
                match a.status {
                    200..=299 => {
                        out.extend(detail_items(&endpoint, self.inner.json_of(&endpoint, &a)?)?);
                        continue;
                    }
                    404 | 405 => {
                        tracing::info!("{endpoint} answered {}; asking per issue", a.status);
                        self.inner.details_v2.store(false, Relaxed);
                    }
                    _ => return Err(http_error("GET", &endpoint, &a)),
                }
            }
            for id in chunk {
                let (url, endpoint) = self.url(&["issues", id, "application", app_id]);
                self.inner.stats.details();
                let a = self.get_authed(&url, &endpoint, &[], None).await?;
                match a.status {
                    200..=299 => out.push(self.inner.json_of(&endpoint, &a)?),
                    404 => tracing::warn!(%endpoint, "issue vanished while being read"),
                    _ => return Err(http_error("GET", &endpoint, &a)),
                }
            }
        }
        Ok(out)
    }

    // ---- listings ------------------------------------------------------

    fn list(
        &self,
        url: Url,
        endpoint: String,
        query: Vec<(&'static str, String)>,
        app: Option<String>,
    ) -> impl Stream<Item = Result<Page, AseError>> + Send + use<> {
        struct Listing {
            client: AseClient,
            url: Url,
            endpoint: String,
            query: Vec<(&'static str, String)>,
            app: Option<String>,
            pager: Pager,
            /// The first item of the last page, to tell a server that ignores `Range`.
            last_first: Option<Value>,
        }
        impl Listing {
            /// An empty page that ends the listing.
            fn end(&mut self, first: u64) -> Page {
                self.pager.on_unsatisfiable();
                Page {
                    app: self.app.clone(),
                    first,
                    total: None,
                    items: Vec::new(),
                    incomplete: self.pager.incomplete().map(str::to_string),
                }
            }
        }
        let start = Listing {
            client: self.clone(),
            url,
            endpoint,
            query,
            app,
            pager: Pager::new(self.inner.cfg.page_size),
            last_first: None,
        };
        futures::stream::unfold(start, |mut l| async move {
            let (first, last) = l.pager.next_range()?;
            // A body cut short or replaced by a proxy's page is usually passing: the page
            // is fetched again (as many times as a failed request is retried, with its
            // backoff) before the listing fails on it.
            let cfg = &l.client.inner.cfg;
            let mut waits = apiclient::retry::delays(cfg.retry_base_delay, cfg.max_retries);
            let item = loop {
                let answer = l
                    .client
                    .get_authed(
                        &l.url,
                        &l.endpoint,
                        &l.query,
                        Some(range_header(first, last)),
                    )
                    .await;
                let a = match answer {
                    Err(e) => {
                        l.pager.on_unsatisfiable();
                        break Err(e);
                    }
                    Ok(a) if a.status == 416 => break Ok(l.end(first)),
                    Ok(a) if !(200..300).contains(&a.status) => {
                        l.pager.on_unsatisfiable();
                        break Err(http_error("GET", &l.endpoint, &a));
                    }
                    Ok(a) => a,
                };
                let what = match serde_json::from_slice::<Value>(&a.body) {
                    Ok(Value::Array(items)) => {
                        let cr = a.content_range.as_deref().and_then(parse_content_range);
                        // A server (or proxy) that ignores `Range` answers the whole list
                        // every time; when that list is exactly a page long, the page
                        // after it repeats it and, with no `Content-Range` to end it,
                        // the listing asked for the same page for ever.
                        if cr.is_none() && first > 0 && items.first() == l.last_first.as_ref() {
                            tracing::warn!(endpoint = %l.endpoint, first, "the server answered the first page again: it ignores Range; the listing ends here");
                            break Ok(l.end(first));
                        }
                        l.last_first = items.first().cloned();
                        // Items of another page than the one asked are not delivered: they
                        // were read already (the first page, from behind a proxy that
                        // dropped `Range`), or are not where the listing is.
                        let mut items = items;
                        if starts_elsewhere(cr, first).is_some() {
                            items.clear();
                        }
                        let total = l.pager.on_page(items.len(), cr);
                        l.client.inner.stats.page(items.len());
                        let last = l.pager.next_range().is_none();
                        break Ok(Page {
                            app: l.app.clone(),
                            first,
                            total,
                            items,
                            incomplete: l.pager.incomplete().filter(|_| last).map(str::to_string),
                        });
                    }
                    Ok(_) => "a JSON array was expected".to_string(),
                    Err(e) => format!("body is not JSON: {e}"),
                };
                if let Some(wait) = waits.next() {
                    l.client.inner.stats.retry();
                    tracing::warn!(endpoint = %l.endpoint, first, message = %what, delay_ms = wait.as_millis() as u64, "unreadable page, fetching it again");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                l.pager.on_unsatisfiable();
                break Err(AseError::InvalidResponse {
                    endpoint: format!("{} (items {first}-{last})", l.endpoint),
                    message: format!("{what}; body starts: {:?}", l.client.inner.quote(&a)),
                });
            };
            Some((item, l))
        })
    }

    // ---- requests ------------------------------------------------------

    /// The URL of `segments` under the API root (each percent-encoded), and its path.
    fn url(&self, segments: &[&str]) -> (Url, String) {
        let mut url = self.inner.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let endpoint = url.path().to_string();
        (url, endpoint)
    }

    /// A `GET` with the session; a `401` logs in again and repeats the call once. Any
    /// other final answer is returned (2xx, 404, 416 …) except `403`, an error.
    async fn get_authed(
        &self,
        url: &Url,
        endpoint: &str,
        query: &[(&'static str, String)],
        range: Option<String>,
    ) -> Result<Answer, AseError> {
        let mut relogged = false;
        loop {
            let session = self.inner.session.get(|again| self.do_login(again)).await?;
            let req = Req::<()> {
                query,
                session: Some(&session),
                range: range.clone(),
                json: None,
            };
            let a = self.send(Method::GET, url, endpoint, req).await?;
            match a.status {
                // ASE refuses a session it no longer knows with 401 or 403: one fresh
                // login tells an expired session from a missing permission.
                401 | 403 if !relogged => {
                    relogged = true;
                    tracing::info!(
                        endpoint,
                        status = a.status,
                        "session rejected; logging in again"
                    );
                    self.inner.session.reject(session.generation).await;
                }
                401 => {
                    return Err(AseError::Auth {
                        status: 401,
                        message: format!(
                            "{endpoint} answered 401 again right after a fresh login: {}",
                            body_message(&a.body)
                        ),
                    });
                }
                403 => {
                    return Err(AseError::Forbidden {
                        endpoint: endpoint.to_string(),
                        message: body_message(&a.body),
                    });
                }
                _ => return Ok(a),
            }
        }
    }

    /// `POST /ase/api/keylogin/apikeylogin`. An answer echoing the secret has it hidden
    /// (by `send`) before any message quotes it.
    async fn do_login(&self, after_401: bool) -> Result<(SecretString, SecretString), AseError> {
        let cfg = &self.inner.cfg;
        let (url, endpoint) = self.url(&["keylogin", "apikeylogin"]);
        let body = KeyLogin {
            key_id: cfg.key_id.trim(),
            key_secret: cfg.key_secret.expose_secret(),
        };
        let req = Req {
            json: Some(&body),
            ..Req::default()
        };
        let a = self.send(Method::POST, &url, &endpoint, req).await?;
        match a.status {
            200..=299 => {
                let s = session::parse_login(&a.body, &a.set_cookies)
                    .map_err(|message| AseError::InvalidResponse { endpoint, message })?;
                self.inner.stats.login(after_401);
                tracing::debug!(after_401, "logged in");
                Ok(s)
            }
            401 => Err(AseError::Auth {
                status: 401,
                message: "the API key id or secret is wrong, or the key was revoked".into(),
            }),
            status @ (400 | 403) => Err(AseError::Auth {
                status,
                message: body_message(&a.body),
            }),
            _ => Err(http_error("POST", &endpoint, &a)),
        }
    }

    /// One request with pacing and retries. `Ok` for any final answer; `Err` when the
    /// retries ran out or the failure is not worth retrying.
    async fn send<B: Serialize + Sync + ?Sized>(
        &self,
        method: Method,
        url: &Url,
        endpoint: &str,
        req: Req<'_, B>,
    ) -> Result<Answer, AseError> {
        let inner = &*self.inner;
        let attempts = AtomicU32::new(0);
        let (attempts_ref, method_ref, req_ref) = (&attempts, &method, &req);
        let attempt = || async move {
            let n = attempts_ref.fetch_add(1, Relaxed) + 1;
            if inner.limiter.acquire().await.is_some() {
                inner.stats.rate_limit_wait();
            }
            let mut r = inner.http.request(method_ref.clone(), url.clone());
            if !req_ref.query.is_empty() {
                r = r.query(req_ref.query);
            }
            if let Some(s) = req_ref.session {
                r = r
                    .header(
                        COOKIE,
                        format!("{SESSION_COOKIE}={}", s.cookie.expose_secret()),
                    )
                    .header(XSRF_HEADER, s.xsrf.expose_secret());
            }
            if let Some(range) = &req_ref.range {
                r = r.header(RANGE, range);
            }
            if let Some(body) = req_ref.json {
                r = r.json(body);
            }
            let transport = |e: reqwest::Error| {
                inner.stats.transport_error();
                AttemptError::Transport(e)
            };
            let resp = r.send().await.map_err(transport)?;
            let status = resp.status().as_u16();
            inner.stats.status(status);
            let headers = resp.headers();
            let retry_after = retry::retry_after_of(headers);
            let content_range = headers
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let set_cookies: Vec<String> = headers
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect();
            let body = resp.bytes().await.map_err(transport)?;
            // Anything but a success is quoted in errors: what it echoes of the
            // request's credentials is hidden now. A 2xx body is hidden only when it is
            // quoted (`Inner::quote`), which keeps the pages' hot path free of it.
            let body = match status {
                200..=299 => body,
                _ => inner.hidden(body, req_ref.session),
            };
            if retry::is_retryable_status(status, &body) {
                return Err(AttemptError::Status {
                    status,
                    retry_after,
                    body,
                });
            }
            Ok(Answer {
                status,
                body,
                content_range,
                set_cookies,
                attempts: n,
                session: req_ref.session.cloned(),
            })
        };
        retry::with_retries(
            attempt,
            inner.cfg.retry_base_delay,
            inner.cfg.max_retries,
            &method,
            endpoint,
            || inner.stats.retry(),
        )
        .await
        .map_err(|err| final_error(err, &method, endpoint, attempts.load(Relaxed)))
    }
}

/// A `details_v2` answer: an array of detail objects, or an object holding one.
fn detail_items(endpoint: &str, answer: Value) -> Result<Vec<Value>, AseError> {
    match answer {
        Value::Array(items) => Ok(items),
        Value::Object(mut m) => {
            for key in ["issueDetails", "issueDetailsList", "items", "issues"] {
                if let Some(Value::Array(items)) = m.remove(key) {
                    return Ok(items);
                }
            }
            Err(AseError::InvalidResponse {
                endpoint: endpoint.to_string(),
                message: "no list of issue details in the answer".into(),
            })
        }
        _ => Err(AseError::InvalidResponse {
            endpoint: endpoint.to_string(),
            message: "issue details are not a JSON array or object".into(),
        }),
    }
}

fn http_error(method: &str, endpoint: &str, a: &Answer) -> AseError {
    AseError::Http {
        method: method.to_string(),
        endpoint: endpoint.to_string(),
        status: a.status,
        excerpt: body_message(&a.body),
        attempts: a.attempts,
    }
}

fn final_error(err: AttemptError, method: &Method, endpoint: &str, attempts: u32) -> AseError {
    match err {
        // A 403 is retried only when it says "Too many requests" (a rate limit).
        AttemptError::Status {
            status: 403, body, ..
        } => AseError::Forbidden {
            endpoint: endpoint.to_string(),
            message: format!("{} (after {attempts} attempt(s))", body_message(&body)),
        },
        AttemptError::Status { status, body, .. } => AseError::Http {
            method: method.to_string(),
            endpoint: endpoint.to_string(),
            status,
            excerpt: body_message(&body),
            attempts,
        },
        AttemptError::Transport(e) if e.is_timeout() => AseError::Timeout {
            endpoint: endpoint.to_string(),
            attempts,
        },
        AttemptError::Transport(e) => AseError::Transport {
            endpoint: endpoint.to_string(),
            detail: error_chain(&e),
            source: e,
        },
    }
}

impl fmt::Debug for AseClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let session = match self.inner.session.has_session() {
            Some(true) => "[REDACTED]",
            Some(false) => "(none)",
            None => "(busy)",
        };
        f.debug_struct("AseClient")
            .field("config", &self.inner.cfg)
            .field("session", &session)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Very-Secret-Ase-Key-77";

    #[test]
    fn debug_never_shows_the_secret_and_urls_are_encoded() {
        let c =
            AseClient::new(AseConfig::new("https://h:9443", "kid", SECRET.to_string())).unwrap();
        let s = format!("{c:?} {c:#?}");
        assert!(!s.contains(SECRET) && s.contains("kid"), "{s}");
        let (url, endpoint) = c.url(&["issues", "a b/c", "application", "7"]);
        assert_eq!(
            url.as_str(),
            "https://h:9443/ase/api/issues/a%20b%2Fc/application/7"
        );
        assert_eq!(endpoint, "/ase/api/issues/a%20b%2Fc/application/7");
    }

    #[test]
    fn details_answers_of_either_shape() {
        use serde_json::json;
        assert_eq!(detail_items("e", json!([{"id":"1"}])).unwrap().len(), 1);
        assert_eq!(
            detail_items("e", json!({"issueDetails":[{"id":"1"},{"id":"2"}]}))
                .unwrap()
                .len(),
            2
        );
        assert!(detail_items("e", json!({"x":1})).is_err());
    }

    #[tokio::test]
    async fn unreachable_server_is_a_transport_error_naming_the_login() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let mut cfg = AseConfig::new(format!("http://{addr}"), "kid", SECRET.to_string());
        cfg.max_retries = 1;
        cfg.retry_base_delay = std::time::Duration::from_millis(1);
        let c = AseClient::new(cfg).unwrap();
        let e = c.login().await.unwrap_err();
        assert!(matches!(e, AseError::Transport { .. }), "{e:?}");
        assert!(
            e.to_string().contains("/ase/api/keylogin/apikeylogin"),
            "{e}"
        );
        assert!(!format!("{e} {e:?}").contains(SECRET));
        assert_eq!(c.stats().transport_errors, 2);
    }
}
