//! What is retried, and how long to wait before the next try.
//!
//! One function decides whether a failed attempt is worth another one:
//! [`is_retryable`] (built on [`is_retryable_status`] and
//! [`is_retryable_transport`]). The wait is exponential with jitter from
//! `backon` ([`backoff`]), replaced by the server's `Retry-After` when it sent
//! one ([`parse_retry_after`], [`retry_after_of`]). [`with_retries`] is the loop
//! both clients run their attempts in.

use std::error::Error as StdError;
use std::future::Future;
use std::time::{Duration, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use reqwest::Method;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Upper bound for one computed backoff delay (not for `Retry-After`, which has
/// its own cap, [`MAX_RETRY_AFTER`]).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// The longest a logout may take, retries included. It is a courtesy (the token or
/// session expires on the server anyway), awaited before a run records its end: a
/// server answering 503 or `Retry-After` to it held a finished run Processing, its lock
/// taken and Ctrl-C unheard, for as long as the retries' backoff (26 s by default, up to
/// minutes with `Retry-After`).
pub const LOGOUT_WAIT: Duration = Duration::from_secs(5);

/// Longest `Retry-After` honoured; a longer one is cut to this (the server
/// answers 429 again if it was serious, and the retry budget still applies).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// A rate-limit answer without `Retry-After` waits at least this many base delays (10 s
/// by default): ASoC counts a sliding minute, and the plain backoff's first retries
/// (0.5, 1, 2 s) came back into the same full window and spent the retries in ~15 s.
pub const RATE_LIMIT_WAIT_IN_BASES: u32 = 20;

/// One failed attempt of a request, as seen by the retry loop.
#[derive(Debug)]
pub enum AttemptError {
    /// The server answered with a status [`is_retryable_status`] accepts.
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: bytes::Bytes,
    },
    /// Sending the request or reading the answer failed.
    Transport(reqwest::Error),
}

impl AttemptError {
    /// The server's `Retry-After`, if this attempt carried one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AttemptError::Status { retry_after, .. } => *retry_after,
            AttemptError::Transport(_) => None,
        }
    }

    /// Whether the server said "too many requests" (`429`, or a `403` saying so).
    pub fn is_rate_limit(&self) -> bool {
        match self {
            AttemptError::Status { status, body, .. } => {
                *status == 429 || (*status == 403 && looks_like_rate_limit(body))
            }
            AttemptError::Transport(_) => false,
        }
    }

    /// The wait before the next try, where the backoff computed `computed`: the
    /// server's `Retry-After` when it sent one, else at least
    /// [`RATE_LIMIT_WAIT_IN_BASES`] base delays (at most [`MAX_RETRY_AFTER`]) after a
    /// rate-limit answer.
    pub fn wait(&self, computed: Duration, base: Duration) -> Duration {
        match self.retry_after() {
            Some(d) => d,
            None if self.is_rate_limit() => computed.max(
                base.saturating_mul(RATE_LIMIT_WAIT_IN_BASES)
                    .min(MAX_RETRY_AFTER),
            ),
            None => computed,
        }
    }

    /// A one-line account of the attempt for logs.
    pub fn describe(&self) -> String {
        match self {
            AttemptError::Status { status, .. } => format!("HTTP {status}"),
            AttemptError::Transport(e) => crate::text::error_chain(e),
        }
    }
}

/// The one place that says whether an attempt is tried again.
pub fn is_retryable(err: &AttemptError) -> bool {
    match err {
        AttemptError::Status { status, body, .. } => is_retryable_status(*status, body),
        AttemptError::Transport(e) => is_retryable_transport(e),
    }
}

/// `429`, `500`, `502`, `503` and `504` are retried; so is a `403` whose body
/// says "Too many requests" (how older servers signalled the rate limit).
/// Everything else (`400`, `401`, other `403`, `404`, `501`...) is final:
/// `401` has its own re-login path, the rest will not change by asking again.
pub fn is_retryable_status(status: u16, body: &[u8]) -> bool {
    match status {
        429 | 500 | 502 | 503 | 504 => true,
        403 => looks_like_rate_limit(body),
        _ => false,
    }
}

fn looks_like_rate_limit(body: &[u8]) -> bool {
    let head = &body[..body.len().min(512)];
    String::from_utf8_lossy(head)
        .to_ascii_lowercase()
        .contains("too many requests")
}

