//! Behaviour against a scripted local server, for answers the simulator does
//! not give: a server that caps `$top`, `Count: null`, RFC 7807 bodies,
//! `Retry-After` as a date, login refusals, an echoed secret, slow answers,
//! and a measurement of how many requests are in flight at once.

mod fixture;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use asoc::{AsocClient, AsocError, ClientConfig, ListQuery, Page, odata_datetime, odata_string};
use fixture::{Answer, Fixture, Req};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

const SECRET: &str = "Fixture-Secret-0123456789";

fn config(f: &Fixture) -> ClientConfig {
    let mut cfg = ClientConfig::new(f.base_url(), "fixture-key", SECRET.to_string());
    cfg.retry_base_delay = Duration::from_millis(2);
    cfg.max_retries = 3;
    cfg.rate_limit_per_minute = 0;
    cfg.timeout = Duration::from_secs(5);
    cfg
}

fn client(f: &Fixture) -> AsocClient {
    AsocClient::new(config(f)).unwrap()
}

/// `total` items `{"Id": n}`, served `min($top, cap)` at a time, with `Count`
/// as given by `count`.
fn list_server(
    total: usize,
    cap: usize,
    count: fn(usize) -> serde_json::Value,
) -> impl Fn(&Req) -> Answer {
    move |r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        let (top, skip) = (r.num("$top").min(cap), r.num("$skip"));
        let items: Vec<_> = (skip..total.min(skip + top))
            .map(|i| json!({"Id": i}))
            .collect();
        Answer::json(200, json!({"Items": items, "Count": count(total)}))
    }
}

/// `f`, failing the test when it has not ended within ten seconds (a listing that never
/// ends would hang it instead).
async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("the listing ended")
}

async fn collect(s: impl futures::Stream<Item = Result<Page, AsocError>>) -> Vec<Page> {
    s.try_collect().await.unwrap()
}

fn ids(pages: &[Page]) -> Vec<u64> {
    pages
        .iter()
        .flat_map(|p| p.items.iter().map(|i| i["Id"].as_u64().unwrap()))
        .collect()
}

fn skips(f: &Fixture, path: &str) -> Vec<usize> {
    f.hits(path).iter().map(|r| r.num("$skip")).collect()
}

#[tokio::test]
async fn server_that_caps_top_is_paged_to_count() {
    let f = Fixture::start(list_server(45, 20, |n| json!(n))).await;
    let pages = collect(client(&f).apps(ListQuery::all())).await;
    assert_eq!(ids(&pages), (0..45).collect::<Vec<_>>());
    assert_eq!(skips(&f, "/api/v4/Apps"), [0, 20, 40]);
    assert!(f.hits("/api/v4/Apps").iter().all(|r| r.num("$top") == 50));
}

/// Without a Count a short page does not end the listing (the API documents paging
/// until Count or an empty page): a server capping $top gives short pages all the way,
/// and the client used to stop after the first one.
#[tokio::test]
async fn null_count_goes_on_until_an_empty_page() {
    let f = Fixture::start(list_server(107, 5000, |_| serde_json::Value::Null)).await;
    let pages = collect(client(&f).apps(ListQuery::all())).await;
    assert_eq!(ids(&pages).len(), 107);
    assert_eq!(skips(&f, "/api/v4/Apps"), [0, 50, 100, 107]);
    assert!(pages.iter().all(|p| p.count.is_none()));

    let capped = Fixture::start(list_server(45, 20, |_| serde_json::Value::Null)).await;
    let pages = collect(client(&capped).apps(ListQuery::all())).await;
    assert_eq!(ids(&pages), (0..45).collect::<Vec<_>>());
    assert_eq!(skips(&capped, "/api/v4/Apps"), [0, 20, 40, 45]);
}

/// A server without Count that ignores `$skip` answers its first page again and again:
/// the listing ends at the repeat instead of asking for ever. When the page was no longer
/// than asked, what it did not hold cannot be read, and the last page says so.
#[tokio::test]
async fn a_server_ignoring_skip_without_count_ends_the_listing() {
    let capped = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        let items: Vec<_> = (0..20).map(|i| json!({"Id": i})).collect();
        Answer::json(200, json!({"Items": items, "Count": null}))
    })
    .await;
    let pages = within(collect(client(&capped).apps(ListQuery::all()))).await;
    assert_eq!(ids(&pages), (0..20).collect::<Vec<_>>());
    assert_eq!(skips(&capped, "/api/v4/Apps"), [0, 20]);
    let last = pages.last().expect("pages");
    assert!(
        last.moved
            .as_deref()
            .is_some_and(|m| m.contains("ignores $skip")),
        "{last:?}"
    );

    // A server that sends everything at once, whatever $top: nothing is missing.
    let whole = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        let items: Vec<_> = (0..70).map(|i| json!({"Id": i})).collect();
        Answer::json(200, json!({"Items": items, "Count": null}))
    })
    .await;
    let pages = within(collect(client(&whole).apps(ListQuery::all()))).await;
    assert_eq!(ids(&pages), (0..70).collect::<Vec<_>>());
    assert_eq!(skips(&whole, "/api/v4/Apps"), [0, 70]);
    assert!(pages.iter().all(|p| p.moved.is_none()), "{pages:?}");
}

