//! `sim` — a faithful simulator of the AppScan on Cloud (ASoC) REST API v4,
//! used by the demo, the tests and the benchmarks of appscan-bridge instead
//! of a real tenant.
//!
//! It serves a deterministic, seeded data set (apps and DAST issues shaped
//! like `ApplicationModel` / `IssueModel`) over the real endpoints — key
//! login with bearer tokens that expire on a simulated clock, OData
//! `$top/$skip/$count/$filter/$orderby/$select` lists in the
//! `{"Items":[...],"Count":n|null}` envelope, ASoC's error bodies — and lets
//! a test inject faults (429 with `Retry-After`, 5xx, delays, non-JSON pages,
//! malformed records, 403s, a revoked key), move the clock, and mutate the
//! data for delta-sync runs. A million issues fit in about 135 MB resident
//! (generated in under a second in release builds, ~2 s in debug) and pages
//! are serialized straight from a compact store.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sim::{AsocSim, Fault, SimConfig};
//! use sim::asoc::Endpoint;
//! let running = AsocSim::start(SimConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! let base = running.base_url(); // http://127.0.0.1:PORT, paths under /api/v4
//! let sim = running.handle();
//! sim.inject(Fault::Status { status: 429, times: 1, endpoint: Endpoint::Issues, retry_after: Some(1) });
//! let summary = sim.mutate(0.01, 1); // then `$filter=LastUpdated ge <summary.at>`
//! running.shutdown().await;
//! # let _ = (base, summary); Ok(()) }
//! ```
//!
//! # Layout
//! - [`asoc`] — the simulator: [`SimConfig`], [`AsocSim::start`], [`RunningSim`],
//!   [`SimHandle`], [`Fault`]; submodules `catalog` (issue types and other
//!   tables), `data` (generated store, mutations), `schema` (served fields,
//!   JSON writing), `fault`, `stats`, and the private `server` (routes).
//! - [`ase`] — the AppScan Enterprise simulator: [`ase::AseSim`], [`ase::AseHandle`],
//!   [`ase::AseFault`]; session cookie + XSRF header, `Range` paging, display-name keys.
//! - [`odata`] — `$filter` tokenizer, recursive-descent parser, type checker
//!   and evaluator, plus `$orderby` / `$select`; usable on any record type.
//! - `src/main.rs` — the `asoc-sim` binary, serving a simulator as its own process.
//!
//! # API endpoints (under `/api/v4`)
//! `POST Account/ApiKeyLogin`, `GET Account/Logout`, `GET Account/TenantInfo`,
//! `GET Account/IsAuthenticated`, `GET Apps`, `GET Apps/{appId}`,
//! `GET Issues/Application/{appId}`, `GET Issues/{issueId}`,
//! `GET Issues/{issueId}/Details?format=html|xml`, `GET Issues/{issueId}/History`
//! (always empty). Everything but login needs `Authorization: Bearer <Token>`;
//! a missing, unknown or expired token answers 401 with an empty body.
//! The default order (which `$skip` paging relies on, and which breaks
//! `$orderby` ties) is `DateCreated` ascending, then creation order.
//!
//! # Admin endpoints
//! For driving a simulator that runs as a separate process. They need no
//! token and are not counted in the statistics.
//!
//! | request | effect |
//! | --- | --- |
//! | `POST /sim/faults` + a [`Fault`] as JSON, tagged by `type`: `{"type":"status","status":429,"times":2,"endpoint":"issues","retry_after":5}`, `{"type":"delay","millis":3000,"times":1,"endpoint":"apps"}`, `{"type":"malformed","fraction":0.01,"seed":1}`, `{"type":"non_json_page","times":1}`, `{"type":"forbidden","endpoint":"apps"}`, `{"type":"bad_key"}` (`times` defaults to 1, `endpoint` to `any`; endpoints are `login`, `apps`, `issues`, `other`, `any`) | arms the fault; 204 |
//! | `DELETE /sim/faults` | disarms all faults; 204 |
//! | `GET /sim/stats` | [`asoc::SimStats`] as JSON: `{"requests":{"issues":{"200":12,"429":1}},"records_served":…,"apps_served":…,"issues_served":…,"logins":…}` |
//! | `DELETE /sim/stats` | zeroes the statistics; 204 |
//! | `POST /sim/mutate` `{"rate":0.01,"seed":1}` | [`SimHandle::mutate`]; answers the [`asoc::MutationSummary`]; with `"now":true` [`SimHandle::mutate_now`] (no clock move) |
//! | `POST /sim/advance` `{"seconds":3600}` | moves the simulated clock; answers `{"now":"…"}` |
//! | `GET /sim/now` | `{"now":"…"}` |
//! | `POST /sim/revoke` | invalidates every token; 204 |
//! | `POST /sim/token-ttl` `{"seconds":60}` | lifetime of tokens issued from now on; 204 |
//! | `POST /sim/apps-hidden` `{"hidden":true}` | serve zero apps (a source with no data); 204 |

pub mod ase;
pub mod asoc;
pub mod odata;

pub use ase::{AseHandle, AseSim, AseSimConfig, RunningAseSim};
pub use asoc::{AsocSim, Fault, RunningSim, SimConfig, SimHandle};
