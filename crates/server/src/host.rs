//! Which `Host` a request may name. Reads need no token, which is safe on loopback only
//! while nothing else can reach it, and a web page can: through DNS rebinding, a site's
//! name resolves to 127.0.0.1 after the page has loaded, and the browser then lets the
//! page read this server's answers as its own site's (findings, exports). Its requests
//! carry the site's name as `Host`, so a server on loopback answers only to loopback
//! names and addresses, and to the names `--allowed-host` adds (a proxy in front). A
//! server on another address checks only when names are given. Health checks and
//! metrics, which hold no finding, answer any name (probes and scrapers name the
//! address they were given).

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::error::ApiError;

/// The names and addresses a request's `Host` may give.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// Extra names (lower case), from `--allowed-host`.
    names: Vec<String>,
    /// Whether loopback names and addresses are taken (a server bound to loopback).
    loopback: bool,
    /// Whether anything is checked.
    enforced: bool,
}

impl AllowedHosts {
    /// For a server listening on `addr`, with `extra` names allowed.
    pub fn new(addr: SocketAddr, extra: &[String]) -> AllowedHosts {
        let loopback = addr.ip().is_loopback();
        AllowedHosts {
            names: extra
                .iter()
                .map(|n| n.trim().to_ascii_lowercase())
                .collect(),
            loopback,
            enforced: loopback || !extra.is_empty(),
        }
    }

    /// Whether a request naming `host` (a `Host` header's value) is answered.
    pub fn allows(&self, host: &str) -> bool {
        if !self.enforced {
            return true;
        }
        let name = host_name(host).to_ascii_lowercase();
        if self.names.contains(&name) {
            return true;
        }
        self.loopback
            && (name == "localhost"
                || name.ends_with(".localhost")
                || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
    }
}

/// The name of a `Host` value without its port: `[::1]:8787` → `::1`, `a:80` → `a`.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The paths any `Host` may ask for: they hold no finding.
const OPEN_PATHS: &[&str] = &["/healthz", "/readyz", "/metrics"];

/// Answers 403 to a request whose `Host` the server does not answer to. A request
/// without one (HTTP/1.0, a tool) is no browser's, and is answered.
pub async fn check(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("?"));
    let open = OPEN_PATHS.contains(&request.uri().path());
    match host {
        Some(h) if !open && !allowed.allows(h) => ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this server does not answer to the host name '{h}'"),
            json!(
                "on loopback it answers to localhost and loopback addresses only, so that a web \
                 page cannot read it through DNS rebinding; behind a proxy that passes another \
                 Host, start serve with --allowed-host NAME"
            ),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_answers_to_loopback_names_only() {
        let on = |addr: &str, extra: &[&str]| {
            let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            AllowedHosts::new(addr.parse().expect("addr"), &extra)
        };
        let local = on("127.0.0.1:8787", &[]);
        for ok in [
            "localhost",
            "localhost:8787",
            "LOCALHOST:1",
            "127.0.0.1:8787",
            "127.0.0.2",
            "[::1]:8787",
            "app.localhost:8787",
        ] {
            assert!(local.allows(ok), "{ok}");
        }
        for refused in [
            "attacker.example:8787",
            "attacker.example",
            "10.0.0.5:8787",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "?",
        ] {
            assert!(!local.allows(refused), "{refused}");
        }
        let proxied = on("127.0.0.1:8787", &["Bridge.Corp.Example"]);
        assert!(proxied.allows("bridge.corp.example:443"));
        assert!(proxied.allows("localhost"));
        // Another address: checked only when names are given.
        assert!(on("0.0.0.0:8787", &[]).allows("anything.example"));
        let named = on("0.0.0.0:8787", &["bridge.corp.example"]);
        assert!(named.allows("bridge.corp.example"));
        assert!(!named.allows("attacker.example"));
    }
}
