//! The client against the real ASoC simulator over loopback: paging edge
//! cases, token expiry and revocation in the middle of a listing, 429/503
//! storms, slow answers, unreadable pages, refusals, and a delta filter.
//! Every test checks what it got against the simulator's own view of the
//! data (`SimHandle::apps` / `issues`) and, where it matters, against the
//! simulator's request counters.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use asoc::{AsocClient, AsocError, ClientConfig, ListQuery, Page, odata_datetime};
use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::Value;
use sim::asoc::Endpoint;
use sim::{AsocSim, Fault, RunningSim, SimConfig, SimHandle};

async fn start(apps: usize, issues_per_app: usize) -> RunningSim {
    start_with(SimConfig {
        apps,
        issues_per_app,
        seed: 7,
        ..SimConfig::default()
    })
    .await
}

async fn start_with(cfg: SimConfig) -> RunningSim {
    AsocSim::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn config(sim: &RunningSim, page_size: usize) -> ClientConfig {
    let h = sim.handle();
    let mut cfg = ClientConfig::new(sim.base_url(), h.key_id(), h.key_secret());
    cfg.page_size = page_size;
    cfg.retry_base_delay = Duration::from_millis(2);
    cfg.rate_limit_per_minute = 0;
    cfg.timeout = Duration::from_secs(10);
    cfg
}

fn client(sim: &RunningSim, page_size: usize) -> AsocClient {
    AsocClient::new(config(sim, page_size)).unwrap()
}

async fn pages(s: impl Stream<Item = Result<Page, AsocError>>) -> Vec<Page> {
    s.try_collect().await.unwrap()
}

fn items(pages: &[Page]) -> Vec<Value> {
    pages.iter().flat_map(|p| p.items.clone()).collect()
}

/// Records in the order the client lists them (`$orderby=Id`); the simulator's own
/// views keep creation order, its default.
fn by_id(mut records: Vec<Value>) -> Vec<Value> {
    records.sort_by(|a, b| a["Id"].as_str().cmp(&b["Id"].as_str()));
    records
}

/// Issue counts per app id, from the simulator.
fn issue_counts(h: &SimHandle) -> Vec<(String, usize)> {
    h.app_ids()
        .into_iter()
        .map(|id| {
            let n = h.issues(&id).len();
            (id, n)
        })
        .collect()
}

fn pages_needed(n: usize, page_size: usize) -> u64 {
    n.div_ceil(page_size).max(1) as u64
}

#[tokio::test]
async fn lists_every_app_and_issue_exactly() {
    let sim = start(7, 30).await;
    let h = sim.handle();
    let page_size = 20;
    let c = client(&sim, page_size);

    let apps = pages(c.apps(ListQuery::all())).await;
    assert_eq!(items(&apps), by_id(h.apps()), "apps, every field, in order");
    assert!(
        apps.iter()
            .all(|p| p.app_id.is_none() && p.count == Some(7))
    );

    let counts = issue_counts(&h);
    let ids: Vec<String> = counts.iter().map(|(id, _)| id.clone()).collect();
    let got = pages(c.issues_for_apps(ids, ListQuery::all())).await;
    let mut by_app: HashMap<String, Vec<Page>> = HashMap::new();
    for p in got {
        by_app.entry(p.app_id.clone().unwrap()).or_default().push(p);
    }
    for (id, n) in &counts {
        let mut mine = by_app.remove(id).unwrap_or_default();
        mine.sort_by_key(|p| p.skip);
        assert_eq!(items(&mine), by_id(h.issues(id)), "issues of {id}");
        assert_eq!(
            mine.len() as u64,
            pages_needed(*n, page_size),
            "pages of {id} ({n} issues)"
        );
    }

    // No request more than needed: one page per 20 records, at least one per
    // listing, and a single login.
    let expected: u64 = counts
        .iter()
        .map(|(_, n)| pages_needed(*n, page_size))
        .sum();
    let st = h.stats();
    assert_eq!(st.count(Endpoint::Issues, 200), expected);
    assert_eq!(st.count(Endpoint::Apps, 200), 1);
    assert_eq!(st.logins, 1);
    let cs = c.stats();
    assert_eq!(cs.logins, 1);
    assert_eq!(cs.pages, expected + 1);
    assert_eq!(cs.items as usize, 7 + h.total_issues());
    assert_eq!(cs.retries, 0);
}

#[tokio::test]
async fn zero_apps() {
    let sim = start(0, 10).await;
    let c = client(&sim, 50);
    let got = pages(c.apps(ListQuery::all())).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].items.is_empty());
    assert_eq!(got[0].count, Some(0));
    assert!(
        pages(c.issues_for_apps(vec![], ListQuery::all()))
            .await
            .is_empty()
    );

    // A tenant whose apps disappear.
    let sim = start(3, 1).await;
    sim.handle().set_apps_hidden(true);
    let got = pages(client(&sim, 50).apps(ListQuery::all())).await;
    assert_eq!(items(&got).len(), 0);
}

