//! The ASE client against the ASE simulator over loopback: session (cookie and XSRF
//! header), Range paging with and without Content-Range, details (details_v2 and per
//! issue), re-login after a dropped session, retries, bad key, logout.

use std::time::Duration;

use ase::{AseClient, AseConfig, AseError};
use futures::TryStreamExt;
use sim::ase::{AseEndpoint, AseFault, AseSim, AseSimConfig, RunningAseSim};

async fn sim(apps: usize, issues: usize, max_page: usize) -> RunningAseSim {
    AseSim::start(
        AseSimConfig {
            apps,
            issues_per_app: issues,
            seed: 5,
            max_page_size: max_page,
            ..AseSimConfig::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .expect("simulator starts")
}

fn client(s: &RunningAseSim, page_size: usize) -> AseClient {
    let h = s.handle();
    let mut cfg = AseConfig::new(s.base_url(), h.key_id(), h.key_secret());
    cfg.page_size = page_size;
    cfg.rate_limit_per_minute = 0;
    cfg.retry_base_delay = Duration::from_millis(2);
    cfg.max_retries = 3;
    AseClient::new(cfg).expect("client")
}

async fn all_issues(c: &AseClient, app: &str) -> Vec<serde_json::Value> {
    let pages: Vec<ase::Page> = c.issues(app).try_collect().await.expect("pages");
    pages.into_iter().flat_map(|p| p.items).collect()
}

#[tokio::test]
async fn pages_with_range_and_honours_content_range() {
    // The server caps answers at 5 items although 7 are asked for: only Content-Range
    // tells the client that more remain.
    let s = sim(2, 23, 5).await;
    let c = client(&s, 7);
    c.login().await.expect("login");
    let apps = c.applications().await.expect("apps");
    assert_eq!(apps.len(), 2);
    let name = apps[0]["name"].as_str().expect("name").to_string();
    let pages: Vec<ase::Page> = c.issues(&name).try_collect().await.expect("pages");
    assert_eq!(pages.iter().map(|p| p.items.len()).sum::<usize>(), 23);
    assert_eq!(pages[0].total, Some(23));
    assert_eq!(pages.len(), 5, "pages of 5 (capped), not 7");
    let ids: std::collections::HashSet<String> = pages
        .iter()
        .flat_map(|p| &p.items)
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 23, "no item twice, none missed");
    let st = s.handle().stats();
    assert!(st.ranged_requests >= 6, "{st:?}");
    assert_eq!(st.refused_no_session + st.refused_no_xsrf, 0);
    c.logout().await;
    let st = s.handle().stats();
    assert_eq!(st.logouts, 1);
    assert_eq!(s.handle().open_sessions(), 0);
    assert_eq!(c.stats().logouts, 1);
}

#[tokio::test]
async fn without_content_range_an_empty_page_ends_the_listing() {
    let s = sim(1, 20, 1000).await;
    s.handle().inject(AseFault::NoContentRange);
    let c = client(&s, 6);
    let name = c.applications().await.expect("apps")[0]["name"]
        .as_str()
        .expect("name")
        .to_string();
    assert_eq!(all_issues(&c, &name).await.len(), 20);
    // 6 + 6 + 6 + 2, then a range past the end (416): with no total, the request after
    // the short page says it was the last.
    let st = s.handle().stats();
    assert_eq!(st.count(AseEndpoint::Issues, 200), 4);
    assert_eq!(st.count(AseEndpoint::Issues, 416), 1);
}

/// A server that caps pages below the size asked and sends no `Content-Range`: its
/// capped first page looked like the last one, and a full run closed every finding the
/// listing had not reached.
#[tokio::test]
async fn without_content_range_a_capped_page_does_not_end_the_listing() {
    let s = sim(1, 23, 5).await;
    s.handle().inject(AseFault::NoContentRange);
    let c = client(&s, 7);
    let name = c.applications().await.expect("apps")[0]["name"]
        .as_str()
        .expect("name")
        .to_string();
    let pages: Vec<ase::Page> = c.issues(&name).try_collect().await.expect("pages");
    let ids: std::collections::HashSet<&str> = pages
        .iter()
        .flat_map(|p| &p.items)
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 23, "every issue, none twice");
    assert!(pages.iter().all(|p| p.incomplete.is_none()), "{pages:?}");
}

