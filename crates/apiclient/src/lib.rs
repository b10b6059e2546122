//! What the AppScan on Cloud (`asoc`) and AppScan Enterprise (`ase`) clients share:
//! which failed attempts are worth another and how long to wait ([`retry`]), the
//! client-side request pace ([`ratelimit`]), one line of text for a failure
//! ([`text`]), reading their JSON bodies ([`json`]), what a server's base URL must be ([`base_url`]), the proxy the
//! environment puts in front of it ([`proxy`]) and which redirects they follow
//! ([`redirect`]). Each client wires them into its own
//! request loop and turns the last failure into its own error type.

pub mod base_url;
pub mod ca_file;
pub mod json;
pub mod proxy;
pub mod ratelimit;
pub mod redirect;
pub mod retry;
pub mod text;

pub use ratelimit::RateLimiter;

/// Installs `ring` as the process-wide rustls provider (reqwest is built with
/// `rustls-no-provider`). Idempotent; a provider installed earlier by someone else
/// is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
