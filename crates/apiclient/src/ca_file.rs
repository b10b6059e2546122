//! An extra CA file (PEM) to trust, read as both clients and connector registration read
//! it: a file that cannot be read, or holds no certificate, is refused with its path.

use std::path::Path;

use crate::text::error_chain;

/// The certificates of a PEM bundle at `path`, or what is wrong with it.
pub fn read(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("CA file {} cannot be read: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("CA file {}: {}", path.display(), error_chain(&e)))?;
    if certs.is_empty() {
        return Err(format!(
            "CA file {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
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
}
