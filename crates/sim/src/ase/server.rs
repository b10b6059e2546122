//! The HTTP face of the ASE simulator: the `/ase/api` routes, the gate every request
//! passes (injected delays and statuses, the session cookie and XSRF header check,
//! statistics), `Range` paging, and the `/sim/…` admin routes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::data::AseApp;
use super::fault::{AseEndpoint, AseFault};
use super::{AseSimStats, Shared};
use crate::asoc::lock;

type St = State<Arc<Shared>>;

const COOKIE: &str = "asc_session_id";
const XSRF: &str = "asc_xsrf_token";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/ase/api/keylogin/apikeylogin", post(login))
        .route("/ase/api/logout", get(logout))
        .route("/ase/api/version", get(version))
        .route("/ase/api/applications", get(list_apps))
        .route("/ase/api/applications/{id}", get(get_app))
        .route("/ase/api/issues", get(list_issues))
        .route("/ase/api/issues/details_v2", get(details_v2))
        .route("/ase/api/issues/{id}/application/{app}", get(one_issue))
        .route(
            "/ase/api/issues/{id}/application/{app}/aboutthisissue",
            get(about_issue),
        )
        .route("/sim/faults", post(admin_fault).delete(admin_clear))
        .route("/sim/stats", get(admin_stats).delete(admin_reset_stats))
        .route("/sim/no-data", post(admin_no_data))
        .route("/sim/apps-hidden", post(admin_apps_hidden))
        .route("/sim/remove-issues", post(admin_remove))
        .route("/sim/mutate", post(admin_mutate))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({ "errorMessage": message.into(), "code": status.as_u16() });
    (status, axum::Json(body)).into_response()
}

/// The session id, if the request carries a live session cookie.
fn session_of(s: &Shared, headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|id| lock(&s.sessions).contains_key(id))
}

async fn gate(State(s): St, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/sim/") {
        return next.run(req).await;
    }
    let kind = AseEndpoint::of_path(&path);
    let delay = lock(&s.faults).take_delay(kind);
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let injected = lock(&s.faults).take_status(kind);
    let resp = if let Some((status, retry_after)) = injected {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = error(
            code,
            format!(
                "{} (simulated fault)",
                code.canonical_reason().unwrap_or("Error")
            ),
        );
        if let Some(secs) = retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    } else if kind == AseEndpoint::Login || path == "/ase/api/version" {
        next.run(req).await
    } else {
        match session_of(&s, req.headers()) {
            None => {
                lock(&s.stats).refused_no_session += 1;
                let status = if lock(&s.faults).expired_session_403 {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNAUTHORIZED
                };
                error(status, "Session expired or not logged in")
            }
            Some(id) => {
                let xsrf_ok = req
                    .headers()
                    .get(XSRF)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v == id);
                if xsrf_ok {
                    next.run(req).await
                } else {
                    lock(&s.stats).refused_no_xsrf += 1;
                    error(
                        StatusCode::FORBIDDEN,
                        "Missing or invalid asc_xsrf_token header",
                    )
                }
            }
        }
    };
    lock(&s.stats).record(kind, resp.status().as_u16());
    resp
}

async fn not_found(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("No resource at {}", req.uri().path()),
    )
}

async fn login(State(s): St, body: Bytes) -> Response {
    if lock(&s.faults).bad_key {
        return error(StatusCode::UNAUTHORIZED, "Invalid API key");
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON",
        );
    };
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    if field("keyId") != s.key_id || field("keySecret") != s.key_secret {
        return error(StatusCode::UNAUTHORIZED, "Invalid API key");
    }
    let id = format!("{}", uuid::Uuid::new_v4().simple());
    lock(&s.sessions).insert(id.clone(), ());
    lock(&s.stats).logins += 1;
    let mut r = axum::Json(json!({ "sessionId": id, "userId": "ase-sim-user" })).into_response();
    // No `Secure`: the simulator serves plain HTTP, over which a client that keeps
    // cookies (a `requests` session, as pyappscan's) never sends a Secure one back.
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/ase; HttpOnly")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn logout(State(s): St, headers: HeaderMap) -> Response {
    if let Some(id) = session_of(&s, &headers) {
        lock(&s.sessions).remove(&id);
        lock(&s.stats).logouts += 1;
    }
    StatusCode::OK.into_response()
}

async fn version() -> Response {
    axum::Json(json!({ "version": "10.11.0 (simulated)" })).into_response()
}

