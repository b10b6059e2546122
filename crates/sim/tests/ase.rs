//! The ASE simulator on its own, over loopback: what it serves and how it refuses.

use serde_json::Value;
use sim::ase::{AseSim, AseSimConfig};

async fn started() -> sim::RunningAseSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    AseSim::start(
        AseSimConfig {
            apps: 2,
            issues_per_app: 30,
            ..AseSimConfig::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .expect("starts")
}

/// Logs `http` in; the session id.
async fn login(s: &sim::RunningAseSim, http: &reqwest::Client) -> String {
    let v: Value = http
        .post(format!("{}/ase/api/keylogin/apikeylogin", s.base_url()))
        .json(&serde_json::json!({"keyId": "ase-key-id", "keySecret": "ase-key-secret-0123456789"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    v["sessionId"].as_str().expect("id").to_string()
}

async fn logged_in() -> (sim::RunningAseSim, reqwest::Client, String) {
    let s = started().await;
    let http = reqwest::Client::new();
    let id = login(&s, &http).await;
    (s, http, id)
}

/// A client that keeps the cookies the server sets, as a `requests` session does
/// (pyappscan, the spec's real ASE client), stays logged in: the session cookie was
/// `Secure` over plain HTTP, so such a client never sent it and every call was 401.
#[tokio::test]
async fn a_cookie_keeping_client_stays_logged_in() {
    let s = started().await;
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let id = login(&s, &http).await;
    let r = http
        .get(format!("{}/ase/api/applications", s.base_url()))
        .header("asc_xsrf_token", id)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200, "the jar sent the session cookie");
}

fn get(http: &reqwest::Client, id: &str, url: String) -> reqwest::RequestBuilder {
    http.get(url)
        .header("Cookie", format!("asc_session_id={id}"))
        .header("asc_xsrf_token", id)
}

#[tokio::test]
async fn issues_by_display_name_with_ranges_and_escaped_values() {
    let (s, http, id) = logged_in().await;
    let h = s.handle();
    let app = &h.apps()[0];
    let name = app["name"].as_str().expect("name");
    let url = format!("{}/ase/api/issues", s.base_url());
    let q = [
        (
            "query",
            format!("Application Name={}", name.replace(',', "\\,")),
        ),
        ("compactResponse", "false".into()),
    ];
    let r = get(&http, &id, url.clone())
        .query(&q)
        .header("Range", "items=10-19")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-range"].to_str().expect("header"),
        "items 10-19/30"
    );
    let items: Vec<Value> = r.json().await.expect("json");
    assert_eq!(items.len(), 10);
    let i = &items[0];
    for key in [
        "Issue Type",
        "Severity",
        "Date Created",
        "Location",
        "Threat Class",
    ] {
        assert!(i.get(key).is_some(), "{key}: {i}");
    }
    assert!(i["Scan Name"].as_str().expect("scan").contains("&amp;"));
    // Past the end.
    let r = get(&http, &id, url.clone())
        .query(&q)
        .header("Range", "items=30-39")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 416);
    // An attribute the simulator does not filter on.
    let r = get(&http, &id, url)
        .query(&[("query", "Bogus=1")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    // Logout ends the session and is counted.
    let r = get(&http, &id, format!("{}/ase/api/logout", s.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(h.stats().logouts, 1);
    let r = get(&http, &id, format!("{}/ase/api/applications", s.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn data_can_be_removed_hidden_and_added() {
    let (s, _http, _id) = logged_in().await;
    let h = s.handle();
    assert_eq!(h.total_issues(), 60);
    let removed = h.remove_issues(3);
    assert_eq!(removed.len(), 6);
    let app = h.app_ids()[0];
    assert_eq!(h.add_issues(app, 2).len(), 2);
    assert_eq!(h.issues(app).len(), 29);
    h.set_apps_hidden(true);
    assert!(h.apps().is_empty());
}