#[tokio::test]
async fn app_with_zero_issues_yields_one_empty_page() {
    let sim = start(30, 3).await;
    let h = sim.handle();
    let counts = issue_counts(&h);
    let (empty, _) = counts
        .iter()
        .find(|(_, n)| *n == 0)
        .expect("the generator leaves some apps without issues");
    let c = client(&sim, 50);
    let got = pages(c.issues(empty, ListQuery::all())).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].app_id.as_deref(), Some(empty.as_str()));
    assert!(got[0].items.is_empty());
    assert_eq!(h.stats().count(Endpoint::Issues, 200), 1);
}

#[tokio::test]
async fn exact_multiples_of_the_page_size_need_no_extra_request() {
    let sim = start(40, 10).await;
    let h = sim.handle();
    // 40 apps, 20 a page: exactly two requests.
    let got = pages(client(&sim, 20).apps(ListQuery::all())).await;
    assert_eq!(got.iter().map(|p| p.skip).collect::<Vec<_>>(), [0, 20]);
    assert_eq!(items(&got), by_id(h.apps()));
    assert_eq!(h.stats().count(Endpoint::Apps, 200), 2);

    // An app with an even number of issues, paged in halves and whole.
    let (id, n) = issue_counts(&h)
        .into_iter()
        .find(|(_, n)| *n >= 4 && n % 2 == 0)
        .unwrap();
    for page_size in [n / 2, n] {
        h.reset_stats();
        let got = pages(client(&sim, page_size).issues(&id, ListQuery::all())).await;
        assert_eq!(items(&got), by_id(h.issues(&id)));
        assert_eq!(
            h.stats().count(Endpoint::Issues, 200),
            (n / page_size) as u64
        );
    }
}

