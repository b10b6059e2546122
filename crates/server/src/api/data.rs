//! `/api/assets`, `/api/findings`, `/api/findings/{id}`, `/api/summary` and
//! `/api/summary/open`: the stored data, read-only.

use super::list::{Kind, ListParams};
use super::views::*;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

fn next_offset(offset: u64, limit: u64, got: usize) -> Option<u64> {
    (got as u64 >= limit).then_some(offset + limit)
}

/// Assets (applications), filtered, sorted and paged.
#[utoipa::path(get, path = "/api/assets", tag = "data", params(ListParams),
    responses((status = 200, body = AssetPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`connector` names no connector")))]
pub async fn assets(
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> Result<Json<AssetPage>, ApiError> {
    let q = p.to_query(Kind::Assets)?;
    let (offset, limit) = (p.offset.unwrap_or(0), p.limit());
    let items = state
        .store(move |s| {
            s.require_connector(q.connector.as_deref())?;
            s.assets(&q)
        })
        .await?;
    Ok(Json(AssetPage {
        next_offset: next_offset(offset, limit, items.len()),
        items: items.into_iter().map(AssetView::from).collect(),
        offset,
        limit,
    }))
}

/// Findings, filtered, sorted and paged (by `offset`, or by the `cursor` a page hands out).
#[utoipa::path(get, path = "/api/findings", tag = "data", params(ListParams),
    responses((status = 200, body = FindingPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`connector` names no connector")))]
pub async fn findings(
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> Result<Json<FindingPage>, ApiError> {
    let q = p.to_query(Kind::Findings)?;
    let (offset, limit) = (p.offset.unwrap_or(0), p.limit());
    let page = state
        .store(move |s| {
            s.require_connector(q.connector.as_deref())?;
            s.finding_page(&q)
        })
        .await?;
    Ok(Json(FindingPage {
        next_offset: next_offset(offset, limit, page.items.len()).filter(|_| p.cursor.is_none()),
        next_cursor: page.next.map(|c| c.encode()),
        items: page.items.into_iter().map(FindingView::from).collect(),
        offset,
        limit,
    }))
}

/// A finding and its status history.
pub async fn finding_detail(state: &AppState, id: i64) -> Result<FindingDetail, ApiError> {
    let (finding, history) = state
        .store(move |s| Ok((s.finding(id)?, s.finding_history(id)?)))
        .await?;
    let finding =
        finding.ok_or_else(|| ApiError::not_found(format!("finding {id} does not exist")))?;
    Ok(FindingDetail {
        finding: finding.into(),
        history: history.into_iter().map(HistoryView::from).collect(),
    })
}

/// One finding with its status history.
#[utoipa::path(get, path = "/api/findings/{id}", tag = "data",
    params(("id" = i64, Path, description = "Finding id (as listed)")),
    responses((status = 200, body = FindingDetail), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn finding(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<FindingDetail>, ApiError> {
    Ok(Json(finding_detail(&state, id).await?))
}

/// Which connector a summary covers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// Only this connector (default: all).
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    pub connector: Option<String>,
}

/// Counts: assets, findings, open findings, findings by severity and by status.
#[utoipa::path(get, path = "/api/summary", tag = "data", params(SummaryParams),
    responses((status = 200, body = SummaryView),
        (status = 400, body = ErrorBody, description = "an unknown query parameter"),
        (status = 404, body = ErrorBody, description = "`connector` names no connector")))]
pub async fn summary(
    State(state): State<AppState>,
    Query(p): Query<SummaryParams>,
) -> Result<Json<SummaryView>, ApiError> {
    let summary = state
        .store(move |s| {
            let connector = p.connector.as_deref();
            s.require_connector(connector)?;
            s.summary(connector)
        })
        .await?;
    Ok(Json(summary.into()))
}

/// Open findings after each run that changed a status, oldest first.
#[utoipa::path(get, path = "/api/summary/open", tag = "data", params(SummaryParams),
    responses((status = 200, body = [OpenPointView]),
        (status = 400, body = ErrorBody, description = "an unknown query parameter"),
        (status = 404, body = ErrorBody, description = "`connector` names no connector")))]
pub async fn open_over_time(
    State(state): State<AppState>,
    Query(p): Query<SummaryParams>,
) -> Result<Json<Vec<OpenPointView>>, ApiError> {
    let points = state
        .store(move |s| {
            let connector = p.connector.as_deref();
            s.require_connector(connector)?;
            s.open_findings_series(connector)
        })
        .await?;
    Ok(Json(points.into_iter().map(OpenPointView::from).collect()))
}
