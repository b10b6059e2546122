//! `check NAME`: five checks, in order, that say exactly what is wrong with a connector.
//!
//! 1. Network reachability: DNS resolution and a TCP connect.
//! 2. TLS handshake: certificate problems named (expired, self-signed, wrong host).
//! 3. Authentication: the key login.
//! 4. Authorization scope: the key may list applications.
//! 5. Data fetch: one page of apps and of issues parses with the connector's map.
//!
//! A check that cannot run because an earlier one failed is skipped with the reason.
//! Checks 1–2 are the same for every kind; [`ase`] holds 3–5 for ASE connectors. A failed
//! login also asks which product answers at the URL ([`product`]).

mod ase;
mod product;
mod proxy;

use crate::settings::Settings;
use crate::sources::asoc::WithFilterOpt;
use crate::{Runner, RunnerError, maps};
use asoc::{AsocClient, AsocError, ClientConfig, ListQuery};
use futures::StreamExt;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Connector;

/// How one check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// One check's result: its outcome, a one-line reason and a hint when it failed.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    pub reason: String,
    pub hint: Option<String>,
    pub millis: u64,
}

/// The five checks' names, in order.
pub const CHECKS: [&str; 5] = [
    "Network reachability",
    "TLS handshake",
    "Authentication credential check",
    "Authorization scope check",
    "Data fetch",
];

/// How names are resolved: the system resolver, or a fixed table (tests, which must not
/// send DNS queries off this machine).
#[derive(Debug, Clone, Default)]
pub enum Resolver {
    #[default]
    System,
    Static(HashMap<String, Vec<IpAddr>>),
}

