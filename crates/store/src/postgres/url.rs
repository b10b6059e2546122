//! Connection URLs: the parameters that are ours (`schema`, `pool_size`, and the TLS ones
//! the driver does not know, see `tls`) are taken out before the rest goes to the driver,
//! and the password is hidden wherever a URL is shown.
//!
//! Both forms the driver knows are accepted: `postgres://user:pass@host:port/db?k=v` and
//! `host=... user=... dbname=...`.

use super::tls::{self, Tls, TlsParams};
use crate::{Result, StoreError};
use postgres::Config;
use std::str::FromStr;

/// The connections a store opens at most when the URL does not say (`pool_size=N`).
pub const DEFAULT_POOL_SIZE: usize = 4;

/// How long opening a connection may take when the URL has no `connect_timeout`: the
/// TCP connection, TLS, startup and login together (see `pool`).
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A parsed connection URL.
pub struct PgUrl {
    pub config: Config,
    /// The schema to create if needed and to put first on every connection's search path.
    pub schema: Option<String>,
    pub pool_size: usize,
    /// How connections are encrypted.
    pub tls: Tls,
    /// The URL with its password hidden, for messages and `Debug`.
    pub shown: String,
}

/// Parses a URL (or key-value connection string) and takes out our parameters.
pub fn parse(url: &str) -> Result<PgUrl> {
    let shown = redact(url);
    let bad = |message: String| StoreError::BadUrl {
        url: shown.clone(),
        message,
    };
    let mut schema = None;
    let mut pool_size = DEFAULT_POOL_SIZE;
    let mut tls_params = TlsParams::default();
    let mut take = |key: &str, value: &str| -> Result<bool> {
        if tls_params.take(key, value) {
            return Ok(true);
        }
        match key {
            "schema" => {
                if value.is_empty() {
                    return Err(bad("schema is empty".into()));
                }
                schema = Some(value.to_string());
                Ok(true)
            }
            "pool_size" => {
                pool_size = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| bad(format!("pool_size '{value}' is not a number in 1..=64")))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    let rest = if is_url_form(url) {
        match split_query(url) {
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    if !take(k, &percent_decode(v))? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_string(),
        }
    } else {
        let pairs = key_values(url).ok_or_else(|| {
            bad(
                "not a key=value connection string (quote values with spaces: password='a b')"
                    .into(),
            )
        })?;
        let mut kept = Vec::new();
        for (k, v) in pairs {
            if !take(&k, &v)? {
                kept.push(format!(
                    "{k}='{}'",
                    v.replace('\\', "\\\\").replace('\'', "\\'")
                ));
            }
        }
        kept.join(" ")
    };
    let mut config = Config::from_str(&rest).map_err(|e| bad(e.to_string()))?;
    let (ssl_mode, tls) = tls::configure(&tls_params).map_err(bad)?;
    config.ssl_mode(ssl_mode);
    if config.get_application_name().is_none() {
        config.application_name("appscan-bridge");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    Ok(PgUrl {
        config,
        schema,
        pool_size,
        tls,
        shown,
    })
}

/// libpq's key-value form as (key, value) pairs: `key = value` with optional spaces
/// around `=`, a value single-quoted (`\'` and `\\` escaped) or a run without spaces.
/// `None` when `text` is not that form (every key a word of letters, digits and `_`).
pub fn key_values(text: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim_end();
        let is_word = !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if !is_word {
            return None;
        }
        rest = rest[eq + 1..].trim_start();
        let mut value = String::new();
        if let Some(quoted) = rest.strip_prefix('\'') {
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?.1),
                    '\'' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            rest = &quoted[end?..];
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return None;
            }
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            value.push_str(&rest[..end]);
            rest = &rest[end..];
        }
        pairs.push((key.to_string(), value));
        rest = rest.trim_start();
    }
    (!pairs.is_empty()).then_some(pairs)
}

/// A URL's part before its query and the query, which starts at the first `?` after the
/// user info: the driver ends the user info at the first `@` after the scheme, so a
/// password may hold an unescaped `?` (or `/`).
fn split_query(url: &str) -> Option<(&str, &str)> {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let after_user_info = url[after_scheme..]
        .find('@')
        .map_or(after_scheme, |at| after_scheme + at + 1);
    let q = after_user_info + url[after_user_info..].find('?')?;
    Some((&url[..q], &url[q + 1..]))
}

fn is_url_form(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with its password replaced by `***` (in the user info, a `password=` query
/// parameter or a `password=` key-value pair).
pub fn redact(url: &str) -> String {
    if url.contains("://") {
        let (base, query) = split_query(url).map_or((url, None), |(b, q)| (b, Some(q)));
        let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
        let (user_info, rest) = match rest.split_once('@') {
            Some((info, rest)) => match info.split_once(':') {
                Some((user, _)) => (format!("{user}:***@"), rest),
                None => (format!("{info}@"), rest),
            },
            None => (String::new(), rest),
        };
        let tail = match query {
            Some(query) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        // The driver decodes keys: `pass%77ord=` is a password too.
                        Some((key, _)) if percent_decode(key) == "password" => {
                            format!("{key}=***")
                        }
                        _ => pair.to_string(),
                    })
                    .collect();
                format!("{rest}?{}", query.join("&"))
            }
            None => rest.to_string(),
        };
        format!("{scheme}://{user_info}{tail}")
    } else {
        // key=value pairs; a quoted value may hold spaces.
        let mut out = String::with_capacity(url.len());
        let mut rest = url;
        while let Some(i) = rest.find("password") {
            let after = &rest[i + "password".len()..];
            let trimmed = after.trim_start();
            let starts_key = i == 0 || rest[..i].ends_with(char::is_whitespace);
            if !(starts_key && trimmed.starts_with('=')) {
                out.push_str(&rest[..i + "password".len()]);
                rest = after;
                continue;
            }
            out.push_str(&rest[..i]);
            out.push_str("password=***");
            let value = trimmed[1..].trim_start();
            rest = if let Some(quoted) = value.strip_prefix('\'') {
                let mut escaped = false;
                let end = quoted
                    .char_indices()
                    .find(|&(_, c)| {
                        let stop = c == '\'' && !escaped;
                        escaped = c == '\\' && !escaped;
                        stop
                    })
                    .map(|(j, _)| j + 1)
                    .unwrap_or(quoted.len());
                &quoted[end..]
            } else {
                let end = value.find(char::is_whitespace).unwrap_or(value.len());
                &value[end..]
            };
        }
        out.push_str(rest);
        out
    }
}

