//! The HTTP face of the simulator: the `/api/v4` routes, the gate every API
//! request passes (injected delays and statuses, bearer-token check,
//! sticky 403s, optional rate limit, statistics), OData query handling for
//! the list endpoints, and the `/sim/…` admin routes.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::data::{App, Data};
use super::fault::{BodyFault, Endpoint, Fault, StatusFault};
use super::schema::{
    APP_SCHEMA, AppRow, Envelope, ISSUE_SCHEMA, IssueRow, Malform, Projected, malform_for,
};
use super::{Shared, lock, to_utc};
use crate::odata::{self, FieldDef, Filter, Record};

type St = State<Arc<Shared>>;

/// The default `$top` when a list request gives none.
const DEFAULT_TOP: usize = 100;

/// Builds the router: API routes behind the gate, admin routes beside them.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v4/Account/ApiKeyLogin", post(login))
        .route("/api/v4/Account/Logout", get(logout))
        .route("/api/v4/Account/TenantInfo", get(tenant_info))
        .route("/api/v4/Account/IsAuthenticated", get(is_authenticated))
        .route("/api/v4/Apps", get(list_apps))
        .route("/api/v4/Apps/{id}", get(get_app))
        .route("/api/v4/Issues/{id}", get(get_issue))
        .route("/api/v4/Issues/{a}/{b}", get(issues_two))
        .route(
            "/sim/faults",
            post(admin_add_fault).delete(admin_clear_faults),
        )
        .route("/sim/stats", get(admin_stats).delete(admin_reset_stats))
        .route("/sim/mutate", post(admin_mutate))
        .route("/sim/advance", post(admin_advance))
        .route("/sim/now", get(admin_now))
        .route("/sim/revoke", post(admin_revoke))
        .route("/sim/token-ttl", post(admin_token_ttl))
        .route("/sim/apps-hidden", post(admin_apps_hidden))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .layer(middleware::from_fn_with_state(shared.clone(), dated))
        .with_state(shared)
}

/// Every answer's `Date` is the simulator's clock (moved by `/sim/advance`), as a real
/// server's is its own: clients read it to keep their cursors in the server's time.
async fn dated(State(s): St, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let date = to_utc(s.now_ms())
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(value) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert(header::DATE, value);
    }
    resp
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// An API error answered with ASoC's error body `{"Key","Message","FormatParams"}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    key: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, key: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            key,
            message: message.into(),
        }
    }

    fn bad_query(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidODataQuery", message)
    }

    fn not_found(what: &str, id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{what} '{id}' was not found."),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "Key": self.key, "Message": self.message, "FormatParams": [] });
        (self.status, json_body(body.to_string().into_bytes())).into_response()
    }
}

fn json_body(bytes: Vec<u8>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        bytes,
    )
}

fn json_response<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(b) => json_body(b).into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            e.to_string(),
        )
        .into_response(),
    }
}

fn unauthorized() -> Response {
    StatusCode::UNAUTHORIZED.into_response()
}

fn too_many(retry_after: Option<u64>) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        "Too many requests.",
    )
        .into_response();
    if let Some(s) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

fn fault_response(f: &StatusFault) -> Response {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = match status {
        StatusCode::TOO_MANY_REQUESTS => too_many(None),
        StatusCode::UNAUTHORIZED => unauthorized(),
        s => {
            let key = match s.as_u16() {
                400 => "BadRequest",
                403 => "Forbidden",
                404 => "NotFound",
                409 => "Conflict",
                500 => "InternalServerError",
                502 => "BadGateway",
                503 => "ServiceUnavailable",
                504 => "GatewayTimeout",
                _ => "SimulatedFault",
            };
            let reason = s.canonical_reason().unwrap_or("Error");
            ApiError::new(s, key, format!("{reason} (simulated fault).")).into_response()
        }
    };
    if let Some(s) = f.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

fn forbidden() -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "The API key does not have the permission required for this operation.",
    )
    .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

// ---------------------------------------------------------------------------
// The gate
// ---------------------------------------------------------------------------

/// The client's IP address, which keys the rate limit of requests that name no user;
/// `None` when the router is served without connection info.
#[derive(Debug, Clone, Copy)]
struct Peer(Option<IpAddr>);

