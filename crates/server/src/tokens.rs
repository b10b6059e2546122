//! API tokens: made here, shown once, stored as a SHA-256 hash.
//!
//! A token is `abt_` and 64 hex digits (256 random bits), so a plain SHA-256 is enough to
//! store it: there is nothing to brute-force, and a lookup by hash costs one index probe
//! per request. The store keeps the hash, a name and a short hint (`abt_1a2b3c…`) that
//! lets a person tell tokens apart in `token list`.
//!
//! No secret is ever compared byte by byte, so there is no early-exit comparison to time:
//! a request's token is hashed and the *hash* is looked up. Timing the lookup could at best
//! reveal how much of a guessed hash matches a stored one, and a matching hash prefix says
//! nothing about a token (SHA-256 preimages), which is the usual constant-time argument for
//! hash-indexed tokens.

use rand::RngCore;
use sha2::{Digest, Sha256};
use store::{ApiToken, Store, StoreError};

/// What every token starts with (easy to spot in a leaked log or a secret scanner).
pub const TOKEN_PREFIX: &str = "abt_";

/// A token just created: its stored record and the secret, which exists only here.
pub struct NewToken {
    pub token: ApiToken,
    secret: String,
}

impl NewToken {
    /// The bearer secret, to print once.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &self.token)
            .field("secret", &"[hidden]")
            .finish()
    }
}

/// The SHA-256 of a token, in hex: what the store keeps and looks up.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token named `name` (a default name from the time when `None` or blank: a
/// token named '' could not be told apart in `token list` nor revoked by name).
pub fn create(store: &dyn Store, name: Option<&str>) -> Result<NewToken, StoreError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let hint = format!("{}…", &secret[..TOKEN_PREFIX.len() + 6]);
    let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        // The time, and a few random characters (not the secret's) so that two made in
        // one second differ.
        None => {
            let mut tag = [0u8; 3];
            rand::rng().fill_bytes(&mut tag);
            format!(
                "token-{}-{}",
                chrono::Utc::now().format("%Y%m%d-%H%M%S"),
                hex::encode(tag)
            )
        }
    };
    let token = store.create_token(&name, &hash(&secret), &hint)?;
    Ok(NewToken { token, secret })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hashed_and_hidden_from_debug() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store::SqliteStore::open(&dir.path().join("s.db")).expect("open");
        let a = create(&store, Some("ci")).expect("create");
        let b = create(&store, None).expect("create");
        let blank = create(&store, Some("  ")).expect("create");
        assert!(
            blank.token.name.starts_with("token-"),
            "{}",
            blank.token.name
        );
        assert_ne!(a.secret(), b.secret());
        assert!(a.secret().starts_with(TOKEN_PREFIX) && a.secret().len() == 68);
        assert!(a.token.hint.starts_with(&a.secret()[..10]));
        assert!(!format!("{a:?}").contains(a.secret()));
        assert_eq!(
            store
                .use_token(&hash(a.secret()))
                .expect("use")
                .map(|t| t.name),
            Some("ci".to_string())
        );
        assert!(b.token.name.starts_with("token-"));
    }
}
