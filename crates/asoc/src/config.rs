//! Client configuration: where AppScan on Cloud lives, the API key, and the
//! knobs for paging, concurrency, pacing, retries and TLS.
//!
//! [`ClientConfig::new`] fills in the defaults below; [`ClientConfig::validate`]
//! (called by [`crate::AsocClient::new`]) rejects values the server or the
//! client cannot honour, so a bad setting fails at start-up, not mid-sync.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::error::AsocError;

/// Records per list request when not configured: the batch size the vendor's
/// connector documents are written for.
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// Largest `$top` the v4 API accepts (a larger one is answered with `400`).
pub const MAX_PAGE_SIZE: usize = 5000;

/// Apps whose issues are fetched at the same time by
/// [`crate::AsocClient::issues_for_apps`] when not configured.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Client-side pace when not configured. The server allows 500 requests per
/// minute per user (sliding window); 450 leaves room for other callers.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 450;

/// Retries of one request (after the first attempt) on 429, 5xx, timeouts and
/// connection errors, when not configured.
pub const DEFAULT_MAX_RETRIES: usize = 5;

/// First backoff delay; it doubles on every retry (with jitter), capped at
/// [`MAX_RETRY_DELAY`].
pub const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_millis(500);

pub use apiclient::retry::MAX_RETRY_DELAY;

/// Whole-request timeout (connect, send, and read the body) when not configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything [`crate::AsocClient`] needs. Build it with [`ClientConfig::new`]
/// and change the public fields you need.
///
/// `Debug` is written by hand so the key secret can never be printed.
#[derive(Clone)]
pub struct ClientConfig {
    /// Scheme and host, e.g. `https://cloud.appscan.com` (a path prefix is
    /// kept; a trailing `/` is ignored). `/api/v4/...` is appended.
    pub base_url: String,
    /// The API key id (`KeyId`); not a secret, shown in `Debug`.
    pub key_id: String,
    /// The API key secret (`KeySecret`); never logged or printed.
    pub key_secret: SecretString,
    /// `$top` of every list request, 1..=[`MAX_PAGE_SIZE`].
    pub page_size: usize,
    /// Apps fetched concurrently by `issues_for_apps`, at least 1.
    pub concurrency: usize,
    /// Client-side request pace; `0` turns the limiter off.
    pub rate_limit_per_minute: u32,
    /// Retries of a failed request after the first attempt.
    pub max_retries: usize,
    /// First backoff delay (tests use a few milliseconds).
    pub retry_base_delay: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Extra CA certificate(s), PEM, trusted in addition to the system roots
    /// (an AppScan 360° install or a TLS-inspecting proxy).
    pub ca_file: Option<PathBuf>,
}

impl ClientConfig {
    /// A configuration with every default from this module.
    pub fn new(
        base_url: impl Into<String>,
        key_id: impl Into<String>,
        key_secret: impl Into<SecretString>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            key_id: key_id.into(),
            key_secret: key_secret.into(),
            page_size: DEFAULT_PAGE_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_base_delay: DEFAULT_RETRY_BASE_DELAY,
            timeout: DEFAULT_TIMEOUT,
            ca_file: None,
        }
    }

    /// Checks every field; the error names the field and the allowed range.
    pub fn validate(&self) -> Result<(), AsocError> {
        apiclient::base_url::parse(&self.base_url).map_err(|why| {
            AsocError::Config(format!(
                "base_url {:?}: {why}",
                apiclient::base_url::shown(&self.base_url)
            ))
        })?;
        if self.key_id.trim().is_empty() {
            return Err(AsocError::Config("key_id is empty".into()));
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(AsocError::Config(format!(
                "page_size {} is out of range 1..={MAX_PAGE_SIZE} (the server rejects a larger $top)",
                self.page_size
            )));
        }
        if self.concurrency == 0 {
            return Err(AsocError::Config("concurrency must be at least 1".into()));
        }
        if self.timeout.is_zero() {
            return Err(AsocError::Config(
                "timeout must be greater than zero".into(),
            ));
        }
        Ok(())
    }

    /// `base_url` parsed, trimmed of a trailing slash.
    pub(crate) fn parsed_base_url(&self) -> Result<reqwest::Url, AsocError> {
        self.validate()?;
        reqwest::Url::parse(self.base_url.trim().trim_end_matches('/'))
            .map_err(|e| AsocError::Config(format!("base_url {:?}: {e}", self.base_url)))
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("key_id", &self.key_id)
            .field("key_secret", &"[REDACTED]")
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("timeout", &self.timeout)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ClientConfig {
        ClientConfig::new(
            "https://cloud.appscan.com",
            "key-id",
            "s3cr3t-VALUE-42".to_string(),
        )
    }

    #[test]
    fn defaults() {
        let c = cfg();
        assert_eq!(c.page_size, 50);
        assert_eq!(c.concurrency, 4);
        assert_eq!(c.rate_limit_per_minute, 450);
        assert_eq!(c.max_retries, 5);
        assert_eq!(c.timeout, Duration::from_secs(60));
        assert!(c.ca_file.is_none());
        c.validate().unwrap();
    }

    #[test]
    fn page_size_bounds() {
        let mut c = cfg();
        c.page_size = 5000;
        c.validate().unwrap();
        c.page_size = 5001;
        let err = c.validate().unwrap_err();
        assert!(matches!(err, AsocError::Config(_)), "{err}");
        assert!(err.to_string().contains("page_size 5001"), "{err}");
        c.page_size = 0;
        assert!(matches!(c.validate(), Err(AsocError::Config(_))));
    }

    #[test]
    fn other_bounds() {
        let mut c = cfg();
        c.concurrency = 0;
        assert!(matches!(c.validate(), Err(AsocError::Config(_))));
        let mut c = cfg();
        c.timeout = Duration::ZERO;
        assert!(matches!(c.validate(), Err(AsocError::Config(_))));
        let mut c = cfg();
        c.key_id = " ".into();
        assert!(matches!(c.validate(), Err(AsocError::Config(_))));
        for bad in ["", "cloud.appscan.com", "ftp://x", "mailto:a@b"] {
            let mut c = cfg();
            c.base_url = bad.into();
            assert!(matches!(c.validate(), Err(AsocError::Config(_))), "{bad}");
        }
    }

    #[test]
    fn base_url_trailing_slash_and_prefix() {
        let mut c = cfg();
        c.base_url = "https://h.example/prefix/".into();
        assert_eq!(
            c.parsed_base_url().unwrap().as_str(),
            "https://h.example/prefix"
        );
    }

    #[test]
    fn debug_hides_secret() {
        let s = format!("{:?} {:#?}", cfg(), cfg());
        assert!(!s.contains("s3cr3t-VALUE-42"), "{s}");
        assert!(s.contains("[REDACTED]"));
        assert!(s.contains("key-id"));
    }
}