async fn gate(State(s): St, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/sim" || path.starts_with("/sim/") {
        return next.run(req).await;
    }
    let kind = Endpoint::of_path(path);
    let peer = Peer(
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip()),
    );
    // Whose window a login counts in is known only once its key is checked (`login`).
    req.extensions_mut().insert(peer);
    let delay = lock(&s.faults).take_delay(kind);
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let injected = lock(&s.faults).take_status(kind);
    let resp = if let Some(f) = injected {
        fault_response(&f)
    } else if kind == Endpoint::Login {
        if lock(&s.faults).forbidden(kind) {
            forbidden()
        } else {
            next.run(req).await
        }
    } else {
        let token = bearer(req.headers()).map(str::to_owned);
        match token {
            Some(t) if s.token_valid(&t) => {
                if lock(&s.faults).forbidden(kind) {
                    forbidden()
                } else if rate_limited(&s) {
                    too_many(None)
                } else {
                    let body_fault = lock(&s.faults).take_body(kind);
                    let resp = next.run(req).await;
                    match body_fault {
                        Some(f) => spoil_body(resp, f).await,
                        None => resp,
                    }
                }
            }
            _ if peer_limited(&s, peer) => too_many(None),
            _ => unauthorized(),
        }
    };
    lock(&s.stats).record(kind, resp.status().as_u16());
    resp
}

/// Applies a [`BodyFault`] to an answer: a replaced body, a half body with a matching
/// length, or a half body after which the connection drops.
async fn spoil_body(resp: Response, fault: BodyFault) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let mut resp = match fault {
        BodyFault::Replace(text) => {
            return json_body(text.into_bytes()).into_response();
        }
        BodyFault::Truncate => Response::from_parts(parts, axum::body::Body::from(half)),
        BodyFault::Reset => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "simulated connection reset",
                )),
            ];
            Response::from_parts(
                parts,
                axum::body::Body::from_stream(futures::stream::iter(chunks)),
            )
        }
    };
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp
}

/// Sliding one-minute window of the user's requests — whichever token they carry, and
/// the logins with the user's key — only when a limit is configured.
fn rate_limited(s: &Shared) -> bool {
    let Some(limit) = s.rate_limit else {
        return false;
    };
    over_limit(&mut lock(&s.window), limit, s.now_ms())
}

/// Sliding one-minute window of the requests from `peer` that name no user (no or an
/// unknown token, a login with a wrong key): ASoC limits those per IP.
fn peer_limited(s: &Shared, peer: Peer) -> bool {
    let Some(limit) = s.rate_limit else {
        return false;
    };
    let now = s.now_ms();
    let mut windows = lock(&s.peer_windows);
    windows.retain(|_, w| w.back().is_some_and(|&t| t > now - 60_000));
    over_limit(windows.entry(peer.0).or_default(), limit, now)
}

/// Counts a request at `now` in `window` unless the window already holds `limit`
/// requests of the last minute (then the request is refused, and not counted).
fn over_limit(window: &mut VecDeque<i64>, limit: u32, now: i64) -> bool {
    while window.front().is_some_and(|&t| t <= now - 60_000) {
        window.pop_front();
    }
    if window.len() >= limit as usize {
        return true;
    }
    window.push_back(now);
    false
}

async fn not_found(req: Request) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("No resource at '{}'.", req.uri().path()),
    )
    .into_response()
}

// ---------------------------------------------------------------------------
// Account
// ---------------------------------------------------------------------------

async fn login(State(s): St, Extension(peer): Extension<Peer>, body: Bytes) -> Response {
    let refusal = login_refusal(&s, &body);
    // A login with the key names its user and counts in the user's window; any other
    // answer (a wrong key, a bad body) names no user and counts per IP.
    let limited = if refusal.is_none() {
        rate_limited(&s)
    } else {
        peer_limited(&s, peer)
    };
    if limited {
        return too_many(None);
    }
    refusal.unwrap_or_else(|| issue_token(&s))
}

