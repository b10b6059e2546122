//! The connection check behind a proxy the environment names: it takes the path the syncs
//! take (the proxy, its tunnel, the server through it) and names the proxy when the proxy
//! is what fails. It checked the server directly — which a locked-down network refuses
//! while the syncs work — and blamed the server for a proxy that refused.
//!
//! One test in its own binary: the proxy comes from environment variables, which are
//! set between its steps while nothing else in the process runs.

mod common;
#[path = "common/tls.rs"]
mod tls;

use common::*;
use runner::check::{Check, Outcome, Resolver};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use Outcome::{Failed as F, Passed as P, Skipped as S};

/// `user:pass`, as a proxy's Basic credentials.
const BASIC: &str = "Basic dXNlcjpwYXNz";

/// A forward proxy on loopback: `CONNECT` tunnels and absolute-form requests, piped
/// through; with `credentials`, a 407 without them. Records the targets asked for.
struct TestProxy {
    port: u16,
    targets: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    async fn start(credentials: bool) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, credentials, seen.clone()));
            }
        });
        TestProxy { port, targets }
    }

    fn url(&self, userinfo: &str) -> String {
        format!("http://{userinfo}127.0.0.1:{}", self.port)
    }

    fn saw(&self, target: &str) -> bool {
        self.targets
            .lock()
            .expect("lock")
            .iter()
            .any(|t| t == target)
    }
}