#[tokio::test]
async fn null_count_exact_multiple_ends_on_empty_page() {
    let f = Fixture::start(list_server(100, 5000, |_| serde_json::Value::Null)).await;
    let pages = collect(client(&f).apps(ListQuery::all())).await;
    assert_eq!(ids(&pages).len(), 100);
    assert_eq!(skips(&f, "/api/v4/Apps"), [0, 50, 100]);
}

#[tokio::test]
async fn stale_count_ends_on_empty_page() {
    // Count claims 1000 but the data ends at 60.
    let f = Fixture::start(list_server(60, 5000, |_| json!(1000))).await;
    let pages = collect(client(&f).apps(ListQuery::all())).await;
    assert_eq!(ids(&pages).len(), 60);
    // $skip advances by the items received; the short page does not end it.
    assert_eq!(skips(&f, "/api/v4/Apps"), [0, 50, 60]);
}

#[tokio::test]
async fn query_options_are_sent() {
    let f = Fixture::start(list_server(3, 5000, |n| json!(n))).await;
    let since = chrono::DateTime::parse_from_rfc3339("2024-11-18T18:09:14.250Z")
        .unwrap()
        .to_utc();
    let filter = format!(
        "LastUpdated ge {} and Name eq {}",
        odata_datetime(since),
        odata_string("O'Brien & Co?")
    );
    let q = ListQuery::all()
        .with_filter(filter.clone())
        .with_orderby("LastUpdated asc")
        .with_select("Id,Name");
    let pages = collect(client(&f).issues("app/1 ü", q)).await;
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].app_id.as_deref(), Some("app/1 ü"));
    let r = &f.requests()[1];
    assert_eq!(r.path, "/api/v4/Issues/Application/app%2F1%20%C3%BC");
    assert_eq!(r.param("$filter"), Some(filter.as_str()));
    assert_eq!(
        r.param("$filter"),
        Some("LastUpdated ge 2024-11-18T18:09:14Z and Name eq 'O''Brien & Co?'")
    );
    assert_eq!(r.param("$orderby"), Some("LastUpdated asc"));
    assert_eq!(r.param("$select"), Some("Id,Name"));
    assert_eq!(r.param("$count"), Some("true"));
    assert_eq!(r.param("$top"), Some("50"));
    assert_eq!(r.authorization.as_deref(), Some("Bearer tok"));
}

#[tokio::test]
async fn login_sends_key_and_is_reused() {
    let f = Fixture::start(list_server(120, 5000, |n| json!(n))).await;
    let c = client(&f);
    collect(c.apps(ListQuery::all())).await;
    let logins = f.hits("/api/v4/Account/ApiKeyLogin");
    assert_eq!(logins.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&logins[0].body).unwrap();
    assert_eq!(body, json!({"KeyId": "fixture-key", "KeySecret": SECRET}));
    assert_eq!(c.stats().logins, 1);
    assert_eq!(c.stats().pages, 3);
    assert_eq!(c.stats().items, 120);
}

#[tokio::test]
async fn max_pages_limits_the_listing() {
    let f = Fixture::start(list_server(500, 5000, |n| json!(n))).await;
    let pages = collect(client(&f).apps(ListQuery::all().with_max_pages(1))).await;
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].count, Some(500));
    assert_eq!(f.hits("/api/v4/Apps").len(), 1);
}

