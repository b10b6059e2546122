//! Credentials never leave in a quote of what a server answered: a server (or a proxy in
//! front of it) that echoes requests back — headers, cookies, the login body — had the
//! ASoC token, the ASE session and the key secret shown in errors, and so in run
//! reasons, the dashboard and the API. And neither client follows a redirect to another
//! server: a 307 repeats the login with its body, the key secret in it.
//!
//! The simulators never echo, so a server over loopback does: it answers every request
//! with what `answer` makes of it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const KEY_SECRET: &str = "SEKRIT-key-0123456789abcdefghijklmnop";
const TOKEN: &str = "SEKRIT-token-fedcba9876543210";
const SESSION: &str = "SEKRIT-session-00112233445566778899";

/// One request as the server read it: its method, path and everything it was sent.
struct Request {
    method: String,
    path: String,
    text: String,
}

/// An answer: status line, extra header lines, body.
type Answer = (&'static str, String, String);

/// Starts a server answering each request with `answer`; returns its base URL and the
/// requests it read.
async fn serve(
    answer: impl Fn(&Request) -> Answer + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (answer, log) = (Arc::new(answer), seen.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (answer, log) = (answer.clone(), log.clone());
            tokio::spawn(async move {
                let Some(request) = read_request(&mut sock).await else {
                    return;
                };
                log.lock().expect("log").push(request.text.clone());
                let (status, headers, body) = answer(&request);
                let text = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(text.as_bytes()).await;
            });
        }
    });
    (base, seen)
}

/// Reads one request: its head, then as many body bytes as `content-length` says.
async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = sock.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length = text[..head_end]
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if bytes.len() < head_end + 4 + length {
            continue;
        }
        let mut first = text.split_whitespace();
        let method = first.next()?.to_string();
        let path = first.next()?.to_string();
        return Some(Request { method, path, text });
    }
}

/// The request, made one line, as the body of an answer.
fn echo(r: &Request) -> String {
    format!("Refused: {}", r.text.replace("\r\n", " "))
}

fn asoc_client(base: &str) -> asoc::AsocClient {
    let mut cfg = asoc::ClientConfig::new(base, "kid", KEY_SECRET.to_string());
    cfg.rate_limit_per_minute = 0;
    cfg.retry_base_delay = Duration::from_millis(2);
    cfg.max_retries = 1;
    asoc::AsocClient::new(cfg).expect("client")
}

fn ase_client(base: &str) -> ase::AseClient {
    let mut cfg = ase::AseConfig::new(base, "kid", KEY_SECRET.to_string());
    cfg.rate_limit_per_minute = 0;
    cfg.retry_base_delay = Duration::from_millis(2);
    cfg.max_retries = 1;
    ase::AseClient::new(cfg).expect("client")
}

fn assert_hidden(what: &str, text: &str) {
    for secret in [KEY_SECRET, TOKEN, SESSION] {
        // Any 12 characters of it: an excerpt's cut left a credential's start shown.
        assert!(
            !text.contains(&secret[..12]),
            "{what} shows a credential: {text}"
        );
    }
}

/// An ASoC login that works, then `status` with the request echoed to every call.
async fn asoc_echoing(status: &'static str) -> String {
    serve(move |r| {
        if r.path.ends_with("/ApiKeyLogin") {
            let body = format!(r#"{{"Token":"{TOKEN}","Expire":"2999-01-01T00:00:00Z"}}"#);
            return ("200 OK", "content-type: application/json\r\n".into(), body);
        }
        (status, String::new(), echo(r))
    })
    .await
    .0
}

#[tokio::test]
async fn asoc_errors_never_quote_an_echoed_token() {
    for status in [
        "403 Forbidden",
        "400 Bad Request",
        "500 Internal Server Error",
    ] {
        let base = asoc_echoing(status).await;
        let e = asoc_client(&base).tenant_info().await.expect_err("refused");
        assert!(e.to_string().contains("[REDACTED]"), "{status}: {e}");
        assert_hidden(status, &e.to_string());
    }
    // A 200 whose body is no page: the unreadable page's excerpt.
    let base = asoc_echoing("200 OK").await;
    let client = asoc_client(&base);
    let e = client.tenant_info().await.expect_err("not JSON");
    assert_hidden("a 200 that is not JSON", &e.to_string());
    let pages = client.apps(asoc::ListQuery::all());
    let page = std::pin::pin!(pages).next().await.expect("an item");
    let e = page.expect_err("an unreadable page");
    assert_hidden("an unreadable page", &e.to_string());
}

#[tokio::test]
async fn ase_errors_never_quote_an_echoed_session() {
    for status in ["403 Forbidden", "500 Internal Server Error", "200 OK"] {
        let (base, _) = serve(move |r| {
            if r.path.ends_with("/apikeylogin") {
                let body = format!(r#"{{"sessionId":"{SESSION}"}}"#);
                let cookie = format!("set-cookie: asc_session_id={SESSION}; Path=/\r\n");
                return ("200 OK", cookie, body);
            }
            (status, String::new(), echo(r))
        })
        .await;
        let e = ase_client(&base).applications().await.expect_err("refused");
        assert!(e.to_string().contains("[REDACTED]"), "{status}: {e}");
        assert_hidden(status, &e.to_string());
    }
}

/// A login answer echoing the body is cut at 200 bytes; the secret is hidden first, so
/// no start of it shows where the cut falls inside it.
#[tokio::test]
async fn a_login_echo_cut_inside_the_secret_shows_none_of_it() {
    let (base, _) = serve(|r| {
        let body = r.text.split("\r\n\r\n").nth(1).unwrap_or_default();
        // `{"KeyId":"kid","KeySecret":"` is 28 bytes: the 200-byte cut falls 17 into it.
        let padded = format!("{}{body}", "x".repeat(155));
        ("500 Internal Server Error", String::new(), padded)
    })
    .await;
    let e = asoc_client(&base).login().await.expect_err("refused");
    assert_hidden("ASoC login", &e.to_string());
    let e = ase_client(&base).login().await.expect_err("refused");
    assert_hidden("ASE login", &e.to_string());
}

/// A login redirected to another server is not repeated there: the key secret stays.
#[tokio::test]
async fn a_login_is_not_redirected_to_another_server() {
    let (elsewhere, received) = serve(|_| ("200 OK", String::new(), "{}".into())).await;
    let (base, _) = serve(move |r| {
        let location = format!("location: {elsewhere}{}\r\n", r.path);
        ("307 Temporary Redirect", location, String::new())
    })
    .await;
    let e = asoc_client(&base).login().await.expect_err("not followed");
    assert!(e.to_string().contains("another server"), "{e}");
    let e = ase_client(&base).login().await.expect_err("not followed");
    assert!(e.to_string().contains("another server"), "{e}");
    let got = received.lock().expect("log").clone();
    assert!(got.is_empty(), "the other server was sent: {got:?}");
}

/// A redirect within the server is followed as before.
#[tokio::test]
async fn a_redirect_within_the_server_is_followed() {
    let (base, _) = serve(|r| {
        if r.method == "POST" && r.path == "/old/api/v4/Account/ApiKeyLogin" {
            let location = "location: /api/v4/Account/ApiKeyLogin\r\n".to_string();
            return ("308 Permanent Redirect", location, String::new());
        }
        let body = format!(r#"{{"Token":"{TOKEN}","Expire":"2999-01-01T00:00:00Z"}}"#);
        ("200 OK", "content-type: application/json\r\n".into(), body)
    })
    .await;
    asoc_client(&format!("{base}/old"))
        .login()
        .await
        .expect("followed within the server");
}
