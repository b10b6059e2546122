//! The HTTP API against a real SQLite store and the ASoC simulator, over loopback:
//! every endpoint, auth on writes, JSON error bodies, and the OpenAPI document against the
//! router's routes.

mod common;

use common::{eventually, rig};
use serde_json::Value;
use std::sync::Arc;

fn clock() -> Arc<dyn server::Clock> {
    Arc::new(server::SystemClock)
}

fn assert_error(status: u16, body: &Value, want: u16) {
    assert_eq!(status, want, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "error body without 'error': {body}"
    );
    assert!(
        body.get("detail").is_some(),
        "error body without 'detail': {body}"
    );
}

#[test]
fn openapi_documents_every_route_and_nothing_else() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(server::api::openapi::ApiDoc::openapi()).expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let routes = server::api::routes();
    let mut routed = std::collections::BTreeSet::new();
    let mut operation_ids = std::collections::BTreeSet::new();
    for (method, path) in routes.table() {
        let m = method.as_str().to_ascii_lowercase();
        routed.insert((m.clone(), path.to_string()));
        let op = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("route {method} {path} is not in the OpenAPI document"))[&m];
        assert!(
            op.is_object(),
            "route {method} {path}: no '{m}' operation in the document"
        );
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
        // Unique, as OpenAPI requires (two were "list", and validators refused the file).
        let id = op["operationId"].as_str().unwrap_or_default().to_string();
        assert!(operation_ids.insert(id.clone()), "operationId '{id}' twice");
        // Unknown or bad query parameters are a 400 everywhere (deny_unknown_fields).
        let queried = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
        assert!(
            !queried || op["responses"]["400"].is_object(),
            "{method} {path} takes query parameters and documents no 400"
        );
        // A limit's bounds are the ones the route enforces (it said minimum 0, refused).
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["name"] == "limit" {
                assert_eq!(p["schema"]["minimum"], 1, "{method} {path}: {p}");
                assert!(p["schema"]["maximum"].is_number(), "{method} {path}: {p}");
            }
        }
        if m == "post" {
            assert!(
                op["security"].as_array().is_some_and(|s| !s.is_empty()),
                "write endpoint {path} is documented without its bearer token"
            );
        }
    }
    for (path, item) in paths {
        for m in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&m.as_str()) {
                assert!(
                    routed.contains(&(m.clone(), path.clone())),
                    "the document has {m} {path}, which no route serves"
                );
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // An error's detail is any JSON, null and text included (it said an object).
    let detail = &doc["components"]["schemas"]["ErrorBody"]["properties"]["detail"];
    assert_ne!(detail["type"], "object", "{detail}");
    // /api/export: `format` is required, and the download is one of the formats' types
    // (it said optional, and application/octet-stream).
    let export = &paths["/api/export"]["get"];
    let format = export["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "format"))
        .expect("format");
    assert_eq!(format["required"], true);
    let types = export["responses"]["200"]["content"]
        .as_object()
        .expect("content");
    for t in [
        "text/csv",
        "application/x-ndjson",
        "application/sarif+json",
        "application/json",
    ] {
        assert!(types.contains_key(t), "{t}: {types:?}");
    }
    assert!(paths["/api/connectors/{name}/check"]["post"]["responses"]["400"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_openapi_and_errors() {
    let mut r = rig(2, 5, None, None, clock()).await;
    let (s, b) = r.get("/healthz").await;
    assert_eq!((s, b["status"].as_str()), (200, Some("ok")));
    let (s, b) = r.get("/readyz").await;
    assert_eq!((s, b["status"].as_str()), (200, Some("ready")));
    let (s, b) = r.get("/api/openapi.json").await;
    assert_eq!(s, 200);
    assert!(b["openapi"].as_str().is_some_and(|v| v.starts_with('3')));
    assert!(b["paths"]["/api/findings"]["get"].is_object());

    let (s, b) = r.get("/api/nothing-here").await;
    assert_error(s, &b, 404);
    let res = r
        .http
        .delete(r.url("/api/connectors"))
        .send()
        .await
        .expect("DELETE");
    let s = res.status().as_u16();
    let b: Value = res.json().await.expect("json 405");
    assert_error(s, &b, 405);
    // A body over the limit: 413 in the API's error shape, with the security headers.
    let res = r
        .http
        .post(r.url("/api/connectors/sim/sync"))
        // The server stops reading the body and closes the connection: reused by the
        // next request, the pool's connection could be the closed one.
        .header("connection", "close")
        .body(vec![b'x'; 100_000])
        .send()
        .await
        .expect("POST");
    assert!(res.headers().get("content-security-policy").is_some());
    let s = res.status().as_u16();
    let b: Value = res.json().await.expect("json 413");
    assert_error(s, &b, 413);
    // Answers no route gave are counted too.
    let metrics = r.metrics().await;
    for status in ["404", "405"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("appscan_bridge_http_requests_total")
                    && l.contains("route=\"unmatched\"")
                    && l.contains(&format!("status=\"{status}\""))),
            "{status}: {metrics}"
        );
    }
    // Security headers on every answer.
    let res = r.http.get(r.url("/healthz")).send().await.expect("GET");
    assert!(
        res.headers()
            .get("content-security-policy")
            .is_some_and(|v| v.to_str().unwrap_or("").contains("script-src 'self'"))
    );
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_sync_runs_and_auth() {
    let mut r = rig(3, 10, None, None, clock()).await;
    let token = r.token("ci");

    // List and show; the secret is masked and its value appears nowhere.
    let (s, list) = r.get("/api/connectors").await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "sim");
    assert_eq!(list[0]["state"], "Registered");
    let (s, c) = r.get("/api/connectors/sim").await;
    assert_eq!(s, 200);
    assert_eq!(c["secret"], "••••");
    assert_eq!(c["kind"], "asoc");
    assert!(!c.to_string().contains(&r.key_secret));
    assert!(!list.to_string().contains(&r.key_secret));
    let (s, b) = r.get("/api/connectors/nope").await;
    assert_error(s, &b, 404);
    // Paged by name; a limit out of range or a parameter it does not take is a 400,
    // not ignored (`?limit=` used to list every connector).
    let (s, page) = r.get("/api/connectors?limit=1").await;
    assert_eq!((s, page.as_array().map(Vec::len)), (200, Some(1)), "{page}");
    let (s, page) = r.get("/api/connectors?offset=1&limit=5").await;
    assert_eq!((s, page.as_array().map(Vec::len)), (200, Some(0)), "{page}");
    for bad in ["limit=0", "limit=1001", "limit=x", "state=Errored"] {
        let (s, b) = r.get(&format!("/api/connectors?{bad}")).await;
        assert_error(s, &b, 400);
    }

    // A run of another process whose lock ran out without renewal (it crashed): the
    // connector is still Processing, and its view says the run was interrupted.
    let id = r.runner.connector("sim").expect("sim").id;
    let crashed = r
        .runner
        .store
        .begin_run(
            id,
            store::RunMode::Full,
            "elsewhere",
            chrono::Duration::seconds(-1),
        )
        .expect("begin");
    let (_, c) = r.get("/api/connectors/sim").await;
    assert_eq!(c["state"], "Processing");
    let reason = c["state_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!("run {} was interrupted", crashed.id))
            && reason.contains("ran out"),
        "{c}"
    );

    // Writes need a live token.
    let (s, b) = r.post("/api/connectors/sim/sync", None).await;
    assert_error(s, &b, 401);
    let (s, b) = r.post("/api/connectors/sim/sync", Some("abt_wrong")).await;
    assert_error(s, &b, 401);
    let res = r
        .http
        .post(r.url("/api/connectors/sim/sync"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status().as_u16(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let (s, b) = r.post("/api/connectors/nope/sync", Some(&token)).await;
    assert_error(s, &b, 404);
    let (s, b) = r
        .post("/api/connectors/sim/sync?full=maybe", Some(&token))
        .await;
    assert_error(s, &b, 400);
    // A connector without its key secret (a config file's variable unset): answered
    // 202 "started", then failed in the log only, with no run to say why.
    r.runner
        .add_connector(runner::AddConnector {
            name: "nosecret".into(),
            kind: "asoc".into(),
            url: Some("http://127.0.0.1:1".into()),
            key_id: Some("k".into()),
            secret: None,
            settings: runner::Settings::default(),
        })
        .expect("added");
    let (s, b) = r.post("/api/connectors/nosecret/sync", Some(&token)).await;
    assert_error(s, &b, 400);
    assert!(
        b["error"]
            .as_str()
            .is_some_and(|e| e.contains("no key secret")),
        "{b}"
    );

    // A triggered sync, waited for.
    let run = r.sync(&token).await;
    assert_eq!(run["state"], "Processed", "{run}");
    assert_eq!(run["mode"], "full");
    assert!(run["counters"]["fetched"].as_u64().unwrap_or(0) >= 30);
    let id = run["id"].as_i64().expect("run id");

    let (s, runs) = r.get("/api/connectors/sim/runs").await;
    assert_eq!(s, 200);
    assert_eq!(runs[0]["id"].as_i64(), Some(id));
    let (s, one) = r.get(&format!("/api/connectors/sim/runs/{id}")).await;
    assert_eq!((s, one["id"].as_i64()), (200, Some(id)));
    let (s, errs) = r
        .get(&format!("/api/connectors/sim/runs/{id}/errors"))
        .await;
    assert_eq!((s, errs.as_array().map(Vec::len)), (200, Some(0)));
    let (s, b) = r.get("/api/connectors/sim/runs/999999").await;
    assert_error(s, &b, 404);
    let (s, b) = r.get("/api/connectors/sim/runs/abc").await;
    assert_error(s, &b, 400);
    let (s, b) = r.get("/api/connectors/sim/runs?limit=0").await;
    assert_error(s, &b, 400);
    let (s, c) = r.get("/api/connectors/sim").await;
    assert_eq!(s, 200);
    assert_eq!(c["state"], "Processed");
    assert_eq!(c["last_run"]["id"].as_i64(), Some(id));

    // A run with broken records lists its errors.
    r.handle.inject(sim::Fault::Malformed {
        fraction: 0.2,
        seed: 3,
    });
    let (s, run) = r
        .post("/api/connectors/sim/sync?wait=true&full=true", Some(&token))
        .await;
    assert_eq!(s, 200, "{run}");
    let id = run["id"].as_i64().expect("run id");
    let (s, errs) = r
        .get(&format!("/api/connectors/sim/runs/{id}/errors"))
        .await;
    assert_eq!(s, 200);
    let errs = errs.as_array().expect("array");
    assert!(!errs.is_empty());
    assert!(
        errs.iter()
            .all(|e| e["location"].is_string() && e["message"].is_string())
    );
    r.handle.clear_faults();

    // Started without waiting; a second start while it runs is a conflict; cancel it.
    r.handle.inject(sim::Fault::Delay {
        millis: 1500,
        times: 4,
        endpoint: sim::asoc::Endpoint::Any,
    });
    let (s, b) = r
        .post("/api/connectors/sim/sync?full=true", Some(&token))
        .await;
    assert_eq!((s, b["status"].as_str()), (202, Some("started")), "{b}");
    let (s, b) = r.post("/api/connectors/sim/sync", Some(&token)).await;
    assert_error(s, &b, 409);
    let (s, c) = r.get("/api/connectors/sim").await;
    assert_eq!((s, c["running"].as_bool()), (200, Some(true)));
    let (s, b) = r.post("/api/connectors/sim/cancel", None).await;
    assert_error(s, &b, 401);
    let (s, b) = r.post("/api/connectors/sim/cancel", Some(&token)).await;
    assert_eq!((s, b["status"].as_str()), (202, Some("cancelling")), "{b}");
    let jobs = r.server.as_ref().expect("server").state().jobs.clone();
    eventually(30, "the cancelled sync to end", || !jobs.is_running("sim")).await;
    let cancelled = &r.runs()[0];
    assert_eq!(cancelled.state, store::RunState::Cancelled);
    assert_eq!(
        cancelled.reason.as_deref(),
        Some("cancelled through the API (token 'ci'); records read so far were kept"),
        "the run says who stopped it"
    );
    let (s, b) = r.post("/api/connectors/sim/cancel", Some(&token)).await;
    assert_error(s, &b, 409);
    r.handle.clear_faults();

    // A run under way in another process (another worker, a CLI sync): 409 naming it
    // now, not a 202 and a refusal only in the log.
    let id = r.runner.connector("sim").expect("connector").id;
    let elsewhere = r
        .runner
        .store
        .begin_run(
            id,
            store::RunMode::Delta,
            "pid 4242 on another-host",
            chrono::Duration::minutes(5),
        )
        .expect("another process's run");
    let (s, b) = r.post("/api/connectors/sim/sync", Some(&token)).await;
    assert_error(s, &b, 409);
    assert!(
        b["error"]
            .as_str()
            .unwrap_or("")
            .contains("pid 4242 on another-host"),
        "{b}"
    );
    // Cancelling it here cannot reach it; the answer says where it runs.
    let (s, b) = r.post("/api/connectors/sim/cancel", Some(&token)).await;
    assert_error(s, &b, 409);
    assert!(
        b["error"]
            .as_str()
            .unwrap_or("")
            .contains("runs in another process (pid 4242 on another-host"),
        "{b}"
    );
    r.runner
        .store
        .finish_run(
            &elsewhere,
            &store::Batch::default(),
            &store::RunEnd {
                state: store::RunState::Cancelled,
                connector_state: store::ConnectorState::Registered,
                reason: None,
                counters: store::RunCounters::default(),
                cursor: None,
                scope: None,
            },
        )
        .expect("its end");

    // A revoked token no longer writes.
    assert!(r.runner.store.revoke_token("ci").expect("revoke"));
    let (s, b) = r.post("/api/connectors/sim/sync", Some(&token)).await;
    assert_error(s, &b, 401);

    // The connection check (needs a token; the simulator passes all five).
    let token2 = r.token("ops");
    let (s, b) = r.post("/api/connectors/sim/check", None).await;
    assert_error(s, &b, 401);
    let (s, checks) = r.post("/api/connectors/sim/check", Some(&token2)).await;
    assert_eq!(s, 200, "{checks}");
    let checks = checks.as_array().expect("array");
    assert_eq!(checks.len(), 5);
    assert!(
        checks.iter().all(|c| c["outcome"] != "failed"),
        "{checks:?}"
    );
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_findings_summary_and_metrics() {
    let mut r = rig(4, 25, None, None, clock()).await;
    let token = r.token("ci");
    r.sync(&token).await;
    // A second run after changes, so history and the chart have more than one point.
    r.handle.mutate(0.2, 9);
    r.sync(&token).await;

    let (s, assets) = r.get("/api/assets").await;
    assert_eq!(s, 200);
    let items = assets["items"].as_array().expect("items");
    assert!(items.len() >= 4);
    assert!(items.iter().all(|a| a["connector"] == "sim"));
    let (s, page) = r.get("/api/assets?limit=2&offset=1").await;
    assert_eq!(s, 200);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["next_offset"].as_u64(), Some(3));

    let (s, all) = r.get("/api/findings?limit=5000").await;
    assert_eq!(s, 200);
    let all = all["items"].as_array().expect("items").clone();
    assert!(all.len() >= 100);
    assert!(all[0]["severity"].is_string() && all[0]["status"].is_string());
    // Risk and KEV, as the CLI's --json has them (the API's views left them out).
    let stored = r
        .runner
        .store
        .findings(&store::ListQuery::default())
        .expect("findings");
    for f in &all {
        let id = f["id"].as_i64().expect("id");
        let s = stored.iter().find(|s| s.id == id).expect("stored");
        assert_eq!(f["risk"].as_u64(), Some(u64::from(s.risk)), "{f}");
        assert_eq!(f["kev"].as_bool(), Some(s.kev), "{f}");
    }
    assert!(items.iter().all(|a| a["risk"].is_u64()), "{assets}");

    // The query language narrows and sorts.
    let (s, high) = r
        .get("/api/findings?limit=5000&filter=severity%3E%3Dhigh")
        .await;
    assert_eq!(s, 200, "{high}");
    let high = high["items"].as_array().expect("items");
    let expected = all
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("High" | "Critical")))
        .count();
    assert_eq!(high.len(), expected);
    assert!(high.len() < all.len());
    let (s, sorted) = r.get("/api/findings?limit=10&sort=name:asc").await;
    assert_eq!(s, 200, "{sorted}");
    let names: Vec<&str> = sorted["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
    // Paging by cursor walks the same rows as one listing, sorted or not; the cursor
    // continues only its own sort, and not together with an offset.
    for sort in ["", "&sort=name:asc,-cvss"] {
        let (_, whole) = r.get(&format!("/api/findings?limit=5000{sort}")).await;
        let whole: Vec<&Value> = whole["items"].as_array().expect("items").iter().collect();
        let ids = |items: &[&Value]| -> Vec<i64> {
            items.iter().filter_map(|f| f["id"].as_i64()).collect()
        };
        let (mut paged, mut cursor) = (Vec::new(), String::new());
        for _ in 0..100 {
            let (s, page) = r
                .get(&format!("/api/findings?limit=30{sort}{cursor}"))
                .await;
            assert_eq!(s, 200, "{page}");
            paged.extend(
                page["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .filter_map(|f| f["id"].as_i64()),
            );
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(paged, ids(&whole), "sort {sort:?}");
    }
    let (_, first) = r.get("/api/findings?limit=3").await;
    assert_eq!(first["next_offset"].as_u64(), Some(3), "{first}");
    let next = first["next_cursor"]
        .as_str()
        .expect("a full page has a cursor")
        .to_string();
    let (s, second) = r.get(&format!("/api/findings?limit=3&cursor={next}")).await;
    assert_eq!(s, 200, "{second}");
    assert!(second["next_offset"].is_null(), "{second}");
    for bad in [
        format!("/api/findings?limit=3&sort=risk&cursor={next}"),
        format!("/api/findings?limit=3&offset=3&cursor={next}"),
        format!("/api/assets?cursor={next}"),
        "/api/findings?cursor=bm90LWEtY3Vyc29y".to_string(),
    ] {
        let (s, b) = r.get(&bad).await;
        assert_error(s, &b, 400);
        assert_eq!(b["detail"]["parameter"], "cursor", "{bad}: {b}");
    }
    let (s, b) = r.get("/api/findings?filter=severity%3E%3Dhgh").await;
    assert_error(s, &b, 400);
    assert!(b["detail"]["column"].as_u64().is_some(), "{b}");
    let (s, b) = r.get("/api/findings?sort=nosuchfield").await;
    assert_error(s, &b, 400);
    let (s, b) = r.get("/api/findings?limit=0").await;
    assert_error(s, &b, 400);
    let (s, b) = r.get("/api/findings?limit=999999").await;
    assert_error(s, &b, 400);
    // A value of the wrong kind says which parameter and what it takes, not serde's
    // "Failed to deserialize query string: offset: invalid digit found in string".
    for (path, parameter, message) in [
        (
            "/api/findings?offset=abc",
            "offset",
            "offset: expected a whole number, got 'abc'",
        ),
        (
            "/api/assets?limit=x&offset=1",
            "limit",
            "limit: expected a whole number, got 'x'",
        ),
        (
            "/api/findings?limit=-1",
            "limit",
            "limit: expected a whole number, got '-1'",
        ),
        (
            "/api/connectors/sim/runs?limit=ten",
            "limit",
            "limit: expected a whole number, got 'ten'",
        ),
    ] {
        let (s, b) = r.get(path).await;
        assert_error(s, &b, 400);
        assert_eq!(
            b["error"],
            format!("invalid query parameter {message}"),
            "{path}: {b}"
        );
        assert_eq!(b["detail"]["parameter"], parameter, "{path}: {b}");
        assert_eq!(b["detail"]["message"], message, "{path}: {b}");
    }
    let (s, b) = r.get("/api/findings?bogus=1").await;
    assert_error(s, &b, 400);
    assert!(
        b["error"]
            .as_str()
            .is_some_and(|e| e.contains("bogus: unknown parameter, expected one of `connector`")),
        "{b}"
    );
    let page = r
        .http
        .get(r.url("/?offset=abc"))
        .send()
        .await
        .expect("dashboard");
    assert_eq!(page.status().as_u16(), 400);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("offset: expected a whole number, got"),
        "the page says which parameter and what it takes: {html}"
    );
    let (s, b) = r.get("/api/assets?filter=(").await;
    assert_error(s, &b, 400);
    // Reads need no token: a filter nested 3,000 deep overflowed the parser's stack and
    // took the server down, and a thousand `or`s came back 500 from the database. Both
    // are the caller's mistake, told where, and the server goes on.
    let deep = format!("{}id%3A1{}", "(".repeat(3_000), ")".repeat(3_000));
    for path in ["/api/findings", "/api/assets"] {
        let (s, b) = r.get(&format!("{path}?filter={deep}")).await;
        assert_error(s, &b, 400);
    }
    let page = r
        .http
        .get(r.url(&format!("/?filter={deep}")))
        .send()
        .await
        .expect("dashboard");
    assert_eq!(page.status().as_u16(), 200, "the page shows the mistake");
    let html = page.text().await.expect("html");
    assert!(html.contains("nest more than 32 deep"), "{html}");
    let ors: Vec<String> = (0..1_000).map(|i| format!("id%3A{i}")).collect();
    let (s, b) = r
        .get(&format!("/api/findings?filter={}", ors.join("%20or%20")))
        .await;
    assert_error(s, &b, 400);
    assert!(b["detail"]["column"].as_u64().is_some(), "{b}");
    // A date offset past chrono's range panicked inside the handler: no answer at all.
    for path in ["/api/findings?", "/api/assets?", "/api/export?format=csv&"] {
        let (s, b) = r
            .get(&format!("{path}filter=lastSeen%3E-99999999999d"))
            .await;
        assert_error(s, &b, 400);
        assert!(
            b["error"].as_str().unwrap_or("").contains("too far back"),
            "{path}: {b}"
        );
    }
    let (s, _) = r.get("/healthz").await;
    assert_eq!(s, 200, "still serving");

    // Finding detail with history.
    let changed = all
        .iter()
        .find_map(|f| {
            let id = f["id"].as_i64()?;
            let h = r.runner.store.finding_history(id).ok()?;
            (h.len() > 1).then_some(id)
        })
        .expect("a finding whose status changed");
    let (s, f) = r.get(&format!("/api/findings/{changed}")).await;
    assert_eq!(s, 200);
    assert_eq!(f["id"].as_i64(), Some(changed));
    assert!(f["name"].is_string());
    assert!(f["history"].as_array().is_some_and(|h| h.len() > 1), "{f}");
    let (s, b) = r.get("/api/findings/99999999").await;
    assert_error(s, &b, 404);
    let (s, b) = r.get("/api/findings/abc").await;
    assert_error(s, &b, 400);

    // Summary and the open-findings series.
    let (s, sum) = r.get("/api/summary").await;
    assert_eq!(s, 200);
    assert_eq!(sum["findings"].as_u64(), Some(all.len() as u64));
    let by_sev: u64 = sum["by_severity"]
        .as_object()
        .expect("by_severity")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(by_sev, all.len() as u64);
    assert_eq!(sum["by_severity"].as_object().map(|m| m.len()), Some(5));
    let open = all
        .iter()
        .filter(|f| matches!(f["status"].as_str(), Some("NEW" | "ACTIVE" | "REOPENED")))
        .count() as u64;
    assert_eq!(sum["open"].as_u64(), Some(open));
    // An empty connector= (a form's empty field) means every connector.
    let (s, b) = r.get("/api/summary?connector=").await;
    assert_eq!(
        (s, b["findings"].as_u64()),
        (200, Some(all.len() as u64)),
        "{b}"
    );
    let (s, b) = r.get("/api/findings?connector=&limit=1").await;
    assert_eq!(
        (s, b["items"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{b}"
    );
    // A mistyped connector is a 404 that names it, not an empty answer.
    for path in [
        "/api/summary?connector=nope",
        "/api/summary/open?connector=nope",
        "/api/findings?connector=nope",
        "/api/assets?connector=nope",
        "/api/export?format=csv&connector=nope",
    ] {
        let (s, b) = r.get(path).await;
        assert_eq!(s, 404, "{path}: {b}");
        assert!(
            b["error"].as_str().is_some_and(|e| e.contains("'nope'")),
            "{path}: {b}"
        );
    }
    let (s, series) = r.get("/api/summary/open").await;
    assert_eq!(s, 200);
    let series = series.as_array().expect("series");
    assert_eq!(series.len(), 2, "{series:?}");
    assert_eq!(series[1]["open"].as_u64(), Some(open));

    // Metrics: runs, records, AppScan requests by status, gauges from the store.
    let res = r.http.get(r.url("/metrics")).send().await.expect("GET");
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/plain"))
    );
    let text = res.text().await.expect("text");
    for want in [
        "appscan_bridge_runs_total{connector=\"sim\",outcome=\"processed\"} 2",
        "appscan_bridge_appscan_requests_total{connector=\"sim\",status=\"200\"}",
        "appscan_bridge_records_fetched_total{connector=\"sim\"}",
        "appscan_bridge_records_stored_total{connector=\"sim\"}",
        "appscan_bridge_appscan_retries_total{connector=\"sim\"} 0",
        "appscan_bridge_rate_limit_waits_total{connector=\"sim\"} 0",
        "appscan_bridge_run_duration_seconds_count{connector=\"sim\"} 2",
        &format!(
            "appscan_bridge_findings_by_status{{status=\"NEW\"}} {}",
            sum["by_status"]["NEW"]
        ),
        &format!(
            "appscan_bridge_findings_by_severity{{severity=\"High\"}} {}",
            sum["by_severity"]["High"]
        ),
        "appscan_bridge_http_requests_total{method=\"GET\",route=\"/api/findings\",status=\"200\"}",
    ] {
        assert!(text.contains(want), "metrics lack {want}:\n{text}");
    }
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_are_downloads_of_the_filtered_findings() {
    let mut r = rig(1, 30, None, None, clock()).await;
    let token = r.token("ci");
    r.sync(&token).await;
    let (_, all) = r.get("/api/findings?limit=5000").await;
    let all = all["items"].as_array().expect("items").len();
    let (_, high) = r
        .get("/api/findings?limit=5000&filter=severity%3E%3Dhigh")
        .await;
    let high = high["items"].as_array().expect("items").len();
    assert!(high > 0 && high < all, "{high} of {all}");

    let download = |path: &'static str| {
        let req = r.http.get(r.url(path));
        async move {
            let res = req.send().await.expect("GET");
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            (status, headers, res.text().await.expect("body"))
        }
    };
    // CSV: a header and one row per finding, as an attachment.
    let (s, h, body) = download("/api/export?format=csv").await;
    assert_eq!(s, 200, "{body}");
    assert!(
        h["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let disposition = h["content-disposition"].to_str().unwrap_or("");
    assert!(
        disposition.starts_with("attachment; filename=\"appscan-findings-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let mut csv = ::csv::Reader::from_reader(body.as_bytes());
    assert_eq!(csv.records().count(), all);
    // JSON lines with the query language: only the filtered findings.
    let (s, h, body) = download("/api/export?format=jsonl&filter=severity%3E%3Dhigh").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        h["x-findings"].to_str().ok(),
        Some(high.to_string().as_str())
    );
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), high);
    // SARIF and OCSF are valid JSON documents / lines; KDI of one application is one file.
    let (s, _, body) = download("/api/export?format=sarif&connector=sim").await;
    assert_eq!(s, 200);
    let sarif: Value = serde_json::from_str(&body).expect("SARIF JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let (s, _, body) = download("/api/export?format=ocsf").await;
    assert_eq!(s, 200);
    assert_eq!(body.lines().count(), all);
    let (s, _, body) = download("/api/export?format=kdi").await;
    assert_eq!(s, 200, "{body}");
    let kdi: Value = serde_json::from_str(&body).expect("KDI JSON");
    assert!(kdi["assets"].is_array(), "{kdi}");
    // A KDI selection of no finding writes no file: 404 saying so (it was a 500).
    let (s, b) = r.get("/api/export?format=kdi&filter=app%3Anothing").await;
    assert_error(s, &b, 404);
    assert!(
        b["error"]
            .as_str()
            .unwrap_or_default()
            .contains("nothing matched"),
        "{b}"
    );

    // Bad input: 400 with a JSON body naming what is wrong.
    let (s, b) = r.get("/api/export").await;
    assert_error(s, &b, 400);
    assert_eq!(b["detail"]["parameter"], "format");
    let (s, b) = r.get("/api/export?format=xlsx").await;
    assert_error(s, &b, 400);
    let (s, b) = r.get("/api/export?format=csv&filter=severity%3E%3D").await;
    assert_error(s, &b, 400);
    assert_eq!(b["detail"]["parameter"], "filter");
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_runs_show_the_shared_queue() {
    let mut r = rig(1, 3, Some("1h"), None, clock()).await;
    let (s, empty) = r.get("/api/due-runs").await;
    assert_eq!(s, 200, "{empty}");
    assert_eq!(empty, serde_json::json!([]));
    let c = r.connector();
    let store = r.runner.store.clone();
    let now = chrono::Utc::now();
    store.enqueue_run(c.id, now, None).expect("enqueue");
    let claim = store
        .claim_due_run("w-test", chrono::Duration::seconds(60), now)
        .expect("claim")
        .expect("due");
    let (s, due) = r.get("/api/due-runs?connector=sim&limit=5").await;
    assert_eq!(s, 200, "{due}");
    assert_eq!(due[0]["connector"], "sim");
    assert_eq!(due[0]["state"], "claimed");
    assert_eq!(due[0]["worker"], "w-test");
    assert_eq!(due[0]["attempts"], 1);
    assert!(due[0]["lease_expires_at"].is_string());
    store
        .complete_claim(&claim, None, "skipped: test", now)
        .expect("complete");
    let (_, due) = r.get("/api/due-runs").await;
    assert_eq!(due[0]["state"], "done");
    assert_eq!(due[0]["outcome"], "skipped: test");

    let (s, b) = r.get("/api/due-runs?connector=nope").await;
    assert_error(s, &b, 404);
    let (s, b) = r.get("/api/due-runs?limit=0").await;
    assert_error(s, &b, 400);
    let (s, b) = r.get("/api/due-runs?bogus=1").await;
    assert_error(s, &b, 400);
    r.shutdown().await;
}