/// The answer ASoC gives a login body that does not present the simulator's key; `None`
/// when it does.
fn login_refusal(s: &Shared, body: &[u8]) -> Option<Response> {
    if lock(&s.faults).bad_key {
        return Some(unauthorized());
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Some(
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidModel",
                "The request body is not valid JSON.",
            )
            .into_response(),
        );
    };
    let field = |name: &str| v.get(name).and_then(|x| x.as_str());
    let Some(key_id) = field("KeyId").filter(|k| !k.is_empty()) else {
        return Some(
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidModel",
                "The KeyId field is required.",
            )
            .into_response(),
        );
    };
    let secret_len = field("KeySecret").map(|k| k.chars().count());
    let Some(secret) =
        field("KeySecret").filter(|_| secret_len.is_some_and(|n| (5..=100).contains(&n)))
    else {
        return Some(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidModel",
            "The field KeySecret must be a string with a minimum length of 5 and a maximum length of 100.",
        )
        .into_response());
    };
    if key_id != s.key_id || secret != s.key_secret {
        return Some(unauthorized());
    }
    None
}

/// A new token for the key's user.
fn issue_token(s: &Shared) -> Response {
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let now = s.now_ms();
    let expire = now.saturating_add(s.ttl_ms.load(Ordering::Relaxed));
    {
        let mut tokens = lock(&s.tokens);
        tokens.retain(|_, &mut exp| exp > now);
        tokens.insert(token.clone(), expire);
    }
    lock(&s.stats).logins += 1;
    json_response(&json!({ "Token": token, "Expire": odata::format_datetime(expire) }))
}

async fn logout(State(s): St, headers: HeaderMap) -> Response {
    if let Some(t) = bearer(&headers) {
        lock(&s.tokens).remove(t);
    }
    StatusCode::OK.into_response()
}

async fn tenant_info(State(s): St) -> Response {
    json_response(&json!({
        "TenantId": odata::format_guid(s.tenant_id),
        "TenantName": "Simulated Tenant",
        "Region": "NA",
        "ApiKeyId": s.key_id,
        "Capabilities": ["DAST"],
    }))
}

async fn is_authenticated() -> Response {
    json_response(&true)
}

// ---------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------

/// The OData options of one list request.
#[derive(Debug, Default)]
struct ListQuery {
    top: usize,
    skip: usize,
    count: bool,
    filter: Option<String>,
    orderby: Option<String>,
    select: Option<String>,
}

fn parse_list_query(raw: Option<&str>, max_top: usize) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        top: DEFAULT_TOP,
        ..ListQuery::default()
    };
    let mut seen: Vec<String> = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if !k.starts_with('$') {
            continue; // applyPolicies, selectPolicyIds, locale: accepted, ignored
        }
        let key = k.to_ascii_lowercase();
        if seen.contains(&key) {
            return Err(ApiError::bad_query(format!(
                "Query option '{k}' was specified more than once."
            )));
        }
        seen.push(key.clone());
        let int = |name: &str| -> Result<usize, ApiError> {
            v.trim().parse::<usize>().map_err(|_| {
                ApiError::bad_query(format!(
                    "Invalid value '{v}' for {name}: a non-negative integer is required."
                ))
            })
        };
        match key.as_str() {
            "$top" => {
                let top = int("$top")?;
                if top > max_top {
                    return Err(ApiError::bad_query(format!(
                        "The limit of '{max_top}' for Top query has been exceeded. The value from the incoming request is '{top}'."
                    )));
                }
                q.top = top;
            }
            "$skip" => q.skip = int("$skip")?,
            "$count" => {
                q.count = match v.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(ApiError::bad_query(format!(
                            "Invalid value '{v}' for $count: true or false is required."
                        )));
                    }
                }
            }
            "$filter" => q.filter = Some(v.into_owned()),
            "$orderby" => q.orderby = Some(v.into_owned()),
            "$select" => q.select = Some(v.into_owned()),
            "$expand" | "$apply" => {}
            _ => {
                return Err(ApiError::bad_query(format!(
                    "The query parameter '{k}' is not supported."
                )));
            }
        }
    }
    Ok(q)
}

fn odata_error(option: &str, text: &str, e: &odata::ODataError) -> ApiError {
    ApiError::bad_query(format!(
        "The query specified in the URI is not valid. {option}: {} at position {} in '{text}'.",
        e.message, e.position
    ))
}

