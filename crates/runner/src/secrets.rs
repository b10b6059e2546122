//! Secrets at rest: API key secrets are sealed with XChaCha20-Poly1305 under a master key.
//!
//! The master key comes from `APPSCAN_BRIDGE_MASTER_KEY` (64 hex characters) or from the
//! key file `master.key` in the data directory, created with mode `0600` on first use —
//! never for a store that already holds secrets sealed with another key.
//! The database only ever holds `nonce || ciphertext`. A wrong or missing key fails the
//! AEAD tag check and yields a clear error, never garbage.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The environment variable that may hold the master key (hex).
pub const MASTER_KEY_ENV: &str = "APPSCAN_BRIDGE_MASTER_KEY";
/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "master.key";

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot decrypt secret for connector {connector}: wrong or missing master key")]
    WrongKey { connector: String },
    #[error("master key in {origin} is invalid: expected 64 hex characters (32 bytes)")]
    BadKey { origin: String },
    #[error("cannot read or create the master key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("encryption failed")]
    Encrypt,
    #[error(
        "there is no master key ({path} does not exist and ${MASTER_KEY_ENV} is not set), and the store holds secrets sealed with one: restore the key file from where the store was first used (every worker on a shared store needs the same key) or set ${MASTER_KEY_ENV}"
    )]
    NoKey { path: PathBuf },
    #[error(
        "this master key does not open the secret of connector {connector}, nor any other in the store: it is not the store's key (a secret sealed with it would leave the store's secrets under two keys, and no sync could open them); use the key they were sealed with (the master.key of the data directory that set the store up, or ${MASTER_KEY_ENV})"
    )]
    KeyMismatch { connector: String },
}

/// The master key. Its bytes are zeroed when dropped and never printed.
pub struct MasterKey {
    /// `Err(path)`: there is none, and none may be made there (see [`MasterKey::for_store`]).
    key: Result<Zeroizing<[u8; 32]>, PathBuf>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

impl MasterKey {
    /// Loads the key from the environment, else from `dir/master.key`, creating that file
    /// (mode 0600) with a random key when it does not exist.
    pub fn load_or_create(dir: &Path) -> Result<MasterKey, SecretError> {
        if let Ok(hex_key) = std::env::var(MASTER_KEY_ENV) {
            return MasterKey::from_hex(&hex_key, MASTER_KEY_ENV);
        }
        let path = dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                make_private(&path);
                MasterKey::from_hex(text.trim(), &path.display().to_string())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(&path),
            Err(source) => Err(SecretError::KeyFile { path, source }),
        }
    }

    /// Parses a key written as 64 hex characters.
    pub fn from_hex(text: &str, origin: &str) -> Result<MasterKey, SecretError> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| SecretError::BadKey {
            origin: origin.to_string(),
        })?);
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretError::BadKey {
                origin: origin.to_string(),
            })?;
        Ok(MasterKey {
            key: Ok(Zeroizing::new(key)),
        })
    }

    /// The key for a store: from the environment or `dir/master.key`; when there is none,
    /// a new one only if the store holds no sealed secret yet. A store whose secrets were
    /// sealed with a key this machine lacks (a second worker on a shared PostgreSQL store,
    /// a key file lost) would otherwise get a new key silently, and its secrets would end
    /// up sealed under two keys that each open only some. Without it, reading findings
    /// works; using or sealing a secret says what is missing.
    pub fn for_store(dir: &Path, sealed_secrets: bool) -> Result<MasterKey, SecretError> {
        let path = dir.join(KEY_FILE);
        if sealed_secrets && std::env::var_os(MASTER_KEY_ENV).is_none() && !path.exists() {
            return Ok(MasterKey { key: Err(path) });
        }
        MasterKey::load_or_create(dir)
    }

    /// [`SecretError::NoKey`] when there is no key (see [`MasterKey::for_store`]).
    pub fn require(&self) -> Result<(), SecretError> {
        self.cipher().map(drop)
    }

    fn cipher(&self) -> Result<XChaCha20Poly1305, SecretError> {
        match &self.key {
            Ok(key) => Ok(XChaCha20Poly1305::new(key.as_ref().into())),
            Err(path) => Err(SecretError::NoKey { path: path.clone() }),
        }
    }

    /// Seals a secret: `nonce || ciphertext`.
    pub fn seal(&self, secret: &SecretString) -> Result<Vec<u8>, SecretError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = self
            .cipher()?
            .encrypt(&nonce, secret.expose_secret().as_bytes())
            .map_err(|_| SecretError::Encrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a sealed secret; `connector` names it in the error.
    pub fn open(&self, sealed: &[u8], connector: &str) -> Result<SecretString, SecretError> {
        let wrong = || SecretError::WrongKey {
            connector: connector.to_string(),
        };
        if sealed.len() <= NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let plain = Zeroizing::new(
            self.cipher()?
                .decrypt(XNonce::from_slice(nonce), ct)
                .map_err(|_| wrong())?,
        );
        let text = String::from_utf8(plain.to_vec()).map_err(|_| wrong())?;
        Ok(SecretString::from(text))
    }
}

