//! A client for the AppScan Enterprise (ASE) REST API, the source of the `ase`
//! connector: applications (`/ase/api/applications`) and their issues
//! (`/ase/api/issues?query=Application Name=…`) with their security details.
//!
//! ASE runs on the customer's own servers. The client logs in with an API key
//! (`POST /ase/api/keylogin/apikeylogin`), keeps the session the way ASE
//! requires — the `asc_session_id` cookie on every request *and* the session id
//! again in the `asc_xsrf_token` header — logs in again once when a call is
//! answered `401`, pages lists with the `Range: items=a-b` header (honouring
//! `Content-Range`, stopping on a short page when the server sends none), paces
//! requests, retries 429 and 5xx answers with backoff (and `Retry-After`), and
//! logs out when told to. Records leave as `serde_json::Value`s keyed by ASE's
//! attribute display names, every field kept; mapping them is the runner's job.
//! The key secret and the session never appear in a log line, an error or a
//! `Debug` output.
//!
//! ```no_run
//! use ase::{AseClient, AseConfig};
//! use futures::TryStreamExt;
//! # async fn run() -> Result<(), ase::AseError> {
//! let client = AseClient::new(AseConfig::new("https://ase.example.com:9443", "key-id",
//!     std::env::var("ASE_KEY_SECRET").unwrap_or_default()))?;
//! client.login().await?;
//! for app in client.applications().await? {
//!     let name = app["name"].as_str().unwrap_or_default().to_string();
//!     let mut pages = std::pin::pin!(client.issues(&name));
//!     while let Some(page) = pages.try_next().await? {
//!         println!("{} issues of {name}", page.items.len());
//!     }
//! }
//! client.logout().await;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`client`]: [`AseClient`], the request path (pace, send, retry, re-login on
//!   401), applications, issue pages, details, logout.
//! - [`config`]: [`AseConfig`] with its defaults and limits.
//! - [`session`]: the login answer → the session (cookie and XSRF token), kept secret.
//! - [`paging`]: `Range`/`Content-Range` and the paging state machine ([`Page`]).
//! - [`query`]: ASE's `query` filter syntax (escaping values).
//! - [`html`]: undoing the HTML escaping ASE applies to attribute values.
//! - what is retried, how long to wait and the client-side pace come from the
//!   `apiclient` crate, shared with the other AppScan client.
//! - [`stats`]: request counters ([`ClientStats`]), logins and logouts included.
//! - [`error`]: [`AseError`] and body-excerpt helpers.

pub mod client;
pub mod config;
pub mod error;
pub mod html;
pub mod paging;
pub mod query;
pub mod session;
pub mod stats;

pub use client::AseClient;
pub use config::{AseConfig, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use error::AseError;
pub use html::unescape;
pub use paging::Page;
pub use secrecy::SecretString;
pub use stats::ClientStats;