/// Filters, orders, pages and serializes `rows`; returns the body and the
/// number of items on the page. Without `$orderby`, the rows are turned `turn`
/// places first ([`Fault::UnstableOrder`]).
fn serve_list<R, F>(
    rows: impl Iterator<Item = R>,
    q: &ListQuery,
    schema: &'static [FieldDef],
    malform: F,
    turn: Option<usize>,
) -> Result<(Vec<u8>, usize), ApiError>
where
    R: Record + Copy,
    F: Fn(&R) -> Option<Malform>,
{
    let filter = match &q.filter {
        Some(f) => Some(Filter::compile(f, schema).map_err(|e| odata_error("$filter", f, &e))?),
        None => None,
    };
    let order = match &q.orderby {
        Some(o) => odata::parse_orderby(o, schema).map_err(|e| odata_error("$orderby", o, &e))?,
        None => Vec::new(),
    };
    let mask = match &q.select {
        Some(sel) => {
            Some(odata::parse_select(sel, schema).map_err(|e| odata_error("$select", sel, &e))?)
        }
        None => None,
    };
    let mut hits: Vec<R> = match &filter {
        Some(f) => rows.filter(|r| f.matches(r)).collect(),
        None => rows.collect(),
    };
    if !order.is_empty() {
        // Stable: ties keep the default order, so paging stays consistent.
        hits.sort_by(|a, b| odata::order_records(&order, a, b));
    } else if let Some(turn) = turn
        && !hits.is_empty()
    {
        let by = turn % hits.len();
        hits.rotate_left(by);
    }
    let total = hits.len();
    let start = q.skip.min(total);
    let end = start.saturating_add(q.top).min(total);
    let page = &hits[start..end];
    let env = Envelope {
        rows: page,
        schema,
        mask: mask.as_deref(),
        count: q.count.then_some(total),
        malform,
    };
    let body = serde_json::to_vec(&env).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            e.to_string(),
        )
    })?;
    Ok((body, page.len()))
}

fn count_served(s: &Shared, apps: usize, issues: usize) {
    let mut st = lock(&s.stats);
    st.apps_served += apps as u64;
    st.issues_served += issues as u64;
    st.records_served += (apps + issues) as u64;
}

async fn list_apps(State(s): St, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q = parse_list_query(raw.as_deref(), s.max_page_size)?;
    let hidden = s.apps_hidden.load(Ordering::Relaxed);
    if q.skip > 0 && lock(&s.faults).take_remove_app_during_app_list() {
        let mut data = s.write();
        if let Some(first) = data.live_apps().map(|a| a.id).min() {
            data.remove_app(first);
        }
    }
    let turn = lock(&s.faults).take_turn();
    let (body, n) = {
        let data = s.read();
        let rows = data.live_apps().filter(|_| !hidden).map(AppRow);
        serve_list(rows, &q, APP_SCHEMA, |_| None, turn)?
    };
    count_served(&s, n, 0);
    Ok(json_body(body).into_response())
}

fn find_app<'d>(data: &'d Data, id: &str) -> Result<&'d App, ApiError> {
    odata::parse_guid(id)
        .and_then(|g| data.app(g))
        .ok_or_else(|| ApiError::not_found("Application", id))
}

async fn get_app(State(s): St, Path(id): Path<String>) -> Result<Response, ApiError> {
    let hidden = s.apps_hidden.load(Ordering::Relaxed);
    let resp = {
        let data = s.read();
        let app = find_app(&data, &id)
            .ok()
            .filter(|_| !hidden)
            .ok_or_else(|| ApiError::not_found("Application", &id))?;
        json_response(&Projected {
            row: AppRow(app),
            schema: APP_SCHEMA,
            mask: None,
            malform: None,
        })
    };
    count_served(&s, 1, 0);
    Ok(resp)
}

