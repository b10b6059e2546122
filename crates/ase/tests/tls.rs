//! TLS verification is on by default: a server whose certificate comes from a CA the
//! system does not trust fails the login with a certificate error, and `ca_file` naming
//! that CA is the way to trust it (there is no switch that turns verification off).
//!
//! The server is a TLS listener with the ASoC client's test certificates
//! (`crates/asoc/tests/fixtures`, made for tests only) that answers any request with 401.

use ase::{AseClient, AseConfig, AseError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../asoc/tests/fixtures")
        .join(name)
}

/// A TLS listener that reads a request head and answers 401; returns its base URL.
async fn start_tls_server() -> String {
    apiclient::install_crypto_provider();
    let certs = CertificateDer::pem_file_iter(fixture("test-server.pem"))
        .expect("cert file")
        .collect::<Result<Vec<_>, _>>()
        .expect("certs");
    let key = PrivateKeyDer::from_pem_file(fixture("test-server.key")).expect("key");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"errorMessage":"unauthorized"}"#;
                let resp = format!(
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://localhost:{port}/ase")
}

fn config(base: &str) -> AseConfig {
    let mut cfg = AseConfig::new(base, "tls-key", "tls-secret-value".to_string());
    cfg.retry_base_delay = Duration::from_millis(2);
    cfg.max_retries = 2;
    cfg.timeout = Duration::from_secs(10);
    cfg
}

#[tokio::test]
async fn an_untrusted_certificate_fails_by_default() {
    let base = start_tls_server().await;
    let client = AseClient::new(config(&base)).expect("client");
    let err = client
        .login()
        .await
        .expect_err("an unknown CA must not be trusted");
    let text = match &err {
        AseError::Transport { detail, .. } => detail.to_ascii_lowercase(),
        other => panic!("expected a transport error, got {other:?}"),
    };
    assert!(text.contains("certificate"), "{text}");
}

#[tokio::test]
async fn ca_file_trusts_a_private_ca() {
    let base = start_tls_server().await;
    let mut cfg = config(&base);
    cfg.ca_file = Some(fixture("test-ca.pem"));
    let client = AseClient::new(cfg).expect("client");
    // The handshake succeeds; the server's 401 is what fails the login now.
    let err = client.login().await.expect_err("the server answers 401");
    assert!(
        !matches!(err, AseError::Transport { .. }),
        "TLS failed with ca_file: {err:?}"
    );
}
