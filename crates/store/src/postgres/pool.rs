//! A small connection pool: at most `size` clients, handed out one caller at a time.
//!
//! A new client gets the store's schema first on its search path. A client found closed
//! (the server restarted, the network dropped) is not put back, so the next caller
//! connects afresh; one idle for a while is asked first whether it still answers (an
//! idle timeout, a pooler or a failover closes connections nobody uses, and the client
//! learns it only from its next statement, which then failed), and so is every one idle
//! when another came back closed (the server dropped them all at once). The sync
//! `postgres` client drives its own tokio runtime, so it must be neither used nor dropped
//! on a thread that runs async tasks: [`drop_clients`] moves them to a plain thread when
//! needed.

use super::tls::Tls;
use crate::{Result, StoreError};
use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

/// How long a caller waits for a free connection before giving up.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(60);

/// An idle client older than this is checked with a round trip before it is handed out.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(2);

/// How long that check waits for the server.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Pool {
    config: Config,
    tls: Tls,
    schema: Option<String>,
    size: usize,
    shown: String,
    state: Mutex<State>,
    freed: Condvar,
}

struct State {
    /// Clients given back, with when.
    idle: Vec<(Client, Instant)>,
    open: usize,
    /// When a client last came back closed: the server dropped connections (a restart,
    /// `pg_terminate_backend`, a failover), so the ones idle then are likely gone too.
    closed_seen: Option<Instant>,
}

impl Pool {
    pub fn new(
        config: Config,
        tls: Tls,
        schema: Option<String>,
        size: usize,
        shown: String,
    ) -> Pool {
        Pool {
            config,
            tls,
            schema,
            size: size.max(1),
            shown,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                closed_seen: None,
            }),
            freed: Condvar::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain fields, consistent whenever a panic can strike.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A client: an idle one, a new one while fewer than `size` are open, or the next one
    /// given back.
    pub fn get(&self) -> Result<Pooled<'_>> {
        let mut state = self.lock();
        loop {
            if let Some((mut client, since)) = state.idle.pop() {
                // Idle when another came back closed: checked whatever its age (it was
                // handed out, failed the caller's statement, and a run's failure could
                // not be recorded on the next one either).
                let suspect = state.closed_seen.is_some_and(|closed| since <= closed);
                drop(state);
                let gone = client.is_closed()
                    || ((suspect || since.elapsed() >= CHECK_AFTER_IDLE)
                        && client.is_valid(CHECK_TIMEOUT).is_err());
                if gone {
                    drop_clients(vec![client]);
                    state = self.lock();
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    client: Some(client),
                    lost: false,
                });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        client: Some(client),
                        lost: false,
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(state, CHECKOUT_TIMEOUT)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.size {
                return Err(StoreError::PoolTimeout {
                    url: self.shown.clone(),
                    waited_secs: CHECKOUT_TIMEOUT.as_secs(),
                });
            }
        }
    }

    /// Opens a client and puts the store's schema first on its search path, within the
    /// URL's `connect_timeout` as a whole (libpq's meaning): the driver's timeout covers
    /// only the TCP connection, and a server that took it but never answered (a hung
    /// server, a proxy without its backend) hung every command. The attempt runs on a
    /// thread of its own, left behind when it is given up: the sync client cannot be
    /// interrupted, and the thread ends when the server answers or closes.
    pub fn connect(&self) -> Result<Client> {
        let limit = self
            .config
            .get_connect_timeout()
            .copied()
            .unwrap_or(super::url::DEFAULT_CONNECT_TIMEOUT);
        let (config, tls, schema) = (self.config.clone(), self.tls.clone(), self.schema.clone());
        let (sender, answer) = mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("postgres-connect".into())
            .spawn(move || {
                // Given up on (the receiver is gone): the client is dropped here, on this
                // plain thread.
                let _ = sender.send(open_client(&config, &tls, schema.as_deref()));
            });
        let opened = match spawned.map(|_| answer.recv_timeout(limit)) {
            Ok(Err(mpsc::RecvTimeoutError::Timeout)) => {
                return Err(StoreError::NoAnswer {
                    url: self.shown.clone(),
                    server: servers(&self.config),
                    secs: limit.as_secs(),
                });
            }
            Ok(Ok(opened)) => opened,
            // No thread to spare, or it died before it answered: connect here, bounded
            // by the driver's timeout alone.
            Ok(Err(mpsc::RecvTimeoutError::Disconnected)) | Err(_) => {
                open_client(&self.config, &self.tls, self.schema.as_deref())
            }
        };
        match opened {
            Ok(client) => Ok(client),
            Err(OpenError::Connect(source)) => Err(StoreError::OpenPostgres {
                url: self.shown.clone(),
                source,
            }),
            Err(OpenError::Setup(e)) => Err(StoreError::Postgres(e)),
        }
    }

    fn put_back(&self, client: Client, lost: bool) {
        let mut state = self.lock();
        if lost || client.is_closed() {
            state.open -= 1;
            state.closed_seen = Some(Instant::now());
            drop(state);
            drop_clients(vec![client]);
        } else {
            state.idle.push((client, Instant::now()));
            drop(state);
        }
        self.freed.notify_one();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        drop_clients(idle.into_iter().map(|(client, _)| client).collect());
    }
}