fn list_app_issues(s: &Shared, app_id: &str, raw: Option<&str>) -> Result<Response, ApiError> {
    let q = parse_list_query(raw, s.max_page_size)?;
    let remove = lock(&s.faults).take_remove_app();
    if remove && let Some(id) = odata::parse_guid(app_id) {
        s.write().remove_app(id);
    }
    if lock(&s.faults).take_non_json() {
        let html = "<!DOCTYPE html><html><head><title>Service Unavailable</title></head>\
                    <body><h1>Service temporarily unavailable</h1><p>Please try again later.</p></body></html>";
        return Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            html,
        )
            .into_response());
    }
    let malformed = s.malformed();
    let turn = lock(&s.faults).take_turn();
    let (body, n) = {
        let data = s.read();
        let app = find_app(&data, app_id)?;
        let rows = app.issues.iter().map(|issue| IssueRow { app, issue });
        serve_list(
            rows,
            &q,
            ISSUE_SCHEMA,
            |r: &IssueRow<'_>| malformed.and_then(|(f, seed)| malform_for(r.issue.id, f, seed)),
            turn,
        )?
    };
    count_served(s, 0, n);
    Ok(json_body(body).into_response())
}

async fn get_issue(State(s): St, Path(id): Path<String>) -> Result<Response, ApiError> {
    let malformed = s.malformed();
    let resp = {
        let data = s.read();
        let (app, issue) = odata::parse_guid(&id)
            .and_then(|g| data.issue(g))
            .ok_or_else(|| ApiError::not_found("Issue", &id))?;
        let malform = malformed.and_then(|(f, seed)| malform_for(issue.id, f, seed));
        json_response(&Projected {
            row: IssueRow { app, issue },
            schema: ISSUE_SCHEMA,
            mask: None,
            malform,
        })
    };
    count_served(&s, 0, 1);
    Ok(resp)
}

/// `/Issues/{scope}/{scopeId}`, `/Issues/{id}/Details`, `/Issues/{id}/History`.
async fn issues_two(
    State(s): St,
    Path((a, b)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if a.eq_ignore_ascii_case("Application") {
        return list_app_issues(&s, &b, raw.as_deref());
    }
    if a.eq_ignore_ascii_case("Scan") || a.eq_ignore_ascii_case("ScanExecution") {
        return Err(ApiError::not_found(&a, &b));
    }
    let data = s.read();
    let (app, issue) = odata::parse_guid(&a)
        .and_then(|g| data.issue(g))
        .ok_or_else(|| ApiError::not_found("Issue", &a))?;
    let row = IssueRow { app, issue };
    if b.eq_ignore_ascii_case("History") {
        return Ok(json_response(&json!({ "Items": [], "Count": 0 })));
    }
    if !b.eq_ignore_ascii_case("Details") {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No resource at '/Issues/{a}/{b}'."),
        ));
    }
    let xml = raw.as_deref().is_some_and(|r| {
        form_urlencoded::parse(r.as_bytes())
            .any(|(k, v)| k.eq_ignore_ascii_case("format") && v.eq_ignore_ascii_case("xml"))
    });
    let t = issue.issue_type();
    let text = |f| match row.get(f) {
        odata::Value::Null => Cow::Borrowed(""),
        v => Cow::Owned(
            serde_json::to_value(&v)
                .ok()
                .and_then(|j| j.as_str().map(str::to_owned))
                .unwrap_or_else(|| serde_json::to_string(&v).unwrap_or_default()),
        ),
    };
    use super::schema::IssueField as F;
    let cwe = (!issue.no_cwe).then_some(t.cwe);
    let body = if xml {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<issue id=\"{}\" type=\"{}\"{}>\n  <name>{}</name>\n  <severity>{}</severity>\n  <location>{}</location>\n  <element type=\"{}\">{}</element>\n</issue>\n",
            text(F::Id),
            t.id,
            cwe.map(|c| format!(" cwe=\"{c}\"")).unwrap_or_default(),
            escape(t.name),
            text(F::Severity),
            escape(&row.location()),
            text(F::ElementType),
            escape(&text(F::Element)),
        )
    } else {
        format!(
            "<!DOCTYPE html><html><head><title>{name}</title></head><body><h1>{name}</h1>\
             <p>Severity: {}</p>{}<p>Location: {}</p><p>{}: {}</p></body></html>",
            text(F::Severity),
            cwe.map(|c| format!("<p>CWE-{c}</p>")).unwrap_or_default(),
            escape(&row.location()),
            text(F::ElementType),
            escape(&text(F::Element)),
            name = escape(t.name),
        )
    };
    let ct = if xml {
        "application/xml; charset=utf-8"
    } else {
        "text/html; charset=utf-8"
    };
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(ct))], body).into_response())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ---------------------------------------------------------------------------
// Admin
// ---------------------------------------------------------------------------