#[tokio::test]
async fn page_size_above_the_server_maximum() {
    let sim = start_with(SimConfig {
        apps: 3,
        issues_per_app: 1,
        max_page_size: 100,
        ..SimConfig::default()
    })
    .await;
    // Above the documented maximum: rejected before any request.
    let mut cfg = config(&sim, 5001);
    let e = AsocClient::new(cfg.clone()).unwrap_err();
    assert!(matches!(e, AsocError::Config(_)), "{e:?}");
    // Within it but above this server's: the server's 400 ends the listing.
    cfg.page_size = 200;
    let c = AsocClient::new(cfg).unwrap();
    let got: Vec<_> = c.apps(ListQuery::all()).collect().await;
    assert_eq!(got.len(), 1);
    let e = got.into_iter().next().unwrap().unwrap_err();
    assert!(
        matches!(
            e,
            AsocError::Http {
                status: 400,
                attempts: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("/api/v4/Apps"), "{e}");
}

#[tokio::test]
async fn token_expiring_during_a_slow_listing_is_refreshed() {
    let sim = start(2, 60).await;
    let h = sim.handle();
    h.set_token_ttl(Duration::from_secs(1));
    let (id, n) = issue_counts(&h)
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap();
    let c = client(&sim, 10);
    let mut s = std::pin::pin!(c.issues(&id, ListQuery::all()));
    let mut got = Vec::new();
    let start = Instant::now();
    while let Some(p) = s.next().await {
        got.push(p.unwrap());
        // A slow consumer: the token runs out between pages.
        if start.elapsed() < Duration::from_millis(2500) {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
    assert_eq!(items(&got), by_id(h.issues(&id)));
    assert!(n > 40, "long enough to outlive a token: {n}");
    let cs = c.stats();
    assert!(cs.token_refreshes >= 1, "{cs:?}");
    assert_eq!(cs.logins, h.stats().logins);
    assert!(h.stats().logins >= 2);
}

#[tokio::test]
async fn revoked_token_mid_listing_logs_in_again_once() {
    let sim = start(2, 60).await;
    let h = sim.handle();
    let (id, _) = issue_counts(&h)
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap();
    let c = client(&sim, 10);
    let mut s = std::pin::pin!(c.issues(&id, ListQuery::all()));
    let mut got = vec![s.next().await.unwrap().unwrap()];
    h.revoke_tokens();
    while let Some(p) = s.next().await {
        got.push(p.unwrap());
    }
    assert_eq!(items(&got), by_id(h.issues(&id)));
    let cs = c.stats();
    assert_eq!((cs.logins, cs.relogins_after_401), (2, 1), "{cs:?}");
    assert_eq!(cs.status_count(401), 1);
    assert_eq!(h.stats().count(Endpoint::Issues, 401), 1);
}

#[tokio::test]
async fn storm_of_429_completes_with_retries_counted() {
    let sim = start(6, 40).await;
    let h = sim.handle();
    h.inject(Fault::Status {
        status: 429,
        times: 12,
        endpoint: Endpoint::Issues,
        retry_after: None,
    });
    let mut cfg = config(&sim, 15);
    cfg.max_retries = 12;
    cfg.concurrency = 3;
    let c = AsocClient::new(cfg).unwrap();
    let got = pages(c.issues_for_apps(h.app_ids(), ListQuery::all())).await;
    assert_eq!(items(&got).len(), h.total_issues());
    assert_eq!(h.stats().count(Endpoint::Issues, 429), 12);
    let cs = c.stats();
    assert_eq!(cs.retries, 12);
    assert_eq!(cs.status_count(429), 12);
}

#[tokio::test]
async fn storm_of_503_everywhere_completes() {
    let sim = start(4, 30).await;
    let h = sim.handle();
    h.inject(Fault::Status {
        status: 503,
        times: 5,
        endpoint: Endpoint::Any,
        retry_after: None,
    });
    let mut cfg = config(&sim, 25);
    cfg.max_retries = 5;
    let c = AsocClient::new(cfg).unwrap();
    // The login itself meets the storm first.
    let apps = pages(c.apps(ListQuery::all())).await;
    assert_eq!(items(&apps), by_id(h.apps()));
    let got = pages(c.issues_for_apps(h.app_ids(), ListQuery::all())).await;
    assert_eq!(items(&got).len(), h.total_issues());
    assert_eq!(h.stats().with_status(503), 5);
    assert_eq!(c.stats().retries, 5);
}

#[tokio::test]
async fn retry_after_from_the_server_is_honoured() {
    let sim = start(2, 5).await;
    let h = sim.handle();
    h.inject(Fault::Status {
        status: 429,
        times: 1,
        endpoint: Endpoint::Apps,
        retry_after: Some(1),
    });
    let c = client(&sim, 50);
    let t = Instant::now();
    let got = pages(c.apps(ListQuery::all())).await;
    assert_eq!(items(&got), by_id(h.apps()));
    // The backoff alone would be ~2-4 ms.
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(c.stats().retries, 1);
}

#[tokio::test]
async fn retries_run_out_with_a_named_error() {
    let sim = start(2, 5).await;
    let h = sim.handle();
    h.inject(Fault::Status {
        status: 503,
        times: 100,
        endpoint: Endpoint::Apps,
        retry_after: None,
    });
    let mut cfg = config(&sim, 50);
    cfg.max_retries = 2;
    let c = AsocClient::new(cfg).unwrap();
    let got: Vec<_> = c.apps(ListQuery::all()).collect().await;
    assert_eq!(got.len(), 1);
    let e = got.into_iter().next().unwrap().unwrap_err();
    match &e {
        AsocError::Http {
            method,
            endpoint,
            status,
            attempts,
            excerpt,
        } => {
            assert_eq!(
                (method.as_str(), endpoint.as_str()),
                ("GET", "/api/v4/Apps")
            );
            assert_eq!((*status, *attempts), (503, 3));
            assert!(!excerpt.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.stats().count(Endpoint::Apps, 503), 3);
}

#[tokio::test]
async fn slow_answer_times_out_and_is_retried() {
    let sim = start(2, 20).await;
    let h = sim.handle();
    h.inject(Fault::Delay {
        millis: 1500,
        times: 1,
        endpoint: Endpoint::Issues,
    });
    let mut cfg = config(&sim, 50);
    cfg.timeout = Duration::from_millis(300);
    let c = AsocClient::new(cfg).unwrap();
    let id = h.app_ids().remove(0);
    let got = pages(c.issues(&id, ListQuery::all())).await;
    assert_eq!(items(&got), by_id(h.issues(&id)));
    let cs = c.stats();
    assert_eq!((cs.timeouts, cs.retries), (1, 1), "{cs:?}");
}

#[tokio::test]
async fn non_json_page_is_reported_and_the_other_pages_kept() {
    let sim = start(2, 60).await;
    let h = sim.handle();
    let (id, n) = issue_counts(&h)
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap();
    assert!(n > 30, "{n}");
    let page_size = 10;
    let c = client(&sim, page_size);
    // Once, a proxy's page instead of the JSON: the page is fetched again, nothing lost.
    let mut s = std::pin::pin!(c.issues(&id, ListQuery::all()));
    let first = s.next().await.unwrap().unwrap();
    h.inject(Fault::NonJsonPage { times: 1 });
    let mut rest = pages(s).await;
    rest.insert(0, first);
    assert_eq!(
        items(&rest),
        by_id(h.issues(&id)),
        "the page was fetched again"
    );
    let cs = c.stats();
    assert_eq!((cs.bad_pages, cs.retries), (0, 1), "{cs:?}");

    // Every time: after the retries the page is reported and skipped.
    let mut s = std::pin::pin!(c.issues(&id, ListQuery::all()));
    let first = s.next().await.unwrap().unwrap();
    h.inject(Fault::NonJsonPage {
        times: asoc::config::DEFAULT_MAX_RETRIES + 1,
    });
    let mut good = vec![first];
    let mut bad = Vec::new();
    while let Some(p) = s.next().await {
        match p {
            Ok(p) => good.push(p),
            Err(e) => bad.push(e),
        }
    }
    assert_eq!(bad.len(), 1, "{bad:?}");
    match &bad[0] {
        AsocError::BadPage {
            endpoint,
            app_id,
            skip,
            excerpt,
            ..
        } => {
            assert_eq!(endpoint, &format!("/api/v4/Issues/Application/{id}"));
            assert_eq!(app_id.as_deref(), Some(id.as_str()));
            assert_eq!(*skip, page_size);
            assert!(excerpt.starts_with("an HTML page: "), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
    // Everything but the one unreadable page arrived, in order.
    let all = by_id(h.issues(&id));
    let expected: Vec<Value> = all[..page_size]
        .iter()
        .chain(&all[2 * page_size..])
        .cloned()
        .collect();
    assert_eq!(items(&good), expected);
    assert_eq!(c.stats().bad_pages, 1);

    // Next sync: the page is back.
    let again = pages(c.issues(&id, ListQuery::all())).await;
    assert_eq!(items(&again), all);
}

#[tokio::test]
async fn refusals_are_typed() {
    let sim = start(2, 5).await;
    let h = sim.handle();
    let c = client(&sim, 50);
    c.login().await.unwrap();
    assert!(c.tenant_info().await.is_ok());

    h.inject(Fault::Forbidden {
        endpoint: Endpoint::Other,
    });
    let e = c.tenant_info().await.unwrap_err();
    assert!(matches!(e, AsocError::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("/api/v4/Account/TenantInfo"), "{e}");
    h.clear_faults();

    h.inject(Fault::BadKey);
    let e = c.login().await.unwrap_err();
    assert!(matches!(e, AsocError::Auth { status: 401, .. }), "{e:?}");
    let shown = format!("{e} {e:?} {c:?}");
    assert!(!shown.contains(&h.key_secret()), "{shown}");

    // A wrong secret from the start.
    h.clear_faults();
    let mut cfg = config(&sim, 50);
    cfg.key_secret = "not-the-right-secret".to_string().into();
    let bad = AsocClient::new(cfg).unwrap();
    let got: Vec<_> = bad.apps(ListQuery::all()).collect().await;
    assert!(
        matches!(got.as_slice(), [Err(AsocError::Auth { status: 401, .. })]),
        "{got:?}"
    );
}

#[tokio::test]
async fn delta_filter_selects_the_changed_issues() {
    let sim = start(5, 40).await;
    let h = sim.handle();
    let summary = h.mutate(0.1, 3);
    assert!(!summary.changed_issue_ids.is_empty());
    let c = client(&sim, 25);
    let filter = format!("LastUpdated ge {}", odata_datetime(summary.at));
    let got = pages(c.issues_for_apps(h.app_ids(), ListQuery::all().with_filter(filter))).await;
    let mut ids: Vec<String> = items(&got)
        .iter()
        .map(|i| i["Id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, summary.changed_issue_ids);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let sim = start(2, 5).await;
    let h = sim.handle();
    let c = client(&sim, 50);
    c.tenant_info().await.unwrap();
    c.logout().await;
    c.tenant_info().await.unwrap();
    assert_eq!(h.stats().logins, 2);
    assert_eq!(c.stats().relogins_after_401, 0);
}

/// A logout is a courtesy awaited before a run records its end: a server answering 503
/// with `Retry-After` to it held the run for the retries' whole backoff.
#[tokio::test]
async fn a_logout_the_server_keeps_refusing_is_given_up_quickly() {
    let sim = start(1, 1).await;
    let h = sim.handle();
    let mut cfg = config(&sim, 50);
    cfg.max_retries = 5;
    let c = AsocClient::new(cfg).unwrap();
    c.tenant_info().await.unwrap();
    h.inject(Fault::Status {
        status: 503,
        times: 100,
        endpoint: Endpoint::Other,
        retry_after: Some(60),
    });
    // Each retry would wait the minute the server asks for; the logout's own bound
    // ends it (checked with a wide margin: the bound is 5 s, one retry is 60).
    let started = Instant::now();
    c.logout().await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}