async fn serve(mut client: TcpStream, credentials: bool, seen: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut first = text.split_whitespace();
    let (method, target) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    if credentials
        && !text.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("proxy-authorization:") && l.contains(BASIC)
        })
    {
        let _ = client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
        return;
    }
    let authority = if method == "CONNECT" {
        target.to_string()
    } else {
        match url::Url::parse(target) {
            Ok(u) => format!(
                "{}:{}",
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or(80)
            ),
            Err(_) => return,
        }
    };
    seen.lock().expect("lock").push(authority.clone());
    let Ok(mut server) = TcpStream::connect(&authority).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let forwarded = if method == "CONNECT" {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
    } else {
        // The simulator takes the absolute form as it is.
        server.write_all(&head).await
    };
    if forwarded.is_ok() {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

/// Sets the proxy variables as given, every other one unset.
fn proxy_env(http: Option<&str>, https: Option<&str>, no_proxy: &str) {
    // SAFETY: this binary's one test changes the environment only between its steps,
    // when no other thread of the process reads it.
    unsafe {
        for v in [
            "http_proxy",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "no_proxy",
        ] {
            std::env::remove_var(v);
        }
        for (var, value) in [("HTTP_PROXY", http), ("HTTPS_PROXY", https)] {
            match value {
                Some(v) => std::env::set_var(var, v),
                None => std::env::remove_var(var),
            }
        }
        std::env::set_var("NO_PROXY", no_proxy);
    }
}

fn outcomes(checks: &[Check]) -> Vec<Outcome> {
    checks.iter().map(|c| c.outcome).collect()
}

async fn check(rig: &Rig) -> Vec<Check> {
    rig.runner
        .check("sim", &Resolver::System)
        .await
        .expect("check")
}

#[test]
fn the_check_goes_through_the_proxy_and_names_it_when_it_fails() {
    proxy_env(None, None, "");
    // One thread: nothing reads the environment while a step changes it.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(steps());
}

async fn steps() {
    let rig = rig(config(2, 5, 1), fast_settings()).await;
    let sim_url = rig.runner.connector("sim").expect("sim").url.expect("url");
    let sim_at = sim_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let open = TestProxy::start(false).await;
    let guarded = TestProxy::start(true).await;

    // Plain http through the proxy: every request goes there, and the check says so.
    proxy_env(Some(&open.url("")), None, "");
    let checks = check(&rig).await;
    assert_eq!(outcomes(&checks), [P, S, P, P, P], "{checks:#?}");
    assert!(
        checks[0].reason.contains(&format!(
            "the proxy http://127.0.0.1:{} (from $HTTP_PROXY) accepts connections",
            open.port
        )),
        "{}",
        checks[0].reason
    );
    assert!(
        open.saw(&sim_at),
        "the login and the fetch went around the proxy"
    );

    // NO_PROXY names the host: straight there, as the syncs go.
    let before = open.targets.lock().expect("lock").len();
    proxy_env(Some(&open.url("")), None, "127.0.0.1");
    let checks = check(&rig).await;
    assert_eq!(outcomes(&checks), [P, S, P, P, P], "{checks:#?}");
    assert!(!checks[0].reason.contains("proxy"), "{}", checks[0].reason);
    assert_eq!(open.targets.lock().expect("lock").len(), before);

    // A proxy that is not there: the proxy is named, not the server behind it.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    proxy_env(Some(&format!("http://127.0.0.1:{dead}")), None, "");
    let checks = check(&rig).await;
    assert_eq!(outcomes(&checks), [F, S, S, S, S], "{checks:#?}");
    assert_eq!(
        checks[0].reason,
        format!(
            "Connection refused: nothing listens on 127.0.0.1:{dead}, which is the proxy \
             http://127.0.0.1:{dead} (from $HTTP_PROXY)"
        )
    );
    assert!(
        checks[0].hint.as_deref().unwrap_or("").contains("NO_PROXY"),
        "{:?}",
        checks[0].hint
    );

    // A proxy that wants credentials: a 407 at the login is the proxy's, not a wrong key.
    proxy_env(Some(&guarded.url("")), None, "");
    let checks = check(&rig).await;
    assert_eq!(outcomes(&checks), [P, S, F, S, S], "{checks:#?}");
    assert!(
        checks[2].reason.starts_with(&format!(
            "407 from the proxy http://127.0.0.1:{} (from $HTTP_PROXY)",
            guarded.port
        )),
        "{}",
        checks[2].reason
    );
    assert!(
        checks[2]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("put them in $HTTP_PROXY"),
        "{:?}",
        checks[2].hint
    );
    proxy_env(Some(&guarded.url("user:pass@")), None, "");
    let checks = check(&rig).await;
    assert_eq!(outcomes(&checks), [P, S, P, P, P], "{checks:#?}");

    // https: the handshake goes through the proxy's tunnel (CONNECT).
    let (c, k) = tls::cert(&["127.0.0.1"], false);
    let tls_port = tls::tls_listener(&c, &k).await;
    let ca = rig.dir.path().join("ca.pem");
    std::fs::write(&ca, c.pem()).expect("write ca");
    point_at(
        &rig,
        &format!("https://127.0.0.1:{tls_port}"),
        Some(ca.display().to_string()),
    )
    .await;
    proxy_env(None, Some(&open.url("")), "");
    let checks = check(&rig).await;
    // The listener is no AppScan: the login then fails.
    assert_eq!(outcomes(&checks)[..3], [P, P, F], "{checks:#?}");
    assert!(
        open.saw(&format!("127.0.0.1:{tls_port}")),
        "no tunnel was asked for"
    );
    // The tunnel refused for want of credentials, then opened with them.
    proxy_env(None, Some(&guarded.url("")), "");
    let checks = check(&rig).await;
    assert_eq!(outcomes(&checks), [P, F, S, S, S], "{checks:#?}");
    assert!(
        checks[1].reason.contains(&format!(
            "the proxy http://127.0.0.1:{} (from $HTTPS_PROXY) asks for credentials (HTTP/1.1 407",
            guarded.port
        )),
        "{}",
        checks[1].reason
    );
    proxy_env(None, Some(&guarded.url("user:pass@")), "");
    let checks = check(&rig).await;
    assert_eq!(outcomes(&checks)[..3], [P, P, F], "{checks:#?}");
    proxy_env(None, None, "");
}
