//! The ASE session: what a key login answers, and the cache that keeps one session for
//! all clones of a client.
//!
//! `POST /ase/api/keylogin/apikeylogin` with `{"keyId", "keySecret"}` answers
//! `{"sessionId": …}` and sets the cookie `asc_session_id`. Every later request must
//! carry that cookie *and* the session id in the `asc_xsrf_token` header. Both values
//! are [`SecretString`]s: whoever holds them is logged in. A call answered `401` drops
//! the session (once per session generation) and the next call logs in again.

use std::future::Future;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::AseError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "asc_session_id";
/// The header that must repeat the session id (ASE's CSRF guard; lower case, exactly).
pub const XSRF_HEADER: &str = "asc_xsrf_token";

/// The login body. Serialized straight into the request; never logged.
#[derive(Serialize)]
pub(crate) struct KeyLogin<'a> {
    #[serde(rename = "keyId")]
    pub key_id: &'a str,
    #[serde(rename = "keySecret")]
    pub key_secret: &'a str,
}

#[derive(Deserialize)]
struct LoginAnswer {
    #[serde(rename = "sessionId", alias = "SessionId", alias = "sessionid")]
    session_id: Option<String>,
}

/// A logged-in session.
#[derive(Clone)]
pub(crate) struct Session {
    pub cookie: SecretString,
    pub xsrf: SecretString,
    /// Which login made it, so a `401` drops only that one.
    pub generation: u64,
}

/// Reads a login answer and its `Set-Cookie` headers into (cookie, XSRF token). The
/// cookie falls back to the session id when the server set none (it is the same value
/// on the ASE versions seen). The error never quotes the body.
pub(crate) fn parse_login(
    body: &[u8],
    set_cookies: &[String],
) -> Result<(SecretString, SecretString), String> {
    let answer: LoginAnswer = serde_json::from_slice(body).map_err(|e| {
        format!(
            "login answer is not the documented JSON object (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let id = answer
        .session_id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| "login answer has no sessionId".to_string())?;
    let cookie = set_cookies
        .iter()
        .find_map(|c| cookie_value(c, SESSION_COOKIE))
        .unwrap_or_else(|| id.clone());
    // Both go into headers (the cookie, the XSRF token): one no header can carry failed
    // the next request as a "builder error", blamed on an endpoint the login never reached.
    let carried = |v: &str| reqwest::header::HeaderValue::from_str(v).is_ok();
    if !carried(&format!("{SESSION_COOKIE}={cookie}")) || !carried(&id) {
        return Err(
            "login answer's session id holds characters an HTTP header cannot carry \
             (control characters or line breaks)"
                .to_string(),
        );
    }
    Ok((SecretString::from(cookie), SecretString::from(id)))
}

/// The value of cookie `name` in one `Set-Cookie` header.
fn cookie_value(header: &str, name: &str) -> Option<String> {
    let first = header.split(';').next()?;
    let (k, v) = first.split_once('=')?;
    (k.trim() == name)
        .then(|| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

struct Slot {
    session: Option<Session>,
    logins: u64,
    /// The last session was rejected with a 401 (the next login is a re-login).
    rejected: bool,
}

/// The one session of a client.
pub(crate) struct SessionCache {
    slot: Mutex<Slot>,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self {
            slot: Mutex::new(Slot {
                session: None,
                logins: 0,
                rejected: false,
            }),
        }
    }
}

impl SessionCache {
    /// The session, logging in first through `login(after_401)` when there is none.
    pub(crate) async fn get<F, Fut>(&self, login: F) -> Result<Session, AseError>
    where
        F: FnOnce(bool) -> Fut,
        Fut: Future<Output = Result<(SecretString, SecretString), AseError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(s) = &slot.session {
            return Ok(s.clone());
        }
        let (cookie, xsrf) = login(slot.rejected).await?;
        slot.logins += 1;
        slot.rejected = false;
        let s = Session {
            cookie,
            xsrf,
            generation: slot.logins,
        };
        slot.session = Some(s.clone());
        Ok(s)
    }

    /// Logs in now, replacing any session.
    pub(crate) async fn force<F, Fut>(&self, login: F) -> Result<(), AseError>
    where
        F: FnOnce(bool) -> Fut,
        Fut: Future<Output = Result<(SecretString, SecretString), AseError>>,
    {
        self.slot.lock().await.session = None;
        self.get(login).await.map(|_| ())
    }

    /// A call with session `generation` was answered `401`.
    pub(crate) async fn reject(&self, generation: u64) {
        let mut slot = self.slot.lock().await;
        if slot
            .session
            .as_ref()
            .is_some_and(|s| s.generation == generation)
        {
            slot.session = None;
            slot.rejected = true;
        }
    }

    /// Takes the session out (for logout).
    pub(crate) async fn take(&self) -> Option<Session> {
        self.slot.lock().await.session.take()
    }

    /// Whether a session is held (for `Debug`, which never shows it).
    pub(crate) fn has_session(&self) -> Option<bool> {
        self.slot.try_lock().ok().map(|s| s.session.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn login_answer_and_cookie() {
        let (cookie, xsrf) = parse_login(
            br#"{"sessionId":"S-123","userId":"u"}"#,
            &[
                "other=1; Path=/".into(),
                "asc_session_id=C-9; Path=/ase; Secure; HttpOnly".into(),
            ],
        )
        .unwrap();
        assert_eq!(cookie.expose_secret(), "C-9");
        assert_eq!(xsrf.expose_secret(), "S-123");
        let (cookie, _) = parse_login(br#"{"sessionId":"S-1"}"#, &[]).unwrap();
        assert_eq!(cookie.expose_secret(), "S-1");
    }

    #[test]
    fn login_errors_do_not_quote_the_body() {
        let e = parse_login(br#"{"sessionId":"SECRET-SESSION","x":"#, &[]).unwrap_err();
        assert!(!e.contains("SECRET-SESSION"), "{e}");
        assert!(
            parse_login(br#"{"sessionId":""}"#, &[])
                .unwrap_err()
                .contains("no sessionId")
        );
        // A session id no header can carry is the login's fault, said at the login.
        let e = parse_login(br#"{"sessionId":"SECRET\u0000SESSION"}"#, &[]).unwrap_err();
        assert!(e.contains("cannot carry") && !e.contains("SECRET"), "{e}");
    }

    #[tokio::test]
    async fn cache_logs_in_once_and_again_after_a_rejection() {
        let cache = SessionCache::default();
        let login = |again: bool| async move {
            Ok::<_, AseError>((
                SecretString::from(format!("c{again}")),
                SecretString::from("x".to_string()),
            ))
        };
        let a = cache.get(login).await.unwrap();
        let b = cache.get(login).await.unwrap();
        assert_eq!(a.generation, b.generation);
        cache.reject(a.generation + 1).await;
        assert_eq!(cache.get(login).await.unwrap().generation, a.generation);
        cache.reject(a.generation).await;
        let c = cache.get(login).await.unwrap();
        assert_eq!(c.cookie.expose_secret(), "ctrue");
        assert!(cache.take().await.is_some());
        assert_eq!(cache.has_session(), Some(false));
    }
}