impl Resolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        match self {
            Resolver::System => Ok(tokio::net::lookup_host((host, port)).await?.collect()),
            Resolver::Static(table) => table
                .get(host)
                .map(|ips| ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such host")),
        }
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The checks so far, and the name of the connector checked.
struct Checks(Vec<Check>, String);

/// A hint's command for the connector checked, as it can be run: `connector rotate-key
/// NAME` and `connector edit NAME …` with its name (they said NAME).
fn with_name(hint: &str, name: &str) -> String {
    ["connector rotate-key", "connector edit"]
        .iter()
        .fold(hint.to_string(), |h, command| {
            h.replace(&format!("`{command} NAME"), &format!("`{command} {name}"))
        })
}

impl Checks {
    fn push(
        &mut self,
        started: Instant,
        outcome: Outcome,
        reason: impl Into<String>,
        hint: Option<&str>,
    ) {
        let name = CHECKS[self.0.len()];
        self.0.push(Check {
            name,
            outcome,
            reason: reason.into(),
            hint: hint.map(|h| with_name(h, &self.1)),
            millis: started.elapsed().as_millis() as u64,
        });
    }
    fn skip_rest(&mut self, because: &str) {
        while self.0.len() < CHECKS.len() {
            self.push(
                Instant::now(),
                Outcome::Skipped,
                format!("skipped: {because}"),
                None,
            );
        }
    }
}

impl Runner {
    /// Runs the five checks for a connector.
    pub async fn check(&self, name: &str, resolver: &Resolver) -> Result<Vec<Check>, RunnerError> {
        let connector = self.connector(name)?;
        let settings = Settings::from_json(&connector.settings).map_err(RunnerError::Config)?;
        if let Some(why) = crate::connectors::import_only(&connector.kind, &connector.name) {
            // No server to reach; what can be checked is a report, by reading it.
            return Err(RunnerError::Unsupported(format!(
                "{why}; there is no server to check (`import FILE --connector {} --dry-run` reads a report without storing it)",
                connector.name
            )));
        }
        let mut checks = Checks(Vec::new(), connector.name.clone());
        let Some(url) = connector
            .url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
        else {
            let t = Instant::now();
            checks.push(
                t,
                Outcome::Failed,
                format!("'{}' is not a URL", connector.url.as_deref().unwrap_or("")),
                Some("set it with `connector edit NAME --url https://host`"),
            );
            checks.skip_rest("the connector has no usable URL");
            return Ok(checks.0);
        };
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(443);

        // 1. Network reachability: of the server, or of the proxy the environment puts in
        // front of it (the path the syncs take).
        let proxy = apiclient::proxy::for_url(url.as_str());
        let (to_host, to_port) = match &proxy {
            Some(p) => (p.host.clone(), p.port),
            None => (host.clone(), port),
        };
        let t = Instant::now();
        let addrs = match resolver.resolve(&to_host, to_port).await {
            Ok(a) if !a.is_empty() => a,
            _ => {
                let (reason, hint) = match &proxy {
                    Some(p) => (
                        format!("Unknown Host: {to_host}, the host of {}", p.shown()),
                        proxy::fix(p, &host),
                    ),
                    None => (
                        format!("Unknown Host: {host}"),
                        "check the host name in the connector's URL and this machine's DNS"
                            .to_string(),
                    ),
                };
                checks.push(t, Outcome::Failed, reason, Some(&hint));
                checks.skip_rest("network reachability failed");
                return Ok(checks.0);
            }
        };
        let stream = match connect(&addrs).await {
            Ok(s) => s,
            Err(e) => {
                let (mut reason, mut hint) = match e.kind() {
                    std::io::ErrorKind::ConnectionRefused => (
                        format!("Connection refused: nothing listens on {to_host}:{to_port}"),
                        "check the port in the URL and that the service is running".to_string(),
                    ),
                    std::io::ErrorKind::TimedOut => (
                        format!(
                            "No answer from {to_host}:{to_port} within {} s",
                            CONNECT_TIMEOUT.as_secs()
                        ),
                        "a firewall or proxy may drop the traffic".to_string(),
                    ),
                    _ => (
                        format!("Cannot connect to {to_host}:{to_port}: {e}"),
                        "check the network path".to_string(),
                    ),
                };
                if let Some(p) = &proxy {
                    reason = format!("{reason}, which is {}", p.shown());
                    hint = proxy::fix(p, &host);
                }
                checks.push(t, Outcome::Failed, reason, Some(&hint));
                checks.skip_rest("network reachability failed");
                return Ok(checks.0);
            }
        };
        let reached = match &proxy {
            Some(p) => format!(
                "{} accepts connections; {host} is reached through it",
                p.shown()
            ),
            None => format!("{host} resolves and {host}:{port} accepts connections"),
        };
        checks.push(t, Outcome::Passed, reached, None);

        // 2. TLS handshake (through the proxy's tunnel when there is one).
        let t = Instant::now();
        let stream = match &proxy {
            Some(p) if url.scheme() == "https" && p.socks => {
                checks.push(
                    t,
                    Outcome::Skipped,
                    format!(
                        "skipped: {host} is reached through a SOCKS proxy ({}); the login \
                         below goes through it",
                        p.shown()
                    ),
                    None,
                );
                None
            }
            Some(p) if url.scheme() == "https" => match proxy::tunnel(stream, &host, port, p).await
            {
                Ok(s) => Some(s),
                Err((reason, hint)) => {
                    checks.push(t, Outcome::Failed, reason, Some(&hint));
                    checks.skip_rest("the proxy did not open a tunnel to the server");
                    return Ok(checks.0);
                }
            },
            _ => Some(stream),
        };
        match (url.scheme() == "https", stream) {
            (true, Some(stream)) => {
                match tls_handshake(stream, &host, settings.ca_file.as_deref()).await {
                    Ok(()) => checks.push(
                        t,
                        Outcome::Passed,
                        "the certificate is valid and trusted",
                        None,
                    ),
                    Err((reason, hint)) => {
                        checks.push(t, Outcome::Failed, reason, Some(&hint));
                        checks.skip_rest("the TLS handshake failed");
                        return Ok(checks.0);
                    }
                }
            }
            // Through a SOCKS proxy: said above.
            (true, None) => {}
            (false, _) => checks.push(
                t,
                Outcome::Skipped,
                "skipped: the URL is plain http, there is no TLS to check",
                Some("use https for a real tenant"),
            ),
        }

        if connector.kind == "ase" {
            ase::checks(self, &connector, &settings, url.as_str(), &mut checks).await?;
            return Ok(checks.0);
        }

        // 3. Authentication.
        let t = Instant::now();
        let Some(secret) = self.open_secret(&connector)? else {
            checks.push(
                t,
                Outcome::Failed,
                "the connector has no key secret",
                Some("set one with `connector rotate-key NAME`"),
            );
            checks.skip_rest("authentication failed");
            return Ok(checks.0);
        };
        let mut cfg = ClientConfig::new(
            url.as_str(),
            connector.key_id.clone().unwrap_or_default(),
            secret,
        );
        cfg.max_retries = 1;
        cfg.retry_base_delay = Duration::from_millis(200);
        cfg.rate_limit_per_minute = 0;
        cfg.timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        cfg.ca_file = settings.ca_file.as_ref().map(Into::into);
        cfg.page_size = settings.page_size;
        let client = match AsocClient::new(cfg) {
            Ok(c) => c,
            Err(e) => {
                checks.push(
                    t,
                    Outcome::Failed,
                    e.to_string(),
                    Some("fix the connector's settings"),
                );
                checks.skip_rest("the client could not be configured");
                return Ok(checks.0);
            }
        };
        if let Err(e) = client.login().await {
            let (reason, hint) = match &e {
                AsocError::Auth { status: 401, .. } => (
                    "401: the key id or key secret is wrong, or the key was revoked or regenerated"
                        .to_string(),
                    "create a new API key in AppScan and run `connector rotate-key NAME`",
                ),
                AsocError::Auth { status, message } => (
                    format!("{status}: the login was refused: {message}"),
                    "check the key in AppScan's API key page",
                ),
                other => (other.to_string(), "see the reason"),
            };
            // A key that is not wrong at all, for another product, fails the same way.
            let refused = match &e {
                AsocError::Auth { status, .. } => Some(*status),
                _ => None,
            };
            let found = product::asoc_login_at_ase(url.as_str(), &settings).await;
            let (reason, hint) = product::login_failure(reason, hint, refused, found);
            let (reason, hint) = proxy::at_login(proxy.as_ref(), e.status(), reason, hint);
            checks.push(t, Outcome::Failed, reason, Some(&hint));
            checks.skip_rest("authentication failed");
            return Ok(checks.0);
        }
        checks.push(
            t,
            Outcome::Passed,
            format!(
                "logged in with key id {}",
                connector.key_id.as_deref().unwrap_or("")
            ),
            None,
        );

        // 4. Authorization scope, over the applications the connector's filter selects
        // (a filter ASoC refuses fails every sync, so it fails the check).
        let t = Instant::now();
        let filter = crate::sources::asoc::app_filter(&settings);
        let query = ListQuery::all()
            .with_max_pages(1)
            .with_filter_opt(filter.clone());
        let first = std::pin::pin!(client.apps(query)).next().await;
        let apps = match first {
            Some(Ok(page)) => page,
            Some(Err(AsocError::Forbidden { endpoint, message })) => {
                checks.push(
                    t,
                    Outcome::Failed,
                    format!("403 on {endpoint}: the key may not list applications ({message})"),
                    Some("give the key's user the permission to view applications (e.g. a role with 'View applications' on the asset groups)"),
                );
                checks.skip_rest("the key lacks permission");
                client.logout().await;
                return Ok(checks.0);
            }
            Some(Err(e)) => {
                let hint = match (&filter, e.status()) {
                    (Some(f), Some(400)) => format!(
                        "ASoC refused the connector's app filter `{f}`: fix it with \
                         `connector edit {} --app-filter '...'` (OData, e.g. Name eq 'Shop'), \
                         or remove it with --app-filter ''",
                        connector.name
                    ),
                    _ => "see the reason".to_string(),
                };
                checks.push(t, Outcome::Failed, e.to_string(), Some(&hint));
                checks.skip_rest("listing applications failed");
                client.logout().await;
                return Ok(checks.0);
            }
            None => asoc::Page {
                app_id: None,
                skip: 0,
                count: Some(0),
                items: vec![],
                moved: None,
            },
        };
        // Only the first page is read: without the server's Count its items are a
        // lower bound, not the number (an empty page is the whole listing).
        let visible = match apps.count {
            Some(n) => format!("{n} visible"),
            None if apps.items.is_empty() => "0 visible".to_string(),
            None => format!(
                "at least {} visible: the server sent no count, and only the first page was read",
                apps.items.len()
            ),
        };
        checks.push(
            t,
            Outcome::Passed,
            match &filter {
                None => format!("the key may list applications ({visible})"),
                Some(f) => format!(
                    "the key may list applications ({visible} through the app filter `{f}`)"
                ),
            },
            None,
        );

        // 5. Data fetch.
        let t = Instant::now();
        let result = fetch_sample(&client, &apps, self, &settings, &connector).await;
        client.logout().await;
        match result {
            Ok(reason) => checks.push(t, Outcome::Passed, reason, None),
            Err((reason, hint)) => checks.push(t, Outcome::Failed, reason, Some(&hint)),
        }
        Ok(checks.0)
    }
}

async fn connect(addrs: &[SocketAddr]) -> std::io::Result<tokio::net::TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for a in addrs {
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(s)) => return Ok(s),
            Ok(Err(e)) => last = e,
            Err(_) => last = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
        }
    }
    Err(last)
}

