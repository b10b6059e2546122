//! Limits on `serve`'s HTTP connections: a client that sends half a request, or holds a
//! kept-alive connection idle, is closed after the header timeout; connections over the
//! cap wait outside while the open ones are answered; and shutdown ends within the grace
//! period however many connections clients hold open.

use runner::{MasterKey, Runner};
use server::{ConnectionLimits, ServeConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server on an empty SQLite store, without scheduler.
async fn serve(limits: ConnectionLimits, grace: Duration) -> (server::Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::SqliteStore::open(&dir.path().join("store.sqlite3")).expect("store opens");
    let key = MasterKey::from_hex(&"cd".repeat(32), "test").expect("key");
    let runner = Runner::new(Arc::new(store), key);
    let config = ServeConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        scheduler: None,
        shutdown_grace: grace,
        allowed_hosts: Vec::new(),
    };
    let server = server::start_with_limits(runner, config, limits, Arc::new(server::SystemClock))
        .await
        .expect("server starts");
    (server, dir)
}

const HALF_REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: aaaa";
const REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connects")
}

/// Reads one response (headers and a Content-Length body); its status line.
async fn response(s: &mut TcpStream, within: Duration) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .expect("a Content-Length");
            if buf.len() >= end + 4 + len {
                return head.lines().next().unwrap_or_default().to_string();
            }
        }
        let n = tokio::time::timeout_at(deadline, s.read(&mut chunk))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "closed before a full answer: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Waits for the server to close the connection (anything it sends first, such as a
/// 408, is skipped); how long that took.
async fn closed_by_server(s: &mut TcpStream, within: Duration) -> Duration {
    let t0 = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(within, s.read(&mut chunk)).await {
            Err(_) => panic!("the connection is still open after {within:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return t0.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn half_sent_requests_and_idle_connections_are_closed_after_the_header_timeout() {
    let timeout = Duration::from_millis(400);
    let (server, _dir) = serve(
        ConnectionLimits {
            header_timeout: timeout,
            ..ConnectionLimits::default()
        },
        Duration::from_secs(5),
    )
    .await;
    let addr = server.addr();

    // Half a request, then nothing.
    let mut loris = connect(addr).await;
    loris.write_all(HALF_REQUEST).await.expect("write");
    // A connection that sends nothing at all.
    let mut silent = connect(addr).await;
    // One answered request, then idle on a kept-alive connection.
    let mut idle = connect(addr).await;
    idle.write_all(REQUEST).await.expect("write");
    assert_eq!(
        response(&mut idle, Duration::from_secs(5)).await,
        "HTTP/1.1 200 OK"
    );

    for (what, s) in [
        ("half-sent request", &mut loris),
        ("silent connection", &mut silent),
        ("idle keep-alive", &mut idle),
    ] {
        let after = closed_by_server(s, Duration::from_secs(10)).await;
        assert!(
            after < Duration::from_secs(5),
            "{what}: closed after {after:?}"
        );
    }

    // A client sending its request within the timeout, in pieces, is answered.
    let mut slow = connect(addr).await;
    for part in REQUEST.chunks(8) {
        slow.write_all(part).await.expect("write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        response(&mut slow, Duration::from_secs(5)).await,
        "HTTP/1.1 200 OK"
    );

    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_cap_wait_while_open_ones_are_answered() {
    let (server, _dir) = serve(
        ConnectionLimits {
            max_connections: 4,
            ..ConnectionLimits::default()
        },
        Duration::from_secs(5),
    )
    .await;
    let addr = server.addr();

    // Four kept-alive connections, each answered once: the cap is full.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = connect(addr).await;
        s.write_all(REQUEST).await.expect("write");
        assert_eq!(
            response(&mut s, Duration::from_secs(5)).await,
            "HTTP/1.1 200 OK"
        );
        held.push(s);
    }

    // A fifth is not served: it waits in the backlog, taking no descriptor of ours.
    let mut extra = connect(addr).await;
    extra.write_all(REQUEST).await.expect("write");
    let mut one = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(700), extra.read(&mut one))
            .await
            .is_err(),
        "a connection over the cap was served"
    );

    // The open connections are still answered meanwhile.
    held[0].write_all(REQUEST).await.expect("write");
    assert_eq!(
        response(&mut held[0], Duration::from_secs(5)).await,
        "HTTP/1.1 200 OK"
    );

    // One closes: the waiting one is taken and answered.
    drop(held.pop());
    assert_eq!(
        response(&mut extra, Duration::from_secs(5)).await,
        "HTTP/1.1 200 OK"
    );

    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_ends_within_the_grace_period_whatever_clients_hold_open() {
    let grace = Duration::from_secs(1);
    // The header timeout (default 30 s) is far longer than the grace period: only the
    // shutdown itself can close these.
    let (server, _dir) = serve(ConnectionLimits::default(), grace).await;
    let addr = server.addr();

    let mut loris = connect(addr).await;
    loris.write_all(HALF_REQUEST).await.expect("write");
    let mut idle = connect(addr).await;
    idle.write_all(REQUEST).await.expect("write");
    assert_eq!(
        response(&mut idle, Duration::from_secs(5)).await,
        "HTTP/1.1 200 OK"
    );
    // Let the server take the half-sent one.
    tokio::time::sleep(Duration::from_millis(100)).await;

    let t0 = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown ends")
        .expect("clean shutdown");
    let took = t0.elapsed();
    assert!(
        took < grace + Duration::from_millis(900),
        "shutdown took {took:?}, grace {grace:?}"
    );

    // Both connections are closed, and the port no longer listens.
    for s in [&mut loris, &mut idle] {
        closed_by_server(s, Duration::from_secs(2)).await;
    }
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still listening after shutdown"
    );
}

/// The open connections are a gauge on /metrics: two clients holding half a request and
/// the one asking make three; once the two are closed, one.
#[tokio::test(flavor = "multi_thread")]
async fn open_connections_are_counted_on_metrics() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(30),
        ..ConnectionLimits::default()
    };
    let (server, _dir) = serve(limits, Duration::from_secs(5)).await;
    let addr = server.addr();
    let gauge = || async move {
        let mut s = connect(addr).await;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("send");
        let mut body = String::new();
        s.read_to_string(&mut body).await.expect("metrics");
        body.lines()
            .find_map(|l| l.strip_prefix("appscan_bridge_http_connections "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(-1.0)
    };
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = connect(addr).await;
        s.write_all(HALF_REQUEST).await.expect("send");
        held.push(s);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while gauge().await != 3.0 {
        assert!(Instant::now() < deadline, "the gauge never said 3");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(held);
    while gauge().await != 1.0 {
        assert!(Instant::now() < deadline, "the gauge never went back to 1");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await.expect("stops");
}