fn admin_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "InvalidModel", e.to_string()))
}

async fn admin_add_fault(State(s): St, body: Bytes) -> Result<StatusCode, ApiError> {
    let fault: Fault = admin_body(&body)?;
    lock(&s.faults).add(fault);
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_clear_faults(State(s): St) -> StatusCode {
    *lock(&s.faults) = Default::default();
    StatusCode::NO_CONTENT
}

async fn admin_stats(State(s): St) -> Response {
    let stats = lock(&s.stats).clone();
    json_response(&stats)
}

async fn admin_reset_stats(State(s): St) -> StatusCode {
    *lock(&s.stats) = Default::default();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct MutateBody {
    rate: f64,
    #[serde(default)]
    seed: u64,
    /// Stamp the changes with the present instead of moving the clock a minute first.
    #[serde(default)]
    now: bool,
}

async fn admin_mutate(State(s): St, body: Bytes) -> Result<Response, ApiError> {
    let m: MutateBody = admin_body(&body)?;
    let handle = super::SimHandle { shared: s };
    let summary = tokio::task::spawn_blocking(move || match m.now {
        true => handle.mutate_now(m.rate, m.seed),
        false => handle.mutate(m.rate, m.seed),
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            e.to_string(),
        )
    })?;
    Ok(json_response(&summary))
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: i64,
}

fn now_body(s: &Shared) -> Response {
    json_response(&json!({ "now": odata::format_datetime(to_utc(s.now_ms()).timestamp_millis()) }))
}

async fn admin_advance(State(s): St, body: Bytes) -> Result<Response, ApiError> {
    let a: AdvanceBody = admin_body(&body)?;
    s.offset_ms
        .fetch_add(a.seconds.saturating_mul(1000), Ordering::Relaxed);
    Ok(now_body(&s))
}

async fn admin_now(State(s): St) -> Response {
    now_body(&s)
}

async fn admin_revoke(State(s): St) -> StatusCode {
    lock(&s.tokens).clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct TtlBody {
    seconds: u64,
}

async fn admin_token_ttl(State(s): St, body: Bytes) -> Result<StatusCode, ApiError> {
    let t: TtlBody = admin_body(&body)?;
    s.ttl_ms.store(
        i64::try_from(t.seconds.saturating_mul(1000)).unwrap_or(i64::MAX),
        Ordering::Relaxed,
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `{"on": true}`, as the ASE simulator's toggles take it (`hidden` is the older name).
#[derive(Deserialize)]
struct HiddenBody {
    #[serde(alias = "hidden")]
    on: bool,
}

async fn admin_apps_hidden(State(s): St, body: Bytes) -> Result<StatusCode, ApiError> {
    let h: HiddenBody = admin_body(&body)?;
    s.apps_hidden.store(h.on, Ordering::Relaxed);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_options() {
        let q = parse_list_query(
            Some("$top=50&$skip=100&$count=true&$filter=Name+eq+%27a%27&applyPolicies=None"),
            5000,
        )
        .unwrap();
        assert_eq!((q.top, q.skip, q.count), (50, 100, true));
        assert_eq!(q.filter.as_deref(), Some("Name eq 'a'"));
        let q = parse_list_query(None, 5000).unwrap();
        assert_eq!((q.top, q.skip, q.count), (100, 0, false));
        assert!(parse_list_query(Some("$top=5001"), 5000).is_err());
        assert!(parse_list_query(Some("$top=-1"), 5000).is_err());
        assert!(parse_list_query(Some("$top=1&$top=2"), 5000).is_err());
        assert!(parse_list_query(Some("$count=maybe"), 5000).is_err());
        assert!(parse_list_query(Some("$frobnicate=1"), 5000).is_err());
        assert!(parse_list_query(Some("$expand=x"), 5000).is_ok());
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }
}
