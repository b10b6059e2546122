//! The OpenAPI document of the API, served at `/api/openapi.json`.
//!
//! Every route of [`super::routes`] must appear here; `tests/api.rs` compares the two and
//! fails on a route that is not documented (or a documented path that does not exist).

use super::{connectors, data, due, export, health, views};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "appscan-bridge",
        description = "HCL AppScan findings in one normalized store: connectors, runs, assets, findings. \
Write endpoints need `Authorization: Bearer <token>` (`appscan-bridge token create`). \
Errors are `{\"error\": \"...\", \"detail\": ...}`."
    ),
    paths(
        health::healthz, health::readyz, health::metrics, health::openapi,
        connectors::list, connectors::show, connectors::sync, connectors::cancel,
        connectors::runs, connectors::run, connectors::run_errors, connectors::check,
        data::assets, data::findings, data::finding, data::summary, data::open_over_time,
        export::export, due::list,
    ),
    components(schemas(
        views::ErrorBody, views::Health, views::ConnectorView, views::RunView,
        views::CountersView, views::IssueView, views::SyncStarted, views::Cancelled,
        views::CheckView, views::AssetView, views::FindingView, views::HistoryView,
        views::FindingDetail, views::AssetPage, views::FindingPage, views::SummaryView,
        views::OpenPointView, due::DueRunView,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "connectors", description = "Connectors, their runs and syncs"),
        (name = "data", description = "Stored assets and findings"),
        (name = "health", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the write endpoints refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