/// Timeouts, connection failures (refused, reset, DNS) and broken bodies are
/// retried; a TLS failure (bad or unknown certificate) and anything about
/// building the request (bad URL), redirects or decoding is not.
pub fn is_retryable_transport(err: &reqwest::Error) -> bool {
    if err.is_builder() || err.is_redirect() || err.is_decode() || err.is_status() {
        return false;
    }
    if is_tls_error(err) {
        return false;
    }
    err.is_timeout() || err.is_connect() || err.is_request() || err.is_body()
}

/// Whether a `rustls` error is anywhere in the source chain. An `io::Error`
/// is looked into through `get_ref()`, because its `source()` skips the
/// error it wraps (and hyper-rustls nests one `io::Error` in another).
pub fn is_tls_error(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<rustls::Error>() {
            return true;
        }
        cur = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    false
}

/// Parses a `Retry-After` value: delta-seconds (`"120"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, measured from `now`; a past date means
/// no wait). Capped at [`MAX_RETRY_AFTER`]. `None` for anything else.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let wait = if v.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: seconds. A number too big for u64 is "very long".
        Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The `Retry-After` of an answer's headers, read as [`parse_retry_after`] reads it.
pub fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// Runs `attempt` until it succeeds, fails for good or the retries run out: the
/// schedule of [`backoff`], each wait replaced by the server's `Retry-After` when it
/// sent one (a rate-limit answer without one waits longer: [`AttemptError::wait`]), and
/// before each new try `on_retry` and a warning naming the request.
/// The error is the last attempt's.
pub async fn with_retries<T, Fut>(
    attempt: impl FnMut() -> Fut,
    base: Duration,
    max_retries: usize,
    method: &Method,
    endpoint: &str,
    on_retry: impl Fn(),
) -> Result<T, AttemptError>
where
    Fut: Future<Output = Result<T, AttemptError>>,
{
    attempt
        .retry(backoff(base, max_retries))
        .when(is_retryable)
        .adjust(|err, delay| delay.map(|d| err.wait(d, base)))
        .notify(|err, delay| {
            on_retry();
            tracing::warn!(
                %method,
                endpoint,
                problem = %err.describe(),
                delay_ms = delay.as_millis() as u64,
                "retrying"
            );
        })
        .await
}

/// The backoff schedule: `base`, then doubling (with up to 100 % jitter),
/// capped at [`MAX_RETRY_DELAY`], for at most `max_retries` retries.
pub fn backoff(base: Duration, max_retries: usize) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(base)
        .with_max_delay(MAX_RETRY_DELAY.max(base))
        .with_factor(2.0)
        .with_max_times(max_retries)
        .with_jitter()
}

