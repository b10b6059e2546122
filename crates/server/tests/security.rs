//! The HTTP API's input hardening: oversized request bodies are refused with 413 before
//! any handler runs, unknown query parameters are a 400 naming the parameter (a typo such
//! as `fulll=true` must not silently do something else), and write endpoints refuse
//! missing, malformed and unknown tokens.

mod common;

use common::rig;
use std::sync::Arc;

fn clock() -> Arc<dyn server::Clock> {
    Arc::new(server::SystemClock)
}

/// Reads need no token: a web page whose site name rebinds to 127.0.0.1 read findings and
/// exports through the browser, its requests naming its own site as `Host`. On loopback
/// the server answers to loopback names and addresses only.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_naming_another_host_is_refused_on_loopback() {
    let r = rig(1, 3, None, None, clock()).await;
    let get = |host: &'static str| {
        r.http
            .get(r.url("/api/findings"))
            .header("host", host)
            .send()
    };
    let refused = get("attacker.example:8787").await.expect("GET");
    assert_eq!(refused.status().as_u16(), 403);
    assert!(refused.headers().contains_key("content-security-policy"));
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("attacker.example")),
        "{body}"
    );
    for host in ["localhost:8787", "127.0.0.1", "[::1]:1"] {
        assert_eq!(
            get(host).await.expect("GET").status().as_u16(),
            200,
            "{host}"
        );
    }
    // Probes and scrapers name the address they were given; health and metrics hold no
    // finding.
    for path in ["/healthz", "/metrics"] {
        let res = r
            .http
            .get(r.url(path))
            .header("host", "probe.internal:8787")
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status().as_u16(), 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_unknown_parameters_and_bad_tokens_are_refused() {
    let mut r = rig(1, 3, None, None, clock()).await;
    let token = r.token("security-test");

    // A body over the limit: 413, and no sync started.
    let big = vec![b'x'; server::MAX_BODY_BYTES + 1];
    let res = r
        .http
        .post(r.url("/api/connectors/sim/sync"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        // The server stops reading the body and closes the connection; reused by the
        // next request, it failed that request with a broken pipe (seen in CI).
        .header("connection", "close")
        .body(big)
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status().as_u16(), 413);
    assert!(r.runs().is_empty(), "an oversized request started a sync");
    // Counted in the request metrics (refused before routing, it was not).
    let metrics = r.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("appscan_bridge_http_requests_total")
                && l.contains("route=\"oversized\"")
                && l.contains("status=\"413\"")),
        "{metrics}"
    );

    // Unknown query parameters, on reads and on writes.
    for path in [
        "/api/findings?colour=red",
        "/api/assets?limit=5&sortt=name",
        "/api/summary?connectr=sim",
        "/api/connectors/sim/runs?limt=5",
    ] {
        let (status, body) = r.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body.to_string().contains("unknown parameter"),
            "{path}: {body}"
        );
    }
    let (status, body) = r
        .post("/api/connectors/sim/sync?fulll=true", Some(&token))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(r.runs().is_empty(), "a mistyped request started a sync");

    // Tokens: none, not bearer, unknown.
    let (status, _) = r.post("/api/connectors/sim/sync", None).await;
    assert_eq!(status, 401);
    let res = r
        .http
        .post(r.url("/api/connectors/sim/sync"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status().as_u16(), 401);
    let (status, _) = r
        .post("/api/connectors/sim/sync", Some("abt_not-a-real-token"))
        .await;
    assert_eq!(status, 401);
    assert!(r.runs().is_empty());

    // The known parameters still work.
    let (status, _) = r.get("/api/findings?limit=5&sort=-severity").await;
    assert_eq!(status, 200);
    r.shutdown().await;
}