#[tokio::test]
async fn wrong_key_is_an_auth_error_without_the_secret() {
    let f = Fixture::start(|_r: &Req| Answer::text(401, "")).await;
    let c = client(&f);
    let e = c.tenant_info().await.unwrap_err();
    assert!(matches!(e, AsocError::Auth { status: 401, .. }), "{e:?}");
    let shown = format!("{e} {e:?} {c:?}");
    assert!(shown.contains("wrong"), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
    // Not retried.
    assert_eq!(f.requests().len(), 1);
    let e = c.login().await.unwrap_err();
    assert!(matches!(e, AsocError::Auth { status: 401, .. }));
}

#[tokio::test]
async fn echoed_secret_is_scrubbed_from_errors() {
    let f = Fixture::start(|r: &Req| {
        let echo = String::from_utf8_lossy(&r.body).to_string();
        if r.path.ends_with("ApiKeyLogin") {
            Answer::json(
                403,
                json!({"Key": "KeyExpired", "Message": format!("key expired: {echo}")}),
            )
        } else {
            Answer::text(500, "")
        }
    })
    .await;
    let c = client(&f);
    let e = c.login().await.unwrap_err();
    assert!(matches!(e, AsocError::Auth { status: 403, .. }), "{e:?}");
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("key expired") && shown.contains("KeyExpired"),
        "{shown}"
    );
    assert!(!shown.contains(SECRET), "{shown}");

    let f = Fixture::start(|r: &Req| {
        Answer::text(
            502,
            &format!("upstream got {}", String::from_utf8_lossy(&r.body)),
        )
    })
    .await;
    let e = client(&f).login().await.unwrap_err();
    assert!(
        matches!(
            e,
            AsocError::Http {
                status: 502,
                attempts: 4,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!format!("{e} {e:?}").contains(SECRET));
}

#[tokio::test]
async fn login_answer_without_token_is_invalid_and_not_quoted() {
    let f = Fixture::start(|_r: &Req| Answer::json(200, json!({"Tokn": "LEAKED-TOKEN"}))).await;
    let e = client(&f).login().await.unwrap_err();
    assert!(matches!(e, AsocError::InvalidResponse { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("LEAKED-TOKEN"));
}

#[tokio::test]
async fn exhausted_retries_name_method_endpoint_status_and_detail() {
    let f = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        Answer::json(
            503,
            json!({"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": "maintenance window"}),
        )
    })
    .await;
    let c = client(&f);
    let mut s = std::pin::pin!(c.apps(ListQuery::all()));
    let e = s.next().await.unwrap().unwrap_err();
    assert!(
        s.next().await.is_none(),
        "a failed request ends the listing"
    );
    match &e {
        AsocError::Http {
            method,
            endpoint,
            status,
            excerpt,
            attempts,
        } => {
            assert_eq!(
                (method.as_str(), endpoint.as_str(), *status),
                ("GET", "/api/v4/Apps", 503)
            );
            assert_eq!(excerpt, "Service Unavailable: maintenance window");
            assert_eq!(*attempts, 4);
        }
        other => panic!("{other:?}"),
    }
    let st = c.stats();
    assert_eq!(st.retries, 3);
    assert_eq!(st.status_count(503), 4);
}

#[tokio::test]
async fn retry_after_date_is_honoured() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let f = Fixture::start(move |r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        if c2.fetch_add(1, Ordering::SeqCst) == 0 {
            let at = std::time::SystemTime::now() + Duration::from_secs(2);
            return Answer::text(429, "Too many requests.")
                .header("retry-after", httpdate::fmt_http_date(at));
        }
        Answer::json(200, json!({"Items": [], "Count": 0}))
    })
    .await;
    let start = Instant::now();
    let pages = collect(client(&f).apps(ListQuery::all())).await;
    assert_eq!(pages.len(), 1);
    // HTTP dates have whole seconds: the wait is between ~1 and 2 s, far above the 2 ms backoff.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn forbidden_and_not_found_are_final() {
    let f = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        if r.path.ends_with("TenantInfo") {
            return Answer::json(
                403,
                json!({"Key": "Forbidden", "Message": "Missing permission: ViewTenant"}),
            );
        }
        Answer::json(
            404,
            json!({"Key": "NotFound", "Message": "Application not found"}),
        )
    })
    .await;
    let c = client(&f);
    let e = c.tenant_info().await.unwrap_err();
    match &e {
        AsocError::Forbidden { endpoint, message } => {
            assert_eq!(endpoint, "/api/v4/Account/TenantInfo");
            assert!(message.contains("Missing permission"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let pages: Vec<_> = c.issues("nope", ListQuery::all()).collect().await;
    assert_eq!(pages.len(), 1);
    let e = pages.into_iter().next().unwrap().unwrap_err();
    assert!(
        matches!(
            e,
            AsocError::Http {
                status: 404,
                attempts: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("Application not found"), "{e}");
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn rate_limited_403_is_retried() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let f = Fixture::start(move |r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        if c2.fetch_add(1, Ordering::SeqCst) < 2 {
            return Answer::json(403, json!({"Message": "Too many requests."}));
        }
        Answer::json(200, json!({"TenantName": "t"}))
    })
    .await;
    let c = client(&f);
    assert_eq!(c.tenant_info().await.unwrap()["TenantName"], "t");
    assert_eq!(c.stats().retries, 2);
}

#[tokio::test]
async fn persistent_401_relogins_once_then_fails() {
    let f = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        Answer::text(401, "")
    })
    .await;
    let c = client(&f);
    let e = c.tenant_info().await.unwrap_err();
    assert!(matches!(e, AsocError::Auth { status: 401, .. }), "{e:?}");
    assert_eq!(f.hits("/api/v4/Account/ApiKeyLogin").len(), 2);
    assert_eq!(f.hits("/api/v4/Account/TenantInfo").len(), 2);
    let st = c.stats();
    assert_eq!((st.logins, st.relogins_after_401), (2, 1));
}

#[tokio::test]
async fn slow_server_times_out() {
    let f = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        Answer::json(200, json!({})).delayed(Duration::from_secs(5))
    })
    .await;
    let mut cfg = config(&f);
    cfg.timeout = Duration::from_millis(150);
    cfg.max_retries = 1;
    let c = AsocClient::new(cfg).unwrap();
    let e = c.tenant_info().await.unwrap_err();
    assert!(matches!(e, AsocError::Timeout { attempts: 2, .. }), "{e:?}");
    assert!(e.to_string().contains("/api/v4/Account/TenantInfo"));
    assert_eq!(c.stats().timeouts, 2);
}

