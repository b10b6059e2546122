//! [`AsocClient`]: the request path (rate limit → send → classify → retry),
//! the login around it, and the page streams built on top.
//!
//! Every request goes through one function, `send`, which paces the
//! attempt, sends it, counts the answer, and retries what
//! [`apiclient::retry`] calls retryable, in its loop (honouring `Retry-After`).
//! Authenticated calls add one rule on top: a `401` drops the token, logs in
//! again, and repeats the call once. Listings are `futures::Stream`s of
//! [`Page`]s that fetch the next page only when the consumer asks for it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;

use crate::auth::{self, LoginBody, LoginReason, TokenCache};
use crate::config::ClientConfig;
use crate::error::{AsocError, body_message, error_chain, excerpt};
use crate::paging::{ListQuery, Page, Pager, parse_envelope};
use crate::server_clock::ServerClock;
use crate::stats::{ClientStats, Stats};
use apiclient::RateLimiter;
use apiclient::retry::{self, AttemptError};

/// `User-Agent` of every request.
const USER_AGENT: &str = concat!("appscan-bridge-asoc/", env!("CARGO_PKG_VERSION"));

/// An AppScan on Cloud v4 API client.
///
/// Cheap to clone (one `Arc`): clones share the token, the rate limiter and
/// the stats. Streams returned by the listing methods own a clone, so they
/// are `'static` and can be moved into tasks.
#[derive(Clone)]
pub struct AsocClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ClientConfig,
    base: Url,
    http: reqwest::Client,
    tokens: TokenCache,
    limiter: RateLimiter,
    stats: Stats,
    clock: ServerClock,
}

/// An answer that is final (success, or a status not worth retrying).
struct Answer {
    status: u16,
    /// The body; a non-2xx one with the request's credentials hidden (see [`Inner::hidden`]).
    body: Bytes,
    attempts: u32,
    /// The token the request carried, to hide it when a 2xx body is quoted.
    bearer: Option<SecretString>,
}

impl Inner {
    /// `body` with the credentials a request carried (the key secret, its token)
    /// hidden, for a body that is quoted: a server or proxy echoing the request had them
    /// shown in errors, run reasons and the dashboard.
    fn hidden(&self, body: Bytes, bearer: Option<&SecretString>) -> Bytes {
        let secrets = [
            self.cfg.key_secret.expose_secret(),
            bearer.map_or("", |b| b.expose_secret()),
        ];
        match apiclient::text::hide(&body, &secrets) {
            std::borrow::Cow::Borrowed(_) => body,
            std::borrow::Cow::Owned(hidden) => Bytes::from(hidden),
        }
    }

    /// The start of a 2xx body that could not be read, for an error.
    fn quote(&self, answer: &Answer) -> String {
        excerpt(&self.hidden(answer.body.clone(), answer.bearer.as_ref()))
    }
}

impl AsocClient {
    /// Checks the configuration and builds the HTTP client (TLS with the
    /// system roots plus `ca_file`). Sends nothing: the first call logs in.
    pub fn new(cfg: ClientConfig) -> Result<Self, AsocError> {
        let base = cfg.parsed_base_url()?;
        apiclient::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(std::time::Duration::from_secs(30)))
            .redirect(apiclient::redirect::policy())
            .user_agent(USER_AGENT);
        if let Some(path) = &cfg.ca_file {
            let certs = apiclient::ca_file::read(path).map_err(AsocError::Tls)?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| {
            AsocError::Tls(format!("building the HTTP client: {}", error_chain(&e)))
        })?;
        // ASoC limits requests per user: every client of this key shares the pace.
        let limiter =
            RateLimiter::shared(&format!("{base} {}", cfg.key_id), cfg.rate_limit_per_minute);
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                base,
                http,
                tokens: TokenCache::default(),
                limiter,
                stats: Stats::default(),
                clock: ServerClock::default(),
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> ClientStats {
        self.inner.stats.snapshot()
    }

    /// How far the server's clock is ahead of this host's (behind when negative), from
    /// the `Date` header of its first answer (a run's login); `None` before an answer had one.
    pub fn server_clock_offset(&self) -> Option<chrono::Duration> {
        self.inner.clock.offset()
    }

