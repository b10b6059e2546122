//! An extra CA file (PEM) to trust, read as both clients and connector registration read
//! it: a file that cannot be read, holds no certificate, or holds one that TLS could not
//! use as a trust anchor, is refused with its path.

use std::path::Path;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::text::error_chain;

/// The certificates of a PEM bundle at `path`, or what is wrong with it.
pub fn read(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("CA file {} cannot be read: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("CA file {}: {}", path.display(), error_chain(&e)))?;
    if certs.is_empty() {
        return Err(format!(
            "CA file {}: no PEM certificate in it{}",
            path.display(),
            hint_for(&pem, path)
        ));
    }
    check_anchors(&pem).map_err(|why| format!("CA file {}: {why}", path.display()))?;
    Ok(certs)
}

/// What to do with a file that holds only OpenSSL's "TRUSTED CERTIFICATE" blocks (a
/// certificate with trust settings appended, which TLS libraries outside OpenSSL do not
/// read): convert it.
fn hint_for(pem: &[u8], path: &Path) -> String {
    const TRUSTED: &[u8] = b"-----BEGIN TRUSTED CERTIFICATE-----";
    if pem.windows(TRUSTED.len()).any(|w| w == TRUSTED) {
        format!(
            " (it holds OpenSSL TRUSTED CERTIFICATE blocks; write them as plain certificates \
             with `openssl x509 -in {} -out ca.pem` and name ca.pem)",
            path.display()
        )
    } else {
        String::new()
    }
}

/// Each certificate of a PEM bundle read as TLS will read it, as a trust anchor: reqwest
/// takes any base64 between the markers, so a damaged block passed and every handshake
/// failed later with "invalid peer certificate".
fn check_anchors(pem: &[u8]) -> Result<(), String> {
    let mut roots = RootCertStore::empty();
    for (n, der) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let der = der.map_err(|e| format!("certificate {} is not PEM: {e}", n + 1))?;
        roots
            .add(der)
            .map_err(|e| format!("certificate {} is not a usable certificate: {e}", n + 1))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let e = read(&path).expect_err("refused");
        assert!(
            e.contains("no PEM certificate") && e.contains("ca.pem"),
            "{e}"
        );
        let e = read(&dir.path().join("missing.pem")).expect_err("refused");
        assert!(e.contains("cannot be read"), "{e}");
    }

    /// OpenSSL's `-trustout` form: refused as before, with the command that converts it.
    #[test]
    fn a_trusted_certificate_block_is_refused_with_the_conversion() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("trusted.pem");
        std::fs::write(
            &path,
            "-----BEGIN TRUSTED CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END TRUSTED CERTIFICATE-----\n",
        )
        .expect("write");
        let e = read(&path).expect_err("refused");
        assert!(
            e.contains("no PEM certificate")
                && e.contains("TRUSTED CERTIFICATE")
                && e.contains("openssl x509 -in"),
            "{e}"
        );
        let e = read(&dir.path().join("missing.pem")).expect_err("refused");
        assert!(e.contains("cannot be read"), "{e}");
    }

    /// A block between the markers that is base64 but no certificate: reqwest takes it,
    /// and every handshake failed at the first sync.
    #[test]
    fn a_damaged_certificate_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("ca.pem");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let e = read(&path).expect_err("refused");
        assert!(
            e.contains("ca.pem") && e.contains("certificate 1 is not a usable certificate"),
            "{e}"
        );
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../asoc/tests/fixtures/test-ca.pem");
        assert_eq!(read(&real).map(|c| c.len()), Ok(1));
    }
}
