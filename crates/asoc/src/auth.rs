//! The bearer token: the login request and answer, and the cache that keeps
//! one token for all clones of a client.
//!
//! `POST /api/v4/Account/ApiKeyLogin` answers `{"Token", "Expire"}`. The
//! token is refreshed ahead of `Expire` (when less than [`refresh_margin`]
//! of its life is left), and dropped and replaced once when a call is
//! answered `401` (the key was regenerated, the server restarted, clocks
//! disagree). The cache holds an async mutex across the login, so many
//! concurrent requests that find the token stale cause one login, not many.
//! The HTTP side of the login lives in `client.rs`; this module has no I/O.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::AsocError;

/// Token lifetime assumed when `Expire` is absent, unreadable or already
/// past by our clock: the 30 minutes the connector documents state. A `401`
/// still triggers a re-login if the server disagrees.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Refresh at most this long before expiry.
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How long before expiry a token is replaced: 60 s, or a tenth of its
/// lifetime when that is shorter (so a 2-second test token is used for 1.8 s
/// instead of never).
pub fn refresh_margin(lifetime: Duration) -> Duration {
    MAX_REFRESH_MARGIN.min(lifetime / 10)
}

/// The login body. Serialized straight into the request; never logged.
#[derive(Serialize)]
pub(crate) struct LoginBody<'a> {
    #[serde(rename = "KeyId")]
    pub key_id: &'a str,
    #[serde(rename = "KeySecret")]
    pub key_secret: &'a str,
}

#[derive(Deserialize)]
struct LoginAnswer {
    #[serde(rename = "Token", alias = "token")]
    token: Option<String>,
    #[serde(rename = "Expire", alias = "expire", default)]
    expire: Option<String>,
}