    /// Logs in now (replacing any token). Other calls log in by themselves;
    /// this is for a connection check, where "authentication" is a step.
    pub async fn login(&self) -> Result<(), AsocError> {
        self.inner
            .tokens
            .force(|reason| self.do_login(reason))
            .await
    }

    /// Ends the token on the server (`GET /api/v4/Account/Logout`) and
    /// forgets it. Failures are logged and otherwise ignored: the token
    /// expires anyway. A later call logs in again.
    pub async fn logout(&self) {
        let Some(token) = self.inner.tokens.take().await else {
            return;
        };
        let (url, endpoint) = self.url(&["api", "v4", "Account", "Logout"]);
        let logout = self.send(Method::GET, &url, &endpoint, &[], Some(&token), None::<&()>);
        match tokio::time::timeout(apiclient::retry::LOGOUT_WAIT, logout).await {
            Ok(Ok(a)) if (200..300).contains(&a.status) => tracing::debug!("logged out"),
            Ok(Ok(a)) => tracing::debug!(status = a.status, "logout answered an error"),
            Ok(Err(e)) => tracing::debug!(error = %e, "logout failed"),
            Err(_) => tracing::debug!("logout given up: no answer in time"),
        }
    }

    /// `GET /api/v4/Account/TenantInfo`: a cheap authenticated call (a
    /// `403` means the key lacks permission).
    pub async fn tenant_info(&self) -> Result<Value, AsocError> {
        let (url, endpoint) = self.url(&["api", "v4", "Account", "TenantInfo"]);
        let a = self.get_authed(&url, &endpoint, &[]).await?;
        apiclient::json::from_slice(&a.body).map_err(|e| AsocError::InvalidResponse {
            message: format!("not JSON ({e}); body starts: {:?}", self.inner.quote(&a)),
            endpoint,
        })
    }

    /// `GET /api/v4/Issues/{issue_id}/Details?format=xml`: the issue's long detail
    /// document, which list answers may leave out (their `IssueXml`).
    pub async fn issue_details(&self, issue_id: &str) -> Result<String, AsocError> {
        let (url, endpoint) = self.url(&["api", "v4", "Issues", issue_id, "Details"]);
        let a = self
            .get_authed(&url, &endpoint, &[("format", "xml".to_string())])
            .await?;
        let doc = detail_text(&a.body).map_err(|message| AsocError::InvalidResponse {
            message,
            endpoint: endpoint.clone(),
        })?;
        // A proxy's error page or a cut answer, not the XML document asked for.
        let head: String = doc
            .trim_start()
            .chars()
            .take(15)
            .collect::<String>()
            .to_ascii_lowercase();
        if !head.starts_with('<') || head.starts_with("<!doctype html") || head.starts_with("<html")
        {
            return Err(AsocError::InvalidResponse {
                message: format!(
                    "not an XML document; body starts: {:?}",
                    self.inner.quote(&a)
                ),
                endpoint,
            });
        }
        Ok(doc)
    }

