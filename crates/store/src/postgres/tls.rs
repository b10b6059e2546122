//! TLS to the server, as libpq's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` ask:
//! a managed PostgreSQL (RDS, Azure, Cloud SQL) takes only encrypted connections.
//!
//! - `disable`: never.
//! - `allow`, `prefer` (the default): when the server offers it, certificate unchecked.
//! - `require`: always, certificate unchecked, unless `sslrootcert` is given (then as
//!   `verify-ca`, as libpq does).
//! - `verify-ca`: always, the certificate chained to `sslrootcert` (a PEM file, or
//!   `system` for the system's roots; the system's roots when not given).
//! - `verify-full`: `verify-ca` plus the host name (or address) the URL connects to.
//!
//! `sslcert` and `sslkey` (PEM files) send a client certificate.

use postgres::config::SslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The URL's TLS parameters, taken out before the rest goes to the driver (which knows
/// only `disable`, `prefer` and `require`, and no certificate files).
#[derive(Debug, Default)]
pub struct TlsParams {
    pub mode: Option<String>,
    pub root_cert: Option<String>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl TlsParams {
    /// Takes `key = value` when it is one of ours.
    pub fn take(&mut self, key: &str, value: &str) -> bool {
        match key {
            "sslmode" => self.mode = Some(value.to_string()),
            "sslrootcert" => self.root_cert = Some(value.to_string()),
            "sslcert" => self.client_cert = Some(PathBuf::from(value)),
            "sslkey" => self.client_key = Some(PathBuf::from(value)),
            _ => return false,
        }
        true
    }
}

/// How the store's connections are made.
#[derive(Clone)]
pub enum Tls {
    Off,
    On(MakeRustlsConnect),
}

/// How a server's certificate is checked.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

/// The driver's mode and the connector for `params`; a problem is a message for the
/// URL's error.
pub fn configure(params: &TlsParams) -> std::result::Result<(SslMode, Tls), String> {
    let mode = params.mode.as_deref().unwrap_or("prefer");
    let (driver_mode, check) = match mode {
        "disable" => {
            if params.root_cert.is_some() || params.client_cert.is_some() {
                return Err("sslmode=disable with certificate files: pick one".into());
            }
            return Ok((SslMode::Disable, Tls::Off));
        }
        "allow" | "prefer" => (SslMode::Prefer, Check::Nothing),
        "require" if params.root_cert.is_some() => (SslMode::Require, Check::Chain),
        "require" => (SslMode::Require, Check::Nothing),
        "verify-ca" => (SslMode::Require, Check::Chain),
        "verify-full" => (SslMode::Require, Check::ChainAndName),
        other => {
            return Err(format!(
                "sslmode '{other}' is not one of disable, allow, prefer, require, verify-ca, \
                 verify-full"
            ));
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::Nothing => Arc::new(AnyCertificate(provider.signature_verification_algorithms)),
        Check::Chain | Check::ChainAndName => {
            let roots = roots(params.root_cert.as_deref())?;
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("TLS: {e}"))?;
            if check == Check::Chain {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            }
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&params.client_cert, &params.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(certificates(cert, "sslcert")?, private_key(key)?)
            .map_err(|e| {
                format!(
                    "sslcert {} with sslkey {}: {e}",
                    cert.display(),
                    key.display()
                )
            })?,
        _ => return Err("sslcert and sslkey go together: give both or neither".into()),
    };
    Ok((driver_mode, Tls::On(MakeRustlsConnect::new(config))))
}

/// The trust anchors: `sslrootcert`'s file, or the system's.
fn roots(root_cert: Option<&str>) -> std::result::Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) if path != "system" => {
            let path = Path::new(path);
            let (added, _) = roots.add_parsable_certificates(certificates(path, "sslrootcert")?);
            if added == 0 {
                return Err(format!(
                    "sslrootcert {}: no certificate in it could be used",
                    path.display()
                ));
            }
        }
        _ => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(
                    "no system root certificates found: name the server's CA with \
                     sslrootcert=PATH"
                        .into(),
                );
            }
        }
    }
    Ok(roots)
}

fn certificates(
    path: &Path,
    what: &str,
) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{what} {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> std::result::Result<PrivateKeyDer<'static>, String> {
    let pem = read(path, "sslkey")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        format!(
            "sslkey {}: {e} (an unencrypted PEM private key is needed)",
            path.display()
        )
    })
}

fn read(path: &Path, what: &str) -> std::result::Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))
}

/// `verify-ca`: the chain is checked, the name is not.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // The name is checked after the chain: failing on it means the chain is good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require`: encrypted, whoever answers (libpq's meaning of both). The
/// handshake's signatures are still checked, so the session key is the server's.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}