/// Reads a login answer into the token and its remaining lifetime (from
/// `Expire`, relative to `now`). The error never quotes the body: it holds
/// the token.
pub(crate) fn parse_login_answer(
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(SecretString, Duration), String> {
    let answer: LoginAnswer = serde_json::from_slice(body).map_err(|e| {
        format!(
            "login answer is not the documented JSON object (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let token = answer
        .token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| "login answer has no Token".to_string())?;
    // Sent as `Authorization: Bearer …`: a token no header can carry failed the next
    // request as a "builder error", blamed on an endpoint the login never reached.
    if reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
        return Err(
            "login answer's Token holds characters an HTTP header cannot carry (control \
             characters or line breaks)"
                .to_string(),
        );
    }
    let lifetime = answer
        .expire
        .as_deref()
        .and_then(parse_expire)
        .and_then(|exp| (exp - now).to_std().ok())
        .filter(|d| !d.is_zero());
    let lifetime = match lifetime {
        Some(l) => l,
        None => {
            tracing::warn!(
                expire = answer.expire.as_deref().unwrap_or("(absent)"),
                "login answer has no usable future Expire; assuming a 30-minute token"
            );
            DEFAULT_TOKEN_LIFETIME
        }
    };
    Ok((SecretString::from(token), lifetime))
}

/// `Expire` as RFC 3339, or as a date-time without offset (taken as UTC).
pub(crate) fn parse_expire(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// Why a login happens (counted separately in the stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginReason {
    /// No token yet (or after `logout`), or an explicit `login()`.
    First,
    /// The token is close to `Expire`.
    Refresh,
    /// A call was answered `401` with the current token.
    Rejected,
}

/// A token handed to one request.
#[derive(Clone)]
pub(crate) struct CurrentToken {
    pub value: SecretString,
    /// Which login produced it, so a `401` invalidates only that one.
    pub generation: u64,
}

struct Token {
    value: SecretString,
    refresh_at: Instant,
    generation: u64,
}

enum State {
    Empty,
    Valid(Token),
    Rejected,
}

struct Slot {
    state: State,
    /// Logins so far: the generation of the next token is one more.
    logins: u64,
}

/// The one token of a client.
pub(crate) struct TokenCache {
    slot: Mutex<Slot>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self {
            slot: Mutex::new(Slot {
                state: State::Empty,
                logins: 0,
            }),
        }
    }
}

impl TokenCache {
    /// The current token, logging in first (through `login`) if there is
    /// none, it is due for refresh, or it was rejected.
    pub(crate) async fn get<F, Fut>(&self, login: F) -> Result<CurrentToken, AsocError>
    where
        F: FnOnce(LoginReason) -> Fut,
        Fut: Future<Output = Result<(SecretString, Duration), AsocError>>,
    {
        let mut slot = self.slot.lock().await;
        let reason = match &slot.state {
            State::Valid(t) if Instant::now() < t.refresh_at => {
                return Ok(CurrentToken {
                    value: t.value.clone(),
                    generation: t.generation,
                });
            }
            State::Valid(_) => LoginReason::Refresh,
            State::Rejected => LoginReason::Rejected,
            State::Empty => LoginReason::First,
        };
        Self::login_locked(&mut slot, reason, login).await
    }

    /// Logs in now, whatever the state (explicit `login()`).
    pub(crate) async fn force<F, Fut>(&self, login: F) -> Result<(), AsocError>
    where
        F: FnOnce(LoginReason) -> Fut,
        Fut: Future<Output = Result<(SecretString, Duration), AsocError>>,
    {
        let mut slot = self.slot.lock().await;
        Self::login_locked(&mut slot, LoginReason::First, login)
            .await
            .map(|_| ())
    }

    async fn login_locked<F, Fut>(
        slot: &mut Slot,
        reason: LoginReason,
        login: F,
    ) -> Result<CurrentToken, AsocError>
    where
        F: FnOnce(LoginReason) -> Fut,
        Fut: Future<Output = Result<(SecretString, Duration), AsocError>>,
    {
        let started = Instant::now();
        let (value, lifetime) = login(reason).await?;
        // Measured from when the login was sent: errs on the early side.
        let refresh_at = started + lifetime.saturating_sub(refresh_margin(lifetime));
        slot.logins += 1;
        let generation = slot.logins;
        slot.state = State::Valid(Token {
            value: value.clone(),
            refresh_at,
            generation,
        });
        Ok(CurrentToken { value, generation })
    }

    /// A call with token `generation` was answered `401`: drop that token
    /// (unless another request already replaced it).
    pub(crate) async fn reject(&self, generation: u64) {
        let mut slot = self.slot.lock().await;
        if let State::Valid(t) = &slot.state
            && t.generation == generation
        {
            slot.state = State::Rejected;
        }
    }

    /// Takes the token out (for logout).
    pub(crate) async fn take(&self) -> Option<SecretString> {
        let mut slot = self.slot.lock().await;
        match std::mem::replace(&mut slot.state, State::Empty) {
            State::Valid(t) => Some(t.value),
            _ => None,
        }
    }

    /// Whether a token is held (for `Debug`; never shows it).
    pub(crate) fn has_token(&self) -> Option<bool> {
        self.slot
            .try_lock()
            .ok()
            .map(|s| matches!(s.state, State::Valid(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use secrecy::ExposeSecret;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 18, 12, 0, 0).unwrap()
    }

    #[test]
    fn margin() {
        assert_eq!(
            refresh_margin(Duration::from_secs(1800)),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(2)),
            Duration::from_millis(200)
        );
        assert_eq!(refresh_margin(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn login_answer() {
        let (t, life) = parse_login_answer(
            br#"{"Token":"tok-123","Expire":"2026-11-18T12:30:00Z"}"#,
            now(),
        )
        .unwrap();
        assert_eq!(t.expose_secret(), "tok-123");
        assert_eq!(life, Duration::from_secs(1800));
        // Offset and fraction.
        let (_, life) = parse_login_answer(
            br#"{"Token":"t","Expire":"2026-11-18T13:00:01.5+01:00"}"#,
            now(),
        )
        .unwrap();
        assert_eq!(life, Duration::from_millis(1500));
        // No offset: UTC.
        let (_, life) = parse_login_answer(
            br#"{"Token":"t","Expire":"2026-11-18T12:00:10.000"}"#,
            now(),
        )
        .unwrap();
        assert_eq!(life, Duration::from_secs(10));
    }

    #[test]
    fn login_answer_fallback_lifetime() {
        for body in [
            br#"{"Token":"t"}"#.as_slice(),
            br#"{"Token":"t","Expire":null}"#,
            br#"{"Token":"t","Expire":"tomorrow"}"#,
            br#"{"Token":"t","Expire":"2020-01-01T00:00:00Z"}"#,
        ] {
            let (_, life) = parse_login_answer(body, now()).unwrap();
            assert_eq!(life, DEFAULT_TOKEN_LIFETIME);
        }
    }

    #[test]
    fn login_answer_errors_do_not_quote_the_body() {
        let e = parse_login_answer(br#"{"Expire":"2026-11-18T12:30:00Z"}"#, now()).unwrap_err();
        assert!(e.contains("no Token"), "{e}");
        let e =
            parse_login_answer(br#"{"Token":"SECRET-TOKEN-VALUE","Expire":5"#, now()).unwrap_err();
        assert!(!e.contains("SECRET-TOKEN-VALUE"), "{e}");
        let e = parse_login_answer(br#"{"Token":"","Expire":"x"}"#, now()).unwrap_err();
        assert!(e.contains("no Token"), "{e}");
        // A token no header can carry is the login's fault, said at the login.
        let e = parse_login_answer(br#"{"Token":"SECRET\u0000TOKEN"}"#, now()).unwrap_err();
        assert!(e.contains("cannot carry"), "{e}");
        assert!(!e.contains("SECRET"), "{e}");
    }

    #[test]
    fn login_body_shape() {
        let b = LoginBody {
            key_id: "id",
            key_secret: "sec",
        };
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"KeyId":"id","KeySecret":"sec"})
        );
    }

    async fn fake_login(
        calls: &AtomicUsize,
        reasons: &std::sync::Mutex<Vec<LoginReason>>,
        reason: LoginReason,
        lifetime: Duration,
    ) -> Result<(SecretString, Duration), AsocError> {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        reasons.lock().unwrap().push(reason);
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok((SecretString::from(format!("token-{n}")), lifetime))
    }

    #[tokio::test]
    async fn cache_reuses_refreshes_and_rejects() {
        let cache = TokenCache::default();
        let calls = AtomicUsize::new(0);
        let reasons = std::sync::Mutex::new(Vec::new());
        let long = Duration::from_secs(3600);
        let t1 = cache
            .get(|r| fake_login(&calls, &reasons, r, long))
            .await
            .unwrap();
        let t2 = cache
            .get(|r| fake_login(&calls, &reasons, r, long))
            .await
            .unwrap();
        assert_eq!(t1.value.expose_secret(), t2.value.expose_secret());
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // A 401 with an old generation does nothing; with the current one, re-login.
        cache.reject(t1.generation + 7).await;
        cache
            .get(|r| fake_login(&calls, &reasons, r, long))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        cache.reject(t1.generation).await;
        let t3 = cache
            .get(|r| fake_login(&calls, &reasons, r, long))
            .await
            .unwrap();
        assert_eq!(t3.value.expose_secret(), "token-1");
        assert_ne!(t3.generation, t1.generation);

        // A short-lived token is refreshed ahead of expiry.
        cache
            .force(|r| fake_login(&calls, &reasons, r, Duration::from_millis(100)))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(95)).await;
        cache
            .get(|r| fake_login(&calls, &reasons, r, long))
            .await
            .unwrap();
        assert_eq!(
            *reasons.lock().unwrap(),
            [
                LoginReason::First,
                LoginReason::Rejected,
                LoginReason::First,
                LoginReason::Refresh
            ]
        );
        assert!(cache.take().await.is_some());
        assert!(cache.take().await.is_none());
        assert_eq!(cache.has_token(), Some(false));
    }

    #[tokio::test]
    async fn concurrent_requests_cause_one_login() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let reasons = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, calls, reasons) = (cache.clone(), calls.clone(), reasons.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|r| fake_login(&calls, &reasons, r, Duration::from_secs(60)))
                    .await
                    .unwrap()
                    .generation
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failed_login_keeps_state() {
        let cache = TokenCache::default();
        let r = cache
            .get(|_| async {
                Err(AsocError::Auth {
                    status: 401,
                    message: "bad key".into(),
                })
            })
            .await;
        assert!(matches!(r, Err(AsocError::Auth { status: 401, .. })));
        assert_eq!(cache.has_token(), Some(false));
    }
}
