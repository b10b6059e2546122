//! The checks' way through a proxy the environment names (`HTTPS_PROXY`, …): the syncs
//! go through it, so the check reaches the proxy, asks it for a tunnel to the server
//! (`CONNECT`) and shakes hands with the server through that; what fails is said of the
//! proxy when it is the proxy that fails.

use super::CONNECT_TIMEOUT;
use apiclient::proxy::Proxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most a proxy's answer to `CONNECT` may take before its end.
const MAX_ANSWER: usize = 16 * 1024;

/// What to do when the proxy cannot be reached.
pub(super) fn fix(proxy: &Proxy, host: &str) -> String {
    format!(
        "check ${} (the proxy's host and port), or add {host} to NO_PROXY if it is reached \
         without a proxy",
        proxy.var
    )
}

/// What to do when the proxy asks for credentials (407).
fn credentials_hint(proxy: &Proxy) -> String {
    match proxy.authorization() {
        Some(_) => format!("the user and password in ${} were refused", proxy.var),
        None => format!(
            "put them in ${}: http://USER:PASSWORD@{}:{}",
            proxy.var, proxy.host, proxy.port
        ),
    }
}

/// Asks the proxy on `stream` for a tunnel to `host:port`; the stream is the tunnel when
/// the proxy agrees. The error is a reason and a hint.
pub(super) async fn tunnel(
    mut stream: TcpStream,
    host: &str,
    port: u16,
    proxy: &Proxy,
) -> Result<TcpStream, (String, String)> {
    let target = format!("{host}:{port}");
    let authorization = proxy
        .authorization()
        .map(|a| format!("Proxy-Authorization: {a}\r\n"))
        .unwrap_or_default();
    let ask = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{authorization}\r\n");
    let answer = tokio::time::timeout(CONNECT_TIMEOUT, async {
        stream.write_all(ask.as_bytes()).await?;
        read_head(&mut stream).await
    })
    .await;
    let head = match answer {
        Ok(Ok(head)) => head,
        Ok(Err(e)) => {
            return Err((
                format!(
                    "{} did not answer the request for a tunnel to {target}: {e}",
                    proxy.shown()
                ),
                fix(proxy, host),
            ));
        }
        Err(_) => {
            return Err((
                format!(
                    "{} did not answer the request for a tunnel to {target} within {} s",
                    proxy.shown(),
                    CONNECT_TIMEOUT.as_secs()
                ),
                fix(proxy, host),
            ));
        }
    };
    let status_line = head.lines().next().unwrap_or_default().trim().to_string();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    match status {
        200..=299 => Ok(stream),
        407 => Err((
            format!("{} asks for credentials ({status_line})", proxy.shown()),
            credentials_hint(proxy),
        )),
        0 => Err((
            format!(
                "{} answered the request for a tunnel to {target} with something other than HTTP",
                proxy.shown()
            ),
            fix(proxy, host),
        )),
        _ => Err((
            format!(
                "{} refused a tunnel to {target}: {status_line}",
                proxy.shown()
            ),
            format!(
                "the proxy may not allow {target} or not reach it; add {host} to NO_PROXY if it \
                 is reached without a proxy"
            ),
        )),
    }
}

/// Reads an HTTP answer's head, up to its blank line.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte: what follows the head belongs to the tunnel.
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_ANSWER {
            return Err(std::io::Error::other("the answer's head is too long"));
        }
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection",
            ));
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// A failed login's reason and hint when the login went through `proxy`: a 407 is the
/// proxy asking for credentials (not AppScan refusing the key), and a request that got
/// no answer (no `status`) names the proxy it went to.
pub(super) fn at_login(
    proxy: Option<&Proxy>,
    status: Option<u16>,
    reason: String,
    hint: String,
) -> (String, String) {
    match (proxy, status) {
        (Some(p), Some(407)) => (
            format!("407 from {}: the proxy asks for credentials", p.shown()),
            credentials_hint(p),
        ),
        (Some(p), None) => (format!("{reason} (through {})", p.shown()), hint),
        _ => (reason, hint),
    }
}