#[tokio::test]
async fn tenant_info_not_json_is_invalid_response() {
    let f = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        Answer::text(200, "<html>login page</html>")
    })
    .await;
    let e = client(&f).tenant_info().await.unwrap_err();
    assert!(matches!(e, AsocError::InvalidResponse { .. }), "{e:?}");
    assert!(e.to_string().contains("<html>login page"), "{e}");
}

#[tokio::test]
async fn logout_ends_the_token_and_next_call_logs_in() {
    let f = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        Answer::json(200, json!({"ok": true}))
    })
    .await;
    let c = client(&f);
    c.logout().await; // nothing to end yet: no request
    assert_eq!(f.requests().len(), 0);
    c.tenant_info().await.unwrap();
    c.logout().await;
    c.tenant_info().await.unwrap();
    let paths: Vec<_> = f.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/api/v4/Account/ApiKeyLogin",
            "/api/v4/Account/TenantInfo",
            "/api/v4/Account/Logout",
            "/api/v4/Account/ApiKeyLogin",
            "/api/v4/Account/TenantInfo",
        ]
    );
    assert_eq!(
        f.hits("/api/v4/Account/Logout")[0].authorization.as_deref(),
        Some("Bearer tok")
    );
}

#[tokio::test]
async fn concurrency_is_bounded_and_used() {
    let f = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        let skip = r.num("$skip");
        let items: Vec<_> = (skip..(skip + 10).min(30))
            .map(|i| json!({"Id": i}))
            .collect();
        Answer::json(200, json!({"Items": items, "Count": 30})).delayed(Duration::from_millis(40))
    })
    .await;
    let mut cfg = config(&f);
    cfg.page_size = 10;
    cfg.concurrency = 3;
    let c = AsocClient::new(cfg).unwrap();
    let apps: Vec<String> = (0..8).map(|i| format!("app-{i}")).collect();
    let pages = collect(c.issues_for_apps(apps.clone(), ListQuery::all())).await;
    assert_eq!(pages.len(), 8 * 3);
    for app in &apps {
        let mine: Vec<_> = pages
            .iter()
            .filter(|p| p.app_id.as_deref() == Some(app))
            .collect();
        assert_eq!(mine.len(), 3, "{app}");
        // Within one app, pages come in order.
        assert_eq!(mine.iter().map(|p| p.skip).collect::<Vec<_>>(), [0, 10, 20]);
    }
    let max = f.max_in_flight.load(Ordering::SeqCst);
    assert_eq!(max, 3, "in flight at most `concurrency`, and that many");
}

#[tokio::test]
async fn rate_limiter_paces_and_counts_waits() {
    let f = Fixture::start(|r: &Req| {
        if r.is_login() {
            return Answer::login("tok");
        }
        Answer::json(200, json!({}))
    })
    .await;
    let mut cfg = config(&f);
    cfg.rate_limit_per_minute = 300; // one per 200 ms, burst of 30
    let c = AsocClient::new(cfg).unwrap();
    let start = Instant::now();
    for _ in 0..33 {
        c.tenant_info().await.unwrap();
    }
    // 34 requests with the login: 4 past the burst, ~200 ms apart (the
    // burst takes far less than 200 ms, so at most one slot refills).
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(500), "{took:?}");
    let st = c.stats();
    assert_eq!(st.requests, 34);
    assert!(st.rate_limit_waits >= 3, "{st:?}");
    assert!(st.rate_limit_wait_ms >= 400, "{st:?}");
}
