//! Injected faults: statuses with Retry-After, delays, non-JSON pages,
//! malformed issues, sticky 403s, a revoked key — in process and through
//! the /sim admin API.

mod common;

use std::time::{Duration, Instant};

use common::{Api, biggest_app, client, login_raw, small, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::Fault;
use sim::asoc::Endpoint;

#[tokio::test]
async fn status_faults_answer_then_recover() {
    let sim = start(small()).await;
    let h = sim.handle();
    let api = Api::login(&sim).await;
    let (app, _) = biggest_app(&sim);
    let path = format!("Issues/Application/{app}");

    h.inject(Fault::Status {
        status: 429,
        times: 2,
        endpoint: Endpoint::Issues,
        retry_after: Some(3),
    });
    // Apps are not affected.
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::OK);
    for _ in 0..2 {
        let r = api.get(&path, &[]).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "3");
        assert_eq!(r.text().await.unwrap(), "Too many requests.");
    }
    assert_eq!(api.get(&path, &[]).await.status(), StatusCode::OK);

    h.inject(Fault::Status {
        status: 503,
        times: 1,
        endpoint: Endpoint::Any,
        retry_after: None,
    });
    let r = api.get(&path, &[]).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("retry-after").is_none());
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["Key"], "ServiceUnavailable");
    assert_eq!(api.get(&path, &[]).await.status(), StatusCode::OK);

    // Login can fail too.
    h.inject(Fault::Status {
        status: 500,
        times: 1,
        endpoint: Endpoint::Login,
        retry_after: None,
    });
    let r = login_raw(&api.client, &api.base, &h.key_id(), &h.key_secret()).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let stats = h.stats();
    assert_eq!(stats.count(Endpoint::Issues, 429), 2);
    assert_eq!(stats.count(Endpoint::Issues, 503), 1);
    assert_eq!(stats.count(Endpoint::Issues, 200), 2);
    assert_eq!(stats.count(Endpoint::Login, 500), 1);
    h.reset_stats();
    assert_eq!(h.stats().total(Endpoint::Any), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn delays_trip_client_timeouts() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    sim.handle().inject(Fault::Delay {
        millis: 600,
        times: 1,
        endpoint: Endpoint::Apps,
    });
    let t = Instant::now();
    let r = api
        .client
        .get(format!("{}/api/v4/Apps", api.base))
        .bearer_auth(&api.token)
        .timeout(Duration::from_millis(150))
        .send()
        .await;
    assert!(r.is_err_and(|e| e.is_timeout()));
    assert!(t.elapsed() < Duration::from_millis(550));
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn non_json_page_then_json_again() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    let (app, _) = biggest_app(&sim);
    let path = format!("Issues/Application/{app}");
    sim.handle().inject(Fault::NonJsonPage { times: 1 });
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::OK);
    let r = api.get(&path, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    api.json(&path, &[]).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_issues_are_deterministic_and_sticky() {
    let sim = start(small()).await;
    let h = sim.handle();
    let api = Api::login(&sim).await;
    let (app, total) = biggest_app(&sim);
    let path = format!("Issues/Application/{app}");
    let clean = h.issues(&app);
    h.inject(Fault::Malformed {
        fraction: 0.3,
        seed: 4,
    });
    let broken = api.all(&path, &[], 1000).await;
    assert_eq!(broken.len(), total);
    assert_eq!(broken, h.issues(&app));
    let bad: Vec<&Value> = broken.iter().filter(|i| !clean.contains(i)).collect();
    assert!(
        bad.len() > total / 10 && bad.len() < total / 2,
        "{} of {total}",
        bad.len()
    );
    let known = sim::asoc::catalog::SEVERITIES;
    let mut kinds = [0usize; 4];
    for i in &bad {
        // `Id` is guaranteed by the spec: a broken issue is broken elsewhere, and still
        // the same issue.
        assert!(clean.iter().any(|c| c["Id"] == i["Id"]), "{i}");
        let cwe_name = i["Cwe"].is_string();
        let bad_sev = !known.contains(&i["Severity"].as_str().unwrap_or(""));
        let bad_date =
            chrono::DateTime::parse_from_rfc3339(i["LastUpdated"].as_str().unwrap_or("")).is_err();
        let port_str = i["Port"].is_string();
        let defects = [cwe_name, bad_sev, bad_date, port_str];
        assert_eq!(defects.iter().filter(|x| **x).count(), 1, "{i}");
        for (k, d) in kinds.iter_mut().zip(defects) {
            *k += usize::from(d);
        }
    }
    assert!(
        kinds.iter().all(|&k| k > 0),
        "each kind of breakage: {kinds:?}"
    );
    // Same issues broken on the next read; clean again once cleared.
    assert_eq!(api.all(&path, &[], 1000).await, broken);
    h.clear_faults();
    assert_eq!(api.all(&path, &[], 1000).await, clean);
    sim.shutdown().await;
}

#[tokio::test]
async fn forbidden_and_bad_key() {
    let sim = start(small()).await;
    let h = sim.handle();
    let api = Api::login(&sim).await;
    h.inject(Fault::Forbidden {
        endpoint: Endpoint::Apps,
    });
    for _ in 0..3 {
        let r = api.get("Apps", &[]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["Key"], "Forbidden");
        assert!(e["Message"].as_str().unwrap().contains("permission"));
    }
    let (app, _) = biggest_app(&sim);
    assert_eq!(
        api.get(&format!("Issues/Application/{app}"), &[])
            .await
            .status(),
        StatusCode::OK
    );
    h.inject(Fault::Forbidden {
        endpoint: Endpoint::Other,
    });
    assert_eq!(
        api.get("Account/TenantInfo", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    h.clear_faults();
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::OK);

    h.inject(Fault::BadKey);
    let r = login_raw(&api.client, &api.base, &h.key_id(), &h.key_secret()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Existing tokens keep working until they expire.
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::OK);
    h.clear_faults();
    let r = login_raw(&api.client, &api.base, &h.key_id(), &h.key_secret()).await;
    assert_eq!(r.status(), StatusCode::OK);
    sim.shutdown().await;
}

#[tokio::test]
async fn hidden_apps_make_an_empty_source() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    sim.handle().set_apps_hidden(true);
    let v = api.json("Apps", &[("$count", "true")]).await;
    assert_eq!(v, json!({ "Items": [], "Count": 0 }));
    assert!(sim.handle().apps().is_empty());
    sim.handle().set_apps_hidden(false);
    assert_eq!(api.items("Apps", &[]).await.len(), 12);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_api_drives_a_sim_over_http() {
    let sim = start(small()).await;
    let base = sim.base_url();
    let c = client();
    let api = Api::login(&sim).await;
    let (app, _) = biggest_app(&sim);
    let path = format!("Issues/Application/{app}");

    let r = c
        .post(format!("{base}/sim/faults"))
        .json(&json!({ "type": "status", "status": 429, "times": 1, "endpoint": "issues", "retry_after": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = api.get(&path, &[]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "2");

    let r = c
        .post(format!("{base}/sim/faults"))
        .json(&json!({ "type": "forbidden", "endpoint": "apps" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::FORBIDDEN);
    let r = c.delete(format!("{base}/sim/faults")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::OK);
    let r = c
        .post(format!("{base}/sim/faults"))
        .json(&json!({ "type": "meteor" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let stats: sim::asoc::SimStats = c
        .get(format!("{base}/sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats.count(Endpoint::Issues, 429), 1);
    assert_eq!(stats.count(Endpoint::Apps, 403), 1);
    assert_eq!(stats.logins, 1);
    assert_eq!(stats, sim.handle().stats());

    let before = sim.handle().now();
    let v: Value = c
        .post(format!("{base}/sim/advance"))
        .json(&json!({ "seconds": 3600 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(v["now"].as_str().unwrap()).unwrap();
    assert!(now.signed_duration_since(before).num_seconds() >= 3600);

    let summary: sim::asoc::MutationSummary = c
        .post(format!("{base}/sim/mutate"))
        .json(&json!({ "rate": 0.05, "seed": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!summary.changed_issue_ids.is_empty());
    assert!(summary.at.signed_duration_since(now).num_seconds() >= 60);

    // "now": stamped with the present, the clock stays where it was.
    let before = sim.handle().now();
    let summary: sim::asoc::MutationSummary = c
        .post(format!("{base}/sim/mutate"))
        .json(&json!({ "rate": 0.05, "seed": 2, "now": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!summary.changed_issue_ids.is_empty());
    assert!(summary.at.signed_duration_since(before).num_seconds() < 30);

    // `{"on": …}` as the ASE simulator takes it (only `hidden` was), and the old name.
    let api = Api::login(&sim).await; // the clock moved past the first token's life
    let all = api.items("Apps", &[]).await.len();
    for (body, apps) in [(json!({"on": true}), 0), (json!({"hidden": false}), all)] {
        let r = c
            .post(format!("{base}/sim/apps-hidden"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{body}");
        assert_eq!(api.items("Apps", &[]).await.len(), apps, "{body}");
    }

    let r = c.post(format!("{base}/sim/revoke")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.get("Apps", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    sim.shutdown().await;
}
