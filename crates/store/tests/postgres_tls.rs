//! TLS to PostgreSQL as libpq's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` ask,
//! against the real server behind a TLS front on loopback: the front answers the
//! client's SSLRequest, serves a certificate made here and passes the bytes on, so every
//! mode is tested whatever the server's own TLS setup.

mod pgtest;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use store::{NewConnector, PgStore, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// PostgreSQL's SSLRequest: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 210, 22, 47];

/// A certificate authority and the files a test hands to the URL.
struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("CA");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).expect("write CA");
        Pki {
            dir,
            ca: rcgen::Issuer::new(params, key),
        }
    }

    fn ca_file(&self) -> String {
        self.path("ca.pem")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A certificate for `names` signed by this CA, with its key.
    fn issue(&self, names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.ca).expect("sign");
        (
            CertificateDer::from(cert.der().to_vec()),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }

    /// A client certificate and key written as PEM files; returns their paths.
    fn client_files(&self) -> (String, String) {
        let params = rcgen::CertificateParams::new(vec!["client".to_string()]).expect("params");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.ca).expect("sign");
        std::fs::write(self.dir.path().join("client.pem"), cert.pem()).expect("write");
        std::fs::write(self.dir.path().join("client.key"), key.serialize_pem()).expect("write");
        (self.path("client.pem"), self.path("client.key"))
    }
}

/// What the front does with a client's SSLRequest.
enum Front {
    /// Answers 'S' and serves this TLS configuration.
    Tls(Box<rustls::ServerConfig>),
    /// Answers 'N' (a server without TLS) and goes on in plain text.
    Plain,
}

/// A TLS front before the test server on a port of its own.
struct Proxy {
    port: u16,
    tls_sessions: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

fn server_config(
    cert: (CertificateDer<'static>, PrivateKeyDer<'static>),
    client_ca: Option<&Pki>,
) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(pki) => {
            let mut roots = rustls::RootCertStore::empty();
            let pem = std::fs::read(pki.ca_file()).expect("CA");
            use rustls::pki_types::pem::PemObject;
            for c in CertificateDer::pem_slice_iter(&pem) {
                roots.add(c.expect("cert")).expect("root");
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(vec![cert.0], cert.1)
        .expect("server config")
}

impl Proxy {
    fn start(db: &pgtest::TestDb, front: Front) -> Proxy {
        let server = db.server();
        let host = match server.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            _ => "127.0.0.1".to_string(),
        };
        let port = server.get_ports().first().copied().unwrap_or(5432);
        let upstream = format!("{host}:{port}");
        let acceptor = match front {
            Front::Tls(config) => Some(tokio_rustls::TlsAcceptor::from(Arc::new(*config))),
            Front::Plain => None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let tls_sessions = Arc::new(AtomicUsize::new(0));
        let sessions = tls_sessions.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let upstream = upstream.clone();
                let sessions = sessions.clone();
                tokio::spawn(async move {
                    let _ = pass_on(client, acceptor, &upstream, &sessions).await;
                });
            }
        });
        Proxy {
            port,
            tls_sessions,
            _runtime: runtime,
        }
    }

    fn sessions(&self) -> usize {
        self.tls_sessions.load(Ordering::SeqCst)
    }
}

async fn pass_on(
    mut client: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    upstream: &str,
    sessions: &AtomicUsize,
) -> std::io::Result<()> {
    let mut server = tokio::net::TcpStream::connect(upstream).await?;
    let mut first = [0u8; 8];
    client.read_exact(&mut first).await?;
    if first != SSL_REQUEST {
        // No TLS asked for: the startup message goes on as it is.
        server.write_all(&first).await?;
        tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        return Ok(());
    }
    match acceptor {
        None => {
            client.write_all(b"N").await?;
            tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        }
        Some(acceptor) => {
            client.write_all(b"S").await?;
            let mut tls = acceptor.accept(client).await?;
            sessions.fetch_add(1, Ordering::SeqCst);
            tokio::io::copy_bidirectional(&mut tls, &mut server).await?;
        }
    }
    Ok(())
}

/// A store URL (key-value form) through the front at `port` as `host`.
fn url(db: &pgtest::TestDb, host: &str, port: u16, tls: &str) -> String {
    let server = db.server();
    format!(
        "host={host} port={port} user={} dbname={} schema={} connect_timeout=5 {tls}",
        server.get_user().unwrap_or("postgres"),
        server.get_dbname().unwrap_or("test"),
        db.schema
    )
}