/// An expired session may be refused with 403 as well as 401: the client logs in again
/// once (it failed the run as "forbidden").
#[tokio::test]
async fn a_session_refused_with_403_is_renewed_once() {
    let s = sim(1, 4, 1000).await;
    s.handle().inject(AseFault::ExpiredSession403);
    let c = client(&s, 100);
    c.login().await.expect("login");
    s.handle().inject(AseFault::DropSessions);
    let apps = c.applications().await.expect("apps after a new login");
    assert_eq!(apps.len(), 1);
    assert_eq!(s.handle().stats().logins, 2);
}

/// A server (or a proxy) that ignores `Range` answers the whole list each time: read
/// once, whatever the page size. A list exactly one page long was asked for again and
/// again without end.
#[tokio::test]
async fn a_server_that_ignores_range_is_read_once() {
    let s = sim(1, 12, 1000).await;
    s.handle().inject(AseFault::IgnoreRange);
    for page_size in [12, 5, 50] {
        let c = client(&s, page_size);
        let name = c.applications().await.expect("apps")[0]["name"]
            .as_str()
            .expect("name")
            .to_string();
        let issues = tokio::time::timeout(Duration::from_secs(20), all_issues(&c, &name))
            .await
            .unwrap_or_else(|_| panic!("page size {page_size}: the listing never ends"));
        assert_eq!(issues.len(), 12, "page size {page_size}");
    }
}

/// A proxy that drops `Range` gets the server's first page, capped, for every page
/// asked: the client counted its items as the next ones, read the first page again up
/// to the total, and a full run closed the rest. The page's `Content-Range` says where
/// it starts: the listing ends there, incomplete.
#[tokio::test]
async fn a_page_other_than_the_one_asked_ends_the_listing_incomplete() {
    let s = sim(1, 23, 5).await;
    s.handle().inject(AseFault::DropRange);
    let c = client(&s, 5);
    let name = c.applications().await.expect("apps")[0]["name"]
        .as_str()
        .expect("name")
        .to_string();
    let pages: Vec<ase::Page> = c.issues(&name).try_collect().await.expect("pages");
    assert_eq!(pages.iter().map(|p| p.items.len()).sum::<usize>(), 5);
    let why = pages.last().and_then(|p| p.incomplete.clone());
    assert!(
        why.as_deref()
            .is_some_and(|w| w.contains("does not honour the Range header")),
        "{why:?}"
    );
}

