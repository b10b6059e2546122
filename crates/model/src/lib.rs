//! The normalized model every source is mapped onto, and the maps that do the mapping.
//!
//! Sources (ASoC, ASE, XML reports) produce raw JSON records; a [`Map`] — data, not
//! code — turns each into an [`Asset`] or a [`Finding`]. Everything downstream (store,
//! exports, queries) sees only these types.
//!
//! # Layout
//! - [`severity`]: the five normalized severities and their numeric scales.
//! - [`status`]: the normalized finding statuses.
//! - [`asset`], [`finding`]: the normalized records.
//! - [`map`]: field, status and severity maps: loading, validation, applying to raw records.
//! - [`fingerprint`](mod@fingerprint): the cross-source identity of a weakness.
//! - [`risk`]: the risk score (0–1000) of a finding and of an asset, a pure function.
//! - [`kev`]: parsing known-exploited CVE lists (CISA KEV JSON or a text list).
//! - [`time`]: parsing the date-time forms AppScan writes, in a server's time zone.
//! - [`text`]: text as every store can hold it (no NUL), and as a reader can see it.

pub mod asset;
pub mod finding;
pub mod fingerprint;
pub mod kev;
pub mod map;
pub mod risk;
pub mod severity;
pub mod status;
pub mod text;
pub mod time;

pub use asset::Asset;
pub use finding::Finding;
pub use fingerprint::fingerprint;
pub use map::{Map, MapError, MapLoadError, RecordError};
pub use severity::Severity;
pub use status::Status;
