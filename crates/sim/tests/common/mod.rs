//! Helpers shared by the integration tests: start a small simulator on a
//! loopback port, log in, and fetch JSON.
#![allow(dead_code)]

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use sim::{AsocSim, RunningSim, SimConfig};

/// A small, fast data set.
pub fn small() -> SimConfig {
    SimConfig {
        apps: 12,
        issues_per_app: 60,
        seed: 7,
        ..SimConfig::default()
    }
}

/// A reqwest client. reqwest is built with `rustls-no-provider`, and even a
/// plain-http client needs a process-wide crypto provider installed first.
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

pub async fn start(config: SimConfig) -> RunningSim {
    AsocSim::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start sim")
}

pub struct Api {
    pub base: String,
    pub client: Client,
    pub token: String,
}

pub async fn login_raw(client: &Client, base: &str, id: &str, secret: &str) -> Response {
    client
        .post(format!("{base}/api/v4/Account/ApiKeyLogin"))
        .json(&serde_json::json!({ "KeyId": id, "KeySecret": secret }))
        .send()
        .await
        .expect("login request")
}

impl Api {
    pub async fn login(sim: &RunningSim) -> Api {
        let client = client();
        let base = sim.base_url();
        let h = sim.handle();
        let resp = login_raw(&client, &base, &h.key_id(), &h.key_secret()).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.expect("login json");
        let token = body["Token"].as_str().expect("Token").to_string();
        Api {
            base,
            client,
            token,
        }
    }

    /// GET a path under /api/v4 with query pairs.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Response {
        self.client
            .get(format!("{}/api/v4/{path}", self.base))
            .bearer_auth(&self.token)
            .query(query)
            .send()
            .await
            .expect("request")
    }

    pub async fn json(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let r = self.get(path, query).await;
        let status = r.status();
        let text = r.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "{path} {query:?}: {text}");
        serde_json::from_str(&text).expect("json body")
    }

    pub async fn items(&self, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
        let v = self.json(path, query).await;
        v["Items"].as_array().expect("Items").clone()
    }

    /// Every item of a list, paging with $skip by `page`.
    pub async fn all(&self, path: &str, extra: &[(&str, &str)], page: usize) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let top = page.to_string();
            let skip = out.len().to_string();
            let mut q: Vec<(&str, &str)> = vec![("$top", &top), ("$skip", &skip)];
            q.extend_from_slice(extra);
            let items = self.items(path, &q).await;
            let n = items.len();
            out.extend(items);
            if n < page {
                return out;
            }
        }
    }
}

pub fn id(v: &Value) -> String {
    v["Id"].as_str().expect("Id").to_string()
}

/// The app with the most issues.
pub fn biggest_app(sim: &RunningSim) -> (String, usize) {
    sim.handle()
        .apps()
        .iter()
        .map(|a| {
            (
                id(a),
                a["TotalIssues"].as_u64().expect("TotalIssues") as usize,
            )
        })
        .max_by_key(|(_, n)| *n)
        .expect("an app")
}
