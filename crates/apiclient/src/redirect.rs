//! Which redirects the clients follow: within the server they were pointed at (and from
//! `http` to `https` on the same host), never to another server. A 307 or 308 repeats
//! the request with its body, so a login redirected elsewhere handed the key secret to
//! whoever the `Location` named (reqwest drops only the headers it knows are
//! sensitive).

use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};

/// How many redirects one request follows at most.
const MAX_REDIRECTS: usize = 10;

/// The redirect policy of both clients' HTTP clients.
pub fn policy() -> Policy {
    Policy::custom(decide)
}

fn decide(attempt: Attempt) -> reqwest::redirect::Action {
    let previous = attempt.previous();
    if previous.len() > MAX_REDIRECTS {
        return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
    }
    let Some(first) = previous.first() else {
        return attempt.follow();
    };
    if same_server(first, attempt.url()) {
        return attempt.follow();
    }
    let message = format!(
        "redirected to another server ({}); the key secret and session are not sent there: \
         if that is the AppScan server, make it the connector's URL",
        origin(attempt.url())
    );
    attempt.error(message)
}

/// The same scheme, host and port — or `http` upgraded to `https` on the same host.
fn same_server(from: &Url, to: &Url) -> bool {
    let upgrade = from.scheme() == "http" && to.scheme() == "https";
    from.host_str() == to.host_str()
        && (upgrade
            || (from.scheme() == to.scheme()
                && from.port_or_known_default() == to.port_or_known_default()))
}

/// `scheme://host:port` of a URL, without user info, path or query.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn only_the_same_server_or_its_https() {
        let from = url("http://appscan.example:9080/api/v4/Account/ApiKeyLogin");
        assert!(same_server(
            &from,
            &url("http://appscan.example:9080/other")
        ));
        assert!(same_server(&from, &url("https://appscan.example/api")));
        assert!(!same_server(&from, &url("http://appscan.example:9081/api")));
        assert!(!same_server(
            &from,
            &url("http://elsewhere.example:9080/api")
        ));
        let tls = url("https://appscan.example/api");
        assert!(
            !same_server(&tls, &url("http://appscan.example/api")),
            "no downgrade"
        );
        assert_eq!(
            origin(&url("https://u:p@elsewhere.example:8443/x?y")),
            "https://elsewhere.example:8443"
        );
    }
}
