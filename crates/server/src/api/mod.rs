//! The JSON API under `/api`, plus `/healthz`, `/readyz` and `/metrics`.
//!
//! Routes are added through [`Routes`], which records each method and path as it goes, so
//! the OpenAPI test can hold the router and the document against each other.
//!
//! - [`connectors`]: connectors, syncs, runs, run errors, checks.
//! - [`data`]: assets, findings, finding detail, summary.
//! - [`export`]: findings as a download in an export format.
//! - [`due`]: the queue of scheduled runs the workers share.
//! - [`health`]: health, readiness, metrics, the OpenAPI document.
//! - [`list`]: listing parameters (filter, sort, limit, offset).
//! - [`views`]: the JSON shapes and their schemas.
//! - [`openapi`]: the document.

pub mod connectors;
pub mod data;
pub mod due;
pub mod export;
pub mod health;
pub mod list;
pub mod openapi;
pub mod views;

use crate::state::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing;

/// A router that remembers its routes.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<(Method, &'static str)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn get<H, T>(mut self, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, routing::get(handler));
        self.table.push((Method::GET, path));
        self
    }

    fn post<H, T>(mut self, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(path, routing::post(handler));
        self.table.push((Method::POST, path));
        self
    }

    /// The methods and paths, in the order they were added.
    pub fn table(&self) -> &[(Method, &'static str)] {
        &self.table
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// Every API route.
pub fn routes() -> Routes {
    Routes::new()
        .get("/healthz", health::healthz)
        .get("/readyz", health::readyz)
        .get("/metrics", health::metrics)
        .get("/api/openapi.json", health::openapi)
        .get("/api/connectors", connectors::list)
        .get("/api/connectors/{name}", connectors::show)
        .post("/api/connectors/{name}/sync", connectors::sync)
        .post("/api/connectors/{name}/cancel", connectors::cancel)
        .post("/api/connectors/{name}/check", connectors::check)
        .get("/api/connectors/{name}/runs", connectors::runs)
        .get("/api/connectors/{name}/runs/{id}", connectors::run)
        .get(
            "/api/connectors/{name}/runs/{id}/errors",
            connectors::run_errors,
        )
        .get("/api/assets", data::assets)
        .get("/api/findings", data::findings)
        .get("/api/findings/{id}", data::finding)
        .get("/api/summary", data::summary)
        .get("/api/summary/open", data::open_over_time)
        .get("/api/export", export::export)
        .get("/api/due-runs", due::list)
}
