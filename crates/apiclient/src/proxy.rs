//! The proxy a request to a URL goes through, as the HTTP client picks it from the
//! environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, read as curl reads
//! them): `check` tests the path the syncs take, and names the proxy when the proxy is
//! what fails.

use hyper_util::client::proxy::matcher::Matcher;

/// A proxy that requests to some URL go through.
pub struct Proxy {
    /// `scheme://host:port`, without the credentials the variable may hold.
    pub url: String,
    pub host: String,
    pub port: u16,
    /// The variable it comes from.
    pub var: &'static str,
    /// A SOCKS proxy (no HTTP `CONNECT` to try).
    pub socks: bool,
    /// `Proxy-Authorization` for a `CONNECT` (`Basic …`), when the variable holds
    /// credentials.
    authorization: Option<String>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.url)
            .field("var", &self.var)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// The `Proxy-Authorization` value to send with a `CONNECT`.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// How messages name it: "the proxy http://proxy:3128 (from $HTTPS_PROXY)".
    pub fn shown(&self) -> String {
        format!("the proxy {} (from ${})", self.url, self.var)
    }
}

/// The variables a proxy for `scheme` is read from, in the order they are looked at:
/// the scheme's own (`HTTP_PROXY` only outside CGI, as the client reads it), then
/// `ALL_PROXY`.
fn variables(scheme: &str) -> &'static [&'static str] {
    let cgi = std::env::var_os("REQUEST_METHOD").is_some();
    match scheme {
        "https" => &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"],
        "http" if cgi => &["http_proxy", "ALL_PROXY", "all_proxy"],
        "http" => &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"],
        _ => &[],
    }
}

/// The proxy the environment sends requests to `url` through; `None` when they go
/// directly (no proxy set, `NO_PROXY` names the host, or not an http(s) URL).
pub fn for_url(url: &str) -> Option<Proxy> {
    let uri: http::Uri = url.parse().ok()?;
    let intercept = Matcher::from_env().intercept(&uri)?;
    let proxy = intercept.uri();
    let scheme = proxy.scheme_str().unwrap_or("http");
    let socks = scheme.starts_with("socks");
    let host = proxy.host()?.trim_matches(['[', ']']).to_string();
    let port = proxy.port_u16().unwrap_or(match scheme {
        "https" => 443,
        "http" => 80,
        _ => 1080,
    });
    // The first variable of the scheme's that is set is the one the matcher used.
    let var = variables(uri.scheme_str().unwrap_or_default())
        .iter()
        .find(|v| std::env::var(v).is_ok_and(|value| !value.trim().is_empty()))
        .copied()
        .unwrap_or("ALL_PROXY");
    Some(Proxy {
        url: format!("{scheme}://{}:{port}", proxy.host().unwrap_or_default()),
        host,
        port,
        var,
        socks,
        authorization: intercept
            .basic_auth()
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    })
}
