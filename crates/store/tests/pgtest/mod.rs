//! A PostgreSQL schema of its own for each test.
//!
//! The server is `$APPSCAN_BRIDGE_TEST_PG`, else `postgres://postgres@127.0.0.1:5432/test`.
//! When it cannot be reached the test fails if `CI` is set, and otherwise prints why it
//! is skipped and passes. The schema is dropped when the [`TestDb`] goes out of scope.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The server the tests use unless `APPSCAN_BRIDGE_TEST_PG` names another.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct TestDb {
    base: String,
    pub schema: String,
}

fn base_url() -> String {
    std::env::var("APPSCAN_BRIDGE_TEST_PG").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

fn connect(url: &str) -> Result<postgres::Client, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    config.connect_timeout(Duration::from_secs(3));
    config.connect(postgres::NoTls)
}

impl TestDb {
    /// A fresh schema, or `None` (with a message) when PostgreSQL is unreachable outside CI.
    pub fn new(test: &str) -> Option<TestDb> {
        let base = base_url();
        if let Err(e) = connect(&base) {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "PostgreSQL is unreachable at {base} and CI is set, so this test fails \
                     instead of skipping: {e}"
                );
            }
            eprintln!(
                "SKIPPED {test}: PostgreSQL is unreachable at {base} ({e}); \
                 set APPSCAN_BRIDGE_TEST_PG or start the server (CI=1 turns this skip into a failure)"
            );
            return None;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "t_{}_{}_{}_{}",
            test.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(24)
                .collect::<String>(),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        Some(TestDb { base, schema })
    }

    /// The store URL: the server plus `schema=` (and any extra parameters).
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.base, self.schema)
    }

    pub fn open(&self) -> store::PgStore {
        store::PgStore::open(&self.url()).expect("open the PostgreSQL store")
    }

    /// The server's connection parameters (host, port, user, database).
    pub fn server(&self) -> postgres::Config {
        self.base.parse().expect("the test server's URL")
    }

    /// Ends the server's connections whose `application_name` is `app` (this test's own)
    /// and waits until they are gone (`pg_terminate_backend` only signals them); how
    /// many there were.
    pub fn terminate(&self, app: &str) -> i64 {
        let mut admin = self.client();
        let killed: i64 = admin
            .query_one(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1) t",
                &[&app],
            )
            .expect("terminate")
            .get(0);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let left = |admin: &mut postgres::Client| -> i64 {
            admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                    &[&app],
                )
                .expect("count")
                .get(0)
        };
        while left(&mut admin) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{app}'s backends stay"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        killed
    }

    /// Whether the test's schema exists (a command that only reads must not create it).
    pub fn schema_exists(&self) -> bool {
        self.client()
            .query_one(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
                &[&self.schema],
            )
            .expect("schemata")
            .get::<_, i64>(0)
            > 0
    }

    /// A plain client on the server with the test's schema on its search path.
    pub fn client(&self) -> postgres::Client {
        let mut c = connect(&self.base).expect("connect");
        c.batch_execute(&format!("SET search_path TO \"{}\"", self.schema))
            .expect("search_path");
        c
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = connect(&self.base) {
            let _ = c.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.schema
            ));
        }
    }
}