/// A TLS handshake with the system's roots plus the connector's CA file.
async fn tls_handshake(
    stream: tokio::net::TcpStream,
    host: &str,
    ca_file: Option<&str>,
) -> Result<(), (String, String)> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<_, _>>())
            .map_err(|e| {
                (
                    format!("cannot read the CA file {path}: {e}"),
                    "give a PEM file".to_string(),
                )
            })?;
        for c in certs {
            roots.add(c).map_err(|e| {
                (
                    format!("the CA file {path} holds an unusable certificate: {e}"),
                    "give a PEM CA certificate".to_string(),
                )
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| (format!("TLS setup: {e}"), String::new()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string()).map_err(|e| {
        (
            format!("'{host}' is not a valid TLS server name: {e}"),
            "fix the URL".to_string(),
        )
    })?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, stream)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(describe_tls(&e, host)),
        Err(_) => Err((
            "the TLS handshake timed out".into(),
            "the port may not speak TLS; check the scheme and port".into(),
        )),
    }
}

fn describe_tls(e: &std::io::Error, host: &str) -> (String, String) {
    match rustls_in(e) {
        Some(inner) => describe_rustls(inner, Some(host)),
        None => (
            format!("TLS handshake failed: {e}"),
            "check that the port speaks TLS".into(),
        ),
    }
}