    /// `GET /api/v4/Apps`, page by page.
    pub fn apps(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<Page, AsocError>> + Send + use<> {
        self.list(&["api", "v4", "Apps"], None, query)
    }

    /// `GET /api/v4/Issues/Application/{app_id}`, page by page.
    pub fn issues(
        &self,
        app_id: &str,
        query: ListQuery,
    ) -> impl Stream<Item = Result<Page, AsocError>> + Send + use<> {
        self.list(
            &["api", "v4", "Issues", "Application", app_id],
            Some(app_id.to_string()),
            query,
        )
    }

    /// The endpoint [`Self::issues`] lists an app's issues from, as its errors name it.
    pub fn issues_endpoint(&self, app_id: &str) -> String {
        self.url(&["api", "v4", "Issues", "Application", app_id]).1
    }

    /// Whether `GET /Apps` still lists the app (`$filter=Id eq <id>`, ids being GUIDs,
    /// written bare): a `404` on its issues means the app is gone only then, not a
    /// gateway's passing error.
    pub async fn app_listed(&self, app_id: &str) -> Result<bool, AsocError> {
        let query = ListQuery::all()
            .with_filter(format!("Id eq {app_id}"))
            .with_max_pages(1);
        let mut pages = std::pin::pin!(self.apps(query));
        match pages.next().await {
            Some(page) => Ok(!page?.items.is_empty()),
            None => Ok(false),
        }
    }

    /// The issues of several apps, `concurrency` apps at a time, pages
    /// yielded as they arrive (each tagged with its app id). An error ends
    /// only the listing of the app it happened on; every app yields at least
    /// one item (a page, possibly empty, or an error).
    pub fn issues_for_apps(
        &self,
        app_ids: Vec<String>,
        query: ListQuery,
    ) -> impl Stream<Item = Result<Page, AsocError>> + Send + use<> {
        let client = self.clone();
        let limit = self.inner.cfg.concurrency;
        futures::stream::iter(app_ids)
            .map(move |id| Box::pin(client.issues(&id, query.clone())))
            .flatten_unordered(limit)
    }

    // ---- listings ------------------------------------------------------

    fn list(
        &self,
        segments: &[&str],
        app_id: Option<String>,
        query: ListQuery,
    ) -> impl Stream<Item = Result<Page, AsocError>> + Send + use<> {
        struct Listing {
            client: AsocClient,
            url: Url,
            endpoint: String,
            app_id: Option<String>,
            query: ListQuery,
            pager: Pager,
            /// The first item of the page before, to tell a server that ignores `$skip`.
            last_first: Option<Value>,
        }
        let (url, endpoint) = self.url(segments);
        let start = Listing {
            client: self.clone(),
            url,
            endpoint,
            app_id,
            pager: Pager::new(self.inner.cfg.page_size, query.max_pages),
            query,
            last_first: None,
        };
        futures::stream::unfold(start, |mut l| async move {
            let skip = l.pager.next_skip()?;
            let params = l.query.params(l.pager.page_size(), skip);
            // A body cut short or replaced by a proxy's page is usually passing: the page
            // is fetched again (as many times as a failed request is retried, with its
            // backoff) before it counts as unreadable.
            let cfg = &l.client.inner.cfg;
            let mut waits = retry::delays(cfg.retry_base_delay, cfg.max_retries);
            let item = loop {
                let answer = match l.client.get_authed(&l.url, &l.endpoint, &params).await {
                    Err(e) => {
                        l.pager.on_error();
                        break Err(e);
                    }
                    Ok(a) => a,
                };
                match parse_envelope(&answer.body) {
                    // Without a Count only an empty page ends a listing: a server that
                    // ignores `$skip` answers its first page again and again, and the
                    // listing asked for it for ever (80,000 requests a minute, memory
                    // growing). The repeat ends it, its items not taken twice.
                    Ok((items, None))
                        if skip > 0
                            && !items.is_empty()
                            && items.first() == l.last_first.as_ref() =>
                    {
                        let capped = items.len() <= l.pager.page_size();
                        tracing::warn!(endpoint = %l.endpoint, skip, "the server answered the page before again: it ignores $skip; the listing ends here");
                        l.pager.on_repeated_page(capped.then(|| {
                            format!(
                                "the server answered $skip={skip} with the page before: it \
                                 ignores $skip, so what its pages did not hold cannot be read"
                            )
                        }));
                        break Ok(Page {
                            app_id: l.app_id.clone(),
                            skip,
                            count: None,
                            items: Vec::new(),
                            moved: l.pager.moved().map(str::to_string),
                        });
                    }
                    Ok((items, count)) => {
                        l.last_first = items.first().cloned();
                        l.pager.on_page(items.len(), count);
                        l.client.inner.stats.page(items.len());
                        break Ok(Page {
                            app_id: l.app_id.clone(),
                            skip,
                            count,
                            items,
                            moved: l.pager.moved().map(str::to_string),
                        });
                    }
                    Err(message) if let Some(wait) = waits.next() => {
                        l.client.inner.stats.retry();
                        tracing::warn!(endpoint = %l.endpoint, skip, %message, delay_ms = wait.as_millis() as u64, "unreadable page, fetching it again");
                        tokio::time::sleep(wait).await;
                    }
                    Err(message) => {
                        l.pager.on_bad_page();
                        l.client.inner.stats.bad_page();
                        tracing::warn!(endpoint = %l.endpoint, skip, %message, "unreadable page skipped");
                        break Err(AsocError::BadPage {
                            endpoint: l.endpoint.clone(),
                            app_id: l.app_id.clone(),
                            skip,
                            message,
                            excerpt: l.client.inner.quote(&answer),
                            gave_up: l.pager.gave_up().then(|| l.pager.count()),
                        });
                    }
                }
            };
            Some((item, l))
        })
    }

    // ---- requests ------------------------------------------------------

    /// The URL of `segments` under the base URL (each segment
    /// percent-encoded), and its path for error messages.
    fn url(&self, segments: &[&str]) -> (Url, String) {
        let mut url = self.inner.base.clone();
        // Cannot fail: the base URL was validated to have a host.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let endpoint = url.path().to_string();
        (url, endpoint)
    }

    /// A `GET` with the bearer token; a `401` logs in again and repeats the
    /// call once. Returns a 2xx answer.
    async fn get_authed(
        &self,
        url: &Url,
        endpoint: &str,
        query: &[(&'static str, String)],
    ) -> Result<Answer, AsocError> {
        let mut relogged = false;
        loop {
            let token = self
                .inner
                .tokens
                .get(|reason| self.do_login(reason))
                .await?;
            let answer = self
                .send(
                    Method::GET,
                    url,
                    endpoint,
                    query,
                    Some(&token.value),
                    None::<&()>,
                )
                .await?;
            match answer.status {
                200..=299 => return Ok(answer),
                401 if !relogged => {
                    relogged = true;
                    tracing::info!(endpoint, "token rejected (401); logging in again");
                    self.inner.tokens.reject(token.generation).await;
                }
                401 => {
                    return Err(AsocError::Auth {
                        status: 401,
                        message: format!(
                            "{endpoint} answered 401 again right after a fresh login: {}",
                            body_message(&answer.body)
                        ),
                    });
                }
                403 => {
                    return Err(AsocError::Forbidden {
                        endpoint: endpoint.to_string(),
                        message: body_message(&answer.body),
                    });
                }
                status => {
                    return Err(AsocError::Http {
                        method: "GET".into(),
                        endpoint: endpoint.to_string(),
                        status,
                        excerpt: body_message(&answer.body),
                        attempts: answer.attempts,
                    });
                }
            }
        }
    }

    /// `POST /api/v4/Account/ApiKeyLogin`. An answer echoing the secret has it
    /// hidden (by `send`) before any message quotes it.
    async fn do_login(
        &self,
        reason: LoginReason,
    ) -> Result<(SecretString, std::time::Duration), AsocError> {
        let cfg = &self.inner.cfg;
        let (url, endpoint) = self.url(&["api", "v4", "Account", "ApiKeyLogin"]);
        let body = LoginBody {
            key_id: cfg.key_id.trim(),
            key_secret: cfg.key_secret.expose_secret(),
        };
        let answer = self
            .send(Method::POST, &url, &endpoint, &[], None, Some(&body))
            .await?;
        match answer.status {
            200..=299 => {
                let (token, lifetime) = auth::parse_login_answer(&answer.body, chrono::Utc::now())
                    .map_err(|message| AsocError::InvalidResponse { endpoint, message })?;
                let stats = &self.inner.stats;
                stats.login();
                match reason {
                    LoginReason::First => {}
                    LoginReason::Refresh => stats.token_refresh(),
                    LoginReason::Rejected => stats.relogin_after_401(),
                }
                tracing::debug!(?reason, lifetime_s = lifetime.as_secs(), "logged in");
                Ok((token, lifetime))
            }
            401 => Err(AsocError::Auth {
                status: 401,
                message: match body_message(&answer.body) {
                    m if m == "(empty body)" => {
                        "the API key id or secret is wrong, or the key was revoked or regenerated"
                            .to_string()
                    }
                    m => format!(
                        "the API key id or secret is wrong, or the key was revoked or regenerated ({m})"
                    ),
                },
            }),
            status @ (400 | 403) => Err(AsocError::Auth {
                status,
                message: body_message(&answer.body),
            }),
            status => Err(AsocError::Http {
                method: "POST".into(),
                endpoint,
                status,
                excerpt: body_message(&answer.body),
                attempts: answer.attempts,
            }),
        }
    }

    /// One request with pacing and retries. `Ok` for any final answer
    /// (including 4xx); `Err` when retries ran out or the failure is not
    /// worth retrying.
    async fn send<B: Serialize + Sync + ?Sized>(
        &self,
        method: Method,
        url: &Url,
        endpoint: &str,
        query: &[(&'static str, String)],
        bearer: Option<&SecretString>,
        json: Option<&B>,
    ) -> Result<Answer, AsocError> {
        let inner = &*self.inner;
        let attempts = AtomicU32::new(0);
        let (attempts_ref, method_ref) = (&attempts, &method);
        let attempt = || async move {
            let n = attempts_ref.fetch_add(1, Relaxed) + 1;
            if let Some(waited) = inner.limiter.acquire().await {
                inner.stats.rate_limit_wait(waited);
            }
            let mut req = inner.http.request(method_ref.clone(), url.clone());
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(token) = bearer {
                req = req.bearer_auth(token.expose_secret());
            }
            if let Some(body) = json {
                req = req.json(body);
            }
            let transport = |e: reqwest::Error| {
                inner.stats.transport_error(e.is_timeout());
                AttemptError::Transport(e)
            };
            let resp = req.send().await.map_err(transport)?;
            let status = resp.status().as_u16();
            inner.stats.status(status);
            inner.clock.saw(resp.headers());
            let retry_after = retry::retry_after_of(resp.headers());
            let body = resp.bytes().await.map_err(transport)?;
            // Anything but a success is quoted in errors: what it echoes of the
            // request's credentials is hidden now. A 2xx body is hidden only when it is
            // quoted (`Inner::quote`), which keeps the pages' hot path free of it.
            let body = match status {
                200..=299 => body,
                _ => inner.hidden(body, bearer),
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
                attempts: n,
                bearer: bearer.cloned(),
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

/// The error for an attempt that is not retried (again).
fn final_error(err: AttemptError, method: &Method, endpoint: &str, attempts: u32) -> AsocError {
    match err {
        AttemptError::Status {
            status: 403, body, ..
        } => AsocError::Forbidden {
            endpoint: endpoint.to_string(),
            message: format!("{} (after {attempts} attempt(s))", body_message(&body)),
        },
        AttemptError::Status { status, body, .. } => AsocError::Http {
            method: method.to_string(),
            endpoint: endpoint.to_string(),
            status,
            excerpt: body_message(&body),
            attempts,
        },
        AttemptError::Transport(e) if e.is_timeout() => AsocError::Timeout {
            endpoint: endpoint.to_string(),
            attempts,
        },
        AttemptError::Transport(e) => AsocError::Transport {
            endpoint: endpoint.to_string(),
            detail: error_chain(&e),
            source: e,
        },
    }
}

/// A detail document's text: UTF-8 without the byte order mark a .NET XML writer puts
/// first (the document was refused as "not XML" and every issue with it lost), or UTF-16
/// when its byte order mark says so.
fn detail_text(body: &[u8]) -> Result<String, String> {
    if let Some(rest) = body.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = body.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes);
    }
    let text = body.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(body);
    String::from_utf8(text.to_vec()).map_err(|e| format!("the detail document is not UTF-8: {e}"))
}

/// UTF-16 text whose code units `unit` reads from byte pairs.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    let pairs = bytes.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err("the detail document is UTF-16 of an odd number of bytes".into());
    }
    char::decode_utf16(pairs.map(|p| unit([p[0], p[1]])))
        .collect::<Result<String, _>>()
        .map_err(|e| format!("the detail document is not UTF-16: {e}"))
}

impl fmt::Debug for AsocClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = match self.inner.tokens.has_token() {
            Some(true) => "[REDACTED]",
            Some(false) => "(none)",
            None => "(busy)",
        };
        f.debug_struct("AsocClient")
            .field("config", &self.inner.cfg)
            .field("token", &token)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_detail_document_may_start_with_a_byte_order_mark() {
        let doc = "<?xml version=\"1.0\"?><d>é</d>";
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend_from_slice(doc.as_bytes());
        assert_eq!(super::detail_text(&utf8).as_deref(), Ok(doc));
        assert_eq!(super::detail_text(doc.as_bytes()).as_deref(), Ok(doc));
        let mut le = vec![0xFF, 0xFE];
        le.extend(doc.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(super::detail_text(&le).as_deref(), Ok(doc));
        let mut be = vec![0xFE, 0xFF];
        be.extend(doc.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(super::detail_text(&be).as_deref(), Ok(doc));
        assert!(super::detail_text(&[0xFF, 0xFE, 0x3C]).is_err());
        assert!(super::detail_text(&[0x3C, 0xFF]).is_err());
    }

    use super::*;
    use std::time::Duration;

    const SECRET: &str = "Very-Secret-Key-Value-123";

    fn client(base: &str) -> AsocClient {
        let mut cfg = ClientConfig::new(base, "my-key-id", SECRET.to_string());
        cfg.retry_base_delay = Duration::from_millis(1);
        cfg.max_retries = 1;
        AsocClient::new(cfg).unwrap()
    }

    fn assert_send_static<T: Send + 'static>(_: &T) {}

    #[test]
    fn debug_never_shows_the_secret() {
        let c = client("https://cloud.appscan.com");
        let s = format!("{c:?} {c:#?} {:?}", c.config());
        assert!(!s.contains(SECRET), "{s}");
        assert!(s.contains("my-key-id"), "{s}");
    }

    #[test]
    fn urls_encode_app_ids() {
        let c = client("https://h.example/prefix/");
        let (url, endpoint) = c.url(&["api", "v4", "Issues", "Application", "a b/c"]);
        assert_eq!(
            url.as_str(),
            "https://h.example/prefix/api/v4/Issues/Application/a%20b%2Fc"
        );
        assert_eq!(endpoint, "/prefix/api/v4/Issues/Application/a%20b%2Fc");
    }

    #[test]
    fn page_size_above_max_is_a_config_error() {
        let mut cfg = ClientConfig::new("https://h.example", "id", SECRET.to_string());
        cfg.page_size = 5001;
        assert!(matches!(AsocClient::new(cfg), Err(AsocError::Config(_))));
    }

    #[test]
    fn bad_ca_file_is_a_tls_error() {
        let dir = std::env::temp_dir().join(format!("asoc-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("garbage.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let mut cfg = ClientConfig::new("https://h.example", "id", SECRET.to_string());
        cfg.ca_file = Some(path.clone());
        assert!(matches!(
            AsocClient::new(cfg.clone()),
            Err(AsocError::Tls(_))
        ));
        cfg.ca_file = Some(dir.join("missing.pem"));
        let e = AsocClient::new(cfg).unwrap_err();
        assert!(
            matches!(e, AsocError::Tls(_)) && e.to_string().contains("missing.pem"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn good_ca_file_is_accepted() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test-ca.pem");
        let mut cfg = ClientConfig::new("https://h.example", "id", SECRET.to_string());
        cfg.ca_file = Some(path);
        AsocClient::new(cfg).unwrap();
    }

    #[tokio::test]
    async fn streams_are_send_and_static() {
        let c = client("http://127.0.0.1:9");
        let s = c.apps(ListQuery::default());
        assert_send_static(&s);
        let s = c.issues_for_apps(vec!["a".into()], ListQuery::default());
        assert_send_static(&s);
        let f = c.tenant_info();
        fn assert_send<T: Send>(_: &T) {}
        assert_send(&f);
    }

    #[tokio::test]
    async fn unreachable_server_is_a_transport_error_after_retries() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let c = client(&format!("http://{addr}"));
        let e = c.tenant_info().await.unwrap_err();
        assert!(matches!(e, AsocError::Transport { .. }), "{e:?}");
        assert!(e.to_string().contains("/api/v4/Account/ApiKeyLogin"), "{e}");
        assert!(!e.to_string().contains(SECRET));
        let st = c.stats();
        assert_eq!((st.transport_errors, st.retries, st.requests), (2, 1, 0));
    }
}