/// Opens the store and writes and reads a row through it.
fn works(url: &str) -> Result<(), String> {
    let store = PgStore::open(url).map_err(|e| e.to_string())?;
    store
        .create_connector(&NewConnector {
            name: format!("c{}", store.connectors().map_err(|e| e.to_string())?.len()),
            kind: "xml".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: serde_json::json!({}),
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The error opening `url`, with its causes, as the CLI prints it.
fn fails(url: &str) -> String {
    let e = match PgStore::open(url) {
        Ok(_) => panic!("{url} connected"),
        Err(e) => e,
    };
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

#[test]
fn verify_full_checks_the_chain_and_the_name() {
    let Some(db) = pgtest::TestDb::new("tls_full") else {
        return;
    };
    let pki = Pki::new("test CA");
    let proxy = Proxy::start(
        &db,
        Front::Tls(Box::new(server_config(pki.issue(&["localhost"]), None))),
    );
    let ca = pki.ca_file();

    works(&url(
        &db,
        "localhost",
        proxy.port,
        &format!("sslmode=verify-full sslrootcert={ca}"),
    ))
    .expect("verify-full with the right CA and name");
    assert!(proxy.sessions() >= 1, "the connection went through TLS");

    // The certificate names localhost, not 127.0.0.1.
    let err = fails(&url(
        &db,
        "127.0.0.1",
        proxy.port,
        &format!("sslmode=verify-full sslrootcert={ca}"),
    ));
    assert!(
        err.contains(r#"certificate not valid for name "127.0.0.1""#),
        "{err}"
    );
    // verify-ca does not look at the name.
    works(&url(
        &db,
        "127.0.0.1",
        proxy.port,
        &format!("sslmode=verify-ca sslrootcert={ca}"),
    ))
    .expect("verify-ca ignores the name");

    // Another CA's certificate is refused by both, and by require given that CA.
    let other_pki = Pki::new("other CA");
    let other = other_pki.ca_file();
    for mode in ["verify-full", "verify-ca", "require"] {
        let err = fails(&url(
            &db,
            "localhost",
            proxy.port,
            &format!("sslmode={mode} sslrootcert={other}"),
        ));
        assert!(
            err.contains("invalid peer certificate: UnknownIssuer"),
            "{mode}: {err}"
        );
    }
}

#[test]
fn require_and_prefer_encrypt_without_checking_the_certificate() {
    let Some(db) = pgtest::TestDb::new("tls_require") else {
        return;
    };
    let pki = Pki::new("unknown CA");
    let proxy = Proxy::start(
        &db,
        Front::Tls(Box::new(server_config(pki.issue(&["db.example"]), None))),
    );
    works(&url(&db, "127.0.0.1", proxy.port, "sslmode=require")).expect("require");
    let after_require = proxy.sessions();
    assert!(after_require >= 1);
    // prefer (libpq's default, also when sslmode is not given) takes TLS when offered.
    works(&url(&db, "127.0.0.1", proxy.port, "")).expect("prefer");
    assert!(proxy.sessions() > after_require, "prefer used TLS");
    // disable never asks.
    let before = proxy.sessions();
    works(&url(&db, "127.0.0.1", proxy.port, "sslmode=disable")).expect("disable");
    assert_eq!(proxy.sessions(), before, "disable went without TLS");
}

#[test]
fn a_server_without_tls_fails_require_and_serves_prefer() {
    let Some(db) = pgtest::TestDb::new("tls_plain") else {
        return;
    };
    let proxy = Proxy::start(&db, Front::Plain);
    works(&url(&db, "127.0.0.1", proxy.port, "sslmode=prefer")).expect("prefer falls back");
    let err = fails(&url(&db, "127.0.0.1", proxy.port, "sslmode=require"));
    assert!(err.contains("does not support TLS"), "{err}");
}

#[test]
fn a_client_certificate_is_sent_when_the_server_asks() {
    let Some(db) = pgtest::TestDb::new("tls_client") else {
        return;
    };
    let pki = Pki::new("test CA");
    let proxy = Proxy::start(
        &db,
        Front::Tls(Box::new(server_config(
            pki.issue(&["localhost"]),
            Some(&pki),
        ))),
    );
    let ca = pki.ca_file();
    let (cert, key) = pki.client_files();
    works(&url(
        &db,
        "localhost",
        proxy.port,
        &format!("sslmode=verify-full sslrootcert={ca} sslcert={cert} sslkey={key}"),
    ))
    .expect("with the client certificate");
    let err = fails(&url(
        &db,
        "localhost",
        proxy.port,
        &format!("sslmode=verify-full sslrootcert={ca}"),
    ));
    assert!(err.contains("CertificateRequired"), "{err}");
}