/// Decodes `%XX` escapes of a query value (our own parameters only).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_every_form() {
        assert_eq!(
            redact("postgres://bridge:s3cr%40t@db.example:5432/appscan?sslmode=disable"),
            "postgres://bridge:***@db.example:5432/appscan?sslmode=disable"
        );
        assert_eq!(
            redact("postgresql://u@h/db?password=hunter2&x=1"),
            "postgresql://u@h/db?password=***&x=1"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        // Passwords the driver takes though they hold an unescaped `/` or `?`, and a
        // `password` key written with an escape.
        for url in [
            "postgres://u:SEKRIT/pw@127.0.0.1:1/test",
            "postgres://u:SEKRIT?pw@127.0.0.1:1/test?schema=s",
            "postgres://u@h/test?pass%77ord=SEKRIT",
        ] {
            let shown = redact(url);
            assert!(!shown.contains("SEKRIT"), "{url} shown as {shown}");
            let config = parse(url).expect("the driver reads it").config;
            assert!(
                config.get_password().is_some(),
                "{url}: a password to the driver"
            );
        }
        assert_eq!(
            redact("postgres://u:a/b@h:1/db?schema=s"),
            "postgres://u:***@h:1/db?schema=s"
        );
        assert_eq!(
            redact("host=h password='a b\\' c' user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(
            redact("host=h password = plain dbname=d"),
            "host=h password=*** dbname=d"
        );
    }

    #[test]
    fn tls_parameters_are_ours() {
        use postgres::config::SslMode;
        let mode = |url: &str| parse(url).map(|u| u.config.get_ssl_mode());
        assert_eq!(mode("postgres://u@h/db").ok(), Some(SslMode::Prefer));
        assert_eq!(
            mode("postgres://u@h/db?sslmode=disable").ok(),
            Some(SslMode::Disable)
        );
        assert_eq!(
            mode("postgres://u@h/db?sslmode=require").ok(),
            Some(SslMode::Require)
        );
        assert_eq!(
            mode("postgres://u@h/db?sslmode=verify-full").ok(),
            Some(SslMode::Require)
        );
        assert_eq!(
            mode("host=h user=u sslmode=verify-ca").ok(),
            Some(SslMode::Require)
        );
        let err = |url: &str| parse(url).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("postgres://u@h/db?sslmode=verify").contains("is not one of"));
        assert!(
            err("postgres://u:pw@h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
                .contains("sslrootcert /nonexistent/ca.pem: No such file"),
        );
        assert!(
            !err("postgres://u:pw@h/db?sslrootcert=/nonexistent&sslmode=verify-ca").contains("pw")
        );
        assert!(err("postgres://u@h/db?sslmode=require&sslcert=/a.pem").contains("give both"));
        assert!(err("postgres://u@h/db?sslmode=disable&sslrootcert=/a.pem").contains("pick one"));
    }

    #[test]
    fn takes_out_our_parameters() {
        let u = parse(
            "postgres://postgres@127.0.0.1:5432/test?schema=t%5F1&pool_size=2&connect_timeout=3",
        )
        .expect("parse");
        assert_eq!(u.schema.as_deref(), Some("t_1"));
        assert_eq!(u.pool_size, 2);
        assert_eq!(u.config.get_dbname(), Some("test"));
        assert_eq!(
            u.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
        let u = parse("host=127.0.0.1 user=postgres dbname=test schema=s").expect("kv");
        assert_eq!(u.schema.as_deref(), Some("s"));
        // Quoted values (with spaces) and spaces around `=`, as libpq takes them.
        let u = parse(
            "host=127.0.0.1 password='hunter 2' dbname = test schema='s 1' sslmode = 'disable'",
        )
        .expect("kv with quotes");
        assert_eq!(u.schema.as_deref(), Some("s 1"));
        assert_eq!(u.config.get_dbname(), Some("test"));
        assert_eq!(u.config.get_password(), Some(&b"hunter 2"[..]));
        assert_eq!(u.config.get_ssl_mode(), postgres::config::SslMode::Disable);
        assert_eq!(
            key_values(r"a='it\'s' b=2").expect("pairs"),
            [
                ("a".to_string(), "it's".to_string()),
                ("b".into(), "2".into())
            ]
        );
        assert!(key_values("/tmp/host=1").is_none());
        assert!(key_values("a='unterminated").is_none());
        assert_eq!(u.pool_size, DEFAULT_POOL_SIZE);
        assert!(parse("postgres://h/db?pool_size=0").is_err());
        assert!(parse("postgres://h/db?nonsense_option=1").is_err());
    }
}
