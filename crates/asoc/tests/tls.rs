//! TLS: a server whose certificate comes from a private CA is trusted only
//! when `ca_file` names that CA, and a certificate failure is reported at
//! once (not retried like a connection failure).
//!
//! The server is a minimal HTTP/1.1-over-TLS responder (tokio-rustls) with
//! the test certificates in `tests/fixtures` (made for these tests only).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use asoc::{AsocClient, AsocError, ClientConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Starts the TLS responder; returns its base URL.
async fn start_tls_server() -> String {
    apiclient::install_crypto_provider();
    let certs = CertificateDer::pem_file_iter(fixture("test-server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("test-server.key")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                // Read the head and a Content-Length body, answer, close.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = tls.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let Ok(n) = tls.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = if head.contains("apikeylogin") {
                    let exp = chrono::Utc::now() + chrono::Duration::hours(1);
                    format!(r#"{{"Token":"tls-token","Expire":"{}"}}"#, exp.to_rfc3339())
                } else {
                    r#"{"TenantName":"over-tls"}"#.to_string()
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://localhost:{}", addr.port())
}

fn config(base: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new(base, "tls-key", "tls-secret-value".to_string());
    cfg.retry_base_delay = Duration::from_millis(2);
    cfg.max_retries = 3;
    cfg.timeout = Duration::from_secs(10);
    cfg
}

#[tokio::test]
async fn private_ca_is_trusted_with_ca_file() {
    let base = start_tls_server().await;
    let mut cfg = config(&base);
    cfg.ca_file = Some(fixture("test-ca.pem"));
    let client = AsocClient::new(cfg).unwrap();
    let info = client.tenant_info().await.unwrap();
    assert_eq!(info["TenantName"], "over-tls");
    assert_eq!(client.stats().logins, 1);
}

#[tokio::test]
async fn unknown_ca_fails_once_without_retries() {
    let base = start_tls_server().await;
    let client = AsocClient::new(config(&base)).unwrap();
    let err = client.tenant_info().await.unwrap_err();
    let AsocError::Transport {
        endpoint, detail, ..
    } = &err
    else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(endpoint, "/api/v4/Account/ApiKeyLogin");
    assert!(
        detail.to_ascii_lowercase().contains("certificate"),
        "{detail}"
    );
    let st = client.stats();
    assert_eq!((st.transport_errors, st.retries), (1, 0), "{st:?}");
}