/// Answers one page of `items` for the request's `Range`.
fn ranged(s: &Shared, headers: &HeaderMap, items: Vec<Value>) -> Response {
    let total = items.len();
    if lock(&s.faults).ignore_range {
        lock(&s.stats).pages += 1;
        return axum::Json(Value::Array(items)).into_response();
    }
    let dropped = lock(&s.faults).drop_range;
    let range = headers
        .get(header::RANGE)
        .filter(|_| !dropped)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("items="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| {
            Some((
                a.trim().parse::<usize>().ok()?,
                b.trim().parse::<usize>().ok()?,
            ))
        });
    if range.is_some() {
        lock(&s.stats).ranged_requests += 1;
    }
    let (first, last) = range.unwrap_or((0, total.saturating_sub(1)));
    if total > 0 && first >= total {
        let mut r = error(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "Requested range not satisfiable",
        );
        if let Ok(v) = HeaderValue::from_str(&format!("items */{total}")) {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return r;
    }
    let end = last
        .saturating_add(1)
        .min(total)
        .min(first.saturating_add(s.max_page_size));
    let page: Vec<Value> = if first < end {
        items[first..end].to_vec()
    } else {
        Vec::new()
    };
    lock(&s.stats).pages += 1;
    let content_range = if page.is_empty() {
        format!("items */{total}")
    } else {
        format!("items {first}-{}/{total}", end - 1)
    };
    let mut r = axum::Json(Value::Array(page)).into_response();
    if !lock(&s.faults).no_content_range
        && let Ok(v) = HeaderValue::from_str(&content_range)
    {
        r.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    r
}

async fn list_apps(State(s): St, headers: HeaderMap) -> Response {
    let apps: Vec<Value> = if s.apps_hidden.load(Ordering::Relaxed) {
        Vec::new()
    } else {
        s.read().apps.iter().map(|a| a.to_json(&s.dates)).collect()
    };
    ranged(&s, &headers, apps)
}

async fn get_app(State(s): St, Path(id): Path<String>) -> Response {
    let data = s.read();
    match id.parse().ok().and_then(|id| data.app(id)) {
        Some(app) if !s.apps_hidden.load(Ordering::Relaxed) => {
            axum::Json(app.to_json(&s.dates)).into_response()
        }
        _ => error(StatusCode::NOT_FOUND, format!("Application {id} not found")),
    }
}

fn query_params(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// ASE's `query` syntax: `Attr=value` terms joined by commas, `\` escaping.
fn parse_ase_query(q: &str) -> Vec<(String, String)> {
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut chars = q.chars();
    let mut push = |cur: &mut String| {
        if let Some((k, v)) = cur.split_once('=') {
            terms.push((k.trim().to_string(), v.to_string()));
        }
        cur.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' => push(&mut cur),
            c => cur.push(c),
        }
    }
    push(&mut cur);
    terms
}

async fn list_issues(State(s): St, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let params = query_params(raw.as_deref());
    let Some(query) = params
        .iter()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v.clone())
    else {
        return error(StatusCode::BAD_REQUEST, "The query parameter is required");
    };
    let mut app_name = None;
    let mut filters = Vec::new();
    for (k, v) in parse_ase_query(&query) {
        match k.as_str() {
            "Application Name" => app_name = Some(v),
            "Severity" | "Status" => filters.push((k, v)),
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("Unknown attribute in query: {other}"),
                );
            }
        }
    }
    let Some(app_name) = app_name else {
        return error(
            StatusCode::BAD_REQUEST,
            "query needs an Application Name term",
        );
    };
    if lock(&s.faults).take_non_json() {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>AppScan Enterprise is starting</body></html>",
        )
            .into_response();
    }
    let items: Vec<Value> = {
        let data = s.read();
        match data.app_named(&app_name) {
            None => Vec::new(),
            Some(_) if s.no_data.load(Ordering::Relaxed) => Vec::new(),
            Some(app) => app
                .issues
                .iter()
                .map(|i| app.issue_json(i, &s.dates))
                .filter(|j| {
                    filters
                        .iter()
                        .all(|(k, v)| j[k.as_str()].as_str() == Some(v.as_str()))
                })
                .collect(),
        }
    };
    let total = items.len();
    let resp = ranged(&s, &headers, items);
    // The items the answer holds, as its Content-Range says: `first-last`.
    let range = resp
        .headers()
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("items "))
        .and_then(|v| v.split_once('/'))
        .and_then(|(r, _)| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
    // A rescan that ends while this listing is under way (the fault), once its first
    // page is out and items remain after it.
    let first_page_of_more =
        range.is_some_and(|(first, last)| first == 0 && last + 1 < total as u64);
    let rescan = if first_page_of_more {
        lock(&s.faults).take_rescan()
    } else {
        None
    };
    if let Some(count) = rescan {
        let mut data = s.write();
        if let Some(app) = data.apps.iter_mut().find(|a| a.name == app_name) {
            let n = count.min(app.issues.len());
            app.issues.drain(..n);
        }
    }
    let served = range.map_or(0, |(first, last)| last + 1 - first);
    lock(&s.stats).issues_served += served;
    resp
}

fn parse_id(s: &str) -> Option<u64> {
    s.trim().parse().ok()
}

