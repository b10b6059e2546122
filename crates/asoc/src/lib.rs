//! A client for the AppScan on Cloud (ASoC) REST API v4: the source of the
//! connector's assets (`/Apps`) and findings (`/Issues/Application/{id}`).
//!
//! It logs in with an API key and keeps the bearer token fresh, pages OData
//! listings as async streams of raw JSON records (never the whole data set in
//! memory), fetches several apps' issues at once within a bound, paces
//! requests under the server's rate limit, and retries what is worth
//! retrying. It knows nothing of the normalized model or the store: records
//! leave as `serde_json::Value`s with every field kept.
//!
//! ```no_run
//! use asoc::{AsocClient, ClientConfig, ListQuery, odata_datetime};
//! use futures::TryStreamExt;
//! # async fn run(since: chrono::DateTime<chrono::Utc>) -> Result<(), asoc::AsocError> {
//! let client = AsocClient::new(ClientConfig::new(
//!     "https://cloud.appscan.com",
//!     "key-id",
//!     std::env::var("ASOC_KEY_SECRET").unwrap_or_default(),
//! ))?;
//! let delta = ListQuery::all().with_filter(format!("LastUpdated ge {}", odata_datetime(since)));
//! let mut pages = std::pin::pin!(client.issues_for_apps(vec!["app-id".into()], delta));
//! while let Some(page) = pages.try_next().await? {
//!     println!("{} issues of app {:?}", page.items.len(), page.app_id);
//! }
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`client`]: [`AsocClient`], the request path (pace, send, retry, re-login
//!   on 401) and the listing streams.
//! - [`config`]: [`ClientConfig`] with its defaults and limits.
//! - [`auth`]: the login answer and the token cache (refresh ahead of `Expire`).
//! - [`paging`]: [`ListQuery`], [`Page`], and the paging state machine (stop rules).
//! - what is retried, how long to wait and the client-side pace come from the
//!   `apiclient` crate, shared with the other AppScan client.
//! - `server_clock`: the server's clock from its answers' `Date` header
//!   ([`AsocClient::server_clock_offset`]).
//! - [`stats`]: atomic request counters and their snapshot, [`ClientStats`].
//! - [`odata`]: `$filter` literals ([`odata_datetime`], [`odata_string`]).
//! - [`error`]: [`AsocError`] and body-excerpt helpers.

pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod odata;
pub mod paging;
mod server_clock;
pub mod stats;

pub use client::AsocClient;
pub use config::{ClientConfig, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use error::AsocError;
pub use odata::{odata_datetime, odata_string};
pub use paging::{DEFAULT_ORDER, ListQuery, MAX_CONSECUTIVE_BAD_PAGES, Page};
pub use secrecy::SecretString;
pub use stats::ClientStats;
