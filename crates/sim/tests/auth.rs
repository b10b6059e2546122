//! Login, bearer tokens and their expiry on the simulated clock.

mod common;

use std::time::Duration;

use common::{Api, login_raw, small, start};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn login_issues_a_token_that_expires_per_ttl() {
    let sim = start(small()).await;
    let h = sim.handle();
    let client = common::client();
    let r = login_raw(
        &client,
        &sim.base_url(),
        "sim-key-id",
        "sim-key-secret-0123456789",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let token = body["Token"].as_str().unwrap();
    assert!(token.len() >= 32);
    let expire = chrono::DateTime::parse_from_rfc3339(body["Expire"].as_str().unwrap()).unwrap();
    let ttl = expire.signed_duration_since(h.now()).num_seconds();
    assert!((1790..=1800).contains(&ttl), "ttl {ttl}");
    assert_eq!(h.stats().logins, 1);

    let api = Api::login(&sim).await;
    assert_eq!(
        api.get("Account/IsAuthenticated", &[]).await.status(),
        StatusCode::OK
    );
    let tenant = api.json("Account/TenantInfo", &[]).await;
    assert!(tenant["TenantId"].is_string());

    // 29 minutes later still valid, 31 minutes later expired: 401, empty body.
    h.advance_time(chrono::Duration::minutes(29));
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::OK);
    h.advance_time(chrono::Duration::minutes(2));
    let r = api.get("Apps", &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.text().await.unwrap(), "");

    // A shorter ttl applies to tokens issued afterwards.
    h.set_token_ttl(Duration::from_secs(5));
    let api = Api::login(&sim).await;
    assert_eq!(api.get("Apps", &[]).await.status(), StatusCode::OK);
    h.advance_time(chrono::Duration::seconds(6));
    assert_eq!(
        api.get("Apps", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_and_bad_bodies() {
    let sim = start(small()).await;
    let base = sim.base_url();
    let client = common::client();
    let r = login_raw(&client, &base, "sim-key-id", "wrong-secret").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.text().await.unwrap(), "");
    let r = login_raw(&client, &base, "other-id", "sim-key-secret-0123456789").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // KeySecret outside 5..=100 characters: 400 with an error body.
    for secret in ["abcd".to_string(), "x".repeat(101)] {
        let r = login_raw(&client, &base, "sim-key-id", &secret).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let e: Value = r.json().await.unwrap();
        assert!(e["Key"].is_string() && e["Message"].as_str().unwrap().contains("KeySecret"));
        assert_eq!(e["FormatParams"], serde_json::json!([]));
    }
    let r = client
        .post(format!("{base}/api/v4/Account/ApiKeyLogin"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sim.handle().stats().logins, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_with_empty_body() {
    let sim = start(small()).await;
    let base = sim.base_url();
    let client = common::client();
    for path in [
        "Apps",
        "Issues/Application/00000000-0000-0000-0000-000000000000",
        "Account/TenantInfo",
    ] {
        let r = client
            .get(format!("{base}/api/v4/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(r.text().await.unwrap(), "");
        let r = client
            .get(format!("{base}/api/v4/{path}"))
            .bearer_auth("forged")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn logout_and_revoke_end_tokens() {
    let sim = start(small()).await;
    let api = Api::login(&sim).await;
    assert_eq!(
        api.get("Account/Logout", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        api.get("Apps", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let api = Api::login(&sim).await;
    sim.handle().revoke_tokens();
    assert_eq!(
        api.get("Apps", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The same over the admin API.
    let api = Api::login(&sim).await;
    let r = api
        .client
        .post(format!("{}/sim/revoke", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.get("Apps", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let stats = sim.handle().stats();
    assert_eq!(stats.count(sim::asoc::Endpoint::Apps, 401), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn optional_rate_limit() {
    let sim = start(sim::SimConfig {
        rate_limit_per_minute: Some(5),
        ..small()
    })
    .await;
    let h = sim.handle();
    // The login is the first of the user's five requests this minute.
    let api = Api::login(&sim).await;
    for _ in 0..4 {
        assert_eq!(
            api.get("Apps", &[("$top", "1")]).await.status(),
            StatusCode::OK
        );
    }
    let r = api.get("Apps", &[("$top", "1")]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text().await.unwrap(), "Too many requests.");
    // The limit is the user's: a new login with the key is refused too (logging in
    // again, with or without the old tokens, neither escapes nor restarts it).
    let (key_id, key_secret) = (h.key_id(), h.key_secret());
    let login = || login_raw(&api.client, &api.base, &key_id, &key_secret);
    assert_eq!(login().await.status(), StatusCode::TOO_MANY_REQUESTS);
    h.revoke_tokens();
    assert_eq!(login().await.status(), StatusCode::TOO_MANY_REQUESTS);
    // A wrong key names no user: it counts per IP, not in the user's full window.
    let wrong = login_raw(&api.client, &api.base, "someone-else", "not-the-secret").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    h.advance_time(chrono::Duration::seconds(61));
    let third = Api::login(&sim).await;
    assert_eq!(
        third.get("Apps", &[("$top", "1")]).await.status(),
        StatusCode::OK
    );
    let stats = h.stats();
    assert_eq!(stats.logins, 2, "{stats:?}");
    assert_eq!(stats.count(sim::asoc::Endpoint::Login, 429), 2, "{stats:?}");
    sim.shutdown().await;
}

/// Logins count against the key's user: a client that logs in before each batch of
/// requests is limited as if the logins were requests (they were not counted at all).
#[tokio::test]
async fn logins_count_in_the_users_rate_limit() {
    let sim = start(sim::SimConfig {
        rate_limit_per_minute: Some(4),
        ..small()
    })
    .await;
    let h = sim.handle();
    let client = common::client();
    let base = sim.base_url();
    for _ in 0..4 {
        let r = login_raw(&client, &base, &h.key_id(), &h.key_secret()).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = login_raw(&client, &base, &h.key_id(), &h.key_secret()).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    sim.shutdown().await;
}

/// Requests that name no user — no token, an unknown token, a wrong key — are limited
/// per client IP, apart from the user's window.
#[tokio::test]
async fn unauthenticated_requests_are_limited_per_ip() {
    let sim = start(sim::SimConfig {
        rate_limit_per_minute: Some(3),
        ..small()
    })
    .await;
    let h = sim.handle();
    let client = common::client();
    let base = sim.base_url();
    let anonymous = || client.get(format!("{base}/api/v4/Apps")).send();
    assert_eq!(
        anonymous().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let stranger = client
        .get(format!("{base}/api/v4/Apps"))
        .bearer_auth("no-such-token")
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    let wrong = login_raw(&client, &base, "someone-else", "not-the-secret").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let wrong = login_raw(&client, &base, "someone-else", "not-the-secret").await;
    assert_eq!(wrong.status(), StatusCode::TOO_MANY_REQUESTS);
    // The key's user has a window of its own.
    let api = Api::login(&sim).await;
    assert_eq!(
        api.get("Apps", &[("$top", "1")]).await.status(),
        StatusCode::OK
    );
    h.advance_time(chrono::Duration::seconds(61));
    assert_eq!(
        anonymous().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    sim.shutdown().await;
}