/// A failed run's reason: the error, and what it means and what to do where that is
/// known — TLS refusals in `check`'s words (a run said only
/// "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))"), a refused
/// connection, a rate limit that outlasted the retries, a server too slow to answer.
pub fn run_failure(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(tls) = rustls_in(c) {
            let (what, fix) = describe_rustls(tls, None);
            return format!("{e} ({what}; {fix})");
        }
        if let Some(advice) = failure_advice(c) {
            return format!("{e} ({advice})");
        }
        cause = c.source();
    }
    e.to_string()
}

/// What to do about a failure a connector's settings or its server can fix.
fn failure_advice(e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    const RATE_LIMITED: &str = "the server kept answering 429 Too Many Requests past the \
        retries: lower the connector's --concurrency or --rate-limit (requests a minute), \
        or allow more --max-retries";
    const TOO_SLOW: &str = "the server did not answer in time: raise the connector's \
        --timeout-seconds, or lower --page-size for smaller pages";
    if let Some(io) = e.downcast_ref::<std::io::Error>()
        && io.kind() == std::io::ErrorKind::ConnectionRefused
    {
        return Some(
            "nothing accepts connections at that address: check the host and port in the \
             connector's URL and that the service is running",
        );
    }
    match (
        e.downcast_ref::<asoc::AsocError>(),
        e.downcast_ref::<::ase::AseError>(),
    ) {
        (Some(asoc::AsocError::Timeout { .. }), _) | (_, Some(::ase::AseError::Timeout { .. })) => {
            Some(TOO_SLOW)
        }
        (Some(a), _) if a.status() == Some(429) => Some(RATE_LIMITED),
        (_, Some(a)) if a.status() == Some(429) => Some(RATE_LIMITED),
        _ => None,
    }
}

/// The TLS error `e` is or wraps in io::Errors (whose source() skips what they wrap;
/// hyper wraps rustls's error in two).
fn rustls_in<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_in(inner)
}