async fn details_v2(State(s): St, RawQuery(raw): RawQuery) -> Response {
    if lock(&s.faults).no_details_v2 {
        return error(
            StatusCode::NOT_FOUND,
            "No resource at /ase/api/issues/details_v2",
        );
    }
    let params = query_params(raw.as_deref());
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.as_str());
    let Some(app_id) = get("appId").and_then(parse_id) else {
        return error(StatusCode::BAD_REQUEST, "appId is required");
    };
    let Some(ids) = get("ids").and_then(|v| serde_json::from_str::<Vec<Value>>(v).ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "ids must be a JSON array of issue ids",
        );
    };
    let data = s.read();
    let Some(app) = data.app(app_id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("Application {app_id} not found"),
        );
    };
    let wanted: Vec<u64> = ids
        .iter()
        .filter_map(|v| match v {
            Value::String(s) => parse_id(s),
            Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .collect();
    let items: Vec<Value> = app
        .issues
        .iter()
        .filter(|i| wanted.contains(&i.id))
        .map(|i| app.details_json(i))
        .collect();
    lock(&s.stats).details_served += items.len() as u64;
    axum::Json(json!({ "issueDetails": items })).into_response()
}

fn find_issue<'d>(
    data: &'d super::AseData,
    id: &str,
    app: &str,
) -> Option<(&'d AseApp, &'d super::data::AseIssue)> {
    let app = data.app(parse_id(app)?)?;
    let id = parse_id(id)?;
    app.issues.iter().find(|i| i.id == id).map(|i| (app, i))
}

async fn one_issue(State(s): St, Path((id, app)): Path<(String, String)>) -> Response {
    let data = s.read();
    match find_issue(&data, &id, &app) {
        Some((a, i)) => {
            let mut v = a.issue_json(i, &s.dates);
            if let (Some(obj), Value::Object(d)) = (v.as_object_mut(), a.details_json(i)) {
                obj.extend(d);
            }
            lock(&s.stats).details_served += 1;
            axum::Json(v).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            format!("Issue {id} not found in application {app}"),
        ),
    }
}

async fn about_issue(State(s): St, Path((id, app)): Path<(String, String)>) -> Response {
    let data = s.read();
    match find_issue(&data, &id, &app) {
        Some((a, i)) => {
            let d = a.details_json(i);
            let html = format!(
                "<html><body><h1>{}</h1><p>{}</p><h2>Fix</h2><p>{}</p></body></html>",
                super::data::escape(i.issue_type().name),
                super::data::escape(d["technicalDescription"].as_str().unwrap_or_default()),
                super::data::escape(d["fixRecommendation"].as_str().unwrap_or_default()),
            );
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
        }
        None => error(StatusCode::NOT_FOUND, format!("Issue {id} not found")),
    }
}

// ---- admin ------------------------------------------------------------

async fn admin_fault(State(s): St, body: Bytes) -> Response {
    match serde_json::from_slice::<AseFault>(&body) {
        Ok(AseFault::DropSessions) => {
            lock(&s.sessions).clear();
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(f) => {
            lock(&s.faults).add(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, format!("not a fault: {e}")),
    }
}

async fn admin_clear(State(s): St) -> Response {
    *lock(&s.faults) = Default::default();
    StatusCode::NO_CONTENT.into_response()
}

async fn admin_stats(State(s): St) -> Response {
    let st: AseSimStats = lock(&s.stats).clone();
    axum::Json(st).into_response()
}

async fn admin_reset_stats(State(s): St) -> Response {
    *lock(&s.stats) = AseSimStats::default();
    StatusCode::NO_CONTENT.into_response()
}

/// `{"on": true}` (`hidden` is taken too, for `/sim/apps-hidden`).
#[derive(Deserialize)]
struct Toggle {
    #[serde(alias = "hidden")]
    on: bool,
}

async fn admin_no_data(State(s): St, axum::Json(t): axum::Json<Toggle>) -> Response {
    s.no_data.store(t.on, Ordering::Relaxed);
    StatusCode::NO_CONTENT.into_response()
}

async fn admin_apps_hidden(State(s): St, axum::Json(t): axum::Json<Toggle>) -> Response {
    s.apps_hidden.store(t.on, Ordering::Relaxed);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Remove {
    count: usize,
}

async fn admin_remove(State(s): St, axum::Json(r): axum::Json<Remove>) -> Response {
    let removed = s.write().remove_first(r.count);
    axum::Json(json!({ "removed": removed })).into_response()
}

#[derive(Deserialize)]
struct Mutate {
    rate: f64,
    #[serde(default)]
    seed: u64,
}

async fn admin_mutate(State(s): St, axum::Json(m): axum::Json<Mutate>) -> Response {
    axum::Json(s.write().mutate(m.rate, m.seed)).into_response()
}
