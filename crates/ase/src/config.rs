//! [`AseConfig`]: where the server is, the API key, and how hard to push it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::error::AseError;

/// Issues per `Range` page by default.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest page asked for (ASE answers large ranges slowly).
pub const MAX_PAGE_SIZE: usize = 5000;
/// Applications whose issues are fetched at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Requests per minute by default (0 turns pacing off). ASE has no documented limit;
/// this keeps a sync polite to a server that also serves people.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 600;
/// Retries of a failed request by default.
pub const DEFAULT_MAX_RETRIES: usize = 5;
/// First retry delay by default.
pub const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_millis(500);
pub use apiclient::retry::MAX_RETRY_DELAY;
/// Whole-request timeout by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach and use an ASE server. `Debug` never shows the secret.
#[derive(Clone)]
pub struct AseConfig {
    /// `https://host:9443` (the `/ase/api` prefix is added by the client; a base that
    /// already ends in `/ase` or `/ase/api` is accepted too).
    pub base_url: String,
    /// API key id.
    pub key_id: String,
    /// API key secret.
    pub key_secret: SecretString,
    /// Items per `Range` page.
    pub page_size: usize,
    /// Applications fetched at once.
    pub concurrency: usize,
    /// Client-side request budget; 0 turns it off.
    pub rate_limit_per_minute: u32,
    /// Retries of a retryable failure after the first attempt.
    pub max_retries: usize,
    /// First backoff delay.
    pub retry_base_delay: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Extra CA certificate(s), PEM, trusted besides the system roots (on-prem servers
    /// often have a private CA).
    pub ca_file: Option<PathBuf>,
}

impl AseConfig {
    /// A configuration with every default of this module.
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
    pub fn validate(&self) -> Result<(), AseError> {
        self.api_base()?;
        if self.key_id.trim().is_empty() {
            return Err(AseError::Config("key_id is empty".into()));
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(AseError::Config(format!(
                "page_size {} is out of range 1..={MAX_PAGE_SIZE}",
                self.page_size
            )));
        }
        if self.concurrency == 0 {
            return Err(AseError::Config("concurrency must be at least 1".into()));
        }
        if self.timeout.is_zero() {
            return Err(AseError::Config("timeout must be greater than zero".into()));
        }
        Ok(())
    }

    /// The API root, `…/ase/api`, without a trailing slash.
    pub(crate) fn api_base(&self) -> Result<reqwest::Url, AseError> {
        let raw = self.base_url.trim().trim_end_matches('/');
        let bad = |why: String| {
            AseError::Config(format!(
                "base_url {:?}: {why}",
                apiclient::base_url::shown(&self.base_url)
            ))
        };
        apiclient::base_url::parse(raw).map_err(bad)?;
        let root = if raw.ends_with("/ase/api") {
            raw.to_string()
        } else if raw.ends_with("/ase") {
            format!("{raw}/api")
        } else {
            format!("{raw}/ase/api")
        };
        reqwest::Url::parse(&root).map_err(|e| bad(e.to_string()))
    }
}

impl fmt::Debug for AseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AseConfig")
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

    fn cfg(base: &str) -> AseConfig {
        AseConfig::new(base, "kid", "Top-Secret-Value-9".to_string())
    }

    #[test]
    fn api_base_accepts_the_usual_forms() {
        for (base, want) in [
            ("https://h:9443", "https://h:9443/ase/api"),
            ("https://h:9443/", "https://h:9443/ase/api"),
            ("https://h:9443/ase", "https://h:9443/ase/api"),
            ("https://h:9443/ase/api/", "https://h:9443/ase/api"),
        ] {
            assert_eq!(cfg(base).api_base().unwrap().as_str(), want, "{base}");
        }
        for bad in ["", "h:9443", "ftp://h", "mailto:a@b"] {
            assert!(
                matches!(cfg(bad).validate(), Err(AseError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn bounds_and_debug() {
        let mut c = cfg("https://h");
        c.validate().unwrap();
        c.page_size = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("page_size 0")
        );
        let c = cfg("https://h");
        let s = format!("{c:?} {c:#?}");
        assert!(
            !s.contains("Top-Secret-Value-9") && s.contains("[REDACTED]"),
            "{s}"
        );
    }
}
