//! The one place that opens a store from what a user wrote: `sqlite://PATH`, a plain
//! path (SQLite), or `postgres://...` / `postgresql://...`.

use crate::{PgStore, Result, SqliteStore, Store, StoreError};
use std::path::Path;
use std::sync::Arc;

/// What kind of store a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Which backend `url` names, and the SQLite path when it is one.
pub fn backend(url: &str) -> Result<(Backend, Option<&str>)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") || is_key_value(url) {
        return Ok((Backend::Postgres, None));
    }
    // `postgres:/h/db`, `postgresql:h`: a mistyped URL, not a file to create.
    if let Some((scheme, _)) = url.split_once(':')
        && matches!(scheme, "postgres" | "postgresql")
    {
        // Not shown: without `//` the password cannot be told from the host to hide it.
        return Err(StoreError::BadUrl {
            url: format!("{scheme}:..."),
            message: format!("a PostgreSQL URL starts {scheme}://"),
        });
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(StoreError::BadUrl {
                url: url.to_string(),
                message: "no file after sqlite://".into(),
            });
        }
        return sqlite_file(url, path);
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(StoreError::BadUrl {
            url: crate::postgres::url::redact(url),
            message: format!(
                "unknown scheme '{scheme}' (use sqlite://PATH, a path, or postgres://...)"
            ),
        });
    }
    if url.is_empty() {
        return Err(StoreError::BadUrl {
            url: String::new(),
            message: "empty".into(),
        });
    }
    sqlite_file(url, url)
}

/// A SQLite store is a file: a path ending in `/` opened the file before it anyway,
/// under a name that compared unequal to it (`migrate --force` onto it emptied it).
fn sqlite_file<'a>(url: &str, path: &'a str) -> Result<(Backend, Option<&'a str>)> {
    if path.ends_with('/') {
        return Err(StoreError::BadUrl {
            url: url.to_string(),
            message: "a SQLite store is a file; this path ends with /".into(),
        });
    }
    Ok((Backend::Sqlite, Some(path)))
}

/// Whether `text` is libpq's key-value form (`host=db user=bridge dbname=appscan`,
/// values quoted or not): one of its keys a connection key. It was taken for a file
/// name, and a SQLite store was created under it, password and all.
fn is_key_value(text: &str) -> bool {
    const KEYS: [&str; 6] = ["host", "hostaddr", "port", "user", "dbname", "password"];
    crate::postgres::url::key_values(text)
        .is_some_and(|pairs| pairs.iter().any(|(k, _)| KEYS.contains(&k.as_str())))
}

/// Opens (creating and migrating as needed) the store `url` names.
pub fn open(url: &str) -> Result<Arc<dyn Store>> {
    match backend(url)? {
        (Backend::Postgres, _) => Ok(Arc::new(PgStore::open(url)?)),
        (Backend::Sqlite, Some(path)) => Ok(Arc::new(SqliteStore::open(Path::new(path))?)),
        (Backend::Sqlite, None) => Err(StoreError::BadUrl {
            url: url.to_string(),
            message: "no path".into(),
        }),
    }
}

/// Whether the store `url` names is there already (opening it would not create it). A
/// SQLite file that cannot be looked at (its directory cannot be entered) is an error
/// that says why, not a store that is not there.
pub fn exists(url: &str) -> Result<bool> {
    match backend(url)? {
        (Backend::Postgres, _) => PgStore::exists(url),
        (Backend::Sqlite, None) => Ok(false),
        (Backend::Sqlite, Some(path)) => sqlite_file_exists(Path::new(path)),
    }
}

/// Whether the SQLite file at `path` is there; the file system's reason when it cannot
/// tell.
fn sqlite_file_exists(path: &Path) -> Result<bool> {
    path.try_exists().map_err(|e| {
        crate::sqlite::access::refusal(path).unwrap_or_else(|| StoreError::Unopenable {
            path: path.display().to_string(),
            why: e.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_backend() {
        assert_eq!(
            backend("sqlite:///tmp/x.db").expect("sqlite"),
            (Backend::Sqlite, Some("/tmp/x.db"))
        );
        assert_eq!(
            backend("rel/x.sqlite3").expect("path"),
            (Backend::Sqlite, Some("rel/x.sqlite3"))
        );
        assert_eq!(
            backend("postgresql://u:p@h/db").expect("pg").0,
            Backend::Postgres
        );
        let err = backend("mysql://u:secret@h/db").expect_err("unknown");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(backend("sqlite://").is_err());
        assert!(
            backend("/tmp/store.sqlite3/").is_err(),
            "a directory's form"
        );
        assert!(backend("sqlite:///tmp/store.sqlite3/").is_err());
        // libpq's key-value form is PostgreSQL, not a file named after it.
        assert_eq!(
            backend("host=127.0.0.1 port=5432 user=postgres password=hunter2 dbname=test")
                .expect("kv")
                .0,
            Backend::Postgres
        );
        assert_eq!(
            backend("a=b.sqlite3").expect("a file"),
            (Backend::Sqlite, Some("a=b.sqlite3"))
        );
        let err = backend("postgres:/postgres:hunter2@127.0.0.1/test").expect_err("typo");
        assert!(err.to_string().contains("starts postgres://"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
