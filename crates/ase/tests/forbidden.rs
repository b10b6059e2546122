//! A `403` is final unless its body says "Too many requests" (how some servers and
//! proxies signal a rate limit): then it is retried like a `429`, and still forbidden
//! after the last retry. The simulator's faults cannot choose a body, so this server
//! over loopback answers every request with one fixed `403`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ase::{AseClient, AseConfig, AseError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Starts a server answering `403` with `body` to every request; returns its base URL
/// and the count of requests it answered.
async fn forbidding(body: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let answered = count.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let answered = answered.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                // One request per connection: read its head, answer, close.
                let _ = sock.read(&mut buf).await;
                answered.fetch_add(1, Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    (base, count)
}

fn client(base: &str) -> AseClient {
    let mut cfg = AseConfig::new(base, "kid", "secret".to_string());
    cfg.rate_limit_per_minute = 0;
    cfg.retry_base_delay = Duration::from_millis(2);
    cfg.max_retries = 3;
    AseClient::new(cfg).expect("client")
}

#[tokio::test]
async fn a_403_that_says_too_many_requests_is_retried_then_forbidden() {
    let (base, count) = forbidding(r#"{"message":"Too many requests"}"#).await;
    let e = client(&base).applications().await.expect_err("forbidden");
    assert!(matches!(e, AseError::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("after 4 attempt(s)"), "{e}");
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn any_other_403_is_final_at_once() {
    let (base, count) = forbidding(r#"{"message":"No permission"}"#).await;
    let e = client(&base).applications().await.expect_err("forbidden");
    assert!(e.to_string().contains("No permission"), "{e}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}
