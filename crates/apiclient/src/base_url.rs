//! The base URL of an AppScan server as both clients and connector registration accept
//! it: absolute, `http` or `https`, with a host.

use reqwest::Url;

/// What a URL without a scheme (`ase.example.com:9443`) or with another one is told.
const SCHEME: &str = "must start with https:// or http://";

/// Parses `raw` (trimmed) as an AppScan server's base URL; the error says why not.
pub fn parse(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => SCHEME.to_string(),
        other => other.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SCHEME.into());
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err("not a base URL with a host".into());
    }
    // A URL is shown in listings, logs and the dashboard; a password in it was shown
    // everywhere. AppScan logs in with the API key, never with URL credentials.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "holds a user name or password (user:pass@): AppScan logs in with the \
                    API key, and a URL is shown in listings and logs; take them out"
                .into(),
        );
    }
    Ok(url)
}

/// `raw` as messages show it: a password in it (`user:pass@host`) as `***`.
pub fn shown(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => raw.to_string(),
        Err(_) => unparsed_shown(raw),
    }
}

/// Text that is no URL as messages show it: what may be a password — from the first `:`
/// after `scheme://` to the last `@` — as `***`. A password holding a `/` or `?` makes
/// the URL unreadable (`http://u:pa/ss@host`: "invalid port number"), and the text was
/// echoed whole in that error.
fn unparsed_shown(raw: &str) -> String {
    let Some(start) = raw.find("://").map(|i| i + 3) else {
        return raw.to_string();
    };
    let (Some(colon), Some(at)) = (raw[start..].find(':'), raw.rfind('@')) else {
        return raw.to_string();
    };
    let colon = start + colon;
    if colon >= at {
        return raw.to_string();
    }
    format!("{}:***{}", &raw[..colon], &raw[at..])
}

#[cfg(test)]
mod tests {
    use super::{SCHEME, parse, shown};

    #[test]
    fn http_and_https_with_a_host_only() {
        assert!(parse(" https://cloud.appscan.com ").is_ok());
        assert!(parse("http://127.0.0.1:9443/ase").is_ok());
        // A forgotten scheme: parsed as a scheme `ase.example.com` or as a path.
        assert_eq!(parse("ase.example.com:9443").unwrap_err(), SCHEME);
        assert_eq!(parse("cloud.appscan.com").unwrap_err(), SCHEME);
        assert_eq!(parse("ftp://x").unwrap_err(), SCHEME);
        assert_eq!(parse("http:").unwrap_err(), "empty host");
        for with_credentials in ["http://user:URLPASS@127.0.0.1:9", "https://user@h"] {
            let err = parse(with_credentials).unwrap_err();
            assert!(err.contains("user name or password"), "{err}");
            assert!(!err.contains("URLPASS"), "{err}");
            assert!(!shown(with_credentials).contains("URLPASS"));
        }
        // A password with a `/` or `?` makes the URL unreadable; the error shows it hidden.
        for unreadable in ["http://u:URL/PASS@127.0.0.1:9", "http://u:URL?PASS@h:9/x"] {
            assert!(parse(unreadable).is_err());
            assert_eq!(shown(unreadable).matches("URL").count(), 0, "{unreadable}");
        }
        assert_eq!(shown("http://u:a/b@h:9"), "http://u:***@h:9");
        assert_eq!(shown("not a url"), "not a url");
    }
}
