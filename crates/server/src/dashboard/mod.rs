//! The web dashboard at `/`: server-rendered HTML with one stylesheet and one small
//! script, both built into the binary (no CDN, no separate web server).
//!
//! - `/`: counts, severity and status, the open-findings chart, connectors, and the
//!   findings table with its filter box (`?filter=...`, the query language).
//! - `/findings/{id}`: a finding and its status history.
//! - `/connectors/{name}`: a connector and its runs.
//!
//! - [`pages`]: the HTML; [`chart`]: the SVG chart.

pub mod chart;
pub mod pages;

use crate::api;
use crate::api::list::{Kind, ListParams};
use crate::api::views::{FindingView, RunView};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");
const FAVICON: &str = include_str!("assets/favicon.svg");
/// The logo in the header (the favicon's drawing).
pub(crate) const LOGO: &str = include_str!("assets/favicon.svg");

/// The dashboard's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/findings/{id}", get(finding))
        .route("/connectors/{name}", get(connector))
        .route(
            "/assets/app.css",
            get(|| asset("text/css; charset=utf-8", CSS)),
        )
        .route(
            "/assets/app.js",
            get(|| asset("text/javascript; charset=utf-8", JS)),
        )
        .route(
            "/assets/favicon.svg",
            get(|| asset("image/svg+xml", FAVICON)),
        )
        .route("/favicon.ico", get(|| asset("image/svg+xml", FAVICON)))
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// An error shown as a page.
pub struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut message = self.0.error;
        if let Some(d) = self.0.detail.as_str() {
            message = format!("{message}: {d}");
        }
        (
            self.0.status,
            Html(pages::error(self.0.status.as_u16(), &message).into_string()),
        )
            .into_response()
    }
}

/// A 404 page for paths nobody serves.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(pages::error(404, "There is no page here.").into_string()),
    )
        .into_response()
}

/// What the overview's address may say. Parameters it does not know are ignored (a link
/// shared with `?utm_source=…` or `?fbclid=…` answered 400), unlike the API's.
#[derive(Debug, Deserialize)]
struct PageQuery {
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    connector: Option<String>,
    filter: Option<String>,
    sort: Option<String>,
    offset: Option<u64>,
}

impl From<PageQuery> for ListParams {
    fn from(q: PageQuery) -> ListParams {
        ListParams {
            connector: q.connector,
            filter: q.filter,
            sort: q.sort,
            offset: q.offset,
            ..ListParams::default()
        }
    }
}

async fn index(
    State(state): State<AppState>,
    params: Result<crate::extract::Query<PageQuery>, ApiError>,
) -> Result<Html<String>, PageError> {
    // A bad parameter is a page saying which and what it takes, not the API's JSON.
    let mut params: ListParams = params?.0.into();
    // One row more than a page says whether another page follows (a full page did not:
    // exactly 50 findings led to an empty page).
    params.limit = Some(pages::PAGE_SIZE + 1);
    let connectors = api::connectors::views(&state).await?;
    let connector = params.connector.clone();
    let c2 = connector.clone();
    let summary = state.store(move |s| s.summary(c2.as_deref())).await?;
    let series = state
        .store(move |s| s.open_findings_series(connector.as_deref()))
        .await?;
    let findings = match params.to_query(Kind::Findings) {
        Ok(q) => match state
            .store(move |s| {
                // A mistyped connector is said where a filter mistake is.
                s.require_connector(q.connector.as_deref())?;
                s.findings(&q)
            })
            .await
        {
            Ok(rows) => Ok(pages::FindingsPage::from_rows(
                rows.into_iter().map(FindingView::from).collect(),
            )),
            Err(e) if e.status.is_client_error() => Err(describe(&e)),
            Err(e) => return Err(e.into()),
        },
        Err(e) => Err(describe(&e)),
    };
    let page = pages::Overview {
        connectors,
        summary: summary.into(),
        series,
        findings,
        params,
    };
    Ok(Html(pages::overview(&page).into_string()))
}

/// An API error as a page shows it: one line, and under it the filter with a caret at
/// the mistake when it has a place (the API's detail, dumped as JSON, used to be the line).
fn describe(e: &ApiError) -> pages::Problem {
    let (line, caret) = match &e.detail {
        serde_json::Value::String(d) => (format!("{}: {d}", e.error), None),
        serde_json::Value::Object(d) => (
            e.error.clone(),
            d.get("caret").and_then(|c| c.as_str()).map(str::to_string),
        ),
        _ => (e.error.clone(), None),
    };
    let parameter = e.detail.get("parameter").and_then(|p| p.as_str());
    pages::Problem {
        line,
        caret,
        in_filter: parameter == Some("filter"),
        in_sort: parameter == Some("sort"),
    }
}

async fn finding(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("there is no finding '{id}'")))?;
    let detail = crate::api::data::finding_detail(&state, id).await?;
    Ok(Html(pages::finding(&detail).into_string()))
}

async fn connector(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Html<String>, PageError> {
    let c = api::connectors::connector(&state, name).await?;
    let id = c.id;
    let runs = state.store(move |s| s.runs(id, 50)).await?;
    let view = api::connectors::view_with(&state, c, runs.first().cloned()).await?;
    let runs: Vec<RunView> = runs.into_iter().map(RunView::from).collect();
    Ok(Html(pages::connector(&view, &runs).into_string()))
}