/// Creates the key file with a new key, unless another process gets there first: then its
/// key is the one. Two commands starting on a new data directory at once (a service and a
/// setup script) each made a key, and the second either failed or sealed secrets with a
/// key that was not the file's. The key is written whole to a file of this process and
/// linked into place, which fails when the file exists, so nobody reads half a key.
fn create_key_file(path: &Path) -> Result<MasterKey, SecretError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static ATTEMPT: AtomicU64 = AtomicU64::new(0);
    let file_error = |source| SecretError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    let text = Zeroizing::new(hex::encode(key));
    let mut own = path.as_os_str().to_owned();
    own.push(format!(
        ".{}-{}.new",
        std::process::id(),
        ATTEMPT.fetch_add(1, Ordering::Relaxed)
    ));
    let own = std::path::PathBuf::from(own);
    write_private(&own, text.as_bytes()).map_err(file_error)?;
    let linked = std::fs::hard_link(&own, path).or_else(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(e);
        }
        // A file system without hard links: created in place, which a start racing this
        // one could read half-written (rare, and it then says the key file is bad).
        write_private(path, text.as_bytes())
    });
    let _ = std::fs::remove_file(&own);
    let origin = path.display().to_string();
    match linked {
        Ok(()) => MasterKey::from_hex(&text, &origin),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let theirs = std::fs::read_to_string(path).map_err(file_error)?;
            MasterKey::from_hex(theirs.trim(), &origin)
        }
        Err(e) => Err(file_error(e)),
    }
}

/// A key file others may read or write (copied in with the umask's mode, or left so by
/// hand) is made the owner's alone, with a warning: whoever can read it opens every
/// sealed secret. One whose mode cannot be changed (another owner's) is warned about.
fn make_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Some(mode) = std::fs::metadata(path).ok().and_then(|m| too_open(&m)) else {
            return;
        };
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700)) {
            Ok(()) => tracing::warn!(
                file = %path.display(),
                "the master key file was open to others (mode {mode:o}); it is now the owner's alone"
            ),
            Err(e) => tracing::warn!(
                file = %path.display(),
                "the master key file is open to others (mode {mode:o}) and could not be made the owner's alone: {e}; whoever can read it can open every stored secret"
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// The mode of a key file that others may read or write, if it is one: a regular file
/// only. A `master.key` linked to `/dev/null` read as an empty key and the device was
/// made 0600 for the whole machine (every other user's writes to it failed).
#[cfg(unix)]
fn too_open(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    (meta.is_file() && mode & 0o077 != 0).then_some(mode)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        crate::paths::create_private_dir(parent)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    /// Only a regular file is made private: `/dev/null` (what a `master.key` linked to it
    /// reads as) keeps its mode, read here and never changed.
    #[cfg(unix)]
    #[test]
    fn only_a_regular_key_file_is_made_private() {
        let device = std::fs::metadata("/dev/null").expect("/dev/null");
        assert_eq!(too_open(&device), None);
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join(KEY_FILE);
        std::fs::write(&file, "00").expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let meta = std::fs::metadata(&file).expect("meta");
        assert_eq!(too_open(&meta), Some(0o644));
    }

    use super::*;

    impl MasterKey {
        fn bytes(&self) -> [u8; 32] {
            **self.key.as_ref().expect("a key")
        }
    }

    /// A store that holds sealed secrets gets no new key when its key is missing: read
    /// commands work, and sealing or opening a secret says what is missing.
    #[test]
    fn a_missing_key_is_not_replaced_when_secrets_are_sealed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = MasterKey::for_store(dir.path(), true).expect("placeholder");
        assert!(!dir.path().join(KEY_FILE).exists(), "no key file made");
        let secret = SecretString::from("s3cr3t".to_string());
        let err = key.seal(&secret).expect_err("no key to seal with");
        assert!(err.to_string().contains("there is no master key"), "{err}");
        assert!(matches!(
            key.open(&[0u8; 40], "c"),
            Err(SecretError::NoKey { .. })
        ));
        // A store with nothing sealed yet gets its key.
        MasterKey::for_store(dir.path(), false).expect("new key");
        assert!(dir.path().join(KEY_FILE).exists());
    }

    /// Commands starting at once on a new data directory end up with one key.
    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("tempdir");
            let keys: Vec<[u8; 32]> = std::thread::scope(|s| {
                let starts: Vec<_> = (0..6)
                    .map(|_| s.spawn(|| MasterKey::load_or_create(dir.path()).expect("key")))
                    .collect();
                starts
                    .into_iter()
                    .map(|t| t.join().expect("thread").bytes())
                    .collect()
            });
            assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key for all");
            let on_disk = MasterKey::load_or_create(dir.path()).expect("key");
            assert_eq!(on_disk.bytes(), keys[0]);
            let files = std::fs::read_dir(dir.path()).expect("dir").count();
            assert_eq!(files, 1, "no file of a start left behind");
        }
    }

    #[test]
    fn round_trip_and_wrong_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = MasterKey::load_or_create(dir.path()).expect("key");
        let secret = SecretString::from("s3cr3t-value-123".to_string());
        let sealed = key.seal(&secret).expect("seal");
        assert!(!sealed.windows(6).any(|w| w == b"s3cr3t"));
        let back = key.open(&sealed, "c").expect("open");
        assert_eq!(back.expose_secret(), "s3cr3t-value-123");

        let other = MasterKey::from_hex(&"11".repeat(32), "test").expect("key");
        let err = other.open(&sealed, "shop").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot decrypt secret for connector shop: wrong or missing master key"
        );
        assert!(format!("{key:?}").contains("REDACTED"));
        // The same file is read back on the next load.
        let again = MasterKey::load_or_create(dir.path()).expect("key again");
        assert_eq!(
            again.open(&sealed, "c").expect("open").expose_secret(),
            "s3cr3t-value-123"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// A key file others can read (copied in with a 0644 umask) is made the owner's alone
    /// when it is loaded, and its key is still the one read.
    #[cfg(unix)]
    #[test]
    fn a_key_file_open_to_others_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(KEY_FILE);
        std::fs::write(&path, "22".repeat(32)).expect("write key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let key = MasterKey::load_or_create(dir.path()).expect("key");
        assert_eq!(key.bytes(), [0x22; 32]);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