/// Why a client could not be opened: the connection itself, or setting it up after.
enum OpenError {
    Connect(postgres::Error),
    Setup(postgres::Error),
}

/// Connects and puts `schema` first on the search path.
fn open_client(
    config: &Config,
    tls: &Tls,
    schema: Option<&str>,
) -> std::result::Result<Client, OpenError> {
    let connected = match tls {
        Tls::Off => config.connect(NoTls),
        Tls::On(tls) => config.connect(tls.clone()),
    };
    let mut client = connected.map_err(OpenError::Connect)?;
    if let Some(schema) = schema {
        client
            .batch_execute(&format!("SET search_path TO {}", quote_ident(schema)))
            .map_err(OpenError::Setup)?;
    }
    Ok(client)
}

/// The servers `config` connects to, as `host:port` (a socket directory as `dir (port
/// N)`), for messages.
fn servers(config: &Config) -> String {
    let ports = config.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = if config.get_hosts().is_empty() {
        config
            .get_hostaddrs()
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{a}:{}", port(i)))
            .collect()
    } else {
        config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, h)| match h {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{}", port(i)),
                Host::Tcp(name) => format!("{name}:{}", port(i)),
                #[cfg(unix)]
                Host::Unix(dir) => format!("{} (port {})", dir.display(), port(i)),
            })
            .collect()
    };
    if hosts.is_empty() {
        format!("localhost:{}", port(0))
    } else {
        hosts.join(", ")
    }
}

/// A checked-out client; going out of scope gives it back.
pub struct Pooled<'a> {
    pool: &'a Pool,
    client: Option<Client>,
    /// A statement failed for want of the connection: it is not given back.
    lost: bool,
}

impl Pooled<'_> {
    /// Notes a failure of a statement on this client: one that lost the connection (the
    /// server ended it, a reset) is dropped instead of given back, and the clients idle
    /// meanwhile are checked before use (the server likely dropped them too). The
    /// client's own `is_closed` may not say so yet: given back, it failed the next caller.
    pub fn failed(&mut self, e: &postgres::Error) {
        self.lost |= connection_lost(e);
    }
}

/// Whether `e` means the connection is gone: closed, a transport error, or a FATAL error
/// (the server ends the session after one: `pg_terminate_backend`, a shutdown).
fn connection_lost(e: &postgres::Error) -> bool {
    use std::error::Error as _;
    e.is_closed()
        || e.as_db_error().is_some_and(|d| d.severity() == "FATAL")
        || e.source().is_some_and(|s| s.is::<std::io::Error>())
}

impl Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        // Only `drop` takes the client out.
        self.client.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.pool.put_back(client, self.lost);
        }
    }
}

/// Whether this thread runs async tasks (where the sync client may not block).
pub fn in_async_context() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Drops clients (which closes them, blocking) on a plain thread when this one is async.
pub fn drop_clients(clients: Vec<Client>) {
    if clients.is_empty() {
        return;
    }
    if in_async_context() {
        let _ = std::thread::spawn(move || drop(clients)).join();
    } else {
        drop(clients);
    }
}

/// `"name"`, with embedded quotes doubled: a safe SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