#[tokio::test]
async fn the_session_needs_the_cookie_and_the_xsrf_header() {
    let s = sim(1, 3, 1000).await;
    let _ = client(&s, 1); // installs the TLS provider reqwest needs
    let http = reqwest::Client::new();
    let base = s.base_url();
    let login: serde_json::Value = http
        .post(format!("{base}/ase/api/keylogin/apikeylogin"))
        .json(&serde_json::json!({"keyId": s.handle().key_id(), "keySecret": s.handle().key_secret()}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let id = login["sessionId"].as_str().expect("sessionId").to_string();
    let apps = format!("{base}/ase/api/applications");
    let no_cookie = http
        .get(&apps)
        .header("asc_xsrf_token", &id)
        .send()
        .await
        .expect("send");
    assert_eq!(no_cookie.status().as_u16(), 401);
    let no_xsrf = http
        .get(&apps)
        .header("Cookie", format!("asc_session_id={id}"))
        .send()
        .await
        .expect("send");
    assert_eq!(no_xsrf.status().as_u16(), 403);
    let both = http
        .get(&apps)
        .header("Cookie", format!("asc_session_id={id}"))
        .header("asc_xsrf_token", &id)
        .send()
        .await
        .expect("send");
    assert_eq!(both.status().as_u16(), 200);
    let st = s.handle().stats();
    assert_eq!((st.refused_no_session, st.refused_no_xsrf), (1, 1));
}

#[tokio::test]
async fn details_v2_and_the_per_issue_fallback() {
    let s = sim(1, 12, 1000).await;
    let c = client(&s, 100);
    let app = &c.applications().await.expect("apps")[0];
    let app_id = app["id"].to_string();
    let issues = all_issues(&c, app["name"].as_str().expect("name")).await;
    let ids: Vec<String> = issues
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect();
    let d = c.details(&app_id, &ids).await.expect("details");
    assert_eq!(d.len(), 12);
    assert!(d[0]["fixRecommendation"].is_string());
    assert!(d[0]["variants"].as_array().is_some_and(|v| !v.is_empty()));
    s.handle().inject(AseFault::NoDetailsV2);
    let d = c.details(&app_id, &ids[..3]).await.expect("fallback");
    assert_eq!(d.len(), 3);
    assert!(d[0]["technicalDescription"].is_string());
    // Once known missing, details_v2 is not asked again.
    let before = s.handle().stats().count(AseEndpoint::Details, 404);
    c.details(&app_id, &ids[3..5]).await.expect("fallback");
    assert_eq!(s.handle().stats().count(AseEndpoint::Details, 404), before);
}

#[tokio::test]
async fn a_dropped_session_is_replaced_once() {
    let s = sim(1, 3, 1000).await;
    let c = client(&s, 100);
    c.login().await.expect("login");
    s.handle().inject(AseFault::DropSessions);
    assert_eq!(c.applications().await.expect("apps").len(), 1);
    let st = c.stats();
    assert_eq!((st.logins, st.relogins_after_401), (2, 1));
}

#[tokio::test]
async fn retries_5xx_and_429_then_succeeds() {
    let s = sim(1, 3, 1000).await;
    let c = client(&s, 100);
    s.handle().inject(AseFault::Status {
        status: 503,
        times: 2,
        endpoint: AseEndpoint::Applications,
        retry_after: None,
    });
    s.handle().inject(AseFault::Status {
        status: 429,
        times: 1,
        endpoint: AseEndpoint::Applications,
        retry_after: Some(0),
    });
    assert_eq!(c.applications().await.expect("apps").len(), 1);
    assert_eq!(c.stats().retries, 3);
}

#[tokio::test]
async fn a_storm_longer_than_the_retries_names_endpoint_and_status() {
    let s = sim(1, 3, 1000).await;
    let c = client(&s, 100);
    s.handle().inject(AseFault::Status {
        status: 502,
        times: 10,
        endpoint: AseEndpoint::Applications,
        retry_after: None,
    });
    let e = c.applications().await.expect_err("fails");
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            AseError::Http {
                status: 502,
                attempts: 4,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        msg.contains("/ase/api/applications") && msg.contains("502"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_bad_key_is_an_authentication_error_without_the_secret() {
    let s = sim(1, 3, 1000).await;
    s.handle().inject(AseFault::BadKey);
    let c = client(&s, 100);
    let e = c.login().await.expect_err("refused");
    assert!(matches!(e, AseError::Auth { status: 401, .. }), "{e:?}");
    let secret = s.handle().key_secret();
    assert!(!format!("{e} {e:?} {c:?}").contains(&secret));
    // Nothing to log out of.
    c.logout().await;
    assert_eq!(s.handle().stats().logouts, 0);
}

/// An issues page answered 200 with an HTML body (a proxy's page) is fetched again
/// within the retry budget: one such page ended the whole run Errored, "0 retries", where
/// the ASoC client fetched the page again. Past the budget the listing fails, naming the
/// page.
#[tokio::test]
async fn an_unreadable_page_is_fetched_again_before_it_fails() {
    let s = sim(1, 12, 1000).await;
    let c = client(&s, 5);
    let name = c.applications().await.expect("apps")[0]["name"]
        .as_str()
        .expect("name")
        .to_string();
    s.handle().inject(AseFault::NonJsonPage { times: 2 });
    assert_eq!(all_issues(&c, &name).await.len(), 12, "nothing lost");
    assert_eq!(c.stats().retries, 2, "{:?}", c.stats());

    s.handle().inject(AseFault::NonJsonPage { times: 10 });
    let err = c
        .issues(&name)
        .try_collect::<Vec<_>>()
        .await
        .expect_err("past the retry budget");
    assert!(
        matches!(&err, AseError::InvalidResponse { message, .. } if message.contains("not JSON")),
        "{err}"
    );
}