/// What a TLS refusal means and what to do about it; `host` is the name connected to.
fn describe_rustls(inner: &rustls::Error, host: Option<&str>) -> (String, String) {
    use rustls::CertificateError as C;
    let ca_hint = "trust the server's CA with `connector edit NAME --ca-file ca.pem`".to_string();
    match inner {
        rustls::Error::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => (
                "certificate expired".into(),
                "renew the server's certificate".into(),
            ),
            C::NotValidYet | C::NotValidYetContext { .. } => (
                "certificate is not valid yet (check the clocks)".into(),
                "check this machine's and the server's clocks".into(),
            ),
            C::UnknownIssuer => (
                "self-signed certificate or unknown certificate authority".into(),
                ca_hint,
            ),
            C::NotValidForName | C::NotValidForNameContext { .. } => (
                match host {
                    Some(host) => {
                        format!("certificate is not valid for the host name '{host}' (wrong host)")
                    }
                    None => "certificate is not valid for the URL's host name (wrong host)".into(),
                },
                "use the host name the certificate was issued for".into(),
            ),
            C::Revoked => (
                "certificate revoked".into(),
                "replace the server's certificate".into(),
            ),
            // OpenSSL's `req -x509` makes a CA certificate by default; TLS libraries refuse
            // a CA certificate as a server's own one, trusted or not.
            other if format!("{other:?}").contains("CaUsedAsEndEntity") => (
                "the server's certificate is itself a CA certificate (basicConstraints CA:TRUE, \
                 as `openssl req -x509` makes by default), which is refused as a server's own \
                 certificate even when trusted"
                    .into(),
                "give the server a certificate signed by a CA (CA:FALSE, with the host in \
                 subjectAltName) and trust that CA with `connector edit NAME --ca-file ca.pem`"
                    .into(),
            ),
            other => (format!("certificate rejected: {other:?}"), ca_hint),
        },
        other => (
            format!("TLS handshake failed: {other}"),
            "check that the port speaks TLS".into(),
        ),
    }
}

/// One page of apps and one page of issues of the first app, mapped.
async fn fetch_sample(
    client: &AsocClient,
    apps: &asoc::Page,
    runner: &Runner,
    settings: &Settings,
    connector: &Connector,
) -> Result<String, (String, String)> {
    let map = maps::load(runner.store.as_ref(), &settings.map)
        .map_err(|e| (e.to_string(), "fix or reassign the map".to_string()))?;
    let mut failures = Vec::new();
    for (i, raw) in apps.items.iter().enumerate() {
        if let Err(e) = map.apply_asset(raw) {
            failures.push(format!(
                "GET /api/v4/Apps $.Items[{i}]{}: {}",
                e.path.trim_start_matches('$'),
                e.message
            ));
        }
    }
    let mut issues = 0usize;
    if let Some(app) = apps
        .items
        .iter()
        .find_map(|a| a.get("Id").and_then(|v| v.as_str()))
    {
        match std::pin::pin!(client.issues(app, ListQuery::all().with_max_pages(1)))
            .next()
            .await
        {
            Some(Ok(page)) => {
                issues = page.items.len();
                for (i, raw) in page.items.iter().enumerate() {
                    if let Err(e) = map.apply_finding(raw, app) {
                        failures.push(format!(
                            "GET /api/v4/Issues/Application/{app} $.Items[{i}]{}: {}",
                            e.path.trim_start_matches('$'),
                            e.message
                        ));
                    }
                }
            }
            Some(Err(e)) => {
                return Err((e.to_string(), "the issue listing is not readable".into()));
            }
            None => {}
        }
    }
    let total = apps.items.len() + issues;
    if failures.is_empty() {
        Ok(format!(
            "{} apps and {issues} issues fetched; all parse with map '{}'",
            apps.items.len(),
            settings.map
        ))
    } else {
        Err((
            format!(
                "{} of {total} records do not parse with map '{}'; first: {}",
                failures.len(),
                settings.map,
                failures[0]
            ),
            format!(
                "fix the map (`map show {}`) or see `appscan-bridge check {} --json` for every failure",
                settings.map, connector.name
            ),
        ))
    }
}