/// The waits of [`backoff`] one after another (`max_retries` of them), for a caller that
/// retries something [`with_retries`] does not see: a page that arrived but cannot be
/// read.
pub fn delays(base: Duration, max_retries: usize) -> impl Iterator<Item = Duration> {
    backon::BackoffBuilder::build(backoff(base, max_retries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use backon::BackoffBuilder;
    use std::time::UNIX_EPOCH;

    #[test]
    fn statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s, b""), "{s}");
        }
        for s in [200, 204, 400, 401, 403, 404, 409, 501, 505] {
            assert!(!is_retryable_status(s, b""), "{s}");
        }
        assert!(is_retryable_status(
            403,
            br#"{"Message":"Too many requests."}"#
        ));
        assert!(!is_retryable_status(
            403,
            br#"{"Key":"Forbidden","Message":"No permission"}"#
        ));
    }

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("100000", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn retry_after_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 2015-10-21 07:27:50 GMT
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        // In the past: retry now.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        // Far future: capped.
        assert_eq!(
            parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT", now),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn retry_after_garbage() {
        let now = SystemTime::now();
        for v in ["", "  ", "-1", "1.5", "soon", "Wed, 99 Foo 2015"] {
            assert_eq!(parse_retry_after(v, now), None, "{v:?}");
        }
    }

    #[test]
    fn backoff_grows_and_stops() {
        let delays: Vec<Duration> = backoff(Duration::from_millis(10), 4).build().collect();
        assert_eq!(delays.len(), 4);
        // Jitter adds up to 100 %: attempt n lies in [base*2^n, 2*base*2^n].
        for (n, d) in delays.iter().enumerate() {
            let lo = Duration::from_millis(10 * (1 << n));
            assert!(*d >= lo && *d <= lo * 2, "attempt {n}: {d:?}");
        }
        assert_eq!(backoff(Duration::from_millis(1), 0).build().count(), 0);
        // Capped.
        let last = backoff(Duration::from_secs(10), 10).build().last().unwrap();
        assert!(last <= MAX_RETRY_DELAY * 2, "{last:?}");
    }

    #[test]
    fn a_rate_limit_without_retry_after_waits_longer() {
        let base = Duration::from_millis(500);
        let short = Duration::from_millis(700);
        assert_eq!(status(429, None).wait(short, base), Duration::from_secs(10));
        assert_eq!(
            status(429, Some(Duration::from_secs(2))).wait(short, base),
            Duration::from_secs(2),
            "the server's word wins"
        );
        assert_eq!(status(503, None).wait(short, base), short);
        let forbidden = |body: &'static str| AttemptError::Status {
            status: 403,
            retry_after: None,
            body: bytes::Bytes::from_static(body.as_bytes()),
        };
        assert!(forbidden("Too many requests.").is_rate_limit());
        assert!(!forbidden("No permission").is_rate_limit());
    }

    fn status(status: u16, retry_after: Option<Duration>) -> AttemptError {
        AttemptError::Status {
            status,
            retry_after,
            body: bytes::Bytes::new(),
        }
    }

    #[tokio::test]
    async fn with_retries_tries_again_until_an_answer_honouring_retry_after() {
        use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
        let (tries, retries) = (AtomicU32::new(0), AtomicU32::new(0));
        let started = std::time::Instant::now();
        let answer = with_retries(
            || async {
                match tries.fetch_add(1, Relaxed) {
                    0 => Err(status(503, None)),
                    1 => Err(status(429, Some(Duration::from_millis(30)))),
                    n => Ok(n),
                }
            },
            Duration::from_millis(1),
            5,
            &Method::GET,
            "/api/v4/Apps",
            || {
                retries.fetch_add(1, Relaxed);
            },
        )
        .await;
        assert_eq!(answer.unwrap(), 2);
        assert_eq!(retries.load(Relaxed), 2);
        // The second wait was the server's 30 ms, not the 2–4 ms schedule.
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn with_retries_gives_up_on_a_final_status_and_when_retries_run_out() {
        use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
        for (answer, max_retries, tries_made) in [(404, 5, 1), (503, 2, 3)] {
            let tries = AtomicU32::new(0);
            let err = with_retries(
                || async {
                    tries.fetch_add(1, Relaxed);
                    Err::<(), _>(status(answer, None))
                },
                Duration::from_millis(1),
                max_retries,
                &Method::GET,
                "/x",
                || {},
            )
            .await
            .unwrap_err();
            assert!(matches!(err, AttemptError::Status { status, .. } if status == answer));
            assert_eq!(tries.load(Relaxed), tries_made, "HTTP {answer}");
        }
    }

    #[tokio::test]
    async fn transport_connection_refused_is_retryable() {
        crate::install_crypto_provider();
        // Bind then drop a listener: the port is (very likely) closed now.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let err = reqwest::Client::new()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(is_retryable_transport(&err));
        assert!(is_retryable(&AttemptError::Transport(err)));
    }

    #[tokio::test]
    async fn transport_timeout_is_retryable() {
        crate::install_crypto_provider();
        // Accepts but never answers.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut socks = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                socks.push(s);
            }
        });
        let err = reqwest::Client::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(is_retryable_transport(&err));
        hold.abort();
    }

    #[tokio::test]
    async fn transport_bad_url_is_not_retryable() {
        crate::install_crypto_provider();
        let err = reqwest::Client::new()
            .get("http://exa mple.com/")
            .send()
            .await
            .unwrap_err();
        assert!(err.is_builder(), "{err:?}");
        assert!(!is_retryable_transport(&err));
    }

    #[test]
    fn tls_error_in_chain_is_detected() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(is_tls_error(&io));
        // As hyper-rustls reports it: io::Error(Other, io::Error(InvalidData, rustls::Error)).
        let nested = std::io::Error::other(io);
        assert!(is_tls_error(&nested));
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(!is_tls_error(&plain));
    }
}
